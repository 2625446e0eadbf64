"""Weighted kappa and its CI against R (psych, vcd), a printed worked example, and per domain."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture
from srma import InputError
from srma.review.appraise.agreement import assessment_agreement, domain_agreement
from srma.review.appraise.assessment import assess
from srma.review.screen.kappa import (
    agreement_weights,
    cohen_kappa,
    kappa_tables,
    weighted_kappa,
)

CASES = load_fixture("kappa.json")["cases"]
RTOL = 1e-9  # the brief asks for 1e-6; the formulas agree to rounding


@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_unweighted_kappa_matches_psych_and_vcd(case: dict) -> None:
    result = weighted_kappa(
        case["rater1"], case["rater2"], categories=case["levels"], weighting="unweighted"
    )
    ref = case["unweighted"]
    assert result.kappa == pytest.approx(ref["kappa"], rel=RTOL)
    assert result.se == pytest.approx(ref["se_psych"], rel=RTOL)
    assert result.se == pytest.approx(ref["se_vcd"], rel=RTOL)
    assert result.ci_lower == pytest.approx(ref["ci_lower"], rel=RTOL)
    assert result.ci_upper == pytest.approx(ref["ci_upper"], rel=RTOL)
    assert result.observed_agreement == pytest.approx(ref["observed"], rel=RTOL)
    assert [list(r) for r in result.table] == case["table"]
    same = cohen_kappa(case["rater1"], case["rater2"], categories=case["levels"])
    assert (same.kappa, same.se) == pytest.approx((result.kappa, result.se), rel=1e-12)


@pytest.mark.parametrize("weighting", ["linear", "quadratic"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_weighted_kappa_matches_psych_estimate_and_vcd_variance(case: dict, weighting) -> None:
    """psych::cohen.kappa and vcd::Kappa agree on weighted kappa; its standard error and CI
    follow Fleiss, Cohen & Everitt (1969) as vcd computes it (see test_psych_weighted_variance)."""
    result = weighted_kappa(
        case["rater1"], case["rater2"], categories=case["levels"], weighting=weighting
    )
    ref = case[weighting]
    assert result.kappa == pytest.approx(ref["kappa"], rel=RTOL)
    assert result.se == pytest.approx(ref["se_vcd"], rel=RTOL)
    assert result.ci_lower == pytest.approx(ref["ci_lower"], rel=RTOL)
    assert result.ci_upper == pytest.approx(ref["ci_upper"], rel=RTOL)


def _psych_weighted_se(table: np.ndarray, w: np.ndarray) -> float:
    """psych 2.2.9's ``Varkw``, transcribed to show where it departs from the published variance:
    it adds ``p_j. * sum_k w_jk`` (psych's ``roww``) where Fleiss, Cohen & Everitt (1969) add
    ``wbar_.j = sum_i p_i. w_ij``.  For identity weights the two coincide.  A negative variance
    psych sets to 0 (with a warning): it does so for the table with an empty level."""
    n = table.sum()
    p = table / n
    rs, cs = p.sum(axis=1), p.sum(axis=0)
    po, pe = np.sum(w * p), np.sum(w * np.outer(rs, cs))
    colw = (w * cs[:, None]).sum(axis=0)
    roww = (w * rs[:, None]).sum(axis=1)
    term = np.sum(p * (w * (1 - pe) - np.add.outer(colw, roww) * (1 - po)) ** 2)
    variance = (term - (po * pe - 2 * pe + po) ** 2) / (n * (1 - pe) ** 4)
    return float(np.sqrt(max(variance, 0.0)))


@pytest.mark.parametrize("weighting", ["linear", "quadratic"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c["name"])
def test_psych_weighted_variance(case: dict, weighting) -> None:
    """The psych standard errors in the fixture are reproduced by psych's own formula, which
    differs from the published one that srma (and vcd) use."""
    table = np.array(case["table"], dtype=float)
    w = agreement_weights(len(case["levels"]), weighting)
    assert _psych_weighted_se(table, w) == pytest.approx(case[weighting]["se_psych"], rel=1e-9)
    assert _psych_weighted_se(table, np.eye(len(w))) == pytest.approx(
        case["unweighted"]["se_vcd"], rel=1e-9
    )
    ours = weighted_kappa(
        case["rater1"], case["rater2"], categories=case["levels"], weighting=weighting
    )
    assert ours.se != pytest.approx(case[weighting]["se_psych"], rel=1e-6)


def test_sas_agreement_study_worked_example() -> None:
    """SAS/STAT PROC FREQ documentation, 'Getting Started: Agreement Study' (skin condition
    rated terrible, poor, marginal, clear by two dermatologists; 88 patients; the table was
    checked against the stored documentation page).  Its output prints simple kappa 0.3449
    (ASE 0.0724, 95% CI 0.2030 to 0.4868) and weighted kappa with Cicchetti-Allison (linear)
    weights 0.5082 (ASE 0.0655, 95% CI 0.3798 to 0.6366); the stored copy shows the data but
    not the output, so the printed values are taken as recalled and agree with vcd::Kappa."""
    levels = ["Terrible", "Poor", "Marginal", "Clear"]
    counts = [[10, 4, 1, 0], [5, 10, 12, 2], [2, 4, 12, 5], [0, 2, 6, 13]]
    first = [levels[i] for i in range(4) for j in range(4) for _ in range(counts[i][j])]
    second = [levels[j] for i in range(4) for j in range(4) for _ in range(counts[i][j])]
    simple = weighted_kappa(first, second, categories=levels, weighting="unweighted")
    linear = weighted_kappa(first, second, categories=levels, weighting="linear")
    assert simple.n == 88
    assert (simple.kappa, simple.se) == pytest.approx((0.3449, 0.0724), abs=5e-5)
    assert (simple.ci_lower, simple.ci_upper) == pytest.approx((0.2030, 0.4868), abs=5e-5)
    assert (linear.kappa, linear.se) == pytest.approx((0.5082, 0.0655), abs=5e-5)
    assert (linear.ci_lower, linear.ci_upper) == pytest.approx((0.3798, 0.6366), abs=5e-5)


def test_weights() -> None:
    assert agreement_weights(3, "linear").tolist() == [[1, 0.5, 0], [0.5, 1, 0.5], [0, 0.5, 1]]
    assert agreement_weights(3, "quadratic").tolist() == [
        [1, 0.75, 0],
        [0.75, 1, 0.75],
        [0, 0.75, 1],
    ]
    assert agreement_weights(2, "linear").tolist() == np.eye(2).tolist()
    with pytest.raises(InputError, match="unknown weighting"):
        agreement_weights(3, "cubic")
    with pytest.raises(InputError, match="at least 2"):
        agreement_weights(1, "linear")


def test_batch_equals_one_table_at_a_time() -> None:
    rng = np.random.default_rng(7)
    tables = rng.integers(0, 9, size=(40, 4, 4)).astype(float)
    tables[3] = 0.0
    tables[3, 1, 1] = 5.0  # one category throughout: undefined
    tables[5] = 0.0  # no items
    w = agreement_weights(4, "quadratic")
    batch = kappa_tables(tables, w)
    assert not batch.defined[3] and not batch.defined[5]
    assert np.isnan(batch.kappa[3]) and np.isnan(batch.se[5])
    for b in range(40):
        one = kappa_tables(tables[b : b + 1], w)
        np.testing.assert_array_equal(one.kappa, batch.kappa[b : b + 1])
        np.testing.assert_array_equal(one.se, batch.se[b : b + 1])


@settings(max_examples=150, deadline=None)
@given(
    pairs=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=60),
    weighting=st.sampled_from(["unweighted", "linear", "quadratic"]),
)
def test_weighted_kappa_properties(pairs, weighting) -> None:
    first, second = (list(x) for x in zip(*pairs, strict=True))
    levels = [0, 1, 2, 3]
    try:
        result = weighted_kappa(first, second, categories=levels, weighting=weighting)
    except InputError:
        assert len(set(first)) == 1 and set(first) == set(second)
        return
    assert result.kappa <= 1.0 + 1e-12
    assert result.ci_lower <= result.kappa <= result.ci_upper
    swapped = weighted_kappa(second, first, categories=levels, weighting=weighting)
    assert swapped.kappa == pytest.approx(result.kappa)
    assert swapped.se == pytest.approx(result.se, abs=1e-7)
    if first == second:
        assert result.kappa == pytest.approx(1.0)
    # reversing the order of the levels changes no distance, so no weighted kappa
    reversed_ = weighted_kappa(first, second, categories=levels[::-1], weighting=weighting)
    assert reversed_.kappa == pytest.approx(result.kappa)


def test_weighted_kappa_bad_input() -> None:
    with pytest.raises(InputError, match="not among the categories"):
        weighted_kappa(["Low", "Huge"], ["Low", "Low"], categories=["Low", "High"])
    with pytest.raises(InputError, match="repeat"):
        weighted_kappa(["Low"], ["Low"], categories=["Low", "Low"])
    with pytest.raises(InputError, match="undefined"):
        weighted_kappa(["Low"] * 3, ["Low"] * 3, categories=["Low", "High"])


def test_domain_agreement_is_kappa_of_each_domain() -> None:
    levels = ("Low", "Some concerns", "High")
    first = {
        "D1": ["Low", "Low", "High", "Some concerns", "Low", "High"],
        "D2": ["Low"] * 6,
        "D3": ["High", "Low", "Some concerns", "Some concerns", "Low", "Low"],
    }
    second = {
        "D1": ["Low", "Some concerns", "High", "Some concerns", "Low", "Low"],
        "D2": ["Low"] * 6,
        "D3": ["High", "Some concerns", "Some concerns", "High", "Low", "Low"],
    }
    for weighting in ("unweighted", "linear", "quadratic"):
        result = domain_agreement(first, second, levels=levels, weighting=weighting)
        assert [d.domain for d in result.domains] == ["D1", "D2", "D3"]
        for d in (result.domains[0], result.domains[2]):
            one = weighted_kappa(
                first[d.domain], second[d.domain], categories=levels, weighting=weighting
            )
            assert (d.kappa, d.se, d.ci_lower, d.ci_upper) == pytest.approx(
                (one.kappa, one.se, one.ci_lower, one.ci_upper), rel=1e-12
            )
            assert d.table == one.table
        undefined = result.domains[1]
        assert undefined.kappa is None and "single level" in str(undefined.problem)
        assert undefined.observed_agreement == 1.0
    with pytest.raises(InputError, match="item 2"):
        domain_agreement({"D1": ["Low", "Bad"]}, {"D1": ["Low", "Low"]}, levels=levels)
    with pytest.raises(InputError, match="different domains"):
        domain_agreement({"D1": ["Low"]}, {"D2": ["Low"]}, levels=levels)


def test_agreement_of_two_assessors_rob1_seed() -> None:
    """Agreement of two RoB 1 assessments of the same trials, per domain and weighted."""
    judgements_a = [
        {"D1": "Low", "D2": "Low", "D3": "Low", "D4": "Low", "D5": "Low", "D6": "Low", "D7": "?"},
        {"D1": "Low", "D2": "?", "D3": "Low", "D4": "?", "D5": "Low", "D6": "Low", "D7": "?"},
        {"D1": "Low", "D2": "Low", "D3": "High", "D4": "?", "D5": "Low", "D6": "Low", "D7": "?"},
    ]
    judgements_b = [
        {"D1": "Low", "D2": "?", "D3": "Low", "D4": "Low", "D5": "Low", "D6": "Low", "D7": "?"},
        {"D1": "Low", "D2": "?", "D3": "Low", "D4": "High", "D5": "Low", "D6": "?", "D7": "?"},
        {"D1": "?", "D2": "Low", "D3": "High", "D4": "?", "D5": "Low", "D6": "Low", "D7": "?"},
    ]
    first = [assess("rob1", judgements=j) for j in judgements_a]
    second = [assess("rob1", judgements=j) for j in judgements_b]
    result = assessment_agreement(first, second, weighting="linear")
    assert result.levels == ("Low", "Unclear", "High")
    by = {d.domain: d for d in result.domains}
    assert by["D3"].kappa == pytest.approx(1.0)
    assert by["D7"].kappa is None  # everyone: unclear
    d4 = weighted_kappa(
        ["Low", "Unclear", "Unclear"],
        ["Low", "High", "Unclear"],
        categories=result.levels,
        weighting="linear",
    )
    assert by["D4"].kappa == pytest.approx(d4.kappa)
    other = assess("camarades", judgements={f"D{k}": "yes" for k in range(1, 11)})
    with pytest.raises(InputError, match="different tools"):
        assessment_agreement(first[:1], [other])
