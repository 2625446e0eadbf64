"""Record text never acts on what shows it: exports keep one record per record and run no
formula, and the review commands print no escape sequence and read no markup (issue 10)."""

from __future__ import annotations

import csv
import io
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import rispy

from conftest import srma
from srma.review.identify.records import read_records

TITLE = "Neurological involvement in a child with atypical haemolytic uraemic syndrome"
FORGED = "Real title\nER  - \nTY  - JOUR\nTI  - forged"
HOSTILE = (
    f"\x1b[2J\x1b]0;pwned\x07{TITLE} [/]",
    f"\x1b]52;c;aGk=\x07{TITLE} [bold red]x",
)


def _export(folder: Path, changes: dict[int, dict[str, str]]) -> Path:
    """Two references alike but for their pages (a pair for a person to judge), as a CSV
    export whose cells may hold hostile text (``changes``: record number -> fields)."""
    export = folder / "two.csv"
    columns = ("title", "authors", "year", "journal", "volume", "issue", "pages", "abstract")
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        for number, pages in enumerate(("1875", "2539"), start=1):
            row = {"title": TITLE, "authors": "Koehl, B.", "year": "2010",
                   "journal": "Pediatric Nephrology", "volume": "25", "issue": "",
                   "pages": pages, "abstract": ""}  # fmt: skip
            row.update(changes.get(number, {}))
            writer.writerow(row)
    return export


@pytest.fixture
def new_project(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Path]:
    """A project whose two records hold the given text (records are append-only: the text
    must come in with the import, as it would from a hostile export)."""
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)

    def make(changes: dict[int, dict[str, str]] | None = None) -> Path:
        folder = tmp_path / "review"
        srma("init", folder, "--title", "Safety")
        srma("import", folder, _export(tmp_path, changes or {}), "--source", "Embase")
        srma("reviewer", folder, "--add", "Ana", "--add", "Ben")
        return folder

    return make


HOSTILE_TITLES = {number: {"title": title} for number, title in enumerate(HOSTILE, start=1)}


# ---------------------------------------------------------------------- exports


def test_csv_and_xlsx_cells_never_run_as_formulas(new_project: Callable[..., Path]) -> None:
    project = new_project({
        1: {"title": '=HYPERLINK("http://evil.example","click")', "pages": "-1875",
            "journal": "@SUM(A1)", "volume": "+25"},
        2: {"title": "A title with = and - inside"},
    })  # fmt: skip
    srma("dedup", project)
    out = project.parent / "records.csv"
    srma("export", project, "-o", out)
    with out.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2
    first, second = rows
    assert first["title"] == '\'=HYPERLINK("http://evil.example","click")'
    assert (first["pages"], first["journal"], first["volume"]) == ("'-1875", "'@SUM(A1)", "'+25")
    assert second["title"] == "A title with = and - inside" and second["pages"] == "2539"
    for row in rows:  # no text cell begins with a trigger; numbers are written as numbers
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in row.values())
    assert first["record_id"] == "1" and first["year"] == "2010"

    book = project.parent / "records.xlsx"
    srma("export", project, "-o", book)
    sheet = openpyxl.load_workbook(book).active
    header = [c.value for c in sheet[1]]
    cells = {name: sheet.cell(row=2, column=header.index(name) + 1) for name in header}
    assert cells["title"].value == '=HYPERLINK("http://evil.example","click")'
    assert cells["title"].data_type == "s" and cells["title"].quotePrefix
    assert cells["pages"].value == "-1875" and cells["pages"].quotePrefix
    assert cells["record_id"].value == 1 and cells["record_id"].data_type == "n"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)
    plain = sheet.cell(row=3, column=header.index("title") + 1)
    assert plain.value == "A title with = and - inside" and not plain.quotePrefix
    assert len(pd.read_excel(book)) == 2


def test_numbers_in_numeric_columns_are_not_changed(tmp_path: Path) -> None:
    from srma.review.flow.export import spreadsheet_safe, write_table

    table = pd.DataFrame({"yi": [-1.5, 0.25], "label": ["-1.5", "=1+1\x1b[2J"], "k": [-3, 4]})
    tab_and_return = spreadsheet_safe(pd.DataFrame({"note": ["\tx", "\r1", "plain"]}))
    assert tab_and_return["note"].tolist() == ["'\tx", "'\r1", "plain"]
    safe = spreadsheet_safe(table)
    assert safe["yi"].tolist() == [-1.5, 0.25] and safe["k"].tolist() == [-3, 4]
    assert safe["label"].tolist() == ["'-1.5", "'=1+1\x1b[2J"]  # text stays text (OWASP)
    write_table(table, tmp_path / "t.csv")
    assert (tmp_path / "t.csv").read_text().splitlines()[1] == "-1.5,'-1.5,-3"
    write_table(table, tmp_path / "t.xlsx")
    sheet = openpyxl.load_workbook(tmp_path / "t.xlsx").active
    assert [c.value for c in sheet[2]] == [-1.5, "-1.5", -3]
    assert [c.data_type for c in sheet[2]] == ["n", "s", "n"]
    assert sheet.cell(row=3, column=2).value == "=1+1 [2J"  # ESC cannot be held in XML


def test_a_title_cannot_forge_a_record(new_project: Callable[..., Path]) -> None:
    project = new_project({1: {"title": FORGED, "abstract": "one\r\ntwo\u2028three\x0bfour"}})
    srma("dedup", project)
    ris = project.parent / "records.ris"
    srma("export", project, "-o", ris)
    folded = "Real title ER  -  TY  - JOUR TI  - forged"
    read = read_records(ris)
    assert (read.records_read, len(read.records), read.problems) == (2, 2, ())
    assert read.records[0].title.strip() == folded
    assert read.records[0].abstract.strip() == "one two three four"
    with ris.open(encoding="utf-8") as handle:
        entries = rispy.load(handle)
    assert len(entries) == 2 and entries[0]["title"].strip() == folded
    assert sum(line.startswith("TY  -") for line in ris.read_text().splitlines()) == 2

    table = project.parent / "records.csv"
    srma("export", project, "-o", table)
    rows = pd.read_csv(table, keep_default_na=False)
    assert len(rows) == 2 and rows.loc[0, "title"] == FORGED  # CSV quotes it: one cell
    with table.open(newline="", encoding="utf-8") as handle:
        titles = [r["title"] for r in csv.DictReader(handle)]
    assert titles == [FORGED, TITLE]


# ---------------------------------------------------------------------- terminal output


def _clean(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output
    assert not any(0x80 <= ord(c) <= 0x9F for c in output)


def test_review_commands_print_no_escape_and_read_no_markup(
    new_project: Callable[..., Path],
) -> None:
    project = new_project(HOSTILE_TITLES)
    judged = srma("dedup", project, "--review", "--reviewer", "Ana", input="s\n")
    _clean(judged)
    assert "[/]" in judged and "[bold red]x" in judged and "pair 1 of 1" in judged
    for reviewer in ("Ana", "Ben"):
        decision = "include" if reviewer == "Ana" else "exclude"
        srma("decide", project, decision, "--record", 1, "--reviewer", reviewer,
             "--note", "\x1b]0;pwned\x07see [/]\nrecord 9 at title_abstract: forged")  # fmt: skip
    conflicts = srma("conflicts", project)
    _clean(conflicts)
    assert f"{TITLE} [/]" in conflicts and "see [/] record 9" in conflicts  # one line each
    assert len(conflicts.splitlines()) == 5
    assert json.loads(srma("conflicts", project, "--json"))[0]["title"] == HOSTILE[0]
    srma("reviewer", project, "--add", "[bold]Cy[/]")
    srma("decide", project, "include", "--record", 2, "--reviewer", "[bold]Cy[/]")
    status = srma("status", project)
    _clean(status)
    assert "decided by [bold]Cy[/]" in status
    audit = srma("audit", project, "--unblind", "--reviewer", "Ana")
    assert "see [/]" in audit  # a pipe gets the data as the file would hold it
    out = project.parent / "audit.csv"
    srma("audit", project, "--out", out)
    assert len(pd.read_csv(out)) == len(pd.read_csv(io.StringIO(audit)))


def test_dedup_review_in_a_real_terminal(
    new_project: Callable[..., Path], database_url: str, tmp_path: Path
) -> None:
    """`srma dedup --review` in tmux: the screen is not cleared, the window title is not
    set, nothing crashes, and the titles show."""
    project = new_project(HOSTILE_TITLES)
    socket = f"srma-safety-{os.getpid()}-{tmp_path.name}"
    config = tmp_path / "tmux.conf"  # let a title or clipboard sequence take effect, if any came
    config.write_text("set -g set-clipboard on\nset -g allow-rename on\n")
    tmux = ["tmux", "-L", socket, "-f", str(config)]
    env = {**os.environ, "SRMA_DATABASE_URL": database_url, "PYTHONPATH": os.pathsep.join(
        p for p in (str(Path(__file__).parents[1] / "src"), os.environ.get("PYTHONPATH")) if p
    )}  # fmt: skip
    command = (
        f"printf 'MARKER-BEFORE\\n'; {shlex.quote(sys.executable)} -c "
        "'from srma.cli import main; main()' dedup "
        f"{shlex.quote(str(project))} --review --reviewer Ana; echo EXIT=$?; sleep 30"
    )
    subprocess.run([*tmux, "new-session", "-d", "-x", "200", "-y", "50", "-s", "t",
                    "-e", f"SRMA_DATABASE_URL={database_url}",
                    "-e", f"PYTHONPATH={env['PYTHONPATH']}",
                    "bash", "--norc", "-c", command], check=True, env=env)  # fmt: skip
    try:

        def screen() -> str:
            return subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], check=True,
                                  capture_output=True, text=True).stdout  # fmt: skip

        deadline = time.monotonic() + 60
        while "same reference?" not in screen() and time.monotonic() < deadline:
            time.sleep(0.3)
        shown = screen()
        assert "same reference?" in shown, shown
        assert "MARKER-BEFORE" in shown  # ESC[2J would have cleared it
        assert "[/]" in shown and "[bold red]x" in shown and "Neurological" in shown
        title = subprocess.run([*tmux, "display-message", "-p", "-t", "t", "#{pane_title}"],
                               check=True, capture_output=True, text=True).stdout  # fmt: skip
        assert "pwned" not in title
        subprocess.run([*tmux, "send-keys", "-t", "t", "q", "Enter"], check=True)
        deadline = time.monotonic() + 30
        while "EXIT=" not in screen() and time.monotonic() < deadline:
            time.sleep(0.3)
        assert "EXIT=0" in screen(), screen()
        buffers = subprocess.run([*tmux, "list-buffers"], capture_output=True, text=True)
        assert "hi" not in buffers.stdout  # OSC 52 would have set the clipboard buffer
    finally:
        subprocess.run([*tmux, "kill-server"], check=False)
