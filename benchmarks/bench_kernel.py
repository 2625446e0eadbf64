"""Benchmark (issue 17): meta_batch's compiled kernel against its numpy path, and metafor.

On the data of bench_reml_knha.py (``--n`` data sets of k = ``--k``, seed 20261122):
``srma.meta_batch(method="REML", test="knha")`` with every field (the Q-profile
interval of tau² included) by the numpy path and by the compiled kernel, on one
thread and on all cores (best of ``--repeats`` wall times); the largest relative
difference between the two over every field; the peak resident memory of a fresh
process running each engine on the whole batch (``VmHWM``: ``ru_maxrss`` would
keep the parent's peak across fork and exec); a ragged batch
(k uniform on 2..k, padded with NaN) against the full one; and metafor's
``rma(test="knha")`` on the first ``--metafor-sample`` data sets.

    nice -n 19 .venv/bin/python benchmarks/bench_kernel.py --output /tmp/kernel.md

The engine is chosen with ``SRMA_BATCH_ENGINE`` (``numpy`` or ``compiled``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import fields
from pathlib import Path

import numpy as np

import srma
from bench_reml_knha import best_of, relative_difference, run_metafor, simulate
from machine_info import machine
from srma.stats.pooling import ENGINE_VARIABLE, PooledArrays

MEMORY_CHILD = """
import sys
import numpy as np
import srma
y, v = np.load(sys.argv[1]), np.load(sys.argv[2])
srma.meta_batch(y[:100], v[:100], method="REML", test="knha")  # libraries loaded
def peak():  # VmHWM: ru_maxrss would carry the parent's peak across fork and exec
    line = next(x for x in open("/proc/self/status") if x.startswith("VmHWM"))
    return float(line.split()[1]) / 1024
before = peak()
srma.meta_batch(y, v, method="REML", test="knha")
print(before, peak(), (y.nbytes + v.nbytes) / 2**20)
"""


def fit(engine: str, y: np.ndarray, v: np.ndarray, workers: int | None):
    os.environ[ENGINE_VARIABLE] = engine
    return srma.meta_batch(y, v, method="REML", test="knha", workers=workers)


def peak_memory(engine: str, y: np.ndarray, v: np.ndarray) -> tuple[float, float, float]:
    """(MB resident before the call, peak MB, MB of the input y and v) in a fresh process
    that loads the data from .npy files (no temporaries) and the libraries first."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [str(Path(folder) / name) for name in ("y.npy", "v.npy")]
        np.save(paths[0], y)
        np.save(paths[1], v)
        out = subprocess.run(
            [sys.executable, "-c", MEMORY_CHILD, *paths],
            env={**os.environ, ENGINE_VARIABLE: engine},
            capture_output=True, text=True, check=True,
        )  # fmt: skip
    before, after, data = map(float, out.stdout.split())
    return before, after, data


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--metafor-sample", type=int, default=2000)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    machine_line = machine("scipy", "numba")
    y, v = simulate(args.n, args.k, args.seed)
    cores = os.cpu_count() or 1
    fit("compiled", y[:1000], v[:1000], None)  # compile or load the cache, once
    fit("numpy", y[:20000], v[:20000], None)  # warm-up

    lines = [
        f"| engine | threads | µs per fit (wall, best of {args.repeats}) | fits per second |",
        "|---|---:|---:|---:|",
    ]
    fits: dict[str, object] = {}
    timings: dict[tuple[str, int], float] = {}
    for engine in ("numpy", "compiled"):
        for workers in (1, cores):
            seconds, result = best_of(args.repeats, lambda e=engine, w=workers: fit(e, y, v, w))
            fits[engine] = result
            timings[engine, workers] = seconds / args.n
            lines.append(
                f"| {engine} | {workers} | {seconds / args.n * 1e6:.2f} | {args.n / seconds:,.0f} |"
            )
    cpu = {}
    for engine in ("numpy", "compiled"):
        start = time.process_time()
        fit(engine, y, v, 1)
        cpu[engine] = (time.process_time() - start) / args.n
    lines.append(
        f"\nCPU time on one thread (one run, `time.process_time`): numpy "
        f"{cpu['numpy'] * 1e6:.2f} µs, compiled {cpu['compiled'] * 1e6:.2f} µs per fit."
    )
    worst = {
        item.name: relative_difference(
            getattr(fits["numpy"], item.name), getattr(fits["compiled"], item.name)
        )
        for item in fields(PooledArrays)
    }
    field, largest = max(worst.items(), key=lambda pair: pair[1])
    lines += [
        "",
        f"Compiled over numpy: {timings['numpy', 1] / timings['compiled', 1]:.1f}× on one "
        f"thread, {timings['numpy', cores] / timings['compiled', cores]:.1f}× on {cores}. "
        f"Largest relative difference compiled vs numpy over all {len(worst)} fields and "
        f"{args.n:,} data sets: {largest:.1e} ({field}; |a - b| / max(|a|, |b|, 1e-6)).",
    ]

    # ragged: k uniform on 2..k, the rest padded with NaN
    rng = np.random.default_rng(args.seed + 1)
    k_row = rng.integers(2, args.k + 1, size=args.n)
    ragged_y = np.where(np.arange(args.k)[None, :] < k_row[:, None], y, np.nan)
    lines += ["", "| engine | ragged batch (mean k "
              f"{k_row.mean():.1f}), µs per fit on {cores} threads | full k = {args.k} |",
              "|---|---:|---:|"]  # fmt: skip
    for engine in ("numpy", "compiled"):
        seconds, _ = best_of(args.repeats, lambda e=engine: fit(e, ragged_y, v, None))
        lines.append(
            f"| {engine} | {seconds / args.n * 1e6:.2f} | {timings[engine, cores] * 1e6:.2f} |"
        )

    lines += ["", "| engine | input y, v (MB) | resident before (MB) | peak (MB) | "
              "peak - before, over the input |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for engine in ("numpy", "compiled"):
        before, after, data = peak_memory(engine, y, v)
        lines.append(
            f"| {engine} | {data:,.0f} | {before:,.0f} | {after:,.0f} | "
            f"{(after - before) / data:.2f}× |"
        )

    metafor = run_metafor(y[: args.metafor_sample], v[: args.metafor_sample])
    lines.append("")
    if isinstance(metafor, str):
        lines.append(f"metafor: {metafor}; not timed.")
    else:
        default, tight = metafor
        us = default.seconds / default.fits
        compiled = fits["compiled"]
        diffs = ", ".join(
            f"{relative_difference(getattr(compiled, name)[: tight.fits], tight.values[name]):.1e}"
            for name in ("estimate", "tau2", "se")
        )
        lines.append(
            f"metafor {default.version} `rma(yi, vi, method='REML', test='knha')`, one call "
            f"per data set on the first {default.fits:,}: {us * 1e6:,.0f} µs per fit, "
            f"{us / timings['compiled', cores]:,.0f}× the compiled kernel on {cores} threads "
            "(which also computes the Q-profile CI of tau²); largest relative difference of "
            f"the compiled kernel from metafor refitted with tight control (estimate, tau², "
            f"SE): {diffs}."
        )
    lines += ["", f"Machine: {machine_line}."]
    table = "\n".join(lines)
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
