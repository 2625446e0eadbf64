"""Simulation studies (srma.scale): the study file, seeds, reproducibility for any chunking,
resuming, the performance measures, and known truths within Monte Carlo error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2

from srma.errors import InputError
from srma.scale import ResultStore, load_study, parse_study, performance, run_study
from srma.scale.fit import fit_block
from srma.scale.generate import block_seed, generate_block
from srma.scale.performance import summary_table
from srma.stats.batch import as_batch
from srma.stats.mantel_haenszel import mantel_haenszel
from srma.stats.pooling import pool

#: How far (in Monte Carlo standard errors) a simulated measure may lie from its known value.
Z = 3.5


def study_dict(**changes) -> dict:
    raw = {
        "study": {"name": "test", "seed": 20261203, "repetitions": 700, "block": 250},
        "scenarios": {"k": [4, 12], "tau2": [0.0, 0.2], "effect": [0.0], "within": ["chi"]},
        "within": {"chi": {"distribution": "chisq", "df": 1, "scale": 0.25, "shift": 0.01}},
        "methods": {"tau2": ["EE", "DL", "REML"], "test": ["z", "knha"]},
    }
    for key, value in changes.items():
        raw[key] = {**raw[key], **value}
    return raw


def write_study(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- the study file ------------------------------------------------------------------


def test_the_grid_is_every_combination_in_nested_order() -> None:
    study = parse_study(study_dict())
    assert [(s.k, s.tau2) for s in study.scenarios] == [(4, 0.0), (4, 0.2), (12, 0.0), (12, 0.2)]
    assert [m.label for m in study.methods] == [
        "EE z", "EE knha", "DL z", "DL knha", "REML z", "REML knha",
    ]  # fmt: skip
    assert study.blocks == 3 and [study.block_size(b) for b in range(3)] == [250, 250, 200]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[study]\nseed = 1\n", "[study] repetitions: missing"),
        ("[study]\nseed = 1\nrepetitions = 10\n[scenarios]\nk = [1]\n", "[scenarios] k: must be"),
        (
            "[study]\nseed = 1\nrepetitions = 10\n[scenarios]\nk = [3]\ntau2 = [0]\n"
            'within = ["w"]\n[within.w]\ndistribution = "gamma"\n[methods]\ntau2 = ["DL"]\n',
            "[within.w] distribution: must be one of fixed, uniform, chisq, sample_size",
        ),
        (
            "[study]\nseed = 1\nrepetitions = 10\n[scenarios]\nk = [3]\ntau2 = [0]\n"
            'within = ["w"]\n[within.w]\ndistribution = "fixed"\nvalue = 0.1\n'
            '[methods]\ntau2 = ["MH"]\n',
            "MH pools 2x2 tables; it needs binary data",
        ),
        (
            '[study]\nseed = 1\nrepetitions = 10\n[scenarios]\ndata = ["binary"]\nk = [3]\n'
            'tau2 = [0]\nwithin = ["w"]\n[within.w]\ndistribution = "sample_size"\nlow = 20\n'
            'high = 40\nbaseline_risk = [0.1, 0.2]\nmeasure = "RR"\n[methods]\ntau2 = ["PETO"]\n',
            "PETO pools odds ratios",
        ),
        ("[study]\nseed = 1\nrepetitions = 10\n[scenarios]\nk = [3]\ntau2 = [-1]\n", "tau2"),
        ("[study\n", "not valid TOML"),
    ],
)
def test_a_bad_study_names_the_file_and_the_key(tmp_path: Path, text: str, expected: str) -> None:
    path = write_study(tmp_path / "study.toml", text)
    with pytest.raises(InputError) as error:
        load_study(path)
    assert str(path) in str(error.value) and expected in str(error.value)


def test_block_seeds_are_the_nodes_of_one_spawn_tree() -> None:
    study = parse_study(study_dict())
    tree = np.random.SeedSequence(study.seed).spawn(len(study.scenarios))
    for scenario in range(len(study.scenarios)):
        children = tree[scenario].spawn(study.blocks)
        for block in range(study.blocks):
            expected = np.random.default_rng(children[block]).random(4)
            got = np.random.default_rng(block_seed(study, scenario, block)).random(4)
            assert np.array_equal(expected, got)


# --- reproducible for any chunking and number of workers; resumable ------------------------


def test_results_are_bitwise_equal_for_any_grouping_and_workers(tmp_path: Path) -> None:
    study = parse_study(study_dict())
    frames, tables = [], []
    for name, options in (
        ("serial", {}),
        ("grouped", {"blocks_per_task": 5}),
        ("processes", {"workers": 2, "blocks_per_task": 2}),
    ):
        report = run_study(study, tmp_path / name, **options)
        assert report.computed == len(study.scenarios) * study.blocks
        frames.append(ResultStore(tmp_path / name, study).read())
        tables.append(performance(frames[-1], study))
    for frame, table in zip(frames[1:], tables[1:], strict=True):
        pd.testing.assert_frame_equal(frames[0], frame, check_exact=True)
        pd.testing.assert_frame_equal(tables[0], table, check_exact=True)
    assert len(frames[0]) == len(study.scenarios) * study.repetitions * len(study.methods)


def test_an_interrupted_study_resumes_where_it_stopped(tmp_path: Path) -> None:
    study = parse_study(study_dict())
    run_study(study, tmp_path / "whole")
    store = ResultStore(tmp_path / "part", study)
    # an interrupted run: some blocks written, one half-written temporary file left behind
    for scenario, block in store.missing()[:5]:
        done = ResultStore(tmp_path / "whole", study).path(scenario, block).read_bytes()
        store.write(scenario, block, done)
    (store.blocks / ".s0003-b00002.parquet.999.tmp").write_bytes(b"half a file")
    report = run_study(study, tmp_path / "part")
    assert (report.skipped, report.computed) == (5, len(study.scenarios) * study.blocks - 5)
    pd.testing.assert_frame_equal(
        ResultStore(tmp_path / "whole", study).read(), store.read(), check_exact=True
    )
    assert run_study(study, tmp_path / "part").computed == 0


def test_a_results_folder_belongs_to_one_study(tmp_path: Path) -> None:
    run_study(parse_study(study_dict(study={"repetitions": 250})), tmp_path)
    other = parse_study(study_dict(study={"repetitions": 250, "seed": 7}))
    with pytest.raises(InputError, match="results of a different study"):
        run_study(other, tmp_path)


def test_further_tests_pool_at_the_first_tests_tau2_as_a_fit_under_them_would() -> None:
    study = parse_study(study_dict(methods={"tau2": ["REML", "PM"], "test": ["z", "knha", "t"]}))
    scenario = study.scenarios[1]
    data = generate_block(study, scenario, 0)
    fits = fit_block(data, scenario, study.methods, study.level)
    for method in study.methods:
        direct = pool(as_batch(data.y, data.v), method=method.method, test=method.test,
                      pi_type=method.pi_type, tau2_interval=False)  # fmt: skip
        for name in ("estimate", "se", "ci_lower", "ci_upper", "pvalue", "tau2", "pi_lower"):
            assert np.array_equal(fits[method.label][name], getattr(direct, name)), name
        assert np.array_equal(fits[method.label]["converged"], direct.converged)


# --- the performance measures ---------------------------------------------------------------


def test_performance_measures_follow_morris_et_al() -> None:
    study = parse_study(study_dict(scenarios={"k": [4], "tau2": [0.2], "effect": [0.3]}))
    rng = np.random.default_rng(5)
    n = 400
    t = rng.normal(0.35, 0.2, n)
    half = rng.uniform(0.1, 0.6, n)
    frame = pd.DataFrame({
        "scenario": 0, "method": "DL z", "estimate": t, "ci_lower": t - half,
        "ci_upper": t + half, "pvalue": rng.uniform(size=n), "tau2": rng.uniform(0, 0.5, n),
        "pi_lower": t - 2 * half, "pi_upper": t + 2 * half, "converged": np.arange(n) % 50 != 0,
    })  # fmt: skip
    table = performance(frame, study)

    def value(measure: str, target: str = "effect") -> tuple[float, float]:
        row = table[(table["measure"] == measure) & (table["target"] == target)].iloc[0]
        return row["value"], row["mcse"]

    theta = 0.3
    assert value("bias") == pytest.approx((t.mean() - theta, t.std(ddof=1) / np.sqrt(n)))
    assert value("empirical_se") == pytest.approx(
        (t.std(ddof=1), t.std(ddof=1) / np.sqrt(2 * (n - 1)))
    )
    error2 = (t - theta) ** 2
    assert value("mse") == pytest.approx((error2.mean(), error2.std(ddof=1) / np.sqrt(n)))
    covered = np.mean(np.abs(t - theta) <= half)
    assert value("coverage") == pytest.approx((covered, np.sqrt(covered * (1 - covered) / n)))
    rejected = np.mean(frame["pvalue"] < 0.05)
    assert value("power") == pytest.approx((rejected, np.sqrt(rejected * (1 - rejected) / n)))
    assert value("ci_width") == pytest.approx(
        (np.mean(2 * half), np.std(2 * half, ddof=1) / np.sqrt(n))
    )
    from scipy.stats import norm

    tau = np.sqrt(0.2)
    held = norm.cdf((t + 2 * half - theta) / tau) - norm.cdf((t - 2 * half - theta) / tau)
    assert value("pi_coverage") == pytest.approx((held.mean(), held.std(ddof=1) / np.sqrt(n)))
    assert value("convergence_failures")[0] == 8
    tau2 = frame["tau2"].to_numpy()
    assert value("bias", "tau2") == pytest.approx(
        (tau2.mean() - 0.2, tau2.std(ddof=1) / np.sqrt(n))
    )
    assert set(summary_table(table).columns) >= {"scenario", "method", "bias", "coverage"}


# --- known truths within Monte Carlo error --------------------------------------------------


def measures(
    table: pd.DataFrame, method: str, measure: str, target: str = "effect"
) -> pd.DataFrame:
    return table[(table["method"] == method) & (table["measure"] == measure)
                 & (table["target"] == target)]  # fmt: skip


def run_and_measure(tmp_path: Path, raw: dict) -> tuple[object, pd.DataFrame, pd.DataFrame]:
    study = parse_study(raw)
    run_study(study, tmp_path)
    frame = ResultStore(tmp_path, study).read()
    return study, frame, performance(frame, study)


def test_common_effect_ci_covers_at_the_nominal_level_when_tau2_is_zero(tmp_path: Path) -> None:
    raw = study_dict(
        study={"repetitions": 4000, "block": 1000},
        scenarios={"k": [3, 15], "tau2": [0.0], "effect": [0.0, 0.5]},
        methods={"tau2": ["EE"], "test": ["z"]},
    )
    _, _, table = run_and_measure(tmp_path, raw)
    rows = measures(table, "EE z", "coverage")
    assert len(rows) == 4
    assert (np.abs(rows["value"] - 0.95) <= Z * rows["mcse"]).all(), rows
    assert (np.abs(measures(table, "EE z", "bias")["value"])
            <= Z * measures(table, "EE z", "bias")["mcse"]).all()  # fmt: skip


def test_dl_q_moment_is_unbiased_with_known_variances(tmp_path: Path) -> None:
    """E[Q] = (k - 1) + tau² (S1 - S2/S1) at w = 1/v (DerSimonian & Laird 1986), so the
    untruncated moment (Q - (k - 1)) / (S1 - S2/S1) is unbiased for tau²."""
    raw = study_dict(
        study={"repetitions": 4000, "block": 1000},
        scenarios={"k": [6], "tau2": [0.0, 0.1], "effect": [0.2]},
        methods={"tau2": ["DL"], "test": ["z"]},
    )
    study, frame, _ = run_and_measure(tmp_path, raw)
    for scenario in study.scenarios:
        v = np.vstack([generate_block(study, scenario, b).v for b in range(study.blocks)])
        w = 1 / v
        s1, s2 = w.sum(axis=1), (w * w).sum(axis=1)
        q = frame[frame["scenario"] == scenario.index]["q"].to_numpy()
        moment = (q - (scenario.k - 1)) / (s1 - s2 / s1)
        mcse = moment.std(ddof=1) / np.sqrt(moment.size)
        assert abs(moment.mean() - scenario.tau2) <= Z * mcse


def test_knapp_hartung_holds_its_level_exactly_with_equal_variances(tmp_path: Path) -> None:
    """With equal v_i the weights are equal whatever tau², the pooled estimate is the mean and
    the Knapp-Hartung statistic is exactly t(k - 1) (Hartung & Knapp 2001): type I error 5%."""
    raw = study_dict(
        study={"repetitions": 6000, "block": 1500},
        scenarios={"k": [3, 8], "tau2": [0.0, 0.3], "effect": [0.0], "within": ["equal"]},
        within={"equal": {"distribution": "fixed", "value": 0.05}},
        methods={"tau2": ["DL", "REML"], "test": ["knha", "z"]},
    )
    _, _, table = run_and_measure(tmp_path, raw)
    for method in ("DL knha", "REML knha"):
        rows = measures(table, method, "type_i_error")
        assert len(rows) == 4
        assert (np.abs(rows["value"] - 0.05) <= Z * rows["mcse"]).all(), rows
    # the z test does not: at k = 3 with heterogeneity it rejects far too often
    z = measures(table, "DL z", "type_i_error")
    assert (z["value"] - 0.05 > Z * z["mcse"]).any()


def truncated_moments(a: float, b: float, m: int) -> tuple[float, float]:
    """E[T] and E[T²] of T = max(0, a X - b), X ~ chi²(m): with t = b/a,
    E[X; X > t] = m P(chi²(m+2) > t) and E[X²; X > t] = m (m+2) P(chi²(m+4) > t)."""
    t = b / a
    p0, p1, p2 = chi2.sf(t, m), m * chi2.sf(t, m + 2), m * (m + 2) * chi2.sf(t, m + 4)
    return a * p1 - b * p0, a * a * p2 - 2 * a * b * p1 + b * b * p0


def test_tau2_estimators_match_their_exact_bias_and_mse_with_equal_variances(
    tmp_path: Path,
) -> None:
    """With equal v, S = sum (y_i - ybar)² ~ (v + tau²) chi²(k - 1), and the estimators of
    Viechtbauer (2005) have closed forms: DL, HE, REML and PM are max(0, S/(k - 1) - v),
    ML and HS max(0, S/k - v).  Each repetition must agree with its closed form, and the
    simulated bias and MSE with the exact ones within Monte Carlo error."""
    v, k = 0.08, 6
    raw = study_dict(
        study={"repetitions": 6000, "block": 2000},
        scenarios={"k": [k], "tau2": [0.0, 0.04, 0.2], "effect": [0.1], "within": ["equal"]},
        within={"equal": {"distribution": "fixed", "value": v}},
        methods={"tau2": ["HS", "HE", "DL", "ML", "REML", "PM"], "test": ["z"]},
    )
    study, frame, table = run_and_measure(tmp_path, raw)
    divisor = {"DL": k - 1, "HE": k - 1, "REML": k - 1, "PM": k - 1, "ML": k, "HS": k}
    for scenario in study.scenarios:
        y = np.vstack([generate_block(study, scenario, b).y for b in range(study.blocks)])
        ss = ((y - y.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
        for method, d in divisor.items():
            rows = frame[(frame["scenario"] == scenario.index) & (frame["method"] == f"{method} z")]
            np.testing.assert_allclose(
                rows["tau2"].to_numpy(), np.maximum(0, ss / d - v), rtol=1e-7, atol=1e-12
            )
            mean, second = truncated_moments((v + scenario.tau2) / d, v, k - 1)
            exact_bias = mean - scenario.tau2
            exact_mse = second - 2 * scenario.tau2 * mean + scenario.tau2**2
            chosen = table[(table["scenario"] == scenario.index) & (table["target"] == "tau2")
                           & (table["method"] == f"{method} z")].set_index("measure")  # fmt: skip
            for name, exact in (("bias", exact_bias), ("mse", exact_mse)):
                row = chosen.loc[name]
                assert abs(row["value"] - exact) <= Z * row["mcse"], (method, name, scenario)


def test_binary_data_are_pooled_by_mantel_haenszel_as_the_engine_pools_them(
    tmp_path: Path,
) -> None:
    raw = study_dict(
        study={"repetitions": 3000, "block": 1000},
        scenarios={
            "data": ["binary"],
            "k": [8],
            "tau2": [0.0],
            "effect": [0.0, 0.4],
            "within": ["trials"],
        },
        within={
            "trials": {
                "distribution": "sample_size",
                "low": 100,
                "high": 300,
                "baseline_risk": [0.2, 0.4],
                "measure": "OR",
            }
        },
        methods={"tau2": ["MH", "PETO", "EE", "DL"], "test": ["z"]},
    )
    raw["within"].pop("chi")
    study, frame, table = run_and_measure(tmp_path, raw)
    scenario = study.scenarios[1]
    a, b, c, d = generate_block(study, scenario, 0).tables
    direct = mantel_haenszel(a, b, c, d, np.ones(a.shape, dtype=bool), "OR")
    rows = frame[(frame["scenario"] == 1) & (frame["block"] == 0) & (frame["method"] == "MH")]
    assert np.array_equal(rows["estimate"].to_numpy(), direct.estimate)
    # at tau² = 0 with 100-300 patients per arm, the MH interval covers at its level
    coverage = measures(table, "MH", "coverage")
    assert len(coverage) == 2
    assert (np.abs(coverage["value"] - 0.95) <= Z * coverage["mcse"]).all(), coverage


@pytest.mark.parametrize("measure", ["OR", "RR"])
def test_binary_small_study_bias_shifts_the_true_effect_by_the_null_standard_error(
    measure: str,
) -> None:
    """Smaller trials get larger effects: the mean log ratio of trials of a given size moves
    by ``bias * s`` (``s``: the null standard error, averaged over the control risks), which
    is known in closed form; checked within 3.5 Monte Carlo SEs in the smallest and the
    largest trials."""
    raw = study_dict(
        study={"repetitions": 4000, "block": 4000},
        scenarios={
            "data": ["binary"],
            "k": [10],
            "tau2": [0.0],
            "effect": [0.0],
            "within": ["trials"],
            "bias": [0.0, 1.5],
        },
        within={
            "trials": {
                "distribution": "sample_size",
                "low": 20,
                "high": 400,
                "baseline_risk": [0.3, 0.5],
                "measure": measure,
            }
        },
    )
    raw["within"].pop("chi")
    study = parse_study(raw)
    unbiased, biased = (generate_block(study, s, 0) for s in study.scenarios)
    grid = np.linspace(0.3, 0.5, 20001)  # p0 is uniform on [0.3, 0.5]
    null = 2 / (grid * (1 - grid)) if measure == "OR" else 2 * (1 - grid) / grid
    for low, high in ((20, 40), (380, 400)):
        means, variances = [], []
        for data in (unbiased, biased):
            n = data.tables[0] + data.tables[1]  # patients per arm
            chosen = (n >= low) & (n <= high) & np.isfinite(data.y)
            means.append(data.y[chosen].mean())
            variances.append(data.y[chosen].var(ddof=1) / chosen.sum())
        sizes = np.arange(low, high + 1)
        expected = 1.5 * np.mean([np.mean(np.sqrt(null / m)) for m in sizes])
        assert abs(means[1] - means[0] - expected) < 3.5 * np.sqrt(sum(variances)), (low, high)
    assert expected < 0.25  # the largest trials shift far less than the smallest
