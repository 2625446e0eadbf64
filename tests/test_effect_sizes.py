"""Effect sizes agree with metafor's escalc to relative 1e-6; bad input is named by row and column.

The reference values come from tests/reference/effects.R (metafor 3.8-1 with
metadat): dat.normand1999 (MD, SMD, ROM), dat.bcg (2x2 cells), dat.hine1989,
dat.yusuf1985 and dat.collins1985a (zero cells, double zeros, missing counts),
a constructed table of double zeros, dat.molloy2014 (COR, ZCOR), and generic
estimates reported with an SE, a CI or a p-value.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture
from srma import InputError, SrmaWarning, effect_sizes
from srma.stats import effects

FIXTURES = ("continuous", "binary", "correlation", "generic")


def _cases() -> list[tuple[str, dict]]:
    return [
        (kind, case) for kind in FIXTURES for case in load_fixture(f"effects_{kind}.json")["cases"]
    ]


def _case_id(item: tuple[str, dict]) -> str:
    _, case = item
    options = "-".join(f"{key}={value}" for key, value in case["settings"].items())
    return f"{case['data']}-{case['measure']}-{options}".rstrip("-")


def _as_float(values: list[float | None]) -> np.ndarray:
    return np.array([np.nan if value is None else value for value in values], dtype=float)


@pytest.mark.parametrize("item", _cases(), ids=_case_id)
def test_effect_sizes_match_escalc(item: tuple[str, dict]) -> None:
    kind, case = item
    data = load_fixture(f"effects_{kind}.json")["data"][case["data"]]
    frame = pd.DataFrame(data["input"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        out = effect_sizes(frame, case["measure"], **case["settings"], **data["columns"])
    expected_yi, expected_vi = _as_float(case["yi"]), _as_float(case["vi"])
    # escalc recodes infinite values to NA, as srma does, but keeps a variance of 0 (RD with
    # proportions of 0 or 1 in both groups and no correction); srma leaves that study out
    zero_variance = expected_vi == 0
    expected_yi[zero_variance] = np.nan
    expected_vi[zero_variance] = np.nan
    np.testing.assert_allclose(out["yi"], expected_yi, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(out["vi"], expected_vi, rtol=1e-6, atol=1e-12)


def test_fixtures_cover_every_measure_and_correction() -> None:
    cases = [case for _, case in _cases()]
    assert {case["measure"] for case in cases} == {
        "MD", "SMD", "ROM", "RR", "OR", "RD", "PETO", "COR", "ZCOR", "GEN"
    }  # fmt: skip
    binary = [case for case in cases if case["measure"] in ("RR", "OR", "RD", "PETO")]
    assert {case["settings"]["to"] for case in binary} == {"only0", "all", "if0all", "none"}
    assert {case["settings"]["drop00"] for case in binary} == {True, False}


ZEROS = pd.DataFrame(
    {
        "study": ["A", "B", "C"],
        "events1": [0, 2, 3],
        "total1": [10, 10, 10],
        "events2": [0, 1, 4],
        "total2": [10, 10, 10],
    }
)


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_ratios_drop_double_zero_studies_with_a_warning_naming_them(measure: str) -> None:
    with pytest.warns(SrmaWarning, match=r"double-zero.*A \(row 1\)"):
        out = effect_sizes(ZEROS, measure)
    assert np.isnan(out.loc[0, ["yi", "vi"]].astype(float)).all()
    assert np.isfinite(out.loc[1:, ["yi", "vi"]].to_numpy(dtype=float)).all()


def test_double_zero_studies_are_kept_when_asked_and_for_differences() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        kept = effect_sizes(ZEROS, "OR", drop00=False)
        rd = effect_sizes(ZEROS, "RD")
    # 0.5 added to every cell: log((0.5 * 10.5) / (10.5 * 0.5)) = 0
    assert kept.loc[0, "yi"] == 0.0
    assert kept.loc[0, "vi"] == pytest.approx(2 / 0.5 + 2 / 10.5)
    assert rd.loc[0, "yi"] == 0.0 and rd.loc[0, "vi"] > 0


def test_zero_cells_without_a_correction_are_left_out_with_a_warning() -> None:
    with pytest.warns(SrmaWarning, match=r"undefined.*A \(row 1\)"):
        out = effect_sizes(ZEROS, "RD", to="none")
    assert np.isnan(out.loc[0, "vi"])  # 0/10 vs 0/10: no variance
    assert np.isfinite(out.loc[1:, "vi"]).all()
    with pytest.warns(SrmaWarning, match=r"undefined.*A \(row 1\)"):
        effect_sizes(ZEROS, "RR", to="none", drop00=False, label="study")


def test_if0all_corrects_every_table_when_one_has_a_zero_cell() -> None:
    only0 = effect_sizes(ZEROS.iloc[1:], "RD")
    if0all = effect_sizes(ZEROS, "RD", to="if0all")
    assert only0.loc[1, "yi"] == pytest.approx(0.1)
    assert if0all.loc[1, "yi"] == pytest.approx(2.5 / 11 - 1.5 / 11)


def test_events_and_cells_and_mapped_names_agree() -> None:
    by_cells = effect_sizes(pd.DataFrame({"a": [5], "b": [15], "c": [10], "d": [10]}), "RR")
    by_events = effect_sizes(
        pd.DataFrame({"e1": [5], "N1": [20], "e2": [10], "N2": [20]}),
        "RR",
        events1="e1",
        total1="N1",
        events2="e2",
        total2="N2",
    )
    mapped_cells = effect_sizes(
        pd.DataFrame({"tpos": [5], "tneg": [15], "cpos": [10], "cneg": [10]}),
        "rr",
        a="tpos",
        b="tneg",
        c="cpos",
        d="cneg",
    )
    for out in (by_cells, by_events, mapped_cells):
        assert out["yi"].iloc[0] == pytest.approx(np.log(0.5))
        assert out["vi"].iloc[0] == pytest.approx(1 / 5 - 1 / 20 + 1 / 10 - 1 / 20)


def test_output_is_a_copy_with_the_input_index_and_columns() -> None:
    frame = pd.DataFrame(
        {"r": [0.3, 0.5], "n": [50, 80], "note": ["x", "y"]}, index=pd.Index([10, 20], name="id")
    )
    out = effect_sizes(frame, "ZCOR")
    assert list(out.columns) == ["r", "n", "note", "yi", "vi"]
    assert out.index.equals(frame.index)
    assert "yi" not in frame.columns
    np.testing.assert_allclose(out["yi"], np.arctanh([0.3, 0.5]))
    np.testing.assert_allclose(out["vi"], [1 / 47, 1 / 77])


Z95 = 1.959963984540054


def test_generic_inputs() -> None:
    out = effect_sizes(pd.DataFrame({"yi": [0.5, -0.2], "sei": [0.1, 0.2]}), "GEN")
    np.testing.assert_allclose(out["vi"], [0.01, 0.04])
    out = effect_sizes(pd.DataFrame({"yi": [0.5], "vi": [0.02]}), "GEN")
    assert out["vi"].iloc[0] == 0.02
    ratio = pd.DataFrame({"hr": [2.0], "lo": [1.0], "hi": [4.0]})
    out = effect_sizes(ratio, "GEN", log=True, yi="hr", ci_lower="lo", ci_upper="hi")
    assert out["yi"].iloc[0] == pytest.approx(np.log(2.0))
    assert np.sqrt(out["vi"].iloc[0]) == pytest.approx(np.log(4.0) / (2 * Z95))
    difference = pd.DataFrame({"yi": [1.0], "ci_lower": [-1.0], "ci_upper": [3.0]})
    out = effect_sizes(difference, "GEN", level=0.9)
    assert np.sqrt(out["vi"].iloc[0]) == pytest.approx(4.0 / (2 * 1.6448536269514722))
    p = effect_sizes(pd.DataFrame({"yi": [0.3], "pvalue": [0.05]}), "GEN")
    assert np.sqrt(p["vi"].iloc[0]) == pytest.approx(0.3 / Z95)


def test_generic_p_value_without_information_is_left_out_with_a_warning() -> None:
    frame = pd.DataFrame({"yi": [0.3, 0.0, 0.2], "pvalue": [0.04, 0.5, 1.0]})
    with pytest.warns(SrmaWarning, match=r"row 2, row 3"):
        out = effect_sizes(frame, "GEN")
    assert np.isfinite(out["vi"].iloc[0]) and out["vi"].iloc[1:].isna().all()


def test_blank_cells_give_missing_effects_without_errors_or_warnings() -> None:
    frame = pd.DataFrame(
        {
            "mean1": [1.0, None, 2.0],
            "sd1": [1, 1, ""],
            "n1": [10, 10, 10],
            "mean2": [0, 0, 0],
            "sd2": [1, 1, 1],
            "n2": [10, 10, 10],
        }
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        out = effect_sizes(frame, "SMD")
        binary = effect_sizes(
            pd.DataFrame({"a": [1, None], "b": [9, 9], "c": [2, 2], "d": [8, 8]}), "OR"
        )
    assert np.isfinite(out.loc[0, "yi"]) and out.loc[1:, ["yi", "vi"]].isna().all().all()
    assert np.isfinite(binary.loc[0, "yi"]) and np.isnan(binary.loc[1, "yi"])


CONTINUOUS_ROW = {"mean1": 1, "sd1": 1, "n1": 10, "mean2": 0, "sd2": 1, "n2": 10}


def _continuous(**changes: list) -> dict:
    """Two valid rows for MD, SMD and ROM, with ``changes`` in place of some columns."""
    frame = {column: [value, value] for column, value in CONTINUOUS_ROW.items()}
    frame["mean2"] = [0.5, 0.5]
    return {**frame, **changes}


def _mapped_sd1(values: list) -> dict:
    """Valid continuous rows whose sd1 column is called ``SD_T``, holding ``values``."""
    frame = _continuous(SD_T=values)
    del frame["sd1"]
    return frame


BINARY_ROW = {"events1": [3, 4], "total1": [10, 10], "events2": [1, 2], "total2": [10, 10]}

BAD_INPUT = [
    ("MD", _continuous(mean1=[1, "abc"]), {}, "mean1", 2, "expected a number, got 'abc'"),
    ("MD", _continuous(sd2=[1, "inf"]), {}, "sd2", 2, "finite"),
    ("SMD", _continuous(sd1=[1, 0]), {}, "sd1", 2, "standard deviation must be > 0, got 0"),
    ("MD", _continuous(sd2=[-1, 1]), {}, "sd2", 1, "standard deviation must be > 0, got -1"),
    ("SMD", _continuous(n1=[10, 1]), {}, "n1", 2, "group size must be at least 2"),
    ("ROM", _continuous(n2=[1, 10]), {}, "n2", 1, "group size must be at least 2"),
    ("ROM", _continuous(mean1=[1, -2]), {}, "mean1", 2, "mean must be > 0"),
    ("SMD", _mapped_sd1([1, -1]), {"sd1": "SD_T"}, "SD_T", 2, "standard deviation must be > 0"),
    ("RR", {**BINARY_ROW, "events2": [1, 12]}, {}, "events2", 2, "must not exceed the group size"),
    ("OR", {**BINARY_ROW, "events1": [-3, 4]}, {}, "events1", 1, "events must be >= 0"),
    ("RD", {**BINARY_ROW, "total1": [10, 0]}, {}, "total1", 2, "group size must be at least 1"),
    (
        "PETO",
        {"a": [1, 2], "b": [5, -5], "c": [1, 1], "d": [5, 5]},
        {},
        "b",
        2,
        "count must be >= 0",
    ),
    (
        "OR",
        {"a": [1, 0], "b": [5, 0], "c": [1, 1], "d": [5, 5]},
        {},
        "b",
        2,
        r"participants \(a \+ b > 0\)",
    ),
    ("COR", {"r": [0.5, 1.2], "n": [20, 30]}, {}, "r", 2, r"must lie in \[-1, 1\], got 1.2"),
    ("ZCOR", {"r": [-1.0, 0.2], "n": [20, 30]}, {}, "r", 1, "no sampling variance"),
    ("ZCOR", {"r": [0.5, 0.2], "n": [20, 3]}, {}, "n", 2, "must be at least 4, got 3"),
    ("COR", {"r": [0.5, 0.2], "n": [2, 30]}, {}, "n", 1, "must be at least 3, got 2"),
    ("GEN", {"yi": [0.1, 0.2], "vi": [0.1, 0.0]}, {}, "vi", 2, "variance must be > 0"),
    ("GEN", {"yi": [0.1], "sei": [-0.1]}, {}, "sei", 1, "standard error must be > 0"),
    ("GEN", {"yi": [0.1], "pvalue": [0.0]}, {}, "pvalue", 1, r"must lie in \(0, 1\], got 0"),
    ("GEN", {"yi": [0.1, 0.2], "pvalue": [0.5, 1.5]}, {}, "pvalue", 2, r"in \(0, 1\]"),
    (
        "GEN",
        {"yi": [0.1, 0.2], "ci_lower": [0.0, 0.5], "ci_upper": [0.3, 0.1]},
        {},
        "ci_lower",
        2,
        "must be below the upper limit in 'ci_upper'",
    ),
    (
        "GEN",
        {"yi": [0.1, 0.9], "ci_lower": [0.0, 0.1], "ci_upper": [0.3, 0.5]},
        {},
        "yi",
        2,
        "must lie inside its confidence interval",
    ),
    (
        "GEN",
        {"yi": [0.0, 2.0], "ci_lower": [-1.0, 1.0], "ci_upper": [1.0, 3.0]},
        {"log": True},
        "yi",
        1,
        "ratio must be > 0 to take logs",
    ),
]


@pytest.mark.parametrize(
    ("measure", "frame", "options", "column", "row", "message"),
    BAD_INPUT,
    ids=[f"{case[0]}-{case[3]}-{case[5]}" for case in BAD_INPUT],
)
def test_bad_input_names_file_row_and_column(
    measure: str, frame: dict, options: dict, column: str, row: int, message: str
) -> None:
    with pytest.raises(InputError, match=message) as error:
        effect_sizes(pd.DataFrame(frame), measure, source="data.csv", **options)
    assert (error.value.file, error.value.row, error.value.column) == ("data.csv", row, column)
    assert str(error.value).startswith(f"file data.csv, row {row}, column '{column}': ")


def test_missing_columns_are_named() -> None:
    with pytest.raises(
        InputError, match=r"columns 'sd1', .* not found; the table has mean1"
    ) as error:
        effect_sizes(pd.DataFrame({"mean1": [1]}), "MD", source="x.csv")
    assert (error.value.column, error.value.row, error.value.file) == ("sd1", None, "x.csv")
    with pytest.raises(InputError, match="column 'sd_t' not found") as error:
        effect_sizes(pd.DataFrame(_continuous()), "MD", sd1="sd_t")
    assert error.value.column == "sd_t"
    with pytest.raises(InputError, match="GEN needs yi with one of"):
        effect_sizes(pd.DataFrame({"yi": [0.1]}), "GEN")


@pytest.mark.parametrize(
    ("measure", "options", "message"),
    [
        ("HR2", {}, "unknown measure 'HR2'"),
        ("SMD", {"r": "corr"}, "SMD has no column role"),
        ("OR", {"to": "sometimes"}, "unknown to .sometimes.; expected one of only0"),
        ("OR", {"add": -0.5}, "add must be"),
        ("GEN", {"level": 95}, "level must lie between 0 and 1"),
    ],
)
def test_bad_options(measure: str, options: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        effect_sizes(pd.DataFrame(BINARY_ROW), measure, **options)


def test_an_empty_table_is_an_error() -> None:
    with pytest.raises(InputError, match="no rows"):
        effect_sizes(pd.DataFrame({column: [] for column in CONTINUOUS_ROW}), "MD")


# --- layer 1: shapes and closed forms ---------------------------------------


def test_hedges_correction_closed_forms() -> None:
    """c(2) = Γ(1)/Γ(1/2) = 1/√π and c(3) = Γ(3/2)/(√1.5 Γ(1)) = √π/(2√1.5); NaN for m <= 1."""
    c = effects.small_sample_correction([2.0, 3.0, 1.0, 500.0])
    np.testing.assert_allclose(c[:2], [1 / np.sqrt(np.pi), np.sqrt(np.pi) / (2 * np.sqrt(1.5))])
    assert np.isnan(c[2])
    assert c[3] == pytest.approx(1 - 3 / (4 * 500 - 1), rel=1e-6)


def test_formulas_broadcast_over_a_batch_axis() -> None:
    """(batch, k) cells give (batch, k) effects; if0all corrects per meta-analysis (last axis)."""
    a = np.array([[0.0, 3.0, 4.0], [2.0, 3.0, 4.0]])
    yi, vi = effects.binary_effect("RD", a, 10 - a, 2.0, 8.0, to="if0all")
    assert yi.shape == vi.shape == (2, 3)
    row0 = effects.binary_effect("RD", a[0], 10 - a[0], 2.0, 8.0, to="all")
    row1 = effects.binary_effect("RD", a[1], 10 - a[1], 2.0, 8.0, to="none")
    np.testing.assert_allclose(yi, np.stack([row0[0], row1[0]]))
    g, v = effects.standardized_mean_difference(np.ones((4, 1)), 1.0, [[10, 20, 30]], 0.0, 1.0, 10)
    assert g.shape == v.shape == (4, 3)


# --- properties --------------------------------------------------------------

counts = st.integers(min_value=0, max_value=500)


@settings(max_examples=200, deadline=None)
@given(
    e1=counts,
    extra1=st.integers(1, 500),
    e2=counts,
    extra2=st.integers(1, 500),
    measure=st.sampled_from(["RR", "OR", "RD", "PETO"]),
)
def test_swapping_groups_negates_the_effect(e1, extra1, e2, extra2, measure) -> None:
    one = {"events1": [e1], "total1": [e1 + extra1], "events2": [e2], "total2": [e2 + extra2]}
    two = {"events1": [e2], "total1": [e2 + extra2], "events2": [e1], "total2": [e1 + extra1]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        first = effect_sizes(pd.DataFrame(one), measure).iloc[0]
        second = effect_sizes(pd.DataFrame(two), measure).iloc[0]
    if e1 == e2 == 0 and measure in ("RR", "OR"):  # double zero: dropped
        assert np.isnan(first["yi"]) and np.isnan(second["yi"])
        return
    assert first["yi"] == pytest.approx(-second["yi"], abs=1e-12)
    assert first["vi"] == pytest.approx(second["vi"], rel=1e-12)
    assert first["vi"] > 0


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(st.integers(0, 1000), min_size=2, max_size=2),
    extra=st.lists(st.integers(0, 1000), min_size=2, max_size=2),
    measure=st.sampled_from(["RR", "OR", "RD", "PETO"]),
    to=st.sampled_from(["only0", "all", "if0all"]),
)
def test_binary_effects_are_finite_with_positive_variance(events, extra, measure, to) -> None:
    if events[0] + extra[0] == 0 or events[1] + extra[1] == 0:
        return  # an empty group is rejected as bad input
    frame = pd.DataFrame({"a": [events[0]], "b": [extra[0]], "c": [events[1]], "d": [extra[1]]})
    out = effect_sizes(frame, measure, to=to, drop00=False)
    assert np.isfinite(out["yi"].iloc[0]) and out["vi"].iloc[0] > 0


positive = st.floats(0.01, 1e4)


@settings(max_examples=200, deadline=None)
@given(
    means=st.lists(positive, min_size=2, max_size=2),
    sds=st.lists(positive, min_size=2, max_size=2),
    ns=st.lists(st.integers(2, 10_000), min_size=2, max_size=2),
    measure=st.sampled_from(["MD", "SMD", "ROM"]),
    sign=st.sampled_from([1.0, -1.0]),
)
def test_continuous_effects_are_finite_with_positive_variance(
    means, sds, ns, measure, sign
) -> None:
    if measure != "ROM":
        means = [sign * means[0], means[1]]
    frame = pd.DataFrame(
        {
            "mean1": [means[0]],
            "sd1": [sds[0]],
            "n1": [ns[0]],
            "mean2": [means[1]],
            "sd2": [sds[1]],
            "n2": [ns[1]],
        }
    )
    out = effect_sizes(frame, measure)
    assert np.isfinite(out["yi"].iloc[0]) and out["vi"].iloc[0] > 0


@settings(max_examples=200, deadline=None)
@given(
    r=st.floats(-0.999, 0.999),
    n=st.integers(4, 100_000),
    measure=st.sampled_from(["COR", "ZCOR"]),
)
def test_correlation_effects_are_finite_with_positive_variance(r, n, measure) -> None:
    out = effect_sizes(pd.DataFrame({"r": [r], "n": [n]}), measure)
    assert np.isfinite(out["yi"].iloc[0]) and out["vi"].iloc[0] > 0


@settings(max_examples=200, deadline=None)
@given(
    estimate=st.floats(0.01, 100.0),
    half_width=st.lists(st.floats(0.001, 50.0), min_size=2, max_size=2),
    p=st.floats(1e-12, 0.999),
)
def test_generic_effects_are_finite_with_positive_variance(estimate, half_width, p) -> None:
    ci = pd.DataFrame(
        {
            "yi": [estimate],
            "ci_lower": [estimate - half_width[0]],
            "ci_upper": [estimate + half_width[1]],
        }
    )
    by_p = pd.DataFrame({"yi": [estimate], "pvalue": [p]})
    for out in (effect_sizes(ci, "GEN"), effect_sizes(by_p, "GEN")):
        assert np.isfinite(out["yi"].iloc[0]) and out["vi"].iloc[0] > 0
