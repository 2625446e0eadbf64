"""srma.meta_mv: the result object, bad input named clearly, and the likelihood-ratio test."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import srma
from srma.errors import InputError, SrmaWarning

FIXTURES = Path(__file__).parent / "reference" / "fixtures"
#: Konstantopoulos (2011): 56 schools in 11 districts (metadat, GPL >= 2), from the fixture
KONSTANTOPOULOS = pd.DataFrame(json.loads((FIXTURES / "multilevel_lrt.json").read_text())["data"])


def _three_level(**options: object) -> srma.MultilevelResult:
    return srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district/school", **options)


@pytest.fixture(scope="module")
def result() -> srma.MultilevelResult:
    return _three_level()


def test_result_fields_and_names(result: srma.MultilevelResult) -> None:
    assert result.k == 56 and result.p == 1
    assert result.names == ("intercept",)
    assert [c.name for c in result.variance_components] == [
        "sigma2.1 (district)",
        "sigma2.2 (district/school)",
    ]
    assert [c.n_levels for c in result.variance_components] == [11, 56]
    for component in result.variance_components:
        assert component.sqrt == pytest.approx(np.sqrt(component.estimate))
        assert component.ci_lower < component.estimate < component.ci_upper
        assert not component.fixed
    assert result.qm is None  # nothing but the intercept to test
    assert result.cluster == "district"
    assert len(set(result.cluster_codes)) == 11
    assert result.design_matrix.shape == (56, 1)
    assert result.marginal_covariance.shape == (56, 56)
    # the marginal covariance is V plus sigma2 within a district plus sigma2 on the diagonal
    s1, s2 = (c.estimate for c in result.variance_components)
    M = result.marginal_covariance
    assert M[0, 0] == pytest.approx(KONSTANTOPOULOS["vi"][0] + s1 + s2)
    assert M[0, 1] == pytest.approx(s1)
    assert result.converged


def test_to_dict_is_json_and_summary_reports_the_fit(result: srma.MultilevelResult) -> None:
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert out["coefficients"][0]["name"] == "intercept"
    assert out["variance_components"][1]["n_levels"] == 56
    assert "design_matrix" not in out
    text = result.summary()
    assert "sigma2.1 (district)" in text
    assert f"QE({result.q_df})" in text
    assert "k = 56; method: REML" in text


def test_predict_adds_every_variance_to_the_prediction_interval(
    result: srma.MultilevelResult,
) -> None:
    pooled = result.coefficients[0]
    prediction = result.predict()
    total = sum(c.estimate for c in result.variance_components)
    half = 1.959963984540054 * np.sqrt(pooled.se**2 + total)
    assert prediction["pi_lower"] == pytest.approx(pooled.estimate - half)
    assert prediction["pi_upper"] == pytest.approx(pooled.estimate + half)
    with_moderator = srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district/school", mods="~ year")
    with pytest.raises(InputError, match="intercept-only"):
        with_moderator.predict()


def test_fixed_sigma2_is_held_and_has_no_interval() -> None:
    fixed = _three_level(sigma2=[None, 0.05])
    first, second = fixed.variance_components
    assert second.fixed and second.estimate == 0.05
    assert second.ci_lower is None and second.ci_upper is None
    assert not first.fixed


def test_t_test_gives_an_f_test_of_moderators() -> None:
    fit = srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district/school", mods="~ year", test="t")
    assert fit.df == 54
    assert fit.qm is not None and fit.qm.df == 1 and fit.qm.df2 == 54
    assert fit.qm.statistic == pytest.approx(fit.coefficients[1].statistic ** 2)


def test_rows_with_missing_data_are_omitted_with_a_note() -> None:
    data = KONSTANTOPOULOS.copy()
    data.loc[3, "yi"] = np.nan
    data.loc[7, "school"] = np.nan
    data["study"] = [f"S{i}" for i in range(len(data))]
    with pytest.warns(SrmaWarning, match="omitted 2 rows"):
        fit = srma.meta_mv(data, random="~ 1 | district/school")
    assert fit.k == 54
    assert fit.omitted == ("S3", "S7")


def test_a_missing_grouping_column_is_named() -> None:
    with pytest.raises(InputError, match="grouping column 'classroom' not found"):
        srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district/classroom")


def test_a_formula_that_does_not_parse_is_refused() -> None:
    with pytest.raises(InputError, match="does not parse"):
        srma.meta_mv(KONSTANTOPOULOS, random="district/school")


def test_confounded_levels_are_refused() -> None:
    one_each = KONSTANTOPOULOS.drop_duplicates("district").assign(effect=1)
    with pytest.raises(InputError, match="confounded"):
        srma.meta_mv(one_each, random="~ 1 | district/effect")


def test_more_components_than_clusters_are_refused() -> None:
    data = pd.DataFrame(
        {
            "trial": [1, 1, 1, 2, 2, 2],
            "outcome": list("abcabc"),
            "yi": [0.1, 0.2, 0.3, 0.2, 0.1, 0.4],
            "vi": [0.01] * 6,
        }
    )
    with pytest.raises(InputError, match=r"6 variance components .* from 2 clusters"):
        srma.meta_mv(data, random="~ outcome | trial", struct="UN")


def test_v_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(InputError, match=r"shape \(3, 3\).*56 rows"):
        srma.meta_mv(KONSTANTOPOULOS, V=np.eye(3), random="~ 1 | district")


def test_v_not_positive_definite_names_the_block() -> None:
    V = np.diag(KONSTANTOPOULOS["vi"].to_numpy())
    V[0, 1] = V[1, 0] = 1.0  # far above sqrt(v1 v2): a correlation beyond 1
    data = KONSTANTOPOULOS.assign(study=[f"S{i}" for i in range(56)])
    with pytest.raises(
        InputError, match=r"not positive definite in the block of rows 1, 2 \(S0, S1\)"
    ):
        srma.meta_mv(data, V=V, random="~ 1 | district")


def test_asymmetric_v_is_refused() -> None:
    V = np.diag(KONSTANTOPOULOS["vi"].to_numpy())
    V[0, 1] = 0.001
    with pytest.raises(InputError, match="not symmetric"):
        srma.meta_mv(KONSTANTOPOULOS, V=V, random="~ 1 | district")


def test_a_nonpositive_variance_is_named() -> None:
    data = KONSTANTOPOULOS.copy()
    data.loc[4, "vi"] = 0.0
    with pytest.raises(InputError, match="row 5, column 'vi': sampling variance must be > 0"):
        srma.meta_mv(data, random="~ 1 | district")


@pytest.mark.parametrize(
    ("option", "value"),
    [("method", "DL"), ("test", "knha"), ("struct", "XYZ"), ("rho", 1.5), ("sigma2", -1.0),
     ("tau2", [0.1, "a"]), ("level", 1.0)],
)  # fmt: skip
def test_bad_options_name_the_function_and_option(option: str, value: object) -> None:
    with pytest.raises(InputError, match=rf"^meta_mv\(\): .*{option}"):
        srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district", **{option: value})


def test_likelihood_ratio_test_refuses_reml_with_different_fixed_effects() -> None:
    full = srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district/school", mods="~ year")
    reduced = _three_level()
    with pytest.raises(InputError, match="REML likelihoods"):
        srma.likelihood_ratio_test(full, reduced)
    with pytest.raises(InputError, match="must have more"):
        srma.likelihood_ratio_test(srma.meta_mv(KONSTANTOPOULOS, random="~ 1 | district"), reduced)
    with pytest.raises(InputError, match="same method"):
        srma.likelihood_ratio_test(reduced, _three_level(method="ML"))


def test_a_fit_that_does_not_converge_warns_with_the_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import dataclasses

    from srma.analysis import multilevel

    real = multilevel.fit_multilevel

    def stopped(*args: object, **kwargs: object):
        fit = real(*args, **kwargs)
        return dataclasses.replace(
            fit, converged=np.array([False]), message=("iteration limit reached",)
        )

    monkeypatch.setattr(multilevel, "fit_multilevel", stopped)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fit = _three_level()
    assert not fit.converged
    assert any("did not converge: iteration limit reached" in str(w.message) for w in caught)
    assert "did not converge" in fit.summary()


def test_a_row_dropped_for_missing_data_leaves_its_row_and_column_of_v() -> None:
    case = next(
        c
        for c in json.loads((FIXTURES / "multilevel.json").read_text())["cases"]
        if c["name"] == "berkey1998_UN_REML"
    )
    data = pd.DataFrame(case["data"])
    V = np.asarray(case["V"])
    data.loc[2, "yi"] = np.nan
    options = {"random": "~ outcome | trial", "struct": "UN", "mods": "~ outcome - 1"}
    with pytest.warns(SrmaWarning, match="omitted 1 rows"):
        dropped = srma.meta_mv(data, V=V, **options)
    keep = [i for i in range(len(data)) if i != 2]
    subset = srma.meta_mv(data.iloc[keep], V=V[np.ix_(keep, keep)], **options)
    assert dropped.k == 9
    np.testing.assert_allclose(dropped.sampling_covariance, V[np.ix_(keep, keep)])
    assert [c.estimate for c in dropped.coefficients] == pytest.approx(
        [c.estimate for c in subset.coefficients], rel=1e-10
    )


def test_predict_refuses_a_heteroscedastic_structure() -> None:
    case = next(
        c
        for c in json.loads((FIXTURES / "multilevel.json").read_text())["cases"]
        if c["name"] == "berkey1998_UN_REML"
    )
    fit = srma.meta_mv(
        pd.DataFrame(case["data"]), V=np.asarray(case["V"]), random="~ outcome | trial",
        struct="UN",
    )  # fmt: skip
    with pytest.raises(InputError, match=r"heteroscedastic structure .*tau2\.1 \(AL\)"):
        fit.predict()


def test_without_profile_intervals_the_fit_is_the_same(result: srma.MultilevelResult) -> None:
    quick = _three_level(profile_ci=False)
    assert quick.coefficients == result.coefficients and quick.loglik == result.loglik
    for fast, full in zip(quick.variance_components, result.variance_components, strict=True):
        assert fast.estimate == full.estimate and full.ci_upper is not None
        assert fast.ci_lower is None and fast.ci_upper is None
