"""Summarise a results folder: the performance table, summary tables and figures.

Writes, next to ``blocks/``: ``performance.csv`` (every measure with its MCSE,
:func:`srma.scale.performance.performance`), ``summary_effect.csv`` and
``summary_tau2.csv`` (one row per scenario and method), ``scenarios.csv`` (each
scenario's factors) and, with ``plots=True``, ``plots/nested_loop_MEASURE.png``
and ``plots/scenarios_MEASURE.png`` for the main measures.  Everything is
computed from the block files, so a summary of a resumed study is the summary
of the whole study.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from srma.scale.performance import performance, summary_table
from srma.scale.store import ResultStore
from srma.scale.study import Study

#: (measure, target) pairs drawn by :func:`summarise_study`, where the table has them.
PLOTTED = (("bias", "effect"), ("coverage", "effect"), ("type_i_error", "effect"),
           ("power", "effect"), ("bias", "tau2"), ("mse", "tau2"))  # fmt: skip


@dataclass(frozen=True)
class StudySummary:
    """The performance table and the files written."""

    table: pd.DataFrame
    files: tuple[Path, ...]


def summarise_study(study: Study, folder: str | Path, *, plots: bool = True) -> StudySummary:
    """Performance of every method from the block files in ``folder``; tables and figures."""
    folder = Path(folder)
    table = performance(ResultStore(folder, study).read(), study)
    files = [folder / "performance.csv", folder / "scenarios.csv"]
    table.to_csv(files[0], index=False, float_format="%.10g")
    pd.DataFrame([{"scenario": s.index, **s.factors(), "label": s.label()}
                  for s in study.scenarios]).to_csv(files[1], index=False)  # fmt: skip
    for target in ("effect", "tau2"):
        if (table["target"] == target).any():
            path = folder / f"summary_{target}.csv"
            summary_table(table, target).to_csv(path, index=False, float_format="%.10g")
            files.append(path)
    if plots:
        from srma.scale.plots import nested_loop_plot, scenario_plot

        (folder / "plots").mkdir(exist_ok=True)
        for measure, target in PLOTTED:
            if not ((table["measure"] == measure) & (table["target"] == target)).any():
                continue
            suffix = measure if target == "effect" else f"{measure}_tau2"
            for kind, draw in (("nested_loop", nested_loop_plot), ("scenarios", scenario_plot)):
                path = folder / "plots" / f"{kind}_{suffix}.png"
                draw(table, study, measure, target).savefig(path, dpi=110)
                files.append(path)
    return StudySummary(table=table, files=tuple(files))
