"""The FastAPI application of the workspace: pages, the JSON API under ``/api/``, and who may
do what.

``create_app(folder, url=...)`` opens the project once; every request runs in
one transaction of its store and replays the review state from the log
(:func:`srma.review.state.load_state`), so pages, API and CLI show the same
review and the same blinding.  Roles: ``lead`` (resolves conflicts, manages
accounts) and ``reviewer``; anonymous requests get 401 (API) or the sign-in
page.  Every POST needs the session's CSRF token.
"""

from collections.abc import Iterator
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import stage_name
from srma.review.project import open_project
from srma.web.accounts import Account, account_of, accounts, add_account, authenticate
from srma.web.sessions import COOKIE, SessionCodec, csrf_ok, project_secret

DAY = 24 * 3600


class Login(BaseModel):
    name: str
    password: str


class DecisionIn(BaseModel):
    record_id: int
    stage: str = "title_abstract"
    decision: str
    reason: str | None = None
    note: str | None = None


class ResolutionIn(BaseModel):
    record_id: int
    stage: str | None = None
    decision: str
    method: str = "third reviewer"
    reason: str | None = None
    note: str | None = None


class AccountIn(BaseModel):
    name: str
    role: str = "reviewer"
    password: str


class NotSignedInError(Exception):
    """Raised by the page dependencies: the browser goes to the sign-in page."""


def create_app(
    folder: str | Path,
    *,
    url: str | None = None,
    secret: str | None = None,
    max_age: int = DAY,
) -> FastAPI:
    """The workspace of the project in ``folder`` (database ``url``, default its srma.db)."""
    project = open_project(folder, url=url)
    codec = SessionCodec(secret or project_secret(project.folder), max_age=max_age)
    templates = Jinja2Templates(directory=str(files("srma.web") / "templates"))
    app = FastAPI(title="srma workspace", version="1")
    app.state.project = project

    # --- dependencies -------------------------------------------------------------------

    def db() -> Iterator[Session]:
        with project.store.transaction() as session:
            yield session

    def cookie_session(request: Request) -> dict[str, Any] | None:
        return codec.loads(request.cookies.get(COOKIE))

    def signed_in(request: Request, session: Session, page: bool) -> Account:
        data = cookie_session(request)
        uid = None if data is None else data.get("uid")
        account = None if uid is None else account_of(session, int(uid))
        if account is None:
            if page:
                raise NotSignedInError
            raise HTTPException(401, "sign in first (POST /api/login)")
        request.state.csrf = data["csrf"]  # type: ignore[index]
        return account

    def api_user(request: Request, session: Annotated[Session, Depends(db)]) -> Account:
        return signed_in(request, session, page=False)

    def page_user(request: Request, session: Annotated[Session, Depends(db)]) -> Account:
        return signed_in(request, session, page=True)

    async def csrf(request: Request) -> None:
        given = request.headers.get("x-csrf-token")
        if given is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")
        ):
            given = str((await request.form()).get("csrf_token") or "") or None
        if not csrf_ok(cookie_session(request), given):
            raise HTTPException(403, "missing or wrong CSRF token")

    def lead(account: Account) -> Account:
        if not account.is_lead:
            raise HTTPException(403, "only a lead may do this")
        return account

    def api_lead(account: Annotated[Account, Depends(api_user)]) -> Account:
        return lead(account)

    def page_lead(account: Annotated[Account, Depends(page_user)]) -> Account:
        return lead(account)

    DB = Annotated[Session, Depends(db)]
    ApiUser = Annotated[Account, Depends(api_user)]
    ApiLead = Annotated[Account, Depends(api_lead)]
    PageUser = Annotated[Account, Depends(page_user)]
    PageLead = Annotated[Account, Depends(page_lead)]
    Csrf = Depends(csrf)

    @app.exception_handler(NotSignedInError)
    async def _to_login(_request: Request, _error: NotSignedInError) -> Response:
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(InputError)
    async def _bad_input(request: Request, error: InputError) -> Response:
        return JSONResponse({"detail": str(error)}, status_code=400)

    def page(request: Request, name: str, account: Account | None, **context: Any) -> Response:
        csrf_token = getattr(request.state, "csrf", None)
        response = templates.TemplateResponse(
            request, name, {"account": account, "csrf": csrf_token, "project": project, **context}
        )
        return response

    def set_session(response: Response, data: dict[str, object]) -> None:
        response.set_cookie(
            COOKIE, codec.dumps(data), max_age=codec.max_age, httponly=True, samesite="lax"
        )

    # --- signing in and out -------------------------------------------------------------

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> Response:
        data = cookie_session(request) or codec.new()
        request.state.csrf = data["csrf"]
        response = page(request, "login.html", None, error=None)
        set_session(response, {"uid": None, "csrf": data["csrf"]})
        return response

    @app.post("/login", include_in_schema=False, dependencies=[Csrf])
    def login_form(
        request: Request, session: DB, name: Annotated[str, Form()],
        password: Annotated[str, Form()],
    ) -> Response:  # fmt: skip
        account = authenticate(session, name, password)
        if account is None:
            request.state.csrf = cookie_session(request)["csrf"]  # type: ignore[index]
            return page(request, "login.html", None, error="wrong name or password")
        response = RedirectResponse("/", status_code=303)
        set_session(response, codec.new(account.reviewer_id))  # a new CSRF token per sign-in
        return response

    @app.post("/logout", include_in_schema=False, dependencies=[Csrf])
    def logout_form() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.post("/api/login")
    def api_login(body: Login, session: DB) -> Response:
        """Sign in; the session cookie is set and the CSRF token returned (send it as
        ``X-CSRF-Token`` with every POST)."""
        account = authenticate(session, body.name, body.password)
        if account is None:
            raise HTTPException(401, "wrong name or password")
        data = codec.new(account.reviewer_id)
        response = JSONResponse({**asdict(account), "csrf_token": data["csrf"]})
        set_session(response, data)
        return response

    @app.post("/api/logout", dependencies=[Csrf])
    def api_logout() -> Response:
        response = JSONResponse({"signed_out": True})
        response.delete_cookie(COOKIE)
        return response

    @app.get("/api/me")
    def api_me(account: ApiUser) -> dict[str, object]:
        return asdict(account)

    # --- what the pages and the API share (reads of the library) ------------------------

    from srma.web import views

    # --- API ----------------------------------------------------------------------------

    @app.get("/api/status")
    def api_status(account: ApiUser, session: DB) -> dict[str, object]:
        """Counts per stage, each reviewer's progress, agreement and the PRISMA counts."""
        return views.dashboard(session, project)

    @app.get("/api/queue")
    def api_queue(
        account: ApiUser, session: DB, stage: str = "title_abstract", order: str = "relevance"
    ) -> dict[str, object]:
        """The records left for you at ``stage``, most relevant first (active learning)."""
        return views.queue(session, project, account.name, stage_name(stage), order)

    @app.get("/api/records/{record_id}")
    def api_record(
        record_id: int, account: ApiUser, session: DB, stage: str = "title_abstract"
    ) -> dict[str, object]:
        """A record and the decisions on it that you may see (yours; others' once unblinded)."""
        return views.record(session, project, record_id, stage_name(stage), account.name)

    @app.post("/api/decisions", dependencies=[Csrf])
    def api_decide(body: DecisionIn, account: ApiUser, session: DB) -> dict[str, object]:
        """Record your decision on a record at a stage (a new event in the log)."""
        event = views.decide(session, project, account.name, body.model_dump())
        return {"event": event}

    @app.get("/api/conflicts")
    def api_conflicts(account: ApiUser, session: DB) -> list[dict[str, object]]:
        """Open conflicts at both stages, with both decisions and notes."""
        return views.conflicts(session, project)

    @app.post("/api/resolutions", dependencies=[Csrf])
    def api_resolve(body: ResolutionIn, account: ApiLead, session: DB) -> dict[str, object]:
        """Resolve a conflict (leads only)."""
        event = views.resolve(session, project, account.name, body.model_dump())
        return {"event": event}

    @app.get("/api/accounts")
    def api_accounts(account: ApiLead, session: DB) -> list[dict[str, object]]:
        """Every account (leads only)."""
        return [asdict(a) for a in accounts(session)]

    @app.post("/api/accounts", dependencies=[Csrf])
    def api_add_account(body: AccountIn, account: ApiLead, session: DB) -> dict[str, object]:
        """Add a reviewer or lead, or set their password (leads only)."""
        return asdict(add_account(session, body.name, role=body.role, password=body.password))

    # --- pages --------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard_page(request: Request, account: PageUser, session: DB) -> Response:
        return page(request, "dashboard.html", account, **views.dashboard(session, project))

    @app.get("/screen", response_class=HTMLResponse, include_in_schema=False)
    def screen_page(
        request: Request, account: PageUser, session: DB, stage: str = "title_abstract",
        record: int | None = None,
    ) -> Response:  # fmt: skip
        stage = stage_name(stage)
        queue = views.queue(session, project, account.name, stage, "relevance")
        shown = record if record is not None else (queue["record_ids"] or [None])[0]
        detail = None if shown is None else views.record(session, project, shown, stage,
                                                          account.name)  # fmt: skip
        return page(
            request, "screen.html", account, stage=stage, queue=queue, record=detail,
            reasons=project.protocol.exclusion_reasons,
        )  # fmt: skip

    @app.post("/screen", include_in_schema=False, dependencies=[Csrf])
    def screen_form(
        account: PageUser, session: DB, record_id: Annotated[int, Form()],
        decision: Annotated[str, Form()], stage: Annotated[str, Form()] = "title_abstract",
        reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    ) -> Response:  # fmt: skip
        views.decide(session, project, account.name, {
            "record_id": record_id, "stage": stage, "decision": decision,
            "reason": reason or None, "note": note or None,
        })  # fmt: skip
        return RedirectResponse(f"/screen?stage={stage_name(stage)}", status_code=303)

    @app.get("/conflicts", response_class=HTMLResponse, include_in_schema=False)
    def conflicts_page(request: Request, account: PageUser, session: DB) -> Response:
        return page(
            request, "conflicts.html", account, conflicts=views.conflicts(session, project),
            reasons=project.protocol.exclusion_reasons,
        )  # fmt: skip

    @app.post("/conflicts", include_in_schema=False, dependencies=[Csrf])
    def resolve_form(
        account: PageLead, session: DB, record_id: Annotated[int, Form()],
        stage: Annotated[str, Form()], decision: Annotated[str, Form()],
        reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    ) -> Response:  # fmt: skip
        views.resolve(session, project, account.name, {
            "record_id": record_id, "stage": stage, "decision": decision,
            "method": "third reviewer", "reason": reason or None, "note": note or None,
        })  # fmt: skip
        return RedirectResponse("/conflicts", status_code=303)

    @app.get("/team", response_class=HTMLResponse, include_in_schema=False)
    def team_page(request: Request, account: PageLead, session: DB) -> Response:
        return page(request, "team.html", account, accounts=accounts(session))

    @app.post("/team", include_in_schema=False, dependencies=[Csrf])
    def team_form(
        account: PageLead, session: DB, name: Annotated[str, Form()],
        password: Annotated[str, Form()], role: Annotated[str, Form()] = "reviewer",
    ) -> Response:  # fmt: skip
        add_account(session, name, role=role, password=password)
        return RedirectResponse("/team", status_code=303)

    return app
