"""Sign-flip permutation test of the pooled effect of :func:`srma.meta` (metafor's
``permutest.rma.uni`` for a model without moderators).

The permutation test of a meta-regression's coefficients is
``meta_regression(..., permutations=)``; this module tests the intercept-only
model, whose permutations are sign flips (:mod:`srma.stats.permutation`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from srma.analysis.results import MetaResult, refuse_user_weights
from srma.analysis.validation import validate_options
from srma.errors import InputError
from srma.stats.permutation import (
    ALTERNATIVES,
    all_sign_flips,
    permutation_pvalue,
    random_sign_flips,
    sign_flip_statistics,
)
from srma.vocabulary import COUNT_METHODS

__all__ = ["MOST_EXACT_STUDIES", "SignFlipTest", "permutation_test"]

#: The most studies an exact test enumerates (2^20 = 1,048,576 refits).
MOST_EXACT_STUDIES = 20


@dataclass(frozen=True)
class SignFlipTest:
    """A sign-flip permutation test of the pooled effect.

    ``statistic`` is the observed ``estimate / se``; ``pvalue`` the share of
    the ``iterations`` sign-flipped refits with a statistic at least as
    extreme (the observed data among them); ``exact`` says every one of the
    ``2^k`` sign flips was refitted, otherwise ``seed`` drew them.
    """

    method: str
    test: str
    k: int
    statistic: float
    pvalue: float
    exact: bool
    iterations: int
    alternative: str
    seed: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        kind = "exact" if self.exact else f"{self.iterations} random sign flips"
        return (
            f"Permutation test ({kind}; {self.method}, {self.test}): statistic = "
            f"{self.statistic:.4f}, {self.alternative} p = {self.pvalue:.4f}"
        )


def permutation_test(
    result: MetaResult,
    iterations: int = 1000,
    *,
    exact: bool | None = None,
    seed: int | None = None,
    alternative: str = "two.sided",
) -> SignFlipTest:
    """Sign-flip permutation test of the pooled effect of an inverse-variance ``result``.

    Refits the result's model (its method and test; tau² re-estimated on each
    flipped data set, as metafor does for an estimated tau²) on sign-flipped
    effects.  A result of ``meta(tau2=)`` does not record that tau² was fixed,
    so its tau² is re-estimated too.  Exact, with all ``2^k`` flips, when ``exact=True``
    or (the default, metafor's rule) when ``2^k <= iterations``; otherwise
    ``iterations`` random flips drawn with ``seed``, the first being the
    observed data.  p-values as :func:`srma.stats.permutation.permutation_pvalue`.
    """
    validate_options("permutation_test", permutations=iterations, seed=seed)
    if not isinstance(result, MetaResult):
        raise InputError(
            f"permutation_test() needs a result of meta(), got {result.__class__.__name__} "
            "(a meta-regression's permutation test is meta_regression(..., permutations=))"
        )
    if result.method in COUNT_METHODS:
        raise InputError(
            f"permutation_test() refits an inverse-variance model; this result is pooled "
            f"by {result.method}"
        )
    refuse_user_weights(result, "permutation_test()")
    if exact not in (None, True, False):
        raise InputError(f"permutation_test(): exact must be True, False or None, got {exact!r}")
    if alternative not in ALTERNATIVES:
        raise InputError(
            f"permutation_test(): unknown alternative {alternative!r}; expected one of "
            f"{', '.join(ALTERNATIVES)}"
        )
    k = len(result.yi)
    if k < 2 or result.statistic is None:
        raise InputError(f"a permutation test needs at least 2 studies, got k = {k}")
    enumerate_all = exact if exact is not None else 2**k <= iterations
    if enumerate_all and k > MOST_EXACT_STUDIES:
        raise InputError(
            f"an exact test of k = {k} studies would refit 2^{k} data sets; at most "
            f"{MOST_EXACT_STUDIES} studies (use exact=False)"
        )
    y, v = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    if enumerate_all:
        signs = all_sign_flips(k)
    else:
        signs = random_sign_flips(k, iterations, np.random.default_rng(seed))
    statistics = sign_flip_statistics(y, v, signs, method=result.method, test=result.test)
    return SignFlipTest(
        method=result.method,
        test=result.test,
        k=k,
        statistic=float(result.statistic),
        pvalue=permutation_pvalue(statistics, float(result.statistic), alternative),
        exact=bool(enumerate_all),
        iterations=int(signs.shape[0]),
        alternative=alternative,
        seed=None if enumerate_all else seed,
    )
