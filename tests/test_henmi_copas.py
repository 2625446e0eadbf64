"""The Henmi-Copas interval agrees with metafor 3.8-1's hc.rma.uni.

Fixtures: tests/reference/fixtures/univariate_more.json ("henmi_copas") from
tests/reference/univariate_more.R: dat.bcg (log RR), dat.normand1999 (SMD) and
dat.lee2004 (log RR), 95% and 90%; relative 1e-6.  (metafor integrates with R's
``integrate`` at its default tolerance; srma's quadrature agrees to about 1e-9
on the bounds, 2e-8 absolute on lee2004's upper bound near 0.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma import meta
from srma.analysis.henmi_copas import HenmiCopasResult, henmi_copas
from srma.errors import InputError
from srma.stats.batch import as_batch
from srma.stats.henmi_copas import henmi_copas as henmi_copas_arrays

CASES = load_fixture("univariate_more.json")["henmi_copas"]
FIELDS = ("estimate", "se", "ci_lower", "ci_upper", "tau2")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['level']}")
def test_matches_metafor(case: dict) -> None:
    fit = meta(np.array(case["yi"]), np.array(case["vi"]), level=case["level"])
    result = henmi_copas(fit)
    assert isinstance(result, HenmiCopasResult) and result.level == case["level"]
    for name in FIELDS:
        np.testing.assert_allclose(
            getattr(result, name), case[name], rtol=1e-6, atol=1e-9, err_msg=name
        )
    assert result.model_estimate == fit.estimate
    assert "Henmi-Copas" in result.summary() and result.to_dict()["k"] == fit.k


def test_batch_equals_one_by_one() -> None:
    rows = [c for c in CASES if c["level"] == 0.95]
    k = max(len(c["yi"]) for c in rows)
    y, v = np.full((len(rows), k), np.nan), np.full((len(rows), k), np.nan)
    for i, case in enumerate(rows):
        y[i, : len(case["yi"])], v[i, : len(case["vi"])] = case["yi"], case["vi"]
    together = henmi_copas_arrays(as_batch(y, v))
    for i, case in enumerate(rows):
        alone = henmi_copas_arrays(as_batch(case["yi"], case["vi"]))
        np.testing.assert_allclose(together.ci_lower[i], alone.ci_lower[0], rtol=1e-12)
        np.testing.assert_allclose(together.ci_upper[i], alone.ci_upper[0], rtol=1e-12)


def test_homogeneous_studies_give_the_common_effect_interval_widened_by_t0() -> None:
    """tau² = 0: VR = 1, Q ~ chi²_{k-1} whatever r, and the interval is beta ± t0 se with
    se the common-effect one."""
    y = np.array([0.10, 0.12, 0.09, 0.11, 0.10, 0.13])
    v = np.array([0.04, 0.05, 0.03, 0.06, 0.02, 0.05])
    result = henmi_copas(meta(y, v, method="EE"))
    w = 1 / v
    assert result.tau2 == 0.0
    np.testing.assert_allclose(result.estimate, (w * y).sum() / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(result.se, np.sqrt(1 / w.sum()), rtol=1e-12)
    assert result.ci_lower < result.estimate < result.ci_upper


def test_bad_input() -> None:
    y, v = np.array([0.1, 0.4, 0.2]), np.array([0.1, 0.1, 0.2])
    with pytest.raises(InputError, match="needs a result of meta"):
        henmi_copas([0.1, 0.2])
    with pytest.raises(InputError, match="level"):
        henmi_copas(meta(y, v), level=0.0)
    with pytest.warns(UserWarning, match="k = 1"):
        single = meta(y[:1], v[:1])
    with pytest.raises(InputError, match="at least 2 studies"):
        henmi_copas(single)
    counts = pd.DataFrame({"events1": [5, 3, 8], "total1": [50, 40, 60],
                           "events2": [9, 6, 10], "total2": [50, 40, 60]})  # fmt: skip
    with pytest.raises(InputError, match="inverse-variance"):
        henmi_copas(meta(counts, measure="OR", method="MH"))
