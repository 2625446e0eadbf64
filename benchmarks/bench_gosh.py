"""Benchmark: GOSH (every subset of k = 20 studies) with srma and metafor's gosh().

srma fits all 2^20 - 1 = 1,048,575 subsets; metafor fits a random sample of
``--metafor-subsets`` subsets; the table compares subsets per second.

    .venv/bin/python benchmarks/bench_gosh.py --output /tmp/gosh_table.md
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

import srma
from srma.stats.influence import gosh

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20261122)
    parser.add_argument("--metafor-subsets", type=int, default=20_000)
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    v = rng.chisquare(3, size=args.k) / 20 + 0.005
    y = rng.normal(0.3, np.sqrt(v + 0.1))
    rows = []
    for method in ("EE", "DL"):
        seconds = float("inf")
        for _ in range(3):  # best of three
            start = time.perf_counter()
            fits = gosh(y, v, method=method)
            seconds = min(seconds, time.perf_counter() - start)
        srma_rate = fits.estimate.size / seconds
        rows.append((f"srma {srma.__version__}", method, fits.estimate.size, seconds, srma_rate))
        if shutil.which("Rscript") is None:
            continue
        with tempfile.TemporaryDirectory() as folder:
            source, target = Path(folder) / "in.csv", Path(folder) / "out.txt"
            pd.DataFrame({"yi": y, "vi": v}).to_csv(source, index=False)
            subprocess.run(
                [
                    "Rscript",
                    str(HERE / "metafor_gosh.R"),
                    str(source),
                    method,
                    str(args.metafor_subsets),
                    str(target),
                ],
                check=True,
            )
            fields = dict(part.split("=") for part in target.read_text().split())
        metafor_seconds, count = float(fields["seconds"]), int(fields["subsets"])
        rows.append(("metafor gosh()", method, count, metafor_seconds, count / metafor_seconds))
    lines = [
        "| tool | model | subsets fitted | seconds | subsets per second |",
        "|---|---|---|---|---|",
    ]
    for tool, method, count, seconds, rate in rows:
        lines.append(f"| {tool} | {method} | {count:,} | {seconds:.2f} | {rate:,.0f} |")
    by_method = {}
    for tool, method, _, _, rate in rows:
        by_method.setdefault(method, {})[tool.split()[0]] = rate
    for method, rates in by_method.items():
        if "metafor" in rates:
            lines.append(
                f"\n{method}: srma fits {rates['srma'] / rates['metafor']:,.0f} times as "
                "many subsets per second as metafor."
            )
    table = "\n".join(lines)
    print(table)
    if args.output is not None:
        args.output.write_text(table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
