"""Benchmark: srma's multilevel engine against metafor's rma.mv on a three-level model.

A data set of ``--effects`` effect sizes (default 500) in ``--studies`` studies
(default 60) is simulated with one seed: study sizes from a multinomial draw
(at least one effect each), ``y = 0.2 + u_study + u_effect + e`` with
``sigma2_study = 0.05``, ``sigma2_effect = 0.03``, ``v`` uniform(0.01, 0.1).  The
model ``~ 1 | study/effect`` is fitted by REML

* by :func:`srma.stats.multilevel.fit_multilevel`, timed with ``time.perf_counter``
  over ``--repeats`` fits after one warm-up fit;
* by the public :func:`srma.meta_mv` from the data frame (formula parsing, checks,
  the result object), without and with the profile-likelihood intervals of the two
  variance components (``rma.mv`` computes none: metafor's ``confint`` does);
* by metafor's ``rma.mv`` in one Rscript process (``metafor_multilevel.R``), timed
  inside R with ``system.time`` over the same number of fits (R's start-up excluded).

Both times per fit, their ratio and the two estimates are printed; then the time
per fit of a batch of ``--batch`` fits in one call (parametric bootstrap samples of
``y`` at the estimate: the batch-first path, Fisher scoring over all fits at once).

    .venv/bin/python benchmarks/bench_multilevel.py
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from srma.stats.multilevel import RandomTerm, fit_multilevel

HERE = Path(__file__).resolve().parent


def simulate(n_effects: int, n_studies: int, seed: int) -> pd.DataFrame:
    """Three-level data: effects within studies (see the module docstring)."""
    rng = np.random.default_rng(seed)
    sizes = 1 + rng.multinomial(n_effects - n_studies, np.full(n_studies, 1 / n_studies))
    study = np.repeat(np.arange(n_studies), sizes)
    effect = np.concatenate([np.arange(size) for size in sizes])
    vi = rng.uniform(0.01, 0.1, size=n_effects)
    yi = (
        0.2
        + rng.normal(scale=np.sqrt(0.05), size=n_studies)[study]
        + rng.normal(scale=np.sqrt(0.03), size=n_effects)
        + rng.normal(scale=np.sqrt(vi))
    )
    return pd.DataFrame({"yi": yi, "vi": vi, "study": study + 1, "effect": effect + 1})


def time_srma(data: pd.DataFrame, repeats: int) -> tuple[float, np.ndarray, float]:
    """Seconds per fit, sigma2 and the REML log-likelihood."""
    study = data["study"].to_numpy(np.int64)
    nested = pd.factorize(data["study"].astype(str) + "/" + data["effect"].astype(str))[0]
    terms = [RandomTerm("intercept", study), RandomTerm("intercept", nested.astype(np.int64))]
    X = np.ones((len(data), 1))
    args = (data["yi"].to_numpy(), data["vi"].to_numpy(), X, terms)
    fit = fit_multilevel(*args)  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fit = fit_multilevel(*args)
    return (time.perf_counter() - start) / repeats, fit.theta[0], float(fit.loglik[0])


def time_meta_mv(data: pd.DataFrame, repeats: int, profile_ci: bool) -> float:
    """Seconds per call of the public ``srma.meta_mv`` on the data frame."""
    import srma

    def fit() -> object:
        return srma.meta_mv(data, random="~ 1 | study/effect", profile_ci=profile_ci)

    fit()  # warm-up
    start = time.perf_counter()
    for _ in range(repeats):
        fit()
    return (time.perf_counter() - start) / repeats


def time_batch(data: pd.DataFrame, n_fits: int, seed: int) -> tuple[float, int]:
    """Seconds per fit for ``n_fits`` bootstrap samples fitted in one call; how many converged."""
    study = data["study"].to_numpy(np.int64)
    nested = pd.factorize(data["study"].astype(str) + "/" + data["effect"].astype(str))[0]
    terms = [RandomTerm("intercept", study), RandomTerm("intercept", nested.astype(np.int64))]
    X = np.ones((len(data), 1))
    vi = data["vi"].to_numpy()
    fit = fit_multilevel(data["yi"].to_numpy(), vi, X, terms)
    covariance = fit.marginal_covariance(0)
    rng = np.random.default_rng(seed)
    samples = fit.beta[0, 0] + rng.multivariate_normal(np.zeros(len(data)), covariance, n_fits)
    start = time.perf_counter()
    batch = fit_multilevel(samples, vi, X, terms)
    return (time.perf_counter() - start) / n_fits, int(batch.converged.sum())


def time_metafor(csv: Path, repeats: int, folder: Path) -> dict:
    output = folder / "metafor.json"
    subprocess.run(
        ["Rscript", str(HERE / "metafor_multilevel.R"), str(csv), str(repeats), str(output)],
        check=True,
        capture_output=True,
    )
    return json.loads(output.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--effects", type=int, default=500)
    parser.add_argument("--studies", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    data = simulate(args.effects, args.studies, args.seed)
    seconds, sigma2, loglik = time_srma(data, args.repeats)
    print(f"k = {len(data)} effects in {args.studies} studies, {args.repeats} fits each")
    print(f"srma   : {seconds * 1000:9.1f} ms per fit; sigma2 = {sigma2}, logLik = {loglik:.8f}")
    api = time_meta_mv(data, args.repeats, profile_ci=False)
    api_profiled = time_meta_mv(data, max(1, args.repeats // 5), profile_ci=True)
    print(f"srma   : {api * 1000:9.1f} ms per srma.meta_mv(..., profile_ci=False)")
    print(f"srma   : {api_profiled * 1000:9.1f} ms per srma.meta_mv(...) with profile CIs")
    batch_seconds, n_converged = time_batch(data, args.batch, args.seed)
    print(
        f"srma   : {batch_seconds * 1000:9.1f} ms per fit in a batch of {args.batch} "
        f"({n_converged} converged)"
    )
    if shutil.which("Rscript") is None:
        print("metafor: Rscript not found; not timed")
        return
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "data.csv"
        data.to_csv(csv, index=False)
        metafor = time_metafor(csv, args.repeats, Path(folder))
    r_seconds = metafor["seconds_per_fit"]
    print(
        f"metafor: {r_seconds * 1000:9.1f} ms per fit; sigma2 = {metafor['sigma2']}, "
        f"logLik = {metafor['loglik']:.8f}"
    )
    sparse = metafor["seconds_per_fit_sparse"]
    print(f"metafor: {sparse * 1000:9.1f} ms per fit with sparse = TRUE")
    print(
        f"ratio  : metafor (sparse) / srma = {sparse / seconds:.1f}x (one fit), "
        f"{sparse / api:.1f}x (srma.meta_mv)"
    )
    print(
        f"ratio  : metafor / srma = {r_seconds / seconds:.1f}x (one fit), "
        f"{r_seconds / api:.1f}x (srma.meta_mv), {r_seconds / api_profiled:.1f}x (meta_mv "
        f"with profile CIs), {r_seconds / batch_seconds:.1f}x (in a batch)"
    )


if __name__ == "__main__":
    main()
