"""Benchmark: srma's commands and metafor's rma/regtest/leave1out at large k.

For each k (default 1,000, 10,000 and 100,000) a data set is generated (``yi``
normal(0.3, 0.3), ``vi`` uniform(0.01, 0.1), one seed) and written to CSV; then

* ``srma meta``, ``srma bias``, ``srma forest`` and ``srma sensitivity`` are each
  run as a command (start-up, reading and writing included), timed by the wall
  clock, with the peak memory of the process (``os.wait4``);
* metafor's ``rma(method = "REML")``, ``regtest()`` and ``leave1out()`` are run one
  per Rscript process (``metafor_large_k.R``, which times the call alone with
  ``proc.time()``), each with a time limit (``--r-timeout``) and a memory limit
  (``--r-memory-gb``, the address space of the process); a call that stops with
  an error (memory) or runs past the limit is reported as such.  For a
  ``leave1out()`` past the limit, ``k`` times the measured ``rma()`` time at that k
  is given as an estimate of its k refits.

    .venv/bin/python benchmarks/bench_large_k.py --output /tmp/large_k.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import srma

HERE = Path(__file__).resolve().parent

#: The srma commands timed, with their arguments after the data file.
SRMA_COMMANDS = {
    "meta": ["--yi", "yi", "--vi", "vi", "--label", "study", "--json"],
    "bias": ["--yi", "yi", "--vi", "vi", "--label", "study", "--json"],
    "forest": ["--yi", "yi", "--vi", "vi", "--label", "study", "-o", "{folder}/forest.png"],
    "sensitivity": ["--yi", "yi", "--vi", "vi", "--label", "study", "--json"],
}
METAFOR_CALLS = ("rma", "regtest", "leave1out")


@dataclass(frozen=True)
class Run:
    """One timed run: wall seconds, peak memory (MB), and what went wrong, if anything."""

    seconds: float
    peak_mb: float
    returncode: int
    stopped: bool


def timed(command: list[str], *, limit: float | None = None, memory_gb: float | None = None) -> Run:
    """Run ``command`` (output discarded), stopping it after ``limit`` seconds."""

    def cap_memory() -> None:
        if memory_gb is not None:
            size = int(memory_gb * 2**30)
            resource.setrlimit(resource.RLIMIT_AS, (size, size))

    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=cap_memory
    )
    timer = threading.Timer(limit, process.kill) if limit is not None else None
    if timer is not None:
        timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if timer is not None:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    stopped = process.returncode == -9 and limit is not None and seconds >= limit
    return Run(seconds, usage.ru_maxrss / 1024, process.returncode, stopped)


def data_set(k: int, seed: int, folder: Path) -> Path:
    """A CSV of k studies: ``yi`` normal(0.3, 0.3), ``vi`` uniform(0.01, 0.1)."""
    rng = np.random.default_rng(seed)
    path = folder / f"k{k}.csv"
    pd.DataFrame(
        {
            "study": [f"S{i + 1}" for i in range(k)],
            "yi": rng.normal(0.3, 0.3, k),
            "vi": rng.uniform(0.01, 0.1, k),
        }
    ).to_csv(path, index=False)
    return path


def srma_executable() -> list[str]:
    """The ``srma`` console script of this Python, or the one on PATH."""
    beside = Path(sys.executable).with_name("srma")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("srma")
    if found is None:
        raise SystemExit("no srma command found: install srma (pip install -e .)")
    return [found]


def metafor_row(k: int, call: str, data: Path, folder: Path, args: argparse.Namespace) -> dict:
    """Run one metafor call on ``data``; its seconds (the call alone) or why there are none."""
    target = folder / f"metafor_{call}_{k}.json"
    run = timed(
        ["Rscript", str(HERE / "metafor_large_k.R"), str(data), call, str(target)],
        limit=args.r_timeout,
        memory_gb=args.r_memory_gb,
    )
    row = {"k": k, "tool": "metafor", "command": f"{call}()", "wall": run.seconds,
           "peak_mb": run.peak_mb, "seconds": None, "note": ""}  # fmt: skip
    if run.stopped:
        row["note"] = f"stopped after {args.r_timeout:g} s"
    elif target.exists():
        result = json.loads(target.read_text())
        row["seconds"] = result["seconds"]
        if result["error"]:
            row["note"] = f"failed: {result['error']}"
    else:
        row["note"] = f"Rscript exited with status {run.returncode} (no result)"
    return row


def table(rows: list[dict]) -> str:
    """The Markdown table of the runs."""
    lines = [
        "| k | tool | command | seconds (call) | wall (s) | peak memory (MB) | note |",
        "|---:|---|---|---:|---:|---:|---|",
    ]
    for row in rows:
        call = "" if row["seconds"] is None else f"{row['seconds']:.2f}"
        lines.append(
            f"| {row['k']:,} | {row['tool']} | {row['command']} | {call} | {row['wall']:.1f} | "
            f"{row['peak_mb']:,.0f} | {row['note']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--r-timeout", type=float, default=60.0, help="seconds per metafor call")
    parser.add_argument("--r-memory-gb", type=float, default=6.0, help="memory per metafor call")
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    srma_command = srma_executable()
    with_r = shutil.which("Rscript") is not None
    rows = []
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for k in args.k:
            data = data_set(k, args.seed, folder)
            for command, options in SRMA_COMMANDS.items():
                arguments = [option.format(folder=folder) for option in options]
                run = timed([*srma_command, command, str(data), *arguments])
                note = "" if run.returncode == 0 else f"exit status {run.returncode}"
                rows.append({"k": k, "tool": f"srma {srma.__version__}", "command": command,
                             "wall": run.seconds, "peak_mb": run.peak_mb, "seconds": None,
                             "note": note})  # fmt: skip
                print(f"k = {k:,}: srma {command} {run.seconds:.1f} s", file=sys.stderr)
            if not with_r:
                continue
            fits = {}
            for call in METAFOR_CALLS:
                row = metafor_row(k, call, data, folder, args)
                fits[call] = row
                if call == "leave1out" and row["note"].startswith("stopped"):
                    one = fits["rma"]["seconds"]
                    if one is not None:
                        row["note"] += f"; k x one rma() fit = about {k * one:,.0f} s"
                rows.append(row)
                print(f"k = {k:,}: metafor {call} {row['wall']:.1f} s {row['note']}",
                      file=sys.stderr)  # fmt: skip
    text = table(rows)
    if not with_r:
        text += "\n\nRscript not found: metafor was not run."
    print(text)
    if args.output is not None:
        args.output.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
