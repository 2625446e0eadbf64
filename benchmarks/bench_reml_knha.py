"""Benchmark: many random-effects meta-analyses (REML, Knapp-Hartung) with srma and others.

Runs, in one go and on the same simulated data: srma's batch engine on all
``--n`` data sets (one worker, then all cores), and metafor (R), PyMARE and
statsmodels on subsamples; reports microseconds per fit and the largest
relative difference from srma's estimates on the shared subsample.

    .venv/bin/python benchmarks/bench_reml_knha.py --output docs/benchmarks.md

Needs the ``bench`` extra (PyMARE, statsmodels) and, for metafor, Rscript
with the metafor package; a tool that is missing is reported as such.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import tempfile
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

import srma

HERE = Path(__file__).resolve().parent


def simulate(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``v_i ~ chi²_3/20 + 0.005``, ``y_i ~ N(0.3, v_i + tau²)``, tau² ~ U(0, 0.3) per set."""
    rng = np.random.default_rng(seed)
    v = rng.chisquare(3, size=(n, k)) / 20 + 0.005
    tau2 = rng.uniform(0.0, 0.3, size=(n, 1))
    y = rng.normal(0.3, np.sqrt(v + tau2))
    return y, v


def best_of(repeats: int, action) -> tuple[float, object]:
    best, value = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        value = action()
        best = min(best, time.perf_counter() - start)
    return best, value


def largest_difference(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.nanmax(np.abs(a - b)))


def time_metafor(y: np.ndarray, v: np.ndarray) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.csv", Path(folder) / "out.csv"
        n, k = y.shape
        pd.DataFrame(
            {"dataset": np.repeat(np.arange(n), k), "yi": y.ravel(), "vi": v.ravel()}
        ).to_csv(source, index=False)
        done = subprocess.run(
            ["Rscript", str(HERE / "metafor_rma.R"), str(source), str(target)],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1]}
        first = target.read_text().splitlines()[0]
        seconds = float(first.split("=")[1])
        fits = pd.read_csv(target, comment="#").sort_values("dataset")
        version = subprocess.run(
            ["Rscript", "-e", "cat(as.character(packageVersion('metafor')))"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    return {
        "seconds": seconds,
        "tau2": fits["tau2"].to_numpy(),
        "estimate": fits["estimate"].to_numpy(),
        "version": version,
    }


def time_pymare(y: np.ndarray, v: np.ndarray) -> dict | None:
    try:
        from pymare.estimators import VarianceBasedLikelihoodEstimator
    except ImportError:
        return None
    X = np.ones((y.shape[1], 1))

    def fit():
        estimator = VarianceBasedLikelihoodEstimator(method="REML")
        estimator.fit(y.T, v.T, X)  # PyMARE fits parallel data sets as columns
        return estimator

    seconds, estimator = best_of(2, fit)
    return {
        "seconds": seconds,
        "tau2": np.ravel(estimator.params_["tau2"]),
        "estimate": np.ravel(estimator.params_["fe_params"]),
        "version": metadata.version("PyMARE"),
    }


def time_statsmodels(y: np.ndarray, v: np.ndarray) -> dict | None:
    try:
        from statsmodels.stats.meta_analysis import combine_effects
    except ImportError:
        return None

    def fit():
        return [combine_effects(y[i], v[i], method_re="iterated") for i in range(y.shape[0])]

    seconds, fits = best_of(1, fit)
    return {
        "seconds": seconds,
        "tau2": np.array([f.tau2 for f in fits]),
        "estimate": np.array([f.mean_effect_re for f in fits]),
        "version": metadata.version("statsmodels"),
    }


def machine() -> str:
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{model}, {os.cpu_count()} cores; Python {platform.python_version()}, "
        f"numpy {np.__version__}, scipy {metadata.version('scipy')}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--metafor-sample", type=int, default=2000)
    parser.add_argument("--pymare-sample", type=int, default=2000)
    parser.add_argument("--statsmodels-sample", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    y, v = simulate(args.n, args.k, args.seed)
    srma.meta_batch(y[:1000], v[:1000], method="REML", test="knha")  # warm-up
    cores = os.cpu_count()
    rows = []
    timings = []
    fit = None
    for label, workers, interval in (
        ("srma, 1 thread, all fields", 1, True),
        (f"srma, {cores} threads, all fields", None, True),
        ("srma, 1 thread, no Q-profile CI of tau²", 1, False),
        (f"srma, {cores} threads, no Q-profile CI of tau²", None, False),
    ):
        seconds, fit = best_of(
            3,
            lambda w=workers, i=interval: srma.meta_batch(
                y, v, method="REML", test="knha", workers=w, tau2_interval=i
            ),
        )
        timings.append(seconds / args.n)
        rows.append(
            (
                label,
                srma.__version__,
                "meta_batch(method='REML', test='knha')",
                args.n,
                seconds / args.n,
                None,
                None,
            )
        )
    fastest = min(timings)
    others = [
        (
            "metafor (R)",
            args.metafor_sample,
            time_metafor,
            "rma(method='REML', test='knha'), default tolerance",
        ),
        (
            "PyMARE",
            args.pymare_sample,
            time_pymare,
            "VarianceBasedLikelihoodEstimator('REML') with Knapp-Hartung, sets as columns",
        ),
        (
            "statsmodels",
            args.statsmodels_sample,
            time_statsmodels,
            "combine_effects(method_re='iterated'): Paule-Mandel, it has no REML",
        ),
    ]
    notes = []
    for name, sample, timer, what in others:
        result = timer(y[:sample], v[:sample])
        if result is None:
            notes.append(f"{name}: not installed, not timed")
            continue
        if "error" in result:
            notes.append(f"{name}: failed ({result['error']})")
            continue
        rows.append(
            (
                name,
                result["version"],
                what,
                sample,
                result["seconds"] / sample,
                largest_difference(fit.estimate[:sample], result["estimate"]),
                largest_difference(fit.tau2[:sample], result["tau2"]),
            )
        )

    lines = [
        "| tool | version | what is fitted | fits timed | µs per fit | "
        "time / srma's fastest | max abs. diff. from srma: estimate, tau² |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, version, what, count, seconds, estimate_diff, tau2_diff in rows:
        difference = "—" if estimate_diff is None else f"{estimate_diff:.1e}, {tau2_diff:.1e}"
        lines.append(
            f"| {name} | {version} | {what} | {count:,} | {seconds * 1e6:,.2f} | "
            f"{seconds / fastest:,.1f} | {difference} |"
        )
    lines.append("")
    lines.append(
        f"Machine: {machine()}. Data: {args.n:,} simulated data sets of k = {args.k} "
        f"studies (seed {args.seed}); srma converged on {int(fit.converged.sum()):,}."
    )
    lines.extend(f"- {note}" for note in notes)
    table = "\n".join(lines)
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
