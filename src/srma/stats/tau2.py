"""One family of estimators of the between-study variance tau², for any design matrix.

The model is ``y = X beta + u + e`` with ``u ~ N(0, tau² I)`` and ``e ~
N(0, diag(v))``: the random-effects meta-analysis is the intercept-only case
``X = 1`` (p = 1), a meta-regression has p >= 1 columns.  Every estimator is
written once, in terms of the projection

    ``W = diag(w)``, ``w_i = 1/(v_i + tau²)``, ``A = (X'WX)^-1``,
    ``P = W - W X A X'W``

and the quantities built from it (Viechtbauer 2005; Harville 1977):

* ``y'Py = sum w_i r_i²`` (the generalised Q; ``r = y - X beta_w``),
* ``y'PPy = sum w_i² r_i²``, ``y'PPPy = sum w_i³ r_i² - (X'W²r)' A (X'W²r)``,
* ``tr P = sum w_i - tr(A X'W²X)``,
* ``tr PP = sum w_i² - 2 tr(A X'W³X) + tr((A X'W²X)²)``,
* ``log det X'WX``.

:func:`projection` evaluates them: for a :class:`~srma.stats.batch.Batch`
(``X = 1``) by the sums they reduce to (``A = 1/sum w``, so ``tr P = sum w -
sum w² / sum w``, ``tr PP = sum w² - 2 sum w³ / sum w + (sum w² / sum w)²``,
``y'PPPy = sum w³ r² - (sum w² r)² / sum w``), which is what makes a million
fits a second possible; for a :class:`~srma.stats.batch.RegressionBatch` by
batched linear algebra.  The estimators, the likelihoods and the solver
never know which.

Estimators (``k`` studies, ``p`` coefficients; each truncated at 0):

* ``DL`` DerSimonian & Laird (1986): ``(y'Py - (k - p)) / tr P`` at ``w = 1/v``.
* ``HE`` Hedges (1983): ``(RSS - tr(P_OLS V)) / (k - p)`` with the unweighted
  (OLS) projection; for p = 1 ``sum (y_i - ybar)²/(k-1) - mean(v)``.
* ``HS`` Hunter & Schmidt (2004): ``(y'Py - k) / sum w_i`` at ``w = 1/v``.
* ``SJ`` Sidik & Jonkman (2005): ``tau0² y'Py / (k - p)`` at
  ``w = 1/(v + tau0²)``, ``tau0² = sum (y_i - ybar)² / k``.
* ``ML``: root of ``y'PPy = tr W`` (Viechtbauer 2005, eq. 10).
* ``REML``: root of ``y'PPy = tr P`` (Viechtbauer 2005, eq. 12).
* ``PM`` Paule & Mandel (1982): root of ``y'Py = k - p``; ``EB`` (Morris 1983;
  Berkey et al. 1995) solves ``k/(k-p) y'Py = k``, the same equation.
* ``PMM`` median-unbiased Paule-Mandel (Viechtbauer 2021, metafor's
  ``method = "PMM"``): root of ``y'Py = chi²_{k-p, 0.5}``.

The numbers agree with metafor's ``rma.uni`` (Viechtbauer 2010, J Stat Softw
36(3)) with and without ``mods`` (tests/reference/pooling.R, metareg.R).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from srma.stats.batch import (
    Batch,
    FloatArray,
    RegressionBatch,
    ScaledDesign,
    masked_sum,
    quantile_per_df,
)
from srma.stats.roots import solve_decreasing

#: Either batch layout: intercept-only (``Batch``) or with a design matrix.
AnyBatch = Batch | RegressionBatch


@dataclass(frozen=True)
class Tau2Estimate:
    """tau² per row, with how the estimate was reached."""

    tau2: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]


# --- the projection, for X = 1 and for any X -------------------------------------


def _power(
    x: FloatArray, mantissa: FloatArray, power_m: int, shift: NDArray[np.int64]
) -> FloatArray:
    """``x / mantissa**power_m * 2**shift``: a scaled sum back in the data's units."""
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        return np.ldexp(x / mantissa**power_m, shift)


def _in_units(scaled: str, power_s2: int, power_m: int) -> property:
    """A :class:`QSums` quantity in the data's units, from its scaled form ``scaled``:
    ``x s^(2 power_s2) / m^power_m`` (:meth:`QSums._units`)."""
    return property(lambda sums: sums._units(getattr(sums, scaled), power_s2, power_m))


@dataclass(frozen=True)
class ScaledSums:
    """Sums in scaled form: ``unit`` ``m`` (a variance) and the effects' scale ``s = 2**exponent``.

    A quantity ``x`` in scaled form stands for ``x s^(2 j) / m^i`` in the data's
    units (:meth:`_units`); ``a = s²/max(s², m)`` and ``b = m/max(s², m)``
    lie in [0, 1] and put the estimating equations on one scale.
    """

    unit: FloatArray  # m
    exponent: NDArray[np.int64]  # s = 2**exponent

    @cached_property
    def _unit_parts(self) -> tuple[FloatArray, NDArray[np.int64]]:
        mantissa, power = np.frexp(self.unit)
        return mantissa, power.astype(np.int64)

    @cached_property
    def _ab(self) -> tuple[FloatArray, FloatArray]:
        with np.errstate(over="ignore", invalid="ignore"):
            s2 = np.ldexp(1.0, 2 * self.exponent)  # exact; a power of two
            g = np.maximum(s2, self.unit)
            return s2 / g, self.unit / g

    @property
    def a(self) -> FloatArray:
        """``s² / max(s², m)``, in [0, 1]."""
        return self._ab[0]

    @property
    def b(self) -> FloatArray:
        """``m / max(s², m)``, in [0, 1]."""
        return self._ab[1]

    @property
    def precise(self) -> NDArray[np.bool_]:
        """Whether the sums kept their digits (always, for X = 1: see :class:`WeightedSums`)."""
        return np.ones(self.unit.shape, dtype=bool)

    def _units(self, x: FloatArray, power_s2: int, power_m: int) -> FloatArray:
        """``x s^(2 power_s2) / m^power_m``."""
        mantissa, power = self._unit_parts
        return _power(x, mantissa, power_m, 2 * power_s2 * self.exponent - power_m * power)


def _alias(name: str) -> property:
    """Another name for the field ``name`` (the one the estimating equations use)."""
    return property(lambda sums: getattr(sums, name), doc=f"``{name}``")


@dataclass(frozen=True)
class QSums(ScaledSums):
    """What the generalised Q equations need for ``X = 1``, as scaled sums.

    With ``m = min_i (v_i + tau²)`` (the smallest variance, so ``u_i = m w_i``
    lies in (0, 1]) and the effects standardised to ``rho = (y - c) / s``
    (:class:`~srma.stats.batch.Standardised`, ``s = 2**exponent``), the sums
    are ``s1 = sum u``, ``q1 = sum u (rho - rho_w)²``, ``q2 = sum u² (rho -
    rho_w)²``: each at most k, whatever the scale of the data.  Then ``sum w
    = s1/m``, ``y'Py = s² q1 / m``, ``y'PPy = s² q2 / m²``; the properties give
    those in the data's units (they overflow only where the value itself is
    not a double).  The estimating equations use the scaled form: with ``g =
    max(s², m)``, ``a = s²/g`` and ``b = m/g`` lie in [0, 1].
    """

    centre: FloatArray
    rho_mean: FloatArray
    s1: FloatArray
    q1: FloatArray
    q2: FloatArray

    # the scaled quantities the equations use (``Fit`` offers the same names)
    ypy_scaled = _alias("q1")
    yppy_scaled = _alias("q2")
    sum_w_scaled = _alias("s1")

    # in the data's units
    @property
    def mean(self) -> FloatArray:
        """The weighted mean ``c + s rho_w``."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.centre + np.ldexp(self.rho_mean, self.exponent)

    sum_w = _in_units("s1", 0, 1)

    @property
    def variance_of_mean(self) -> FloatArray:
        """``1 / sum w = m / s1``, without forming ``sum w``."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.unit / self.s1

    q = _in_units("q1", 1, 1)

    @property
    def ypy(self) -> FloatArray:
        return self.q

    yppy = _in_units("q2", 1, 2)


@dataclass(frozen=True)
class WeightedSums(QSums):
    """The projection quantities for ``X = 1``, from scaled sums of weights and residuals.

    Adds ``s2 = sum u²``, ``s3 = sum u³`` and ``q3 = sum u³ r² - (sum u² r)² /
    s1`` (``r = rho - rho_w``) to :class:`QSums`; ``tr P = (s1 - s2/s1)/m``,
    ``tr PP = (s2 - 2 s3/s1 + (s2/s1)²)/m²``, ``y'PPPy = s² q3 / m³``.
    """

    s2: FloatArray
    s3: FloatArray
    q3: FloatArray
    #: ``sum u^j`` over every study but one of largest weight (``u = 1``), j = 1, 2, 3
    rest: tuple[FloatArray, FloatArray, FloatArray]

    ypppy_scaled = _alias("q3")

    @property
    def trace_p_scaled(self) -> FloatArray:
        """``s1 - s2/s1 = (2 R1 + R1² - R2) / s1``: no cancellation when one weight dominates."""
        r1, r2, _ = self.rest
        return (2.0 * r1 + (r1 * r1 - r2)) / self.s1

    @property
    def trace_pp_scaled(self) -> FloatArray:
        """``s2 - 2 s3/s1 + (s2/s1)²``, expanded about the largest weight (all terms >= 0)."""
        r1, r2, r3 = self.rest
        top = r1 * r1 + (3.0 * r2 - 2.0 * r3) + 2.0 * r1 * (r2 - r3) + r2 * (r1 * r1 + r2)
        return top / (self.s1 * self.s1)

    sum_w2_scaled = _alias("s2")

    sum_w2 = _in_units("s2", 0, 2)

    sum_w3 = _in_units("s3", 0, 3)

    ypppy = _in_units("q3", 1, 3)

    trace_p = _in_units("trace_p_scaled", 0, 1)

    trace_pp = _in_units("trace_pp_scaled", 0, 2)

    @property
    def logdet_xtwx(self) -> FloatArray:
        return np.log(self.s1) - np.log(self.unit)


def _relative_weights(batch: Batch, tau2: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``m = min v + tau²`` per row and ``u = m / (v + tau²)`` (0 where absent)."""
    standard = batch.standardised
    unit = standard.min_v + tau2
    u = unit[:, None] / (batch.v + tau2[:, None])
    return unit, u if standard.full else np.where(batch.mask, u, 0.0)


def weighted_sums(batch: Batch, tau2: FloatArray) -> WeightedSums:
    """:func:`projection` for ``X = 1`` at ``w_i = 1/(v_i + tau²)``, as scaled sums."""
    standard = batch.standardised
    unit, u = _relative_weights(batch, tau2)
    rho = standard.rho
    s1 = u.sum(axis=1)
    rho_mean = (u * rho).sum(axis=1) / s1
    # the residual is formed twice rather than kept: fewer live arrays, faster
    ur = u * (rho - rho_mean[:, None])
    u2 = u * u
    u2r = ur * u
    s2 = u2.sum(axis=1)
    s3 = (u2 * u).sum(axis=1)
    return WeightedSums(
        unit=unit,
        exponent=standard.exponent,
        centre=standard.centre,
        rho_mean=rho_mean,
        s1=s1,
        q1=(ur * (rho - rho_mean[:, None])).sum(axis=1),
        q2=(ur * ur).sum(axis=1),
        s2=s2,
        s3=s3,
        q3=(u2r * ur).sum(axis=1) - u2r.sum(axis=1) ** 2 / s1,
        rest=_rest(u, s1, s2, s3, standard.wide),
    )


def _rest(
    u: FloatArray, s1: FloatArray, s2: FloatArray, s3: FloatArray, wide: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Sums of ``u, u², u³`` over all studies but one with ``u = 1`` (the largest weight).

    ``s - 1`` is exact enough unless the other weights are tiny beside the
    largest; a batch whose variances span more than :data:`WIDE_VARIANCES`
    sums the others directly (two more passes over the weights).
    """
    if not wide:
        return s1 - 1.0, s2 - 1.0, s3 - 1.0
    others = np.where(u < 1.0, u, 0.0)
    ties = (u == 1.0).sum(axis=1) - 1.0  # further studies of the smallest variance
    o2 = others * others
    return (
        others.sum(axis=1) + ties,
        o2.sum(axis=1) + ties,
        (o2 * others).sum(axis=1) + ties,
    )


def q_sums(batch: Batch, tau2: FloatArray) -> QSums:
    """The generalised Q statistic at tau² and minus its derivative, for ``X = 1``."""
    standard = batch.standardised
    unit, u = _relative_weights(batch, tau2)
    rho = standard.rho
    s1 = u.sum(axis=1)
    rho_mean = (u * rho).sum(axis=1) / s1
    ur = u * (rho - rho_mean[:, None])
    return QSums(
        unit=unit,
        exponent=standard.exponent,
        centre=standard.centre,
        rho_mean=rho_mean,
        s1=s1,
        q1=(ur * (rho - rho_mean[:, None])).sum(axis=1),
        q2=(ur * ur).sum(axis=1),
    )


#: A meta-regression's weighted fit keeps its digits while ``tr P`` (in scaled
#: form) is at least this share of ``sum u``: below it, a few studies carry
#: nearly all the weight and each alone fixes a coefficient (leverage 1), so
#: ``tr P = sum u (1 - h)`` is a difference of nearly equal numbers and the
#: weighted least squares are ill-conditioned by the inverse of this ratio.
PRECISE_TRACE = 1e-8


@dataclass(frozen=True)
class Fit(ScaledSums):
    """Weighted least squares for any X at relative weights ``u = m w``, in scaled form.

    With the design rescaled (:class:`~srma.stats.batch.ScaledDesign`: ``rho``,
    ``X~``) and ``A~ = (X~'UX~)^-1``: ``beta~ = A~ X~'U rho``, ``r = rho -
    X~ beta~``, ``q1 = sum u r²``, ``q2 = sum u² r²``, ``q3 = sum u³ r² -
    (X~'U²r)' A~ (X~'U²r)``, ``tr P = (s1 - tr(A~ X~'U²X~)) / m``, ``tr PP =
    (s2 - 2 tr(A~ X~'U³X~) + tr((A~ X~'U²X~)²)) / m²`` (``s_j = sum u^j``): the
    same scaled quantities as :class:`WeightedSums`, so the estimating
    equations serve both.  ``A = (X'WX)^-1 = m D^-1 A~ D^-1`` with ``D =
    diag(2**f)``.  ``precise`` is False where :data:`PRECISE_TRACE` fails:
    there the sums are not to be trusted.
    """

    design: ScaledDesign
    coefficients: FloatArray  # beta~ (batch, p)
    inverse_scaled: FloatArray  # A~ (batch, p, p)
    u: FloatArray  # (batch, k)
    s1: FloatArray
    s2: FloatArray
    q1: FloatArray
    q2: FloatArray
    q3: FloatArray
    trace_p_scaled: FloatArray
    trace_pp_scaled: FloatArray
    logdet_scaled: FloatArray  # log det X~'UX~
    trace_kept: NDArray[np.bool_]

    ypy_scaled = _alias("q1")
    yppy_scaled = _alias("q2")
    ypppy_scaled = _alias("q3")
    sum_w_scaled = _alias("s1")
    sum_w2_scaled = _alias("s2")

    ypy = _in_units("q1", 1, 1)
    yppy = _in_units("q2", 1, 2)
    ypppy = _in_units("q3", 1, 3)
    trace_p = _in_units("trace_p_scaled", 0, 1)
    trace_pp = _in_units("trace_pp_scaled", 0, 2)
    sum_w = _in_units("s1", 0, 1)
    sum_w2 = _in_units("s2", 0, 2)

    @property
    def precise(self) -> NDArray[np.bool_]:
        return self.trace_kept

    @property
    def beta(self) -> FloatArray:
        """The coefficients in the data's units (batch, p)."""
        return self.design.coefficients(self.coefficients)

    @property
    def weights(self) -> FloatArray:
        """``w_i = 1/(v_i + tau²)`` (0 where absent)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self.u / self.unit[:, None]

    def covariance(self, factor: FloatArray) -> FloatArray:
        """``factor D^-1 A~ D^-1`` (batch, p, p): ``Var(beta)`` is ``covariance(m)``."""
        exponent = self.design.column_exponent
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            scaled = self.inverse_scaled * factor[:, None, None]
            return np.ldexp(scaled, -(exponent[:, :, None] + exponent[:, None, :]))

    def standard_errors(self, factor: FloatArray) -> FloatArray:
        """``sqrt(diag(covariance(factor)))`` without forming the covariance (no overflow)."""
        diagonal = np.diagonal(self.inverse_scaled, axis1=1, axis2=2)
        with np.errstate(over="ignore", invalid="ignore"):
            root = np.sqrt(factor)[:, None] * np.sqrt(diagonal)
            return np.ldexp(root, -self.design.column_exponent)

    @property
    def inverse(self) -> FloatArray:
        """``A = (X'WX)^-1`` in the data's units (may overflow where Var(beta) is not a double)."""
        return self.covariance(self.unit)

    @property
    def logdet_xtwx(self) -> FloatArray:
        """``log det X'WX = log det X~'UX~ + 2 sum f log 2 - p log m``."""
        p = self.coefficients.shape[1]
        column = 2.0 * np.log(2.0) * self.design.column_exponent.sum(axis=1)
        return self.logdet_scaled + column - p * np.log(self.unit)


def _safe_inverse(matrices: FloatArray) -> FloatArray:
    """Inverses of a batch of symmetric positive semi-definite matrices (``X'WX``); NaN for
    one that is singular in doubles.

    For such a matrix the singular values are the eigenvalues' absolute values, so the
    symmetric eigenvalue routine (about 2.5 times faster than the SVD on 2 x 2 blocks)
    gives the condition test.
    """
    magnitudes = np.abs(np.linalg.eigvalsh(matrices))
    largest = magnitudes.max(axis=1)
    singular = ~(magnitudes.min(axis=1) > largest * (matrices.shape[1] * np.finfo(float).eps))
    if not singular.any():
        return np.linalg.inv(matrices)
    eye = np.eye(matrices.shape[1])
    inverse = np.linalg.inv(np.where(singular[:, None, None], eye, matrices))
    inverse[singular] = np.nan
    return inverse


def weighted_fit(batch: RegressionBatch, tau2: FloatArray) -> Fit:
    """:func:`projection` for any X: weighted least squares at ``w_i = 1/(v_i + tau²)``."""
    unit = np.where(batch.mask, batch.v, np.inf).min(axis=1) + tau2
    unit = np.where(np.isfinite(unit), unit, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = np.where(batch.mask, unit[:, None] / (batch.v + tau2[:, None]), 0.0)
    return _scaled_fit(batch, u, unit)


def fit_at_weights(batch: RegressionBatch, w: FloatArray) -> Fit:
    """Weighted least squares and the projection quantities at given weights ``w``.

    The weights are used relative to the largest, ``u = w / max w`` (``m = 1 / max w``).
    """
    w = np.where(batch.mask, w, 0.0)
    largest = w.max(axis=1)
    largest = np.where(largest > 0, largest, 1.0)
    return _scaled_fit(batch, w / largest[:, None], 1.0 / largest)


def _scaled_fit(batch: RegressionBatch, u: FloatArray, unit: FloatArray) -> Fit:
    """:class:`Fit` at relative weights ``u`` (in [0, 1]) and unit ``m``."""
    design = batch.scaled
    X, rho = design.X, design.effects.rho
    xtux = _gram(X, u)
    inverse = _safe_inverse(xtux)
    beta = _times_vector(inverse, _transposed_times(X, u * rho))
    residuals = np.where(batch.mask, rho - _times_vector(X, beta), 0.0)
    ur = u * residuals
    u2 = u * u
    xtu2x = _gram(X, u2)
    xtu3x = _gram(X, u2 * u)
    a_xtu2x = inverse @ xtu2x
    xtu2r = _transposed_times(X, u * ur)
    s1 = u.sum(axis=1)
    trace_p = s1 - np.trace(a_xtu2x, axis1=1, axis2=2)
    with np.errstate(invalid="ignore"):
        kept = trace_p > PRECISE_TRACE * s1
    return Fit(
        unit=unit,
        exponent=design.effects.exponent,
        design=design,
        coefficients=beta,
        inverse_scaled=inverse,
        u=u,
        s1=s1,
        s2=u2.sum(axis=1),
        q1=(ur * residuals).sum(axis=1),
        q2=(ur * ur).sum(axis=1),
        q3=(u * ur * ur).sum(axis=1) - (xtu2r * _times_vector(inverse, xtu2r)).sum(axis=1),
        trace_p_scaled=trace_p,
        trace_pp_scaled=(
            u2.sum(axis=1)
            - 2.0 * np.trace(inverse @ xtu3x, axis1=1, axis2=2)
            + np.einsum("bij,bji->b", a_xtu2x, a_xtu2x)
        ),
        logdet_scaled=np.linalg.slogdet(xtux)[1],
        trace_kept=kept,
    )


def projection(batch: AnyBatch, tau2: FloatArray) -> WeightedSums | Fit:
    """The projection quantities at tau²: cheap sums for ``X = 1``, linear algebra otherwise."""
    if isinstance(batch, RegressionBatch):
        return weighted_fit(batch, tau2)
    return weighted_sums(batch, tau2)


def _moment_estimate(
    batch: AnyBatch, a: FloatArray, trace_pv: FloatArray | None = None
) -> FloatArray:
    """``(y'P_a y - tr(P_a V)) / tr P_a`` for the projection at weights ``a`` (not truncated).

    ``P_a = A - A X (X'AX)^-1 X'A`` with ``A = diag(a)``; its diagonal is
    ``a_i - a_i² x_i'(X'AX)^-1 x_i`` (``a_i - a_i² / sum a`` for X = 1).  For
    X = 1 the weights are taken relative to the largest, ``alpha = a / max a``
    (the factor cancels), and the effects standardised, ``y = c + s rho``:
    ``tau² = (s² sum alpha (rho - rho_alpha)² - tr(P_alpha V)) / tr P_alpha``.
    ``trace_pv``, where known (DL's ``m (k - p)``), replaces the sum: with
    variances 1e300 apart, ``alpha_i v_i`` underflows to 0 instead of ``m``.
    """
    if isinstance(batch, RegressionBatch):
        # the same with alpha = a / max a on the rescaled design (Fit): the diagonal of
        # P_alpha is alpha_i - alpha_i² x~_i' A~ x~_i
        fit = fit_at_weights(batch, a)
        X = batch.scaled.X
        leverage = (np.matmul(X, fit.inverse_scaled) * X).sum(axis=2)
        alpha = fit.u
        if trace_pv is None:
            trace_pv = ((alpha - alpha * alpha * leverage) * batch.v).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ypy = np.ldexp(fit.q1, 2 * fit.exponent)
            return np.where(fit.precise, (ypy - trace_pv) / fit.trace_p_scaled, np.nan)
    standard = batch.standardised
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        alpha = a / a.max(axis=1)[:, None]
        sum_a = alpha.sum(axis=1)
        r = standard.rho - ((alpha * standard.rho).sum(axis=1) / sum_a)[:, None]
        a2 = alpha * alpha
        # s1 - s2/s1 about the largest weight (see WeightedSums.trace_p_scaled)
        others = np.where(alpha < 1.0, alpha, 0.0)
        ties = (alpha == 1.0).sum(axis=1) - 1.0
        r1, r2 = others.sum(axis=1) + ties, (others * others).sum(axis=1) + ties
        trace_p = (2.0 * r1 + (r1 * r1 - r2)) / sum_a
        if trace_pv is None:
            trace_pv = (alpha * batch.v).sum(axis=1) - (a2 * batch.v).sum(axis=1) / sum_a
        ypy = np.ldexp((alpha * r * r).sum(axis=1), 2 * standard.exponent)
        return (ypy - trace_pv) / trace_p


def _unweighted_residual_ss(batch: AnyBatch) -> FloatArray:
    """``sum (y_i - ybar)²`` about the unweighted mean ``ybar`` (whatever X is)."""
    standard = batch.standardised
    rho_bar = standard.rho.sum(axis=1) / batch.k
    spread = masked_sum((standard.rho - rho_bar[:, None]) ** 2, batch.mask)
    with np.errstate(over="ignore"):
        return np.ldexp(spread, 2 * standard.exponent)


# --- likelihoods -------------------------------------------------------------------


def restricted_loglik(batch: AnyBatch, tau2: FloatArray) -> FloatArray:
    """Restricted log-likelihood up to a constant (Harville 1977; Viechtbauer 2005).

    ``-1/2 [sum log(v_i + tau²) + log det X'WX + y'Py]``.
    """
    sums = projection(batch, tau2)
    log_variance = masked_sum(np.log(batch.v + tau2[:, None]), batch.mask)
    return -0.5 * (log_variance + sums.logdet_xtwx + sums.ypy)


def profile_loglik(batch: AnyBatch, tau2: FloatArray) -> FloatArray:
    """Log-likelihood at the ML coefficients, up to a constant.

    ``-1/2 [sum log(v_i + tau²) + y'Py]``.
    """
    sums = projection(batch, tau2)
    log_variance = masked_sum(np.log(batch.v + tau2[:, None]), batch.mask)
    return -0.5 * (log_variance + sums.ypy)


# --- closed-form estimators --------------------------------------------------------


def _closed_form(tau2: FloatArray) -> Tau2Estimate:
    """A closed-form estimate truncated at 0; converged wherever it is a number.

    ``-inf`` (a negative numerator over a trace that underflowed to 0, one study
    carrying all the weight) is truncated to 0 like any negative estimate.
    """
    n = tau2.shape[0]
    return Tau2Estimate(
        tau2=np.maximum(tau2, 0.0),
        converged=np.isfinite(tau2) | (tau2 == -np.inf),
        iterations=np.zeros(n, dtype=np.int64),
    )


def common_effect(batch: AnyBatch) -> Tau2Estimate:
    """The common-effect (``EE``) model: tau² = 0."""
    return _closed_form(np.zeros(batch.y.shape[0]))


def generalised_q_moments(batch: AnyBatch, weights: FloatArray) -> Tau2Estimate:
    """The generalised Q (method of moments) estimator with weights ``a_i``.

    ``E[y'P_a y] = tr(P_a V) + tau² tr P_a`` gives
    ``tau² = max(0, (y'P_a y - tr(P_a V)) / tr P_a)`` (DerSimonian & Kacker
    2007, Contemp Clin Trials 28:105-114; metafor's ``method="GENQ"`` with
    ``weights``).  ``a = 1/v`` is DerSimonian-Laird's estimator and ``a = 1``
    Hedges'.  ``weights`` is shaped like ``batch.y`` (ignored where absent).
    """
    a = np.where(batch.mask, np.asarray(weights, dtype=np.float64), 0.0)
    return _closed_form(_moment_estimate(batch, a))


def dersimonian_laird(batch: AnyBatch) -> Tau2Estimate:
    """DerSimonian & Laird (1986): generalised Q moments at ``a_i = 1/v_i``.

    ``tr(P_a V) = k - p`` there, so ``tau² = max(0, (y'Py - (k - p)) / tr P)`` at tau² = 0.
    The weights ``min v / v_i`` are used (the same estimator, no overflow), with
    ``tr(P_a V) = min v (k - p)`` exactly.
    """
    min_v = batch.standardised.min_v
    a = np.where(batch.mask, min_v[:, None] / batch.v, 0.0)
    return _closed_form(_moment_estimate(batch, a, trace_pv=min_v * (batch.k - batch.p)))


def hedges(batch: AnyBatch) -> Tau2Estimate:
    """Hedges (1983): generalised Q moments at ``a_i = 1`` (the OLS projection).

    ``tau² = max(0, (RSS - tr(P_OLS V)) / (k - p))``; for ``X = 1``
    ``sum (y_i - ybar)²/(k-1) - mean(v_i)``.
    """
    return generalised_q_moments(batch, np.ones_like(batch.v))  # keeps the column-major layout


def hunter_schmidt(batch: AnyBatch) -> Tau2Estimate:
    """Hunter & Schmidt (2004): ``tau² = max(0, (y'Py - k) / sum w_i)`` at ``w_i = 1/v_i``.

    For X = 1 in scaled form, ``(s² q1 - k m) / s1`` (:class:`QSums`).
    """
    sums = projection(batch, np.zeros(batch.y.shape[0]))
    with np.errstate(over="ignore", invalid="ignore"):
        ypy_m = np.ldexp(sums.q1, 2 * sums.exponent)  # y'Py m
        tau2 = (ypy_m - batch.k * sums.unit) / sums.s1
    return _closed_form(np.where(sums.precise, tau2, np.nan))


def sidik_jonkman(batch: AnyBatch) -> Tau2Estimate:
    """Sidik & Jonkman (2005): one step from ``tau0² = sum (y_i - ybar)²/k``.

    ``tau² = tau0² y'Py / (k - p)`` with ``w_i = 1/(v_i + tau0²)``.
    """
    tau0 = _unweighted_residual_ss(batch) / batch.k
    sums = projection(batch, tau0)
    # tau0 y'Py = (tau0 / m) s² q1 with tau0 / m <= 1
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = tau0 / sums.unit
        tau2 = np.ldexp(ratio * sums.q1, 2 * sums.exponent) / (batch.k - batch.p)
    return _closed_form(np.where(sums.precise, tau2, np.nan))


# --- estimating equations and their solver ----------------------------------------

#: ``equation(sums, rows) -> (f, step)``: a value with the sign of the
#: estimating equation (positive below its root) and Newton's step ``f / -f'``
#: in tau² (see :func:`srma.stats.roots.solve_decreasing`).
Equation = Callable[[Any, NDArray[np.intp]], tuple[FloatArray, FloatArray]]


def _newton(sums: Any, value: FloatArray, slope: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``(value, m value / slope)``: the scaled equation and Newton's step in tau²."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        value = np.where(sums.precise, value, np.nan)  # no evidence either way
        return value, sums.unit * (value / slope)


def reml_equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """REML score ``y'PPy - tr P`` and Newton's step against ``2 y'PPPy - tr PP``.

    Uses ``dP/dtau² = -PP`` (Harville 1977), so Newton's step is exact and
    converges quadratically near the root, unlike Fisher scoring.  In scaled
    form (:class:`QSums`) the score is ``(a q2 - b trP') g / m²`` and minus its
    derivative ``(2 a q3 - b trPP') g / m³``: the sign and the step need no
    number larger than k.
    """
    a, b = sums.a, sums.b
    return _newton(
        sums,
        a * sums.yppy_scaled - b * sums.trace_p_scaled,
        2.0 * a * sums.ypppy_scaled - b * sums.trace_pp_scaled,
    )


def ml_equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """ML score ``y'PPy - sum w_i`` and Newton's step against ``2 y'PPPy - sum w_i²``."""
    a, b = sums.a, sums.b
    return _newton(
        sums,
        a * sums.yppy_scaled - b * sums.sum_w_scaled,
        2.0 * a * sums.ypppy_scaled - b * sums.sum_w2_scaled,
    )


def generalised_q_equation(target: FloatArray) -> Equation:
    """``y'Py - target`` and Newton's step against ``y'PPy`` (``d y'Py / dtau² = -y'PPy``).

    Scaled: ``(a q1 - b target) g / m`` and ``a q2 g / m²``.
    """

    def equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        a = sums.a
        return _newton(sums, a * sums.ypy_scaled - sums.b * target[rows], a * sums.yppy_scaled)

    return equation


def q_equation_upper(batch: Batch, target: FloatArray) -> FloatArray:
    """A tau² at which ``Q(tau²) <= target`` for sure: ``S / target - min v``.

    ``Q(tau²) = sum w (y - mu_w)² <= sum w (y - ybar)² <= S / (min v + tau²)``
    with ``S = sum (y - ybar)²``, since the weighted mean minimises the
    weighted sum of squares.  Infinite where ``S / target`` is beyond the largest
    double (``Q(tau²)`` tends to ``S / tau²``, so the root is beyond it too).
    """
    min_v = batch.standardised.min_v
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        bound = _unweighted_residual_ss(batch) / target - min_v
        return np.where(np.isnan(bound), 0.0, np.maximum(bound, 0.0)) * (1 + 1e-12) + 1e-300


#: Grid of multiples of the bracket's upper end on which a likelihood that is
#: decreasing at tau² = 0 is searched for an interior maximum.
BOUNDARY_GRID = 4.0 ** -np.arange(12, -1, -1)


def solve_tau2_equation(
    batch: Any,
    equation: Equation,
    start: FloatArray,
    *,
    evaluate: Callable[[Any, FloatArray], Any] | None = None,
    loglik: Callable[[Any, FloatArray], FloatArray] | None = None,
    upper: FloatArray | None = None,
) -> Tau2Estimate:
    """Solve an estimating equation in tau², positive below its root, on every row.

    ``evaluate(batch, tau2)`` computes what ``equation`` needs (default:
    :func:`projection`); ``batch`` is a :class:`Batch`, a
    :class:`RegressionBatch` or any object with ``y``, ``v``, ``mask``, ``k``
    and ``rows()``.  Rows where the equation is
    already <= 0 at tau² = 0 get tau² = 0 (the estimate truncated at the
    boundary) unless ``loglik`` is given: a likelihood can fall at 0 and still
    peak higher further on, so those rows are scanned on a grid, and an
    interior root replaces 0 when its ``loglik`` is larger.  ``upper``, when
    given, is a tau² known to make the equation <= 0 (no search for one).
    """
    evaluate = evaluate or projection
    n = batch.y.shape[0]
    all_rows = np.arange(n)
    at_zero, _ = equation(evaluate(batch, np.zeros(n)), all_rows)
    tau2 = np.zeros(n)
    converged = np.ones(n, dtype=bool)
    iterations = np.zeros(n, dtype=np.int64)
    known_upper = upper is not None
    guess, tolerance = _bracket_scale(batch)
    upper = upper if known_upper else guess

    def solve(rows: NDArray[np.intp], lower: FloatArray, first: FloatArray) -> None:
        sub = batch.rows(rows)

        def score(x: FloatArray, index: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
            part = sub if index.size == rows.size else sub.rows(index)  # no copy while all run
            return equation(evaluate(part, x), rows[index])

        solution = solve_decreasing(
            score,
            start=first,
            upper=np.maximum(upper[rows], 2.0 * lower),
            lower=lower,
            absolute_tolerance=tolerance[rows],
            expand=not known_upper,
        )
        tau2[rows] = solution.root
        converged[rows] = solution.converged
        iterations[rows] = solution.iterations

    # an equation that is not a number at 0 tells nothing: not converged (never a silent 0)
    undefined = ~np.isfinite(at_zero)
    tau2[undefined] = np.nan
    converged[undefined] = False
    interior = np.flatnonzero(at_zero > 0)
    if interior.size:
        solve(interior, np.zeros(interior.size), start[interior])
    boundary = np.flatnonzero(at_zero <= 0)
    if loglik is None or boundary.size == 0:
        return Tau2Estimate(tau2, converged, iterations)

    sub = batch if boundary.size == n else batch.rows(boundary)
    grid = upper[boundary, None] * BOUNDARY_GRID[None, :]
    rising = np.column_stack(
        [equation(evaluate(sub, grid[:, j]), boundary)[0] > 0 for j in range(grid.shape[1])]
    )
    candidates = np.flatnonzero(rising.any(axis=1))
    if candidates.size == 0:
        return Tau2Estimate(tau2, converged, iterations)
    rows = boundary[candidates]
    lower = grid[candidates, rising[candidates].argmax(axis=1)]
    solve(rows, lower, lower)
    peak = batch.rows(rows)
    better = loglik(peak, tau2[rows]) > loglik(peak, np.zeros(rows.size))
    tau2[rows[~better]] = 0.0
    converged[rows[~better]] = True
    return Tau2Estimate(tau2, converged, iterations)


def _bracket_scale(batch: Any) -> tuple[FloatArray, FloatArray]:
    """A first upper end for the bracket and an absolute tolerance, per row.

    The tolerance is ``1e-14`` times the harmonic mean of the variances (the
    variance of the common-effect mean times k), computed as ``k min v / sum
    (min v / v_i)``: one huge variance must not make the tolerance huge (a
    study of variance 1e300 weighs nothing and must not end the search).
    """
    k = batch.k
    spread = _unweighted_residual_ss(batch) / np.maximum(k - 1, 1)
    max_v = np.where(batch.mask, batch.v, 0.0).max(axis=1)
    min_v = np.where(batch.mask, batch.v, np.inf).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        relative = masked_sum(min_v[:, None] / batch.v, batch.mask)
        harmonic = min_v * (k / relative)
    return 2.0 * spread + max_v, 1e-14 * harmonic


# --- iterative estimators ----------------------------------------------------------


def restricted_maximum_likelihood(batch: AnyBatch) -> Tau2Estimate:
    """REML: root of ``y'PPy = tr P`` (Viechtbauer 2005, eq. 12), started at Hedges'."""
    return solve_tau2_equation(batch, reml_equation, hedges(batch).tau2, loglik=restricted_loglik)


def maximum_likelihood(batch: AnyBatch) -> Tau2Estimate:
    """ML: root of ``y'PPy = sum w_i`` (Viechtbauer 2005, eq. 10), started at Hedges'."""
    return solve_tau2_equation(batch, ml_equation, hedges(batch).tau2, loglik=profile_loglik)


def paule_mandel(batch: AnyBatch) -> Tau2Estimate:
    """Paule & Mandel (1982): root of the generalised ``y'Py = k - p``, started at DL's.

    The empirical Bayes estimator (Morris 1983; Berkey et al. 1995) solves
    ``k/(k-p) y'Py = k``, the same equation, so ``EB`` shares this code.
    """
    target = (batch.k - batch.p).astype(np.float64)
    return solve_tau2_equation(batch, generalised_q_equation(target), dersimonian_laird(batch).tau2)


def median_unbiased_paule_mandel(batch: AnyBatch) -> Tau2Estimate:
    """Median-unbiased Paule-Mandel: root of ``y'Py = chi²_{k-p, 0.5}``, started at DL's.

    Viechtbauer (2021), metafor's ``method="PMM"``.
    """
    target = quantile_per_df(chi2.ppf, 0.5, batch.k - batch.p)
    return solve_tau2_equation(batch, generalised_q_equation(target), dersimonian_laird(batch).tau2)


TAU2_ESTIMATORS: dict[str, Callable[[AnyBatch], Tau2Estimate]] = {
    "EE": common_effect,
    "DL": dersimonian_laird,
    "HE": hedges,
    "HS": hunter_schmidt,
    "SJ": sidik_jonkman,
    "ML": maximum_likelihood,
    "REML": restricted_maximum_likelihood,
    "PM": paule_mandel,
    "EB": paule_mandel,
    "PMM": median_unbiased_paule_mandel,
}


def estimate_tau2(batch: AnyBatch, method: str) -> Tau2Estimate:
    """tau² by the named method (``EE`` or a key of :data:`srma.vocabulary.TAU2_METHODS`).

    Works for the intercept-only model (a :class:`Batch`) and for a
    meta-regression (a :class:`RegressionBatch`) alike.  An unknown method is
    a programming error (user input is checked in :mod:`srma.analysis.validation`).
    """
    try:
        estimator = TAU2_ESTIMATORS[method]
    except KeyError:
        raise ValueError(
            f"unknown tau² method {method!r}; expected one of {', '.join(TAU2_ESTIMATORS)}"
        ) from None
    return estimator(batch)


# --- the standard error of tau² and its profile-likelihood interval ----------------


def _design_of(batch: AnyBatch) -> FloatArray:
    """The design matrix ``(batch, k, p)``: ``X`` of a regression, a column of ones for
    ``X = 1`` (zero rows where a study is absent)."""
    if isinstance(batch, RegressionBatch):
        return np.where(batch.mask[:, :, None], batch.X, 0.0)
    return batch.mask[:, :, None].astype(np.float64)


def _gram(X: FloatArray, d: FloatArray) -> FloatArray:
    """``X' diag(d) X`` per row, shaped ``(batch, p, p)``.

    As one batched matrix product of ``(X * d)'`` and ``X``: numpy's three-operand
    ``einsum`` loops over every index without BLAS and took 5 times as long.
    """
    return np.matmul((X * d[:, :, None]).transpose(0, 2, 1), X)


def _times_vector(matrices: FloatArray, vectors: FloatArray) -> FloatArray:
    """``M v`` per row: ``(batch, m, n)`` times ``(batch, n)`` gives ``(batch, m)``."""
    return np.matmul(matrices, vectors[:, :, None])[:, :, 0]


def _transposed_times(X: FloatArray, vectors: FloatArray) -> FloatArray:
    """``X' v`` per row: ``(batch, k, p)`` and ``(batch, k)`` give ``(batch, p)``."""
    return np.matmul(vectors[:, None, :], X)[:, 0, :]


@dataclass(frozen=True)
class ProjectionTraces:
    """Traces of ``P_a = A - A X (X'AX)^-1 X'A`` (``A = diag(a)``) with diagonal matrices.

    With ``M = (X'AX)^-1`` and ``G(d) = X' diag(d) X``, for diagonal ``D``, ``D1``, ``D2``:

    * ``tr(P D) = sum a d - tr(M G(a² d))``,
    * ``tr(P D1 P D2) = sum a² d1 d2 - 2 tr(M G(a³ d1 d2)) + tr(M G(a² d1) M G(a² d2))``,

    so that nothing ``k x k`` is formed.
    """

    a: FloatArray
    X: FloatArray
    inverse: FloatArray

    @classmethod
    def at(cls, batch: AnyBatch, a: FloatArray) -> ProjectionTraces:
        a = np.where(batch.mask, a, 0.0)
        X = _design_of(batch)
        return cls(a=a, X=X, inverse=_safe_inverse(_gram(X, a)))

    def trace(self, d: FloatArray) -> FloatArray:
        """``tr(P_a D)``."""
        a, M = self.a, self.inverse
        return (a * d).sum(axis=1) - np.einsum("bij,bji->b", M, _gram(self.X, a * a * d))

    def trace_product(self, d1: FloatArray, d2: FloatArray) -> FloatArray:
        """``tr(P_a D1 P_a D2)``."""
        a, M, X = self.a, self.inverse, self.X
        first = M @ _gram(X, a * a * d1)
        second = M @ _gram(X, a * a * d2)
        return (
            (a * a * d1 * d2).sum(axis=1)
            - 2.0 * np.einsum("bij,bji->b", M, _gram(X, a**3 * d1 * d2))
            + np.einsum("bij,bji->b", first, second)
        )


def _moment_variance(traces: ProjectionTraces, v: FloatArray, tau2: FloatArray) -> FloatArray:
    """``Var(y'P_a y) = 2 tr(P_a V P_a V) + 4 tau² tr(P_a V P_a) + 2 tau⁴ tr(P_a P_a)``.

    The variance of a quadratic form in normal variables with covariance ``V +
    tau² I`` (Searle, Casella & McCulloch 1992, *Variance Components*, thm
    S.4): ``Var(y'Py) = 2 tr((P(V + tau² I))²)`` for ``P X = 0``.
    """
    ones = np.ones_like(v)
    return (
        2.0 * traces.trace_product(v, v)
        + 4.0 * tau2 * traces.trace_product(v, ones)
        + 2.0 * tau2**2 * traces.trace_product(ones, ones)
    )


def tau2_standard_error(
    batch: AnyBatch, tau2: FloatArray, method: str, weights: FloatArray | None = None
) -> FloatArray:
    """The standard error of tau² as metafor's ``rma.uni`` gives it (``se.tau2``), per row.

    ``tau2`` is the estimate (truncated at 0); ``P_a`` is the projection at
    weights ``a`` (:class:`ProjectionTraces`), ``k`` studies, ``p`` coefficients:

    * moment estimators ``(y'P_a y - tr(P_a V)) / c`` have ``Var(y'P_a y) / c²``
      (:func:`_moment_variance`, at the estimate): ``DL`` with ``a = 1/v`` and
      ``c = tr P``, where ``tr(PV) = tr(PVPV) = k - p`` and ``tr(PVP) = tr P``, so
      ``Var(Q) = 2 (k - p) + 4 tau² tr P + 2 tau⁴ tr(PP)`` (the variance of Cochran's
      Q under the random-effects model, Biggerstaff & Tweedie 1997, Stat Med
      16:753-768); ``HS`` the same over ``c = sum 1/v``; ``HE`` with ``a = 1``,
      ``c = k - p``; ``GENQ`` with the given ``weights``, ``c = tr P_a``; ``SJ``
      with ``a = 1/(v + tau0²)`` and ``c = (k - p)/tau0²``;
    * ``ML``: ``sqrt(2 / sum w²)``, ``REML``: ``sqrt(2 / tr(PP))`` (the inverse
      Fisher information; Viechtbauer 2005, J Educ Behav Stat 30:261) at
      ``w = 1/(v + tau²)``;
    * ``PM``, ``EB``, ``PMM``: ``sqrt(2 k² / (k - p)) / sum w`` at ``w = 1/(v + tau²)``,
      as metafor has it;
    * ``EE``: NaN (no tau²).
    """
    k = batch.k.astype(np.float64)
    p = float(batch.p)
    tau2 = np.maximum(np.asarray(tau2, dtype=np.float64), 0.0)
    v = batch.v
    ones = np.ones_like(v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        w = np.where(batch.mask, 1.0 / (v + tau2[:, None]), 0.0)
        if method in ("DL", "HS"):
            traces = ProjectionTraces.at(batch, 1.0 / v)
            trace_p = traces.trace(ones)
            variance = (
                2.0 * (k - p)
                + 4.0 * tau2 * trace_p
                + 2.0 * tau2**2 * traces.trace_product(ones, ones)
            )
            scale = trace_p if method == "DL" else np.where(batch.mask, 1.0 / v, 0.0).sum(axis=1)
            return np.sqrt(variance) / scale
        if method == "HE":
            traces = ProjectionTraces.at(batch, ones)
            variance = (
                2.0 * traces.trace_product(v, v)
                + 4.0 * tau2 * traces.trace(v)
                + 2.0 * tau2**2 * (k - p)
            )
            return np.sqrt(variance) / (k - p)
        if method == "GENQ":
            if weights is None:
                raise ValueError("GENQ needs weights")
            traces = ProjectionTraces.at(batch, np.asarray(weights, dtype=np.float64))
            return np.sqrt(_moment_variance(traces, v, tau2)) / traces.trace(ones)
        if method == "SJ":
            tau0 = _unweighted_residual_ss(batch) / k
            traces = ProjectionTraces.at(batch, 1.0 / (v + tau0[:, None]))
            return tau0 / (k - p) * np.sqrt(_moment_variance(traces, v, tau2))
        if method == "ML":
            return np.sqrt(2.0 / (w * w).sum(axis=1))
        if method == "REML":
            traces = ProjectionTraces.at(batch, w)
            return np.sqrt(2.0 / traces.trace_product(ones, ones))
        if method in ("PM", "EB", "PMM"):
            return np.sqrt(2.0 * k**2 / (k - p)) / w.sum(axis=1)
    if method == "EE":
        return np.full(k.shape, np.nan)
    raise ValueError(f"no standard error of tau² for method {method!r}")


#: The log-likelihood each likelihood estimator maximises, and its derivative's
#: parts: ``d ll / d tau² = (y'PPy - trace) / 2`` with ``trace`` ``tr P`` (REML) or
#: ``sum w`` (ML) (Viechtbauer 2005, eqs. 10 and 12).
LIKELIHOODS: dict[str, tuple[Callable[[AnyBatch, FloatArray], FloatArray], str]] = {
    "REML": (restricted_loglik, "trace_p"),
    "ML": (profile_loglik, "sum_w"),
}


def profile_likelihood_interval(
    batch: AnyBatch, tau2: FloatArray, method: str, level: float
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """Profile-likelihood confidence interval of tau² (metafor's ``confint(type = "PL")``).

    The bounds are where the likelihood-ratio statistic ``2 (ll(tau²_hat) -
    ll(tau²))`` of the ``ML`` or ``REML`` (log-)likelihood, maximised over the
    coefficients, reaches ``chi²_{1, level}`` (Hardy & Thompson 1996, Stat Med
    15:619).  The lower bound is 0 when the statistic at tau² = 0 is below
    that.  Returns ``(lower, upper, converged)``; ``tau2`` is the estimate.
    """
    loglik, trace_name = LIKELIHOODS[method]
    crit = float(chi2.ppf(level, 1))
    tau2 = np.asarray(tau2, dtype=np.float64)
    n = tau2.shape[0]
    peak = loglik(batch, tau2)
    reach, tolerance = _bracket_scale(batch)

    def statistic_parts(x: FloatArray, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        part = batch.rows(rows)
        sums = projection(part, x)
        return 2.0 * (peak[rows] - loglik(part, x)), sums.yppy - getattr(sums, trace_name)

    def above(x: FloatArray, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        ratio, score = statistic_parts(x, rows)  # score = 2 d ll / d tau² < 0 above the peak
        value = crit - ratio
        with np.errstate(divide="ignore", invalid="ignore"):
            return value, value / -score

    def below(x: FloatArray, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        ratio, score = statistic_parts(x, rows)  # score > 0 below the peak
        value = ratio - crit
        with np.errstate(divide="ignore", invalid="ignore"):
            return value, value / score

    all_rows = np.arange(n)
    upper = solve_decreasing(
        above,
        start=2.0 * tau2 + tolerance,
        upper=2.0 * tau2 + reach,
        lower=tau2,
        absolute_tolerance=tolerance,
    )
    lower = np.zeros(n)
    converged = upper.converged.copy()
    at_zero, _ = statistic_parts(np.zeros(n), all_rows)
    interior = np.flatnonzero(at_zero > crit)
    if interior.size:
        solution = solve_decreasing(
            lambda x, rows: below(x, interior[rows]),
            start=0.5 * tau2[interior],
            upper=tau2[interior],
            lower=np.zeros(interior.size),
            absolute_tolerance=tolerance[interior],
            expand=False,
        )
        lower[interior] = solution.root
        converged[interior] &= solution.converged
    return lower, upper.root, converged
