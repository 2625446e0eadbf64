"""srma.network_meta end to end against netmeta's published worked example.

Balduzzi et al. (2023), "netmeta: An R package for network meta-analysis using
frequentist methods", J Stat Softw 106(2), section 4: Stowe2010 (Parkinson's disease,
mean off-time reduction, lower is better), random effects with netmeta's
DerSimonian-Laird tau².  The contrasts come from tests/reference/network_numerics.R
(each study against its first arm, with the shared-arm covariance); here they are
written as netmeta's pairwise() table, every pair of every study, and analysed by
``network_meta`` (tau², P-scores, Q decomposition and node-splitting wired into its
result), compared at half a unit of the printed digit.  Also netmeta's Senn2013 data set
(Senn et al. 2013) with netmeta's printed ``decomp.design`` output on it (source below).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import srma
from network_numerics_fixture import CASES
from srma.stats.network.inconsistency import q_decomposition

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


# --- Senn et al. (2013, Stat Methods Med Res 22:169): netmeta's Senn2013 data set, the
# published mean differences in HbA1c change and their standard errors (treat1 - treat2),
# Willms1999 a three-arm study; netmeta's decomp.design output on it (common effect) as
# printed in a course's rendered netmeta session,
# https://cttir.github.io/courses/course3_design_causal/labs/lab_week4_session3_slides.html
SENN2013 = """DeFronzo1995 Metformin Placebo -1.90 0.1414
Lewin2007 Metformin Placebo -0.82 0.0992
Willms1999 Metformin Acarbose -0.20 0.3579
Davidson2007 Rosiglitazone Placebo -1.34 0.1435
Wolffenbuttel1999 Rosiglitazone Placebo -1.10 0.1141
Kipnes2001 Pioglitazone Placebo -1.30 0.1268
Kerenyi2004 Rosiglitazone Placebo -0.77 0.1078
Hanefeld2004 Pioglitazone Metformin 0.16 0.0849
Derosa2004 Pioglitazone Rosiglitazone 0.10 0.1831
Baksi2004 Rosiglitazone Placebo -1.30 0.1014
Rosenstock2008 Rosiglitazone Placebo -1.09 0.2263
Zhu2003 Rosiglitazone Placebo -1.50 0.1624
Yang2003 Rosiglitazone Metformin -0.14 0.2239
Vongthavaravat2002 Rosiglitazone Sulfonylurea -1.20 0.1436
Oyama2008 Acarbose Sulfonylurea -0.40 0.1549
Costa1997 Acarbose Placebo -0.80 0.1432
Hermansen2007 Sitagliptin Placebo -0.57 0.1291
Garber2008 Vildagliptin Placebo -0.70 0.1273
Alex1998 Metformin Sulfonylurea -0.37 0.1184
Johnston1994 Miglitol Placebo -0.74 0.1839
Johnston1998a Miglitol Placebo -1.41 0.2235
Kim2007 Rosiglitazone Metformin 0.00 0.2339
Johnston1998b Miglitol Placebo -0.68 0.2828
GonzalezOrtiz2004 Metformin Placebo -0.40 0.4356
Stucci1996 Benfluorex Placebo -0.23 0.3467
Moulin2006 Benfluorex Placebo -1.01 0.1366
Willms1999 Metformin Placebo -1.20 0.3758
Willms1999 Acarbose Placebo -1.00 0.4669"""


def test_senn2013_decomposition_as_printed_by_netmeta() -> None:
    table = pd.DataFrame(
        [line.split() for line in SENN2013.splitlines()],
        columns=["study", "treatment", "treatment2", "yi", "sei"],
    ).astype({"yi": float, "sei": float})
    result = srma.network_meta(table, treatment2="treatment2", method="EE", reference="Placebo")
    # Total 96.99 on 18; within designs 74.46 on 11; between designs 22.53 on 7 (p 0.0021)
    assert result.q == pytest.approx(96.99, abs=_printed(2)) and result.q_df == 18
    assert result.q_within == pytest.approx(74.46, abs=_printed(2)) and result.q_within_df == 11
    assert result.q_between == pytest.approx(22.53, abs=_printed(2)) and result.q_between_df == 7
    assert result.q_between_pvalue == pytest.approx(0.0021, abs=_printed(4))
    common = result.design_by_treatment[0]
    assert common.chi2 == pytest.approx(22.53, abs=_printed(2)) and common.df == 7
    # the design-specific within-design Q (netmeta writes plac:metf, srma Placebo:Metformin)
    decomposition = q_decomposition(result.contrasts)
    within = {
        name: (q, df)
        for name, q, df in zip(
            decomposition.design_names,
            decomposition.q_design,
            decomposition.q_design_df,
            strict=True,
        )
    }
    for design, (q, df) in {
        "Placebo:Metformin": (42.16, 2),
        "Placebo:Rosiglitazone": (21.27, 5),
        "Placebo:Benfluorex": (4.38, 1),
        "Placebo:Miglitol": (6.45, 2),
        "Metformin:Rosiglitazone": (0.19, 1),
    }.items():
        assert within[design][0] == pytest.approx(q, abs=_printed(2)) and within[design][1] == df
    # between-designs Q after detaching single designs
    detached = {
        row["design"]: (row["q"], row["df"], row["pvalue"])
        for row in result.to_dict()["net_heat"]["q_between_detached"]
    }
    for design, (q, df, p) in {
        "Rosiglitazone:Sulfonylurea": (6.77, 6, 0.3425),
        "Metformin:Sulfonylurea": (7.51, 6, 0.2760),
        "Placebo:Rosiglitazone": (16.29, 6, 0.0123),
    }.items():
        assert detached[design][0] == pytest.approx(q, abs=_printed(2))
        assert detached[design][1] == df
        assert detached[design][2] == pytest.approx(p, abs=_printed(4))
