"""The browser workspace (srma.web) through FastAPI's test client, on SQLite and PostgreSQL:
who may call every route, blinding through every page and API route, CSRF, session expiry,
escaping of untrusted record text, and two reviewers to a conflict a lead resolves."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import srma
from srma.web.app import create_app

EVIL = "<script>alert('x')</script> stem cells in stroke"
NOTE = "ana-private-note-7f3"
END = "ER  - "  # the RIS end tag, with its space
RIS = f"""TY  - JOUR
TI  - {EVIL}
AB  - A randomised trial of mesenchymal cells in stroke.
PY  - 2020
DO  - 10.1000/evil
{END}

TY  - JOUR
TI  - Mesenchymal stem cells after ischaemic stroke: a randomised trial
AB  - Patients with acute stroke were randomised.
PY  - 2021
{END}

TY  - JOUR
TI  - A narrative review of cell therapy
AB  - This review covers cell therapy.
PY  - 2019
{END}
"""
PASSWORD = "correct horse battery"

#: Every route of the workspace (method, path, JSON body, who may call it).
API_ROUTES = [
    ("GET", "/api/me", None, "any"),
    ("GET", "/api/status", None, "any"),
    ("GET", "/api/queue", None, "any"),
    ("GET", "/api/records/1", None, "any"),
    ("POST", "/api/decisions", {"record_id": 1, "decision": "maybe"}, "any"),
    ("GET", "/api/conflicts", None, "any"),
    ("POST", "/api/resolutions", {"record_id": 1, "decision": "include"}, "lead"),
    ("GET", "/api/accounts", None, "lead"),
    ("POST", "/api/accounts", {"name": "Dee", "password": PASSWORD}, "lead"),
    ("POST", "/api/logout", None, "any"),
]
PAGES = [("/", "any"), ("/screen", "any"), ("/screen?stage=full_text", "any"),
         ("/conflicts", "any"), ("/team", "lead")]  # fmt: skip


def _project(folder: Path, title: str, ris: str) -> Path:
    srma("init", folder, "--title", title)
    export = folder / "search.ris"
    export.write_text(ris)
    srma("import", folder, export)
    return folder


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    folder = _project(tmp_path / "review", "Web", RIS)
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n")
    for name, role in (("Ana", "reviewer"), ("Ben", "reviewer"), ("Cy", "lead")):
        srma("user", "add", folder, name, "--role", role, "--password-file", secret)
    return folder


@pytest.fixture
def app(project: Path):
    made = create_app(project, secret="test-secret")
    yield made
    made.state.project.close()


def sign_in(app, name: str) -> tuple[TestClient, str]:
    client = TestClient(app)
    reply = client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert reply.status_code == 200, reply.text
    return client, reply.json()["csrf_token"]


def call(client: TestClient, method: str, path: str, body, token: str | None):
    headers = {} if token is None else {"X-CSRF-Token": token}
    return client.request(method, path, json=body, headers=headers)


def test_every_api_route_by_role(app) -> None:
    anonymous = TestClient(app)
    for method, path, body, _ in API_ROUTES:
        assert call(anonymous, method, path, body, "x").status_code in (401, 403), path
    for method, path, body, who in API_ROUTES:
        reviewer, token = sign_in(app, "Ana")
        status = call(reviewer, method, path, body, token).status_code
        assert status == (403 if who == "lead" else 200), (path, status)
        lead, token = sign_in(app, "Cy")
        status = call(lead, method, path, body, token).status_code
        # resolving record 1 is refused by the library: it has no conflict
        assert status == (400 if path == "/api/resolutions" else 200), (path, status)


def test_every_page_by_role(app) -> None:
    anonymous = TestClient(app)
    for path, _ in PAGES:
        reply = anonymous.get(path, follow_redirects=False)
        assert reply.status_code == 303 and reply.headers["location"] == "/login"
    reviewer, _ = sign_in(app, "Ana")
    lead, _ = sign_in(app, "Cy")
    for path, who in PAGES:
        assert reviewer.get(path).status_code == (403 if who == "lead" else 200), path
        assert lead.get(path).status_code == 200, path


def test_a_reviewer_of_another_project_is_not_signed_in_here(tmp_path: Path, app) -> None:
    other_folder = _project(tmp_path / "other", "Other", RIS)
    (tmp_path / "pw2").write_text(PASSWORD)
    srma("user", "add", other_folder, "Ana", "--password-file", tmp_path / "pw2")
    other = create_app(other_folder, url=f"sqlite:///{tmp_path / 'other.db'}")
    try:
        srma("user", "add", other_folder, "Zed", "--password-file", tmp_path / "pw2",
             "--db", f"sqlite:///{tmp_path / 'other.db'}")  # fmt: skip
        client, _ = sign_in(other, "Zed")
        cookie = client.cookies.get("srma_session")
    finally:
        other.state.project.close()
    here = TestClient(app)
    here.cookies.set("srma_session", cookie)
    assert here.get("/api/me").status_code == 401
    assert here.get("/api/records/1").status_code == 401
    assert here.post("/api/login", json={"name": "Zed", "password": PASSWORD}).status_code == 401


def test_blinding_through_every_route_until_both_decided(app) -> None:
    ana, ana_token = sign_in(app, "Ana")
    ben, ben_token = sign_in(app, "Ben")
    cy, _ = sign_in(app, "Cy")
    body = {"record_id": 2, "decision": "include", "note": NOTE}
    assert call(ana, "POST", "/api/decisions", body, ana_token).status_code == 200
    # Ana sees her own decision; nobody else sees it, anywhere
    own = ana.get("/api/records/2").json()
    assert own["decisions"][0]["note"] == NOTE and own["blinded"]
    for client in (ben, cy):
        for path in ("/api/records/2", "/api/status", "/api/conflicts", "/api/queue",
                     "/", "/screen", "/screen?record=2", "/conflicts", "/api/me"):  # fmt: skip
            text = client.get(path).text
            assert NOTE not in text, path
            assert '"reviewer":"Ana"' not in text and "Ana: include" not in text, path
        seen = client.get("/api/records/2").json()
        assert seen["decisions"] == [] and seen["decided"] == 1 and seen["outcome"] is None
    # Ben excludes: a conflict, now both decisions and the note show to everyone
    body = {"record_id": 2, "decision": "exclude", "reason": "wrong population"}
    assert call(ben, "POST", "/api/decisions", body, ben_token).status_code == 200
    conflicts = cy.get("/api/conflicts").json()
    assert [(c["record_id"], c["notes"]) for c in conflicts] == [(2, [["Ana", NOTE]])]
    assert NOTE in cy.get("/conflicts").text
    assert {d["reviewer"] for d in ben.get("/api/records/2").json()["decisions"]} == {"Ana", "Ben"}


def test_two_reviewers_disagree_and_the_lead_resolves_through_the_pages(app) -> None:
    clients = {}
    for name in ("Ana", "Ben", "Cy"):
        client = TestClient(app)
        page = client.get("/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        reply = client.post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf_token": token},
            follow_redirects=False,
        )
        assert reply.status_code == 303
        clients[name] = client

    def token_of(client: TestClient, path: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text).group(1)

    for name, decision in (("Ana", "include"), ("Ben", "exclude")):
        client = clients[name]
        reply = client.post(
            "/screen",
            data={
                "record_id": 3,
                "decision": decision,
                "stage": "title_abstract",
                "csrf_token": token_of(client, "/screen"),
            },
        )
        assert reply.status_code == 200
    conflicts_page = clients["Cy"].get("/conflicts").text
    assert "Record 3" in conflicts_page and "Ana: include" in conflicts_page
    reply = clients["Ana"].post("/conflicts", data={"record_id": 3, "stage": "title_abstract",
        "decision": "include", "csrf_token": token_of(clients["Ana"], "/conflicts")})  # fmt: skip
    assert reply.status_code == 403
    reply = clients["Cy"].post("/conflicts", data={"record_id": 3, "stage": "title_abstract",
        "decision": "include", "csrf_token": token_of(clients["Cy"], "/conflicts")})  # fmt: skip
    assert reply.status_code == 200 and "No open conflicts" in reply.text
    stages = clients["Ana"].get("/api/status").json()["status"]["stages"]
    assert stages[0]["included"] == 1 and stages[0]["resolved"] == 1


def test_csrf_is_needed_on_every_post(app) -> None:
    ana, token = sign_in(app, "Ana")
    cy, cy_token = sign_in(app, "Cy")
    for method, path, body, who in API_ROUTES:
        if method != "POST":
            continue
        client = cy if who == "lead" else ana
        assert call(client, method, path, body, None).status_code == 403, path
        assert call(client, method, path, body, "forged").status_code == 403, path
        assert call(client, method, path, body, token if client is cy else cy_token
                    ).status_code == 403, path  # another session's token  # fmt: skip
    for path in ("/screen", "/conflicts", "/team", "/logout", "/login"):
        assert ana.post(path, data={"record_id": 1, "decision": "include"}).status_code == 403
    assert ana.get("/api/records/1").json()["decisions"] == []  # nothing was written


def test_a_session_expires(project: Path) -> None:
    app = create_app(project, secret="test-secret", max_age=1)
    try:
        client, _ = sign_in(app, "Ana")
        assert client.get("/api/me").status_code == 200
        time.sleep(2.1)  # the signed timestamp is in whole seconds
        assert client.get("/api/me").status_code == 401
        assert client.get("/", follow_redirects=False).status_code == 303
    finally:
        app.state.project.close()


def test_wrong_password_and_unknown_name_are_refused_alike(app) -> None:
    client = TestClient(app)
    wrong = client.post("/api/login", json={"name": "Ana", "password": "not it at all"})
    unknown = client.post("/api/login", json={"name": "Nobody", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()


def test_untrusted_titles_render_as_text(app) -> None:
    ana, token = sign_in(app, "Ana")
    ben, ben_token = sign_in(app, "Ben")
    page = ana.get("/screen?record=1").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    call(ana, "POST", "/api/decisions", {"record_id": 1, "decision": "include"}, token)
    call(ben, "POST", "/api/decisions", {"record_id": 1, "decision": "exclude"}, ben_token)
    lead, _ = sign_in(app, "Cy")
    conflicts = lead.get("/conflicts").text
    assert "<script>alert" not in conflicts and "&lt;script&gt;" in conflicts


def test_protocol_terms_are_highlighted(app) -> None:
    ana, _ = sign_in(app, "Ana")
    assert '<mark class="include">randomised</mark>' in ana.get("/screen?record=2").text
    assert '<mark class="exclude">review</mark>' in ana.get("/screen?record=3").text


def test_leads_add_reviewers_who_can_then_sign_in(app) -> None:
    cy, token = sign_in(app, "Cy")
    reply = call(cy, "POST", "/api/accounts", {"name": "Dee", "password": PASSWORD}, token)
    assert reply.json() == {"reviewer_id": reply.json()["reviewer_id"], "name": "Dee",
                            "role": "reviewer"}  # fmt: skip
    dee, _ = sign_in(app, "Dee")
    assert dee.get("/api/me").json()["role"] == "reviewer"
    short = call(cy, "POST", "/api/accounts", {"name": "Eve", "password": "short"}, token)
    assert short.status_code == 400 and "8 characters" in short.json()["detail"]


def test_the_openapi_document_describes_the_api(app) -> None:
    paths = TestClient(app).get("/openapi.json").json()["paths"]
    assert {p for _, p, _, _ in API_ROUTES} - {"/api/records/1"} | {"/api/login"} <= set(paths)
    assert "/api/records/{record_id}" in paths
