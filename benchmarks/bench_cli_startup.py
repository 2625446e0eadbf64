"""How long a command takes to start: srma's CLI beside Python and R, side by side in one run.

Each command is run ``--repeats`` times as a whole process; the table gives the
median wall time and the median CPU time (user + system of the child process,
from ``os.wait4``).  Rows:

* ``python -c pass`` and ``Rscript -e 'library(metafor)'``: the floor of each
  language with the library a meta-analysis needs;
* ``srma --help``, ``srma --version``;
* ``srma meta small.csv --json``: the nine trials of Normand (1999), MD, REML;
* ``srma import``: a 5-record RIS file into a new project (the import alone is
  timed; the project is made before each run).

With ``--before PATH`` (a checkout of an older srma), the srma rows are also
run with that checkout's ``src`` first on ``PYTHONPATH``, to compare in the
same run.  Usage::

    .venv/bin/python benchmarks/bench_cli_startup.py --repeats 7 [--before /tmp/srma-old]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRMA = [sys.executable, "-c", "from srma.cli import main; main()"]
RIS = """TY  - JOUR
TI  - Stroke unit care and length of stay: a trial {n}
AU  - Author, A.
PY  - 2001
JO  - Stroke
ER  -{space}
"""


@dataclass(frozen=True)
class Timing:
    name: str
    wall_s: float
    cpu_s: float
    runs: int


def run_once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system) of one run of ``command``."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed")
    return wall, usage.ru_utime + usage.ru_stime


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    cwd: Path,
    repeats: int,
    prepare: Callable[[], None] | None = None,
) -> Timing:
    walls, cpus = [], []
    for _ in range(repeats + 1):  # the first run warms the file cache and is dropped
        if prepare is not None:
            prepare()
        wall, cpu = run_once(command, env, cwd)
        walls.append(wall)
        cpus.append(cpu)
    return Timing(name, statistics.median(walls[1:]), statistics.median(cpus[1:]), repeats)


def srma_rows(src: Path, label: str, work: Path, repeats: int) -> list[Timing]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    data = work / "small.csv"
    export = work / "five.ris"
    project = work / "project"

    def fresh_project() -> None:
        shutil.rmtree(project, ignore_errors=True)
        subprocess.run([*SRMA, "init", str(project)], env=env, check=True, capture_output=True)

    rows = [
        measure(f"srma --help{label}", [*SRMA, "--help"], env, work, repeats),
        measure(
            f"srma meta small.csv --json{label}",
            [*SRMA, "meta", str(data), "--measure", "MD", "--json"],
            env,
            work,
            repeats,
        ),
        measure(
            f"srma import (5 records){label}",
            [*SRMA, "import", str(project), str(export), "--search-date", "2024-01-01"],
            env,
            work,
            repeats,
            prepare=fresh_project,
        ),
    ]
    if label == "":
        rows.insert(1, measure("srma --version", [*SRMA, "--version"], env, work, repeats))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--before", type=Path, help="an older srma checkout to compare with")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    from srma.datasets import load

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        load("normand1999").to_csv(work / "small.csv", index=False)
        (work / "five.ris").write_text("".join(RIS.format(n=n, space=" ") for n in range(5)))
        env = dict(os.environ)
        rows = [measure("python -c pass", [sys.executable, "-c", "pass"], env, work, args.repeats)]
        if shutil.which("Rscript"):
            rows.append(
                measure(
                    "Rscript -e 'library(metafor)'",
                    ["Rscript", "-e", "suppressMessages(library(metafor))"],
                    env,
                    work,
                    args.repeats,
                )
            )
        rows += srma_rows(ROOT / "src", "", work, args.repeats)
        if args.before is not None:
            rows += srma_rows(args.before / "src", " (before)", work, args.repeats)
    print("| command | median wall (s) | median CPU (s) | runs |\n|---|---|---|---|")
    for row in rows:
        print(f"| {row.name} | {row.wall_s:.3f} | {row.cpu_s:.3f} | {row.runs} |")


if __name__ == "__main__":
    main()
