"""srma's screening simulation beside ASReview's default model, same data, same priors.

For each shipped labelled set (``srma.datasets.screening``) and seed, the script

1. picks the prior knowledge: one relevant and one irrelevant record, drawn with
   ``numpy.random.default_rng(seed)`` from the ``label_included`` positions, relevant
   first;
2. runs ASReview's default model (``elas_u4``: TF-IDF of unigrams and bigrams, linear
   SVM, "balanced" sample weights, maximum query, one record per step) in a child
   process of ASReview's own interpreter (``--asreview-python``), on the same titles and
   abstracts, starting from those priors: ``Simulate(df, labels, [TopDown cycle until
   fittable, elas_u4 cycle])``, ``sim.label(priors)``, ``sim.review()``, as
   ``asreview simulate`` does;
3. runs ``srma.review.screen.simulation.simulate(model="svm", features="asreview",
   priors=...)`` in a child process of this interpreter;
4. scores both labelling orders with srma's metric functions (WSS@95, WSS@100, RRF@10,
   records screened to 95% and 100% recall). ASReview stops at the last relevant record;
   the unlabelled rest are all irrelevant and are appended, which changes no metric.
   ``same_order_prefix``: records the two tools screen in the same order before their
   orders first differ (up to where the shorter stops); ``max_found_gap``: the largest
   difference, over ``k``, between the relevant records the two have found after ``k``.

CPU seconds: ``time.process_time()`` inside each child around the simulation alone
(TF-IDF and the screening loop; not the imports or reading the data), and the whole
child process (``resource.getrusage(RUSAGE_CHILDREN)``, user + system, imports
included).

Writes ``OUT/asreview_vs_srma.json`` and one ``OUT/recall_NAME.png`` per set (both
tools' recall curves, every seed). Run from the repository root:

    PYTHONPATH=src .venv/bin/python benchmarks/bench_asreview.py \\
        --asreview-python /tmp/asr/bin/python --out benchmarks/results/asreview
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

SETS = ("nagtegaal2019", "bannach_brown2019", "kitchenham2010")
LABEL = "label_included"


# --------------------------------------------------------------------------- children


def asreview_child(csv: str, priors: list[int], seed: int) -> dict[str, object]:
    """ASReview's default simulation (imports only ASReview, numpy and pandas)."""
    import numpy as np
    import pandas as pd
    from asreview import __version__
    from asreview.learner import ActiveLearningCycle
    from asreview.models.models import get_ai_config
    from asreview.models.queriers import TopDown
    from asreview.models.stoppers import IsFittable
    from asreview.simulation.simulate import Simulate

    frame = pd.read_csv(csv, keep_default_na=False, dtype={"title": str, "abstract": str})
    labels = frame["label"].to_numpy()
    np.random.seed(seed)  # as `asreview simulate --seed` does
    start = time.process_time()
    cycles = [
        ActiveLearningCycle(querier=TopDown(), stopper=IsFittable()),
        ActiveLearningCycle.from_meta(get_ai_config("elas_u4")["value"]),
    ]
    sim = Simulate(frame[["title", "abstract"]], labels, cycles, print_progress=False)
    sim.label(priors)
    sim.review()
    cpu = time.process_time() - start
    order = [int(i) for i in sim._results["record_id"]]
    return {"order": order, "cpu_simulation": cpu, "version": __version__}


def srma_child(name: str, priors: list[int], seed: int) -> dict[str, object]:
    """srma's ``svm`` model with ASReview's TF-IDF preset."""
    from srma import __version__
    from srma.datasets.screening import load_screening, screening_texts
    from srma.review.screen.simulation import simulate

    frame = load_screening(name)
    texts, labels = screening_texts(frame), frame[LABEL].tolist()
    start = time.process_time()
    sim = simulate(texts, labels, model="svm", features="asreview", seed=seed, priors=priors)
    cpu = time.process_time() - start
    return {"order": sim.order.tolist(), "cpu_simulation": cpu, "version": __version__}


# --------------------------------------------------------------------------- parent


def run_child(
    command: list[str], cwd: str, env: dict[str, str] | None = None
) -> tuple[dict[str, object], float]:
    """The child's JSON answer and its CPU seconds (user + system, whole process).

    The child runs in ``cwd`` (a temporary folder): importing ASReview creates a
    ``synergy_cache.sqlite`` in the working directory (its SYNERGY dataset plugin).
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd, env=env)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed:\n{done.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return json.loads(done.stdout.strip().splitlines()[-1]), cpu


def scores(order: list[int], y: np.ndarray) -> dict[str, object]:
    """srma's metrics of a (possibly partial) labelling order, the rest appended."""
    import numpy as np

    from srma.review.screen.metrics import n_screened_for_recall, rrf, wss

    seen = np.zeros(y.size, dtype=bool)
    seen[order] = True
    if len(set(order)) != len(order):
        raise RuntimeError("a record was labelled twice")
    rest = np.flatnonzero(~seen)
    if y[rest].any():
        raise RuntimeError("the order stopped before the last relevant record")
    full = np.concatenate([np.asarray(order, dtype=np.int64), rest])
    in_order = y[full]
    return {
        "wss95": wss(in_order, 0.95),
        "wss100": wss(in_order, 1.0),
        "rrf10": rrf(in_order, 0.10),
        "screened_to_95": n_screened_for_recall(in_order, 0.95),
        "screened_to_100": n_screened_for_recall(in_order, 1.0),
        "n_labelled_by_tool": len(order),
        "recall_curve": np.cumsum(in_order).tolist(),
    }


def same_prefix(a: list[int], b: list[int]) -> int:
    """How many records the two orders screen identically before they first differ."""
    for k, (i, j) in enumerate(zip(a, b, strict=False)):
        if i != j:
            return k
    return min(len(a), len(b))


def plot_set(name: str, runs: list[dict[str, object]], n: int, n_rel: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fig, ax = plt.subplots(figsize=(7.5, 5), dpi=120)
    x = np.arange(1, n + 1)
    seed_colours = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"]
    # ASReview wide and pale underneath, srma thin on top: where the curves agree the
    # thin line runs inside the wide one.
    for k, run in enumerate(runs):
        colour = seed_colours[k % len(seed_colours)]
        for tool, width, alpha, style in (("asreview", 5.0, 0.35, "-"), ("srma", 1.2, 1.0, "--")):
            result = run[tool]
            curve = np.asarray(result["recall_curve"]) / n_rel
            label = (f"{tool}, seed {run['seed']}: WSS@95 {result['wss95']:.3f}, "
                     f"RRF@10 {result['rrf10']:.3f}")  # fmt: skip
            ax.plot(x, curve, color=colour, linewidth=width, alpha=alpha, linestyle=style,
                    label=label)  # fmt: skip
    ax.plot([0, n], [0, 1], color="grey", linewidth=0.8, label="random (expected)")
    ax.axhline(0.95, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlabel("records screened")
    ax.set_ylabel(f"recall ({n_rel} relevant of {n})")
    title = f"{name}: ASReview elas_u4 (wide) vs srma svm, asreview TF-IDF (dashed)"
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=7, loc="lower right", title="same priors per seed", title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--asreview-python", default="/tmp/asr/bin/python")
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/asreview"))
    parser.add_argument("--child", choices=["asreview", "srma"], help=argparse.SUPPRESS)
    parser.add_argument("--target", help=argparse.SUPPRESS)
    parser.add_argument("--priors", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child = asreview_child if args.child == "asreview" else srma_child
        print(json.dumps(child(args.target, json.loads(args.priors), args.seed)))
        return

    import numpy as np

    import srma
    from srma.datasets.screening import load_screening

    args.out.mkdir(parents=True, exist_ok=True)
    script = str(Path(__file__).resolve())
    # the srma child imports this very srma, whatever its working directory
    srma_root = str(Path(srma.__file__).resolve().parents[1])
    srma_env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [srma_root, *filter(None, [os.environ.get("PYTHONPATH")])]
    )}  # fmt: skip
    results: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.sets:
            frame = load_screening(name)
            y = frame[LABEL].to_numpy(dtype=np.int64)
            csv = Path(tmp) / f"{name}.csv"
            frame[["title", "abstract"]].assign(label=y).to_csv(csv, index=False)
            runs = []
            for seed in args.seeds:
                rng = np.random.default_rng(seed)
                priors = [int(rng.choice(np.flatnonzero(y == 1))),
                          int(rng.choice(np.flatnonzero(y == 0)))]  # fmt: skip
                common = ["--priors", json.dumps(priors), "--seed", str(seed)]
                run: dict[str, object] = {"set": name, "seed": seed, "priors": priors}
                orders: dict[str, list[int]] = {}
                for tool, python, target, env in (
                    ("asreview", args.asreview_python, str(csv), None),
                    ("srma", sys.executable, name, srma_env),
                ):
                    answer, cpu = run_child(
                        [python, script, "--child", tool, "--target", target, *common], tmp, env
                    )
                    orders[tool] = answer["order"]
                    if answer["order"][:2] != priors:
                        raise RuntimeError(f"{tool} did not start from the priors {priors}")
                    run[tool] = {
                        "version": answer["version"],
                        "cpu_simulation": answer["cpu_simulation"],
                        "cpu_process": cpu,
                        **scores(answer["order"], y),
                    }
                    print(
                        f"{name} seed {seed} {tool:8s} WSS@95 {run[tool]['wss95']:.3f} "
                        f"WSS@100 {run[tool]['wss100']:.3f} RRF@10 {run[tool]['rrf10']:.3f} "
                        f"CPU {answer['cpu_simulation']:.1f} s (process {cpu:.1f} s)",
                        flush=True,
                    )
                run["same_order_prefix"] = same_prefix(orders["asreview"], orders["srma"])
                runs.append(run)
            plot_set(name, runs, y.size, int(y.sum()), args.out / f"recall_{name}.png")
            results.extend(runs)
    for run in results:  # keep the JSON small: curves are in the plots
        curves = [np.asarray(run[tool].pop("recall_curve")) for tool in ("asreview", "srma")]
        run["max_found_gap"] = int(np.abs(curves[0] - curves[1]).max())
    (args.out / "asreview_vs_srma.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
