"""The one number and p-value formatter (srma.formatting)."""

from __future__ import annotations

import math

import pytest

from srma.formatting import (
    format_ci,
    format_count,
    format_estimate_ci,
    format_number,
    format_p,
    format_p_value,
)


@pytest.mark.parametrize(
    ("p", "text"),
    [
        (0.04567, "p = 0.0457"),
        (1e-12, "p < 0.0001"),
        (0.0, "p < 0.0001"),
        (0.0001, "p = 0.0001"),
        (1.0, "p = 1.0000"),
        (None, "p = NA"),
        (math.nan, "p = NA"),
    ],
)
def test_format_p(p: float | None, text: str) -> None:
    assert format_p(p) == text


def test_numbers_intervals_and_counts() -> None:
    assert format_number(1.23456) == "1.23"
    assert format_number(1.23456, 4) == "1.2346"
    assert format_number(-0.001) == "0.00"
    assert format_number(None) == "NA"
    assert format_ci(0.1234, 0.5678) == "0.12 to 0.57"
    assert format_ci(0.1234, 0.5678, 3, style="brackets") == "[0.123, 0.568]"
    assert format_estimate_ci(1.0, 0.5, 1.5) == "1.00 [0.50, 1.50]"
    assert format_count(5.0) == "5"
    assert format_count(12) == "12"
    assert format_count(3.5) == "3.50"
    assert format_p_value(2e-7) == "< 0.0001"
    with pytest.raises(ValueError, match="style"):
        format_ci(1, 2, style="round")


def test_old_home_of_format_p_still_works() -> None:
    from srma.analysis.results import format_p as old

    assert old is format_p


def test_summaries_fit_100_columns_and_print_k_and_df_as_integers() -> None:
    import warnings

    from srma import meta, meta_regression, small_study_tests, subgroup_analysis
    from srma.datasets import load

    bcg = load("bcg")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = meta(bcg, measure="RR", method="REML", test="knha")
        texts = [
            result.summary(),
            small_study_tests(result).summary(),
            meta_regression(bcg, ["ablat", "year"], measure="RR").summary(),
            subgroup_analysis(bcg, "alloc", measure="RR").summary(),
        ]
    for text in texts:
        assert max(len(line) for line in text.splitlines()) <= 100, text
    assert "k = 13" in texts[0] and "df = 12," in texts[0] and "t(12)" in texts[0]
    assert "k = 13.0" not in "".join(texts) and "df = 12.0" not in texts[0]
    assert "QM(2) = " in texts[2] and "QE(10) = " in texts[2]
    assert "Test for subgroup differences: Chi² = " in texts[3] and ", p = " in texts[3]
