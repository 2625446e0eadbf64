"""Hostile CSVs through the CLI (issue 10): right answers or errors naming file, row, column.

The inputs are in tests/fixtures/hostile/; numbers at the edges of double
precision are checked against exact arithmetic in test_extreme_inputs.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from srma.cli import app

runner = CliRunner()
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
EFFECTS = np.array([0.1, 0.5, -0.2, 0.8, 0.3, 0.05, 0.6, -0.4, 0.25])


def _meta(name: str, *options: str) -> dict:
    result = runner.invoke(app, ["meta", str(HOSTILE / name), "--yi", "yi", *options, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _error(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    return " ".join(result.output.split())


@pytest.mark.parametrize("method", ["DL", "REML", "PM"])
def test_tiny_variances_give_the_sample_variance(method: str) -> None:
    out = _meta("tiny_variances.csv", "--vi", "vi", "--method", method)
    assert out["converged"] is True
    assert out["tau2"] == pytest.approx(np.var(EFFECTS, ddof=1), rel=1e-9)
    assert out["estimate"] == pytest.approx(EFFECTS.mean(), rel=1e-12)
    assert out["q"] == pytest.approx(np.var(EFFECTS, ddof=1) * 8 / 1e-300, rel=1e-9)


def test_one_huge_variance_weighs_nothing() -> None:
    out = _meta("one_huge_variance.csv", "--vi", "vi", "--method", "REML")
    # a study of variance 1e300 carries no weight: REML of the other eight (equal v)
    assert out["converged"] is True
    assert out["tau2"] == pytest.approx(np.var(EFFECTS[1:], ddof=1) - 0.04, rel=1e-9)


@pytest.mark.parametrize(
    ("name", "row", "column", "words"),
    [
        ("huge_effects.csv", 1, "yi", "out of range"),
        ("subnormal_variances.csv", 1, "vi", "too small"),
        ("effects_1e200.csv", None, "yi", "out of range"),
    ],
)
@pytest.mark.parametrize("command", ["meta", "forest", "bias", "report"])
def test_unrepresentable_values_are_refused_by_every_command(
    tmp_path: Path, name: str, row: int | None, column: str, words: str, command: str
) -> None:
    args = [command, str(HOSTILE / name), "--yi", "yi", "--vi", "vi"]
    if command in ("forest", "report"):
        args += ["-o", str(tmp_path / ("out.png" if command == "forest" else "out.html"))]
    message = _error(args)
    assert name in message
    assert f"column '{column}'" in message
    if row is not None:
        assert f"row {row}," in message
    assert words in message
    assert "All arrays must be of the same length" not in message


def test_negative_standard_error_is_refused() -> None:
    message = _error(["meta", str(HOSTILE / "negative_se.csv"), "--yi", "yi", "--sei", "sei"])
    assert "row 2" in message and "column 'sei'" in message
    assert "standard error must be > 0" in message


def test_labels_are_shown_as_written() -> None:
    out = _meta("na_labels.csv", "--vi", "vi")
    assert out["labels"] == ["NA", "nan", "N/A", "null", "S5", "S6", "S7", "S8", ""]
    assert out["k"] == 9


@pytest.mark.parametrize("name", ["tiny_variances.csv", "one_tiny_variance.csv"])
def test_bias_and_report_with_a_variance_of_1e300(tmp_path: Path, name: str) -> None:
    """Once 'cannot convert float NaN to integer'; now numbers or a stated reason."""
    result = runner.invoke(app, ["bias", str(HOSTILE / name), "--yi", "yi", "--vi", "vi"])
    assert result.exit_code == 0, result.output
    assert "NaN to integer" not in result.output
    report = tmp_path / "report.html"
    args = ["report", str(HOSTILE / name), "--yi", "yi", "--vi", "vi", "-o", str(report)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert report.exists()


def test_kendall_sorted_equals_pairwise() -> None:
    from srma.stats.bias import _kendall_pairwise, _kendall_sorted

    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 300))
    y = np.round(rng.normal(size=(3, 300)), 1)  # with ties
    mask = np.ones_like(x, dtype=bool)
    mask[1, 250:] = False
    for fast, slow in zip(_kendall_sorted(x, y, mask), _kendall_pairwise(x, y, mask), strict=True):
        np.testing.assert_array_equal(fast, slow)


def test_bias_is_near_linear_in_k() -> None:
    """k = 100,000 studies: Begg, Egger, trim-and-fill and fail-safe N in seconds."""
    import time

    from srma import meta, small_study_tests

    rng = np.random.default_rng(1)
    k = 100_000
    fit = meta(rng.normal(0.3, 0.3, size=k), rng.uniform(0.01, 0.2, size=k), method="DL")
    start = time.perf_counter()
    result = small_study_tests(fit)
    assert time.perf_counter() - start < 60
    assert result.begg is not None and np.isfinite(result.begg.pvalue)


# --- option errors name the option as typed, for every analysis command ---------------

#: A valid call of each analysis command (``{data}`` a yi/vi table, ``{raw}`` raw MD data,
#: ``{net}`` arm estimates of a network, ``{study}`` a simulation study, ``{out}`` a folder
#: to write to); a bad option value
#: is appended to it.
VALID_CALLS = {
    "effects": ["effects", "{raw}", "--measure", "MD"],
    "meta": ["meta", "{data}", "--yi", "yi", "--vi", "vi"],
    "meta-mv": ["meta-mv", "{data}", "--yi", "yi", "--vi", "vi", "--random", "~ 1 | g/study"],
    "subgroup": ["subgroup", "{data}", "--yi", "yi", "--vi", "vi", "--by", "g"],
    "metareg": ["metareg", "{data}", "--yi", "yi", "--vi", "vi", "--mods", "~ x"],
    "sensitivity": ["sensitivity", "{data}", "--yi", "yi", "--vi", "vi"],
    "bias": ["bias", "{data}", "--yi", "yi", "--vi", "vi"],
    "forest": ["forest", "{data}", "--yi", "yi", "--vi", "vi", "-o", "{out}/f.png"],
    "funnel": ["funnel", "{data}", "--yi", "yi", "--vi", "vi", "-o", "{out}/f.png"],
    "report": ["report", "{data}", "--yi", "yi", "--vi", "vi", "-o", "{out}/r.html"],
    "sof": ["sof", "{data}", "--yi", "yi", "--vi", "vi"],
    "network": ["network", "{net}", "--measure", "GEN", "--reference", "A"],
    "simulate-methods": ["simulate-methods", "{study}", "-o", "{out}/sim", "--no-plots"],
    "living-history": ["living-history", "{project}", "-o", "{out}/history.csv"],
}
#: A simulation study small enough to run in a test (``{study}``).
SIMULATION_STUDY = """
[study]
name = "tiny"
seed = 1
repetitions = 20
block = 10

[scenarios]
k = [3]
tau2 = [0.0]
effect = [0.0]
within = ["fixed"]

[within.fixed]
distribution = "fixed"
value = 0.1

[methods]
tau2 = ["DL"]
test = ["z"]
"""
#: Commands whose options share a name with an analysis option but mean something else.
OTHER_MEANINGS = {"reviewer", "resolve", "screen", "simulate", "rob"}


def _bad_value(constraint) -> str:
    from srma.analysis.validation import Number, OneOf, Optional

    inner = constraint.inner if isinstance(constraint, Optional) else constraint
    if isinstance(inner, OneOf):
        return "no-such-choice"
    assert isinstance(inner, Number)
    return str(inner.high + 1 if inner.high < float("inf") else inner.low - 1)


def _option_cases() -> list[tuple[str, str, tuple[str, ...]]]:
    import typer.main

    from srma.analysis.validation import OPTION_CONSTRAINTS

    cases = []
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        options = [
            p for p in command.params
            if p.name in OPTION_CONSTRAINTS and not getattr(p, "is_flag", False)
        ]  # fmt: skip
        if not options or name in OTHER_MEANINGS:
            continue
        assert name in VALID_CALLS, f"add a valid call of {name!r} to VALID_CALLS"
        cases += [(name, p.name, tuple(p.opts)) for p in options]
    return cases


@pytest.mark.parametrize(("command", "option", "flags"), _option_cases())
def test_a_bad_option_value_names_the_option_as_typed(
    tmp_path: Path, command: str, option: str, flags: tuple[str, ...]
) -> None:
    from srma.analysis.validation import OPTION_CONSTRAINTS

    data = tmp_path / "data.csv"
    data.write_text(
        "study,yi,vi,g,x\n"
        + "".join(f"S{i},{0.1 * i},{0.02 + 0.01 * i},{'ab'[i % 2]},{i}\n" for i in range(8))
    )
    raw = tmp_path / "raw.csv"
    raw.write_text("study,mean1,sd1,n1,mean2,sd2,n2\nA,1,2,10,0,2,10\nB,2,1,10,0,2,10\n")
    net = tmp_path / "net.csv"
    arms = ("A", "B"), ("A", "C"), ("B", "C"), ("A", "B", "C"), ("A", "C")
    net.write_text(
        "study,treatment,yi,sei\n"
        + "".join(
            f"S{i},{arm},{0.1 * i + 0.2 * j},{0.2 + 0.01 * j}\n"
            for i, study in enumerate(arms)
            for j, arm in enumerate(study)
        )
    )
    study = tmp_path / "study.toml"
    study.write_text(SIMULATION_STUDY)
    project = tmp_path / "review"
    if "{project}" in VALID_CALLS[command]:
        assert runner.invoke(app, ["init", str(project)]).exit_code == 0
    call = [
        a.format(data=data, raw=raw, net=net, study=study, out=tmp_path, project=project)
        for a in VALID_CALLS[command]
    ]
    ok = runner.invoke(app, call)
    assert ok.exit_code == 0, ok.output
    value = _bad_value(OPTION_CONSTRAINTS[option])
    result = runner.invoke(app, [*call, flags[0], value])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: {flags[0]}: "), lines[0]
    assert repr(value) in lines[0] or repr(float(value)) in lines[0] or value in lines[0]
    assert "()" not in lines[0]  # not the Python function's name


# --- what the analysis fuzz campaign found (tests/fuzz/analysis_campaign.py) ----------


def _one_error(args: list[str]) -> str:
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "unexpected" not in lines[0] and "Traceback" not in result.output
    return lines[0]


@pytest.mark.parametrize(
    ("command", "name", "options", "words"),
    [
        # "a policy needs per-arm data" named no file (effect sizes yi, vi are data too now)
        ("policy", "no_effect_columns.csv", ["--policy", "modern"], "per-arm data"),
        # "leave-one-out needs at least 2 studies" named no file
        ("sensitivity", "one_study.csv", ["--yi", "yi", "--vi", "vi"], "at least 2 studies"),
        # pandas' "Error tokenizing data. C error: Expected 4 fields in line 3, saw 5"
        ("meta", "ragged_row.csv", ["--yi", "yi", "--vi", "vi"], "line 3 (row 2) has 5 fields"),
        # "column 'yi' not found; the table has study;yi;vi"
        ("meta", "semicolons.csv", ["--yi", "yi", "--vi", "vi"], "separated by semicolons"),
        # a common tau² with one study per subgroup: ZeroDivisionError
        (
            "subgroup",
            "one_study_per_group.csv",
            ["--yi", "yi", "--vi", "vi", "--by", "g", "--common-tau2"],
            "more studies (3) than subgroups (3)",
        ),
    ],
)
def test_data_errors_name_the_file(command, name, options, words) -> None:
    message = _one_error([command, HOSTILE / name, *options])
    assert name in message and words in message, message


@pytest.mark.parametrize(
    ("command", "options", "row", "column"),
    [
        ("meta", ["--yi", "yi", "--vi", "vi"], 3, "yi"),  # was "got np.float64(-inf)"
        ("metareg", ["--yi", "yi", "--vi", "vi", "--mods", "~ x"], 3, "yi"),
    ],
)
def test_an_infinite_cell_is_shown_as_written(command, options, row, column) -> None:
    message = _one_error([command, HOSTILE / "infinite_cells.csv", *options])
    assert f"row {row}, column '{column}': expected a finite number, got -inf" in message


def test_an_infinite_moderator_names_its_row_and_column(tmp_path: Path) -> None:
    """Was "SVD did not converge"."""
    path = tmp_path / "moderator.csv"
    path.write_text(
        "study,yi,vi,x\nS1,0.1,0.04,1\nS2,0.5,0.04,2\nS3,-0.2,0.05,-inf\nS4,0.3,0.05,4\n"
    )
    message = _one_error(["metareg", path, "--yi", "yi", "--vi", "vi", "--mods", "~ x"])
    assert "row 3, column 'x': expected a finite number, got -inf" in message


def test_a_standard_error_whose_square_underflows_is_refused() -> None:
    """SE = 1.8e-303 squared is 0: once a null estimate with k = 4, now an error."""
    message = _one_error(
        ["meta", HOSTILE / "se_square_underflow.csv", "--yi", "yi", "--sei", "sei"]
    )
    assert "row 3, column 'sei': standard error 1.8e-303 is too small" in message


def test_a_study_whose_weight_underflows_is_still_listed() -> None:
    """Variances 1e300 and 1.8e-278: the first weighs 0 (1e-578), but k = 2 studies."""
    out = _meta("weight_underflow.csv", "--vi", "vi", "--method", "PM")
    assert out["k"] == 2 and len(out["weights"]) == 2 and out["weights"] == [0.0, 100.0]
    assert out["estimate"] == 0.5


@pytest.mark.parametrize("command", ["meta", "bias"])
def test_an_odds_ratio_beyond_the_largest_double_is_left_out(command: str) -> None:
    """Log odds ratios near 690 with intervals past 709.78: once OverflowError."""
    args = [command, str(HOSTILE / "huge_odds.csv"), "--measure", "OR", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "beyond the largest double" in result.stderr
    out = json.loads(result.stdout)
    fits = [out] if command == "meta" else [v for v in out.values() if isinstance(v, dict)]
    exp = next(fit["exp"] for fit in fits if "exp" in fit)
    assert exp["ci_upper"] is None and exp["estimate"] > 1e290


def test_meta_regression_refuses_a_dominating_variance_on_the_command_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tiny.csv"
    text = (HOSTILE / "one_tiny_variance.csv").read_text().splitlines()
    path.write_text("\n".join([text[0] + ",x"] + [f"{r},{i}" for i, r in enumerate(text[1:])]))
    message = _one_error(["metareg", path, "--yi", "yi", "--vi", "vi", "--mods", "~ x"])
    assert "row 1, column 'vi': variance 1e-300 is too small beside the others'" in message


@pytest.mark.parametrize("method", ["DL", "HE", "HS", "SJ", "REML", "ML", "PM", "PMM", "EE"])
def test_one_study_with_all_the_weight_gives_that_study(method: str) -> None:
    """DL once gave a null estimate here (tr P underflowed to 0, and tr(P V) with it)."""
    out = _meta("weight_underflow.csv", "--vi", "vi", "--method", method)
    assert out["converged"] is True and out["estimate"] == 0.5 and out["tau2"] < 1e-300


@pytest.mark.parametrize("measure", ["RR", "OR"])
def test_mantel_haenszel_sums_in_logarithms(measure: str) -> None:
    """Events of 1e-300 in 1e65 patients (tiny_events.csv): sum c n1 / N underflowed to 0
    and the MH estimate was inf (null in JSON); summed in logarithms it is a number
    (log RR 838.150364241480 by 50-digit arithmetic)."""
    args = ["meta", str(HOSTILE / "tiny_events.csv"), "--measure", measure, "--method", "MH"]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["estimate"] is not None and out["se"] is not None
    if measure == "RR":
        assert out["estimate"] == pytest.approx(838.15036424148017, rel=1e-12)
    assert out["exp"]["estimate"] is None and "beyond the largest double" in result.stderr
