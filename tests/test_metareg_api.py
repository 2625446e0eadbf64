"""srma.meta_regression on a table: metafor's numbers (tests/reference/metareg.R), R² included."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma import InputError, SrmaWarning, meta_regression

CASES = load_fixture("metareg.json")["cases"]


def _case(model: str, method: str, test: str) -> dict:
    return next(
        c for c in CASES if c["model"] == model and c["method"] == method and c["test"] == test
    )


def _bcg_frame(case: dict) -> pd.DataFrame:
    X = np.array(_case("bcg_ablat_year", "DL", "z")["X"])
    alloc_X = np.array(_case("bcg_alloc", "DL", "z")["X"])
    alloc = np.where(
        alloc_X[:, 1] == 1, "random", np.where(alloc_X[:, 2] == 1, "systematic", "alternate")
    )
    return pd.DataFrame(
        {"yi": case["yi"], "vi": case["vi"], "ablat": X[:, 1], "year": X[:, 2], "alloc": alloc}
    )


@pytest.mark.parametrize("method", ["EE", "DL", "REML", "PM", "ML"])
@pytest.mark.parametrize("test", ["z", "knha"])
@pytest.mark.parametrize(
    ("model", "formula"),
    [
        ("bcg_ablat_year", "~ ablat + year"),
        ("bcg_alloc", "~ factor(alloc)"),
        ("bcg_ablat", ["ablat"]),
    ],
)
def test_meta_regression_matches_metafor(model: str, formula, method: str, test: str) -> None:
    case = _case(model, method, test)
    result = meta_regression(_bcg_frame(case), formula, method=method, test=test)
    reference = case["result"]
    np.testing.assert_allclose(result.estimate, reference["beta"], rtol=1e-6)
    np.testing.assert_allclose(result.se, reference["se"], rtol=1e-6)
    np.testing.assert_allclose(result.pvalue, reference["pvalue"], rtol=1e-6)
    np.testing.assert_allclose(result.qm, reference["qm"], rtol=1e-6)
    np.testing.assert_allclose(result.qm_pvalue, reference["qm_pvalue"], rtol=1e-6)
    np.testing.assert_allclose(result.qe, reference["qe"], rtol=1e-6)
    np.testing.assert_allclose(result.r2, reference["r2"], rtol=1e-6, atol=1e-8)
    if method != "EE":
        np.testing.assert_allclose(result.tau2, reference["tau2"], rtol=1e-6, atol=1e-10)
    fitted = result.predict({"ablat": np.array(result.X)[:, 1]}) if model == "bcg_ablat" else None
    if fitted is not None:
        np.testing.assert_allclose(fitted["prediction"], reference["fitted"], rtol=1e-6)


def test_categorical_terms_name_their_levels_and_text_columns_are_categorical() -> None:
    case = _case("bcg_alloc", "REML", "z")
    result = meta_regression(_bcg_frame(case), "alloc")
    assert result.names == ("intercept", "alloc[random]", "alloc[systematic]")
    np.testing.assert_allclose(result.estimate, case["result"]["beta"], rtol=1e-6)


def test_bubble_data_and_permutations() -> None:
    case = _case("bcg_ablat", "REML", "z")
    result = meta_regression(_bcg_frame(case), "~ ablat", permutations=200, seed=4)
    bubble = result.bubble_data("ablat", points=11)
    assert len(bubble["line"]) == 11 and len(bubble["studies"]) == 13
    assert (bubble["line"]["pi_lower"] <= bubble["line"]["ci_lower"]).all()
    assert result.permutation["iterations"] == 200 and not result.permutation["exact"]
    assert 0 < result.permutation["qm_pvalue"] <= 1
    assert "permutation_pvalue" in result.coefficients()
    assert result.to_dict()["coefficients"][1]["term"] == "ablat"


def test_bad_moderators() -> None:
    frame = _bcg_frame(_case("bcg_ablat", "REML", "z"))
    with pytest.raises(InputError, match="'dose' not found"):
        meta_regression(frame, "~ dose")
    with pytest.raises(InputError, match="main effects"):
        meta_regression(frame, "~ ablat:year")
    frame["copy"] = frame["ablat"] * 2
    with pytest.raises(InputError, match="collinear"):
        meta_regression(frame, "~ ablat + copy")
    frame.loc[2, "year"] = None
    with pytest.warns(SrmaWarning, match="missing moderator"):
        result = meta_regression(frame, "~ year")
    assert result.k == 12 and len(result.omitted) == 1
    with pytest.warns(SrmaWarning, match="little power"):
        meta_regression(frame.iloc[:8], "~ ablat")
