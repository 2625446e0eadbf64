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
