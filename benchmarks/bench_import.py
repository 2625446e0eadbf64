"""Time ``read_records`` on 100,000-record exports of every supported format.

The files are made from real exports: the records of the shared ASReview
exports (``shared/fixtures/exports``) and of the MEDLINE, Web of Science and
BibTeX fixtures (``tests/fixtures/exports``), repeated until there are
``--records`` of them, each copy's title varied (`` [copy 17]``) so that no
two records are the same.  Each file is read once after it is written (the
operating system has it cached), timed with ``time.perf_counter``, and the
script prints a Markdown table::

    .venv/bin/python benchmarks/bench_import.py --records 100000

Issue 10 asks for every format to read 100,000 records in under a minute.
"""

from __future__ import annotations

import argparse
import csv
import io
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from srma.review.identify.records import read_records
from srma.review.identify.tagged import text_lines

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "fixtures" / "exports"
FIXTURES = ROOT / "tests" / "fixtures" / "exports"
RIS_SOURCES = ("pubmed_zotero.ris", "embase.ris", "proquest.ris", "ovid_zotero.ris")


def blocks(path: Path) -> list[tuple[str, str]]:
    """``(text, title)`` of each stored record of an export: its lines up to the next record."""
    result = read_records(path)
    lines = text_lines(path.read_text(encoding="utf-8-sig"))
    starts = sorted({r.source_line for r in result.records} | {p.line for p in result.problems})
    stored = {r.source_line: r.title for r in result.records}
    out = []
    for begin, end in zip(starts, [*starts[1:], len(lines) + 1], strict=True):
        if begin in stored:
            block = "\n".join(lines[begin - 1 : end - 1]).rstrip("\n") + "\n\n"
            out.append((block, stored[begin]))
    return out


def repeat_blocks(sources: list[tuple[str, str]], records: int, head: str = "") -> str:
    """``records`` copies of ``sources`` in turn, the first occurrence of each title varied."""
    parts = [head]
    for number in range(records):
        block, title = sources[number % len(sources)]
        key = title.split()[0] if title else ""
        parts.append(block.replace(key, f"{key} [copy {number}]", 1) if key else block)
    return "".join(parts)


def ris(records: int, folder: Path) -> Path:
    sources = [b for name in RIS_SOURCES for b in blocks(SHARED / name)]
    path = folder / "bench.ris"
    path.write_text(repeat_blocks(sources, records), encoding="utf-8")
    return path


def medline(records: int, folder: Path) -> Path:
    path = folder / "bench.nbib"
    path.write_text(repeat_blocks(blocks(FIXTURES / "pubmed_medline.nbib"), records))
    return path


def wos(records: int, folder: Path) -> Path:
    head = "FN Clarivate Analytics Web of Science\nVR 1.0\n"
    sources = [
        (b.rstrip("\n") + "\n\n", t) for b, t in blocks(FIXTURES / "web_of_science_plain.txt")
    ]
    sources = [(b.replace("\nEF\n", "\n"), t) for b, t in sources]
    path = folder / "bench.txt"
    path.write_text(repeat_blocks(sources, records, head) + "EF\n", encoding="utf-8")
    return path


def bibtex(records: int, folder: Path) -> Path:
    sources = []
    for number, (block, title) in enumerate(blocks(FIXTURES / "mixed_sources.bib")):
        key_end = block.index(",")
        sources.append((block[:key_end] + f"_{number}" + block[key_end:], title))
    path = folder / "bench.bib"
    parts = []
    for number in range(records):
        block, title = sources[number % len(sources)]
        key_end = block.index(",")
        block = block[:key_end] + f"x{number}" + block[key_end:]
        parts.append(block.replace("title = {", f"title = {{[copy {number}] ", 1))
    path.write_text("".join(parts), encoding="utf-8")
    return path


def table_rows() -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO((SHARED / "embase.csv").read_text(encoding="utf-8-sig"))))
    return rows[0], rows[1:]


def delimited(records: int, folder: Path, delimiter: str, name: str) -> Path:
    header, rows = table_rows()
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    title = [h.lower() for h in header].index("title")
    for number in range(records):
        row = list(rows[number % len(rows)])
        row[title] = f"{row[title]} [copy {number}]"
        writer.writerow(row)
    path = folder / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def xlsx(records: int, folder: Path) -> Path:
    import openpyxl

    header, rows = table_rows()
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    sheet.append(header)
    title = [h.lower() for h in header].index("title")
    for number in range(records):
        row = list(rows[number % len(rows)])
        row[title] = f"{row[title]} [copy {number}]"
        sheet.append(row)
    path = folder / "bench.xlsx"
    workbook.save(path)
    return path


FORMATS: dict[str, Callable[[int, Path], Path]] = {
    "RIS": ris,
    "MEDLINE": medline,
    "Web of Science": wos,
    "BibTeX": bibtex,
    "CSV": lambda n, folder: delimited(n, folder, ",", "bench.csv"),
    "TSV": lambda n, folder: delimited(n, folder, "\t", "bench.tsv"),
    "XLSX": xlsx,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--formats", nargs="*", default=list(FORMATS), choices=list(FORMATS))
    args = parser.parse_args()
    print(
        "| format | records in file | file size (MB) | records read | stored | problems | seconds |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for name in args.formats:
            path = FORMATS[name](args.records, Path(folder))
            started = time.perf_counter()
            result = read_records(path)
            seconds = time.perf_counter() - started
            size = path.stat().st_size / 1e6
            print(
                f"| {name} | {args.records:,} | {size:,.0f} | {result.records_read:,} | "
                f"{len(result.records):,} | {len(result.problems):,} | {seconds:.1f} |",
                flush=True,
            )
            path.unlink()
    print(f"\nPython {sys.version.split()[0]} on {platform.machine()}, {platform.system()}.")


if __name__ == "__main__":
    main()
