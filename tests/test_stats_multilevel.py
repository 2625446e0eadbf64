"""srma.stats.multilevel against metafor's rma.mv (tests/reference/multilevel_engine.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srma.errors import InputError
from srma.stats.multilevel import (
    RandomTerm,
    build_problem,
    fit_multilevel,
    profile_interval,
    profile_loglik,
)

FIXTURE = Path(__file__).parent / "reference" / "fixtures" / "multilevel_engine.json"
CASES = {case["name"]: case for case in json.loads(FIXTURE.read_text())["cases"]}


def _terms(case: dict) -> list[RandomTerm]:
    terms = []
    for term in case["terms"]:
        outer = np.atleast_1d(np.asarray(term["outer"], dtype=np.int64))
        if term["kind"] == "intercept":
            terms.append(RandomTerm("intercept", outer, fixed=term.get("fixed", {})))
        else:
            terms.append(
                RandomTerm(
                    "struct",
                    outer,
                    np.asarray(term["inner"], dtype=np.int64),
                    int(term["n_inner"]),
                    term["struct"],
                    times=None if term.get("times") is None else np.asarray(term["times"]),
                    fixed=term.get("fixed") or {},
                )
            )
    return terms


def _data(case: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(case["y"], dtype=float)
    V = np.asarray(case["V"], dtype=float)
    X = np.asarray(case["X"], dtype=float).reshape(y.shape[0], -1)
    return y, V, X


def _fit(name: str):
    case = CASES[name]
    y, V, X = _data(case)
    return case, fit_multilevel(y, V, X, _terms(case), method=case["method"])


def _close(actual, expected, rtol=1e-6, atol=1e-9) -> None:
    np.testing.assert_allclose(
        np.ravel(actual), np.ravel(np.asarray(expected, dtype=float)), rtol=rtol, atol=atol
    )


@pytest.mark.parametrize("name", sorted(CASES))
def test_fit_matches_metafor(name: str) -> None:
    case, fit = _fit(name)
    expected = case["result"]
    assert fit.converged[0], fit.message
    assert fit.theta_names == tuple(np.atleast_1d(expected["theta_names"]))
    theta = np.atleast_1d(np.asarray(expected["theta"], dtype=float))
    boundary = theta < 1e-6  # metafor reports ~0 there (its log-scale optimiser never reaches 0)
    _close(fit.theta[0][~boundary], theta[~boundary], atol=0)
    _close(fit.theta[0][boundary], theta[boundary], rtol=0, atol=1e-8)
    _close(fit.beta[0], expected["beta"])
    _close(fit.se[0], expected["se"])
    _close(fit.vcov[0], expected["vcov"])
    for field in ("loglik", "deviance", "aic", "bic", "aicc", "qe", "qe_pvalue"):
        _close(getattr(fit, field)[0], expected[field])
    assert fit.qe_df[0] == expected["qe_df"]
    assert fit.n_parameters == expected["n_parameters"]
    assert np.max(np.abs(fit.gradient[0][~fit.fixed_mask & (fit.theta[0] > 0)])) < 1e-6


@pytest.mark.parametrize("name", ["berkey_UN", "ishak_HAR", "konstantopoulos_ML"])
def test_another_start_reaches_the_same_estimate(name: str) -> None:
    case, fit = _fit(name)
    y, V, X = _data(case)
    start = fit.theta[0] * 3 + 0.1
    start = np.where([n.startswith(("rho", "phi")) for n in fit.theta_names], -0.2, start)
    other = fit_multilevel(y, V, X, _terms(case), method=case["method"], start=start)
    _close(other.theta[0], fit.theta[0], rtol=1e-7)
    _close(other.loglik[0], fit.loglik[0], rtol=1e-12)


def test_boundary_variance_is_exactly_zero() -> None:
    case, fit = _fit("konstantopoulos_crossed_boundary")
    assert fit.theta[0, 1] == 0.0
    assert case["result"]["theta"][1] < 1e-7
    # the likelihood falls as the variance leaves 0
    assert fit.gradient[0, 1] < 0


def test_fixed_parameters_stay_fixed() -> None:
    _, fit = _fit("berkey_CS_rho_fixed")
    assert fit.theta[0, 1] == 0.5
    assert fit.fixed_mask.tolist() == [False, True]
    _, fit = _fit("konstantopoulos_fixed_sigma2_2")
    assert fit.theta[0, 1] == 0.02


def test_marginal_covariance_is_v_plus_random_terms() -> None:
    case, fit = _fit("konstantopoulos_REML")
    _, V, _ = _data(case)
    district, school = (np.asarray(t["outer"]) for t in case["terms"])
    s1, s2 = fit.theta[0]
    expected = (
        V + s1 * (district[:, None] == district[None]) + s2 * (school[:, None] == school[None])
    )
    np.testing.assert_allclose(fit.marginal_covariance(0), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["result"]["confint"]))
def test_profile_intervals_match_confint(name: str) -> None:
    case, fit = _fit(name)
    y, V, X = _data(case)
    for parameter, bounds in case["result"]["confint"].items():
        lower, upper, found = profile_interval(y, V, X, _terms(case), fit, parameter)
        assert found
        _close([lower, upper], [bounds["lower"], bounds["upper"]], rtol=1e-6, atol=1e-9)


def test_profile_loglik_peaks_at_the_estimate() -> None:
    case, fit = _fit("konstantopoulos_REML")
    y, V, X = _data(case)
    estimate = fit.theta[0, 0]
    values = estimate * np.array([0.5, 1.0, 2.0])
    profile = profile_loglik(y, V, X, _terms(case), "sigma2_1", values)
    _close(profile[1], fit.loglik[0], rtol=1e-10)
    assert profile[0] < profile[1] and profile[2] < profile[1]


def test_batch_equals_single_fits() -> None:
    case = CASES["berkey_UN"]
    y, V, X = _data(case)
    terms = _terms(case)
    rng = np.random.default_rng(13)
    ys = y + rng.normal(scale=0.1, size=(3, y.shape[0]))
    mask = np.ones_like(ys, dtype=bool)
    mask[2, :2] = False  # the third fit drops the first trial
    batch = fit_multilevel(ys, V, X, terms, mask=mask)
    for b in range(3):
        keep = mask[b]
        sub_terms = [
            RandomTerm(t.kind, t.outer[keep], t.inner[keep], t.n_inner, t.struct) for t in terms
        ]
        single = fit_multilevel(ys[b, keep], V[np.ix_(keep, keep)], X[keep], sub_terms)
        _close(batch.theta[b], single.theta[0], rtol=1e-7)
        _close(batch.beta[b], single.beta[0], rtol=1e-9)
        _close(batch.loglik[b], single.loglik[0], rtol=1e-10)
        _close(batch.qe[b], single.qe[0], rtol=1e-10)
        np.testing.assert_allclose(
            batch.marginal_covariance(b)[np.ix_(keep, keep)],
            single.marginal_covariance(0),
            rtol=1e-7,
        )
    assert batch.k.tolist() == [y.shape[0], y.shape[0], y.shape[0] - 2]
    dropped = batch.marginal_covariance(2)
    assert np.all(dropped[:2] == 0) and np.all(dropped[:, :2] == 0)


def test_all_parameters_fixed() -> None:
    case = CASES["konstantopoulos_REML"]
    y, V, X = _data(case)
    terms = [
        RandomTerm("intercept", t.outer, fixed={"sigma2": value})
        for t, value in zip(_terms(case), (0.06, 0.03), strict=True)
    ]
    fit = fit_multilevel(y, V, X, terms)
    assert fit.converged[0] and fit.theta[0].tolist() == [0.06, 0.03]
    assert fit.n_parameters == 1
    expected = build_problem(y, V, X, terms).evaluate(np.array([[0.06, 0.03]]), "REML")
    _close(fit.loglik[0], expected.loglik[0], rtol=1e-14)


def test_batch_with_a_boundary_fit_equals_single_fits() -> None:
    case = CASES["konstantopoulos_crossed_boundary"]
    y, V, X = _data(case)
    terms = _terms(case)
    ys = np.stack([y, y + np.random.default_rng(5).normal(scale=0.2, size=y.shape[0])])
    batch = fit_multilevel(ys, V, X, terms)
    assert batch.theta[0, 1] == 0.0 and batch.converged.all()
    for b in range(2):
        single = fit_multilevel(ys[b], V, X, terms)
        _close(batch.theta[b], single.theta[0], rtol=1e-9, atol=1e-12)
        _close(batch.loglik[b], single.loglik[0], rtol=1e-12)


# --- the analytic gradient -----------------------------------------------------------


@st.composite
def _small_problem(draw):
    struct = draw(st.sampled_from(["CS", "HCS", "UN", "AR", "HAR", "ID", "DIAG"]))
    method = draw(st.sampled_from(["REML", "ML"]))
    seed = draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    n_inner = 3
    n_outer = 5
    inner = np.tile(np.arange(n_inner), n_outer)
    outer = np.repeat(np.arange(n_outer), n_inner)
    k = inner.shape[0]
    keep = rng.random(k) > 0.2
    keep[:3] = True
    inner, outer = inner[keep], outer[keep]
    k = inner.shape[0]
    cluster = outer // 2
    X = np.column_stack([np.ones(k), rng.normal(size=k)])
    y = rng.normal(size=k)
    V = np.diag(rng.uniform(0.05, 0.5, size=k))
    uneven = struct in ("AR", "HAR") and draw(st.booleans())
    times = np.cumsum(rng.uniform(0.2, 1.5, size=n_inner)) if uneven else None
    terms = [
        RandomTerm("intercept", cluster),
        RandomTerm("struct", outer, inner, n_inner, struct, times=times),
    ]
    problem = build_problem(y, V, X, terms)
    names = problem.parameters.names
    theta = np.array(
        [
            rng.uniform(0.05, 0.8) if not n.startswith("rho") else rng.uniform(0.05, 0.6)
            for n in names
        ]
    )
    return problem, theta, method


@settings(max_examples=40, deadline=None)
@given(_small_problem())
def test_gradient_matches_finite_differences(case) -> None:
    problem, theta, method = case
    analytic = problem.evaluate(theta[None], method).gradient[0]
    h = 1e-6
    shifted = np.repeat(theta[None], 2 * theta.size, axis=0)
    shifted[np.arange(theta.size), np.arange(theta.size)] += h
    shifted[theta.size + np.arange(theta.size), np.arange(theta.size)] -= h
    values = problem.evaluate(shifted, method, gradient=False).loglik
    numeric = (values[: theta.size] - values[theta.size :]) / (2 * h)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-6)


# --- bad input ------------------------------------------------------------------------


def test_bad_inputs_are_named() -> None:
    case = CASES["berkey_UN"]
    y, V, X = _data(case)
    terms = _terms(case)
    with pytest.raises(InputError, match="struct must be one of"):
        RandomTerm("struct", terms[0].outer, terms[0].inner, 2, "XYZ")
    with pytest.raises(InputError, match="cannot fix 'phi'"):
        RandomTerm("struct", terms[0].outer, terms[0].inner, 2, "CS", fixed={"phi": 0.5})
    with pytest.raises(InputError, match="must be in"):
        RandomTerm("struct", terms[0].outer, terms[0].inner, 2, "CS", fixed={"rho": 1.5})
    with pytest.raises(InputError, match="inner codes"):
        RandomTerm("struct", terms[0].outer, terms[0].inner + 5, 2, "CS")
    with pytest.raises(InputError, match="method must be"):
        fit_multilevel(y, V, X, terms, method="EB")
    bad_v = V.copy()
    bad_v[0, 0] = -1
    with pytest.raises(InputError, match="sampling variance"):
        fit_multilevel(y, bad_v, X, terms)
    bad_y = y.copy()
    bad_y[3] = np.nan
    with pytest.raises(InputError, match="finite"):
        fit_multilevel(bad_y, V, X, terms)
    with pytest.raises(InputError, match="full column rank"):
        fit_multilevel(y, V, np.column_stack([X, X[:, 0]]), terms)
    with pytest.raises(InputError, match="one per observation"):
        fit_multilevel(y, V, X, [RandomTerm("intercept", np.arange(3))])
    fit = fit_multilevel(y, V, X, terms)
    with pytest.raises(InputError, match="unknown parameter"):
        profile_interval(y, V, X, terms, fit, "sigma2_9")


def test_expected_information_matches_dense_traces() -> None:
    case = CASES["konstantopoulos_year_REML"]
    y, V, X = _data(case)
    terms = _terms(case)
    problem = build_problem(y, V, X, terms)
    theta = np.array([0.05, 0.02])
    indicators = [
        (np.asarray(t["outer"])[:, None] == np.asarray(t["outer"])[None]).astype(float)
        for t in case["terms"]
    ]
    M = V + sum(s * d for s, d in zip(theta, indicators, strict=True))
    W = np.linalg.inv(M)
    for method in ("REML", "ML"):
        P = W - W @ X @ np.linalg.inv(X.T @ W @ X) @ X.T @ W if method == "REML" else W
        expected = np.array(
            [[0.5 * np.trace(P @ dj @ P @ dk) for dk in indicators] for dj in indicators]
        )
        info = problem.evaluate(theta[None], method, information=True).information[0]
        np.testing.assert_allclose(info, expected, rtol=1e-10)
