"""The rankings, inconsistency and contribution parts of ``network_meta``'s result, and
their JSON: each field is the function of :mod:`srma.stats.network` it comes from
(whose reference checks are in test_network_ranking.py, test_network_inconsistency.py and
test_network_contribution.py), wired to the fitted model, with the invariants that hold
between them.  The streams of the contribution matrix are checked against a plain
breadth-first search per stream (Papakonstantinou et al. 2018's description), exactly.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network_cases import CASES
from srma import SrmaWarning, network_meta
from srma.analysis.network import DEFAULT_RANK_DRAWS, DEFAULT_RANK_SEED, NetworkResult
from srma.stats.network.contribution import (
    HatMatrix,
    all_pairs,
    contribution_matrix,
    hat_matrix,
    proportion_direct,
)
from srma.stats.network.data import ContrastData
from srma.stats.network.gls import direct_estimates
from srma.stats.network.inconsistency import design_by_treatment, net_heat, q_decomposition


def _fit(name: str, method: str = "REML", **options: object) -> NetworkResult:
    case = CASES[name]
    measure = {"senn2013": "MD"}.get(name, "OR")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return network_meta(
            pd.DataFrame(case["data"]),
            measure=measure,
            method=method,
            reference=case.get("reference"),
            **options,
        )


@pytest.fixture(scope="module")
def senn() -> NetworkResult:
    return _fit("senn2013")


def test_rankings_are_seeded_and_recorded(senn: NetworkResult) -> None:
    assert (senn.seed, senn.draws) == (DEFAULT_RANK_SEED, DEFAULT_RANK_DRAWS)
    again = _fit("senn2013")
    assert again.rank_probabilities == senn.rank_probabilities and again.sucra == senn.sucra
    other = _fit("senn2013", seed=7, draws=2000)
    assert (other.seed, other.draws) == (7, 2000)
    assert other.rank_probabilities != senn.rank_probabilities
    p = np.asarray(senn.rank_probabilities)
    n = len(senn.treatments)
    assert p.shape == (n, n)
    # each draw ranks every treatment once: rows and columns sum to 1
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    # SUCRA = (T - mean rank) / (T - 1), and it estimates the P-score (Rücker & Schwarzer
    # 2015); 10,000 draws put it within a few hundredths
    np.testing.assert_allclose(senn.sucra, (n - np.asarray(senn.mean_ranks)) / (n - 1), rtol=1e-12)
    np.testing.assert_allclose(senn.sucra, senn.pscores, atol=0.02)
    frame = senn.rank_frame()
    assert list(frame.columns[:4]) == ["treatment", "pscore", "sucra", "mean_rank"]
    np.testing.assert_array_equal(frame.filter(like="rank_").to_numpy(), p)


def test_small_values_bad_reverses_the_ranks(senn: NetworkResult) -> None:
    bad = _fit("senn2013", small_values="bad")
    n = len(senn.treatments)
    np.testing.assert_allclose(bad.pscores, 1.0 - np.asarray(senn.pscores), atol=1e-12)
    # the same draws ranked the other way round: rank r becomes rank T + 1 - r
    np.testing.assert_array_equal(
        np.asarray(bad.rank_probabilities), np.asarray(senn.rank_probabilities)[:, ::-1]
    )
    np.testing.assert_allclose(bad.mean_ranks, n + 1 - np.asarray(senn.mean_ranks), rtol=1e-12)


@pytest.mark.parametrize("name", ["senn2013", "hasselblad1998", "dogliotti2014"])
def test_inconsistency_fields_are_the_functions_at_the_fitted_model(name: str) -> None:
    result = _fit(name)
    data = result.contrasts
    common, random = result.design_by_treatment
    assert (common.model, random.model) == ("common", "random")
    # the common-effect design-by-treatment test is Q between designs
    assert common.tau2 == 0.0 and common.df == result.q_between_df
    assert common.chi2 == pytest.approx(result.q_between, rel=1e-10)
    again = design_by_treatment(data, random.tau2)
    assert random.chi2 == again.chi2 and random.df == again.df
    heat = net_heat(data)
    np.testing.assert_array_equal(result.net_heat.matrix, heat.matrix)
    np.testing.assert_allclose(heat.q_inconsistency.sum(), result.q_between, rtol=1e-9)
    assert result.net_heat.design_names == result.designs


@pytest.mark.parametrize("name", ["senn2013", "hasselblad1998", "dogliotti2014"])
def test_direct_evidence_and_contributions(name: str) -> None:
    result = _fit(name)
    data = result.contrasts
    # the direct list: every compared pair, its studies and netsplit's direct estimate
    split = {(row.treatment, row.vs): row for row in result.node_split}
    assert [(d.treatment, d.vs) for d in result.direct] == list(split)
    for d in result.direct:
        assert d.estimate == pytest.approx(split[(d.treatment, d.vs)].direct, rel=1e-12)
        assert d.se == pytest.approx(split[(d.treatment, d.vs)].direct_se, rel=1e-12)
    arms = data.study_arms
    for d in result.direct:
        a, b = result.treatments.index(d.treatment), result.treatments.index(d.vs)
        assert d.studies == sum(a in s and b in s for s in arms)
    # the contribution matrix of every pair at the fitted model's covariance
    hat = hat_matrix(direct_estimates(data, result.total_covariance), data.n_treatments)
    first, second = all_pairs(data.n_treatments)
    np.testing.assert_array_equal(result.contribution.row_treat1, first)
    np.testing.assert_array_equal(result.contribution.row_treat2, second)
    np.testing.assert_array_equal(result.contribution.percent, contribution_matrix(hat).percent)
    np.testing.assert_allclose(result.contribution.percent.sum(axis=1), 100.0, rtol=1e-10)
    np.testing.assert_array_equal(result.proportion_direct, proportion_direct(hat))
    frame = result.contribution_frame()
    assert len(frame) == np.count_nonzero(result.contribution.percent)
    np.testing.assert_allclose(frame.groupby(["treatment", "vs"]).percent.sum(), 100.0)


def test_the_json_holds_every_new_field(senn: NetworkResult) -> None:
    out = json.loads(json.dumps(senn.to_dict(), allow_nan=False))
    names = list(senn.treatments)
    assert out["seed"] == DEFAULT_RANK_SEED and out["draws"] == DEFAULT_RANK_DRAWS
    assert list(out["sucra"]) == names and list(out["mean_ranks"]) == names
    assert out["rank_probabilities"]["placebo"] == list(senn.rank_probabilities[0])
    assert set(out["design_by_treatment"]) == {"common", "random"}
    assert set(out["design_by_treatment"]["random"]) == {"chi2", "df", "pvalue", "tau2"}
    heat = out["net_heat"]
    assert heat["designs"] == list(senn.designs)
    assert np.asarray(heat["matrix"]).shape == (len(senn.designs),) * 2
    assert {"design", "q", "df", "pvalue"} == set(heat["q_between_detached"][0])
    assert out["direct"][0] == {
        key: getattr(senn.direct[0], key)
        for key in ("treatment", "vs", "studies", "estimate", "se")
    }
    pairs = len(names) * (len(names) - 1) // 2
    assert len(out["proportion_direct"]) == pairs == len(out["contribution"]["rows"])
    # the contribution rows give back the matrix from their nonzero cells
    rebuilt = np.zeros_like(senn.contribution.percent)
    for r, row in enumerate(out["contribution"]["rows"]):
        rebuilt[r, row["columns"]] = row["percent"]
        assert (row["treatment"], row["vs"]) == (
            names[senn.contribution.row_treat1[r]],
            names[senn.contribution.row_treat2[r]],
        )
    np.testing.assert_array_equal(rebuilt, senn.contribution.percent)
    assert len(out["contribution"]["comparisons"]) == senn.contribution.percent.shape[1]
    assert "Design-by-treatment interaction (random effects" in senn.summary()
    assert "SUCRA (10000 draws" in senn.summary()


# --- the streams: against a breadth-first search for every stream ------------------------


def _streams_by_search(hat: HatMatrix, r: int, tolerance: float = 1e-12) -> np.ndarray:
    """Papakonstantinou et al. (2018) as written: while a path with flow joins the row's
    ends, take a shortest one (breadth first, each node's edges in column order; the first
    found), credit each of its edges its least flow over its length, take that flow off."""
    h = hat.matrix[r]
    heads = np.where(h >= 0, hat.column_treat1, hat.column_treat2).tolist()
    tails = np.where(h >= 0, hat.column_treat2, hat.column_treat1).tolist()
    flow = np.abs(h).tolist()
    floor = tolerance * max(max(flow), 1.0)
    source, sink = int(hat.row_treat1[r]), int(hat.row_treat2[r])
    contribution = [0.0] * len(flow)
    while True:
        reached_by = {source: -1}
        queue = [source]
        while queue and sink not in reached_by:
            node = queue.pop(0)
            for e in range(len(flow)):
                if heads[e] == node and flow[e] > floor and tails[e] not in reached_by:
                    reached_by[tails[e]] = e
                    queue.append(tails[e])
        if sink not in reached_by:
            return 100.0 * np.array(contribution)
        path, node = [], sink
        while node != source:
            path.append(reached_by[node])
            node = heads[reached_by[node]]
        phi = min(flow[e] for e in path)
        for e in path:
            contribution[e] += phi / len(path)
            flow[e] -= phi


def _random_network(seed: int, n: int, extra: int, multi: int) -> ContrastData:
    """A random spanning tree, extra pairs, and three-arm studies (shared-arm covariance)."""
    rng = np.random.default_rng(seed)
    studies = [[int(rng.integers(0, t)), t] for t in range(1, n)]
    first, second = all_pairs(n)
    studies += [[int(first[e]), int(second[e])] for e in rng.integers(0, first.size, extra)]
    studies += [sorted(rng.choice(n, 3, replace=False).tolist()) for _ in range(multi)]
    study, treat1, treat2, arm_variance, base_variance = [], [], [], [], []
    for s, arms in enumerate(studies):
        arms = sorted(arms)
        variances = rng.uniform(0.05, 1.0, len(arms))
        for a, v in zip(arms[1:], variances[1:], strict=True):
            study.append(s)
            treat1.append(a)
            treat2.append(arms[0])
            arm_variance.append(v)
            base_variance.append(variances[0])
    k = len(study)
    same = np.equal.outer(study, study)
    V = np.where(same, np.asarray(base_variance)[:, None], 0.0) + np.diag(arm_variance)
    return ContrastData(
        treatments=tuple(f"T{t}" for t in range(n)),
        studies=tuple(f"s{s}" for s in range(len(studies))),
        study=np.asarray(study),
        treat1=np.asarray(treat1),
        treat2=np.asarray(treat2),
        y=rng.normal(size=k),
        V=V,
    )


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 9),
    extra=st.integers(0, 12),
    multi=st.integers(0, 3),
)
def test_the_layered_search_finds_the_same_streams(
    seed: int, n: int, extra: int, multi: int
) -> None:
    data = _random_network(seed, n, extra, multi)
    hat = hat_matrix(direct_estimates(data, data.V), n)
    fast = contribution_matrix(hat).percent
    for r in range(hat.matrix.shape[0]):
        np.testing.assert_allclose(fast[r], _streams_by_search(hat, r), rtol=1e-12, atol=1e-12)


def test_q_between_of_the_random_networks_is_the_sum_of_the_heat() -> None:
    data = _random_network(11, 7, 8, 2)
    heat = net_heat(data)
    np.testing.assert_allclose(
        heat.q_inconsistency.sum(), q_decomposition(data).q_between, rtol=1e-9
    )


# --- invariance: row order, treatment labels, reference -----------------------------------


def _random_arms(seed: int, n: int, extra: int) -> pd.DataFrame:
    """Arm-level mean differences of a random connected network: a spanning tree, extra
    two-arm studies and a three-arm study."""
    rng = np.random.default_rng(seed)
    studies = [[int(rng.integers(0, t)), t] for t in range(1, n)]
    studies += [rng.choice(n, 2, replace=False).tolist() for _ in range(extra)]
    studies.append(rng.choice(n, 3, replace=False).tolist())
    effect = rng.normal(size=n)
    rows = [
        {"study": f"s{s}", "treatment": f"drug {t}", "mean": effect[t] + rng.normal(scale=0.3),
         "sd": rng.uniform(0.5, 2.0), "n": int(rng.integers(10, 200))}
        for s, arms in enumerate(studies)
        for t in arms
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _league(result: NetworkResult, rename: dict[str, str] | None = None) -> pd.DataFrame:
    table = result.league_frame()
    if rename:
        table = table.rename(index=rename, columns=rename)
    return table.sort_index().sort_index(axis=1)


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 7),
    extra=st.integers(0, 8),
    method=st.sampled_from(["EE", "DL", "REML"]),
)
def test_estimates_do_not_depend_on_rows_labels_or_reference(
    seed: int, n: int, extra: int, method: str
) -> None:
    arms = _random_arms(seed, n, extra)
    rng = np.random.default_rng(seed + 1)
    names = sorted(arms.treatment.unique())
    # new labels in another sorted order (so the baseline arms and the reference move)
    relabel = dict(zip(names, [f"t{i}" for i in rng.permutation(len(names))], strict=True))
    back = {new: old for old, new in relabel.items()}
    reference = names[int(rng.integers(len(names)))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        base = network_meta(arms, measure="MD", method=method, reference=names[0])
        shuffled = network_meta(arms.sample(frac=1.0, random_state=int(rng.integers(2**31))),
                                measure="MD", method=method, reference=names[0])  # fmt: skip
        renamed = network_meta(arms.assign(treatment=arms.treatment.map(relabel)),
                               measure="MD", method=method)  # fmt: skip
        moved = network_meta(arms, measure="MD", method=method, reference=reference)
    tolerance = {"rtol": 1e-6, "atol": 1e-8} if method == "REML" else {"rtol": 1e-9, "atol": 1e-11}
    expected = _league(base)
    for other, rename in ((shuffled, None), (renamed, back), (moved, None)):
        np.testing.assert_allclose(_league(other, rename), expected, **tolerance)
        assert other.tau2 == pytest.approx(base.tau2, rel=1e-6, abs=1e-10)
        assert other.q == pytest.approx(base.q, rel=1e-9)
        scores = dict(zip(other.treatments, other.pscores, strict=True))
        for name, score in zip(base.treatments, base.pscores, strict=True):
            label = relabel[name] if other is renamed else name
            assert scores[label] == pytest.approx(score, rel=1e-6, abs=1e-9)
    # the league table is antisymmetric: the pair read the other way round
    np.testing.assert_allclose(expected, -expected.T, atol=1e-12)


def test_a_network_without_loops_or_replication_serialises() -> None:
    # a chain x - y - z of one study each: nothing to test, no NaN in the JSON
    tree = pd.DataFrame({
        "study": ["a", "a", "b", "b"], "treatment": ["x", "y", "y", "z"],
        "yi": [0.1, 0.3, 0.2, 0.1], "sei": [0.2, 0.2, 0.3, 0.3],
    })  # fmt: skip
    result = network_meta(tree, measure="GEN", method="EE")
    out = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert out["q_df"] == 0 and out["q_pvalue"] is None
    common = out["design_by_treatment"]["common"]
    assert common["df"] == 0 and common["pvalue"] is None
    assert common["chi2"] == pytest.approx(0.0, abs=1e-12)
    # the x - z estimate runs through y: half of its evidence from each comparison
    row = next(r for r in out["contribution"]["rows"] if (r["treatment"], r["vs"]) == ("x", "z"))
    np.testing.assert_allclose(row["percent"], [50.0, 50.0], rtol=1e-12)
    assert "NA" in result.summary()
