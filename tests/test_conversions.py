"""Conversions to a mean and SD: checked against R's meta and against exact identities.

Median/IQR/range estimators: the expected values below were computed with the
R package meta 8.4-0 (functions mean_sd_iqr_range, mean_sd_iqr and
mean_sd_range in R/mean-sd-internal.R, Luo et al. 2018 means, Shi et al. 2020
and Wan et al. 2014 SDs), for sample sizes where meta uses the published
formulas rather than Wan's small-sample tables.  The other conversions are
identities (Cochrane Handbook 6.5.2), checked on raw data.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from srma.stats import conversions as c


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


def test_symmetric_summaries_give_the_median_as_mean() -> None:
    assert c.mean_from_five_numbers(0, 4, 5, 6, 10, 30) == pytest.approx(5.0)
    assert c.mean_from_median_iqr(5, 4, 6, 30) == pytest.approx(5.0)
    assert c.mean_from_median_range(5, 0, 10, 30) == pytest.approx(5.0)


def test_large_normal_samples_are_recovered() -> None:
    """On 20,000 draws from N(50, 10²) the estimators land within 2% of the truth."""
    sample = np.random.default_rng(4).normal(50.0, 10.0, size=20_000)
    q0, q1, q2, q3, q4 = np.percentile(sample, [0, 25, 50, 75, 100])
    n = sample.size
    assert c.mean_from_five_numbers(q0, q1, q2, q3, q4, n) == pytest.approx(50.0, rel=0.02)
    assert c.sd_from_iqr(q1, q3, n) == pytest.approx(10.0, rel=0.02)
    assert c.sd_from_five_numbers(q0, q1, q3, q4, n) == pytest.approx(10.0, rel=0.05)


def test_sd_from_ci_uses_t_for_small_samples() -> None:
    # n = 25: t(0.975, 24) = 2.063898562; a CI of 1.5 to 4.5 gives 5 x 3 / 4.127797
    assert c.sd_from_ci(1.5, 4.5, 25) == pytest.approx(5 * 3 / (2 * 2.063898562), rel=1e-9)
    assert c.sd_from_ci(1.5, 4.5, 25, distribution="z") == pytest.approx(15 / 3.919927969)
    assert c.sd_from_se(0.5, 100) == pytest.approx(5.0)


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
    r = np.corrcoef(baseline, final)[0, 1]
    expected = (final - baseline).std(ddof=1)
    assert c.change_sd(sd_b, sd_f, r) == pytest.approx(expected, rel=1e-6, abs=1e-6)


@settings(max_examples=100, deadline=None)
@given(sample=samples)
def test_sd_from_ci_inverts_the_t_interval_of_a_mean(sample) -> None:
    from scipy.stats import t

    sd = sample.std(ddof=1)
    half = t.isf(0.025, sample.size - 1) * sd / np.sqrt(sample.size)
    recovered = c.sd_from_ci(sample.mean() - half, sample.mean() + half, sample.size)
    assert recovered == pytest.approx(sd, rel=1e-9, abs=1e-9)
