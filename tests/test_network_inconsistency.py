"""Inconsistency in a network: the Q decomposition (Krahn, Binder & König 2013), the
design-by-treatment interaction test (Higgins et al. 2012), the net heat matrix and
node-splitting by back-calculation (König, Krahn & Binder 2013).  Fixture:
tests/reference/network_numerics.R: the consistency and per-design models and the
design-by-treatment model fitted by metafor's rma.mv (EE, and at the REML tau²), the
direct estimates by rma.uni with the multi-arm reduced weights.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from network_numerics_fixture import (
    CASES,
    MODEL_IDS,
    MODELS,
    contrast_data,
    fixture_array,
    model_tau2,
)
from srma.stats.network.data import ContrastData
from srma.stats.network.gls import fit_consistency
from srma.stats.network.inconsistency import (
    design_by_treatment,
    net_heat,
    node_split,
    q_decomposition,
    within_design_tau2,
)

RTOL = 1e-6


def _decomposition(case: dict[str, Any], model: str):
    data = contrast_data(case)
    tau2 = model_tau2(case, model)
    extra = None if tau2 == 0.0 else tau2 * data.random_effects_structure()
    return data, q_decomposition(data, extra)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_q_decomposition_matches_separate_rma_mv_fits(case: dict[str, Any], model: str) -> None:
    _, result = _decomposition(case, model)
    expected = case[model]["q"]
    for name in ("q", "q_within", "q_between"):
        np.testing.assert_allclose(getattr(result, name), expected[name], rtol=RTOL)
        assert getattr(result, f"{name}_df") == expected[f"{name}_df"]
    np.testing.assert_allclose(result.q_design, expected["q_within_design"], rtol=RTOL, atol=1e-9)
    np.testing.assert_array_equal(result.q_design_df, expected["q_within_design_df"])
    assert result.design_names == tuple(
        ":".join(case["treatments"][int(t)] for t in name.split(":")) for name in case["designs"]
    )
    # a design with no replication has no within-design test
    assert np.isnan(result.q_design_pvalue[result.q_design_df == 0]).all()
    np.testing.assert_allclose(result.q_within + result.q_between, result.q, rtol=1e-12)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_design_by_treatment_matches_rma_mv(case: dict[str, Any], model: str) -> None:
    data = contrast_data(case)
    result = design_by_treatment(data, model_tau2(case, model))
    expected = case[model]["design_by_treatment"]
    np.testing.assert_allclose(result.chi2, expected["chi2"], rtol=RTOL)
    assert result.df == expected["df"]
    np.testing.assert_allclose(result.pvalue, expected["pvalue"], rtol=RTOL)
    # at the same W it is the between-design Q
    _, decomposition = _decomposition(case, model)
    np.testing.assert_allclose(result.chi2, decomposition.q_between, rtol=1e-10)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_within_design_tau2_and_its_test_match_the_reference(case: dict[str, Any]) -> None:
    # netmeta's tau.within, written out in the R script from rma.mv's interaction model
    data = contrast_data(case)
    tau2 = within_design_tau2(data)
    np.testing.assert_allclose(tau2, case["common"]["tau2_within"], rtol=RTOL)
    result = design_by_treatment(data, tau2)
    expected = case["common"]["design_by_treatment_within"]
    np.testing.assert_allclose(result.chi2, expected["chi2"], rtol=RTOL)
    assert result.df == expected["df"]
    np.testing.assert_allclose(result.pvalue, expected["pvalue"], rtol=RTOL)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_node_split_matches_back_calculation_from_rma_uni(case: dict[str, Any], model: str) -> None:
    data = contrast_data(case)
    tau2 = model_tau2(case, model)
    fit = fit_consistency(data, tau2)
    result = node_split(data, fit.estimates, fit.covariance, tau2=tau2)
    expected = case[model]["node_split"]
    np.testing.assert_array_equal(result.treat1, expected["comparisons"]["treat1"])
    np.testing.assert_array_equal(result.treat2, expected["comparisons"]["treat2"])
    np.testing.assert_allclose(result.direct, expected["direct"], rtol=RTOL)
    np.testing.assert_allclose(result.direct_se**2, expected["direct_var"], rtol=RTOL)
    np.testing.assert_allclose(result.network, expected["network"], rtol=RTOL)
    np.testing.assert_allclose(result.proportion_direct, expected["proportion_direct"], rtol=RTOL)
    for name, key in (
        ("indirect", "indirect"),
        ("difference", "difference"),
        ("z", "z"),
        ("pvalue", "pvalue"),
    ):
        np.testing.assert_allclose(
            getattr(result, name), fixture_array(expected[key]), rtol=RTOL, atol=1e-12
        )
    np.testing.assert_allclose(
        result.indirect_se**2, fixture_array(expected["indirect_var"]), rtol=RTOL
    )
    # the network estimate is the inverse-variance mean of direct and indirect
    split = ~np.isnan(result.indirect)
    w_direct, w_indirect = result.direct_se[split] ** -2, result.indirect_se[split] ** -2
    pooled = (w_direct * result.direct[split] + w_indirect * result.indirect[split]) / (
        w_direct + w_indirect
    )
    np.testing.assert_allclose(pooled, result.network[split], rtol=1e-9)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_net_heat_diagonal_is_the_inconsistency_contribution(
    case: dict[str, Any], model: str
) -> None:
    data = contrast_data(case)
    tau2 = model_tau2(case, model)
    heat = net_heat(data, tau2)
    _, decomposition = _decomposition(case, model)
    n_designs = len(data.designs)
    assert heat.matrix.shape == (n_designs, n_designs)
    assert heat.design_names == decomposition.design_names
    np.testing.assert_allclose(np.diag(heat.matrix), heat.q_inconsistency, rtol=1e-12)
    # the contributions sum to Q between designs and none is negative
    np.testing.assert_allclose(heat.q_inconsistency.sum(), decomposition.q_between, rtol=1e-9)
    assert (heat.q_inconsistency > -1e-9).all()


def _triangle(y_ab: float, y_bc: float, y_ac: float) -> ContrastData:
    """Three two-arm studies A-B, B-C, A-C (variance 1 each): one loop."""
    return ContrastData(
        treatments=("A", "B", "C"),
        studies=("s1", "s2", "s3"),
        study=np.array([0, 1, 2]),
        treat1=np.array([1, 2, 2]),
        treat2=np.array([0, 1, 0]),
        y=np.array([y_ab, y_bc, y_ac]),
        V=np.eye(3),
    )


def test_a_consistent_loop_has_no_inconsistency() -> None:
    data = _triangle(1.0, 2.0, 3.0)  # (B - A) + (C - B) = C - A
    assert q_decomposition(data).q == pytest.approx(0.0, abs=1e-12)
    fit = fit_consistency(data)
    split = node_split(data, fit.estimates, fit.covariance)
    np.testing.assert_allclose(split.difference, 0.0, atol=1e-12)
    np.testing.assert_allclose(split.proportion_direct, 2.0 / 3.0, rtol=1e-12)
    np.testing.assert_allclose(net_heat(data).matrix, 0.0, atol=1e-12)


def test_a_single_loop_by_hand() -> None:
    # loop discrepancy D = y_ab + y_bc - y_ac with variance 3: Q = D² / 3 on 1 df, and
    # every comparison's direct-indirect difference is +-D with variance 1 + 2
    data = _triangle(1.0, 2.0, 1.5)
    discrepancy = 1.0 + 2.0 - 1.5
    decomposition = q_decomposition(data)
    assert decomposition.q == pytest.approx(discrepancy**2 / 3)
    assert decomposition.q_df == 1 and decomposition.q_between_df == 1
    assert decomposition.q_within == 0.0
    fit = fit_consistency(data)
    split = node_split(data, fit.estimates, fit.covariance)
    np.testing.assert_allclose(np.abs(split.difference), discrepancy, rtol=1e-12)
    np.testing.assert_allclose(split.difference_se**2, 3.0, rtol=1e-12)
    np.testing.assert_allclose(split.z**2, decomposition.q, rtol=1e-12)
    heat = net_heat(data)
    # each design carries a third of Q; detaching any design removes the loop
    np.testing.assert_allclose(heat.q_inconsistency, decomposition.q / 3, rtol=1e-12)
    np.testing.assert_allclose(heat.matrix, decomposition.q / 3, rtol=1e-12)


def test_a_comparison_without_a_loop_has_no_indirect_estimate() -> None:
    # A-B twice and B-C once: a tree, every comparison direct only
    data = ContrastData(
        treatments=("A", "B", "C"),
        studies=("s1", "s2", "s3"),
        study=np.array([0, 1, 2]),
        treat1=np.array([1, 1, 2]),
        treat2=np.array([0, 0, 1]),
        y=np.array([0.5, 0.7, 1.0]),
        V=np.diag([1.0, 2.0, 1.0]),
    )
    fit = fit_consistency(data)
    split = node_split(data, fit.estimates, fit.covariance)
    np.testing.assert_allclose(split.proportion_direct, 1.0, rtol=1e-12)
    assert np.isnan(split.indirect).all() and np.isnan(split.pvalue).all()
    decomposition = q_decomposition(data)
    assert decomposition.q_between_df == 0 and np.isnan(decomposition.q_between_pvalue)
    assert decomposition.q_within_df == 1
    np.testing.assert_allclose(decomposition.q_within, 0.2**2 / 3, rtol=1e-12)


@pytest.mark.parametrize(("case", "model"), MODELS, ids=MODEL_IDS)
def test_net_heat_matches_refits_without_each_design(case: dict[str, Any], model: str) -> None:
    heat = net_heat(contrast_data(case), model_tau2(case, model))
    expected = case[model]["net_heat"]
    np.testing.assert_allclose(heat.q_inconsistency, expected["q_inconsistency"], atol=1e-9)
    np.testing.assert_allclose(heat.matrix, expected["matrix"], rtol=RTOL, atol=1e-9)


# --- the worked example of Balduzzi et al. (2023, J Stat Softw 106(2), section 4): netmeta on
# Stowe2010 (Parkinson's disease, mean off-time, lower is better), as printed there ---------
STOWE = next(case for case in CASES if case["name"] == "stowe2010")
#: netmeta's DerSimonian-Laird tau² of the network and the within-design tau² of the full
#: design-by-treatment interaction model, as printed (tau^2 = 0.1518; tau2.within = 0.2067)
STOWE_TAU2, STOWE_TAU2_WITHIN = 0.1518, 0.2067


def _printed(digits: int) -> float:
    """Half a unit of the last printed digit, and a little for the printed tau²."""
    return 0.5 * 10.0**-digits + 1e-6


def test_stowe2010_decomposition_as_published() -> None:
    data = contrast_data(STOWE)
    result = q_decomposition(data)
    # Total 48.15 on 27 (p 0.0074), within 46.91 on 25 (0.0050), between 1.24 on 2 (0.5376)
    for name, (q, df, p) in {
        "q": (48.15, 27, 0.0074),
        "q_within": (46.91, 25, 0.0050),
        "q_between": (1.24, 2, 0.5376),
    }.items():
        assert getattr(result, name) == pytest.approx(q, abs=_printed(2))
        assert getattr(result, f"{name}_df") == df
        assert getattr(result, f"{name}_pvalue") == pytest.approx(p, abs=_printed(4))
    within = dict(zip(result.design_names, result.q_design, strict=True))
    for design, q in {
        "Placebo:COMTI": 23.65,
        "Placebo:Dopamine Agonist": 21.70,
        "Placebo:MAOBI": 1.56,
    }.items():
        assert within[design] == pytest.approx(q, abs=_printed(2))
    # after detaching single designs: 1.21 on 1, 0.02 on 1, 0.00 on 0
    heat = net_heat(data)
    left = {
        name: (q, df)
        for name, q, df in zip(
            heat.design_names, heat.q_between_detached, heat.q_between_detached_df, strict=True
        )
    }
    for design, (q, df) in {
        "Placebo:COMTI": (1.21, 1),
        "Placebo:MAOBI": (0.02, 1),
        "Placebo:COMTI:MAOBI": (0.00, 0),
    }.items():
        assert left[design][0] == pytest.approx(q, abs=_printed(2))
        assert left[design][1] == df
    # full design-by-treatment interaction random effects model: 0.45 on 2 (p 0.7968), at
    # its own DerSimonian-Laird tau² (netmeta's tau.within, printed tau2.within = 0.2067)
    assert within_design_tau2(data) == pytest.approx(STOWE_TAU2_WITHIN, abs=_printed(4))
    interaction = design_by_treatment(data, STOWE_TAU2_WITHIN)
    assert interaction.chi2 == pytest.approx(0.45, abs=_printed(2))
    assert interaction.df == 2
    assert interaction.pvalue == pytest.approx(0.7968, abs=2e-4)  # tau2 printed to 4 digits


def test_stowe2010_node_split_as_published() -> None:
    data = contrast_data(STOWE)
    fit = fit_consistency(data, STOWE_TAU2)
    split = node_split(data, fit.estimates, fit.covariance, tau2=STOWE_TAU2)
    names = STOWE["treatments"]
    rows = {
        (names[a], names[b]): r
        for r, (a, b) in enumerate(zip(split.treat1, split.treat2, strict=True))
    }
    # netsplit(net1), random effects: comparison, prop, nma, direct, indirect, diff, z, p;
    # netmeta writes "COMTI:Placebo" for COMTI - Placebo, srma the pair (Placebo, COMTI)
    # as Placebo - COMTI, so the signs of the estimates flip
    published = {
        ("COMTI", "MAOBI"): (1, 0.44, 0.09, -0.02, 0.17, -0.19, -0.33, 0.7450),
        ("Placebo", "COMTI"): (-1, 0.98, -0.95, -0.93, -1.65, 0.72, 0.66, 0.5071),
        ("Placebo", "MAOBI"): (-1, 0.90, -1.03, -1.03, -1.08, 0.05, 0.06, 0.9544),
    }
    for pair, (sign, prop, nma, direct, indirect, diff, z, p) in published.items():
        r = rows[pair]
        assert split.proportion_direct[r] == pytest.approx(prop, abs=_printed(2))
        assert sign * split.network[r] == pytest.approx(nma, abs=_printed(2))
        assert sign * split.direct[r] == pytest.approx(direct, abs=_printed(2))
        assert sign * split.indirect[r] == pytest.approx(indirect, abs=_printed(2))
        assert sign * split.difference[r] == pytest.approx(diff, abs=_printed(2))
        assert sign * split.z[r] == pytest.approx(z, abs=_printed(2))
        assert split.pvalue[r] == pytest.approx(p, abs=2e-4)  # tau2 printed to 4 digits
    # Dopamine Agonist:Placebo: all direct (prop 1.00), no indirect estimate
    r = rows[("Placebo", "Dopamine Agonist")]
    assert split.proportion_direct[r] == pytest.approx(1.0, abs=1e-10)
    assert np.isnan(split.indirect[r])


def test_detaching_the_only_design_of_a_treatment() -> None:
    # a loop A-B-C plus D compared with A only: detaching A:D leaves the loop as it was
    data = ContrastData(
        treatments=("A", "B", "C", "D"),
        studies=("s1", "s2", "s3", "s4"),
        study=np.array([0, 1, 2, 3]),
        treat1=np.array([1, 2, 2, 3]),
        treat2=np.array([0, 1, 0, 0]),
        y=np.array([1.0, 2.0, 1.5, 0.3]),
        V=np.diag([1.0, 1.0, 1.0, 0.5]),
    )
    heat = net_heat(data)
    decomposition = q_decomposition(data)
    leaf = heat.design_names.index("A:D")
    assert heat.q_inconsistency[leaf] == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(heat.matrix[:, leaf], 0.0, atol=1e-12)
    assert heat.q_between_detached[leaf] == pytest.approx(decomposition.q_between, rel=1e-12)
    assert heat.q_between_detached_df[leaf] == decomposition.q_between_df == 1
    # detaching a design of the loop leaves no loop
    loop = heat.design_names.index("A:B")
    assert heat.q_between_detached_df[loop] == 0
    assert heat.q_between_detached[loop] == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(heat.q_between_detached_pvalue[loop])
