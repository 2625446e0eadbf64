"""Performance measures with their Monte Carlo standard errors (Morris, White & Crowther
2019, Stat Med 38:2074-2102, Table 6).

For estimates ``t_r`` of a true value ``theta`` over the ``n`` repetitions in
which the method gave one (``mean t`` the average):

* bias ``= mean t - theta``, MCSE ``sqrt(sum (t_r - mean t)² / (n (n - 1)))``;
* empirical SE ``= sqrt(sum (t_r - mean t)² / (n - 1))``, MCSE ``EmpSE / sqrt(2 (n - 1))``;
* MSE ``= mean (t_r - theta)²``, MCSE ``sqrt(sum ((t_r - theta)² - MSE)² / (n (n - 1)))``;
* coverage ``p = mean 1{lower_r <= theta <= upper_r}``, MCSE ``sqrt(p (1 - p) / n)``;
* power (``theta != 0``) or type I error (``theta = 0`` and no small-study bias)
  ``= mean 1{p-value_r < 1 - level}``, the same MCSE;
* CI width ``= mean (upper_r - lower_r)``, MCSE ``sd / sqrt(n)``;
* coverage of the prediction interval: the mean over repetitions of the
  probability that the interval holds a new study's true effect, ``Phi((upper -
  theta)/tau) - Phi((lower - theta)/tau)`` (the indicator when tau = 0), MCSE
  ``sd / sqrt(n)``;
* convergence failures (the tau² iteration stopped unconverged) and repetitions
  without an estimate (NaN, e.g. a binary meta-analysis left with no table), counts.

Targets: ``effect`` (the pooled estimate against the scenario's mean effect)
and ``tau2`` (the estimate of tau² against the true tau²).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from srma.scale.study import Scenario, Study
from srma.vocabulary import COMMON_EFFECT_METHODS

#: The measures, in the order of the summary table.
MEASURES = ("bias", "empirical_se", "mse", "coverage", "ci_width", "power", "type_i_error",
            "pi_coverage", "convergence_failures", "not_estimable")  # fmt: skip


def _estimator_measures(t: np.ndarray, theta: float) -> list[tuple[str, float, float, int]]:
    n = t.size
    if n < 2:
        return []
    mean = t.mean()
    squares = ((t - mean) ** 2).sum()
    empirical_se = np.sqrt(squares / (n - 1))
    error2 = (t - theta) ** 2
    mse = error2.mean()
    return [
        ("bias", mean - theta, np.sqrt(squares / (n * (n - 1))), n),
        ("empirical_se", empirical_se, empirical_se / np.sqrt(2 * (n - 1)), n),
        ("mse", mse, np.sqrt(((error2 - mse) ** 2).sum() / (n * (n - 1))), n),
    ]


def _proportion(name: str, hits: np.ndarray) -> tuple[str, float, float, int]:
    p = hits.mean()
    return name, p, np.sqrt(p * (1 - p) / hits.size), hits.size


def _mean(name: str, values: np.ndarray) -> tuple[str, float, float, int]:
    sd = values.std(ddof=1) if values.size > 1 else np.nan
    return name, values.mean(), sd / np.sqrt(values.size), values.size


def _effect_measures(rows: pd.DataFrame, scenario: Scenario, level: float) -> list:
    theta, tau = scenario.effect, np.sqrt(scenario.tau2)
    estimate = rows["estimate"].to_numpy()
    finite = np.isfinite(estimate)
    out = _estimator_measures(estimate[finite], theta)
    lower, upper = rows["ci_lower"].to_numpy()[finite], rows["ci_upper"].to_numpy()[finite]
    if lower.size:
        out.append(_proportion("coverage", (lower <= theta) & (theta <= upper)))
        out.append(_mean("ci_width", upper - lower))
        pvalue = rows["pvalue"].to_numpy()[finite]
        name = "type_i_error" if theta == 0 and scenario.bias == 0 else "power"
        out.append(_proportion(name, pvalue < 1 - level))
    pi_lower, pi_upper = rows["pi_lower"].to_numpy(), rows["pi_upper"].to_numpy()
    has_pi = np.isfinite(pi_lower) & np.isfinite(pi_upper)
    if has_pi.any():
        lo, hi = pi_lower[has_pi], pi_upper[has_pi]
        if tau > 0:
            held = norm.cdf((hi - theta) / tau) - norm.cdf((lo - theta) / tau)
        else:
            held = ((lo <= theta) & (theta <= hi)).astype(np.float64)
        out.append(_mean("pi_coverage", held))
    total = len(rows)
    out.append(("convergence_failures", float((~rows["converged"]).sum()), np.nan, total))
    out.append(("not_estimable", float((~finite).sum()), np.nan, total))
    return out


def performance(frame: pd.DataFrame, study: Study) -> pd.DataFrame:
    """The performance of every method in every scenario, one row per measure.

    Columns: ``scenario``, the scenario's factors, ``method``, ``target``
    (``effect`` or ``tau2``), ``measure``, ``value``, ``mcse`` (NaN for counts)
    and ``n`` (repetitions the measure is over).
    """
    records = []
    methods = [m.label for m in study.methods]
    for (index, label), rows in frame.groupby(["scenario", "method"], sort=False):
        scenario = study.scenarios[int(index)]
        base = {"scenario": int(index), **scenario.factors(), "method": label}
        for name, value, mcse, n in _effect_measures(rows, scenario, study.level):
            records.append({**base, "target": "effect", "measure": name, "value": value,
                            "mcse": mcse, "n": n})  # fmt: skip
        if label.split()[0] in COMMON_EFFECT_METHODS:  # tau² = 0 by assumption
            continue
        tau2 = rows["tau2"].to_numpy()
        tau2 = tau2[np.isfinite(tau2)]
        for name, value, mcse, n in _estimator_measures(tau2, scenario.tau2):
            records.append({**base, "target": "tau2", "measure": name, "value": value,
                            "mcse": mcse, "n": n})  # fmt: skip
    table = pd.DataFrame.from_records(records)
    order = {label: i for i, label in enumerate(methods)}
    measure_order = {name: i for i, name in enumerate(MEASURES)}
    table = table.sort_values(
        ["scenario", "method", "target", "measure"],
        key=lambda c: (
            c.map(order)
            if c.name == "method"
            else c.map(measure_order)
            if c.name == "measure"
            else c
        ),
        kind="stable",
    )
    return table.reset_index(drop=True)


def summary_table(table: pd.DataFrame, target: str = "effect") -> pd.DataFrame:
    """One row per scenario and method, one column per measure of ``target``."""
    chosen = table[table["target"] == target]
    wide = chosen.pivot_table(
        index=["scenario", "method"], columns="measure", values="value", sort=False
    )
    present = [m for m in MEASURES if m in wide.columns]
    return wide[present].reset_index()
