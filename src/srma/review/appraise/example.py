"""The example review's risk of bias: two assessors' long CSV forms for the BCG trials.

The example (:mod:`srma.review.extract.example`) judges each trial with RoB 1
(Cochrane Handbook 5.1.0, Table 8.5.a; criteria in Table 8.5.d).  Its
judgements are **illustrative**, made for the example from the one thing the
data set says about each trial's conduct, its allocation (``alloc`` of
metadat's ``dat.bcg``, from Colditz et al. 1994), and are not a published
assessment of these trials:

* random sequence generation: Low where allocation was random, High where it
  was alternate or systematic (a non-random rule, Table 8.5.d);
* allocation concealment: High where allocation was alternate or systematic
  (assignments could be foreseen), Unclear where random (not described);
* the other five domains: Unclear (the example holds no report to judge them by);
* overall: High where a domain is High, else Unclear (Table 8.7.a's summary
  across domains, every domain taken as key).

Ben judges one trial's sequence generation Unclear instead of High (Comstock
et al. 1974, systematic allocation), to show a disagreement and its resolution.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

#: The trial whose sequence generation Ben judges Unclear, and his support for it.
DISAGREEMENT = (
    "Comstock et al",
    1974,
    "Unclear",
    "dat.bcg allocation: systematic; the rule is not described",
)
ILLUSTRATIVE = "illustrative (srma example, not a published assessment)"
OTHER = ("D3", "D4", "D5", "D6", "D7")


def _judgements(alloc: str) -> dict[str, tuple[str, str]]:
    """Each domain's judgement and support for a trial allocated ``alloc``."""
    source = f"dat.bcg allocation: {alloc}"
    random = alloc == "random"
    found = {
        "D1": ("Low" if random else "High", source),
        "D2": ("Unclear" if random else "High", source),
        **{d: ("Unclear", "no report text in the example") for d in OTHER},
    }
    found["overall"] = ("Unclear" if random else "High", "Table 8.7.a: the worst of the domains")
    return found


def rob_longform(trials: pd.DataFrame, labels: Mapping[tuple[str, int], str], *, ben: bool) -> str:
    """One assessor's long CSV risk-of-bias form of the example's trials."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["study", "field", "value"])
    for trial in trials.itertuples(index=False):
        study = labels[(trial.author, int(trial.year))]
        found = _judgements(str(trial.alloc))
        if ben and (trial.author, int(trial.year)) == DISAGREEMENT[:2]:
            found["D1"] = (DISAGREEMENT[2], DISAGREEMENT[3])
        for domain, (judgement, support) in found.items():
            writer.writerow([study, f"{domain} judgement", judgement])
            writer.writerow([study, f"{domain} support", f"{support}; {ILLUSTRATIVE}"])
    return out.getvalue()


def write_rob_example(
    folder: Path, trials: pd.DataFrame, labels: Mapping[tuple[str, int], str]
) -> tuple[Path, Path]:
    """Write ``rob_ana.csv`` and ``rob_ben.csv`` into ``folder``."""
    paths = []
    for name, ben in (("ana", False), ("ben", True)):
        path = folder / f"rob_{name}.csv"
        path.write_text(rob_longform(trials, labels, ben=ben), encoding="utf-8")
        paths.append(path)
    return paths[0], paths[1]
