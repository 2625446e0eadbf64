"""Benchmark: ``srma analyze`` on a whole review (not a test: timings only).

A project of 300 included studies and 50 outcomes (40 continuous, MD, and 10
binary, RR; one time point each), every study extracted by two extractors who
agree and submitted, three characteristics per study (route, dose, cell
source), and a RoB 1 assessment of every study by two assessors who agree.
The protocol's plan: policy ``modern`` (REML, Hartung-Knapp-Sidik-Jonkman,
leave-one-out always, small-study tests), both sensitivity analyses, a
subgroup analysis by route and a meta-regression on dose, so every outcome
runs every follow-up at k = 300.

The project is built fast: the records through the import API
(:func:`srma.review.identify.importing.import_files`), then the reviewers'
events written straight to the store in one transaction, as srma's commands
write them (``screening`` decisions; ``extraction`` and ``rob`` events whose
payload ``values`` are :meth:`srma.review.extract.values.Entry.payload` dicts,
one event per reviewer and study; ``extraction_submit`` and ``rob_submit``).
The timed steps:

* ``srma analyze PROJECT --json`` as a process (replay, 50 exports, every
  analysis, storing the results);
* in-process: replaying the log and reading the judgements
  (:func:`review_inputs`), exporting every outcome with its data version, and
  the analyses;
* ``srma analyze PROJECT --status`` (replay and exports, nothing refitted);
* ``srma report PROJECT -o report.html --docx report.docx`` as a process (the
  analyses run and stored again, then every figure, table and the summary of
  findings in HTML and DOCX).

    .venv/bin/python benchmarks/bench_review.py [--studies 300] [--outcomes 50]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROUTES = ("intravenous", "intra-arterial", "intracerebral")
ROB1_DOMAINS = ("D1", "D2", "D3", "D4", "D5", "D6", "D7")


def outcome_names(count: int) -> list[tuple[str, str]]:
    """(name, measure): every fifth outcome binary."""
    return [(f"outcome {i:02d}", "RR" if i % 5 == 4 else "MD") for i in range(count)]


def protocol(outcomes: list[tuple[str, str]]) -> str:
    from srma.review.project import PROTOCOL_TEMPLATE

    text = PROTOCOL_TEMPLATE.format(title="Benchmark review")
    start = text.index("[[outcomes]]")
    blocks = "".join(
        f'[[outcomes]]\nname = "{name}"\nmeasure = "{measure}"\ndirection = "lower is better"\n'
        f'data = "{"binary" if measure == "RR" else "continuous"}"\n\n'
        for name, measure in outcomes
    )
    plan = (
        '[risk_of_bias]\ntool = "rob1"\nlevel = "study"\n\n'
        '[analysis]\npolicy = "modern"\n'
        'sensitivity = ["leave-one-out", "exclude high risk of bias"]\n\n'
        '[[subgroups]]\nname = "route"\n\n[[metaregressions]]\nmoderators = ["dose"]\n'
    )
    return text[:start] + blocks + plan


def _values(study: int, outcomes: list[tuple[str, str]], rng: np.random.Generator) -> list[dict]:
    found: list[dict] = [
        {"scope": "", "arm": "", "time": "", "field": "design", "value": "parallel RCT"},
        {"scope": "", "arm": "", "time": "", "field": "cell source", "value": "bone marrow"},
        {"scope": "", "arm": "", "time": "", "field": "route", "value": ROUTES[study % 3]},
        {"scope": "", "arm": "", "time": "", "field": "dose", "value": str(5 * (1 + study % 9))},
    ]
    for name, measure in outcomes:
        for arm, shift in (("MSC", -1.0), ("control", 0.0)):
            n = int(rng.integers(15, 80))
            cell = {"scope": name, "arm": arm, "time": ""}
            if measure == "RR":
                events = int(rng.binomial(n, 0.3 if shift else 0.4))
                rows = {"total": n, "events": events}
            else:
                mean = round(float(20 + shift + rng.normal(0, 1.5)), 2)
                rows = {"n_randomised": n, "n_analysed": n, "value_type": "final value",
                        "dispersion": "SD", "mean": mean,
                        "sd": round(float(rng.uniform(3, 8)), 2)}  # fmt: skip
            found += [{**cell, "field": f, "value": str(v)} for f, v in rows.items()]
    return found


def _judgements(study: int) -> list[dict]:
    high = study % 4 == 0
    found = [
        {"scope": "", "arm": "", "time": "", "field": f"{d} judgement",
         "value": "High" if high and d == "D1" else "Low"}
        for d in ROB1_DOMAINS
    ]  # fmt: skip
    found.append({"scope": "", "arm": "", "time": "", "field": "overall judgement",
                  "value": "High" if high else "Low"})  # fmt: skip
    return found


def build(folder: Path, studies: int, outcomes: list[tuple[str, str]]) -> float:
    """Build the project; return the seconds it took."""
    from srma.review.identify.importing import import_files
    from srma.review.project import add_reviewer, init_project
    from srma.store import Event

    start = time.perf_counter()
    folder.mkdir(parents=True)
    (folder / "review.toml").write_text(protocol(outcomes), encoding="utf-8")
    project = init_project(folder, title="Benchmark review")
    ris = folder / "records.ris"
    ris.write_text(
        "".join(
            f"TY  - JOUR\nAU  - Author{n}, A.\nTI  - Trial {n} of stem cells\nPY  - "
            f"{1990 + n % 30}\nER  - \n"
            for n in range(1, studies + 1)
        ),
        encoding="utf-8",
    )
    import_files(project, [ris], source="benchmark")
    rng = np.random.default_rng(12)
    with project.store.transaction() as session:
        ids = [add_reviewer(session, name) for name in ("Ana", "Ben")]
        events = [
            Event(reviewer_id=r, kind="screening", stage=stage, record_id=s, decision="include")
            for stage in ("title_abstract", "full_text")
            for s in range(1, studies + 1)
            for r in ids
        ]
        for s in range(1, studies + 1):
            values, judgements = _values(s, outcomes, rng), _judgements(s)
            for r in ids:
                events += [
                    Event(reviewer_id=r, kind="extraction", record_id=s,
                          payload={"values": values}),
                    Event(reviewer_id=r, kind="extraction_submit", record_id=s, payload={}),
                    Event(reviewer_id=r, kind="rob", record_id=s, payload={"values": judgements}),
                    Event(reviewer_id=r, kind="rob_submit", record_id=s, payload={}),
                ]  # fmt: skip
        session.add_all(events)
    project.close()
    return time.perf_counter() - start


def timed_process(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [str(Path(sys.executable).parent / "srma"), *args],
        check=True,
        stdout=subprocess.DEVNULL,
        env=os.environ,
    )
    return time.perf_counter() - start


def in_process(folder: Path) -> dict[str, float]:
    from srma.review.project import open_project
    from srma.review.synthesize.project import analyze_project, outcome_inputs, review_inputs

    project = open_project(folder)
    found = {}
    try:
        with project.store.transaction() as session:
            start = time.perf_counter()
            inputs = review_inputs(session, project)
            found["replay and judgements"] = time.perf_counter() - start
            start = time.perf_counter()
            list(outcome_inputs(inputs))
            found["exports and data versions"] = time.perf_counter() - start
            start = time.perf_counter()
            analysis = analyze_project(session, project, inputs)
            found["exports and analyses"] = time.perf_counter() - start
            assert all(o.k == o.table.shape[0] for o in analysis.outcomes)
    finally:
        project.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--studies", type=int, default=300)
    parser.add_argument("--outcomes", type=int, default=50)
    options = parser.parse_args()
    outcomes = outcome_names(options.outcomes)
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "review"
        built = build(folder, options.studies, outcomes)
        print(f"built {options.studies} studies x {len(outcomes)} outcomes in {built:.1f} s")
        for step, seconds in in_process(folder).items():
            print(f"{step}: {seconds:.2f} s")
        for flag in ("--json", "--status"):
            seconds = timed_process("analyze", str(folder), flag)
            print(f"srma analyze {flag} (process): {seconds:.2f} s")
        html, docx = Path(temporary) / "report.html", Path(temporary) / "report.docx"
        seconds = timed_process("report", str(folder), "-o", str(html), "--docx", str(docx))
        print(f"srma report PROJECT --docx (process): {seconds:.2f} s")


if __name__ == "__main__":
    main()
