"""Benchmark (issue 17): import 100,000 RIS records, in CPU seconds and peak memory.

The RIS file is made as ``bench_import.py`` makes it (the records of the
shared RIS exports, repeated, each copy's title varied).  Each step runs in a
fresh child process, which reports its CPU seconds (``time.process_time``,
the step alone, imports excluded) and the process's peak resident memory
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``).  The file is written by a child
process of its own, so that the benchmark's parent process stays small: Linux
carries the parent's peak over into a child's ``ru_maxrss`` (fork, then exec).

* ``read_records``: srma's reader, records, problems and the record count check;
* ``import_files``: the whole import into a fresh SQLite project (read and store);
* ``rispy.load``: rispy's parse of the same file (the peer; it reads RIS only,
  with no count check, no problems and no store).

::

    nice -n 19 env PYTHONPATH=src .venv/bin/python benchmarks/bench_import_100k.py

Issue 17 asks for the import to take under 20 CPU seconds and under 1 GB.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MAKE_FILE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from bench_import import ris
print(ris(int(sys.argv[2]), Path(sys.argv[3])))
"""
CHILD = """
import resource, sys, time
step, path, folder = sys.argv[1:4]
if step == "read_records":
    from srma.review.identify.records import read_records
    start = time.process_time()
    result = read_records(path)
    seconds = time.process_time() - start
    count = len(result.records)
elif step == "import_files":
    from srma.review.identify.importing import import_files
    from srma.review.project import init_project
    project = init_project(folder, title="bench")
    start = time.process_time()
    (outcome,) = import_files(project, [path], source="Embase")
    seconds = time.process_time() - start
    count = outcome.records_stored
else:
    import rispy
    start = time.process_time()
    with open(path, encoding="utf-8") as handle:
        count = len(rispy.load(handle))
    seconds = time.process_time() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, count)
"""
STEPS = ("read_records", "import_files", "rispy.load")


def run_step(step: str, path: Path, folder: Path) -> tuple[float, float, int]:
    """CPU seconds, peak resident MB and records of one step in a fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, step, str(path), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    seconds, peak, count = out.stdout.split()
    return float(seconds), float(peak), int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--steps", nargs="*", default=list(STEPS), choices=STEPS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        made = [sys.executable, "-c", MAKE_FILE, str(HERE), str(args.records), str(folder)]
        out = subprocess.run(made, check=True, capture_output=True, text=True)
        path = Path(out.stdout.strip())
        size = path.stat().st_size / 1e6
        print(f"RIS file: {args.records:,} records, {size:,.0f} MB\n")
        print("| step | CPU s | peak RSS (MB) | records |")
        print("|---|---:|---:|---:|")
        for number, step in enumerate(args.steps):
            seconds, peak, count = run_step(step, path, folder / f"project{number}")
            print(f"| {step} | {seconds:.1f} | {peak:,.0f} | {count:,} |", flush=True)
    print(f"\nPython {sys.version.split()[0]} on {platform.machine()}, {platform.system()}.")


if __name__ == "__main__":
    main()
