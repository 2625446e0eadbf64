"""A compiled, fused per-row kernel for REML pooling of many meta-analyses (numba).

:func:`srma.stats.pooling.pool` on a :class:`~srma.stats.batch.Batch` runs about
600 numpy passes over the batch per REML + Knapp-Hartung fit.  This module
computes, one data set at a time and with the data set's own k (padding costs
nothing), exactly the same equations with the same iteration and stopping
rules: the standardisation of :func:`srma.stats.batch.standardise` (its
"ordinary" and "wide" choices taken per block of
:data:`srma.stats.pooling.BLOCK_ROWS` rows, as the numpy path takes them), Hedges'
start, the REML root of :func:`srma.stats.tau2.solve_tau2_equation` with the
safeguarded Newton-bisection of :func:`srma.stats.roots.solve_decreasing` and
the likelihood scan at the boundary, the Knapp-Hartung (or ad hoc) variance,
Cochran's Q, I², H², the prediction interval and the Q-profile interval of tau²
(Viechtbauer 2007).  Critical values and chi² targets come from the same scipy
calls as the numpy path (one per distinct k); p-values from scipy's
``cython_special`` (the functions behind ``scipy.stats.t.sf``, ``norm.sf`` and
``chi2.sf``).  The numpy path stays the reference: tests/test_batch_kernel.py
checks that the two agree to 1e-12.

numba is imported only by :func:`load`, which :mod:`srma.stats.pooling` calls
for large batches; compiled code is cached on disk (``cache=True``: next to
this file, else numba's user-wide cache directory, or ``NUMBA_CACHE_DIR``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

#: Test codes of the kernel: the variance of the mean under each test.
TEST_CODES = {"z": 0, "t": 0, "knha": 1, "adhoc": 2}

#: Output fields of :func:`fit_batch`, besides ``weights``, ``converged`` and ``iterations``.
FLOAT_FIELDS = (
    "estimate", "se", "statistic", "pvalue", "df", "ci_lower", "ci_upper", "pi_lower",
    "pi_upper", "tau2", "tau2_ci_lower", "tau2_ci_upper", "i2", "i2_ci_lower", "i2_ci_upper",
    "h2", "h2_ci_lower", "h2_ci_upper", "q", "q_df", "q_pvalue",
)  # fmt: skip


@cache
def load() -> tuple[Callable[..., Any], Callable[..., Any]]:
    """The compiled kernel and its block-flag pass, compiled and run once on a tiny batch.

    Raises ImportError without numba, and whatever numba raises where it cannot
    compile or cache here, so that the caller can fall back to numpy before any
    real work.  Compiling takes 20-40 s once; afterwards it is loaded from the
    disk cache.
    """
    from srma.stats import _kernel_numba

    compiled = _kernel_numba.kernel, _kernel_numba.flags
    y = np.asfortranarray([[0.1, 0.4, -0.2], [0.3, 0.0, 0.0]])
    v = np.asfortranarray([[0.01, 0.02, 0.05], [0.03, 1.0, 1.0]])
    mask = np.asfortranarray([[True, True, True], [True, False, False]])
    fit_batch(y, v, mask, test="knha", level=0.95, pi_type="riley", tau2_interval=True,
              block_rows=2, workers=None, compiled=compiled)  # fmt: skip
    return compiled


def fit_batch(
    y: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray,
    *,
    test: str,
    level: float,
    pi_type: str,
    tau2_interval: bool,
    block_rows: int,
    workers: int | None,
    compiled: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
) -> dict[str, np.ndarray]:
    """Every field of :class:`srma.stats.pooling.PooledArrays` for REML, by the kernel
    (``compiled``: the loaded kernel; default :func:`load`)."""
    from scipy.stats import chi2

    from srma.stats.batch import quantile_per_df
    from srma.stats.inference import critical_value, degrees_of_freedom, prediction_df
    from srma.stats.tau2 import BOUNDARY_GRID

    kernel, flags = load() if compiled is None else compiled
    n, width = y.shape
    ks = np.arange(width + 1)
    df_table = degrees_of_freedom(test, ks)
    crit = critical_value(level, df_table)
    pi_crit = critical_value(level, prediction_df(pi_type, test, ks))
    alpha = 1.0 - level
    q_df = np.maximum(ks - 1, 1).astype(np.float64)  # k < 2 has no interval
    q_lower = quantile_per_df(chi2.isf, alpha / 2, q_df)
    q_upper = quantile_per_df(chi2.ppf, alpha / 2, q_df)
    out = np.empty((len(FLOAT_FIELDS), n))
    weights = np.empty((n, width), order="F")
    converged = np.empty(n, dtype=bool)
    iterations = np.empty(n, dtype=np.int64)
    import numba

    threads = numba.get_num_threads()
    if workers:
        numba.set_num_threads(min(workers, numba.config.NUMBA_NUM_THREADS))
    try:
        ordinary, wide = flags(y, v, mask, block_rows)
        kernel(y, v, mask, ordinary, wide, block_rows, TEST_CODES[test], tau2_interval,
               BOUNDARY_GRID, crit, pi_crit, df_table, q_lower, q_upper, out, weights,
               converged, iterations)  # fmt: skip
    finally:
        numba.set_num_threads(threads)
    fields = dict(zip(FLOAT_FIELDS, out, strict=True))
    fields.update(weights=weights, converged=converged, iterations=iterations)
    fields["k"] = mask.sum(axis=1)
    return fields
