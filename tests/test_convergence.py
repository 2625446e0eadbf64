"""The iterative tau² estimators converge where metafor's Fisher scoring gives up.

tests/reference/convergence.R simulated k = 10 data sets until it had 25 on
which ``rma(method="REML")`` with metafor's default control stops with
"Fisher scoring algorithm did not converge"; the reference tau² there comes
from a damped Fisher scoring run and agrees with a direct maximisation of the
restricted likelihood.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma import meta, meta_batch

FIXTURE = load_fixture("convergence.json")


def test_fixture_holds_metafor_failures() -> None:
    assert len(FIXTURE["cases"]) == 25
    for case in FIXTURE["cases"]:
        assert "did not converge" in case["metafor_default_error"]


@pytest.mark.parametrize("index", range(25))
def test_reml_converges_to_the_reference(index: int) -> None:
    case = FIXTURE["cases"][index]
    result = meta(case["yi"], case["vi"], method="REML")
    assert result.converged
    np.testing.assert_allclose(result.tau2, case["tau2"], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(result.estimate, case["estimate"], rtol=1e-6)
    np.testing.assert_allclose(result.se, case["se"], rtol=1e-6)


@pytest.mark.parametrize("method", ["ML", "REML", "PM", "EB", "PMM"])
def test_every_iterative_estimator_converges_on_hard_batches(method: str) -> None:
    """Widely spread variances (the hard case for scoring) over 20,000 data sets."""
    rng = np.random.default_rng(7)
    variances = np.exp(rng.normal(-3.0, 2.5, size=(20_000, 10)))
    effects = rng.normal(0.0, np.sqrt(variances + 0.1 * rng.exponential(size=(20_000, 1))))
    result = meta_batch(effects, variances, method=method)
    assert result.converged.all()
    assert (result.tau2 >= 0).all()


def _estimating_equation(method: str, yi: np.ndarray, vi: np.ndarray, tau2: np.ndarray):
    """Left side of the estimating equation, written out independently of srma."""
    w = 1.0 / (vi + tau2[:, None])
    mu = (w * yi).sum(axis=1) / w.sum(axis=1)
    r = yi - mu[:, None]
    k = yi.shape[1]
    if method == "REML":
        return (w**2 * r**2).sum(axis=1) - (w.sum(axis=1) - (w**2).sum(axis=1) / w.sum(axis=1))
    if method == "ML":
        return (w**2 * r**2).sum(axis=1) - w.sum(axis=1)
    return (w * r**2).sum(axis=1) - (k - 1)  # PM and EB


@pytest.mark.parametrize("method", ["ML", "REML", "PM"])
def test_hard_batches_solve_the_estimating_equation(method: str) -> None:
    rng = np.random.default_rng(11)
    variances = np.exp(rng.normal(-3.0, 2.5, size=(5_000, 10)))
    effects = rng.normal(0.0, np.sqrt(variances + 0.1 * rng.exponential(size=(5_000, 1))))
    tau2 = meta_batch(effects, variances, method=method).tau2
    value = _estimating_equation(method, effects, variances, tau2)
    scale = _estimating_equation(method, effects, variances, np.zeros_like(tau2)) - value
    interior = tau2 > 0
    # At an interior root the equation is zero (relative to its range); at the
    # boundary it is not positive.
    assert np.all(np.abs(value[interior]) <= 1e-8 * (1.0 + np.abs(scale[interior])))
    assert np.all(value[~interior] <= 1e-10)
