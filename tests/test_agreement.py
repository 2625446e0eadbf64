"""Agreement statistics: Cohen's kappa against R's psych, Fleiss' kappa against a worked example."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture
from srma import InputError
from srma.review.screen.kappa import cohen_kappa, fleiss_kappa

CASES = load_fixture("agreement.json")["cases"]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_cohen_kappa_matches_psych(case: dict) -> None:
    result = cohen_kappa(case["rater1"], case["rater2"])
    for field in ("kappa", "se", "ci_lower", "ci_upper"):
        assert getattr(result, field) == pytest.approx(case[field], rel=1e-9)
    assert result.observed_agreement == pytest.approx(case["observed"])


def test_pabak_and_a_hand_worked_table() -> None:
    # 20 both include, 5 and 10 disagreements, 65 both exclude: p_o = 0.85,
    # p_e = 0.25 * 0.30 + 0.75 * 0.70 = 0.60, kappa = 0.25 / 0.40 = 0.625, PABAK = 0.70
    first = ["in"] * 25 + ["out"] * 75
    second = ["in"] * 20 + ["out"] * 5 + ["in"] * 10 + ["out"] * 65
    result = cohen_kappa(first, second)
    assert result.observed_agreement == pytest.approx(0.85)
    assert result.expected_agreement == pytest.approx(0.60)
    assert result.kappa == pytest.approx(0.625)
    assert result.pabak == pytest.approx(0.70)
    assert result.table == ((20, 5), (10, 65))


def test_fleiss_kappa_worked_example() -> None:
    """Ten items, fourteen raters, five categories: kappa = 0.210 (P_bar = 0.378,
    P_e = 0.213), the worked example used to teach Fleiss (1971)."""
    counts = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    ratings = [[str(j + 1) for j, n in enumerate(row) for _ in range(n)] for row in counts]
    result = fleiss_kappa(ratings)
    assert result.observed_agreement == pytest.approx(0.378, abs=5e-4)
    assert result.expected_agreement == pytest.approx(0.213, abs=5e-4)
    assert result.kappa == pytest.approx(0.20993070442, rel=1e-9)


def test_bad_input() -> None:
    with pytest.raises(InputError, match="same items"):
        cohen_kappa(["a", "b"], ["a"])
    with pytest.raises(InputError, match="single category"):
        cohen_kappa(["a", "a"], ["a", "a"])
    with pytest.raises(InputError, match="item 2 has 2 ratings"):
        fleiss_kappa([["a", "b", "a"], ["a", "b"]])


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(
        st.tuples(st.sampled_from("IEM"), st.sampled_from("IEM")), min_size=2, max_size=60
    )
)
def test_kappa_properties(pairs) -> None:
    first, second = zip(*pairs, strict=True)
    try:
        result = cohen_kappa(first, second)
    except InputError:
        assert len(set(first) | set(second)) == 1
        return
    assert -1.0 <= result.kappa <= 1.0 + 1e-12
    assert result.ci_lower <= result.kappa <= result.ci_upper
    swapped = cohen_kappa(second, first)
    assert swapped.kappa == pytest.approx(result.kappa)
    if first == second:
        assert result.kappa == pytest.approx(1.0)
    assert np.isclose(sum(map(sum, result.table)), len(pairs))


def test_cohen_kappa_standard_error_of_fleiss_levin_paik() -> None:
    """The 2x2 example of statpsych's ``ci.kappa`` (Bonett), which follows Fleiss, Levin &
    Paik (2003), Statistical Methods for Rates and Proportions, 3rd ed., Wiley: cells
    f00 = 31, f01 = 12, f10 = 4, f11 = 58 give Cohen's kappa 0.6756757, SE 0.07344761,
    95% CI 0.5317210 to 0.8196303 (values printed in that documentation)."""
    first = [0] * 31 + [0] * 12 + [1] * 4 + [1] * 58
    second = [0] * 31 + [1] * 12 + [0] * 4 + [1] * 58
    result = cohen_kappa(first, second)
    assert result.kappa == pytest.approx(0.6756757, abs=5e-8)
    assert result.se == pytest.approx(0.07344761, abs=5e-9)
    assert result.ci_lower == pytest.approx(0.5317210, abs=5e-8)
    assert result.ci_upper == pytest.approx(0.8196303, abs=5e-8)
