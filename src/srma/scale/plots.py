"""Figures of a simulation study's performance table (matplotlib, no pyplot state).

* :func:`nested_loop_plot`: Rücker & Schwarzer (2014, BMC Med Res Methodol
  14:129): every scenario on one axis, ordered as nested loops over the factors
  that vary (the first factor outermost), a step line per method for one
  measure, and beneath it one step line per factor showing its level.
* :func:`scenario_plot`: one panel per scenario, the measure of each method
  with its Monte Carlo interval (± 1.96 MCSE; Morris et al. 2019).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from srma.scale.study import SCENARIO_FACTORS, Study


def _reference(measure: str, study: Study) -> float | None:
    """The value a measure should have (a dashed line), where there is one."""
    return {"bias": 0.0, "coverage": study.level, "pi_coverage": study.level,
            "type_i_error": 1 - study.level}.get(measure)  # fmt: skip


def _chosen(table: pd.DataFrame, measure: str, target: str) -> pd.DataFrame:
    rows = table[(table["measure"] == measure) & (table["target"] == target)]
    if rows.empty:
        raise ValueError(f"no {measure!r} of the {target} in the table")
    return rows


def _varying(study: Study) -> list[str]:
    return [f for f in SCENARIO_FACTORS if len({s.factors()[f] for s in study.scenarios}) > 1]


def nested_loop_plot(
    table: pd.DataFrame, study: Study, measure: str = "bias", target: str = "effect"
) -> Figure:
    """The nested-loop plot of ``measure`` of ``target`` over every scenario."""
    rows = _chosen(table, measure, target)
    n = len(study.scenarios)
    edges = np.arange(n + 1)
    figure = Figure(figsize=(max(7.0, 0.25 * n + 4), 5.0), layout="constrained")
    axes = figure.add_subplot()
    values_all = []
    for label in dict.fromkeys(rows["method"]):
        values = np.full(n, np.nan)
        mine = rows[rows["method"] == label]
        values[mine["scenario"].to_numpy()] = mine["value"].to_numpy()
        values_all.append(values)
        axes.stairs(values, edges, label=label, baseline=None, linewidth=1.4)
    stacked = np.concatenate(values_all)
    low, high = np.nanmin(stacked), np.nanmax(stacked)
    reference = _reference(measure, study)
    if reference is not None:
        axes.axhline(reference, color="0.4", linestyle="--", linewidth=0.8)
        low, high = min(low, reference), max(high, reference)
    span = high - low if high > low else 1.0
    # the legs: one step line per varying factor, in bands below the data
    band = 0.12 * span
    for j, factor in enumerate(_varying(study)):
        levels = list(dict.fromkeys(s.factors()[factor] for s in study.scenarios))
        code = np.array([levels.index(s.factors()[factor]) for s in study.scenarios])
        top = low - (j + 0.5) * 1.25 * band
        position = top - band * code / max(len(levels) - 1, 1)
        axes.stairs(position, edges, baseline=None, color="0.2", linewidth=0.8)
        text = ", ".join(str(level) for level in levels)
        axes.text(0.05, top + 0.1 * band, f"{factor}: {text}", fontsize=7, va="bottom")
    axes.set_xlim(0, n)
    if n <= 40:
        axes.set_xticks(edges[:-1] + 0.5, [str(i + 1) for i in range(n)], fontsize=7)
    axes.set_xlabel("scenario (nested loops over the factors)")
    axes.set_ylabel(f"{measure.replace('_', ' ')} ({target})")
    axes.set_title(f"{study.name}: {measure.replace('_', ' ')} of the {target}")
    axes.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return figure


def scenario_plot(
    table: pd.DataFrame, study: Study, measure: str = "coverage", target: str = "effect"
) -> Figure:
    """``measure`` of each method with ± 1.96 MCSE, one panel per scenario."""
    rows = _chosen(table, measure, target)
    scenarios = [s for s in study.scenarios if (rows["scenario"] == s.index).any()]
    columns = min(4, len(scenarios))
    lines = -(-len(scenarios) // columns)
    methods = list(dict.fromkeys(rows["method"]))
    figure = Figure(
        figsize=(3.2 * columns, 0.35 * len(methods) * lines + 1.2 * lines), layout="constrained"
    )
    reference = _reference(measure, study)
    panels = figure.subplots(lines, columns, squeeze=False, sharey=True)
    for panel, scenario in zip(panels.ravel(), scenarios, strict=False):
        mine = rows[rows["scenario"] == scenario.index].set_index("method").reindex(methods)
        position = np.arange(len(methods))
        half = 1.96 * mine["mcse"].fillna(0.0).to_numpy()
        panel.errorbar(mine["value"], position, xerr=half, fmt="o", markersize=3, capsize=2)
        if reference is not None:
            panel.axvline(reference, color="0.4", linestyle="--", linewidth=0.8)
        panel.set_yticks(position, methods, fontsize=7)
        panel.set_title(scenario.label(), fontsize=7)
        panel.tick_params(axis="x", labelsize=7)
    for panel in panels.ravel()[len(scenarios) :]:
        panel.set_visible(False)
    figure.suptitle(f"{study.name}: {measure.replace('_', ' ')} of the {target} (± 1.96 MCSE)")
    return figure
