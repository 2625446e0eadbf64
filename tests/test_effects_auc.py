"""The AUC measures (srma.stats.effects_auc): worked examples, properties, a simulation.

metafor 3.8-1, the reference installed here, has no AUC; metafor 5.x's escalc
has ``measure = "AUC"`` (a reported AUC, Newcombe's 2006 variance) and
``"AUCN"`` (the binormal AUC, Goddard & Hinberg's 1990 delta-method variance),
which these follow.  The examples below work the primary sources' formulas
by hand; the binormal variance is also checked against a seeded simulation.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import srma
from srma import InputError, SrmaWarning, effect_sizes, meta
from srma.stats.effects_auc import auc_newcombe, binormal_auc


def test_binormal_worked_example() -> None:
    """m1 = 12, s1 = 3, n1 = 25; m2 = 10, s2 = 4, n2 = 30.

    s1² + s2² = 9 + 16 = 25, so delta = 2 / 5 = 0.4 and A = Phi(0.4) = 0.65542174;
    d = 2 / sqrt(12.5) = 0.56568542, d² = 0.32, v = 9 / 25 = 0.36;
    exp(-0.16) / (8 pi) = 0.85214379 / 25.13274123 = 0.03390575;
    bracket = 0.32 * 0.1296 / 24 + 0.32 * 0.4096 / 29 + 1.44 / 24 + 2.56 / 29
            = 0.001728 + 0.00451972 + 0.06 + 0.08827586 = 0.15452359;
    vi = 0.03390575 * 0.15452359 = 0.00523923.
    """
    auc, vi = binormal_auc(12.0, 3.0, 25, 10.0, 4.0, 30)
    assert auc == pytest.approx(0.5 * (1 + math.erf(0.4 / math.sqrt(2))), rel=1e-14)
    assert auc == pytest.approx(0.65542174, abs=5e-9)
    bracket = 0.32 * 0.1296 / 24 + 0.32 * 0.4096 / 29 + 1.44 / 24 + 2.56 / 29
    assert vi == pytest.approx(math.exp(-0.16) / (8 * math.pi) * bracket, rel=1e-12)
    assert vi == pytest.approx(0.00523923, abs=5e-9)


def test_reported_auc_worked_example() -> None:
    """A = 0.8, n1 = 30, n2 = 20 (Newcombe 2006, method 4; (n1 - 1)(n2 - 1) = 551).

    N = 25, (2 - A)(1 + A) = 1.2 * 1.8 = 2.16, (3N - 3) / 2.16 = 72 / 2.16 = 33.33333,
    2N - 1 = 49, so the bracket is 15.66667 = 47/3; A (1 - A) = 0.16;
    vi = 0.16 * 47 / 3 / 551 = 0.00454930.
    """
    auc, vi = auc_newcombe(0.8, 30, 20)
    assert auc == 0.8
    assert vi == pytest.approx(0.16 * 47 / 3 / 551, rel=1e-12)
    assert vi == pytest.approx(0.00454930, abs=5e-9)


def test_reported_auc_of_one_half_against_the_mann_whitney_null() -> None:
    """At A = 1/2 and n1 = n2 = n the bracket is (2n + 1)/3, so vi = (2n + 1) / (12 (n - 1)²):
    the exact null variance of U / n², (2n + 1) / (12 n²), with Cho et al.'s (n - 1)²."""
    n = np.arange(2, 200)
    _, vi = auc_newcombe(0.5, n, n)
    np.testing.assert_allclose(vi, (2 * n + 1) / (12.0 * (n - 1) ** 2), rtol=1e-13)


_groups = st.tuples(st.floats(-50, 50), st.floats(0.1, 20), st.integers(2, 500))


@settings(max_examples=200, deadline=None)
@given(_groups, _groups, st.floats(1e-3, 1 - 1e-3))
def test_swapping_the_groups_gives_one_minus_auc(
    first: tuple[float, float, int], second: tuple[float, float, int], reported: float
) -> None:
    auc, vi = binormal_auc(*first, *second)
    swapped, swapped_vi = binormal_auc(*second, *first)
    assert swapped == pytest.approx(1.0 - auc, abs=1e-12)
    assert swapped_vi == pytest.approx(vi, rel=1e-10, abs=1e-300)
    assert 0.0 <= auc <= 1.0 and vi >= 0.0
    given_auc, given_vi = auc_newcombe(reported, first[2], second[2])
    other, other_vi = auc_newcombe(1.0 - reported, second[2], first[2])
    assert other == pytest.approx(1.0 - given_auc, abs=1e-15)
    assert other_vi == pytest.approx(given_vi, rel=1e-9)
    assert given_vi > 0.0


@settings(max_examples=100, deadline=None)
@given(st.floats(-50, 50), st.floats(0.1, 20), st.floats(0.1, 20), st.integers(2, 500),
       st.integers(2, 500))  # fmt: skip
def test_equal_means_give_one_half(mean: float, sd1: float, sd2: float, n1: int, n2: int) -> None:
    auc, vi = binormal_auc(mean, sd1, n1, mean, sd2, n2)
    assert auc == 0.5
    share = sd1**2 / (sd1**2 + sd2**2)
    expected = (4 * share / (n1 - 1) + 4 * (1 - share) / (n2 - 1)) / (8 * math.pi)
    assert vi == pytest.approx(expected, rel=1e-12)


def test_binormal_variance_against_a_simulation() -> None:
    """The delta-method variance is the spread of the estimate over many normal samples."""
    rng = np.random.default_rng(20261202)
    replicates, n1, n2 = 40_000, 40, 60
    group1 = rng.normal(1.0, 2.0, size=(replicates, n1))
    group2 = rng.normal(0.0, 1.5, size=(replicates, n2))
    estimates, _ = binormal_auc(
        group1.mean(axis=1), group1.std(axis=1, ddof=1), n1,
        group2.mean(axis=1), group2.std(axis=1, ddof=1), n2,
    )  # fmt: skip
    _, predicted = binormal_auc(1.0, 2.0, n1, 0.0, 1.5, n2)
    # the simulated variance has a relative standard error of about sqrt(2 / 40000) = 0.7%
    assert estimates.var(ddof=1) == pytest.approx(float(predicted), rel=0.05)
    assert estimates.mean() == pytest.approx(float(binormal_auc(1.0, 2.0, 2, 0, 1.5, 2)[0]),
                                             abs=0.01)  # fmt: skip


def test_effect_sizes_and_meta_with_auc() -> None:
    reported = pd.DataFrame({"study": ["A", "B", "C"], "c_stat": [0.8, 0.7, 0.75],
                             "n1": [30, 50, 40], "n2": [20, 45, 60]})  # fmt: skip
    out = effect_sizes(reported, "AUC", auc="c_stat")
    np.testing.assert_allclose(out["yi"], reported["c_stat"])
    np.testing.assert_allclose(out["vi"], auc_newcombe(out["yi"], out["n1"], out["n2"])[1])
    pooled = meta(out, measure="AUC", method="REML")
    assert 0.7 <= pooled.estimate <= 0.8
    means = pd.DataFrame({"mean1": [12.0, 5.0], "sd1": [3.0, 1.0], "n1": [25, 10],
                          "mean2": [10.0, 5.0], "sd2": [4.0, 2.0], "n2": [30, 12]})  # fmt: skip
    binormal = effect_sizes(means, "AUCN")
    assert binormal["yi"].tolist() == pytest.approx([0.65542174, 0.5], abs=5e-9)


def test_bad_auc_input_names_row_and_column() -> None:
    frame = pd.DataFrame({"auc": [0.8, 1.2], "n1": [30, 20], "n2": [20, 20]})
    with pytest.raises(InputError, match=r"\[0, 1\]") as error:
        effect_sizes(frame, "AUC", source="aucs.csv")
    assert (error.value.row, error.value.column, error.value.file) == (2, "auc", "aucs.csv")
    small = pd.DataFrame({"auc": [0.8, 0.6], "n1": [30, 1], "n2": [20, 20]})
    with pytest.raises(InputError, match="at least 2") as error:
        effect_sizes(small, "AUC")
    assert (error.value.row, error.value.column) == (2, "n1")
    means = pd.DataFrame({"mean1": [1.0], "sd1": [0.0], "n1": [10],
                          "mean2": [0.0], "sd2": [1.0], "n2": [10]})  # fmt: skip
    with pytest.raises(InputError, match="standard deviation"):
        effect_sizes(means, "AUCN")
    with pytest.raises(InputError, match="no column role"):
        effect_sizes(frame, "AUC", mean1="x")
    # an AUC of exactly 1 has variance 0: left out with a warning naming the study
    perfect = pd.DataFrame({"study": ["P", "Q"], "auc": [1.0, 0.7], "n1": [10, 10],
                            "n2": [10, 10]})  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SrmaWarning)
        out = effect_sizes(perfect, "AUC")
    assert np.isnan(out["yi"].iloc[0]) and np.isfinite(out["yi"].iloc[1])
    assert any("P (row 1)" in str(w.message) for w in caught)


def test_command_line_effects_auc(tmp_path: Path) -> None:
    path = tmp_path / "aucs.csv"
    pd.DataFrame({"auc": [0.8], "n1": [30], "n2": [20]}).to_csv(path, index=False)
    rows = json.loads(srma("effects", path, "--measure", "AUC", "--json"))
    assert rows[0]["vi"] == pytest.approx(0.16 * 47 / 3 / 551, rel=1e-12)
    assert "AUCN" in srma("effects", "--help")
