"""Benchmark: data extraction at the scale of a large review (not a test: timings only).

A project of 200 included studies, each with three arms (two doses and a
control), five outcomes (four continuous, one binary) at three time points:
9,000 outcome rows per extractor (200 x 5 x 3 x 3) and 1,600 characteristics.
Two extractors fill their workbooks (every row: n randomised, n analysed, value
type, dispersion, mean and SD, or events and total, and a source; the second
differs from the first in about 2% of the means); the timed steps are

* writing a reviewer's form workbook;
* importing one filled workbook (the whole ``srma extract import``: replaying the
  log, reading and checking every cell and row, storing the events), then the
  same workbook again (nothing changed);
* a full compare once both submitted every study (replay, reconciliation,
  discrepancies, agreement with Cohen's kappa);
* exporting one continuous outcome with its conversions.

    .venv/bin/python benchmarks/bench_extraction.py [--studies 200] [--repeats 1]

Also timed as whole processes: ``srma extract import`` and ``srma extract compare``.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUTCOMES = ("NIHSS", "Barthel index", "mRS", "infarct volume", "adverse events")
TIMES = ("30 days", "90 days", "1 year")


def protocol(title: str) -> str:
    from srma.review.project import PROTOCOL_TEMPLATE

    text = PROTOCOL_TEMPLATE.format(title=title)
    start, end = text.index("[[outcomes]]"), text.index("[risk_of_bias]")
    times = ", ".join(f'"{t}"' for t in TIMES)
    outcomes = "".join(
        f'[[outcomes]]\nname = "{name}"\nmeasure = "{measure}"\n'
        f'direction = "lower is better"\ntime_points = [{times}]\n\n'
        for name, measure in ((n, "RR" if n == "adverse events" else "SMD") for n in OUTCOMES)
    )
    return text[:start] + outcomes + text[end:]


def build(folder: Path, studies: int) -> None:
    """A project whose ``studies`` records are included at full text, with three arms each."""
    from srma.review.extract.context import load_extraction
    from srma.review.extract.studies import Arm, set_arms
    from srma.review.identify.importing import import_files
    from srma.review.project import add_reviewer, init_project
    from srma.review.screen.decisions import decide

    folder.mkdir(parents=True)
    (folder / "review.toml").write_text(protocol("Benchmark"), encoding="utf-8")
    project = init_project(folder, title="Benchmark")
    ris = folder / "records.ris"
    ris.write_text(
        "".join(
            f"TY  - JOUR\nAU  - Author{n}, A.\nTI  - Trial {n} of stem cells in stroke\n"
            f"PY  - {2000 + n % 20}\nER  - \n"
            for n in range(1, studies + 1)
        ),
        encoding="utf-8",
    )
    import_files(project, [ris], source="benchmark")
    with project.store.transaction() as session:
        for name in ("Ana", "Ben"):
            add_reviewer(session, name)
    for stage in ("title_abstract", "full_text"):
        with project.store.transaction() as session:
            for record in range(1, studies + 1):
                for name in ("Ana", "Ben"):
                    decide(
                        session,
                        project,
                        reviewer=name,
                        record_id=record,
                        stage=stage,
                        decision="include",
                    )
    with project.store.transaction() as session:
        extraction = load_extraction(session, project)
        arms = [Arm("low dose", "MSC"), Arm("high dose", "MSC"), Arm("placebo", "control")]
        for study in extraction.studies:
            set_arms(
                session,
                project,
                {},
                study=study,
                arms=arms,
                chosen=[],
                reviewer="Ana",
            )
    project.close()


def fill(form: Path, *, seed: int, differ: float) -> None:
    """Fill every row of a form as an extractor would (``differ``: share of means changed)."""
    from openpyxl import load_workbook

    generator = random.Random(7)  # the same data for both extractors ...
    noise = random.Random(seed)  # ... but for the slips
    book = load_workbook(form)
    for title in OUTCOMES:
        sheet = book[title]
        columns = {c.value: c.column for c in sheet[1]}
        for (row,) in zip(sheet.iter_rows(min_row=2), strict=False):
            n = generator.randint(10, 60)
            values = {"n_randomised": n, "source": "Table 2"}
            if title == "adverse events":
                values |= {"total": n, "events": generator.randint(0, n)}
            else:
                mean = round(generator.uniform(5, 30), 1)
                if noise.random() < differ:
                    mean = round(mean + 0.1, 1)
                values |= {
                    "n_analysed": n - generator.randint(0, 3),
                    "value_type": "final value",
                    "dispersion": "SD",
                    "mean": mean,
                    "sd": round(generator.uniform(1, 8), 2),
                }
            for name, value in values.items():
                row[columns[name] - 1].value = value
    traits = book["characteristics"]
    for row in traits.iter_rows(min_row=2):
        field = row[2].value
        row[4].value = {
            "design": "parallel RCT",
            "cell source": "bone marrow",
            "country": "Spain",
            "dose": 10,
            "route": "intravenous",
            "time from onset": 3,
            "follow-up": 12,
            "first patient enrolled": "2019-05-01",
        }[field]
    for row in book["studies"].iter_rows(min_row=2):
        row[4].value = "yes"
    book.save(form)


def timed(step: str, results: list[tuple[str, float, float]], action):  # type: ignore[no-untyped-def]
    """Run ``action``; record its wall time and CPU time (this process and its children)."""
    import resource

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    start, start_cpu = time.perf_counter(), cpu()
    value = action()
    results.append((step, time.perf_counter() - start, cpu() - start_cpu))
    return value


def _cli(*arguments: object) -> None:
    """Run ``srma ARGUMENTS`` as a whole process (the srma of this interpreter's path)."""
    code = "import sys; from srma.cli import main; sys.argv = sys.argv[1:]; main()"
    subprocess.run(
        [sys.executable, "-c", code, "srma", *map(str, arguments)], check=True, capture_output=True
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--studies", type=int, default=200)
    options = parser.parse_args()
    from srma.review.extract.compare import compare
    from srma.review.extract.context import load_extraction
    from srma.review.extract.export import export_outcome
    from srma.review.extract.importing import import_form
    from srma.review.extract.writing import write_reviewer_form
    from srma.review.project import open_project

    results: list[tuple[str, float, float]] = []
    with tempfile.TemporaryDirectory() as scratch:
        os.environ.pop("SRMA_DATABASE_URL", None)
        folder = Path(scratch) / "review"
        build(folder, options.studies)
        project = open_project(folder)

        def in_session(action):  # type: ignore[no-untyped-def]
            with project.store.transaction() as session:
                return action(session, load_extraction(session, project))

        forms = {}
        for name, seed, differ in (("Ana", 1, 0.0), ("Ben", 2, 0.02)):
            forms[name] = Path(scratch) / f"{name}.xlsx"

            def write(session, extraction, name=name):  # type: ignore[no-untyped-def]
                return write_reviewer_form(
                    session, extraction, forms[name], reviewer=name, consensus=False
                )

            timed(f"write {name}'s form", results, lambda write=write: in_session(write))
            fill(forms[name], seed=seed, differ=differ)
        imported = timed(
            "import Ana's workbook",
            results,
            lambda: in_session(lambda s, e: import_form(s, e, forms["Ana"], reviewer="Ana")),
        )
        timed(
            "import it again (no change)",
            results,
            lambda: in_session(lambda s, e: import_form(s, e, forms["Ana"], reviewer="Ana")),
        )
        timed(
            "srma extract import (Ben, whole process)",
            results,
            lambda: _cli("extract", "import", folder, forms["Ben"], "--reviewer", "Ben"),
        )
        comparison = timed(
            "full compare (both submitted every study)",
            results,
            lambda: in_session(lambda s, e: compare(e.state, e.form)),
        )
        timed(
            "srma extract compare --json (whole process)",
            results,
            lambda: _cli("extract", "compare", folder, "--json"),
        )
        table = timed(
            "export NIHSS (conversions)",
            results,
            lambda: in_session(
                lambda s, e: export_outcome(e.form, e.state, project.protocol, "NIHSS")
            ),
        )
        project.close()
    print(
        f"{options.studies} studies x {len(OUTCOMES)} outcomes x {len(TIMES)} time points x 3 "
        f"arms; {imported.values_read} values read per workbook, {imported.values_changed} "
        f"stored; {len(comparison.discrepancies)} discrepancies; export {len(table.table)} rows"
    )
    print("| step | wall (s) | CPU (s) |\n|---|---|---|")
    for step, seconds, cpu in results:
        print(f"| {step} | {seconds:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
