"""Retrain and rerank at 10,000 records with the TF-IDF matrix kept (issue 17).

The three shipped labelled sets (5,716 records) repeated to 10,000, labels of ``n`` random
records revealed (50, 500, 2,000), then one ``rank_records`` call per model with the matrix
built once before (as ``srma screen`` and the workspace keep it between decisions): the
fastest of 3 calls. The matrix itself is timed once, in CPU seconds.

    .venv/bin/python benchmarks/bench_rerank.py
"""

from __future__ import annotations

import time

import numpy as np

from machine_info import machine
from srma.datasets.screening import load_screening
from srma.review.screen.features import tfidf_matrix
from srma.review.screen.ranking import rank_records

SETS = ("nagtegaal2019", "bannach_brown2019", "kitchenham2010")
RECORDS = 10_000


def main() -> None:
    print(machine("scikit-learn", "scipy"))
    frames = [load_screening(name) for name in SETS]
    texts = [f"{t} {a}" for f in frames for t, a in zip(f["title"], f["abstract"], strict=True)]
    truth = [int(v) for f in frames for v in f["label_included"]]
    repeat = -(-RECORDS // len(texts))
    texts, truth = (texts * repeat)[:RECORDS], (truth * repeat)[:RECORDS]
    start = time.process_time()
    matrix = tfidf_matrix(texts)
    print(f"TF-IDF of {RECORDS:,} records: {time.process_time() - start:.2f} CPU-s, "
          f"{matrix.shape[1]:,} features (built once, kept while the records stay)")  # fmt: skip
    rng = np.random.default_rng(0)
    print("| labels | model | retrain + rerank s (min of 3) |\n|---:|---|---:|")
    for revealed in (50, 500, 2000):
        labels: list[int | None] = [None] * RECORDS
        for i in rng.choice(RECORDS, revealed, replace=False):
            labels[i] = truth[i]
        labels[0], labels[1] = 1, 0  # both classes
        for model in ("logistic", "svm", "naive_bayes"):
            times = []
            for _ in range(3):
                start = time.perf_counter()
                rank_records(None, labels, model=model, features=matrix)
                times.append(time.perf_counter() - start)
            print(f"| {revealed:,} | {model} | {min(times):.3f} |")


if __name__ == "__main__":
    main()
