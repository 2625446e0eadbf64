"""Influence diagnostics of meta-regressions agree with metafor 3.8-1's influence.rma.uni.

Fixtures: tests/reference/fixtures/univariate_more.json ("influence") from
tests/reference/univariate_more.R: dat.bcg (log RR) with ``~ ablat`` and
``~ ablat + year``, EE, DL and REML, z and knha; relative 1e-6.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma.analysis.metareg import meta_regression
from srma.analysis.metareg_influence import MetaRegressionInfluence, metareg_influence
from srma.analysis.sensitivity import influence_diagnostics
from srma.errors import InputError

FIXTURE = load_fixture("univariate_more.json")
FIELDS = ("rstudent", "dffits", "cooks_distance", "covariance_ratio", "tau2_deleted",
          "q_deleted", "hat", "weight")  # fmt: skip


def _bcg() -> pd.DataFrame:
    data = FIXTURE["datasets"]["bcg"]
    return pd.DataFrame({"study": [f"trial {i + 1}" for i in range(13)], "yi": data["yi"],
                         "vi": data["vi"], "ablat": FIXTURE["bcg_ablat"],
                         "year": FIXTURE["bcg_year"]})  # fmt: skip


@pytest.mark.parametrize(
    "case", FIXTURE["influence"], ids=lambda c: f"{c['moderators']}-{c['method']}-{c['test']}"
)
def test_matches_metafor(case: dict) -> None:
    fit = meta_regression(_bcg(), f"~ {case['moderators']}", method=case["method"],
                          test=case["test"])  # fmt: skip
    result = influence_diagnostics(fit)
    assert isinstance(result, MetaRegressionInfluence)
    for name in FIELDS:
        np.testing.assert_allclose(
            np.array(getattr(result, name), dtype=float), case[name], rtol=1e-6, atol=1e-9,
            err_msg=name,
        )  # fmt: skip
    np.testing.assert_allclose(
        np.array(result.dfbetas, dtype=float), np.array(case["dfbetas"]), rtol=1e-6, atol=1e-9
    )
    assert list(result.influential) == case["influential"]
    frame = result.to_frame()
    assert list(frame["study"]) == list(_bcg()["study"])
    assert [c for c in frame.columns if c.startswith("dfbetas_")] == [
        f"dfbetas_{name}" for name in fit.names
    ]
    assert len(result.to_records()) == 13


def test_hat_values_sum_to_the_number_of_coefficients() -> None:
    """tr H = tr(X (X'WX)^-1 X'W) = p: 2 for ``~ ablat``, 3 for ``~ ablat + year``."""
    data = _bcg()
    for moderators, p in (("~ ablat", 2), ("~ ablat + year", 3)):
        result = metareg_influence(meta_regression(data, moderators, method="REML"))
        assert sum(result.hat) == pytest.approx(p, rel=1e-10)
        assert sum(result.weight) == pytest.approx(100.0, rel=1e-10)


def test_a_study_whose_removal_breaks_the_design_gets_none() -> None:
    data = _bcg()
    data["group"] = ["a"] * 6 + ["b"] * 6 + ["c"]  # one study alone in category c
    fit = meta_regression(data, "~ factor(group)", method="DL")
    result = metareg_influence(fit)
    assert result.cooks_distance[12] is None and result.dfbetas[12][0] is None
    assert all(value is not None for value in result.cooks_distance[:12])


def test_bad_input() -> None:
    data = _bcg()
    with pytest.raises(InputError, match="needs a result of meta_regression"):
        metareg_influence("fit")
    with pytest.warns(UserWarning, match="only 4 studies"):
        small = meta_regression(data.iloc[:4], "~ ablat + year", method="DL")
    with pytest.raises(InputError, match="at least 5 studies"):
        influence_diagnostics(small)


@pytest.mark.parametrize("method", ["EE", "DL", "REML"])
@pytest.mark.parametrize("test", ["z", "knha", "adhoc"])
def test_blocks_of_one_row_give_the_same_numbers(method: str, test: str) -> None:
    from srma.stats.influence import regression_influence

    data = _bcg()
    y, v = data["yi"].to_numpy(), data["vi"].to_numpy()
    X = np.column_stack([np.ones(13), data["ablat"], data["year"]]).astype(float)
    whole = regression_influence(y, v, X, method=method, test=test)
    one_row = regression_influence(y, v, X, method=method, test=test, budget=1)
    for name in (*FIELDS, "dfbetas"):
        np.testing.assert_allclose(
            getattr(one_row, name), getattr(whole, name), rtol=1e-12, atol=0, err_msg=name
        )
    np.testing.assert_array_equal(one_row.influential, whole.influential)
