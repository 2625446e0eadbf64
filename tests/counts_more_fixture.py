"""The metafor reference of tests/reference/effects_counts_more.R, read once for the tests."""

from __future__ import annotations

import json
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.effect_sizes import effect_sizes

FIXTURE = Path(__file__).parent / "reference" / "fixtures" / "effects_counts_more.json"


@cache
def reference() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())


def numbers(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if value is None else value for value in values], dtype=float)


def table(name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """A data set of the fixture as a DataFrame, and srma's column roles for it."""
    data = reference()["data"][name]
    frame = pd.DataFrame(
        {
            column: numbers(v) if all(isinstance(x, (int, float)) or x is None for x in v) else v
            for column, v in data["input"].items()
        }
    )
    return frame, dict(data["columns"])


def cases(measures: set[str]) -> list[dict[str, Any]]:
    return [case for case in reference()["cases"] if case["measure"] in measures]


def case_id(case: dict[str, Any]) -> str:
    settings = ",".join(f"{key}={value}" for key, value in case["settings"].items())
    return f"{case['data']}-{case['measure']}" + (f"-{settings}" if settings else "")


def check_against_escalc(case: dict[str, Any]) -> None:
    """srma's yi and vi equal escalc's at relative 1e-10 where escalc's variance is > 0.

    Where escalc gives no effect, or a variance of 0 (srma needs vi > 0), srma's row
    is missing and a warning names it.
    """
    frame, columns = table(case["data"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = effect_sizes(frame, case["measure"], **case["settings"], **columns)
    yi, vi = numbers(case["yi"]), numbers(case["vi"])
    usable = np.isfinite(yi) & np.isfinite(vi) & (vi > 0)
    np.testing.assert_allclose(out["yi"].to_numpy()[usable], yi[usable], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out["vi"].to_numpy()[usable], vi[usable], rtol=1e-10, atol=1e-12)
    assert out["yi"].isna().to_numpy()[~usable].all()
    if (~usable).any():
        assert caught, "rows without an effect must be named in a warning"
