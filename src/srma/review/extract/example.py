"""An example review ready for data extraction, built from data shipped with srma.

The thirteen BCG vaccine trials of Colditz et al. (1994), ``srma.datasets.load("bcg")``
(metadat's ``dat.bcg``, GPL >= 2; cite the original paper): a project whose
protocol extracts the allocation method and absolute latitude of each trial and
tuberculosis cases per arm, with

* one record per trial, a stand-in made from the data set's author and year
  (the data set does not hold the reports' titles or journals, so the title
  says what the record is);
* the records screened in by two reviewers, Ana and Ben, at both stages (the
  trials are those the meta-analysis included), and a third reviewer, Cy;
* in ``example/``, the two extractors' long CSV forms, holding the data set's
  values, except one number Ben misread (Hart & Sutherland's 62 vaccinated
  cases as 26), to show a discrepancy and its resolution; and the two
  assessors' RoB 1 forms, ``rob_ana.csv`` and ``rob_ben.csv``, with
  illustrative judgements (:mod:`srma.review.appraise.example`) and one
  disagreement.

``docs/extraction.md`` walks through it: import, submit, compare, resolve,
export and ``srma meta``, which then gives the data set's own meta-analysis;
``docs/risk_of_bias.md`` does the same for risk of bias.
"""

from __future__ import annotations

from pathlib import Path

from srma.datasets import load
from srma.review.project import init_project
from srma.review.screen.decisions import decide

PROTOCOL = """\
# An example review built by `srma extract example` from data shipped with srma:
# the BCG vaccine trials of Colditz et al. (1994), JAMA 271:698-702 (metadat's dat.bcg).
[review]
title = "BCG vaccine against tuberculosis (srma example)"
reviewers_per_record = 2

[question]
population = "people without tuberculosis"
intervention = "BCG vaccination"
comparator = "no vaccination"
outcome = "tuberculosis cases"

[eligibility]
include = ["controlled trials of BCG vaccine against tuberculosis"]
exclude = ["trials without an unvaccinated control group"]

[screening]
exclusion_reasons = ["wrong population", "wrong intervention", "wrong comparator",
                     "wrong outcome", "wrong study design", "full text not available"]
highlight_include = ["BCG"]

[extraction]
arms = ["BCG", "no vaccine"]
multi_arm = "combine"

[[extraction.fields]]
name = "allocation"
type = "choice"
choices = ["random", "alternate", "systematic"]
required = true

[[extraction.fields]]
name = "latitude"
type = "number"
unit = "degrees"
required = true

[[outcomes]]
name = "tuberculosis"
measure = "RR"
direction = "lower is better"
primary = true
data = "binary"
time_points = ["end of follow-up"]

[risk_of_bias]
tool = "rob1"
level = "study"

[analysis]
policy = "modern"
planned = ["random-effects meta-analysis", "subgroups by allocation", "meta-regression on latitude"]

[[subgroups]]
name = "allocation"
description = "random, alternate or systematic allocation"
"""

#: The value Ben misreads in the example, and what he reads.
MISREAD = ("Hart & Sutherland", 1977, "events", "BCG", 26)
SOURCE = "dat.bcg (metadat), from Colditz et al. 1994"


def _ris(trials) -> str:  # type: ignore[no-untyped-def]
    lines = []
    for trial in trials.itertuples(index=False):
        lines.append("TY  - JOUR")
        names = str(trial.author).removesuffix(" et al").split(" & ")
        lines.extend(f"AU  - {name.strip()}" for name in names)
        lines.append(
            f"TI  - BCG vaccine trial of {trial.author} ({trial.year}): stand-in "
            "record made from the data set dat.bcg (Colditz et al. 1994)"
        )
        lines.append(f"PY  - {trial.year}")
        lines.append("ER  - ")
    return "\n".join(lines) + "\n"


def _longform(trials, labels: dict[tuple[str, int], str], *, misread: bool) -> str:  # type: ignore[no-untyped-def]
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["study", "outcome", "arm", "time_point", "field", "value", "source"])
    for trial in trials.itertuples(index=False):
        study = labels[(trial.author, trial.year)]
        writer.writerow([study, "", "", "", "allocation", trial.alloc, SOURCE])
        writer.writerow([study, "", "", "", "latitude", trial.ablat, SOURCE])
        for arm, events, total in (
            ("BCG", trial.events1, trial.total1),
            ("no vaccine", trial.events2, trial.total2),
        ):
            if misread and (trial.author, trial.year, arm) == (MISREAD[0], MISREAD[1], "BCG"):
                events = MISREAD[4]
            for field, value in (("total", total), ("events", events)):
                writer.writerow(
                    [study, "tuberculosis", arm, "end of follow-up", field, value, SOURCE]
                )
    return out.getvalue()


def build_example(folder: str | Path, *, url: str | None = None) -> Path:
    """Create the example project in ``folder`` (which must not hold a project yet) and the
    two extractors' forms in ``folder/example``; return the folder."""
    from srma.errors import InputError
    from srma.review.appraise.example import write_rob_example
    from srma.review.extract.context import load_extraction
    from srma.review.identify.importing import import_files
    from srma.review.project import PROTOCOL_FILE, add_reviewer

    folder = Path(folder)
    if (folder / PROTOCOL_FILE).exists():
        raise InputError("already holds a project; give a new folder", file=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PROTOCOL_FILE).write_text(PROTOCOL, encoding="utf-8")
    project = init_project(folder, title="", url=url)
    try:
        trials = load("bcg")
        extra = folder / "example"
        extra.mkdir(exist_ok=True)
        records = extra / "bcg_trials.ris"
        records.write_text(_ris(trials), encoding="utf-8")
        import_files(project, [records], source="example", imported_by="srma extract example")
        with project.store.transaction() as session:
            for name in ("Ana", "Ben", "Cy"):
                add_reviewer(session, name)
        for stage in ("title_abstract", "full_text"):
            with project.store.transaction() as session:
                for record in range(1, len(trials) + 1):
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
            studies = load_extraction(session, project).studies
            order = sorted(s.id for s in studies)  # records in the order of the data set
            labels = {
                (trials.author.iloc[i], int(trials.year.iloc[i])): studies.by_id[sid].label
                for i, sid in enumerate(order)
            }
        for name, misread in (("ana", False), ("ben", True)):
            (extra / f"{name}.csv").write_text(
                _longform(trials, labels, misread=misread), encoding="utf-8"
            )
        write_rob_example(extra, trials, labels)
    finally:
        project.close()
    return folder
