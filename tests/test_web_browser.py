"""End to end in headless Chromium (Debian's, driven by Playwright): two reviewers screen the
same record at once in two browser contexts, the conflict appears for the lead, who resolves
it; a screenshot of every page goes to docs/workspace/."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn

from conftest import srma
from srma.web.app import create_app
from test_web import PASSWORD, RIS, _project

CHROMIUM = "/usr/bin/chromium"

#: Where the screenshots go: a temporary folder, or docs/workspace/ to refresh the
#: documentation's pictures (SRMA_SCREENSHOTS=docs/workspace).
SCREENSHOTS = os.environ.get("SRMA_SCREENSHOTS")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


@pytest.fixture
def server(tmp_path: Path):
    folder = _project(tmp_path / "review", "MSC for stroke", RIS)
    (tmp_path / "pw").write_text(PASSWORD)
    for name, role in (("Ana", "reviewer"), ("Ben", "reviewer"), ("Cy", "lead")):
        srma("user", "add", folder, name, "--role", role, "--password-file", tmp_path / "pw")
    app = create_app(folder, secret="browser-test")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    while not running.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    running.should_exit = True
    thread.join()
    app.state.project.close()


def sign_in(browser, base: str, name: str):
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{base}/")
    return page


def test_two_reviewers_then_a_lead_resolves_in_chromium(server: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    SHOTS = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        login = browser.new_context().new_page()
        login.goto(f"{server}/login")
        login.screenshot(path=SHOTS / "login.png")
        ana, ben = sign_in(browser, server, "Ana"), sign_in(browser, server, "Ben")
        for page in (ana, ben):
            page.goto(f"{server}/screen?record=2")
        ana.screenshot(path=SHOTS / "screen-first.png", full_page=True)
        assert ana.locator("mark.include").first.inner_text().lower() in ("mesenchymal", "stroke")
        ana.fill("input[name=note]", "randomised, but check the dose")
        ana.locator("input[name=note]").evaluate("field => field.blur()")
        ana.keyboard.press("i")  # the keyboard shortcut
        ana.wait_for_url(f"{server}/screen?stage=title_abstract&previous=2")
        ben.goto(f"{server}/screen?record=2")
        assert "1 of 2 decided (blinded)" in ben.inner_text("#record")
        assert "check the dose" not in ben.content()
        ben.select_option("select[name=reason]", "wrong population")
        ben.click("button[value=exclude]")
        ben.wait_for_url(f"{server}/screen?stage=title_abstract&previous=2")
        cy = sign_in(browser, server, "Cy")
        cy.screenshot(path=SHOTS / "dashboard-first.png", full_page=True)
        cy.goto(f"{server}/conflicts")
        assert "Ana: include" in cy.inner_text("main") and "check the dose" in cy.content()
        cy.screenshot(path=SHOTS / "conflicts-first.png", full_page=True)
        cy.click("button[value=include]")
        cy.wait_for_selector("text=No open conflicts")  # the page is swapped in by htmx
        cy.goto(f"{server}/team")
        cy.screenshot(path=SHOTS / "team-first.png", full_page=True)
        cy.goto(f"{server}/")
        assert "1" in cy.inner_text("table")
        ana.goto(f"{server}/screen?record=1")
        ana.screenshot(path=SHOTS / "screen-escaped.png", full_page=True)
        assert "<script>alert('x')</script>" in ana.inner_text("#record h2")
        browser.close()
    shots = {p.name for p in SHOTS.glob("*.png") if p.stat().st_size > 0}
    assert shots >= {"conflicts-first.png", "dashboard-first.png", "login.png",
                     "screen-escaped.png", "screen-first.png", "team-first.png"}  # fmt: skip
