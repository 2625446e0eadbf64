"""Pooling at user weights, ``meta(weights=)`` and ``method="GENQ"``, against metafor.

Fixture: tests/reference/fixtures/genq.json from tests/reference/genq.R
(``rma.uni(yi, vi, weights = a, method = m, test = t)`` on dat.bcg (log RR) and
dat.normand1999 (MD) at weights 1, n and 1/vi, for GENQ, DL, REML and EE under
z, knha and adhoc; with ``weights()``, ``predict()``, ``confint()`` (not for
GENQ: metafor's type "GENQ" needs CompQuadForm), ``leave1out()``, ``cumul()``,
``baujat()`` and, for dat.normand1999, ``gosh()``).
One deliberate difference, as everywhere in srma: a fit of one study (a cumulative
or GOSH row) has no heterogeneity (tau² None), where metafor prints tau² = 0.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture, srma
from srma import InputError, SrmaWarning, meta
from srma.analysis.bias import (
    egger_test,
    fail_safe_n,
    rank_test,
    small_study_tests,
    trim_and_fill,
)
from srma.analysis.blup import blup, ranef
from srma.analysis.henmi_copas import henmi_copas
from srma.analysis.meta import tau2_confint
from srma.analysis.permutation import permutation_test
from srma.analysis.policies import custom_policy
from srma.analysis.robust import robust
from srma.analysis.sensitivity import baujat, cumulative, gosh, influence_diagnostics, leave_one_out
from srma.analysis.subgroups import subgroup_analysis
from srma.datasets import load

CASES = load_fixture("genq.json")["cases"]
FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "tau2", "tau2_se",
          "q", "q_pvalue", "i2", "h2", "df")  # fmt: skip
REFIT_FIELDS = {"estimate": "estimate", "se": "se", "ci_lower": "ci_lower",
                "ci_upper": "ci_upper", "tau2": "tau2", "q": "q", "i2": "i2"}  # fmt: skip


def _id(case: dict[str, Any]) -> str:
    return f"{case['dataset']}-{case['scheme']}-{case['method']}-{case['test']}"


def _close(got: float | None, expected: float | None, what: str) -> None:
    if expected is None:
        assert got is None, what
        return
    assert got is not None, what
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-9), what


def _fit(case: dict[str, Any], **options: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return meta(
            np.array(case["yi"]),
            np.array(case["vi"]),
            method=case["method"],
            test=case["test"],
            weights=case["weights"],
            **options,
        )


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_meta_at_user_weights_matches_metafor(case: dict[str, Any]) -> None:
    expected = case["result"]
    result = _fit(case)
    for name in FIELDS:
        _close(getattr(result, name), expected[name], name)
    np.testing.assert_allclose(result.weights, expected["weights"], rtol=1e-9)
    assert result.model_weights == tuple(case["weights"])
    if case["method"] == "EE":
        return
    _close(result.pi_lower, expected["pi_lower_riley"], "pi_lower")
    _close(result.pi_upper, expected["pi_upper_riley"], "pi_upper")
    default = _fit(case, pi_type="default")
    _close(default.pi_lower, expected["pi_lower_default"], "pi_lower default")
    _close(default.pi_upper, expected["pi_upper_default"], "pi_upper default")
    if case["method"] == "GENQ":
        assert result.tau2_ci_lower is None and result.tau2_ci_upper is None
        assert result.i2_ci_lower is None and result.h2_ci_upper is None
        assert any("CompQuadForm" in note for note in result.warnings)
    else:
        # the Q-profile interval does not involve the weights
        _close(result.tau2_ci_lower, expected["tau2_ci_lower"], "tau2_ci_lower")
        _close(result.tau2_ci_upper, expected["tau2_ci_upper"], "tau2_ci_upper")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_leave_one_out_and_cumulative_refit_at_the_weights(case: dict[str, Any]) -> None:
    result = _fit(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        left = leave_one_out(result)
        added = cumulative(result)
    for table, expected in ((left, case["result"]["leave1out"]),
                            (added, case["result"]["cumulative"])):  # fmt: skip
        for ours, theirs in REFIT_FIELDS.items():
            if not expected.get(theirs):  # metafor has no tau² for a common-effect refit
                continue
            for row, (got, want) in enumerate(
                zip(table.values[ours], expected[theirs], strict=True)
            ):
                if table is added and row == 0 and ours in ("tau2", "q", "i2"):
                    assert got is None  # one study: no heterogeneity (metafor: 0)
                    continue
                _close(got, want, f"{table.key} row {row} {ours}")


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_baujat_at_the_weights(case: dict[str, Any]) -> None:
    coordinates = baujat(_fit(case))
    expected = case["result"]["baujat"]
    np.testing.assert_allclose(coordinates.heterogeneity_contribution, expected["x"], rtol=1e-6)
    np.testing.assert_allclose(coordinates.influence_on_result, expected["y"], rtol=1e-6,
                               atol=1e-12)  # fmt: skip


@pytest.mark.parametrize("case", [c for c in CASES if "gosh" in c["result"]], ids=_id)
def test_gosh_at_the_weights(case: dict[str, Any]) -> None:
    """Every subset of dat.normand1999's 9 studies, matched to metafor's by its members;
    a subset of one study has no heterogeneity in srma (metafor: tau² = 0, Q = 0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        fits = gosh(_fit(case))
    expected = case["result"]["gosh"]
    assert fits.exact and fits.subsets == len(expected["code"]) == 2**9 - 1
    codes = fits.included.astype(np.int64) @ (2 ** np.arange(fits.included.shape[1]))
    row = {int(code): i for i, code in enumerate(codes)}
    several = np.array(expected["k"]) > 1
    order = np.array([row[int(code)] for code in expected["code"]])
    np.testing.assert_array_equal(fits.k[order], expected["k"])
    for name in ("estimate", "tau2", "q", "i2", "h2"):
        ours = getattr(fits, name)[order]
        theirs = np.array([np.nan if x is None else x for x in expected[name]])
        fitted = np.isfinite(theirs)  # metafor's NA: a subset its REML did not converge on
        assert fitted[several].mean() > 0.95, name
        if name != "estimate":
            assert np.isnan(ours[~several]).all(), name
            fitted &= several
        np.testing.assert_allclose(ours[fitted], theirs[fitted], rtol=1e-6, atol=1e-9,
                                   err_msg=name)  # fmt: skip


def test_weights_from_a_column_and_rows_omitted() -> None:
    bcg = load("bcg")
    bcg["n"] = bcg["total1"] + bcg["total2"]
    case = next(
        c for c in CASES if c["dataset"] == "bcg_RR" and c["scheme"] == "n"
        and c["method"] == "GENQ" and c["test"] == "z"
    )  # fmt: skip
    result = meta(bcg, measure="RR", method="GENQ", weights="n")
    _close(result.estimate, case["result"]["estimate"], "estimate")
    _close(result.tau2, case["result"]["tau2"], "tau2")
    # a row omitted for a missing effect needs no weight
    bcg.loc[2, ["events1"]] = np.nan
    bcg.loc[2, "n"] = np.nan
    with pytest.warns(SrmaWarning, match="omitted 1 studies"):
        partial = meta(bcg, measure="RR", method="GENQ", weights="n")
    assert partial.k == 12 and len(partial.model_weights) == 12
    assert "user weights" in partial.summary()
    assert partial.to_dict()["model_weights"] == list(partial.model_weights)


def test_closed_forms() -> None:
    """GENQ at a = 1/v is DerSimonian-Laird's tau² (DerSimonian & Kacker 2007, sec. 3), and
    the common-effect model at a = 1/v is the inverse-variance one; weights are scale-free."""
    case = CASES[0]
    y, v = np.array(case["yi"]), np.array(case["vi"])
    genq = meta(y, v, method="GENQ", weights=1 / v)
    dl = meta(y, v, method="DL")
    assert genq.tau2 == pytest.approx(dl.tau2, rel=1e-12)
    assert genq.tau2_se == pytest.approx(dl.tau2_se, rel=1e-10)
    ee = meta(y, v, method="EE", weights=1 / v)
    plain = meta(y, v, method="EE")
    assert (ee.estimate, ee.se) == pytest.approx((plain.estimate, plain.se), rel=1e-12)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-3, 3), st.floats(0.01, 2), st.floats(0.1, 10)), min_size=2, max_size=12
    ),
    st.floats(1e-3, 1e3),
)
def test_weights_scale_free(rows: list[tuple[float, float, float]], scale: float) -> None:
    y, v, a = (np.array(column) for column in zip(*rows, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        first = meta(y, v, method="GENQ", weights=a)
        second = meta(y, v, method="GENQ", weights=a * scale)
    for name in ("estimate", "se", "tau2", "tau2_se"):
        assert getattr(second, name) == pytest.approx(getattr(first, name), rel=1e-9, abs=1e-12)
    # the estimate is a weighted mean: inside the studies' range
    assert y.min() - 1e-12 <= first.estimate <= y.max() + 1e-12


def test_bad_weights_are_refused_naming_row_and_column() -> None:
    y, v = np.array([0.1, 0.5, 0.3]), np.array([0.1, 0.2, 0.05])
    with pytest.raises(InputError, match=r"GENQ.*needs weights"):
        meta(y, v, method="GENQ")
    for bad in (0.0, -1.0, np.inf, np.nan):
        with pytest.raises(InputError, match="finite number > 0") as error:
            meta(y, v, method="GENQ", weights=[1.0, bad, 1.0])
        assert error.value.row == 2 and error.value.column == "weights"
    with pytest.raises(InputError, match="3 studies"):
        meta(y, v, method="GENQ", weights=[1.0, 2.0])
    with pytest.raises(InputError, match="must be numbers"):
        meta(y, v, method="GENQ", weights=["a", "b", "c"])
    with pytest.raises(InputError, match="not a table"):
        meta(y, v, method="GENQ", weights="n")
    frame = pd.DataFrame({"yi": y, "vi": v, "n": [10, "many", 30]})
    with pytest.raises(InputError) as error:
        meta(frame, method="GENQ", weights="n", source="effects.csv")
    assert (error.value.row, error.value.column, error.value.file) == (2, "n", "effects.csv")
    with pytest.raises(InputError, match="not found"):
        meta(frame, method="GENQ", weights="size")
    with pytest.raises(InputError, match="own weights"):
        meta(load("bcg"), measure="OR", method="MH", weights=np.ones(13))


def _genq_fit() -> Any:
    case = next(c for c in CASES if c["method"] == "GENQ" and c["test"] == "z")
    return _fit(case)


@pytest.mark.parametrize(
    "follow_up",
    [
        influence_diagnostics,
        trim_and_fill,
        permutation_test,
        blup,
        ranef,
        lambda result: egger_test(result, model="rma"),
        lambda result: robust(result, cluster=list(range(result.k))),
    ],
)
def test_follow_ups_that_assume_inverse_variance_weights_refuse(follow_up: Any) -> None:
    with pytest.raises(InputError, match="not available for a GENQ fit with user weights"):
        follow_up(_genq_fit())


def test_follow_ups_of_the_effects_alone_agree_with_the_plain_fit() -> None:
    """Begg's test, the fail-safe Ns, the classic Egger test and the Henmi-Copas interval
    use only yi and vi (as metafor's ranktest, fsn, regtest(model="lm"), hc)."""
    weighted = _genq_fit()
    plain = meta(np.array(weighted.yi), np.array(weighted.vi), method="DL")
    assert rank_test(weighted) == rank_test(plain)
    assert fail_safe_n(weighted) == fail_safe_n(plain)
    assert egger_test(weighted).to_dict() == egger_test(plain).to_dict()
    ours, theirs = henmi_copas(weighted), henmi_copas(plain)
    assert (ours.estimate, ours.ci_lower, ours.ci_upper) == (
        theirs.estimate, theirs.ci_lower, theirs.ci_upper,
    )  # fmt: skip
    everything = small_study_tests(weighted)
    assert everything.egger is not None and everything.begg is not None
    assert everything.egger_mixed is None and everything.trimfill is None
    assert sum("user weights" in note for note in everything.notes) == 2


def test_tau2_confint_and_refusals_of_methods_without_weights() -> None:
    # the profile likelihood of tau² does not involve the weights
    case = next(c for c in CASES if c["method"] == "REML" and c["scheme"] == "n")
    weighted = _fit(case)
    plain = meta(np.array(case["yi"]), np.array(case["vi"]), method="REML")
    assert tau2_confint(weighted) == dataclasses.replace(tau2_confint(plain))
    with pytest.raises(InputError, match="ML or REML"):
        tau2_confint(_genq_fit())
    bcg = load("bcg")
    with pytest.raises(InputError, match=r"subgroup_analysis.*user weights"):
        subgroup_analysis(bcg, "alloc", measure="RR", method="GENQ")
    with pytest.raises(InputError, match="policy"):
        custom_policy(random_method="GENQ")


def test_command_line_meta_with_weights(tmp_path: Path) -> None:
    bcg = load("bcg")
    bcg["n"] = bcg["total1"] + bcg["total2"]
    path = tmp_path / "bcg.csv"
    bcg.to_csv(path, index=False)
    case = next(
        c for c in CASES if c["dataset"] == "bcg_RR" and c["scheme"] == "n"
        and c["method"] == "GENQ" and c["test"] == "knha"
    )  # fmt: skip
    output = srma("meta", path, "--measure", "RR", "--method", "GENQ", "--test", "knha",
                  "--weights", "n", "--json")  # fmt: skip
    result = json.loads(output[output.index("{") :])  # after the note on the missing tau² CI
    for name in ("estimate", "se", "tau2", "tau2_se", "ci_lower", "ci_upper"):
        _close(result[name], case["result"][name], name)
    assert result["model_weights"] == [float(n) for n in bcg["n"]]
    refused = srma("meta", path, "--measure", "RR", "--method", "GENQ", code=1)
    assert "needs weights" in refused
    missing = srma("meta", path, "--measure", "RR", "--method", "GENQ", "--weights", "size",
                   code=1)  # fmt: skip
    assert "size" in missing and "not found" in missing


def test_the_methods_paragraph_names_genq_and_the_user_weights() -> None:
    from srma.report.methods import methods_paragraph

    data = pd.DataFrame({"yi": [0.1, 0.5, 0.3, 0.2], "vi": [0.04, 0.02, 0.05, 0.03]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = meta(data, method="GENQ", weights=[1.0, 2.0, 1.0, 3.0])
    text, references = methods_paragraph(result)
    assert "generalised Q estimator" in text and "weights given" in text
    assert any("DerSimonian R, Kacker R (2007)" in r for r in references)
