"""Nothing taken from data executes, breaks a file or is drawn as anything but itself.

Study labels, outcome names, titles, table cells, PRISMA reasons and risk-of-bias
domains are written by someone else.  Each figure is drawn with labels holding
markup, mathtext, control characters, lone surrogates and bidirectional
controls, and written as PNG and SVG (the SVG must parse as XML); the HTML
report is opened in headless Chromium with script payloads in every place
data reach (beside positive controls proving the check sees a payload that
runs); the DOCX report is written with the same text.
"""

from __future__ import annotations

import dataclasses
import html
import io
import re
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.text import Text
from typer.testing import CliRunner

from conftest import SHARED
from srma import meta, meta_regression, small_study_tests, subgroup_analysis
from srma.analysis.bias import funnel_contours
from srma.analysis.sensitivity import baujat, cumulative, gosh, leave_one_out
from srma.cli import app
from srma.datasets import load
from srma.datasets.screening import load_screening, screening_texts
from srma.figures import diagnostics, forest, funnel, prisma, rob, screening
from srma.figures.axes import new_figure, save_figure
from srma.figures.text import REPLACEMENT, literal, safe_text
from srma.report.document import (
    CONTENT_SECURITY_POLICY,
    Outcome,
    _svg,
    build_report,
    write_docx,
    write_html,
)
from srma.review.appraise.risk_of_bias import read_rob
from srma.review.flow.prisma import read_prisma
from srma.review.screen.simulation import simulate
from test_report import _chromium

PWN = "document.title='pwned'"
MARKUP = (
    f'<img src=x onerror="{PWN}">',
    f"<script>{PWN}</script>",
    f'<a href="javascript:{PWN}">click</a> javascript:{PWN}',
    f"</style></title><script>{PWN}</script>",
    f'--><img src=x onerror="{PWN}"><!--',
)
MATH = ("US$ 5 vs US$ 10", r"$\notacommand$", r"a \$ b $x^2$")
CONTROL = ("nul\x00 esc\x1b[31m vt\x0b", "lone \ud800 surrogate", "rtl\u202eevil", "c1\x9bx")
HOSTILE = MARKUP + MATH + CONTROL

BCG = load("bcg").copy()
BCG["study"] = list(HOSTILE) + list(BCG["study"][len(HOSTILE) :])
BCG["alloc"] = BCG["alloc"].replace({"random": "US$ 5 vs US$ 10", "alternate": "nul\x00"})
RESULT = meta(BCG, measure="RR", method="REML")
TESTS = small_study_tests(RESULT)
TITLE = "Title $x^2$ <b>bold</b> \x1b[0m"


def _rob():
    frame = pd.DataFrame(
        {
            "Study": list(HOSTILE),
            **{name: ["Low"] * len(HOSTILE) for name in ("US$ 5 vs US$ 10", "esc\x1b", MARKUP[1])},
            "Overall": ["High"] * len(HOSTILE),
        }
    )
    return read_rob(frame, "rob2")  # three domains, not five: the columns name them


def _prisma():
    counts = read_prisma(SHARED / "reference" / "huang2024_prisma.csv")
    return dataclasses.replace(
        counts,
        database_specific=((MATH[0], 3000), (CONTROL[0], 59)),
        exclusion_reasons=((MARKUP[0], 10), (MATH[1], 4)),
    )


def _recall():
    records = load_screening("nagtegaal2019").head(200)
    simulation = simulate(
        screening_texts(records), records["label_included"].tolist(), batch_size=50
    )
    return screening.recall_plot([simulation], title=TITLE)


FIGURES = {
    "forest": lambda: forest.forest_plot(
        RESULT, arms=BCG, favours=MATH[:2], title=TITLE, arm_names=(MATH[1], CONTROL[0])
    ),
    "subgroup_forest": lambda: forest.subgroup_forest(
        subgroup_analysis(BCG, "alloc", measure="RR"), arms=BCG, title=TITLE
    ),
    "leave_one_out_forest": lambda: forest.refit_forest(leave_one_out(RESULT), RESULT, title=TITLE),
    "cumulative_forest": lambda: forest.refit_forest(
        cumulative(RESULT, BCG["year"]), RESULT, title=TITLE
    ),
    "funnel": lambda: funnel.funnel_plot(
        RESULT,
        contours=funnel_contours(RESULT),
        trimfill=TESTS.trimfill,
        egger=TESTS.egger,
        title=TITLE,
    ),
    "baujat": lambda: diagnostics.baujat_plot(baujat(RESULT), title=TITLE),
    "gosh": lambda: diagnostics.gosh_plot(gosh(RESULT), title=TITLE),
    "bubble": lambda: diagnostics.bubble_plot(
        meta_regression(BCG, "~ ablat", measure="RR"), "ablat", title=TITLE
    ),
    "labbe": lambda: diagnostics.labbe_plot(BCG, RESULT, title=TITLE),
    "radial": lambda: diagnostics.radial_plot(RESULT, title=TITLE),
    "rob_traffic_light": lambda: rob.traffic_light(_rob(), title=TITLE),
    "rob_summary": lambda: rob.summary_plot(_rob(), title=TITLE),
    "prisma": lambda: prisma.prisma_flow(_prisma(), title=TITLE),
    "screening_recall": _recall,
}
#: Figures that draw study labels (the others draw the hostile title only).
LABELLED = {"forest", "subgroup_forest", "leave_one_out_forest", "cumulative_forest", "baujat"}


def test_safe_text_and_literal() -> None:
    assert safe_text("a\x1bc\x0bd\x7fe\x9bf") == REPLACEMENT.join("acdef")
    assert safe_text("a\x00b") == f"a{REPLACEMENT}b"
    assert safe_text("esc\x1b[31m") == f"esc{REPLACEMENT}[31m"
    assert safe_text("\ud800\udfff\ufffe\uffff") == REPLACEMENT * 4
    assert (
        safe_text("rtl\u202eevil\u2066x\u2069")
        == f"rtl{REPLACEMENT}evil{REPLACEMENT}x{REPLACEMENT}"
    )
    kept = "tab\tline\nreturn\r مرحبا שלום é 中文 τ² I² 😀"
    assert safe_text(kept) == kept  # what XML allows and shows as stored is kept
    assert literal("US$ 5 vs US$ 10") == r"US\$ 5 vs US\$ 10"
    assert literal(3) == "3"


def _svg_texts(path: Path) -> str:
    root = ElementTree.parse(path).getroot()  # well-formed, or this raises
    return " ".join(
        "".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")
    )


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_with_hostile_labels_renders_literally(name: str, tmp_path: Path) -> None:
    figure = FIGURES[name]()
    png = save_figure(figure, tmp_path / f"{name}.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # SVG with text as text (save_figure) and as paths (the report's inlined figures)
    drawn = _svg_texts(save_figure(figure, tmp_path / f"{name}.svg"))
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    ElementTree.fromstring(buffer.getvalue())
    _svg(figure)  # passes the report's check: no script, handler or outside link
    # no text of the figure is mathtext or TeX, and srma's own labels still read as Unicode
    for artist in figure.findobj(Text):
        assert not artist.get_usetex()
        if not artist.get_text().startswith(r"$\mathdefault{"):  # matplotlib's log ticks
            assert artist._preprocess_math(artist.get_text())[1] is False, artist.get_text()
    assert "$x^2$" in drawn and "<b>bold</b>" in drawn
    assert "\x1b" not in drawn and REPLACEMENT in drawn
    if name in LABELLED:
        assert "US$ 5 vs US$ 10" in drawn and r"$\notacommand$" in drawn
        assert MARKUP[0] in drawn and MARKUP[4] in drawn
        assert f"rtl{REPLACEMENT}evil" in drawn and f"lone {REPLACEMENT} surrogate" in drawn
    if name == "forest":
        assert "Tau² = " in drawn and "I² = " in drawn
        assert "Favours US$ 5 vs US$ 10" in drawn and r"Favours $\notacommand$" in drawn
    if name == "subgroup_forest":
        assert "alloc: US$ 5 vs US$ 10" in drawn and f"alloc: nul{REPLACEMENT}" in drawn
    if name.startswith("rob"):
        assert "US$ 5 vs US$ 10" in drawn and "<script>" in drawn and f"esc{REPLACEMENT}" in drawn
    if name == "prisma":
        assert "US$ 5 vs US$ 10 (n = 3,000)" in drawn and r"$\notacommand$ (n = 4)" in drawn


def test_report_check_refuses_an_svg_with_a_link() -> None:
    figure = new_figure(2, 1)
    figure.text(0.1, 0.5, "click", url=f"javascript:{PWN}")
    with pytest.raises(ValueError, match="<a> element"):
        _svg(figure)


def test_forest_command_draws_dollar_labels_literally(tmp_path: Path) -> None:
    data = tmp_path / "trials.csv"
    data.write_text(
        "study,events1,total1,events2,total2\n"
        "US$ 5 vs US$ 10,4,50,9,50\n$\\notacommand$,6,60,10,61\nSmith 2012,3,40,7,42\n"
    )
    out = tmp_path / "forest.svg"
    run = CliRunner().invoke(
        app, ["forest", str(data), "--measure", "RR", "-o", str(out), "--title", "US$ 1 vs US$ 2"]
    )
    assert run.exit_code == 0, run.output
    drawn = _svg_texts(out)
    assert "US$ 5 vs US$ 10" in drawn and r"$\notacommand$" in drawn and "US$ 1 vs US$ 2" in drawn


# --- the HTML and DOCX reports ---------------------------------------------------------------


def _hostile_content():
    data = BCG.copy()
    data["study"] = [f"{label} #{i}" for i, label in enumerate(data["study"])]
    omitted = f'Omitted <img src=x onerror="{PWN}"> $x$ \x00'
    data.loc[len(data)] = {**data.iloc[0].to_dict(), "study": omitted, "events1": np.nan}
    result = meta(data, measure="RR", method="DL")
    assert any("Omitted <img" in warning for warning in result.warnings)
    characteristics = pd.DataFrame(
        {"study": list(HOSTILE), f"<script>{PWN}</script>": list(reversed(HOSTILE))}
    )
    return build_report(
        f"Review <script>{PWN}</script> \x1b",
        [
            Outcome(
                f"{MARKUP[0]} {MARKUP[3]}",
                result,
                arms=data,
                favours=(MARKUP[1], MATH[0]),
                small_study=small_study_tests(result),
            )
        ],
        rob=_rob(),
        prisma=_prisma(),
        characteristics=characteristics,
    )


def _elements(dom: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every element of a page and its attributes, as a browser's parser sees them."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs) -> None:
            found.append((tag, attrs))

    Collector().feed(dom)
    return found


def _title(dom: str) -> str:
    return re.search(r"<title>(.*?)</title>", dom, re.S).group(1)


def test_html_report_executes_nothing_from_data(tmp_path: Path) -> None:
    # positive controls: the same payloads in a page without escaping or CSP do run,
    # and the CSP alone stops an inline script
    pages = {
        "img": f'<img src=x onerror="{PWN}">',
        "script": f"<script>{PWN}</script>",
        "csp": f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        f"<script>{PWN}</script>",
    }
    for name, body in pages.items():
        control = tmp_path / f"{name}.html"
        control.write_text(f"<!DOCTYPE html><html><head><title>safe</title></head>{body}</html>")
        seen = _chromium(
            "--virtual-time-budget=3000", "--dump-dom", control.as_uri(), user_data=tmp_path / name
        )
        assert _title(seen.stdout) == ("safe" if name == "csp" else "pwned"), (name, seen.stderr)

    report = write_html(_hostile_content(), tmp_path / "report.html")
    text = report.read_text(encoding="utf-8")
    policy = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)">', text)
    assert html.unescape(policy.group(1)) == CONTENT_SECURITY_POLICY
    assert "\x00" not in text and "\x1b" not in text and "\ud800" not in text
    rendered = _chromium(
        "--virtual-time-budget=3000", "--dump-dom", report.as_uri(), user_data=tmp_path / "report"
    )
    assert rendered.returncode == 0
    dom = rendered.stdout
    assert _title(dom) == html.escape(f"Review <script>{PWN}</script> {REPLACEMENT}", quote=False)
    elements = _elements(dom)
    assert not {"img", "script", "a", "iframe", "object", "embed"} & {tag for tag, _ in elements}
    for tag, attributes in elements:  # no event handler, no link out of the page
        assert not [name for name, _ in attributes if name.startswith("on")], tag
        assert all((value or "#")[0] == "#" for name, value in attributes if "href" in name), tag
    # the text shows literally, in headings, notes, captions and table cells
    assert html.escape(f'Omitted <img src=x onerror="{PWN}"> $x$ ', quote=False) in dom
    assert html.escape(MARKUP[3], quote=False) in dom
    assert f'<td class="text">{html.escape(MARKUP[2], quote=False)}</td>' in dom
    assert f'<th class="text">{html.escape(MARKUP[1], quote=False)}</th>' in dom
    assert f'<td class="text">rtl{REPLACEMENT}evil</td>' in dom
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []  # and no CSP violation: nothing tried to run


def test_docx_report_replaces_what_word_cannot_hold(tmp_path: Path) -> None:
    from docx import Document

    path = write_docx(_hostile_content(), tmp_path / "report.docx")
    document = Document(str(path))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == f"Review <script>{PWN}</script> {REPLACEMENT}"
    assert any(f'Omitted <img src=x onerror="{PWN}"> $x$ {REPLACEMENT}' in p for p in paragraphs)
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert f"nul{REPLACEMENT} esc{REPLACEMENT}[31m vt{REPLACEMENT}" in cells
    assert f"lone {REPLACEMENT} surrogate" in cells and MATH[1] in cells


def test_markdown_summary_shows_labels_as_text() -> None:
    from markdown_it import MarkdownIt

    from srma.report.summary import markdown_summary

    data = BCG.copy()
    data.loc[0, "study"] = f"{MARKUP[0]} [x](javascript:{PWN}) a | b\nc"
    text = markdown_summary(meta(data, measure="RR"), title=MARKUP[1])
    # raw HTML on, as many viewers have it, and GitHub's tables
    rendered = MarkdownIt("commonmark").enable("table").render(text)
    elements = _elements(rendered)
    assert not {"img", "script", "a"} & {tag for tag, _ in elements}
    assert f"<h1>{html.escape(MARKUP[1], quote=False)}</h1>" in rendered
    cell = html.escape(f"{MARKUP[0]} [x](javascript:{PWN}) a | b c").replace("&#x27;", "'")
    assert f"<td>{cell}</td>" in rendered  # one cell, shown as written
    assert [tag for tag, _ in elements].count("td") == 5 * len(data)
    assert "\x00" not in markdown_summary(meta(BCG, measure="RR"), title="t\x00")
