"""Benchmark: srma.network_meta against metafor's rma.mv on a large simulated network.

A network of ``--treatments`` treatments (default 30) and ``--studies`` studies
(default 300) is simulated with one seed: the first ``T - 1`` studies chain the
treatments (0-1, 1-2, ...) so that the network is connected; every other study
has 2 arms (75%), 3 (20%) or 4 (5%) of distinct random treatments.  Arm ``j`` of
study ``s`` has log odds ``mu_s + d_j + delta_sj`` (``d`` normal with sd 0.5,
``delta`` with variance ``tau²/2 = 0.05``) and ``total`` uniform in 40..400 people.

Timed with ``time.perf_counter`` after one warm-up call: the public
:func:`srma.network_meta` from the arm table with all its output (checks, contrasts,
fit, league table of all 870 ordered pairs, P-scores, rank probabilities and SUCRA from
10,000 draws, the Q decomposition, both design-by-treatment tests, the net heat matrix,
node-splitting, the direct evidence, and the contribution matrix and proportion of
direct evidence of all 435 pairs) by EE, DL and REML, the median of ``--repeats``
calls; then one REML call with its time split by the stages of the result; then
metafor's ``rma.mv`` REML on the same contrasts in one Rscript process
(``metafor_network.R``; timed inside R with ``system.time``, R's start-up excluded).
tau² and the first basic estimate of both are printed to show they fit the same
model.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_network.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import srma.analysis.network as network_module
from srma import SrmaWarning, network_meta

HERE = Path(__file__).resolve().parent


def simulate(n_treatments: int, n_studies: int, seed: int) -> pd.DataFrame:
    """Arm-level binary data of a connected network (see the module docstring)."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(scale=0.5, size=n_treatments)
    effect[0] = 0.0
    rows = []
    for s in range(n_studies):
        if s < n_treatments - 1:
            arms = np.array([s, s + 1])
        else:
            size = rng.choice([2, 3, 4], p=[0.75, 0.2, 0.05])
            arms = rng.choice(n_treatments, size=size, replace=False)
        baseline = rng.normal(-1.0, 0.5)
        for t in arms:
            logit = baseline + effect[t] + rng.normal(scale=np.sqrt(0.05))
            total = int(rng.integers(40, 401))
            events = int(rng.binomial(total, 1 / (1 + np.exp(-logit))))
            rows.append({"study": s, "treatment": int(t), "events": events, "total": total})
    return pd.DataFrame(rows)


#: The functions behind the parts of the result, as network_meta calls them.
STAGES = {
    "fit (tau², estimates)": "fit_network",
    "rank probabilities": "rank_probabilities",
    "Q decomposition": "q_decomposition",
    "design-by-treatment tests": "_design_by_treatment_tests",
    "net heat": "net_heat",
    "node-splitting": "node_split",
    "direct estimates, hat matrix": ("direct_estimates", "hat_matrix"),
    "contribution matrix": "contribution_matrix",
}


def _frame(arms: pd.DataFrame) -> pd.DataFrame:
    return arms.assign(treatment=arms.treatment.map(lambda t: f"T{t:02d}"))


def time_srma(arms: pd.DataFrame, method: str, repeats: int) -> tuple[float, float, float]:
    """Median seconds per call, tau² and the first basic estimate."""
    frame = _frame(arms)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = network_meta(frame, measure="OR", method=method, reference="T00")
        seconds = []
        for _ in range(repeats):
            start = time.perf_counter()
            network_meta(frame, measure="OR", method=method, reference="T00")
            seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)), result.tau2, result.basic_estimate[0]


def time_stages(arms: pd.DataFrame, method: str) -> dict[str, float]:
    """Seconds of one call by stage: each function network_meta's module calls is wrapped
    in a ``perf_counter`` timer for the call (the rest of the total is the checks, the
    contrasts, the league table and the result's rows)."""
    frame = _frame(arms)
    spent: dict[str, float] = {}
    wrapped = [
        name
        for names in STAGES.values()
        for name in ((names,) if isinstance(names, str) else names)
    ]
    originals = {name: getattr(network_module, name) for name in wrapped}

    def timed(name: str) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return originals[name](*args, **kwargs)
            finally:
                spent[name] = spent.get(name, 0.0) + time.perf_counter() - start

        return call

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        network_meta(frame, measure="OR", method=method, reference="T00")
        for name in wrapped:
            setattr(network_module, name, timed(name))
        try:
            start = time.perf_counter()
            network_meta(frame, measure="OR", method=method, reference="T00")
            total = time.perf_counter() - start
        finally:
            for name, function in originals.items():
                setattr(network_module, name, function)
    out = {"total": total}
    for label, names in STAGES.items():
        names = (names,) if isinstance(names, str) else names
        out[label] = sum(spent.get(name, 0.0) for name in names)
    return out


def time_metafor(arms: pd.DataFrame) -> dict[str, float] | None:
    """rma.mv's seconds, tau² and first estimate, or None without Rscript."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as folder:
        data, out = Path(folder) / "arms.csv", Path(folder) / "out.json"
        arms.to_csv(data, index=False)
        subprocess.run(
            ["Rscript", str(HERE / "metafor_network.R"), str(data), str(out)], check=True
        )
        return json.loads(out.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--treatments", type=int, default=30)
    parser.add_argument("--studies", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    arms = simulate(args.treatments, args.studies, args.seed)
    print(f"{args.treatments} treatments, {args.studies} studies, {len(arms)} arms")
    for method in ("EE", "DL", "REML"):
        seconds, tau2, first = time_srma(arms, method, args.repeats)
        print(f"srma {method:<4}: {seconds:7.3f} s per fit; tau2 {tau2:.8f}; d_1 {first:.8f}")
    print("srma REML, one call by stage:")
    for label, seconds in time_stages(arms, "REML").items():
        print(f"  {label:<30} {seconds:7.3f} s")
    metafor = time_metafor(arms)
    if metafor is None:
        print("metafor: Rscript not found")
    else:
        print(
            f"rma.mv REML: {metafor['seconds']:7.3f} s per fit; tau2 {metafor['tau2']:.8f}; "
            f"d_1 {metafor['beta1']:.8f}"
        )


if __name__ == "__main__":
    main()
