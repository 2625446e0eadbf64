"""Ranking in a network: P-scores (Rücker & Schwarzer 2015), rank probabilities, SUCRA and
mean ranks by seeded resampling (Salanti et al. 2011).  Fixture:
tests/reference/network_numerics.R (metafor rma.mv EE and REML on dat.senn2013 and
dat.hasselblad1998, P-scores by their published formula).  The GLS helper is checked
against the same rma.mv fits.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network_numerics_fixture import CASES, MODEL_IDS, MODELS, contrast_data, model_tau2
from srma.stats.network.gls import fit_consistency
from srma.stats.network.ranking import mean_ranks, p_scores, rank_probabilities, sucra

RTOL = 1e-6


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_consistency_fit_matches_rma_mv(case: dict[str, Any], model: str) -> None:
    fit = fit_consistency(contrast_data(case), model_tau2(case, model))
    np.testing.assert_allclose(fit.estimates, case[model]["estimates"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(fit.covariance, case[model]["covariance"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(fit.q, case[model]["q"]["q"], rtol=RTOL)
    assert fit.q_df == case[model]["q"]["q_df"]


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_p_scores_match_the_published_formula(case: dict[str, Any], model: str) -> None:
    result = p_scores(
        case[model]["estimates"],
        case[model]["covariance"],
        small_values_good=case["small_values_good"],
    )
    np.testing.assert_allclose(result.p_scores, case[model]["pscores"], rtol=RTOL)
    # from srma's own fit: the same numbers
    fit = fit_consistency(contrast_data(case), model_tau2(case, model))
    own = p_scores(fit.estimates, fit.covariance, small_values_good=case["small_values_good"])
    np.testing.assert_allclose(own.p_scores, case[model]["pscores"], rtol=RTOL)


def _random_network(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    root = rng.normal(size=(n - 1, n - 1))
    covariance = np.zeros((n, n))
    covariance[1:, 1:] = root @ root.T / n + 0.01 * np.eye(n - 1)
    estimates = np.concatenate([[0.0], rng.normal(size=n - 1)])
    return estimates, covariance


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 12))
def test_p_score_identities(seed: int, n: int) -> None:
    estimates, covariance = _random_network(seed, n)
    good_small = p_scores(estimates, covariance, small_values_good=True)
    good_large = p_scores(estimates, covariance, small_values_good=False)
    # P_ij + P_ji = 1, hence the scores sum to T/2; reversing the direction mirrors them
    np.testing.assert_allclose(good_small.p_scores.sum(), n / 2, rtol=1e-12)
    off = ~np.eye(n, dtype=bool)
    np.testing.assert_allclose((good_small.better + good_small.better.T)[off], 1.0, rtol=1e-12)
    np.testing.assert_allclose(good_small.p_scores + good_large.p_scores, 1.0, rtol=1e-12)
    assert np.all((good_small.p_scores >= 0) & (good_small.p_scores <= 1))


def test_p_scores_batch_axis_matches_single_networks() -> None:
    networks = [_random_network(seed, 5) for seed in range(3)]
    batch = p_scores(
        np.stack([d for d, _ in networks]),
        np.stack([c for _, c in networks]),
        small_values_good=True,
    )
    for row, (d, c) in enumerate(networks):
        single = p_scores(d, c, small_values_good=True)
        np.testing.assert_allclose(batch.p_scores[row], single.p_scores, rtol=1e-14)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_sucra_by_resampling_estimates_the_p_scores(case: dict[str, Any], model: str) -> None:
    draws = 200_000
    ranks = rank_probabilities(
        case[model]["estimates"],
        case[model]["covariance"],
        small_values_good=case["small_values_good"],
        seed=20260,
        draws=draws,
    )
    n = len(case["treatments"])
    np.testing.assert_allclose(ranks.probabilities.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ranks.probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(ranks.mean_ranks, n - (n - 1) * ranks.sucra, rtol=1e-12)
    # the P-score is SUCRA's expectation: Monte Carlo error of a mean of draws indicators,
    # at most 0.5 / sqrt(draws) per probability, well inside 0.005
    np.testing.assert_allclose(ranks.sucra, case[model]["pscores"], atol=0.005)


def test_rank_probabilities_are_seeded_and_follow_the_direction() -> None:
    estimates, covariance = _random_network(7, 6)
    first = rank_probabilities(estimates, covariance, small_values_good=True, seed=1, draws=500)
    again = rank_probabilities(estimates, covariance, small_values_good=True, seed=1, draws=500)
    other = rank_probabilities(estimates, covariance, small_values_good=False, seed=1, draws=500)
    np.testing.assert_array_equal(first.probabilities, again.probabilities)
    # the same draws ranked the other way: rank r becomes rank T + 1 - r
    np.testing.assert_array_equal(first.probabilities, other.probabilities[:, ::-1])
    assert first.draws == 500 and first.seed == 1


def test_sucra_and_mean_ranks_of_certain_ranks() -> None:
    # treatment 0 always best, 2 always worst (Salanti et al. 2011: SUCRA 1 and 0)
    certain = np.array([[1.0, 0, 0], [0, 1.0, 0], [0, 0, 1.0]])
    np.testing.assert_allclose(sucra(certain), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(mean_ranks(certain), [1.0, 2.0, 3.0])


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="covariance of shape"):
        p_scores([0.0, 1.0, 2.0], np.eye(2), small_values_good=True)
    with pytest.raises(ValueError, match="at least two treatments"):
        p_scores([0.0], np.zeros((1, 1)), small_values_good=True)
    with pytest.raises(ValueError, match="draws must be at least 1"):
        rank_probabilities([0.0, 1.0], np.eye(2), small_values_good=True, seed=1, draws=0)


def test_stowe2010_p_scores_as_published() -> None:
    # Balduzzi et al. (2023, J Stat Softw 106(2), section 4): netrank(net1), random effects
    # (netmeta's tau^2 = 0.1518 as printed): Dopamine Agonist 0.9677, MAOBI 0.5664,
    # COMTI 0.4659, Placebo 0.0000 (lower off-time is better)
    stowe = next(case for case in CASES if case["name"] == "stowe2010")
    fit = fit_consistency(contrast_data(stowe), 0.1518)
    scores = dict(
        zip(
            stowe["treatments"],
            p_scores(fit.estimates, fit.covariance, small_values_good=True).p_scores,
            strict=True,
        )
    )
    published = {"Dopamine Agonist": 0.9677, "MAOBI": 0.5664, "COMTI": 0.4659, "Placebo": 0.0}
    for treatment, score in published.items():
        # half a unit of the 4th digit, and as much again for the 4-digit tau²
        assert scores[treatment] == pytest.approx(score, abs=1e-4)
