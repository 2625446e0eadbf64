"""The FastAPI application of the workspace: pages, the JSON API under ``/api/``, and who may
do what.

``create_app(folder, url=...)`` opens the project once; every request runs in
one transaction of its store and reads the review state replayed from the log
(:func:`srma.review.state.replay`, kept between requests by
:class:`srma.review.state_cache.StateCache`), so pages, API and CLI show the same
review and the same blinding.  Roles: ``lead`` (resolves conflicts, manages
accounts) and ``reviewer``; anonymous requests get 401 (API) or the sign-in
page.  Every POST needs the session's CSRF token.
"""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, HTTPException, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import STAGES, stage_name
from srma.review.extract.reading import FormError
from srma.review.flow.status import status_of
from srma.review.project import open_project
from srma.review.screen.queue import FeatureCache, prepare_features
from srma.review.state_cache import StateCache
from srma.web.accounts import Account, account_of, accounts, add_account, authenticate
from srma.web.sessions import COOKIE, SessionCodec, csrf_ok, project_secret

DAY = 24 * 3600
#: A record's (or study's) id: what the database's integer column holds.
RecordId = Annotated[int, Field(ge=1, le=2**31 - 1)]
RecordPath = Annotated[int, PathParam(ge=1, le=2**31 - 1)]


class Login(BaseModel):
    name: str
    password: str


class DecisionIn(BaseModel):
    record_id: RecordId
    stage: str = "title_abstract"
    decision: str
    reason: str | None = None
    note: str | None = None


class ResolutionIn(BaseModel):
    record_id: RecordId
    stage: str | None = None
    decision: str
    method: str = "third reviewer"
    reason: str | None = None
    note: str | None = None


class AccountIn(BaseModel):
    name: str
    role: str = "reviewer"
    password: str


class ValueIn(BaseModel):
    outcome: str = ""
    arm: str = ""
    time_point: str = ""
    field: str
    value: str | None = None


class ExtractionIn(BaseModel):
    values: list[ValueIn] = []
    submit: bool = False


class ExtractionResolutionIn(ValueIn):
    study_id: RecordId
    value: str = ""
    note: str | None = None


class RobIn(BaseModel):
    outcome: str | None = None
    values: dict[str, str | None] = {}
    submit: bool = False


class RobResolutionIn(BaseModel):
    study_id: RecordId
    outcome: str | None = None
    field: str
    value: str = ""
    reason: str | None = None
    note: str | None = None


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
    # each stage's TF-IDF matrix, rebuilt only when the records at the stage change
    features = {stage: FeatureCache() for stage in STAGES}
    live = StateCache(project)  # the review state, replayed again only after an append

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # the title/abstract ranking's matrix is built before the first request (seconds for
        # tens of thousands of records), not while the first reviewers wait for it
        with project.store.transaction() as session:
            prepare_features(session, live.state(session), STAGES[0], features[STAGES[0]])
        yield

    app = FastAPI(title="srma workspace", version="1", lifespan=lifespan)
    app.mount("/static", StaticFiles(directory=str(files("srma.web") / "static")), name="static")
    app.state.project = project

    # --- dependencies -------------------------------------------------------------------

    def db() -> Iterator[Session]:
        # scope="function" where it is used: the transaction commits before the response is
        # sent, so a reply (or the page a redirect leads to) never precedes what it stored
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

    def api_user(
        request: Request, session: Annotated[Session, Depends(db, scope="function")]
    ) -> Account:
        return signed_in(request, session, page=False)

    def page_user(
        request: Request, session: Annotated[Session, Depends(db, scope="function")]
    ) -> Account:
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

    DB = Annotated[Session, Depends(db, scope="function")]
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
        if isinstance(error, FormError):  # every problem, each with where it is
            return JSONResponse({"detail": str(error), **error.to_dict()}, status_code=400)
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

    from srma.web import downloads, views
    from srma.web import extraction as extraction_views
    from srma.web import rob as rob_views

    # --- API ----------------------------------------------------------------------------

    @app.get("/api/status")
    def api_status(account: ApiUser, session: DB) -> dict[str, object]:
        """Counts per stage, each reviewer's progress, agreement and the PRISMA counts."""
        return views.dashboard(live.state(session), project)

    @app.get("/api/queue")
    def api_queue(
        account: ApiUser, session: DB, stage: str = "title_abstract", order: str = "relevance"
    ) -> dict[str, object]:
        """The records left for you at ``stage``, most relevant first (active learning)."""
        stage = stage_name(stage)
        return views.queue(session, project, account.name, stage, order,
                           features=features[stage], state=live.state(session))  # fmt: skip

    @app.get("/api/records/{record_id}")
    def api_record(
        record_id: RecordPath, account: ApiUser, session: DB, stage: str = "title_abstract"
    ) -> dict[str, object]:
        """A record and the decisions on it that you may see (yours; others' once unblinded)."""
        return views.record(session, project, record_id, stage_name(stage), account.name,
                            live.state(session))  # fmt: skip

    @app.post("/api/decisions", dependencies=[Csrf])
    def api_decide(body: DecisionIn, account: ApiUser, session: DB) -> dict[str, object]:
        """Record your decision on a record at a stage (a new event in the log)."""
        event = views.decide(session, project, account.name, body.model_dump())
        return {"event": event}

    @app.get("/api/conflicts")
    def api_conflicts(account: ApiUser, session: DB) -> list[dict[str, object]]:
        """Open conflicts at both stages, with both decisions and notes."""
        return views.conflicts(live.state(session))

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

    # --- data extraction ----------------------------------------------------------------

    @app.get("/api/extraction")
    def api_extraction(account: ApiUser, session: DB) -> dict[str, object]:
        """The studies with their arms and submission counts (never a value), and the open
        discrepancies of studies every extractor has submitted."""
        return extraction_views.overview(session, project, account.name)

    @app.get("/api/extraction/{study_id}")
    def api_extraction_study(
        study_id: RecordPath, account: ApiUser, session: DB
    ) -> dict[str, object]:
        """The extraction form of a study with your own values."""
        return extraction_views.study_form(session, project, study_id, account.name)

    @app.post("/api/extraction/{study_id}", dependencies=[Csrf])
    def api_extract(
        study_id: RecordPath, body: ExtractionIn, account: ApiUser, session: DB
    ) -> dict[str, object]:
        """Store your values of a study (only what changed; all or nothing) and, with
        ``submit``, submit it."""
        values = extraction_views.keyed(study_id, [v.model_dump() for v in body.values])
        return extraction_views.save(
            session, project, account.name, study_id, values, submit=body.submit
        )

    @app.post("/api/extraction-resolutions", dependencies=[Csrf])
    def api_extraction_resolve(
        body: ExtractionResolutionIn, account: ApiLead, session: DB
    ) -> dict[str, object]:
        """Settle a discrepancy of a study every extractor submitted (leads only)."""
        return {
            "event": extraction_views.resolve(session, project, account.name, body.model_dump())
        }

    # --- risk of bias -------------------------------------------------------------------

    @app.get("/api/rob")
    def api_rob(account: ApiUser, session: DB) -> dict[str, object]:
        """The tool, the studies with submission counts (never a judgement), and the open
        discrepancies of studies every assessor has submitted."""
        return rob_views.overview(session, project, account.name)

    @app.get("/api/rob/{study_id}")
    def api_rob_study(
        study_id: RecordPath, account: ApiUser, session: DB, outcome: str | None = None
    ) -> dict[str, object]:
        """Your assessment of a study: signalling questions, answers, the tool's proposals."""
        return rob_views.study_form(session, project, study_id, outcome, account.name)

    @app.post("/api/rob/{study_id}", dependencies=[Csrf])
    def api_assess(
        study_id: RecordPath, body: RobIn, account: ApiUser, session: DB
    ) -> dict[str, object]:
        """Store your answers and judgements of a study (checked against the tool; all or
        nothing) and, with ``submit``, submit it."""
        return rob_views.save(
            session, project, account.name, study_id, body.outcome, body.values, submit=body.submit
        )

    @app.post("/api/rob/{study_id}/proposal", dependencies=[Csrf])
    def api_rob_proposal(
        study_id: RecordPath, body: RobIn, account: ApiUser, session: DB
    ) -> dict[str, object]:
        """The tool's proposal per domain from these answers, and their problems (nothing is
        stored)."""
        return rob_views.preview(session, project, study_id, body.outcome, body.values)

    @app.post("/api/rob-resolutions", dependencies=[Csrf])
    def api_rob_resolve(body: RobResolutionIn, account: ApiLead, session: DB) -> dict[str, object]:
        """Settle an answer or judgement of a study every assessor submitted (leads only)."""
        return {"event": rob_views.resolve(session, project, account.name, body.model_dump())}

    # --- imports (leads) ----------------------------------------------------------------

    @app.post("/api/imports", dependencies=[Csrf])
    def api_import(
        account: ApiLead,
        file: UploadFile,
        source: Annotated[str | None, Form()] = None,
        search_date: Annotated[str | None, Form()] = None,
    ) -> dict[str, object]:
        """Import a search export (RIS, MEDLINE/PubMed, Web of Science, Embase, CSV, ...) in
        one transaction, as ``srma import`` (leads only)."""
        return views.import_upload(
            project,
            file.filename or "upload",
            file.file.read(),
            source=source or None,
            search_date=search_date or None,
            imported_by=account.name,
        )

    # --- downloads ----------------------------------------------------------------------

    def send(found: downloads.Download) -> Response:
        disposition = (
            "inline" if found.media_type.startswith(("image/", "text/html")) else "attachment"
        )
        return Response(
            found.content,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f'{disposition}; filename="{found.filename}"',
                "Cache-Control": "no-store",
            },
        )

    @app.get("/download/records.{kind}")
    def download_records(kind: str, account: ApiUser, session: DB) -> Response:
        """Every unique record with its screening outcomes (csv, xlsx or ris); decisions
        still blinded are counted, not shown."""
        return send(downloads.records(session, project, account.name, kind))

    @app.get("/download/prisma.{kind}")
    def download_prisma(kind: str, account: ApiUser, session: DB) -> Response:
        """The PRISMA 2020 flow diagram as it stands (png or svg)."""
        return send(downloads.prisma(session, project, kind))

    @app.get("/download/outcome.csv")
    def download_outcome(
        outcome: str, account: ApiUser, session: DB, time_point: str | None = None
    ) -> Response:
        """The reconciled, converted data of an outcome, ready for ``srma meta``."""
        return send(downloads.outcome_data(session, project, outcome, time_point))

    @app.get("/download/rob-{plot}.{kind}")
    def download_rob(plot: str, kind: str, account: ApiUser, session: DB) -> Response:
        """The reconciled risk-of-bias judgements: traffic-light or summary plot (png, svg)."""
        return send(downloads.rob_figure(session, project, plot, kind))

    @app.get("/download/report.{kind}")
    def download_report(kind: str, account: ApiLead, session: DB) -> Response:
        """The whole review's report (html or docx), its planned analyses run and stored as
        ``srma report PROJECT`` does (leads only: it writes the analyses to the log)."""
        return send(downloads.report(session, project, kind))

    # --- pages --------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def dashboard_page(request: Request, account: PageUser, session: DB) -> Response:
        return page(
            request, "dashboard.html", account, **views.dashboard(live.state(session), project)
        )

    @app.get("/screen", response_class=HTMLResponse, include_in_schema=False)
    def screen_page(
        request: Request, account: PageUser, session: DB, stage: str = "title_abstract",
        record: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
        previous: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    ) -> Response:  # fmt: skip
        stage = stage_name(stage)
        state = live.state(session)  # one state for the queue and the record
        queue = views.queue(session, project, account.name, stage, "relevance",
                            features=features[stage], state=state)  # fmt: skip
        shown = record if record is not None else (queue["record_ids"] or [None])[0]
        detail = None if shown is None else views.record(session, project, shown, stage,
                                                          account.name, state)  # fmt: skip
        return page(
            request, "screen.html", account, stage=stage, queue=queue, record=detail,
            reasons=project.protocol.exclusion_reasons, previous=previous,
        )  # fmt: skip

    @app.post("/screen", include_in_schema=False, dependencies=[Csrf])
    def screen_form(
        account: PageUser, session: DB, record_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
        decision: Annotated[str, Form()], stage: Annotated[str, Form()] = "title_abstract",
        reason: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
    ) -> Response:  # fmt: skip
        views.decide(session, project, account.name, {
            "record_id": record_id, "stage": stage, "decision": decision,
            "reason": reason or None, "note": note or None,
        })  # fmt: skip
        return RedirectResponse(
            f"/screen?stage={stage_name(stage)}&previous={record_id}", status_code=303
        )

    @app.get("/conflicts", response_class=HTMLResponse, include_in_schema=False)
    def conflicts_page(request: Request, account: PageUser, session: DB) -> Response:
        return page(
            request, "conflicts.html", account, conflicts=views.conflicts(live.state(session)),
            reasons=project.protocol.exclusion_reasons,
        )  # fmt: skip

    @app.post("/conflicts", include_in_schema=False, dependencies=[Csrf])
    def resolve_form(
        account: PageLead, session: DB, record_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
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

    @app.get("/extraction", response_class=HTMLResponse, include_in_schema=False)
    def extraction_page(request: Request, account: PageUser, session: DB) -> Response:
        return page(
            request,
            "extraction.html",
            account,
            **extraction_views.overview(session, project, account.name),
        )

    def assessed(
        request: Request,
        account: Account,
        template: str,
        form_of: Callable[[], dict[str, object]],
        save: Callable[[], dict[str, object]] | None = None,
    ) -> Response:
        """A study's extraction or risk-of-bias page; with ``save``, once it has stored the
        changes, or with every problem it found (400: nothing was stored)."""
        problems: list[object] = []
        saved = None
        if save is not None:
            try:
                saved = save()
            except FormError as error:
                problems = error.to_dict()["problems"]  # type: ignore[assignment]
        response = page(request, template, account, form=form_of(), problems=problems,
                        saved=saved)  # fmt: skip
        response.status_code = 400 if problems else 200
        return response

    async def posted_form(request: Request) -> dict[str, str]:
        return {k: str(v) for k, v in (await request.form()).items()}

    @app.get("/extraction/{study_id}", response_class=HTMLResponse, include_in_schema=False)
    def extraction_study_page(
        request: Request, study_id: RecordPath, account: PageUser, session: DB
    ) -> Response:
        def form_of() -> dict[str, object]:
            return extraction_views.study_form(session, project, study_id, account.name)

        return assessed(request, account, "extraction_study.html", form_of)

    @app.post("/extraction/{study_id}", include_in_schema=False, dependencies=[Csrf])
    async def extraction_form(
        request: Request, study_id: RecordPath, account: PageUser, session: DB
    ) -> Response:
        posted = await posted_form(request)
        values = extraction_views.form_values(session, project, study_id, posted)

        def form_of() -> dict[str, object]:
            return extraction_views.study_form(session, project, study_id, account.name)

        def save() -> dict[str, object]:
            return extraction_views.save(session, project, account.name, study_id, values,
                                         submit=posted.get("submit") == "yes")  # fmt: skip

        return assessed(request, account, "extraction_study.html", form_of, save)

    @app.post("/extraction-resolutions", include_in_schema=False, dependencies=[Csrf])
    def extraction_resolve_form(
        account: PageLead, session: DB, body: Annotated[ExtractionResolutionIn, Form()]
    ) -> Response:
        extraction_views.resolve(session, project, account.name, body.model_dump())
        return RedirectResponse("/extraction", status_code=303)

    @app.get("/rob", response_class=HTMLResponse, include_in_schema=False)
    def rob_page(request: Request, account: PageUser, session: DB) -> Response:
        return page(
            request, "rob.html", account, **rob_views.overview(session, project, account.name)
        )

    def rob_posted(posted: dict[str, str]) -> dict[str, str | None]:
        return {k.removeprefix("f:"): (v or None) for k, v in posted.items() if k.startswith("f:")}

    @app.get("/rob/{study_id}", response_class=HTMLResponse, include_in_schema=False)
    def rob_study_page(
        request: Request,
        study_id: RecordPath,
        account: PageUser,
        session: DB,
        outcome: str | None = None,
    ) -> Response:
        def form_of() -> dict[str, object]:
            return rob_views.study_form(session, project, study_id, outcome, account.name)

        return assessed(request, account, "rob_study.html", form_of)

    @app.post("/rob/{study_id}", include_in_schema=False, dependencies=[Csrf])
    async def rob_form(
        request: Request, study_id: RecordPath, account: PageUser, session: DB
    ) -> Response:
        posted = await posted_form(request)
        outcome = posted.get("outcome") or None

        def form_of() -> dict[str, object]:
            return rob_views.study_form(session, project, study_id, outcome, account.name)

        def save() -> dict[str, object]:
            answers = rob_posted(posted)
            submit = posted.get("submit") == "yes"
            return rob_views.save(session, project, account.name, study_id, outcome, answers,
                                  submit=submit)  # fmt: skip

        return assessed(request, account, "rob_study.html", form_of, save)

    @app.post(
        "/rob/{study_id}/proposal",
        response_class=HTMLResponse,
        include_in_schema=False,
        dependencies=[Csrf],
    )
    async def rob_proposal_fragment(
        request: Request, study_id: RecordPath, account: PageUser, session: DB
    ) -> Response:
        posted = await posted_form(request)
        found = rob_views.preview(
            session, project, study_id, posted.get("outcome") or None, rob_posted(posted)
        )
        return page(request, "rob_proposal.html", account, **found)

    @app.post("/rob-resolutions", include_in_schema=False, dependencies=[Csrf])
    def rob_resolve_form(
        account: PageLead, session: DB, body: Annotated[RobResolutionIn, Form()]
    ) -> Response:
        rob_views.resolve(session, project, account.name, body.model_dump())
        return RedirectResponse("/rob", status_code=303)

    def imports_view(request: Request, account: Account, session: Session,
                     result: dict[str, Any] | None = None, error: str | None = None
                     ) -> Response:  # fmt: skip
        """The imports page: the last upload's outcome or its problem (400), and the counts
        per stage now."""
        response = page(request, "imports.html", account, result=result, error=error,
                        status=status_of(live.state(session)).to_dict())  # fmt: skip
        response.status_code = 200 if error is None else 400
        return response

    @app.get("/imports", response_class=HTMLResponse, include_in_schema=False)
    def imports_page(request: Request, account: PageLead, session: DB) -> Response:
        return imports_view(request, account, session)

    @app.post("/imports", include_in_schema=False, dependencies=[Csrf])
    def imports_form(
        request: Request,
        account: PageLead,
        session: DB,
        file: UploadFile,
        source: Annotated[str, Form()] = "",
        search_date: Annotated[str, Form()] = "",
    ) -> Response:
        result, error = None, None
        try:
            result = views.import_upload(
                project,
                file.filename or "upload",
                file.file.read(),
                source=source or None,
                search_date=search_date or None,
                imported_by=account.name,
            )
        except InputError as problem:
            error = str(problem)
        session.expire_all()
        return imports_view(request, account, session, result, error)

    @app.get("/downloads", response_class=HTMLResponse, include_in_schema=False)
    def downloads_page(request: Request, account: PageUser, session: DB) -> Response:
        outcomes = [o for o in project.protocol.outcomes if o.data is not None]
        return page(
            request,
            "downloads.html",
            account,
            outcomes=outcomes,
            has_rob=project.protocol.risk_of_bias is not None,
        )

    return app
