"""``srma.robust``: cluster-robust inference for meta(), meta_regression() and multilevel fits.

Reference numbers: tests/reference/fixtures/robust.json (clubSandwich 0.5.8
vcovCR / coef_test / conf_int / Wald_test and metafor 3.8-1 robust(), from
tests/reference/robust.R).  The models are refitted here by srma, so the
comparison covers the whole road from data to robust tests.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

import srma
from conftest import load_fixture
from srma.errors import InputError, SrmaWarning

CASES = {case["name"]: case for case in load_fixture("robust.json")["cases"]}
RTOL = 1e-6


def _columns(case: dict[str, Any]) -> list[str]:
    """The design's column names (one name arrives unboxed from JSON)."""
    columns = case["columns"]
    return [columns] if isinstance(columns, str) else list(columns)


def _frame(case: dict[str, Any]) -> pd.DataFrame:
    X = np.asarray(case["X"], dtype=float).reshape(len(case["yi"]), -1)
    frame = pd.DataFrame({"yi": case["yi"], "vi": case["vi"], "cluster": case["cluster"]})
    for position, name in enumerate(_columns(case)[1:], start=1):
        frame[name] = X[:, position]
    return frame


def _quietly(function: Any, *args: Any, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return function(*args, **kwargs)


def _fit(name: str) -> Any:
    case = CASES[name]
    frame = _frame(case)
    moderators = _columns(case)[1:]
    if not moderators:
        return _quietly(srma.meta, frame, method=case["method"])
    return _quietly(srma.meta_regression, frame, moderators, method=case["method"])


def _check(result: srma.RobustResult, reference: dict[str, Any]) -> None:
    table = result.to_frame()
    p = len(table)
    np.testing.assert_allclose(
        np.asarray(result.vcov), np.asarray(reference["vcov"]).reshape(p, p), rtol=RTOL
    )
    for ours, theirs in (
        ("se", "se"),
        ("statistic", "statistic"),
        ("pvalue", "pvalue"),
        ("ci_lower", "ci_lower"),
        ("ci_upper", "ci_upper"),
    ):
        np.testing.assert_allclose(table[ours], np.atleast_1d(reference[theirs]), rtol=RTOL)


UNIVARIATE = [name for name, case in CASES.items() if case["kind"] == "rma.uni"]
ADJUSTMENTS = ["CR0", "CR1", "CR1p", "CR1S", "CR2"]


@pytest.mark.parametrize("name", UNIVARIATE)
@pytest.mark.parametrize("adjust", ADJUSTMENTS)
def test_meta_and_meta_regression_match_clubsandwich(name: str, adjust: str) -> None:
    case = CASES[name]
    reference = next(s for s in case["sandwiches"] if s["type"] == adjust)
    fit = _fit(name)
    result = _quietly(srma.robust, fit, case["cluster"], adjust=adjust)
    assert result.n_clusters == len(set(case["cluster"]))
    assert result.k == len(case["yi"])
    assert result.tau2 == pytest.approx(case["tau2"], rel=RTOL)
    _check(result, reference)
    np.testing.assert_allclose(result.to_frame()["df"], np.atleast_1d(reference["df"]), rtol=RTOL)
    if "wald" in reference:
        for key in ("statistic", "df_num", "df_denom", "pvalue"):
            assert result.moderator_test[key] == pytest.approx(reference["wald"][key], rel=RTOL)
    else:
        assert result.moderator_test is None


@pytest.mark.parametrize("name", UNIVARIATE)
def test_test_t_with_cr1p_is_metafors_robust(name: str) -> None:
    case = CASES[name]
    reference = case["metafor_robust"]
    result = _quietly(srma.robust, _fit(name), case["cluster"], adjust="cr1p", test="t")
    _check(result, reference)
    assert set(result.to_frame()["df"]) == {reference["df"]}
    if result.moderator_test is not None:
        assert result.moderator_test["statistic"] == pytest.approx(reference["qm"], rel=RTOL)
        assert result.moderator_test["pvalue"] == pytest.approx(reference["qm_pvalue"], rel=RTOL)


def test_cluster_may_name_a_column_of_the_data() -> None:
    case = CASES["bangertdrowns_length_by_grade"]
    frame = _frame(case)
    fit = _fit("bangertdrowns_length_by_grade")
    by_column = _quietly(srma.robust, fit, "cluster", data=frame)
    by_labels = _quietly(srma.robust, fit, frame["cluster"])
    assert by_column.to_dict() == by_labels.to_dict()


def _three_level(case: dict[str, Any]) -> srma.MultilevelResult:
    """The case's three-level model (schools in districts) fitted by srma.meta_mv."""
    frame = pd.DataFrame(
        {
            "yi": case["yi"],
            "vi": case["vi"],
            "district": case["district"],
            "school": range(len(case["yi"])),
        }
    )
    return srma.meta_mv(frame, random="~ 1 | district/school")


def test_random_effects_must_be_nested_in_the_clusters() -> None:
    case = CASES["konstantopoulos_intercept"]
    schools = [f"school {i}" for i in range(len(case["yi"]))]  # districts span several
    with pytest.raises(InputError, match="nested within the clusters"):
        srma.robust(_three_level(case), schools)


def test_few_satterthwaite_df_warn_as_tipton_advises() -> None:
    case = CASES["bangertdrowns_length_by_grade"]
    with pytest.warns(SrmaWarning, match="Satterthwaite df below 4"):
        result = srma.robust(_fit("bangertdrowns_length_by_grade"), case["cluster"])
    assert any("Tipton 2015" in w for w in result.warnings)


def test_z_test_uses_the_normal_distribution() -> None:
    case = CASES["assink_year_pubstatus"]
    result = _quietly(srma.robust, _fit("assink_year_pubstatus"), case["cluster"], test="z")
    table = result.to_frame()
    assert table["df"].isna().all()
    from scipy.stats import chi2, norm

    np.testing.assert_allclose(table["pvalue"], 2 * norm.sf(np.abs(table["statistic"])))
    assert result.moderator_test["df_denom"] is None
    b = np.asarray(table["estimate"])[1:]
    vcov = np.asarray(result.vcov)[1:, 1:]
    q = b @ np.linalg.solve(vcov, b)
    assert result.moderator_test["pvalue"] == pytest.approx(chi2.sf(q, 2), rel=1e-12)


def test_results_are_json_ready_and_summarise_themselves() -> None:
    case = CASES["assink_year_pubstatus"]
    result = _quietly(srma.robust, _fit("assink_year_pubstatus"), case["cluster"])
    out = json.loads(json.dumps(result.to_dict()))
    assert out["adjust"] == "CR2" and out["test"] == "satterthwaite"
    assert [row["name"] for row in out["coefficients"]] == ["intercept", "year", "pubstatus"]
    text = result.summary()
    assert "CR2" in text and "17 clusters" in text and "pubstatus" in text
    assert "F(2, " in text


# --- bad input ----------------------------------------------------------------------------


def _assink() -> tuple[Any, list[str]]:
    case = CASES["assink_intercept"]
    return _fit("assink_intercept"), list(case["cluster"])


def test_one_cluster_is_refused_clearly() -> None:
    fit, clusters = _assink()
    with pytest.raises(InputError, match="one cluster"):
        srma.robust(fit, ["all"] * len(clusters))


def test_clusters_must_be_aligned_with_the_studies() -> None:
    fit, clusters = _assink()
    with pytest.raises(InputError, match=f"{len(clusters) - 1} cluster labels for the"):
        srma.robust(fit, clusters[:-1])
    frame = pd.DataFrame({"study": [*clusters, "extra"]})
    with pytest.raises(InputError, match="column 'study'"):
        srma.robust(fit, "study", data=frame)


def test_missing_cluster_labels_name_the_study() -> None:
    fit, clusters = _assink()
    clusters[3] = None
    with pytest.raises(InputError, match=f"study {fit.labels[3]!r} is missing"):
        srma.robust(fit, clusters)
    frame = pd.DataFrame({"study": clusters})
    frame.loc[3, "study"] = np.nan
    with pytest.raises(InputError, match="row 4") as error:
        srma.robust(fit, "study", data=frame, source="effects.csv")
    assert "effects.csv" in str(error.value)


def test_a_column_name_needs_data_and_the_column() -> None:
    fit, clusters = _assink()
    with pytest.raises(InputError, match="data="):
        srma.robust(fit, "study")
    with pytest.raises(InputError, match="'lab' not found"):
        srma.robust(fit, "lab", data=pd.DataFrame({"study": clusters}))


@pytest.mark.parametrize(
    ("option", "value"),
    [("adjust", "CR3"), ("adjust", 2), ("test", "knha"), ("level", 1.5), ("level", "0.9")],
)
def test_bad_options_name_the_option_and_the_value(option: str, value: Any) -> None:
    fit, clusters = _assink()
    with pytest.raises(InputError) as error:
        srma.robust(fit, clusters, **{option: value})
    message = str(error.value)
    assert message.startswith("robust(): ") and option in message and repr(value) in message


def test_mantel_haenszel_results_and_foreign_objects_are_refused() -> None:
    counts = pd.DataFrame(
        {
            "events1": [4, 6, 3, 8],
            "total1": [50, 60, 40, 70],
            "events2": [8, 9, 6, 12],
            "total2": [50, 60, 40, 70],
        }
    )
    fit = _quietly(srma.meta, counts, measure="OR", method="MH")
    with pytest.raises(InputError, match="inverse-variance"):
        srma.robust(fit, ["a", "a", "b", "b"])
    with pytest.raises(InputError, match="takes a result of meta"):
        srma.robust(object(), ["a", "b"])


def test_t_test_needs_more_clusters_than_coefficients() -> None:
    case = CASES["bangertdrowns_length_by_grade"]
    fit = _fit("bangertdrowns_length_by_grade")
    few = ["a" if grade in ("1", "2") else "b" for grade in case["cluster"]]
    with pytest.raises(InputError, match="J - p df"):
        srma.robust(fit, few, test="t")
