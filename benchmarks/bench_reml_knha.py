"""Benchmark: many random-effects meta-analyses (REML, Knapp-Hartung), srma against others.

Runs, in one go and on the same simulated data: ``srma.meta_batch`` on all
``--n`` data sets (one worker and all cores, with and without the Q-profile
interval of tau²), metafor's ``rma()`` through ``metafor_rma.R``, PyMARE (all
data sets in one call, and one call per data set) and statsmodels'
``combine_effects`` on subsamples (the first rows of the same data).  Reports
microseconds per fit, fits per second, srma's speed-up, and the largest
relative difference from srma on the data sets both fitted.

    .venv/bin/python benchmarks/bench_reml_knha.py --output /tmp/bench_table.md

Needs the ``bench`` extra (PyMARE, statsmodels) and, for metafor, Rscript
with the metafor package; a tool that is missing is reported as such.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

import srma
from machine_info import machine

HERE = Path(__file__).resolve().parent
COMPARED = ("estimate", "tau2", "se")


def simulate(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``v_i ~ chi²_3/20 + 0.005``, ``y_i ~ N(0.3, v_i + tau²)``, tau² ~ U(0, 0.3) per set."""
    rng = np.random.default_rng(seed)
    v = rng.chisquare(3, size=(n, k)) / 20 + 0.005
    tau2 = rng.uniform(0.0, 0.3, size=(n, 1))
    y = rng.normal(0.3, np.sqrt(v + tau2))
    return y, v


def best_of(repeats: int, action: Callable[[], object]) -> tuple[float, object]:
    """Shortest wall time of ``repeats`` calls (``time.perf_counter``) and the last result."""
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - start)
    return best, value


#: Denominator floor of :func:`relative_difference`: values smaller than this in
#: magnitude (a tau² at the boundary, an estimate near 0) are compared absolutely.
RELATIVE_FLOOR = 1e-6


def relative_difference(a: np.ndarray, b: np.ndarray) -> float:
    """``max |a - b| / max(|a|, |b|, RELATIVE_FLOOR)`` over the rows both have."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = np.isfinite(a) & np.isfinite(b)
    a, b = a[both], b[both]
    scale = np.maximum(np.maximum(np.abs(a), np.abs(b)), RELATIVE_FLOOR)
    return float(np.max(np.abs(a - b) / scale))


def absolute_difference(a: np.ndarray, b: np.ndarray) -> float:
    both = np.isfinite(a) & np.isfinite(b)
    return float(np.max(np.abs(a[both] - b[both])))


@dataclass
class Timed:
    """One tool's timing and its per-data-set estimate, tau² and SE (NaN where it failed)."""

    name: str
    version: str
    what: str
    fits: int
    seconds: float
    values: dict[str, np.ndarray]
    reference: str = "srma REML"  # which srma fit the values are compared with
    notes: list[str] = field(default_factory=list)


def run_metafor(y: np.ndarray, v: np.ndarray) -> tuple[Timed, Timed] | str:
    """Time ``rma()`` in R; returns the timed default-control fits and the tight refits."""
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    version = subprocess.run(
        ["Rscript", "-e", "cat(as.character(packageVersion('metafor')))"],
        capture_output=True,
        text=True,
        check=False,
    )
    if version.returncode != 0:
        return "R package metafor not installed"
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.csv", Path(folder) / "out.csv"
        n, k = y.shape
        pd.DataFrame(
            {"dataset": np.repeat(np.arange(n), k), "yi": y.ravel(), "vi": v.ravel()}
        ).to_csv(source, index=False, float_format="%.17g")
        done = subprocess.run(
            ["Rscript", str(HERE / "metafor_rma.R"), str(source), str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return "failed: " + (done.stderr.strip().splitlines() or ["no message"])[-1]
        seconds = float(target.read_text().splitlines()[0].split("=")[1])
        fits = pd.read_csv(target, comment="#").sort_values("dataset")
    failed = int(fits["tau2"].isna().sum())
    default = Timed(
        name="metafor (R)",
        version=version.stdout.strip(),
        what="rma(yi, vi, method='REML', test='knha'), one call per data set, default control",
        fits=n,
        seconds=seconds,
        values={name: fits[name].to_numpy() for name in COMPARED},
    )
    if failed:
        default.notes.append(
            f"metafor with default control stopped with an error on {failed:,} of {n:,} "
            "data sets (Fisher scoring did not converge); they are timed but not compared"
        )
    tight = Timed(
        name="metafor (R), tight control",
        version=default.version,
        what="the same data sets refitted (untimed) with threshold=1e-13, damped if needed",
        fits=n,
        seconds=float("nan"),
        values={name: fits[f"{name}_tight"].to_numpy() for name in COMPARED},
    )
    return default, tight


def _pymare_estimator():
    from pymare.estimators import VarianceBasedLikelihoodEstimator

    # small_sample_correction="knapp-hartung" is PyMARE 0.0.13's default; named for clarity
    return VarianceBasedLikelihoodEstimator(method="REML", small_sample_correction="knapp-hartung")


def _pymare_fit(y_columns: np.ndarray, v_columns: np.ndarray):
    """One PyMARE fit of the data sets held as columns, with its Knapp-Hartung t statistics."""
    estimator = _pymare_estimator().fit(y_columns, v_columns, np.ones((y_columns.shape[0], 1)))
    return estimator, estimator.summary().get_fe_stats()


def _pymare_values(estimator, stats) -> dict[str, np.ndarray]:
    return {
        "estimate": np.ravel(stats["est"]),
        "tau2": np.ravel(estimator.params_["tau2"]),
        "se": np.ravel(stats["se"]),
    }


def run_pymare_columns(y: np.ndarray, v: np.ndarray) -> Timed | str:
    try:
        _pymare_estimator()
    except ImportError:
        return "not installed"
    _pymare_fit(y[:10].T, v[:10].T)  # warm-up
    seconds, (estimator, stats) = best_of(3, lambda: _pymare_fit(y.T, v.T))
    return Timed(
        name="PyMARE, data sets as columns",
        version=metadata.version("PyMARE"),
        what="VarianceBasedLikelihoodEstimator('REML'), Knapp-Hartung; all sets in one fit()",
        fits=y.shape[0],
        seconds=seconds,
        values=_pymare_values(estimator, stats),
    )


def run_pymare_loop(y: np.ndarray, v: np.ndarray) -> Timed | str:
    try:
        _pymare_estimator()
    except ImportError:
        return "not installed"
    _pymare_fit(y[:1].T, v[:1].T)  # warm-up

    def loop():
        return [_pymare_fit(y[i : i + 1].T, v[i : i + 1].T) for i in range(y.shape[0])]

    seconds, fits = best_of(1, loop)
    parts = [_pymare_values(*fit) for fit in fits]
    return Timed(
        name="PyMARE, one data set per call",
        version=metadata.version("PyMARE"),
        what="the same, one fit() per data set",
        fits=y.shape[0],
        seconds=seconds,
        values={name: np.concatenate([p[name] for p in parts]) for name in COMPARED},
    )


def run_statsmodels(y: np.ndarray, v: np.ndarray) -> Timed | str:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return "not installed"

    def one(i: int):
        result = combine_effects(y[i], v[i], method_re="iterated", use_t=True)
        # conf_int()[3]: random-effects CI with the HKSJ (WLS scale) variance and t(k-1)
        return result, result.conf_int()[3]

    one(0)  # warm-up
    seconds, fits = best_of(1, lambda: [one(i) for i in range(y.shape[0])])
    return Timed(
        name="statsmodels",
        version=metadata.version("statsmodels"),
        what=(
            "combine_effects(method_re='iterated', use_t=True) + conf_int(): Paule-Mandel "
            "tau² (no REML), HKSJ SE, t(k-1) CI; compared with srma method='PM'"
        ),
        fits=y.shape[0],
        seconds=seconds,
        values={
            "estimate": np.array([r.mean_effect_re for r, _ in fits]),
            "tau2": np.array([r.tau2 for r, _ in fits], dtype=float),
            "se": np.array([r.sd_eff_w_re_hksj for r, _ in fits]),
        },
        reference="srma PM",
    )


def _fmt_ratio(value: float) -> str:
    return f"{value:,.0f}×" if value >= 100 else f"{value:,.1f}×"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="data sets for srma")
    parser.add_argument("--k", type=int, default=10, help="studies per data set")
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--metafor-sample", type=int, default=2000)
    parser.add_argument("--pymare-sample", type=int, default=2000, help="for the one-call fit")
    parser.add_argument("--pymare-loop-sample", type=int, default=200, help="for the loop")
    parser.add_argument("--statsmodels-sample", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=None, help="also write the tables here")
    args = parser.parse_args()

    machine_line = machine("scipy")  # load average before this script adds to it
    y, v = simulate(args.n, args.k, args.seed)
    cores = os.cpu_count() or 1
    srma.meta_batch(y, v, method="REML", test="knha")  # warm-up, once, on the full data

    srma_rows = []
    default_fit = None
    for label, workers, interval in (
        ("1 thread, all fields", 1, True),
        (f"{cores} threads (default), all fields", None, True),
        ("1 thread, no Q-profile CI of tau²", 1, False),
        (f"{cores} threads, no Q-profile CI of tau²", None, False),
    ):
        seconds, fit = best_of(
            3,
            lambda w=workers, i=interval: srma.meta_batch(
                y, v, method="REML", test="knha", workers=w, tau2_interval=i
            ),
        )
        srma_rows.append((label, seconds / args.n))
        if workers is None and interval:
            default_fit = fit
    default_us = dict(srma_rows)[f"{cores} threads (default), all fields"]
    like_for_like_us = dict(srma_rows)[f"{cores} threads, no Q-profile CI of tau²"]

    largest = max(
        args.metafor_sample, args.pymare_sample, args.pymare_loop_sample, args.statsmodels_sample
    )
    pm_fit = srma.meta_batch(y[:largest], v[:largest], method="PM", test="knha")
    srma_values = {
        "srma REML": {name: getattr(default_fit, name)[:largest] for name in COMPARED},
        "srma PM": {name: getattr(pm_fit, name) for name in COMPARED},
    }

    others: list[Timed] = []
    untimed: list[Timed] = []
    notes: list[str] = []
    metafor = run_metafor(y[: args.metafor_sample], v[: args.metafor_sample])
    if isinstance(metafor, str):
        notes.append(f"metafor: {metafor}; not timed")
    else:
        others.append(metafor[0])
        untimed.append(metafor[1])
    for name, runner, sample in (
        ("PyMARE", run_pymare_columns, args.pymare_sample),
        ("PyMARE", run_pymare_loop, args.pymare_loop_sample),
        ("statsmodels", run_statsmodels, args.statsmodels_sample),
    ):
        result = runner(y[:sample], v[:sample])
        if isinstance(result, str):
            notes.append(f"{name}: {result}; not timed")
        else:
            others.append(result)

    def differences(tool: Timed) -> tuple[str, str]:
        mine = {name: values[: tool.fits] for name, values in srma_values[tool.reference].items()}
        relative = ", ".join(
            f"{relative_difference(mine[name], tool.values[name]):.1e}" for name in COMPARED
        )
        absolute = ", ".join(
            f"{absolute_difference(mine[name], tool.values[name]):.1e}" for name in COMPARED
        )
        return relative, absolute

    lines = [
        "| tool | version | what it fits | fits timed | µs per fit | fits per second | "
        "srma's speed-up | max rel. diff. from srma: estimate, tau², SE |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, seconds in srma_rows:
        lines.append(
            f"| srma, {label} | {srma.__version__} | meta_batch(method='REML', test='knha') | "
            f"{args.n:,} | {seconds * 1e6:,.2f} | {1 / seconds:,.0f} | — | — |"
        )
    for tool in others:
        us = tool.seconds / tool.fits
        lines.append(
            f"| {tool.name} | {tool.version} | {tool.what} | {tool.fits:,} | {us * 1e6:,.2f} | "
            f"{1 / us:,.0f} | {_fmt_ratio(us / default_us)} | {differences(tool)[0]} |"
        )
        notes.extend(f"{tool.name}: {note}" for note in tool.notes)

    lines += [
        "",
        "srma's speed-up: the tool's µs per fit over srma's default call "
        f"({cores} threads, all fields: {default_us * 1e6:.2f} µs). "
        f"Against srma without the Q-profile CI of tau², which none of the others computes "
        f"({like_for_like_us * 1e6:.2f} µs): "
        + "; ".join(
            f"{tool.name} {_fmt_ratio(tool.seconds / tool.fits / like_for_like_us)}"
            for tool in others
        )
        + ".",
        "",
        "Agreement on the same data sets (max over data sets; relative difference "
        f"|a - b| / max(|a|, |b|, {RELATIVE_FLOOR:g})):",
        "",
        "| compared with srma | srma fit | data sets compared | "
        "max rel. diff.: estimate, tau², SE | max abs. diff.: estimate, tau², SE |",
        "|---|---|---|---|---|",
    ]
    for tool in others + untimed:
        compared = int(np.isfinite(tool.values["tau2"]).sum())
        relative, absolute = differences(tool)
        lines.append(
            f"| {tool.name} | {tool.reference} | {compared:,} of {tool.fits:,} | "
            f"{relative} | {absolute} |"
        )
    lines += [
        "",
        f"Machine: {machine_line}. Data: {args.n:,} simulated data sets of k = {args.k} "
        f"studies (seed {args.seed}); the other tools fit the first rows of the same data. "
        f"srma converged on {int(default_fit.converged.sum()):,} of {args.n:,}.",
    ]
    if notes:
        lines.append("")
        lines.extend(f"- {note}" for note in notes)
    table = "\n".join(lines)
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
