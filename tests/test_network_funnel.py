"""Comparison-adjusted funnel numbers (srma.stats.network.funnel) checked by hand on a
small network: three treatments, four two-arm studies and one three-arm study whose
pairs are consistent (A-B + B-C = A-C), fitted under the common-effect model, so the
direct estimates are plain inverse-variance means of the studies' pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from srma import network_meta
from srma.stats.network.funnel import adjusted_egger, comparison_adjusted, study_pairs

#: study, treatment, treatment2, treatment - treatment2, its SE; s5's pair variances are
#: arm variances 0.05 (A), 0.06 (B), 0.07 (C) added pairwise
ROWS = [
    ("s1", "A", "B", 0.5, 0.2),
    ("s2", "A", "B", 0.3, 0.3),
    ("s3", "A", "C", 1.0, 0.25),
    ("s4", "B", "C", 0.2, 0.4),
    ("s5", "A", "B", 0.4, np.sqrt(0.11)),
    ("s5", "A", "C", 0.9, np.sqrt(0.12)),
    ("s5", "B", "C", 0.5, np.sqrt(0.13)),
]


@pytest.fixture(scope="module")
def network():
    frame = pd.DataFrame(ROWS, columns=["study", "treatment", "treatment2", "yi", "sei"])
    return network_meta(frame, treatment2="treatment2", measure="GEN", method="EE")


def _inverse_variance(effects: list[float], variances: list[float]) -> float:
    w = 1 / np.array(variances)
    return float(np.sum(w * np.array(effects)) / np.sum(w))


def test_every_pair_of_every_study_with_its_own_sampling_variance(network) -> None:
    pairs = study_pairs(network.contrasts)
    names = network.treatments
    got = {
        (network.contrasts.studies[s], names[a], names[b]): (e, v)
        for s, a, b, e, v in zip(pairs.study, pairs.treat1, pairs.treat2, pairs.effect,
                                 pairs.variance, strict=True)
    }  # fmt: skip
    expected = {(s, a, b): (y, se**2) for s, a, b, y, se in ROWS}
    assert got.keys() == expected.keys()
    for key, (effect, variance) in expected.items():
        assert got[key] == pytest.approx((effect, variance), rel=1e-12)


def test_adjusted_effects_by_hand_in_a_chosen_order(network) -> None:
    order = [network.treatments.index(t) for t in ("C", "A", "B")]
    points = comparison_adjusted(network.contrasts, network.total_covariance, np.array(order))
    mu_ab = _inverse_variance([0.5, 0.3, 0.4], [0.04, 0.09, 0.11])
    mu_ca = -_inverse_variance([1.0, 0.9], [0.0625, 0.12])
    mu_cb = -_inverse_variance([0.2, 0.5], [0.16, 0.13])
    # comparisons oriented first-in-order minus later: C-A, C-B, A-B; then by study
    expected = [
        ("s3", "C", "A", -1.0, 0.25, mu_ca),
        ("s5", "C", "A", -0.9, np.sqrt(0.12), mu_ca),
        ("s4", "C", "B", -0.2, 0.4, mu_cb),
        ("s5", "C", "B", -0.5, np.sqrt(0.13), mu_cb),
        ("s1", "A", "B", 0.5, 0.2, mu_ab),
        ("s2", "A", "B", 0.3, 0.3, mu_ab),
        ("s5", "A", "B", 0.4, np.sqrt(0.11), mu_ab),
    ]
    names = network.treatments
    assert [network.contrasts.studies[s] for s in points.study] == [row[0] for row in expected]
    assert [names[t] for t in points.treat1] == [row[1] for row in expected]
    assert [names[t] for t in points.treat2] == [row[2] for row in expected]
    np.testing.assert_allclose(points.effect, [row[3] for row in expected], rtol=1e-12)
    np.testing.assert_allclose(points.se, [row[4] for row in expected], rtol=1e-12)
    np.testing.assert_allclose(points.centre, [row[5] for row in expected], rtol=1e-12)
    np.testing.assert_allclose(points.adjusted, points.effect - points.centre, rtol=1e-12)
    # the adjusted effects of one comparison have weighted mean 0 (they centre on mu_XY)
    for first, second in (("C", "A"), ("C", "B"), ("A", "B")):
        rows = [i for i, row in enumerate(expected) if row[1:3] == (first, second)]
        w = 1 / points.se[rows] ** 2
        assert np.sum(w * points.adjusted[rows]) == pytest.approx(0.0, abs=1e-12)


def test_reversing_the_order_mirrors_the_points(network) -> None:
    order = np.arange(len(network.treatments))
    forward = comparison_adjusted(network.contrasts, network.total_covariance, order)
    backward = comparison_adjusted(network.contrasts, network.total_covariance, order[::-1])
    assert sorted(forward.adjusted) == pytest.approx(sorted(-backward.adjusted), rel=1e-12)


def test_random_effects_centre_pools_at_the_studies_variance_plus_tau2() -> None:
    frame = pd.DataFrame(ROWS, columns=["study", "treatment", "treatment2", "yi", "sei"])
    frame.loc[0, "yi"] = 1.5  # heterogeneity, so that tau² > 0
    result = network_meta(frame, treatment2="treatment2", measure="GEN", method="DL")
    assert result.tau2 > 0
    points = comparison_adjusted(result.contrasts, result.total_covariance, np.arange(3))
    ab = [i for i, (a, b) in enumerate(zip(points.treat1, points.treat2, strict=True))
          if (a, b) == (0, 1)]  # fmt: skip
    mu = _inverse_variance([1.5, 0.3, 0.4], list(np.array([0.04, 0.09, 0.11]) + result.tau2))
    np.testing.assert_allclose(points.centre[ab], mu, rtol=1e-10)
    np.testing.assert_allclose(points.se[ab] ** 2, [0.04, 0.09, 0.11], rtol=1e-12)


def test_egger_on_the_adjusted_effects_is_the_classic_regression(network) -> None:
    points = comparison_adjusted(network.contrasts, network.total_covariance, np.arange(3))
    test = adjusted_egger(points)
    # Egger et al. 1997: ordinary least squares of adjusted/se on 1/se; the intercept
    # is the bias coefficient, tested with t on k - 2 df
    z, precision = points.adjusted / points.se, 1 / points.se
    X = np.column_stack([np.ones_like(precision), precision])
    coefficients, residual, *_ = np.linalg.lstsq(X, z, rcond=None)
    k = len(z)
    sigma2 = residual[0] / (k - 2)
    se_intercept = np.sqrt(sigma2 * np.linalg.inv(X.T @ X)[0, 0])
    from scipy.stats import t

    assert test.coefficient[0] == pytest.approx(coefficients[0], rel=1e-10)
    assert test.statistic[0] == pytest.approx(coefficients[0] / se_intercept, rel=1e-10)
    assert test.pvalue[0] == pytest.approx(
        2 * t.sf(abs(coefficients[0] / se_intercept), k - 2), rel=1e-10
    )


def test_an_order_that_is_not_a_permutation_is_refused(network) -> None:
    with pytest.raises(ValueError, match="every treatment index exactly once"):
        comparison_adjusted(network.contrasts, network.total_covariance, np.array([0, 0, 1]))
