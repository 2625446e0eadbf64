"""Benchmark (issue 17): permutation tests, srma beside metafor's ``permutest()``.

Cases (REML; data ``yi`` normal(0.2, 0.3), ``vi`` uniform(0.01, 0.1), ``x`` normal(0, 1),
one seed per case):

* ``sign flips``: a model without moderators, ``srma.analysis.permutation.permutation_test``
  against ``permutest(rma(yi, vi))``; random flips, and the exact test over all ``2^k``;
* ``meta-regression``: ``yi ~ x``, the permutation test that
  ``meta_regression(..., permutations=)`` runs (``srma.stats.regression.permutation_test``
  on the model's arrays) against ``permutest(rma(yi, vi, mods = ~ x))``.

Both tools are timed on the permutation test alone (the model is fitted first), the
minimum over ``--repeats`` runs after one untimed warm-up: srma with
``time.perf_counter()`` in this process,
metafor with ``proc.time()`` in one Rscript process (``metafor_permutation.R``). Random
permutations differ between the tools (different generators), so only the exact
tests' p-values are compared.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_permutation.py
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent

#: (name, k, moderator, test, iterations, exact)
CASES = (
    ("sign flips, random", 10, False, "z", 1000, False),
    ("sign flips, random, Knapp-Hartung", 20, False, "knha", 1000, False),
    ("sign flips, exact (2^12 = 4,096)", 12, False, "z", 5000, True),
    ("meta-regression, random", 20, True, "z", 1000, False),
    ("meta-regression, random, Knapp-Hartung", 40, True, "knha", 1000, False),
    ("meta-regression, exact (7! = 5,040)", 7, True, "z", 6000, True),
)


def data_set(k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "yi": rng.normal(0.2, 0.3, k),
            "vi": rng.uniform(0.01, 0.1, k),
            "x": rng.normal(0.0, 1.0, k),
        }
    )


def srma_case(frame: pd.DataFrame, moderator: bool, test: str, iterations: int,
              exact: bool, repeats: int) -> tuple[float, list[float]]:  # fmt: skip
    """Best seconds of srma's permutation test, and its p-values (exact tests only)."""
    from srma import meta
    from srma.analysis.permutation import permutation_test
    from srma.stats.regression import permutation_test as regression_permutation_test

    best, pvalues = np.inf, []
    fitted = None if moderator else meta(frame, method="REML", test=test)
    y, v = frame["yi"].to_numpy(), frame["vi"].to_numpy()
    X = np.column_stack([np.ones(len(frame)), frame["x"].to_numpy()])
    for run in range(-1, repeats):  # run -1 warms up, untimed
        start = time.perf_counter()
        if moderator:
            # the permutation test alone, on the model's arrays, as permutest() is timed
            arrays = regression_permutation_test(y, v, X, method="REML", test=test,
                                                 iterations=iterations,
                                                 rng=np.random.default_rng(run + 1))  # fmt: skip
            pvalues = list(arrays.pvalue)
        else:
            pvalues = [permutation_test(fitted, iterations, exact=exact, seed=run + 1).pvalue]
        if run >= 0:
            best = min(best, time.perf_counter() - start)
    return best, pvalues


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--metafor-repeats", type=int, default=1)
    args = parser.parse_args()
    warnings.simplefilter("ignore")  # the few-studies warning of the exact case
    with tempfile.TemporaryDirectory() as folder:
        cases, frames = [], {}
        for seed, (name, k, moderator, test, iterations, exact) in enumerate(CASES):
            frames[name] = data_set(k, seed)
            path = Path(folder) / f"case{seed}.csv"
            frames[name].to_csv(path, index=False)
            cases.append({"name": name, "file": str(path), "moderator": moderator,
                          "test": test, "iterations": iterations, "exact": exact,
                          "repeats": args.metafor_repeats})  # fmt: skip
        spec, output = Path(folder) / "cases.json", Path(folder) / "metafor.json"
        spec.write_text(json.dumps(cases))
        subprocess.run(["Rscript", str(HERE / "metafor_permutation.R"), str(spec), str(output)],
                       check=True)  # fmt: skip
        metafor = {row["name"]: row for row in json.loads(output.read_text())}
    print("| case | k | permutations | metafor s | srma s | srma's speed-up | "
          "max abs. diff. of p (exact) |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, k, moderator, test, iterations, exact in CASES:
        seconds, pvalues = srma_case(frames[name], moderator, test, iterations, exact,
                                     args.repeats)  # fmt: skip
        theirs = metafor[name]
        count = 2**k if exact and not moderator else iterations
        if exact and moderator:
            count = int(np.prod(np.arange(1, k + 1)))
        if exact:
            their_p = np.atleast_1d(theirs["pval"])
            gap = f"{np.max(np.abs(np.asarray(pvalues) - their_p)):.1e}"
        else:
            gap = "random: not compared"
        print(f"| {name} | {k} | {count:,} | {theirs['seconds']:.3f} | {seconds:.4f} | "
              f"{theirs['seconds'] / seconds:,.0f}x | {gap} |")  # fmt: skip


if __name__ == "__main__":
    main()
