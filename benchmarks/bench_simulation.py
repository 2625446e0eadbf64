"""Benchmark: a simulation study of tau² estimators, here, on a process pool, on Dask, and in R.

10 scenarios (k = 5, 10, 20, 40, 80 x tau² = 0, 0.1; ``v_i = 0.005 + 0.05 chi²_3``)
x 10,000 repetitions x 5 estimators (DL, REML, PM, HS, ML; z test) = 500,000 fits:

* the bare engine: ``srma.stats.pooling.pool`` on each scenario's 10,000 data sets at
  once, and on each block of ``--block`` data sets (the data generated beforehand, untimed);
* ``srma.scale.run_study`` here (one process), on a process pool of 2, and on a Dask
  ``LocalCluster`` of 1 and of 2 single-threaded workers (the cluster started, and srma
  imported on its workers, beforehand and timed apart): generation, fitting and the
  Parquet files of every block;
* metafor's ``rma()`` in an R loop (``metafor_simulation.R``) on the first
  ``--metafor-sample`` data sets of every scenario, the same five methods;
* Dask's scheduler alone: tasks per second of a map of no-op tasks, and bytes per task.

Each srma.scale row is the fastest of ``--rounds`` runs (default 3); every srma run is
checked bitwise equal to the first.

    .venv/bin/python benchmarks/bench_simulation.py --output /tmp/bench_simulation.md

Needs the ``distributed`` extra (Dask, pyarrow) and, for metafor, Rscript with metafor.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from machine_info import machine
from srma.scale import ResultStore, parse_study, run_study
from srma.scale.allocator import keep_freed_memory
from srma.scale.fit import fit_block
from srma.scale.generate import generate_block
from srma.scale.run import local_cluster
from srma.stats.batch import as_batch
from srma.stats.pooling import pool

HERE = Path(__file__).resolve().parent
ESTIMATORS = ("DL", "REML", "PM", "HS", "ML")


def study(repetitions: int, block: int, seed: int):
    return parse_study({
        "study": {"name": "benchmark", "seed": seed, "repetitions": repetitions,
                  "block": block},
        "scenarios": {"k": [5, 10, 20, 40, 80], "tau2": [0.0, 0.1], "effect": [0.3],
                      "within": ["chi"]},
        "within": {"chi": {"distribution": "chisq", "df": 3, "scale": 0.05, "shift": 0.005}},
        "methods": {"tau2": list(ESTIMATORS), "test": ["z"]},
    })  # fmt: skip


def timed(action):
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def bare_engine(chosen, blocks) -> tuple[float, float]:
    """Seconds of pool() on whole scenarios, and of fit_block() block by block."""
    whole = 0.0
    for scenario in chosen.scenarios:
        parts = blocks[scenario.index]
        batch_y = np.vstack([p.y for p in parts])
        batch_v = np.vstack([p.v for p in parts])
        for method in ESTIMATORS:
            seconds, _ = timed(
                lambda m=method, y=batch_y, v=batch_v: pool(
                    as_batch(y, v), method=m, tau2_interval=False
                )
            )
            whole += seconds
    by_block = 0.0
    for scenario in chosen.scenarios:
        for data in blocks[scenario.index]:
            seconds, _ = timed(lambda d=data, s=scenario: fit_block(d, s, chosen.methods, 0.95))
            by_block += seconds
    return whole, by_block


def run_metafor(chosen, blocks, sample: int, folder: Path) -> tuple[float, int, float] | str:
    if shutil.which("Rscript") is None:
        return "Rscript not found"
    rows, reference = [], []
    for scenario in chosen.scenarios:
        data = blocks[scenario.index][0]
        for r in range(sample):
            dataset = scenario.index * sample + r
            rows.append(pd.DataFrame({"dataset": dataset, "yi": data.y[r], "vi": data.v[r]}))
        for method in ESTIMATORS:
            fitted = pool(as_batch(data.y[:sample], data.v[:sample]), method=method,
                          tau2_interval=False)  # fmt: skip
            reference.append(pd.DataFrame({
                "dataset": scenario.index * sample + np.arange(sample), "method": method,
                "srma": fitted.tau2,
            }))  # fmt: skip
    source, target = folder / "in.csv", folder / "out.csv"
    pd.concat(rows).to_csv(source, index=False, float_format="%.17g")
    done = subprocess.run(
        ["Rscript", str(HERE / "metafor_simulation.R"), str(source), str(target)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        return "failed: " + (done.stderr.strip().splitlines() or ["no message"])[-1]
    head = target.read_text().splitlines()[:2]
    seconds, fits = float(head[0].split("=")[1]), int(head[1].split("=")[1])
    theirs = pd.read_csv(target, comment="#").merge(pd.concat(reference), on=["dataset", "method"])
    both = theirs.dropna()
    difference = float(np.max(np.abs(both["tau2"] - both["srma"])))
    return seconds, fits, difference


def warm_up(address: str) -> float:
    """Seconds to import srma.scale on every worker (a long-lived cluster has it imported)."""
    import importlib

    from distributed import Client

    with Client(address) as client:
        seconds, _ = timed(lambda: client.run(importlib.import_module, "srma.scale.run"))
    return seconds


def scheduler_rate(address: str, tasks: int) -> float:
    from distributed import Client, wait

    with Client(address) as client:
        client.submit(int, 0).result()  # warm-up
        start = time.perf_counter()
        wait(client.map(int, range(tasks), pure=False))
        return tasks / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repetitions", type=int, default=10_000)
    parser.add_argument("--block", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--metafor-sample", type=int, default=100, help="per scenario")
    parser.add_argument("--noop-tasks", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each srma.scale row")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    machine_line = machine("dask", "pyarrow")
    keep_freed_memory()  # the bare engine runs here as srma.scale runs it in every process
    chosen = study(args.repetitions, args.block, args.seed)
    fits = len(chosen.scenarios) * args.repetitions * len(ESTIMATORS)
    blocks = {s.index: [generate_block(chosen, s, b) for b in range(chosen.blocks)]
              for s in chosen.scenarios}  # fmt: skip
    fit_block(blocks[0][0], chosen.scenarios[0], chosen.methods, 0.95)  # warm-up
    whole, by_block = bare_engine(chosen, blocks)

    rows = [
        ("bare engine: pool() on each scenario's 10,000 data sets (fitting only)", whole, "—"),
        (f"bare engine: fit_block() on blocks of {args.block:,} (fitting only)", by_block, "—"),
    ]
    notes = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        frames = {}

        def study_run(name: str, **options) -> float:
            """The fastest of ``--rounds`` runs, each into a folder of its own."""
            times = []
            for round_ in range(args.rounds):
                where = folder / f"{name} {round_}"
                seconds, report = timed(lambda w=where: run_study(chosen, w, **options))
                times.append(seconds)
                frames[f"{name} {round_}"] = ResultStore(where, chosen).read()
            per_task = report.bytes_returned / max(report.tasks, 1)
            spread = f"min of {args.rounds}, max {max(times):.2f} s; " if args.rounds > 1 else ""
            note = f"{spread}{report.tasks} tasks, {per_task / 1e3:,.0f} kB/task"
            rows.append((name, min(times), note))
            return min(times)

        here = study_run("srma.scale here, 1 process (no Dask)")
        study_run("srma.scale here, process pool of 2", workers=2)
        dask_seconds = {}
        for workers in (1, 2):
            start, cluster = timed(lambda w=workers: local_cluster(w))
            with cluster:
                imported = warm_up(cluster.scheduler_address)
                name = f"srma.scale on Dask, LocalCluster of {workers}"
                dask_seconds[workers] = study_run(name, scheduler=cluster.scheduler_address)
                rate = scheduler_rate(cluster.scheduler_address, args.noop_tasks)
            notes.append(
                f"LocalCluster of {workers}: started in {start:.1f} s and srma imported on its "
                f"workers in {imported:.1f} s (neither in the row above); "
                f"its scheduler ran {rate:,.0f} no-op tasks per second ({args.noop_tasks:,} "
                "tasks mapped at once)"
            )
        first = next(iter(frames.values()))
        for frame in frames.values():
            pd.testing.assert_frame_equal(first, frame, check_exact=True)
        notes.append(f"all {len(frames)} srma.scale runs gave bitwise equal block files")
        metafor = run_metafor(chosen, blocks, args.metafor_sample, folder)

    lines = [
        "| run | fits | seconds | fits per second | notes |",
        "|---|---:|---:|---:|---|",
    ]
    for name, seconds, note in rows:
        lines.append(f"| {name} | {fits:,} | {seconds:.2f} | {fits / seconds:,.0f} | {note} |")
    if isinstance(metafor, str):
        notes.append(f"metafor: {metafor}; not timed")
    else:
        seconds, metafor_fits, difference = metafor
        lines.append(
            f"| metafor {metafor_version()} rma() in an R loop, first {args.metafor_sample} "
            f"data sets per scenario | {metafor_fits:,} | {seconds:.2f} | "
            f"{metafor_fits / seconds:,.0f} | max abs. difference in tau² from srma "
            f"{difference:.1e} |"
        )
    overhead = dask_seconds[1] / here - 1
    lines += [
        "",
        f"Dask on one worker against srma.scale in one process without Dask: "
        f"{100 * overhead:+.1f}% wall time; against the bare engine on blocks (fitting only, "
        f"without generating the data or writing the files): "
        f"{100 * (dask_seconds[1] / by_block - 1):+.1f}%.",
        "",
        f"Machine: {machine_line}.",
        "",
        *[f"- {note}" for note in notes],
    ]
    table = "\n".join(lines)
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n", encoding="utf-8")


def metafor_version() -> str:
    done = subprocess.run(
        ["Rscript", "-e", "cat(as.character(packageVersion('metafor')))"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    return done.stdout.strip()


if __name__ == "__main__":
    main()
