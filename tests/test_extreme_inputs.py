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
