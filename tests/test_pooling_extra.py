"""Pooling agrees with metafor on eight more metadat data sets (tests/reference/pooling_extra.R):
hackshaw1998, molloy2014, pritz1997 (proportions), laopaiboon2015, bangertdrowns2004,
mcdaniel1994 (k = 160), konstantopoulos2011 and li2007, for six tau² estimators and two tests."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma import meta

CASES = load_fixture("pooling_extra.json")
FIELDS = {
    "est": "estimate",
    "se": "se",
    "tau2": "tau2",
    "i2": "i2",
    "q": "q",
    "lb": "tau2_ci_lower",
    "ub": "tau2_ci_upper",
    "pil": "pi_lower",
    "piu": "pi_upper",
}


def test_fixture_size() -> None:
    assert len(CASES) == 96 and max(len(c["yi"]) for c in CASES) == 160


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['name']}-{c['method']}-{c['test']}")
def test_matches_metafor(case: dict) -> None:
    result = meta(case["yi"], case["vi"], method=case["method"], test=case["test"])
    for key, field in FIELDS.items():
        np.testing.assert_allclose(
            getattr(result, field), case[key], rtol=1e-6, atol=1e-10, err_msg=field
        )


@pytest.mark.parametrize("method", ["EE", "MH"])
def test_a_common_effect_fit_warns_of_no_tau2_interval(method: str) -> None:
    """A common-effect model has no tau² and so no interval to leave out (a warning about
    its upper bound was given for every common-effect fit of k > 1 studies)."""
    import warnings

    from srma.datasets import load
    from srma.errors import SrmaWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        result = meta(load("bcg"), measure="RR", method=method)
    assert result.k == 13 and result.warnings == ()
