"""srma.network_meta end to end against netmeta's published worked example.

Balduzzi et al. (2023), "netmeta: An R package for network meta-analysis using
frequentist methods", J Stat Softw 106(2), section 4: Stowe2010 (Parkinson's disease,
mean off-time reduction, lower is better), random effects with netmeta's
DerSimonian-Laird tau².  The contrasts come from tests/reference/network_numerics.R
(each study against its first arm, with the shared-arm covariance); here they are
written as netmeta's pairwise() table, every pair of every study, and analysed by
``network_meta`` (tau², P-scores, Q decomposition and node-splitting wired into its
result), compared at half a unit of the printed digit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import srma
from network_numerics_fixture import CASES

STOWE = next(case for case in CASES if case["name"] == "stowe2010")


def _pairs_table() -> pd.DataFrame:
    """Every pair of every study: a - b with var(a - b) from the contrasts' covariance."""
    names, studies = STOWE["treatments"], STOWE["studies"]
    study = np.asarray(STOWE["study"])
    treat1, treat2 = np.asarray(STOWE["treat1"]), np.asarray(STOWE["treat2"])
    y, V = np.asarray(STOWE["y"], dtype=float), np.asarray(STOWE["V"], dtype=float)
    rows = []
    for s in np.unique(study):
        index = np.flatnonzero(study == s)
        base = int(treat2[index[0]])
        # each arm's effect against the study's baseline arm, and their covariance
        arms = [base, *map(int, treat1[index])]
        effect = np.concatenate([[0.0], y[index]])
        cov = np.zeros((len(arms), len(arms)))
        cov[1:, 1:] = V[np.ix_(index, index)]
        for i in range(len(arms)):
            for j in range(i + 1, len(arms)):
                variance = cov[i, i] + cov[j, j] - 2 * cov[i, j]
                rows.append(
                    {
                        "study": studies[s],
                        "treatment": names[arms[j]],
                        "treatment2": names[arms[i]],
                        "yi": effect[j] - effect[i],
                        "sei": np.sqrt(variance),
                    }
                )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def result() -> srma.NetworkResult:
    return srma.network_meta(
        _pairs_table(), treatment2="treatment2", method="DL", reference="Placebo"
    )


def _printed(digits: int) -> float:
    return 0.5 * 10.0**-digits


def test_tau2_and_q_as_published(result: srma.NetworkResult) -> None:
    # tau^2 = 0.1518; Q total 48.15 on 27, within designs 46.91 on 25, between 1.24 on 2
    assert result.tau2 == pytest.approx(0.1518, abs=_printed(4))
    assert result.q == pytest.approx(48.15, abs=_printed(2)) and result.q_df == 27
    assert result.q_within == pytest.approx(46.91, abs=_printed(2)) and result.q_within_df == 25
    assert result.q_between == pytest.approx(1.24, abs=_printed(2)) and result.q_between_df == 2
    assert result.q_between_pvalue == pytest.approx(0.5376, abs=_printed(4))


def test_p_scores_as_published(result: srma.NetworkResult) -> None:
    # random effects P-scores: Dopamine Agonist 0.9677, MAOBI 0.5664, COMTI 0.4659, Placebo 0
    scores = dict(zip(result.treatments, result.pscores, strict=True))
    for name, value in {
        "Dopamine Agonist": 0.9677,
        "MAOBI": 0.5664,
        "COMTI": 0.4659,
        "Placebo": 0.0,
    }.items():
        assert scores[name] == pytest.approx(value, abs=_printed(4))
    assert result.to_dict()["pscores"] == scores


def test_node_split_as_published(result: srma.NetworkResult) -> None:
    rows = {(row.treatment, row.vs): row for row in result.node_split}
    # netsplit, random effects: prop, nma, direct, indirect, diff, z, p (netmeta's
    # "COMTI:Placebo" is COMTI - Placebo)
    published = {
        ("COMTI", "Placebo"): (0.98, -0.95, -0.93, -1.65, 0.72, 0.66, 0.5071),
        ("MAOBI", "Placebo"): (0.90, -1.03, -1.03, -1.08, 0.05, 0.06, 0.9544),
    }
    for pair, (prop, nma, direct, indirect, diff, z, p) in published.items():
        row = rows.get(pair) or rows[pair[::-1]]
        sign = 1.0 if (row.treatment, row.vs) == pair else -1.0
        assert row.proportion_direct == pytest.approx(prop, abs=_printed(2))
        assert sign * row.network == pytest.approx(nma, abs=_printed(2))
        assert sign * row.direct == pytest.approx(direct, abs=_printed(2))
        assert sign * row.indirect == pytest.approx(indirect, abs=_printed(2))
        assert sign * row.difference == pytest.approx(diff, abs=_printed(2))
        assert sign * row.z == pytest.approx(z, abs=_printed(2))
        assert row.pvalue == pytest.approx(p, abs=_printed(4))
    only_direct = rows.get(("Dopamine Agonist", "Placebo")) or rows[("Placebo", "Dopamine Agonist")]
    assert only_direct.indirect is None and only_direct.proportion_direct == pytest.approx(1.0)


def test_design_by_treatment_tests_as_published(result: srma.NetworkResult) -> None:
    # decomp.design(net1): "Between-designs Q statistic based on full design-by-treatment
    # interaction random effects model": Q 0.45 on 2 df, p 0.7968, tau2.within 0.2067;
    # the common-effect one is Q between designs, 1.24 on 2 (p 0.5376)
    common, random = result.design_by_treatment
    assert common.chi2 == pytest.approx(1.24, abs=_printed(2)) and common.df == 2
    assert common.pvalue == pytest.approx(0.5376, abs=_printed(4))
    assert random.tau2 == pytest.approx(0.2067, abs=_printed(4))
    assert random.chi2 == pytest.approx(0.45, abs=_printed(2)) and random.df == 2
    assert random.pvalue == pytest.approx(0.7968, abs=_printed(4))
    # after detaching single designs: 1.21 on 1, 0.02 on 1, 0.00 on 0
    detached = {
        row["design"]: (row["q"], row["df"])
        for row in result.to_dict()["net_heat"]["q_between_detached"]
    }
    for design, (q, df) in {
        "Placebo:COMTI": (1.21, 1),
        "Placebo:MAOBI": (0.02, 1),
        "Placebo:COMTI:MAOBI": (0.00, 0),
    }.items():
        assert detached[design][0] == pytest.approx(q, abs=_printed(2))
        assert detached[design][1] == df
