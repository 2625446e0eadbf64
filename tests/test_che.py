"""The correlated-and-hierarchical-effects (CHE) working model, end to end, against metafor
and clubSandwich: V from srma.vcalc for an assumed within-study correlation, a three-level
srma.meta_mv (effects in studies), CR2 robust variance by study with Satterthwaite df
(Pustejovsky & Tipton 2022, Prev Sci 23:425).  Fixture: tests/reference/che.R on
dat.assink2016 (rho 0.6 and 0.8, with and without the delinquency-type moderator).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import srma
from conftest import load_fixture

FIXTURE = load_fixture("che.json")
DATA = pd.DataFrame(FIXTURE["data"])
RTOL = 1e-6


@pytest.mark.parametrize(
    "case", FIXTURE["cases"], ids=[f"rho{c['rho']}-{c['mods']}" for c in FIXTURE["cases"]]
)
def test_che_model_matches_metafor_and_clubsandwich(case: dict[str, Any]) -> None:
    V = srma.vcalc(DATA, "vi", "study", obs="esid", rho=case["rho"])
    mods = None if case["mods"] == "~ 1" else "~ factor(deltype)"
    fit = srma.meta_mv(DATA, "yi", V, random="~ 1 | study/esid", mods=mods)
    assert fit.converged
    np.testing.assert_allclose(
        [c.estimate for c in fit.variance_components], case["sigma2"], rtol=RTOL
    )
    np.testing.assert_allclose([c.estimate for c in fit.coefficients], case["beta"], rtol=RTOL)
    np.testing.assert_allclose([c.se for c in fit.coefficients], case["model_se"], rtol=RTOL)
    np.testing.assert_allclose(fit.loglik, case["loglik"], rtol=RTOL)
    robust = srma.robust(fit, DATA["study"].tolist(), adjust="CR2")
    rows = robust.coefficients
    np.testing.assert_allclose([r.se for r in rows], case["robust_se"], rtol=RTOL)
    np.testing.assert_allclose([r.df for r in rows], case["df"], rtol=RTOL)
    np.testing.assert_allclose([r.statistic for r in rows], case["statistic"], rtol=RTOL)
    np.testing.assert_allclose([r.pvalue for r in rows], case["pvalue"], rtol=RTOL)
