"""blup() and ranef() agree with metafor 3.8-1's blup.rma.uni and ranef.rma.uni.

Fixtures: tests/reference/fixtures/univariate_more.json ("blup") from
tests/reference/univariate_more.R: dat.bcg (log RR, with and without the
latitude moderator) and dat.normand1999 (SMD), EE, DL and REML, z and knha;
relative 1e-6.
"""

from __future__ import annotations

from contextlib import nullcontext

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma import meta
from srma.analysis.blup import StudyPredictions, blup, ranef
from srma.analysis.metareg import meta_regression
from srma.errors import InputError

FIXTURE = load_fixture("univariate_more.json")
FIELDS = ("pred", "se", "pi_lower", "pi_upper")


def _fit(case: dict) -> object:
    data = FIXTURE["datasets"][case["dataset"]]
    frame = pd.DataFrame({"yi": data["yi"], "vi": data["vi"]})
    if case["moderators"]:
        frame["ablat"] = FIXTURE["bcg_ablat"]
        return meta_regression(frame, "~ ablat", method=case["method"], test=case["test"])
    ee_knha = case["method"] == "EE" and case["test"] == "knha"
    with pytest.warns(UserWarning, match="not meant") if ee_knha else nullcontext():
        return meta(frame, method=case["method"], test=case["test"])


@pytest.mark.parametrize(
    "case",
    FIXTURE["blup"],
    ids=lambda c: f"{c['dataset']}-{c['moderators'] or 'none'}-{c['method']}-{c['test']}",
)
def test_blup_and_ranef_match_metafor(case: dict) -> None:
    fit = _fit(case)
    for function, key in ((blup, "blup"), (ranef, "ranef")):
        predictions = function(fit)
        assert isinstance(predictions, StudyPredictions) and predictions.kind == key
        for name in FIELDS:
            np.testing.assert_allclose(
                getattr(predictions, name), case[key][name], rtol=1e-6, atol=1e-10, err_msg=name
            )
        frame = predictions.to_frame()
        assert list(frame.columns) == ["label", *FIELDS]
        assert len(frame) == len(case[key]["pred"])


def test_blup_is_fitted_value_plus_random_effect() -> None:
    data = FIXTURE["datasets"]["bcg"]
    fit = meta(np.array(data["yi"]), np.array(data["vi"]))
    total = np.asarray(blup(fit).pred)
    parts = fit.estimate + np.asarray(ranef(fit).pred)
    np.testing.assert_allclose(total, parts, rtol=1e-12)
    # the BLUPs are shrunk towards the mean: never farther from it than the data
    assert np.all(np.abs(total - fit.estimate) <= np.abs(np.asarray(data["yi"]) - fit.estimate))


def test_level_changes_only_the_intervals() -> None:
    data = FIXTURE["datasets"]["bcg"]
    fit = meta(np.array(data["yi"]), np.array(data["vi"]))
    wide, narrow = blup(fit), blup(fit, level=0.5)
    assert narrow.level == 0.5 and wide.pred == narrow.pred
    assert np.all(np.asarray(narrow.pi_upper) < np.asarray(wide.pi_upper))
    assert blup(fit).to_dict()["kind"] == "blup"


def test_bad_input() -> None:
    y, v = np.array([0.1, 0.4, 0.2]), np.array([0.1, 0.1, 0.2])
    with pytest.raises(InputError, match="need a result of meta"):
        blup({"yi": [1.0]})
    with pytest.raises(InputError, match="level"):
        ranef(meta(y, v), level=2.0)
    with pytest.warns(UserWarning, match="k = 1"):
        single = meta(y[:1], v[:1])
    with pytest.raises(InputError, match="at least 2 studies"):
        blup(single)
    counts = pd.DataFrame({"events1": [5, 3, 8], "total1": [50, 40, 60],
                           "events2": [9, 6, 10], "total2": [50, 40, 60]})  # fmt: skip
    with pytest.raises(InputError, match="inverse-variance model"):
        blup(meta(counts, measure="OR", method="MH"))
