"""Benchmark (issue 17): meta-regression influence at large k, and one small meta() call.

* ``regression_influence`` of ``y ~ 1 + x`` (REML, z) at each ``--k``: data ``yi``
  normal(0.3, 0.3), ``vi`` uniform(0.01, 0.1), ``x`` normal(0, 1), seed 3; one
  subprocess per k, reporting its CPU seconds for the call and the process's peak
  resident memory (``resource.getrusage(...).ru_maxrss``);
* ``srma.meta(df, label="study")`` on k = 13 (``yi``, ``vi`` float columns), the
  mean wall time of ``--calls`` calls after one warm-up call.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_issue17.py --k 2000 10000
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
import pandas as pd

CHILD = """
import resource, sys, time
import numpy as np
from srma.stats.influence import regression_influence
k = int(sys.argv[1])
rng = np.random.default_rng(3)
y, v = rng.normal(0.3, 0.3, k), rng.uniform(0.01, 0.1, k)
X = np.column_stack([np.ones(k), rng.normal(size=k)])
start = time.process_time()
regression_influence(y, v, X, method="REML", test="z")
seconds = time.process_time() - start
print(seconds, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def influence_run(k: int) -> tuple[float, float]:
    """CPU seconds of the call and the peak memory (MB) of a fresh process at ``k``."""
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(k)], check=True, capture_output=True, text=True
    )
    seconds, peak = out.stdout.split()
    return float(seconds), float(peak)


def single_call(calls: int) -> float:
    """Mean milliseconds of ``meta(df)`` at k = 13 after a warm-up call."""
    import srma

    rng = np.random.default_rng(1)
    df = pd.DataFrame(
        {
            "study": [f"s{i}" for i in range(13)],
            "yi": rng.normal(size=13),
            "vi": rng.uniform(0.01, 0.1, 13),
        }
    )
    srma.meta(df, label="study")
    start = time.process_time()
    for _ in range(calls):
        srma.meta(df, label="study")
    return (time.process_time() - start) / calls * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, nargs="*", default=[2000, 10000])
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    print("| k | CPU (s) | peak memory (MB) |\n|---:|---:|---:|")
    for k in args.k:
        seconds, peak = influence_run(k)
        print(f"| {k:,} | {seconds:.1f} | {peak:,.0f} |")
    print(f"\nmeta(df), k = 13: {single_call(args.calls):.2f} ms per call")


if __name__ == "__main__":
    main()
