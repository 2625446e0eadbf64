"""Conversions to a mean and SD, checked against printed worked examples, tables and identities.

metafor 3.8-1, the project's reference, has no ``conv.fivenum`` (it came in
metafor 4.0), so the checks are:

* Cochrane Handbook 6.4, section 6.5.2.2: the printed divisors for a CI of a
  mean (2 x 2.0639 = 4.128 for n = 25 with t; 3.92, 3.29 and 5.15 with z).
* Cochrane Handbook 5.1, section 16.4.6.4 (worked cross-over example): SDs
  2.38 and 2.21 with an imputed correlation of 0.68 give a standard error of
  0.583 for n = 10; an SD of differences of 2 gives 0.632.  The SD of a
  difference there is the formula of Handbook 6.4, section 6.5.2.8.
* Wan et al. (2014), Table 1: the exact expected range of n standard normals
  for n <= 50, which the Blom approximation used by Wan's eq. 9 and by
  metafor's conv.fivenum must match to within 1.5% (n >= 5).
* Luo et al. (2018) and Shi et al. (2020): the published weights, at sample
  sizes where they are simple fractions, symmetric data, and large samples.
* Identities on raw data (hypothesis): combining groups, the SD of changes,
  inverting a t interval.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import t

from srma.stats import conversions as c


def test_handbook_divisors_for_a_confidence_interval_of_a_mean() -> None:
    """Handbook 6.5.2.2: t divisor 4.128 for n = 25; z divisors 3.92, 3.29, 5.15."""
    width, n = 3.0, 25
    assert c.sd_from_ci(1.5, 4.5, n) == pytest.approx(np.sqrt(n) * width / 4.128, rel=1e-4)
    for level, divisor in ((0.95, 3.92), (0.90, 3.29), (0.99, 5.15)):
        sd = c.sd_from_ci(1.5, 4.5, n, level=level, distribution="z")
        assert sd == pytest.approx(np.sqrt(n) * width / divisor, rel=1e-3)


def test_handbook_crossover_example_sd_of_differences() -> None:
    """Handbook 5.1, 16.4.6.4: sqrt(2.38² + 2.21² - 2 x 0.68 x 2.38 x 2.21) / sqrt(10) = 0.583."""
    assert round(float(c.change_sd(2.38, 2.21, 0.68) / np.sqrt(10)), 3) == 0.583
    assert c.sd_from_se(0.632, 10) == pytest.approx(2.0, abs=0.002)  # 0.632 = 2 / sqrt(10)


WAN_TABLE_1 = {
    5: 2.326,
    10: 3.078,
    15: 3.472,
    20: 3.735,
    25: 3.931,
    30: 4.086,
    40: 4.322,
    50: 4.498,
}


@pytest.mark.parametrize(("n", "expected_range"), WAN_TABLE_1.items())
def test_range_estimator_against_wan_table_1(n: int, expected_range: float) -> None:
    """A normal sample with SD 1 whose range is its expected range (Wan Table 1) gives SD ~ 1."""
    tolerance = 0.015 if n < 10 else 0.005
    assert c.sd_from_range(0.0, expected_range, n) == pytest.approx(1.0, rel=tolerance)


def test_luo_weights_at_simple_sample_sizes() -> None:
    """Luo et al. 2018: n = 16 gives n^0.75 = 8, w = 4/12 (S1); n = 39 gives w = 0.71 (S3)."""
    assert c.mean_from_median_range(10.0, 0.0, 50.0, 16) == pytest.approx(25 / 3 + 20 / 3)
    assert c.mean_from_median_iqr(10.0, 5.0, 25.0, 39) == pytest.approx(0.71 * 15 + 0.29 * 10)
    w1, w2 = 2.2 / 10.2, 0.7 - 0.72 / 16**0.55
    expected = w1 * 25 + w2 * 15 + (1 - w1 - w2) * 10
    assert c.mean_from_five_numbers(0, 5, 10, 25, 50, 16) == pytest.approx(expected)


def test_shi_weight() -> None:
    """Shi et al. 2020, eq. 10: w = 1 / (1 + 0.07 n^0.6) between the range and IQR estimators."""
    n = 100
    weight = 1 / (1 + 0.07 * n**0.6)
    by_range, by_iqr = c.sd_from_range(0, 50, n), c.sd_from_iqr(20, 30, n)
    sd = c.sd_from_five_numbers(0, 20, 30, 50, n)
    assert sd == pytest.approx(weight * by_range + (1 - weight) * by_iqr)


def test_symmetric_summaries_give_the_median_as_mean() -> None:
    assert c.mean_from_five_numbers(0, 4, 5, 6, 10, 30) == pytest.approx(5.0)
    assert c.mean_from_median_iqr(5, 4, 6, 30) == pytest.approx(5.0)
    assert c.mean_from_median_range(5, 0, 10, 30) == pytest.approx(5.0)


def test_large_normal_samples_are_recovered() -> None:
    """On 20,000 draws from N(50, 10²) every estimator lands within 2% of the truth."""
    sample = np.random.default_rng(4).normal(50.0, 10.0, size=20_000)
    q0, q1, q2, q3, q4 = np.percentile(sample, [0, 25, 50, 75, 100])
    n = sample.size
    for mean in (
        c.mean_from_five_numbers(q0, q1, q2, q3, q4, n),
        c.mean_from_median_range(q2, q0, q4, n),
        c.mean_from_median_iqr(q2, q1, q3, n),
    ):
        assert mean == pytest.approx(50.0, rel=0.02)
    assert c.sd_from_iqr(q1, q3, n) == pytest.approx(10.0, rel=0.02)
    assert c.sd_from_five_numbers(q0, q1, q3, q4, n) == pytest.approx(10.0, rel=0.05)
    assert c.sd_from_range(q0, q4, n) == pytest.approx(10.0, rel=0.1)


def test_quantile_summaries_pick_the_scenario_each_study_reports() -> None:
    nan = np.nan
    n, median = [30, 30, 30, 30], [10, 10, 10, 10]
    mean, sd = c.mean_sd_from_quantiles(
        n,
        median,
        minimum=[0, 0, nan, nan],
        q1=[6, nan, 6, nan],
        q3=[16, nan, 16, 16],
        maximum=[30, 30, nan, nan],
    )
    np.testing.assert_allclose(
        mean[:3],
        [
            c.mean_from_five_numbers(0, 6, 10, 16, 30, 30),
            c.mean_from_median_range(10, 0, 30, 30),
            c.mean_from_median_iqr(10, 6, 16, 30),
        ],
    )
    np.testing.assert_allclose(
        sd[:3],
        [
            c.sd_from_five_numbers(0, 6, 16, 30, 30),
            c.sd_from_range(0, 30, 30),
            c.sd_from_iqr(6, 16, 30),
        ],
    )
    assert np.isnan(mean[3]) and np.isnan(sd[3])


def test_undefined_inputs_give_nan_without_numerical_warnings() -> None:
    """n < 2 and |r| > 1 give NaN (RuntimeWarnings are errors in this test suite)."""
    assert np.isnan(c.sd_from_range(0, 10, 1))
    assert np.isnan(c.sd_from_iqr(0, 10, 0))
    assert np.isnan(c.sd_from_five_numbers(0, 2, 8, 10, 1))
    assert np.isnan(c.mean_from_five_numbers(0, 2, 5, 8, 10, 1))
    assert np.isnan(c.sd_from_ci(1, 2, 1))
    assert np.isnan(c.change_sd(1.0, 1.0, 1.5))
    assert np.isnan(c.combine_groups(1, 1.0, np.nan, 0, 2.0, np.nan)[2])
    with pytest.raises(ValueError, match="distribution"):
        c.sd_from_ci(1, 2, 10, distribution="normal")


def test_conversions_broadcast() -> None:
    sd = c.sd_from_iqr(np.zeros((3, 1)), [[1.0], [2.0], [3.0]], [10, 20, 30, 40])
    assert sd.shape == (3, 4)
    mean, sd = c.mean_sd_from_quantiles([[20], [40]], 5.0, q1=4.0, q3=6.0)
    assert mean.shape == sd.shape == (2, 1)


samples = arrays(np.float64, st.integers(3, 40), elements=st.floats(-1e3, 1e3))


@settings(max_examples=200, deadline=None)
@given(first=samples, second=samples)
def test_combining_groups_equals_pooling_the_raw_data(first, second) -> None:
    n, mean, sd = c.combine_groups(
        first.size, first.mean(), first.std(ddof=1), second.size, second.mean(), second.std(ddof=1)
    )
    both = np.concatenate([first, second])
    assert n == both.size
    assert mean == pytest.approx(both.mean(), rel=1e-9, abs=1e-9)
    assert sd == pytest.approx(both.std(ddof=1), rel=1e-7, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(
    pairs=st.integers(3, 40).flatmap(
        lambda n: arrays(np.float64, (n, 2), elements=st.floats(-1e3, 1e3))
    )
)
def test_change_sd_equals_the_sd_of_differences(pairs) -> None:
    baseline, final = pairs[:, 0], pairs[:, 1]
    sd_b, sd_f = baseline.std(ddof=1), final.std(ddof=1)
    if sd_b < 1e-6 or sd_f < 1e-6:
        return  # correlation undefined
    r = np.clip(np.corrcoef(baseline, final)[0, 1], -1.0, 1.0)
    expected = (final - baseline).std(ddof=1)
    # compared as variances: sd_b² + sd_f² - 2 r sd_b sd_f cancels when r is near 1, so
    # its rounding error is of the order of eps (sd_b² + sd_f²), not of the result
    scale = sd_b**2 + sd_f**2
    assert c.change_sd(sd_b, sd_f, r) ** 2 == pytest.approx(expected**2, rel=1e-9, abs=1e-9 * scale)


@settings(max_examples=100, deadline=None)
@given(sample=samples)
def test_sd_from_ci_inverts_the_t_interval_of_a_mean(sample) -> None:
    sd = sample.std(ddof=1)
    half = t.isf(0.025, sample.size - 1) * sd / np.sqrt(sample.size)
    recovered = c.sd_from_ci(sample.mean() - half, sample.mean() + half, sample.size)
    assert recovered == pytest.approx(sd, rel=1e-9, abs=1e-9)
    assert c.sd_from_se(sd / np.sqrt(sample.size), sample.size) == pytest.approx(sd, abs=1e-9)


# Expected values computed with the R package meta 8.4-0 (functions mean_sd_iqr_range,
# mean_sd_iqr and mean_sd_range in R/mean-sd-internal.R, run from its source once; meta is
# not in Debian), for sample sizes where meta uses the published formulas, not Wan's tables.
def test_five_number_summary_matches_meta_luo_and_shi() -> None:
    args = ([2, 5, 10], [10, 14, 25], [15, 20, 33], [22, 27, 40], [40, 45, 70], [25, 100, 400])
    np.testing.assert_allclose(
        c.mean_from_five_numbers(*args),
        [16.5639290760820, 20.6466288133768, 32.8313843209114],
        rtol=1e-12,
    )
    minimum, q1, _, q3, maximum, n = args
    np.testing.assert_allclose(
        c.sd_from_five_numbers(minimum, q1, q3, maximum, n),
        [9.59502514141224, 8.93760496739237, 10.87578911716711],
        rtol=1e-12,
    )


def test_median_iqr_matches_meta_luo_and_wan() -> None:
    np.testing.assert_allclose(
        c.mean_from_median_iqr([15, 20], [10, 14], [22, 27], [250, 300]),
        [15.70156, 20.35065],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        c.sd_from_iqr([10, 14], [22, 27], [250, 300]),
        [8.94767462019775, 9.68388662886002],
        rtol=1e-12,
    )


def test_median_range_matches_meta_luo_and_wan() -> None:
    np.testing.assert_allclose(
        c.mean_from_median_range([15, 20], [2, 5], [40, 45], [60, 100]),
        [15.9390315487994, 20.5614385488147],
        rtol=1e-12,
    )
    np.testing.assert_allclose(
        c.sd_from_range([2, 5], [40, 45], [60, 100]),
        [8.21600595373048, 8.00451274909868],
        rtol=1e-12,
    )
