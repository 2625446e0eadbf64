"""Numbers at the edges of double precision, checked against exact arithmetic (mpmath).

The common-effect model, DerSimonian-Laird, REML and Paule-Mandel are
computed at 50 significant digits with mpmath: the closed forms directly,
REML and PM by solving their estimating equations with ``mpmath.findroot``
on a bracket found by bisection.  srma must agree to relative 1e-6 on
variances from 1e-300 to 1e300, effects up to 1e150 apart (and centred far
from 0), and mixed scales, or refuse the input naming file, row and column
(docs/statistics.md, "Extreme inputs").
"""

from __future__ import annotations

import itertools
import math
import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from srma import meta
from srma.analysis.meta import meta_batch
from srma.analysis.validation import check_representable
from srma.errors import InputError

mp = mpmath.mp
DIGITS = 50
RTOL = 1e-6


# --- exact references ----------------------------------------------------------------


def _mp(values):
    return [mpmath.mpf(float(x)) for x in values]  # exact: a double is a binary fraction


def _weights(v, tau2):
    return [1 / (vi + tau2) for vi in v]


def _mean(y, w):
    return mpmath.fsum(wi * yi for wi, yi in zip(w, y, strict=True)) / mpmath.fsum(w)


def _q(y, v, tau2):
    w = _weights(v, tau2)
    mu = _mean(y, w)
    return mpmath.fsum(wi * (yi - mu) ** 2 for wi, yi in zip(w, y, strict=True))


def _trace_p(w):
    """``tr P = sum w - sum w² / sum w = sum_{i != j} w_i w_j / sum w``, summed pairwise.

    The pairwise form is exact where the difference would cancel: with
    variances from 1e-300 to 1e300 the two terms agree to 75 digits and more.
    """
    pairs = mpmath.fsum(w[i] * w[j] for i in range(len(w)) for j in range(i + 1, len(w)))
    return 2 * pairs / mpmath.fsum(w)


def _reml_score(y, v, tau2):
    """``y'PPy - tr P``."""
    w = _weights(v, tau2)
    mu = _mean(y, w)
    w2 = [wi * wi for wi in w]
    yppy = mpmath.fsum(wi * (yi - mu) ** 2 for wi, yi in zip(w2, y, strict=True))
    return yppy - _trace_p(w)


def _root(f, upper):
    """The root of ``f`` (positive below it) in (0, upper]: bisection, then mpmath.findroot."""
    lo, hi = mpmath.mpf(0), mpmath.mpf(upper)
    while f(hi) > 0:
        hi *= 4
    for _ in range(4000):  # geometric bisection while the bracket spans decades
        if hi - lo <= hi * mpmath.mpf(10) ** -30:
            break
        mid = mpmath.sqrt(lo * hi) if lo > 0 and hi > 4 * lo else (lo + hi) / 2
        if lo == 0 and hi > 4 * mpmath.mpf(10) ** -320:
            mid = hi / 4
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    # f is in units of 1/variance² (up to 1e600 here): findroot's absolute check
    # of |f| would fail, so the bracket it refines is checked instead
    root = mpmath.findroot(f, (lo, hi), solver="anderson", verify=False)
    return root if lo <= root <= hi else (lo + hi) / 2  # the bracket is 1e-30 wide


def exact(y, v, method):
    """(estimate, tau2) at 50 digits."""
    with mpmath.workdps(DIGITS):
        y, v = _mp(y), _mp(v)
        k = len(y)
        if method == "EE":
            tau2 = mpmath.mpf(0)
        elif method == "DL":
            trace = _trace_p(_weights(v, 0))
            tau2 = max(mpmath.mpf(0), (_q(y, v, 0) - (k - 1)) / trace)
        else:
            ybar = mpmath.fsum(y) / k
            spread = mpmath.fsum((yi - ybar) ** 2 for yi in y)
            upper = spread + max(v)
            if method == "PM":
                f = lambda t: _q(y, v, t) - (k - 1)  # noqa: E731
            else:
                f = lambda t: _reml_score(y, v, t)  # noqa: E731
            tau2 = mpmath.mpf(0) if f(mpmath.mpf(0)) <= 0 else _root(f, upper)
        mu = _mean(y, _weights(v, tau2))
        return float(mu), float(tau2)


def assert_close(y, v, method, result_estimate, result_tau2):
    mu, tau2 = exact(y, v, method)
    spread = float(np.max(y) - np.min(y)) if len(y) > 1 else 0.0
    harmonic = len(v) / float(np.sum(np.min(v) / np.asarray(v))) * float(np.min(v))
    assert result_estimate is not None
    assert abs(result_estimate - mu) <= RTOL * (abs(mu) + spread + math.sqrt(harmonic)), (
        method,
        result_estimate,
        mu,
    )
    if method != "EE":
        assert result_tau2 is not None
        assert abs(result_tau2 - tau2) <= RTOL * tau2 + 1e-9 * harmonic, (
            method,
            result_tau2,
            tau2,
        )


# --- fixed extreme cases ---------------------------------------------------------------

BASE = np.array([0.1, 0.5, -0.2, 0.8, 0.3, 0.05, 0.6, -0.4, 0.25])

CASES = {
    "all variances 1e-300": (BASE, np.full(9, 1e-300)),
    "one variance 1e300": (BASE, np.r_[1e300, np.full(8, 0.04)]),
    "one variance 1e300, large effects": (BASE * 50, np.r_[1e300, np.linspace(0.5, 4, 8)]),
    "variances 1e-300 to 1e300": (BASE, np.logspace(-300, 300, 9)),
    "mixed tiny variances": (BASE, np.logspace(-300, -290, 9)),
    "effects 1e150": (BASE * 1e150, np.full(9, 1e298)),
    "effects 1e150, tiny variances": (BASE * 1e150, np.logspace(280, 300, 9)),
    "effects centred at 1e160": (1e160 + BASE * 1e149, np.full(9, 1e297)),
    "effects 1e-150, variances 1e-300": (BASE * 1e-150, np.full(9, 1e-301)),
    "huge variances": (BASE * 1e140, np.logspace(295, 300, 9)),
}


@pytest.mark.parametrize("method", ["EE", "DL", "REML", "PM"])
@pytest.mark.parametrize("case", list(CASES))
def test_extreme_inputs_agree_with_exact_arithmetic(case: str, method: str) -> None:
    y, v = CASES[case]
    result = meta(y, v, method=method)
    assert result.converged
    assert result.estimate is not None and math.isfinite(result.estimate)
    assert result.se is not None and math.isfinite(result.se)
    assert_close(y, v, method, result.estimate, result.tau2)


def test_the_issue_probes() -> None:
    """All variances 1e-300: DL and REML give the sample variance (not 0, not NaN)."""
    v = np.full(9, 1e-300)
    sample = float(np.var(BASE, ddof=1))
    for method in ("DL", "REML", "PM"):
        result = meta(BASE, v, method=method)
        assert result.tau2 == pytest.approx(sample, rel=1e-9)
        assert result.q == pytest.approx(sample * 8 / 1e-300, rel=1e-9)
    one_huge = np.r_[1e300, np.full(8, 0.04)]
    eight = meta(BASE[1:], np.full(8, 0.04), method="REML")
    nine = meta(BASE, one_huge, method="REML")
    assert nine.converged and nine.tau2 == pytest.approx(eight.tau2, rel=1e-9)


def test_meta_batch_handles_extremes_row_by_row() -> None:
    """The batch engine: the same numbers as one by one, mixed scales in one batch."""
    rows = [CASES[name] for name in CASES]
    Y = np.array([y for y, _ in rows])
    V = np.array([v for _, v in rows])
    batch = meta_batch(Y, V, method="REML")
    for i, (y, v) in enumerate(rows):
        single = meta(y, v, method="REML")
        assert batch.converged[i]
        assert batch.estimate[i] == pytest.approx(single.estimate, rel=1e-12, abs=0)
        assert batch.tau2[i] == pytest.approx(single.tau2, rel=1e-9, abs=1e-300)


# --- what cannot be represented is refused, naming file, row and column ---------------


def _frame(y, v, column="vi"):
    return pd.DataFrame({"study": [f"S{i}" for i in range(len(y))], "yi": y, column: v})


@pytest.mark.parametrize(
    ("y", "v", "row", "column", "words"),
    [
        (BASE, np.r_[np.full(4, 0.04), 5e-324, np.full(4, 0.04)], 5, "vi", "too small"),
        (BASE, np.full(9, 1e-310), 1, "vi", "smallest normal"),
        (np.r_[1e300, -1e300, BASE[2:]], np.full(9, 0.04), 1, "yi", "out of range"),
        (np.r_[BASE[:8], 2e150], np.full(9, 0.04), 9, "yi", "within 1e+150"),
        (BASE * 1e200, np.full(9, 1e-10), None, "yi", "out of range"),
        (BASE * 1e140, np.full(9, 1e-300), None, "vi", "largest double"),
    ],
)
def test_unrepresentable_values_are_refused_with_file_row_column(y, v, row, column, words):
    with pytest.raises(InputError) as error:
        meta(_frame(y, v), source="data.csv", method="REML")
    assert error.value.file == "data.csv"
    assert error.value.column == column
    if row is not None:
        assert error.value.row == row
    else:
        assert error.value.row is not None
    assert words in str(error.value)


def test_negative_standard_error_is_refused_as_effects_does() -> None:
    frame = _frame(BASE, np.r_[0.2, -0.2, np.full(7, 0.2)], column="sei")
    with pytest.raises(InputError) as error:
        meta(frame, source="data.csv", sei="sei")
    assert (error.value.row, error.value.column) == (2, "sei")
    assert "standard error must be > 0" in str(error.value)


def test_tiny_standard_error_names_the_se_column() -> None:
    frame = _frame(BASE, np.r_[0.2, 1e-160, np.full(7, 0.2)], column="sei")
    with pytest.raises(InputError) as error:
        meta(frame, source="data.csv", sei="sei")
    assert (error.value.row, error.value.column) == (2, "sei")


def test_meta_batch_refuses_with_the_meta_analysis_and_study() -> None:
    Y = np.array([BASE, BASE])
    V = np.array([np.full(9, 0.04), np.r_[np.full(8, 0.04), 1e-320]])
    with pytest.raises(InputError, match=r"meta-analysis 2, study 9"):
        meta_batch(Y, V)


def test_stats_layer_never_reports_converged_on_a_nan() -> None:
    """Below validation, the engine flags what it cannot compute instead of claiming success."""
    from srma.stats.batch import as_batch
    from srma.stats.pooling import pool

    y = np.array([[1e300, -1e300, 0.3], [0.1, 0.2, 0.3]])
    v = np.array([[0.04, 0.04, 0.04], [0.04, 0.05, 0.06]])
    out = pool(as_batch(y, v), method="REML")
    for i in range(2):
        finite = np.isfinite(out.estimate[i]) and np.isfinite(out.tau2[i])
        assert finite or not out.converged[i]
    assert out.converged[1] and np.isfinite(out.estimate[1])


# --- random scales -----------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(2, 8),
    y_exponent=st.integers(-150, 150),
    v_exponent=st.integers(-300, 300),
    v_spread=st.integers(0, 40),
    centre_exponent=st.integers(-10, 10),
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(["EE", "DL", "REML", "PM"]),
)
def test_random_scales_agree_with_exact_arithmetic(
    k, y_exponent, v_exponent, v_spread, centre_exponent, seed, method
):
    rng = np.random.default_rng(seed)
    scale = 10.0**y_exponent
    y = scale * (rng.normal(size=k) + 10.0**centre_exponent)
    exponents = np.clip(v_exponent + rng.uniform(-v_spread, v_spread, size=k), -300, 300)
    v = 10.0**exponents * rng.uniform(0.5, 2.0, size=k)
    try:
        check_representable(y, v, source=None)
    except InputError:
        assume(False)
    if method == "REML":  # one root only (the reference does not scan for others)
        with mpmath.workdps(30):
            ym, vm = _mp(y), _mp(v)
            ybar = mpmath.fsum(ym) / k
            top = mpmath.fsum((a - ybar) ** 2 for a in ym) + max(vm)
            grid = [top * mpmath.mpf(4) ** -j for j in range(0, 60)] + [mpmath.mpf(0)]
            signs = [_reml_score(ym, vm, t) > 0 for t in grid]
            assume(sum(a != b for a, b in itertools.pairwise(signs)) <= 1)
    result = meta(y, v, method=method)
    assert result.converged
    assert_close(y, v, method, result.estimate, result.tau2)


# --- the probe's data sets (issue 10): normand1999 at the edges ----------------------


def _normand():
    from srma import effect_sizes
    from srma.datasets import load

    effects = effect_sizes(load("normand1999"), "MD")
    return effects["yi"].to_numpy(), effects["vi"].to_numpy()


def test_the_probe_data_sets_give_the_exact_answers() -> None:
    """DL with every variance 1e-300 is the sample variance (810.6, not 0); REML with the
    third study's variance 1e300 is REML of the other eight (459.9, not 1.14)."""
    y, v = _normand()
    dl = meta(y, np.full(9, 1e-300), method="DL")
    assert dl.converged and dl.tau2 == pytest.approx(810.6111111111, rel=1e-9)
    assert_close(y, np.full(9, 1e-300), "DL", dl.estimate, dl.tau2)
    huge = v.copy()
    huge[2] = 1e300
    reml = meta(y, huge, method="REML")
    assert reml.converged and reml.tau2 == pytest.approx(459.93325847517, rel=1e-9)
    assert_close(y, huge, "REML", reml.estimate, reml.tau2)


# --- meta-regression: rescaled like the intercept-only model --------------------------


def _exact_regression(y, v, X, method):
    """(beta, se, tau2) of ``rma(yi, vi, mods = X[:, 1:], method)`` at 50 digits."""
    with mpmath.workdps(DIGITS):
        ym = mpmath.matrix(_mp(y))
        vm = _mp(v)
        Xm = mpmath.matrix([[mpmath.mpf(float(x)) for x in row] for row in X])
        k, p = Xm.rows, Xm.cols
        # mpmath's inverse calls a matrix with entries of 1e400 and 1 singular: invert
        # D^-1 X'WX D^-1 (D the columns' largest values) instead, the same in exact arithmetic
        Dinv = mpmath.diag([1 / max(abs(Xm[i, j]) for i in range(k)) for j in range(p)])

        def parts(tau2):
            W = mpmath.diag([1 / (vi + tau2) for vi in vm])
            A = Dinv * mpmath.inverse(Dinv * Xm.T * W * Xm * Dinv) * Dinv
            P = W - W * Xm * A * Xm.T * W
            return A, P

        def reml(tau2):
            _, P = parts(tau2)
            Py = P * ym
            return (Py.T * Py)[0] - sum(P[i, i] for i in range(k))

        if method == "EE":
            tau2 = mpmath.mpf(0)
        elif method == "DL":
            _, P = parts(mpmath.mpf(0))
            trace = sum(P[i, i] for i in range(k))
            tau2 = max(mpmath.mpf(0), ((ym.T * P * ym)[0] - (k - p)) / trace)
        else:
            ybar = mpmath.fsum(ym) / k
            upper = mpmath.fsum((a - ybar) ** 2 for a in ym) + max(vm)
            tau2 = mpmath.mpf(0) if reml(mpmath.mpf(0)) <= 0 else _root(reml, upper)
        A, _ = parts(tau2)
        W = mpmath.diag([1 / (vi + tau2) for vi in vm])
        beta = A * Xm.T * W * ym
        return (
            [float(b) for b in beta],
            [float(mpmath.sqrt(A[i, i])) for i in range(p)],
            float(tau2),
        )


X9 = np.column_stack([np.ones(9), np.arange(9.0)])
REGRESSION_CASES = {
    "all variances 1e-300": (BASE, np.full(9, 1e-300), X9),
    "all variances 1e300": (BASE * 1e140, np.full(9, 1e300), X9),
    "one variance 1e300": (BASE, np.r_[np.full(4, 0.04), 1e300, np.full(4, 0.05)], X9),
    "variances 1e-200 apart": (BASE, np.r_[np.full(4, 1e-200), np.full(5, 2e-200)], X9),
    "moderator 1e200": (BASE, np.linspace(0.02, 0.1, 9), X9 * [1.0, 1e200]),
    "moderator 1e-200": (BASE, np.linspace(0.02, 0.1, 9), X9 * [1.0, 1e-200]),
    "effects 1e140": (BASE * 1e140, np.linspace(0.02, 0.1, 9) * 1e280, X9),
    "effects centred at 1e160": (1e160 + BASE * 1e149, np.full(9, 1e297), X9),
    "two moderators, mixed scales": (
        BASE,
        np.full(9, 1e-290),
        np.column_stack([np.ones(9), np.arange(9.0) * 1e-150, np.cos(np.arange(9.0)) * 1e150]),
    ),
}


@pytest.mark.parametrize("method", ["EE", "DL", "REML"])
@pytest.mark.parametrize("case", list(REGRESSION_CASES))
def test_meta_regression_at_the_edges_agrees_with_exact_arithmetic(case: str, method: str) -> None:
    from srma.stats.regression import meta_regression, regression_batch

    y, v, X = REGRESSION_CASES[case]
    fit = meta_regression(regression_batch(y, v, X), method=method)
    beta, se, tau2 = _exact_regression(y, v, X, method)
    assert fit.converged[0]
    for j in range(X.shape[1]):
        assert abs(fit.beta[0, j] - beta[j]) <= RTOL * (abs(beta[j]) + se[j]), (j, fit.beta, beta)
        assert fit.se[0, j] == pytest.approx(se[j], rel=RTOL), (j, fit.se, se)
    harmonic = len(v) / float(np.sum(np.min(v) / v)) * float(np.min(v))
    assert abs(fit.tau2[0] - tau2) <= RTOL * tau2 + 1e-9 * harmonic, (fit.tau2, tau2)
    assert np.isfinite(fit.qe[0]) and np.isfinite(fit.i2[0])


def test_meta_regression_of_the_probe_data_with_a_huge_variance_drops_that_study() -> None:
    """A study of variance 1e300 weighs nothing: the fit of the other eight."""
    y, v = _normand()
    huge = v.copy()
    huge[2] = 1e300
    frame = pd.DataFrame({"yi": y, "vi": huge, "x": np.arange(9.0)})
    with pytest.warns(Warning):
        nine = srma_meta_regression(frame, "~ x", method="REML")
        eight = srma_meta_regression(frame.drop(index=2), "~ x", method="REML")
    assert nine.tau2 == pytest.approx(eight.tau2, rel=1e-9)
    assert nine.estimate == pytest.approx(eight.estimate, rel=1e-9)


def srma_meta_regression(frame, mods, **options):
    from srma import meta_regression

    return meta_regression(frame, mods, **options)


@pytest.mark.parametrize("common_tau2", [False, True])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_subgroups_at_the_edges_agree_with_exact_arithmetic(common_tau2: bool, test: str) -> None:
    """Common tau² is the residual tau² of ~ factor(group); each subgroup its coefficient."""
    from srma import subgroup_analysis

    groups = np.array(list("aabbbaabb"))
    indicator = (groups == "b").astype(float)
    X = np.column_stack([np.ones(9), indicator])
    for y, v in [(BASE, np.full(9, 1e-300)), (BASE * 1e140, np.full(9, 1e300))]:
        frame = pd.DataFrame({"yi": y, "vi": v, "g": groups})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = subgroup_analysis(
                frame, "g", method="REML", test=test, common_tau2=common_tau2
            )
        if common_tau2:
            beta, _, tau2 = _exact_regression(y, v, X, "REML")
            assert result.tau2_common == pytest.approx(tau2, rel=RTOL)
            expected = [beta[0], beta[0] + beta[1]]
        else:
            expected = [exact(y[groups == g], v[groups == g], "REML")[0] for g in "ab"]
        spread = float(np.ptp(y))
        for sub, mu in zip(result.subgroups, expected, strict=True):
            assert abs(sub.estimate - mu) <= RTOL * (abs(mu) + spread)
            assert sub.se is not None and np.isfinite(sub.se) and sub.se > 0
        assert np.isfinite(result.q_between)


def test_meta_regression_refuses_a_dominating_variance_naming_file_row_column() -> None:
    """One variance of 1e-300 among 0.04s: that study alone fixes a coefficient and the
    weighted fit has no digits left; refused, not a NaN or a wrong number."""
    from srma import meta_regression

    frame = pd.DataFrame({"yi": BASE, "vi": np.r_[0.04, 0.04, 1e-300, np.full(6, 0.04)]})
    frame["x"] = np.arange(9.0)
    frame.loc[0, "yi"] = np.nan  # an omitted row: the row named is still the table's
    for method in ("REML", "DL", "EE"):
        with pytest.raises(InputError) as error, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            meta_regression(frame, "~ x", method=method, source="data.csv")
        assert (error.value.file, error.value.row, error.value.column) == ("data.csv", 3, "vi")
        assert "too small beside the others" in str(error.value)


@pytest.mark.parametrize("scale", [1e-200, 1e200])
def test_moderators_of_extreme_scale_are_not_mistaken_for_collinear(scale: float) -> None:
    from srma import meta_regression

    y, v = _normand()
    frame = pd.DataFrame({"yi": y, "vi": v, "x": np.arange(9.0)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = meta_regression(frame, "~ x")
        scaled = meta_regression(frame.assign(x=frame["x"] * scale), "~ x")
    assert scaled.tau2 == pytest.approx(plain.tau2, rel=1e-9)
    assert scaled.estimate[1] * scale == pytest.approx(plain.estimate[1], rel=1e-9)
    assert scaled.se[1] * scale == pytest.approx(plain.se[1], rel=1e-9)
    assert scaled.qm == pytest.approx(plain.qm, rel=1e-9)


def test_a_moderator_constant_in_doubles_is_refused_naming_its_column() -> None:
    from srma import meta_regression

    y, v = _normand()
    frame = pd.DataFrame({"yi": y, "vi": v, "x": 1e20 + np.arange(9.0)})
    with pytest.raises(InputError) as error:
        meta_regression(frame, "~ x", source="data.csv")
    assert (error.value.file, error.value.column) == ("data.csv", "x")
    assert "constant or collinear" in str(error.value)


def test_knapp_hartung_with_huge_variances_is_not_zero() -> None:
    """Studies that agree to 1e-99 of their SEs still have a Knapp-Hartung factor: the
    interval is not of zero width (once, y'Py below machine epsilon counted as exact)."""
    y, v = _normand()
    huge = meta(y, v * 1e200, method="DL", test="knha")
    ordinary = meta(y, v, method="EE", test="knha")  # tau² = 0 in both
    assert huge.tau2 == 0.0
    # Var = s² / sum w with s² = y'Py/(k-1): invariant when every variance is scaled alike
    assert huge.se == pytest.approx(ordinary.se, rel=1e-9)
    equal = meta(np.full(5, 0.3), np.linspace(0.01, 0.05, 5), method="DL", test="knha")
    assert equal.se == 0.0


def test_an_interval_end_beyond_the_largest_double_is_undefined_not_tiny() -> None:
    """Effects 2e150 apart at level 0.999999: the Q-profile upper end is beyond 1.8e308.
    It was 7.5e-301 (below tau² itself); now it is left out with a warning."""
    y = np.array([-0.99e150, 0.99e150])
    with pytest.warns(Warning, match="beyond the largest double"):
        result = meta(y, np.full(2, 1e290), method="REML", level=0.999999)
    assert result.converged and result.tau2 == pytest.approx(1.9602e300, rel=1e-9)
    assert result.tau2_ci_upper is None and result.tau2_ci_lower < result.tau2
    usual = meta(y, np.full(2, 1e290), method="REML")
    assert usual.tau2_ci_upper is not None and usual.tau2_ci_upper > usual.tau2
