"""Benchmark: active-learning screening simulation on the shipped Nagtegaal (2019) set.

Replays screening of the 2,019 labelled records with srma.review.screen.simulation.simulate
for both models and prints WSS@95, WSS@100, RRF@10, records screened to reach 95%
recall and wall-clock seconds, with random screening (mean of ``--random-orders``
random orders) as the baseline. Two targets: the final inclusions
(``label_included``, 101 relevant; what ASReview's simulation studies use) and the
title/abstract screening decisions (``label_abstract_screening``, 392 relevant).

    .venv/bin/python benchmarks/active_learning_simulation.py
    .venv/bin/python benchmarks/active_learning_simulation.py --batch-size 10 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from srma.datasets.screening import load_screening, screening_texts
from srma.review.screen.metrics import n_screened_for_recall, rrf, wss
from srma.review.screen.models import MODELS
from srma.review.screen.simulation import simulate

TARGETS = ("label_included", "label_abstract_screening")


def _random_baseline(labels: list[int], n_orders: int, seed: int) -> tuple[float, ...]:
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    rows = []
    for _ in range(n_orders):
        order = y[rng.permutation(y.size)]
        rows.append(
            (
                wss(order, 0.95),
                wss(order, 1.0),
                rrf(order, 0.10),
                n_screened_for_recall(order, 0.95),
            )
        )
    return tuple(float(v) for v in np.mean(rows, axis=0))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=1)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--random-orders", type=int, default=200)
    # the tables in docs/active_learning.md were measured with srma's own TF-IDF preset
    parser.add_argument("--features", choices=("srma", "asreview"), default="srma")
    args = parser.parse_args()

    frame = load_screening("nagtegaal2019")
    texts = screening_texts(frame)
    print(
        f"data: nagtegaal2019, N = {len(texts)}; batch_size = {args.batch_size}; "
        f"priors: 1 relevant + 1 irrelevant; seeds: {args.seeds}"
    )
    print()
    print(
        "| target | model | seed | WSS@95 | WSS@100 | RRF@10 | screened to 95% | fits | seconds |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for target in args.targets:
        labels = frame[target].astype(int).tolist()
        n_rel = sum(labels)
        for model in args.models:
            for seed in args.seeds:
                start = time.perf_counter()
                sim = simulate(
                    texts, labels, model=model, seed=seed, batch_size=args.batch_size,
                    features=args.features,
                )  # fmt: skip
                seconds = time.perf_counter() - start
                print(
                    f"| {target} ({n_rel}) | {model} | {seed} | {sim.wss95:.3f} | "
                    f"{sim.wss100:.3f} | {sim.rrf10:.3f} | {sim.screened_to_recall[0.95]} | "
                    f"{sim.n_model_fits} | {seconds:.1f} |",
                    flush=True,
                )
        w95, w100, r10, k95 = _random_baseline(labels, args.random_orders, seed=12345)
        print(
            f"| {target} ({n_rel}) | random (mean of {args.random_orders}) | - | {w95:.3f} | "
            f"{w100:.3f} | {r10:.3f} | {k95:.0f} | - | - |",
            flush=True,
        )


if __name__ == "__main__":
    main()
