"""``srma audit-published``: each check's worked example, the seeds' reported results, and a
property test (a row consistent by construction yields no finding).

The arithmetic of every worked example is written out next to its assertion.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from srma.analysis.audit import CHECKS, audit_published, parse_reported
from srma.cli import app

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "published_results.csv"
runner = CliRunner()


def audit(**cells: object) -> list[tuple[str, str, object, str]]:
    """The findings of a one-row table: (check, reported, recomputed, severity)."""
    table = pd.DataFrame([{name: str(value) for name, value in cells.items()}])
    return [
        (f.check, f.reported, f.recomputed, f.severity)
        for f in audit_published(table, source="t.csv").findings
    ]


def checks(**cells: object) -> list[str]:
    return [check for check, *_ in audit(**cells)]


# --- reported numbers and their rounding ---------------------------------------------


def test_a_printed_number_stands_for_its_rounding_interval() -> None:
    # 0.024 has three decimals: half a unit of the last is 0.0005
    p = parse_reported("0.024")
    assert p.low == pytest.approx(0.0235) and p.high == pytest.approx(0.0245)
    # 0.40 keeps its two decimals as text (a float would read 0.4: 0.35 to 0.45)
    assert parse_reported("0.40").high == pytest.approx(0.405)
    assert parse_reported(0.40).high == pytest.approx(0.45)
    # a bound: p < 0.001 is any value up to 0.001; a typeset minus reads as a minus
    bound = parse_reported("< 0.001", bounds_allowed=True)
    assert (bound.relation, bound.high) == ("<", 0.001)
    assert parse_reported("\u22120.45").value == -0.45
    # 1.2e-3 has one decimal in units of 1e-3: 1.15e-3 to 1.25e-3
    assert parse_reported("1.2e-3").low == pytest.approx(1.15e-3)
    for text in ("abc", "1.2.3", "inf", "", "<0.05"):
        with pytest.raises(ValueError):
            parse_reported(text)


# --- each check's worked example ---------------------------------------------------


def test_n_sum_is_an_error_when_the_arms_do_not_add_up() -> None:
    # Huang 2024's abstract: 316 people, 159 MSC + 147 control = 306
    assert audit(n_total=316, n_treatment=159, n_control=147) == [("n_sum", "316", 306, "error")]
    assert audit(n_total=78, n_treatment=38, n_control=40) == []  # 38 + 40 = 78


def test_counts_must_be_whole_and_k_at_least_one() -> None:
    assert checks(k=2.5, n_total=10.5, n_treatment=5, n_control=5) == [
        "count_whole", "count_whole"
    ]  # fmt: skip
    assert checks(k=0) == ["count_whole"]
    # q_df against k: 5 studies give df = 4
    assert audit(k=5, q_df=3) == [("q_df", "3", 4, "warning")]


def test_p_values_and_i2_must_be_possible() -> None:
    assert audit(p_value=1.2) == [("p_range", "1.2", None, "error")]
    assert audit(i2_percent=120) == [("i2_range", "120", None, "error")]
    assert audit(i2_percent=-3) == [("i2_range", "-3", None, "error")]
    # I² = 95% on 2 df: Q = 2 / 0.05 = 40, p = exp(-20) = 2e-9, printed 0.000
    assert audit(egger_p="<0.001", q_p_value="0.000", i2_percent="95", k=3) == []


def test_estimate_outside_its_ci_is_an_error_and_a_flipped_sign_is_named() -> None:
    # 1.5 outside (-0.8, -0.2); the midpoint (-0.8 - 0.2) / 2 = -0.5 is recomputed
    assert audit(measure="MD", estimate=1.5, ci_lower=-0.8, ci_upper=-0.2) == [
        ("estimate_in_ci", "1.5", -0.5, "error")
    ]
    # 0.5 outside (-0.8, -0.2), but -0.5 inside: the sign flipped
    assert audit(measure="MD", estimate=0.5, ci_lower=-0.8, ci_upper=-0.2) == [
        ("direction", "0.5", -0.5, "error")
    ]
    # a ratio: 1 / 2.0 = 0.5 lies inside (0.3, 0.8); midpoint exp((ln 0.3 + ln 0.8) / 2)
    # = sqrt(0.24) = 0.4899
    [(check, _, midpoint, severity)] = audit(measure="RR", estimate=2.0, ci_lower=0.3,
                                             ci_upper=0.8)  # fmt: skip
    assert (check, severity) == ("direction", "error")
    assert midpoint == pytest.approx(math.sqrt(0.24))


def test_a_ci_upside_down_or_a_ratio_at_zero_is_an_error() -> None:
    assert audit(measure="MD", estimate=0.5, ci_lower=0.9, ci_upper=0.1) == [
        ("ci_order", "(0.9, 0.1)", None, "error")
    ]
    assert audit(measure="RR", estimate="0.00", ci_lower=0.5, ci_upper=2) == [
        ("ratio_positive", "0.00", None, "error")
    ]


def test_ci_symmetry_on_the_analysis_scale() -> None:
    # MD 1.0 (0.2, 1.2): midpoint 0.7; rounding allows (0.15 + 1.15) / 2 = 0.65 to
    # (0.25 + 1.25) / 2 = 0.75, and 1.0 allows 0.95 to 1.05: no overlap
    assert audit(measure="MD", estimate="1.0", ci_lower=0.2, ci_upper=1.2) == [
        ("ci_symmetry", "1.0", pytest.approx(0.7), "warning")
    ]
    # Hassanein 2024's NIHSS: (-4.123 + 0.494) / 2 = -1.8145, rounding allows -1.815 to
    # -1.814; -1.81 allows -1.815 to -1.805: they meet at -1.815, so no finding
    assert audit(measure="MD", estimate=-1.81, ci_lower=-4.123, ci_upper=0.494) == []
    # Huang 2024's adverse events, RR 0.68 (0.40, 1.17): symmetric on the log scale,
    # sqrt(0.40 x 1.17) = 0.684, not on the ratio scale ((0.40 + 1.17) / 2 = 0.785)
    assert audit(measure="RR", estimate=0.68, ci_lower="0.40", ci_upper=1.17) == []


def test_p_from_the_ci_altman_bland_2011() -> None:
    # Altman & Bland 2011 (BMJ 343:d2090), RR 0.81 (0.70 to 0.94): on the log scale
    # estimate -0.2107, SE = (ln 0.94 - ln 0.70) / (2 x 1.96) = (-0.0619 + 0.3567) / 3.92
    # = 0.0752, z = 0.2107 / 0.0752 = 2.80, p = 0.005
    row = {"measure": "RR", "estimate": 0.81, "ci_lower": "0.70", "ci_upper": 0.94}
    assert audit(**row, p_value=0.005) == []
    [(check, reported, p, severity)] = audit(**row, p_value=0.05)
    assert (check, reported, severity) == ("p_from_ci", "0.05", "warning")
    se = (math.log(0.94) - math.log(0.70)) / (2 * 1.959964)
    assert p == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(abs(math.log(0.81) / se) / 2**0.5))))
    assert p == pytest.approx(0.00508, abs=5e-5)
    [finding] = audit_published(pd.DataFrame([{**row, "p_value": "0.05"}])).findings
    assert "z test" in finding.detail and "Hartung-Knapp" in finding.detail
    assert "excludes the null but the p-value is not below 0.05" in finding.detail


def test_i2_from_q_higgins_thompson() -> None:
    # Q = 10 on k - 1 = 4 df: I² = 100 (10 - 4) / 10 = 60; Q printed as 10 allows 9.5 to
    # 10.5, so I² from 100 x 5.5 / 9.5 = 57.89 to 100 x 6.5 / 10.5 = 61.90
    assert audit(k=5, q=10, i2_percent=70) == [("i2_from_q", "70", 60.0, "warning")]
    assert audit(k=5, q=10, i2_percent=60) == []
    assert audit(k=5, q="10", i2_percent=58) == []  # 58 allows 57.5 to 58.5: inside
    assert audit(k=5, q=3, i2_percent=0) == []  # Q < df: I² is truncated at 0


def test_q_p_value_is_the_chi2_survival() -> None:
    # chi² on 4 df: P(X > x) = exp(-x/2) (1 + x/2); x = 10: exp(-5) x 6 = 0.040428
    [(check, reported, p, severity)] = audit(k=5, q=10, q_p_value=0.01)
    assert (check, reported, severity) == ("q_p_value", "0.01", "warning")
    assert p == pytest.approx(math.exp(-5) * 6)
    assert audit(k=5, q=10, q_p_value=0.04) == []


def test_q_from_i2_and_k() -> None:
    # Huang 2024's Barthel index: I² = 73.2%, k = 3, so df = 2 and Q = 2 / (1 - 0.732)
    # = 7.4627; chi² on 2 df: P(X > x) = exp(-x/2) = exp(-3.7313) = 0.0240 (reported 0.024)
    assert audit(k=3, i2_percent=73.2, q_p_value=0.024) == []
    [(check, reported, p, severity)] = audit(k=3, i2_percent=73.2, q_p_value=0.03)
    assert (check, reported, severity) == ("q_from_i2", "0.03", "warning")
    assert p == pytest.approx(math.exp(-(2 / (1 - 0.732)) / 2))
    # I² = 0 says only Q <= df: any p from P(chi²_2 > 2 / 0.995) = exp(-1.005) = 0.366 to 1
    assert audit(k=3, i2_percent=0, q_p_value=0.5) == []
    assert checks(k=3, i2_percent=0, q_p_value=0.2) == ["q_from_i2"]


def test_the_direction_against_numbers_quoted_in_the_note() -> None:
    note = "abstract prints 'SMD=0.45, 95% CI (1.11, 0.21)'; results print -0.45 (-1.11, 0.21)"
    found = audit(measure="SMD", estimate=-0.45, ci_lower=-1.11, ci_upper=0.21, note=note)
    assert found == [
        ("text_direction", "SMD=0.45", -0.45, "warning"),
        ("text_ci_order", "(1.11, 0.21)", None, "error"),
        ("text_value", "(1.11, 0.21)", None, "warning"),
    ]
    # prose outside quotation marks, other measures and apostrophes are not read
    quiet = "Huang's abstract: SMD=0.45; 'MD 0.45' and \"SMD = -0.45 (95% CI [-1.11; 0.21])\""
    assert audit(measure="SMD", estimate=-0.45, ci_lower=-1.11, ci_upper=0.21, note=quiet) == []
    # a ratio quoted below 1 when the row's is above
    assert checks(measure="RR", estimate=1.4, ci_lower=1.1, ci_upper=1.8, note="'RR 0.71'") == [
        "text_direction"
    ]


def test_every_check_has_a_worked_example_here() -> None:
    text = Path(__file__).read_text(encoding="utf-8")
    for name in CHECKS:
        assert f'"{name}"' in text, name


# --- the seeds' reported results -----------------------------------------------------


def test_the_seeds_published_results() -> None:
    """shared/reference/published_results.csv, findings checked by hand against the seeds.

    Huang 2024 (BMC Neurology) abstract: "involving a total of 316 people, including 159
    mesenchymal stem cells and 147 control groups" (159 + 147 = 306); and "modified rankin
    score [SMD=0.45, 95% CI (1.11, 0.21)]" where the results section prints
    "[SMD=-0.45,95%CI (-1.11, 0.21)]".  Its I² and Q p-values agree with k (for example
    NIHSS: Q = 3 / (1 - 0.732) = 11.194, P(chi²_3 > 11.194) = 0.0107, printed 0.011), and
    its CIs are symmetric on the analysis scale; Hassanein 2024 gives no p with a CI.
    """
    table = pd.read_csv(REFERENCE, dtype=str, keep_default_na=False, na_values=[""])
    result = audit_published(table, source=str(REFERENCE))
    assert result.rows == 10
    found = [(f.row, f.source, f.outcome, f.check, f.reported, f.recomputed, f.severity)
             for f in result.findings]  # fmt: skip
    assert found == [
        (3, "huang2024", "modified Rankin scale", "text_direction", "SMD=0.45", -0.45, "warning"),
        (3, "huang2024", "modified Rankin scale", "text_ci_order", "(1.11, 0.21)", None, "error"),
        (3, "huang2024", "modified Rankin scale", "text_value", "(1.11, 0.21)", None, "warning"),
        (5, "huang2024", "all included trials", "n_sum", "316", 306, "error"),
    ]
    assert (result.errors, result.warnings) == (2, 2)


# --- the command ---------------------------------------------------------------------


def test_the_command_prints_json_as_the_issue_specifies() -> None:
    result = runner.invoke(app, ["audit-published", str(REFERENCE), "--json"])
    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert set(output) == {"rows", "findings"} and output["rows"] == 10
    assert {"row", "source", "outcome", "check", "reported", "recomputed", "severity"} <= set(
        output["findings"][0]
    )
    assert [f["check"] for f in output["findings"]] == [
        "text_direction", "text_ci_order", "text_value", "n_sum"
    ]  # fmt: skip


def test_the_command_prints_a_table(tmp_path: Path) -> None:
    result = runner.invoke(app, ["audit-published", str(REFERENCE)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "n_sum" in result.stdout and "306" in result.stdout
    assert "10 rows checked: 2 error(s), 2 warning(s)" in result.stdout
    data = tmp_path / "markup.csv"
    # a source that looks like rich markup is shown as written
    data.write_text("source,n_total,n_treatment,n_control\n[red]a[/red],10,4,5\n")
    shown = runner.invoke(app, ["audit-published", str(data)], env={"COLUMNS": "200"})
    assert shown.exit_code == 0 and "[red]a[/red]" in shown.stdout and "n_sum" in shown.stdout
    data.write_text("source,measure,estimate,ci_lower,ci_upper\na,MD,0.5,0.1,0.9\n")
    clean = runner.invoke(app, ["audit-published", str(data)], env={"COLUMNS": "200"})
    assert clean.exit_code == 0 and "1 row checked, no findings" in clean.stdout


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("source,estimat\na,0.5\n", ["column 'estimat'", "unknown column"]),
        ("source,estimate\na,0.5\nb,about 0.4\n", ["row 2", "column 'estimate'", "about 0.4"]),
        ("source,k\na,five\n", ["row 1", "column 'k'", "expected a number"]),
        ("source,p_value\na,p=0.04\n", ["row 1", "column 'p_value'", "< 0.001"]),
        ("source,measure\na,Hedges\n", ["row 1", "column 'measure'", "unknown measure"]),
        ("", ["empty"]),
    ],
)
def test_bad_input_names_file_row_and_column(tmp_path: Path, text: str, words: list[str]) -> None:
    data = tmp_path / "published.csv"
    data.write_text(text)
    result = runner.invoke(app, ["audit-published", str(data)])
    assert result.exit_code == 1, result.output
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("error: ") and str(data) in line and "unexpected" not in line
    for word in words:
        assert word in line, line


def test_a_missing_file_is_one_line() -> None:
    result = runner.invoke(app, ["audit-published", "no/such.csv"])
    assert result.exit_code == 1 and "no such file" in result.stderr


# --- property: consistent by construction, no finding ----------------------------------


def _printed(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


@settings(max_examples=60, deadline=None)
@given(
    effects=st.lists(st.floats(-1.0, 1.0), min_size=2, max_size=12),
    variances=st.lists(st.floats(0.01, 0.5), min_size=12, max_size=12),
    ratio=st.booleans(),
    arms=st.tuples(st.integers(0, 500), st.integers(0, 500)),
)
def test_a_simulated_meta_analysis_rounded_to_two_decimals_yields_no_finding(
    effects: list[float], variances: list[float], ratio: bool, arms: tuple[int, int]
) -> None:
    from srma.analysis.meta import meta

    k = len(effects)
    fit = meta(np.array(effects), np.array(variances[:k]), method="DL", test="z")
    scale = math.exp if ratio else float
    measure = "RR" if ratio else "MD"
    estimate, lower, upper = (_printed(scale(v)) for v in (fit.estimate, fit.ci_lower,
                                                            fit.ci_upper))  # fmt: skip
    row = {
        "source": "simulated", "outcome": "o", "measure": measure, "model": "random",
        "k": str(k), "n_total": str(sum(arms)), "n_treatment": str(arms[0]),
        "n_control": str(arms[1]), "estimate": estimate, "ci_lower": lower, "ci_upper": upper,
        "p_value": _printed(fit.pvalue), "i2_percent": _printed(fit.i2), "q": _printed(fit.q),
        "q_df": str(k - 1), "q_p_value": _printed(fit.q_pvalue), "note":
        f"abstract prints '{measure}={estimate}, 95% CI ({lower}, {upper})'",
    }  # fmt: skip
    assert audit_published(pd.DataFrame([row])).findings == ()


@settings(max_examples=80, deadline=None)
@given(
    cell=st.text(max_size=12),
    column=st.sampled_from(["k", "n_total", "estimate", "ci_lower", "i2_percent", "q",
                            "p_value", "q_p_value"]),
    row=st.integers(0, 2),
)  # fmt: skip
def test_any_cell_is_read_as_a_number_or_named_in_an_error(
    cell: str, column: str, row: int
) -> None:
    from srma.errors import InputError

    table = pd.DataFrame({"source": ["a", "b", "c"], column: ["1", "2", "3"]})
    table.loc[row, column] = cell
    try:
        result = audit_published(table, source="hostile.csv")
    except InputError as error:
        assert (error.file, error.row, error.column) == ("hostile.csv", row + 1, column)
        assert "expected a number" in str(error)
    else:
        assert result.rows == 3
