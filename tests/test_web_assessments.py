"""The workspace's extraction, risk-of-bias, import and download routes (FastAPI's test
client, SQLite and PostgreSQL): who may call each, blinding of values and judgements until
every extractor or assessor has submitted, the tool's proposal, all-or-nothing saving with
every problem named, and the vendored htmx."""

from __future__ import annotations

import hashlib
import re
from importlib.resources import files
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from srma.review.appraise.rob2 import randomization
from srma.review.extract.example import PROTOCOL, build_example
from srma.web.accounts import add_account
from srma.web.app import create_app

PASSWORD = "correct horse battery"
NIHIL = "ben-private-support-91c"


@pytest.fixture
def app(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch):
    """The shipped BCG example (13 trials included by Ana and Ben), its risk of bias judged
    with RoB 2, and accounts for Ana, Ben (reviewers) and Cy (lead)."""
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    folder = build_example(tmp_path / "bcg")
    protocol = folder / "review.toml"
    protocol.write_text(PROTOCOL.replace('tool = "rob1"', 'tool = "rob2"'), encoding="utf-8")
    made = create_app(folder, secret="test")
    with made.state.project.store.transaction() as session:
        for name, role in (("Ana", "reviewer"), ("Ben", "reviewer"), ("Cy", "lead")):
            add_account(session, name, role=role, password=PASSWORD)
    yield made
    made.state.project.close()


def sign_in(app, name: str) -> tuple[TestClient, dict[str, str]]:
    client = TestClient(app)
    reply = client.post("/api/login", json={"name": name, "password": PASSWORD})
    return client, {"X-CSRF-Token": reply.json()["csrf_token"]}


TB = {"outcome": "tuberculosis", "time_point": "end of follow-up"}
VALUES = [{"field": "allocation", "value": "random"}, {"field": "latitude", "value": "44"},
          {**TB, "arm": "BCG", "field": "total", "value": "123"},
          {**TB, "arm": "BCG", "field": "events", "value": "4"},
          {**TB, "arm": "no vaccine", "field": "total", "value": "139"},
          {**TB, "arm": "no vaccine", "field": "events", "value": "11"}]  # fmt: skip


def test_who_may_call_each_new_route(app) -> None:
    routes = [("GET", "/api/extraction", None, "any"), ("GET", "/api/extraction/1", None, "any"),
              ("POST", "/api/extraction/1", {"values": VALUES[:2]}, "any"),
              ("GET", "/api/rob", None, "any"), ("GET", "/api/rob/1", None, "any"),
              ("POST", "/api/rob/1", {"values": {"1.1": "Y", "1.2": "Y", "1.3": "N"}}, "any"),
              ("POST", "/api/rob/1/proposal", {"values": {"1.1": "Y"}}, "any"),
              ("POST", "/api/extraction-resolutions", {"study_id": 1, "field": "latitude"},
               "lead"),
              ("POST", "/api/rob-resolutions", {"study_id": 1, "field": "D1"}, "lead"),
              ("GET", "/download/records.csv", None, "any"),
              ("GET", "/download/prisma.svg", None, "any"),
              ("GET", "/download/report.html", None, "lead")]  # fmt: skip
    anonymous = TestClient(app)
    for method, path, body, _ in routes:
        assert anonymous.request(method, path, json=body).status_code in (401, 403), path
    ana, ana_token = sign_in(app, "Ana")
    cy, cy_token = sign_in(app, "Cy")
    for method, path, body, who in routes:
        status = ana.request(method, path, json=body, headers=ana_token).status_code
        assert status == (403 if who == "lead" else 200), (path, status)
        status = cy.request(method, path, json=body, headers=cy_token).status_code
        # resolving a study nobody submitted is refused by the library: it is blinded
        assert status == (400 if "resolutions" in path else 200), (path, status)
    for path in ("/extraction", "/extraction/1", "/rob", "/rob/1", "/downloads"):
        assert ana.get(path).status_code == 200 and cy.get(path).status_code == 200, path
    assert ana.get("/imports").status_code == 403 and cy.get("/imports").status_code == 200


def test_values_stay_blinded_until_both_extractors_submit(app) -> None:
    ana, ana_token = sign_in(app, "Ana")
    ben, ben_token = sign_in(app, "Ben")
    stored = ana.post("/api/extraction/1", json={"values": VALUES, "submit": True},
                      headers=ana_token)  # fmt: skip
    assert stored.status_code == 200 and stored.json()["submitted"] == ["Aronson 1948"]
    mine = {(i["outcome"], i["arm"], i["field"]): i["value"]
            for i in ben.get("/api/extraction/1").json()["items"]}  # fmt: skip
    assert set(mine.values()) == {None}  # Ben sees none of Ana's values
    for path in ("/api/extraction", "/extraction", "/extraction/1", "/download/records.csv"):
        assert "123" not in ben.get(path).text, path
    outcome = ben.get("/download/outcome.csv", params={"outcome": "tuberculosis"}).text
    assert ",123," not in outcome and "Aronson 1948" in outcome
    changed = [dict(v) for v in VALUES]
    changed[2]["value"] = "125"  # Ben reads another total
    reply = ben.post("/api/extraction/1", json={"values": changed, "submit": True},
                     headers=ben_token)  # fmt: skip
    assert reply.status_code == 200
    open_items = ana.get("/api/extraction").json()["discrepancies"]
    assert [(d["field"], sorted(v["value"] for v in d["values"])) for d in open_items] == [
        ("total", ["123", "125"])
    ]
    cy, cy_token = sign_in(app, "Cy")
    settled = cy.post("/api/extraction-resolutions", headers=cy_token, json={
        "study_id": 1, **TB, "arm": "BCG", "field": "total", "value": "123"})  # fmt: skip
    assert settled.status_code == 200 and not ana.get("/api/extraction").json()["discrepancies"]
    data = cy.get("/download/outcome.csv", params={"outcome": "tuberculosis"}).text
    assert re.search(r"Aronson 1948.*,4,123,11,139,", data.replace('"', ""))


def test_every_problem_is_named_and_nothing_is_stored(app) -> None:
    ana, token = sign_in(app, "Ana")
    wrong = [{"field": "allocation", "value": "by coin"}, {"field": "latitude", "value": "north"},
             {**TB, "arm": "BCG", "field": "total", "value": "3"},
             {**TB, "arm": "BCG", "field": "events", "value": "4"},
             {**TB, "arm": "placebo", "field": "events", "value": "4"}]  # fmt: skip
    reply = ana.post("/api/extraction/1", json={"values": wrong}, headers=token)
    assert reply.status_code == 400
    problems = reply.json()["problems"]
    where = [p["where"] for p in problems]
    assert any("'allocation'" in w for w in where) and any("'latitude'" in w for w in where)
    assert any("events (4) exceed the total (3)" in p["message"] for p in problems)
    assert any("placebo" in p["message"] for p in problems)
    assert {i["value"] for i in ana.get("/api/extraction/1").json()["items"]} == {None}
    page = ana.post("/extraction/1", data={"csrf_token": token["X-CSRF-Token"], "v0": "by coin"})
    assert page.status_code == 400 and "Nothing was stored" in page.text


def test_the_tools_proposal_is_shown_and_blinded(app) -> None:
    """RoB 2 domain 1: 1.1 Y, 1.2 Y, 1.3 N is "Low risk" (Sterne et al. 2019, BMJ 366:l4898,
    the domain 1 algorithm), as srma's algorithm says."""
    answers = {"1.1": "Y", "1.2": "Y", "1.3": "N"}
    ana, ana_token = sign_in(app, "Ana")
    preview = ana.post("/api/rob/1/proposal", json={"values": answers}, headers=ana_token)
    assert preview.json()["proposals"]["D1"] == randomization(answers) == "Low"
    assert "proposal" in ana.post("/rob/1/proposal", headers=ana_token,
                                  data={f"f:{k}": v for k, v in answers.items()}).text  # fmt: skip
    stored = ana.post("/api/rob/1", json={"values": {**answers, "D1 support": "sealed envelopes"}},
                      headers=ana_token)  # fmt: skip
    assert stored.status_code == 200, stored.text
    domain = next(d for d in ana.get("/api/rob/1").json()["domains"] if d["id"] == "D1")
    assert domain["proposal"] == "Low" and domain["has_algorithm"]
    override = ana.post("/api/rob/1", json={"values": {**answers, "D1 judgement": "High"}},
                        headers=ana_token)  # fmt: skip
    assert override.status_code == 400 and "reason" in override.json()["detail"]
    ben, ben_token = sign_in(app, "Ben")
    theirs = {"1.1": "N", "1.2": "N", "1.3": "N", "D1 support": NIHIL}
    assert ben.post("/api/rob/1", json={"values": theirs}, headers=ben_token).status_code == 200
    for path in ("/api/rob/1", "/rob/1", "/api/rob", "/rob"):
        assert "sealed envelopes" not in ben.get(path).text, path
        assert NIHIL not in ana.get(path).text, path


def test_leads_import_an_upload_once(app) -> None:
    cy, token = sign_in(app, "Cy")
    ris = b"TY  - JOUR\nTI  - A new BCG trial\nPY  - 2001\nER  - \n"
    first = cy.post("/api/imports", files={"file": ("../../evil/new.ris", ris)}, headers=token)
    assert first.status_code == 200 and first.json()["files"][0]["records_stored"] == 1
    assert first.json()["files"][0]["path"] == "new.ris"
    again = cy.post("/api/imports", files={"file": ("new.ris", ris)}, headers=token)
    assert "already imported" in again.json()["files"][0]["skipped"]
    empty = cy.post("/api/imports", files={"file": ("empty.ris", b"")}, headers=token)
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    ana, ana_token = sign_in(app, "Ana")
    assert ana.post("/api/imports", files={"file": ("x.ris", ris)},
                    headers=ana_token).status_code == 403  # fmt: skip


def test_downloads_are_real_files(app) -> None:
    ana, _ = sign_in(app, "Ana")
    png = ana.get("/download/prisma.png")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert "13" in ana.get("/download/prisma.svg").text
    assert ana.get("/download/records.xlsx").content[:2] == b"PK"
    assert ana.get("/download/records.ris").text.count("TY  - JOUR") == 13
    assert ana.get("/download/records.pdf").status_code == 400


def test_htmx_is_vendored_and_served() -> None:
    """The file the README in srma/web/static names (sha256), served without a CDN."""
    static = files("srma.web") / "static"
    readme = (static / "README.md").read_text()
    digest = hashlib.sha256((static / "htmx.min.js").read_bytes()).hexdigest()
    assert f"htmx.min.js sha256: {digest}" in readme
    assert "Zero-Clause BSD" in (static / "htmx.LICENSE").read_text()
