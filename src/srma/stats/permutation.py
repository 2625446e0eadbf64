"""Sign-flip permutation tests of the pooled effect of intercept-only models.

Under the null hypothesis ``mu = 0`` of the model ``y_i = mu + u_i + e_i``
with effects symmetric about their mean, flipping the sign of any set of
effects leaves the distribution of the data unchanged, so the test statistic
refitted on the ``2^k`` sign-flipped data sets (or a random sample of them)
is its permutation distribution (Follmann & Proschan 1999, Biometrics 55:574;
metafor's ``permutest.rma.uni`` for a model without moderators).  Every
sign-flipped data set is one row of a batch pooled by :func:`srma.stats.pooling.pool`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from srma.stats.batch import FloatArray, as_batch
from srma.stats.pooling import pool

#: Sign-flipped data sets pooled at once (bounds the memory of one block).
FLIP_BLOCK = 65536

#: Two values within this distance count as equal (metafor's ``comptol``, the
#: square root of the machine epsilon), so that a statistic equal to the
#: observed one up to rounding counts as at least as extreme.
COMPARISON_TOLERANCE = float(np.sqrt(np.finfo(np.float64).eps))

ALTERNATIVES = ("two.sided", "less", "greater")


def all_sign_flips(k: int) -> FloatArray:
    """Every one of the ``2^k`` sign vectors, shaped ``(2^k, k)``.

    Row ``r`` flips study ``j`` where bit ``j`` of ``r`` is set: the first study
    alternates fastest, the order of R's ``expand.grid(c(1, -1), ...)``; row 0
    is the observed data.
    """
    rows = np.arange(2**k, dtype=np.int64)[:, None]
    bits = (rows >> np.arange(k, dtype=np.int64)[None, :]) & 1
    return 1.0 - 2.0 * bits


def random_sign_flips(k: int, iterations: int, rng: np.random.Generator) -> FloatArray:
    """``iterations`` random sign vectors (each sign +-1 with probability 1/2), the first
    replaced by the observed data (all +1), as metafor does."""
    signs = rng.choice(np.array([-1.0, 1.0]), size=(iterations, k))
    signs[0] = 1.0
    return signs


def sign_flip_statistics(
    y: FloatArray,
    v: FloatArray,
    signs: FloatArray,
    *,
    method: str,
    test: str,
    tau2: float | None = None,
) -> FloatArray:
    """The test statistic ``estimate / se`` of the model refitted on each sign-flipped
    data set (``signs`` shaped ``(n, k)``), in blocks of :data:`FLIP_BLOCK` rows.

    ``tau2`` fixes tau² in every refit, as the model being tested did.
    """
    n = signs.shape[0]
    out = np.empty(n)
    for start in range(0, n, FLIP_BLOCK):
        block = signs[start : start + FLIP_BLOCK]
        batch = as_batch(block * y[None, :], np.broadcast_to(v, block.shape))
        fixed = None if tau2 is None else np.full(block.shape[0], tau2)
        fit = pool(batch, method=method, test=test, tau2_interval=False, tau2=fixed)
        out[start : start + block.shape[0]] = fit.statistic
    return out


def permutation_pvalue(
    statistics: FloatArray, observed: float, alternative: str = "two.sided"
) -> float:
    """The share of permuted statistics at least as extreme as ``observed`` (NaN ignored).

    ``two.sided``: ``mean(|z*| >= |z| - tol)``; ``less``: ``mean(z* <= z + tol)``;
    ``greater``: ``mean(z* >= z - tol)``, with tol :data:`COMPARISON_TOLERANCE`
    (metafor's default ``p2defn = "abs"``).
    """
    kept: NDArray[np.float64] = statistics[np.isfinite(statistics)]
    if alternative == "two.sided":
        extreme = np.abs(kept) >= abs(observed) - COMPARISON_TOLERANCE
    elif alternative == "less":
        extreme = kept <= observed + COMPARISON_TOLERANCE
    elif alternative == "greater":
        extreme = kept >= observed - COMPARISON_TOLERANCE
    else:
        raise ValueError(f"unknown alternative {alternative!r}")
    return float(extreme.mean()) if kept.size else float("nan")
