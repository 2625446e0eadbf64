"""A whole review in the browser (headless Debian Chromium, driven by Playwright): a lead
adds two reviewers and imports a search, both screen titles and full texts blinded (one
conflict, resolved by the lead), extract the data and judge risk of bias (one discrepancy
each, settled by the lead), and the lead downloads the report; its pooled risk ratio is
srma's own meta-analysis of the same four BCG trials.  A screenshot of every page goes to
a temporary folder, or to docs/workspace/ with SRMA_SCREENSHOTS=docs/workspace."""

from __future__ import annotations

import math
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from conftest import srma
from srma.datasets import load
from srma.review.extract.example import PROTOCOL, _ris
from srma.review.project import PROTOCOL_FILE, init_project
from srma.web.app import create_app
from test_web import PASSWORD
from test_web_browser import ARGS, CHROMIUM, sign_in

SCREENSHOTS = os.environ.get("SRMA_SCREENSHOTS")
#: The first four trials of dat.bcg, and the number Ben misreads.
TRIALS = load("bcg").head(4)
MISREAD = ("Aronson 1948", "BCG", "events", 4, 40)


@pytest.fixture
def server(tmp_path: Path):
    folder = tmp_path / "review"
    folder.mkdir()
    (folder / PROTOCOL_FILE).write_text(PROTOCOL, encoding="utf-8")
    init_project(folder, title="").close()
    (tmp_path / "pw").write_text(PASSWORD)
    srma("user", "add", folder, "Cy", "--role", "lead", "--password-file", tmp_path / "pw")
    app = create_app(folder, secret="walkthrough")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                            log_level="warning"))  # fmt: skip
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", tmp_path
    running.should_exit = True
    thread.join()
    app.state.project.close()


def screen_all(page, base: str, stage: str, exclude: str | None = None) -> None:
    """Decide every record left at ``stage`` by keyboard: include, or exclude the one titled
    with ``exclude`` (with a reason)."""
    page.goto(f"{base}/screen?stage={stage}")
    while page.locator("#record").count():
        title = page.inner_text("#record h2")
        before = page.url
        if exclude and exclude in title:
            page.select_option("select[name=reason]", "wrong study design")
            page.locator("select[name=reason]").evaluate("field => field.blur()")
            page.keyboard.press("e")
        else:
            page.keyboard.press("i")
        page.wait_for_function(f"() => location.href !== {before!r}")
        page.wait_for_load_state()
    assert "Nothing left for you" in page.inner_text("main")


def extract_all(page, base: str, who: str) -> None:
    """Fill and submit every study's form with the data set's values (Ben misreads one)."""
    page.goto(f"{base}/extraction")
    links = page.locator("main table a")
    targets = [(links.nth(i).inner_text(), links.nth(i).get_attribute("href"))
               for i in range(links.count())]  # fmt: skip
    for label, href in targets:
        trial = next(t for t in TRIALS.itertuples() if label.startswith(t.author.split()[0]))
        page.goto(f"{base}{href}")
        page.select_option('[aria-label="allocation"]', trial.alloc)
        page.fill('[aria-label="latitude"]', str(trial.ablat))
        for arm, events, total in (("BCG", trial.events1, trial.total1),
                                   ("no vaccine", trial.events2, trial.total2)):  # fmt: skip
            if who == "Ben" and (label, arm) == MISREAD[:2]:
                events = MISREAD[4]
            page.fill(f'[aria-label="{arm}, end of follow-up: total"]', str(total))
            page.fill(f'[aria-label="{arm}, end of follow-up: events"]', str(events))
        page.check("input[name=submit]")
        page.click("button:has-text('Save')")
        page.wait_for_selector("p.ok")
        assert "submitted" in page.inner_text("p.ok")


def assess_all(page, base: str, who: str) -> None:
    """Judge every RoB 1 domain of every study and submit (Ben judges one differently)."""
    page.goto(f"{base}/rob")
    links = page.locator("main table a")
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for number, href in enumerate(hrefs):
        page.goto(f"{base}{href}")
        for domain in range(1, 8):
            level = "High" if who == "Ben" and number == 0 and domain == 1 else "Low"
            level = "Unclear" if domain == 3 else level
            page.select_option(f'[aria-label="D{domain} judgement"]', level)
            page.fill(f'[aria-label="D{domain} support"]', f"{who}: see methods, page {domain}")
        page.check("input[name=submit]")
        page.click("button:has-text('Save')")
        page.wait_for_selector("p.ok")


def pooled_rr() -> tuple[float, float, float]:
    """srma's risk ratio of the four trials as the protocol's "modern" policy pools it
    (REML, Hartung-Knapp-Sidik-Jonkman), computed here from the data set."""
    from srma.analysis.meta import meta

    result = meta(TRIALS, measure="RR", method="REML", test="knha")
    return tuple(math.exp(x) for x in (result.estimate, result.ci_lower, result.ci_upper))


def test_a_whole_review_in_the_browser(server) -> None:
    from playwright.sync_api import sync_playwright

    base, tmp_path = server
    shots = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path / "shots"
    shots.mkdir(exist_ok=True)
    ris = tmp_path / "bcg_search.ris"
    ris.write_text(_ris(TRIALS), encoding="utf-8")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        cy = sign_in(browser, base, "Cy")
        cy.goto(f"{base}/team")
        for name in ("Ana", "Ben"):
            cy.fill("input[name=name]", name)
            cy.fill("input[name=password]", PASSWORD)
            cy.click("button:has-text('Add')")
            cy.wait_for_selector(f"td:has-text('{name}')")
        cy.screenshot(path=shots / "team.png", full_page=True)
        cy.goto(f"{base}/imports")
        cy.set_input_files("input[name=file]", ris)
        cy.fill("input[name=source]", "PubMed")
        cy.click("button:has-text('Import')")
        cy.wait_for_selector("p.ok")
        assert "4 read, 4 stored, 0 not stored" in cy.inner_text("main")
        cy.screenshot(path=shots / "imports.png", full_page=True)

        ana, ben = sign_in(browser, base, "Ana"), sign_in(browser, base, "Ben")
        ana.goto(f"{base}/screen")
        ana.screenshot(path=shots / "screen.png", full_page=True)
        screen_all(ana, base, "title_abstract")
        screen_all(ben, base, "title_abstract", exclude="Rosenthal")
        cy.goto(f"{base}/conflicts")
        cy.screenshot(path=shots / "conflicts.png", full_page=True)
        cy.click("button[value=include]")
        cy.wait_for_selector("text=No open conflicts")
        ana.goto(f"{base}/screen?stage=full_text")
        ana.screenshot(path=shots / "screen-full-text.png", full_page=True)
        for page in (ana, ben):
            screen_all(page, base, "full_text")

        ana.goto(f"{base}/extraction")
        ana.screenshot(path=shots / "extraction.png", full_page=True)
        extract_all(ana, base, "Ana")
        ana.screenshot(path=shots / "extraction-study.png", full_page=True)
        ben.goto(f"{base}/extraction/1")
        assert "Stored" not in ben.inner_text("main") and ben.input_value(
            '[aria-label="latitude"]') == ""  # fmt: skip
        extract_all(ben, base, "Ben")
        cy.goto(f"{base}/extraction")
        row = cy.locator("tr", has_text="Aronson 1948")
        assert "Ana: 4" in cy.inner_text("main") and "Ben: 40" in cy.inner_text("main")
        cy.screenshot(path=shots / "extraction-discrepancy.png", full_page=True)
        row = cy.locator("tr", has=cy.locator("input[name=field][value=events]"))
        row.locator("input[name=value]").fill("4")
        row.locator("input[name=note]").fill("checked against table 2 of the report")
        row.locator("button:has-text('Settle')").click()
        cy.wait_for_selector("text=None open")

        ana.goto(f"{base}/rob/1")
        ana.select_option('[aria-label="D1 judgement"]', "Low")
        ana.screenshot(path=shots / "rob-study.png", full_page=True)
        assess_all(ana, base, "Ana")
        assess_all(ben, base, "Ben")
        cy.goto(f"{base}/rob")
        cy.screenshot(path=shots / "rob.png", full_page=True)
        cy.locator("form[action='/rob-resolutions'] select").select_option("Low")
        cy.click("form[action='/rob-resolutions'] button")
        cy.wait_for_selector("text=None open")

        cy.goto(f"{base}/")
        cy.screenshot(path=shots / "dashboard.png", full_page=True)
        assert "8 decided by" not in cy.inner_text("main")  # counts per reviewer, not a sum
        cy.goto(f"{base}/downloads")
        cy.screenshot(path=shots / "downloads.png", full_page=True)
        link = cy.locator("a[href^='/download/outcome.csv']").get_attribute("href")
        assert "outcome=tuberculosis" in link
        data = cy.context.request.get(f"{base}{link}").text()
        assert "Aronson 1948" in data and ",4," in data  # the settled value, not Ben's 40
        report = cy.context.request.get(f"{base}/download/report.html")
        assert report.status == 200
        html = report.text()
        (tmp_path / "report.html").write_text(html)
        cy.goto(f"{base}/download/report.html")
        cy.screenshot(path=shots / "report.png")
        browser.close()
    estimate, lower, upper = pooled_rr()
    shown = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert f"{estimate:.2f}" in shown and f"{lower:.2f}" in shown and f"{upper:.2f}" in shown
    assert "4 studies" in shown or "k = 4" in shown
    names = {p.name for p in shots.glob("*.png") if p.stat().st_size > 0}
    assert names >= set(["team.png", "imports.png", "screen.png", "conflicts.png",
                            "screen-full-text.png", "extraction.png", "extraction-study.png",
                            "extraction-discrepancy.png", "rob-study.png", "rob.png",
                            "dashboard.png", "downloads.png", "report.png"])  # fmt: skip
