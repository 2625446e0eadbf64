"""Fit every method of a study on one block, with srma's batch engine (no new estimator).

Inverse-variance methods go through :func:`srma.stats.pooling.pool` on the
block as one batch (``tau2_interval=False``: the Q-profile interval is not a
compared quantity).  tau² is estimated once per estimator, under the first
test; the other tests of the same estimator pool at that tau² (``pool(tau2=)``,
metafor's ``rma(tau2=)``), which gives the numbers a fit under that test gives,
at a fraction of the cost.  ``MH`` and ``PETO`` pool the 2x2 tables with
:func:`srma.stats.mantel_haenszel.mantel_haenszel` and
:func:`~srma.stats.mantel_haenszel.peto` (escalc's and rma.mh's defaults).
"""

from __future__ import annotations

import numpy as np

from srma.scale.generate import BlockData
from srma.scale.study import COUNT_POOLING, Method, Scenario
from srma.stats.batch import as_batch

#: The columns each method contributes per repetition (besides ``converged`` and ``k``).
FIT_COLUMNS = ("estimate", "se", "ci_lower", "ci_upper", "pvalue", "tau2", "pi_lower",
               "pi_upper", "q")  # fmt: skip


def fit_block(
    data: BlockData, scenario: Scenario, methods: tuple[Method, ...], level: float
) -> dict[str, dict[str, np.ndarray]]:
    """Every method's results on the block: ``{label: {column: array (n,)}}``."""
    from srma.stats.pooling import pool

    batch = as_batch(data.y, data.v)
    out: dict[str, dict[str, np.ndarray]] = {}
    estimated: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for method in methods:
        if method.method in COUNT_POOLING:
            out[method.label] = _fit_tables(data, scenario, method, level)
            continue
        fixed = estimated.get(method.method)
        fitted = pool(
            batch,
            method=method.method,
            test=method.test,
            level=level,
            pi_type=method.pi_type,
            tau2_interval=False,
            tau2=None if fixed is None else fixed[0],
        )
        if fixed is None:
            # rows with k < 2 have no tau² (NaN): pooled at 0 as pool() itself does
            estimated[method.method] = (np.nan_to_num(fitted.tau2), fitted.converged)
        converged = fitted.converged if fixed is None else fixed[1]
        columns = {name: getattr(fitted, name) for name in FIT_COLUMNS}
        out[method.label] = {**columns, "converged": converged, "k": fitted.k}
    return out


def _fit_tables(
    data: BlockData, scenario: Scenario, method: Method, level: float
) -> dict[str, np.ndarray]:
    from srma.stats.mantel_haenszel import mantel_haenszel, peto

    if data.tables is None:  # the study checks that MH and PETO come with binary data
        raise ValueError(f"{method.method} needs 2x2 tables")
    a, b, c, d = data.tables
    mask = np.ones(a.shape, dtype=bool)
    if method.method == "MH":
        fitted = mantel_haenszel(a, b, c, d, mask, scenario.within.measure, level=level)
    else:
        fitted = peto(a, b, c, d, mask, level=level)
    nan = np.full(a.shape[0], np.nan)
    columns = {name: getattr(fitted, name, nan) for name in FIT_COLUMNS}
    columns.update(tau2=nan, pi_lower=nan, pi_upper=nan)
    # closed forms: nothing to converge; an undefined estimate is NaN (counted as such)
    return {**columns, "converged": np.ones(a.shape[0], dtype=bool), "k": fitted.k}
