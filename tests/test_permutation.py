"""Sign-flip permutation test of the pooled effect (metafor's permutest.rma.uni, no mods).

Exact mode agrees with metafor 3.8-1 (permutest(exact = TRUE)) exactly, on
fixtures from tests/reference/univariate_more.R ("permutation": dat.bcg[1:8],
dat.normand1999[1:9], dat.lee2004[1:10]; EE, DL, REML; z and knha).  The
random mode cannot reproduce R's random numbers: it is checked for
reproducibility by seed, for agreement with the exact p-value, and for the
validity of the test under the null.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture
from srma import meta
from srma.analysis.permutation import SignFlipTest, permutation_test
from srma.errors import InputError
from srma.stats.permutation import all_sign_flips, permutation_pvalue

CASES = load_fixture("univariate_more.json")["permutation"]


def _fit(case: dict) -> object:
    if case["method"] == "EE" and case["test"] == "knha":
        with pytest.warns(UserWarning, match="not meant"):
            return meta(np.array(case["yi"]), np.array(case["vi"]), method="EE", test="knha")
    return meta(np.array(case["yi"]), np.array(case["vi"]), method=case["method"],
                test=case["test"])  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}")
def test_exact_test_matches_metafor(case: dict) -> None:
    result = permutation_test(_fit(case), exact=True)
    assert isinstance(result, SignFlipTest) and result.exact
    assert result.iterations == 2 ** len(case["yi"])
    np.testing.assert_allclose(result.statistic, case["statistic"], rtol=1e-6)
    # a count over 2^k refits: the same count, so the same p-value to rounding
    assert result.pvalue * result.iterations == pytest.approx(
        case["pvalue"] * result.iterations, abs=1e-6
    )


def test_sign_flips_in_r_order() -> None:
    signs = all_sign_flips(3)
    assert signs.shape == (8, 3)
    np.testing.assert_array_equal(signs[0], [1, 1, 1])
    np.testing.assert_array_equal(signs[1], [-1, 1, 1])  # the first study alternates fastest
    np.testing.assert_array_equal(signs[-1], [-1, -1, -1])
    assert len({tuple(row) for row in signs}) == 8


def test_exact_by_default_when_all_flips_fit_in_iterations() -> None:
    case = CASES[0]
    fit = _fit(case)
    assert permutation_test(fit).exact  # 2^8 = 256 <= 1000
    assert not permutation_test(fit, iterations=100, seed=1).exact


def test_random_mode_is_reproducible_and_close_to_exact() -> None:
    case = next(c for c in CASES if c["dataset"] == "lee10" and c["method"] == "REML")
    fit = _fit(case)
    first = permutation_test(fit, iterations=4000, seed=11, exact=False)
    again = permutation_test(fit, iterations=4000, seed=11, exact=False)
    assert first == again and first.seed == 11 and not first.exact
    exact = permutation_test(fit, exact=True)
    # binomial standard error of a Monte Carlo p-value from 4000 flips: <= 0.008
    assert abs(first.pvalue - exact.pvalue) < 4 * np.sqrt(0.25 / 4000)
    assert first.to_dict()["iterations"] == 4000
    assert "random sign flips" in first.summary()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_exact_pvalue_is_at_least_its_atom(seed: int) -> None:
    """Under any data the exact p-value is a multiple of 2^-k and at least 2 / 2^k
    (the observed data and its mirror image are as extreme as themselves)."""
    rng = np.random.default_rng(seed)
    k = 6
    y, v = rng.normal(0.0, 1.0, k), rng.uniform(0.05, 0.5, k)
    result = permutation_test(meta(y, v, method="DL"), exact=True)
    count = result.pvalue * 2**k
    assert count == pytest.approx(round(count), abs=1e-9)
    assert result.pvalue >= 2 / 2**k


def test_random_mode_holds_its_level_under_the_null() -> None:
    """Data simulated with mu = 0: the test rejects at 5% about 5% of the time."""
    rng = np.random.default_rng(2024)
    rejections = 0
    trials = 200
    for trial in range(trials):
        v = rng.uniform(0.02, 0.3, 12)
        y = rng.normal(0.0, np.sqrt(v + 0.05))
        test = permutation_test(meta(y, v, method="DL"), iterations=200, seed=trial)
        rejections += test.pvalue <= 0.05
    # binomial(200, 0.05): mean 10, sd 3.1
    assert rejections <= 22


def test_alternatives() -> None:
    statistics = np.array([2.0, -1.0, 0.5, np.nan, 3.0])
    assert permutation_pvalue(statistics, 2.0) == 0.5
    assert permutation_pvalue(statistics, 2.0, "greater") == 0.5
    assert permutation_pvalue(statistics, 2.0, "less") == 0.75
    case = CASES[0]
    one_sided = permutation_test(_fit(case), alternative="less")
    assert one_sided.alternative == "less" and 0 < one_sided.pvalue <= 1


def test_bad_input() -> None:
    y, v = np.array([0.1, 0.4, 0.2]), np.array([0.1, 0.1, 0.2])
    fit = meta(y, v)
    with pytest.raises(InputError, match="permutations"):
        permutation_test(fit, iterations=0)
    with pytest.raises(InputError, match="seed"):
        permutation_test(fit, seed=-1)
    with pytest.raises(InputError, match="exact must be"):
        permutation_test(fit, exact="yes")
    with pytest.raises(InputError, match="unknown alternative"):
        permutation_test(fit, alternative="both")
    with pytest.raises(InputError, match="needs a result of meta"):
        permutation_test("not a result")
    with pytest.warns(UserWarning, match="k = 1"):
        single = meta(y[:1], v[:1])
    with pytest.raises(InputError, match="at least 2 studies"):
        permutation_test(single)
    many = meta(np.linspace(-1, 1, 21), np.full(21, 0.1))
    with pytest.raises(InputError, match="at most 20 studies"):
        permutation_test(many, exact=True)
    counts = {"events1": [5, 3, 8], "total1": [50, 40, 60], "events2": [9, 6, 10],
              "total2": [50, 40, 60]}  # fmt: skip
    with pytest.raises(InputError, match="inverse-variance"):
        permutation_test(meta(pd.DataFrame(counts), measure="OR", method="MH"))
