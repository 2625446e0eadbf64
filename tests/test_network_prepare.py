"""The contrasts of a network and their covariances, and the equivalence of srma's GLS with
netmeta's graph-theoretical estimator (Rücker 2012; reduced weights for multi-arm studies,
Rücker & Schwarzer 2014) and its DerSimonian-Laird tau² (netmeta's nma.ruecker), computed
here on all pairwise comparisons as netmeta does."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from network_cases import CASES
from srma import SrmaWarning, network_meta
from srma.stats.network.data import ContrastData
from srma.stats.network.graph import components, subnetwork
from srma.stats.network.prepare import ArmTable, contrasts_from_arms, reduce_pairs


def test_contrasts_share_the_baseline_arm_variance() -> None:
    arms = ArmTable(np.array([0, 0, 0, 1, 1]), np.array([2, 0, 1, 1, 0]))
    data = contrasts_from_arms(
        arms, np.array([3.0, 1.0, 2.0, 5.0, 4.0]), np.array([0.3, 0.1, 0.2, 0.5, 0.4]),
        ("A", "B", "C"), ("s1", "s2"),
    )  # fmt: skip
    np.testing.assert_array_equal(data.treat2, [0, 0, 0])
    np.testing.assert_array_equal(data.treat1, [1, 2, 1])
    np.testing.assert_allclose(data.y, [1.0, 2.0, 1.0])
    expected = np.array([[0.3, 0.1, 0.0], [0.1, 0.4, 0.0], [0.0, 0.0, 0.9]])
    np.testing.assert_allclose(data.V, expected)


def test_all_pairs_of_three_arms_give_back_the_arm_variances() -> None:
    s = np.array([0.1, 0.2, 0.4])
    theta = np.array([0.0, 0.5, -0.3])
    t1, t2 = np.array([1, 2, 2]), np.array([0, 0, 1])
    reduced = reduce_pairs(t1, t2, theta[t1] - theta[t2], s[t1] + s[t2])
    np.testing.assert_allclose(reduced.variances, s)
    np.testing.assert_allclose(reduced.effects, theta, atol=1e-12)
    assert reduced.variance_misfit < 1e-12


def test_components_and_subnetworks() -> None:
    data = ContrastData(
        treatments=("A", "B", "C", "D"), studies=("s1", "s2", "s3"),
        study=np.array([0, 1, 2]), treat1=np.array([1, 3, 2]), treat2=np.array([0, 2, 0]),
        y=np.array([0.1, 0.2, 0.3]), V=np.diag([0.1, 0.2, 0.3]),
    )  # fmt: skip
    np.testing.assert_array_equal(components(data), [0, 0, 0, 0])
    apart = ContrastData(
        treatments=("A", "B", "C", "D"), studies=("s1", "s2"),
        study=np.array([0, 1]), treat1=np.array([1, 3]), treat2=np.array([0, 2]),
        y=np.array([0.1, 0.2]), V=np.diag([0.1, 0.2]),
    )  # fmt: skip
    np.testing.assert_array_equal(components(apart), [0, 0, 1, 1])
    second = subnetwork(apart, np.array([2, 3]))
    assert second.treatments == ("C", "D") and second.studies == ("s2",)
    np.testing.assert_array_equal(second.treat1, [1])
    np.testing.assert_allclose(second.V, [[0.2]])


def _netmeta_graph_estimate(case: dict) -> tuple[np.ndarray, float, float]:
    """netmeta's nma.ruecker on all pairs: basic estimates (vs the reference), Q and DL tau²."""
    arms = pd.DataFrame(case["data"])
    order = {t: i for i, t in enumerate(case["treatments"])}
    arms["theta"] = arms["mean"]
    arms["s"] = arms["sd"] ** 2 / arms["n"]
    rows, weights, study_of_row, te = [], [], [], []
    for s, (_, group) in enumerate(arms.groupby("study", sort=False)):
        codes = group.treatment.map(order).to_numpy()
        theta, var = group.theta.to_numpy(), group.s.to_numpy()
        precision = 1 / var
        for j, k in combinations(range(codes.size), 2):
            row = np.zeros(len(order))
            row[codes[j]], row[codes[k]] = 1.0, -1.0
            rows.append(row)
            te.append(theta[j] - theta[k])
            # reduced weight: minus the Laplacian's off-diagonal of the study
            weights.append(precision[j] * precision[k] / precision.sum())
            study_of_row.append(s)
    B, W, TE = np.array(rows), np.diag(weights), np.array(te)
    L = B.T @ W @ B
    Lplus = np.linalg.pinv(L)
    H = B @ Lplus @ B.T @ W
    fitted = H @ TE
    Q = float((TE - fitted) @ W @ (TE - fitted))
    sizes = arms.groupby("study", sort=False).size().to_numpy()
    df = int(np.sum(sizes - 1) - (len(order) - 1))
    E = np.equal.outer(study_of_row, study_of_row).astype(float)
    tau2 = max(0.0, (Q - df) / np.trace((np.eye(len(TE)) - H) @ (B @ B.T * E / 2) @ W))
    theta_hat = Lplus @ B.T @ W @ TE
    return theta_hat[1:] - theta_hat[0], Q, tau2


def test_gls_and_dl_equal_netmeta_on_all_pairs_with_reduced_weights() -> None:
    case = CASES["senn2013"]  # one three-arm study
    estimate, Q, tau2 = _netmeta_graph_estimate(case)
    frame = pd.DataFrame(case["data"])
    ee = network_meta(frame, measure="MD", method="EE", reference=case["reference"])
    dl = network_meta(frame, measure="MD", method="DL", reference=case["reference"])
    np.testing.assert_allclose(ee.basic_estimate, estimate, rtol=1e-9)
    assert ee.q == pytest.approx(Q, rel=1e-10)
    assert dl.tau2 == pytest.approx(tau2, rel=1e-10)
    assert dl.tau2 == pytest.approx(case["models"]["DL"]["tau2"], rel=1e-10)


def test_designs_are_named_as_netmeta() -> None:
    case = CASES["hasselblad1998"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = network_meta(pd.DataFrame(case["data"]), measure="OR", method="EE",
                              reference=case["reference"])  # fmt: skip
    assert "no_contact:grp_counseling:ind_counseling" in result.designs
    assert len(set(result.designs)) == len(result.designs)
