"""Contributions of the direct comparisons to the network estimates: the aggregate hat
matrix (Rücker 2012; König, Krahn & Binder 2013), the proportion of direct evidence and
the shortest-path streams contribution matrix (Papakonstantinou et al. 2018).  Fixture:
tests/reference/network_numerics.R (H = C (X'WX)^-1 X'W from the rma.uni direct estimates
and the rma.mv network estimates, EE and REML).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network_numerics_fixture import MODEL_IDS, MODELS, contrast_data, model_tau2
from srma.stats.network.contribution import (
    all_pairs,
    contribution_matrix,
    hat_matrix,
    proportion_direct,
)
from srma.stats.network.data import ContrastData
from srma.stats.network.gls import direct_estimates, fit_consistency, marginal_covariance

RTOL = 1e-6


def _hat(data: ContrastData, tau2: float = 0.0):
    direct = direct_estimates(data, marginal_covariance(data, tau2))
    return direct, hat_matrix(direct, data.n_treatments)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_hat_matrix_matches_the_reference(case: dict[str, Any], model: str) -> None:
    data = contrast_data(case)
    tau2 = model_tau2(case, model)
    direct, hat = _hat(data, tau2)
    expected = case[model]["hat"]
    np.testing.assert_array_equal(direct.treat1, expected["comparisons"]["treat1"])
    np.testing.assert_array_equal(direct.treat2, expected["comparisons"]["treat2"])
    np.testing.assert_allclose(direct.estimate, expected["direct"], rtol=RTOL)
    np.testing.assert_allclose(direct.variance, expected["direct_var"], rtol=RTOL)
    np.testing.assert_array_equal(hat.row_treat1, expected["rows"]["treat1"])
    np.testing.assert_array_equal(hat.row_treat2, expected["rows"]["treat2"])
    np.testing.assert_allclose(hat.matrix, expected["matrix"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(hat.matrix @ direct.estimate, expected["times_direct"], rtol=RTOL)
    # H times the direct estimates is the contrast-level network estimate (rma.mv)
    fit = fit_consistency(data, tau2)
    network = fit.estimates[hat.row_treat1] - fit.estimates[hat.row_treat2]
    np.testing.assert_allclose(hat.matrix @ direct.estimate, network, rtol=RTOL, atol=1e-12)
    estimates = np.asarray(case[model]["estimates"])
    np.testing.assert_allclose(
        hat.matrix @ direct.estimate,
        estimates[hat.row_treat1] - estimates[hat.row_treat2],
        rtol=RTOL,
        atol=1e-12,
    )


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_proportion_direct_is_the_variance_ratio(case: dict[str, Any], model: str) -> None:
    data = contrast_data(case)
    direct, hat = _hat(data, model_tau2(case, model))
    shares = proportion_direct(hat)
    column = {(a, b): e for e, (a, b) in enumerate(zip(direct.treat1, direct.treat2, strict=True))}
    made = np.array([(a, b) in column for a, b in zip(hat.row_treat1, hat.row_treat2, strict=True)])
    np.testing.assert_allclose(shares[made], case[model]["hat"]["proportion_direct"], rtol=RTOL)
    assert (shares[~made] == 0.0).all()


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_contribution_rows_are_a_decomposition_of_the_flow(
    case: dict[str, Any], model: str
) -> None:
    data = contrast_data(case)
    _, hat = _hat(data, model_tau2(case, model))
    contributions = contribution_matrix(hat)
    np.testing.assert_allclose(contributions.percent.sum(axis=1), 100.0, rtol=1e-10)
    assert (contributions.percent >= 0.0).all()
    # a comparison whose network estimate is its direct estimate takes all from itself
    shares = proportion_direct(hat)
    for r in np.nonzero(np.isclose(shares, 1.0, rtol=1e-10))[0]:
        own = (hat.column_treat1 == hat.row_treat1[r]) & (hat.column_treat2 == hat.row_treat2[r])
        np.testing.assert_allclose(contributions.percent[r, own], 100.0, rtol=1e-10)
    # each row's flow is conserved: B'h = e_a - e_b
    incidence = np.zeros((hat.column_treat1.shape[0], data.n_treatments))
    edges = np.arange(incidence.shape[0])
    incidence[edges, hat.column_treat1] = 1.0
    incidence[edges, hat.column_treat2] = -1.0
    target = np.zeros((hat.row_treat1.shape[0], data.n_treatments))
    rows = np.arange(target.shape[0])
    target[rows, hat.row_treat1] = 1.0
    target[rows, hat.row_treat2] = -1.0
    np.testing.assert_allclose(hat.matrix @ incidence, target, atol=1e-10)


def test_the_hat_matrix_needs_reduced_weights() -> None:
    data = contrast_data(MODELS[0][0])
    marginal = direct_estimates(data, data.V, multi_arm="marginal")
    with pytest.raises(ValueError, match="reduced-weight direct estimates"):
        hat_matrix(marginal, data.n_treatments)
    with pytest.raises(ValueError, match="multi_arm must be one of"):
        direct_estimates(data, data.V, multi_arm="adjusted")


def _pairs_network(pairs: list[tuple[int, int]], variances: list[float], n: int) -> ContrastData:
    """Two-arm studies, one per pair, ``y = 0`` (the hat matrix does not read ``y``)."""
    return ContrastData(
        treatments=tuple(f"T{t}" for t in range(n)),
        studies=tuple(f"s{s}" for s in range(len(pairs))),
        study=np.arange(len(pairs)),
        treat1=np.array([b for _, b in pairs]),
        treat2=np.array([a for a, _ in pairs]),
        y=np.zeros(len(pairs)),
        V=np.diag(variances),
    )


def test_a_loop_of_three_by_hand() -> None:
    # equal variances: A-B is 2/3 direct, 1/3 through C, a stream of length 2
    data = _pairs_network([(0, 1), (1, 2), (0, 2)], [1.0, 1.0, 1.0], 3)
    _, hat = _hat(data)
    np.testing.assert_allclose(proportion_direct(hat), 2.0 / 3.0, rtol=1e-12)
    contributions = contribution_matrix(hat)
    # rows and columns are the pairs (0,1), (0,2), (1,2)
    np.testing.assert_allclose(
        contributions.percent,
        100.0 * np.array([[2 / 3, 1 / 6, 1 / 6], [1 / 6, 2 / 3, 1 / 6], [1 / 6, 1 / 6, 2 / 3]]),
        rtol=1e-12,
    )


def test_a_star_network_is_symmetric() -> None:
    # a star around treatment 0 with equal arms: each leaf-to-leaf comparison draws half
    # from each of its two spokes; a spoke comparison is all direct
    n = 5
    data = _pairs_network([(0, t) for t in range(1, n)], [1.0] * (n - 1), n)
    _, hat = _hat(data)
    contributions = contribution_matrix(hat)
    for r, (a, b) in enumerate(zip(hat.row_treat1, hat.row_treat2, strict=True)):
        expected = np.zeros(n - 1)
        if a == 0:
            expected[b - 1] = 100.0
        else:
            expected[[a - 1, b - 1]] = 50.0
        np.testing.assert_allclose(contributions.percent[r], expected, rtol=1e-12, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(3, 7),
    extra=st.integers(0, 6),
)
def test_random_connected_networks(seed: int, n: int, extra: int) -> None:
    rng = np.random.default_rng(seed)
    # a random spanning tree plus random extra pairs
    pairs = [(int(rng.integers(0, t)), t) for t in range(1, n)]
    first, second = all_pairs(n)
    for e in rng.integers(0, first.shape[0], size=extra):
        pairs.append((int(first[e]), int(second[e])))
    data = _pairs_network(pairs, list(rng.uniform(0.1, 2.0, len(pairs))), n)
    direct, hat = _hat(data)
    contributions = contribution_matrix(hat)
    np.testing.assert_allclose(contributions.percent.sum(axis=1), 100.0, rtol=1e-9)
    shares = proportion_direct(hat)
    assert ((shares >= -1e-12) & (shares <= 1.0 + 1e-12)).all()
    # the pooled direct estimate has the variance of the parallel studies
    assert (direct.variance > 0).all() and direct.n_studies.sum() == len(pairs)
