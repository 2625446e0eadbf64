"""Fail-safe N by Fisher's method (Becker 2005, ch. 7 of Rothstein, Sutton & Borenstein,
*Publication Bias in Meta-Analysis*): metafor 3.8-1's fsn() lacks it, so the
reference is a worked example with the arithmetic shown, and a direct scan."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2, norm

from srma import meta
from srma.analysis.bias import FailSafeN, fail_safe_n
from srma.errors import InputError
from srma.stats.bias import fail_safe_fisher


def _scan(statistic: float, k: int, alpha: float) -> int:
    """The smallest n with X² + 2n <= chi²_{2(k+n), 1-alpha}, by counting up."""
    n = 0
    while statistic + 2 * n > chi2.isf(alpha, 2 * (k + n)):
        n += 1
    return n


def test_worked_example() -> None:
    # three studies with z = 2.5, 1.5, 2.0 (y = 0.5, 0.3, 0.4; v = 0.04, se 0.2)
    y, v = np.array([0.5, 0.3, 0.4]), np.array([0.04, 0.04, 0.04])
    # one-sided p: 1 - Phi(z) = 0.0062097, 0.0668072, 0.0227501
    p = norm.sf([2.5, 1.5, 2.0])
    np.testing.assert_allclose(p, [0.0062097, 0.0668072, 0.0227501], atol=1e-7)
    # X² = -2 (ln 0.0062097 + ln 0.0668072 + ln 0.0227501) = -2 (-5.08165 - 2.70594 - 3.78318)
    statistic = -2 * sum(math.log(x) for x in p)
    assert statistic == pytest.approx(23.1416, abs=1e-4)
    # against chi²(6): p = 0.000750, significant at 0.05 (critical value 12.5916)
    assert chi2.sf(statistic, 6) == pytest.approx(0.000750, abs=1e-6)
    # n null studies add 2 each to X² and 2 df each: non-significant once
    # 23.1416 + 2n <= chi²_{6+2n, 0.95}
    # n = 20: 63.1416 > chi²_46 = 62.8296 (still significant)
    # n = 21: 65.1416 <= chi²_48 = 65.1708 (no longer): N = 21
    assert statistic + 2 * 20 > chi2.isf(0.05, 46)
    assert statistic + 2 * 21 <= chi2.isf(0.05, 48)
    assert _scan(statistic, 3, 0.05) == 21
    result = fail_safe_n(meta(y, v, method="EE"), type="Fisher")
    assert isinstance(result, FailSafeN) and result.type == "Fisher"
    assert result.n == 21
    assert result.pvalue == pytest.approx(chi2.sf(statistic, 6), rel=1e-12)
    assert result.alpha == 0.05 and result.to_dict()["n"] == 21


def test_critical_values_of_the_worked_example() -> None:
    """The numbers quoted in the worked example's comments."""
    assert chi2.isf(0.05, 6) == pytest.approx(12.5916, abs=1e-4)
    assert chi2.isf(0.05, 46) == pytest.approx(62.8296, abs=1e-4)
    assert chi2.isf(0.05, 48) == pytest.approx(65.1708, abs=1e-4)


def test_not_significant_needs_no_studies() -> None:
    y, v = np.array([0.05, -0.02, 0.01]), np.array([0.1, 0.1, 0.1])
    n, pvalue = fail_safe_fisher(y, v)
    assert n == 0 and pvalue > 0.05


def test_negative_effects_use_the_other_tail() -> None:
    y, v = np.array([0.5, 0.3, 0.4]), np.array([0.04, 0.04, 0.04])
    assert fail_safe_fisher(-y, v) == fail_safe_fisher(y, v)


@settings(max_examples=40, deadline=None)
@given(
    z=st.lists(st.floats(-4, 6, allow_nan=False), min_size=1, max_size=12),
    alpha=st.sampled_from([0.01, 0.05, 0.1]),
)
def test_bisection_equals_the_scan(z: list[float], alpha: float) -> None:
    y, v = np.array(z), np.ones(len(z))
    n, _ = fail_safe_fisher(y, v, alpha=alpha)
    direction = 1.0 if y.sum() >= 0 else -1.0
    statistic = float(-2 * norm.logsf(direction * y).sum())
    assert n == _scan(statistic, len(z), alpha)


def test_bad_input() -> None:
    fit = meta(np.array([0.5, 0.3, 0.4]), np.array([0.04, 0.04, 0.04]))
    with pytest.raises(InputError, match="alpha"):
        fail_safe_n(fit, type="Fisher", alpha=1.5)
    with pytest.raises(InputError, match="type"):
        fail_safe_n(fit, type="fisher")
