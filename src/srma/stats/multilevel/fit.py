"""Fitting the multilevel model by (restricted) maximum likelihood, as metafor's ``rma.mv``.

Two stages.  First Fisher scoring (:func:`fisher_scoring`) runs on the whole
batch at once: every evaluation of the likelihood, its analytic gradient and
the expected information is vectorised over the fits and the blocks of ``M``
(:mod:`srma.stats.multilevel.likelihood`); a fit is done when its scaled
gradient is below 1e-10.  The fits it does not finish in the interior (a
variance heading for 0, a singular information) go one at a time (a Python
loop: scipy's optimisers take one parameter vector) to L-BFGS-B
(:func:`maximise`) on transformed free parameters: a variance as ``s z`` with
``z >= 0`` (a box bound, so a variance can end exactly at 0, where metafor
reports ~0), a correlation as ``tanh(w)`` with ``|w| <= 10`` (or ``w >= 0``
where the structure needs ``rho >= 0``), fed the analytic gradient; a few
Newton steps on the interior parameters (Hessian by central differences of
the analytic gradient, evaluated as one batch) then bring the gradient to
~1e-10.

Start values are metafor's: every variance ``total / n_variances`` with
``total = max(0.001 n_variances, var(y - X b_FE) - 1 / mean(1 / diag V))``
(``b_FE`` the GLS fit with ``V`` alone), every correlation 0.5.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.stats import chi2

from srma.errors import InputError
from srma.stats.multilevel.layout import BlockLayout, BoolArray, unpack_matrix
from srma.stats.multilevel.likelihood import (
    LOG_2PI,
    MultilevelProblem,
    build_problem,
)
from srma.stats.multilevel.terms import FloatArray, IntArray, RandomTerm

#: Bound on the atanh of a correlation (|rho| <= tanh(10) = 1 - 4e-9).
ATANH_BOUND = 10.0
#: metafor sets a variance at or below this to 0 (``.Machine$double.eps * 10``).
ZERO_VARIANCE = 10 * np.finfo(float).eps


@dataclass(frozen=True)
class MultilevelFit:
    """A batch of fitted multilevel models (arrays with a leading batch axis B).

    ``theta`` (B, n_theta) holds the variance parameters in natural units,
    named by ``theta_names`` (``sigma2_1.., tau2.., rho.., gamma2.., phi..``
    as metafor names them); ``fixed_mask`` marks the ones held fixed.
    ``loglik``, ``deviance``, ``aic``, ``bic``, ``aicc`` are metafor's fit
    statistics for ``method`` (``n_parameters`` = p + free variance
    parameters; REML's BIC uses ``log(k - p)``, its deviance is ``-2 l``, ML's
    is ``-2 (l - l_saturated)``).  ``qe`` is ``r'V^-1 r`` with ``r`` the
    residuals of the GLS fit with ``V`` alone, on ``qe_df = k - p`` df.
    """

    beta: FloatArray
    vcov: FloatArray
    theta: FloatArray
    theta_names: tuple[str, ...]
    fixed_mask: BoolArray
    loglik: FloatArray
    deviance: FloatArray
    aic: FloatArray
    bic: FloatArray
    aicc: FloatArray
    qe: FloatArray
    qe_df: IntArray
    qe_pvalue: FloatArray
    converged: BoolArray
    iterations: IntArray
    message: tuple[str, ...]
    method: str
    gradient: FloatArray
    n_parameters: int
    k: IntArray
    layout: BlockLayout
    blocks: FloatArray
    mask: BoolArray  # (B, k): the observations present in each fit

    @property
    def se(self) -> FloatArray:
        """Standard errors of ``beta`` (B, p)."""
        return np.sqrt(np.diagonal(self.vcov, axis1=1, axis2=2))

    def parameter(self, name: str) -> FloatArray:
        """One variance parameter across the batch, by name (e.g. ``"sigma2_1"``)."""
        if name not in self.theta_names:
            raise InputError(
                f"unknown parameter {name!r}: the model has {', '.join(self.theta_names)}"
            )
        return self.theta[:, self.theta_names.index(name)]

    def marginal_covariance(self, b: int = 0) -> np.ndarray:
        """The dense (k, k) marginal covariance ``M`` at the estimate of fit ``b``.

        Rows and columns of observations masked out of fit ``b`` are 0.
        """
        present = self.mask[b]
        return unpack_matrix(self.layout, self.blocks[b]) * np.outer(present, present)


# --- transforms between theta and the optimiser's vector ---------------------------------


@dataclass(frozen=True)
class _Transform:
    """``theta = s z`` (variances) or ``tanh(w)`` (correlations) on the free parameters."""

    free: BoolArray
    is_variance: BoolArray
    scale: FloatArray
    base: FloatArray  # theta with the fixed values in place

    def theta(self, z: FloatArray) -> FloatArray:
        theta = self.base.copy()
        var = self.is_variance[self.free]
        values = np.where(var, self.scale[self.free] * z, np.tanh(z))
        theta[self.free] = values
        return theta

    def z(self, theta: FloatArray) -> FloatArray:
        var = self.is_variance[self.free]
        free = theta[self.free]
        clipped = np.clip(free, -np.tanh(ATANH_BOUND), np.tanh(ATANH_BOUND))
        return np.where(var, free / self.scale[self.free], np.arctanh(np.where(var, 0.0, clipped)))

    def chain(self, theta: FloatArray, gradient: FloatArray) -> FloatArray:
        var = self.is_variance[self.free]
        factor = np.where(var, self.scale[self.free], 1 - theta[self.free] ** 2)
        return gradient[self.free] * factor


def metafor_start(problem: MultilevelProblem) -> FloatArray:
    """metafor's start values (B, n_theta), fixed values in place."""
    params = problem.parameters
    fe = problem.evaluate(np.zeros((problem.batch, params.n_theta)), "ML", gradient=False)
    X = problem.X
    fitted = np.einsum("bcmp,bp->bcm", X, fe.beta)
    residual = problem.y - fitted
    valid = problem.valid
    k = problem.k
    mean = np.where(valid, residual, 0).sum(axis=(1, 2)) / k
    variance = np.where(valid, (residual - mean[:, None, None]) ** 2, 0).sum(axis=(1, 2)) / (k - 1)
    diag_v = np.diagonal(problem.V, axis1=2, axis2=3)
    mean_precision = np.where(valid, 1 / diag_v, 0).sum(axis=(1, 2)) / k
    n_var = int(params.is_variance.sum())
    total = np.maximum(0.001 * n_var, variance - 1 / mean_precision)
    start = np.where(params.is_variance, (total / n_var)[:, None], 0.5)
    return np.where(params.fixed_mask, params.fixed, start)


def fit_multilevel(
    y: np.ndarray,
    V: np.ndarray,
    X: np.ndarray,
    terms: Sequence[RandomTerm],
    *,
    method: str = "REML",
    start: np.ndarray | None = None,
    mask: np.ndarray | None = None,
) -> MultilevelFit:
    """Fit ``y = X beta + sum_t u_t + e`` by REML or ML (metafor's ``rma.mv``).

    ``y`` (k,) or (B, k); ``V`` (k,) sampling variances, (k, k), (B, k) or
    (B, k, k); ``X`` (k, p) or (B, k, p); ``mask`` (k,) or (B, k), True where an
    observation is present; ``start`` (n_theta,) or (B, n_theta) in natural
    units (entries of fixed parameters are ignored).  Returns a
    :class:`MultilevelFit` with a leading batch axis.
    """
    problem = build_problem(y, V, X, terms, mask)
    return fit_problem(problem, method=method, start=start)


def fit_problem(
    problem: MultilevelProblem, *, method: str = "REML", start: np.ndarray | None = None
) -> MultilevelFit:
    """:func:`fit_multilevel` on a packed problem."""
    params = problem.parameters
    starts = metafor_start(problem)
    if start is not None:
        given = np.broadcast_to(np.asarray(start, dtype=float), starts.shape)
        starts = np.where(params.fixed_mask, starts, given)
    theta, iterations, converged = fisher_scoring(problem, starts, method)
    messages = [""] * problem.batch
    for b in np.flatnonzero(~converged):  # scipy optimises one vector at a time
        theta[b], steps, converged[b], messages[b] = maximise(problem.row(b), starts[b], method)
        iterations[b] += steps
    return _summarise(problem, theta, method, iterations, converged, tuple(messages))


def fisher_scoring(
    problem: MultilevelProblem, start: FloatArray, method: str, max_iterations: int = 200
) -> tuple[FloatArray, IntArray, BoolArray]:
    """Fisher scoring ``theta += I^-1 g`` for the whole batch at once (Harville 1977, sec. 6).

    Each step is halved (per fit) until the likelihood does not fall and the
    parameters stay valid; a fit converges when every free gradient entry,
    scaled by its parameter, is below 1e-10.  Returns ``theta``, the
    iterations and which fits converged in the interior: the others (a
    variance at 0, a singular information) are left to :func:`maximise`.
    """
    params = problem.parameters
    free = ~params.fixed_mask
    theta = np.array(start, dtype=float)
    iterations = np.zeros(problem.batch, dtype=np.int64)
    converged = np.zeros(problem.batch, dtype=bool)
    if not free.any():  # every variance parameter fixed: nothing to estimate
        return theta, iterations, ~converged
    current = problem.evaluate(theta, method, information=True)
    active = np.flatnonzero(current.positive_definite)
    loglik, gradient, info = current.loglik, current.gradient, current.information
    lower = np.where(params.is_variance, 0.0, np.maximum(params.correlation_lower, -1.0))
    for _ in range(max_iterations):
        size = np.where(params.is_variance, np.maximum(np.abs(theta[active]), 1e-8), 1.0)
        small = np.max(np.abs(gradient[active] * size)[:, free], axis=1) < 1e-10
        converged[active[small]] = True
        active = active[~small]
        if active.size == 0:
            break
        info_free = info[active][:, free][:, :, free]
        solvable = np.linalg.eigvalsh(info_free)[:, 0] > 0
        active, info_free = active[solvable], info_free[solvable]
        delta = np.zeros((active.size, params.n_theta))
        delta[:, free] = np.linalg.solve(info_free, gradient[active][:, free, None])[..., 0]
        step = np.ones(active.size)
        accepted = np.zeros(active.size, dtype=bool)
        for _ in range(30):  # step halving, for the fits not yet accepted
            pending = np.flatnonzero(~accepted)
            candidate = theta[active[pending]] + step[pending, None] * delta[pending]
            inside = np.all(candidate >= lower, axis=1) & np.all(
                params.is_variance | (candidate < 1), axis=1
            )
            if inside.any():
                rows = active[pending[inside]]
                trial = problem.rows(rows).evaluate(candidate[inside], method, information=True)
                better = trial.positive_definite & (
                    trial.loglik >= loglik[rows] - 1e-12 * np.abs(loglik[rows])
                )
                accepted[pending[inside][better]] = True
                good = rows[better]
                theta[good] = candidate[inside][better]
                loglik[good] = trial.loglik[better]
                gradient[good] = trial.gradient[better]
                info[good] = trial.information[better]
            step[pending] /= 2
            if accepted.all():
                break
        iterations[active] += 1
        active = active[accepted]
    return theta, iterations, converged


def maximise(
    problem: MultilevelProblem,
    start: FloatArray,
    method: str,
    *,
    free: BoolArray | None = None,
) -> tuple[FloatArray, int, bool, str]:
    """Maximise the (restricted) likelihood of a one-fit problem over the ``free`` parameters.

    Returns ``theta``, the iterations, whether it converged and why not.
    ``free`` defaults to the parameters not fixed in the terms; the others stay
    at their ``start`` value.
    """
    params = problem.parameters
    free = ~params.fixed_mask if free is None else free
    start = np.where(params.is_variance, np.maximum(start, 0.0), start)
    if not free.any():
        return start, 0, True, ""
    scale = np.where(params.is_variance, np.maximum(np.abs(start), 1e-3), 1.0)
    transform = _Transform(free, params.is_variance, scale, start.copy())

    def objective(z: FloatArray) -> tuple[float, FloatArray]:
        theta = transform.theta(z)
        evaluation = problem.evaluate(theta[None], method)
        if not evaluation.positive_definite[0]:
            return 1e300, np.zeros_like(z)
        return -evaluation.loglik[0], -transform.chain(theta, evaluation.gradient[0])

    var = params.is_variance[free]
    lower_corr = np.where(params.correlation_lower[free] >= 0, 0.0, -ATANH_BOUND)
    bounds = [
        (0.0, None) if v else (lo, ATANH_BOUND) for v, lo in zip(var, lower_corr, strict=True)
    ]
    result = minimize(
        objective, transform.z(start), jac=True, method="L-BFGS-B", bounds=bounds,
        options={"maxiter": 10000, "maxfun": 20000, "ftol": 1e-15, "gtol": 1e-12, "maxcor": 20},
    )  # fmt: skip
    theta = transform.theta(result.x)
    theta, newton_steps, gradient_ok = _newton_polish(problem, theta, method, free)
    theta = np.where(params.is_variance & (theta <= ZERO_VARIANCE), 0.0, theta)
    converged = bool(gradient_ok or result.success)
    message = "" if converged else str(result.message)
    return theta, int(result.nit) + newton_steps, converged, message


def _interior(
    problem: MultilevelProblem, theta: FloatArray, gradient: FloatArray, free: BoolArray
) -> BoolArray:
    """Free parameters not held at a bound (a variance at 0 with the likelihood falling)."""
    params = problem.parameters
    at_zero = params.is_variance & (theta <= ZERO_VARIANCE) & (gradient <= 0)
    at_one = ~params.is_variance & (np.abs(theta) >= np.tanh(ATANH_BOUND) - 1e-12)
    at_corr_zero = (
        ~params.is_variance & (params.correlation_lower >= 0) & (theta <= 0) & (gradient <= 0)
    )
    return free & ~at_zero & ~at_one & ~at_corr_zero


def _newton_polish(
    problem: MultilevelProblem, theta: FloatArray, method: str, free: BoolArray, steps: int = 8
) -> tuple[FloatArray, int, bool]:
    """Newton steps on the interior parameters (Hessian by central differences of the gradient).

    Stops when the largest interior gradient entry, scaled by the parameter, is below 1e-10;
    a step is halved until the likelihood does not fall and the parameters stay valid.
    """
    params = problem.parameters
    current = problem.evaluate(theta[None], method)
    for step in range(steps + 1):
        gradient = current.gradient[0]
        interior = _interior(problem, theta, gradient, free)
        size = np.where(params.is_variance, np.maximum(np.abs(theta), 1e-8), 1.0)
        if not interior.any() or np.max(np.abs(gradient[interior] * size[interior])) < 1e-10:
            return theta, step, True
        if step == steps:
            break
        index = np.flatnonzero(interior)
        h = 1e-5 * size[index]
        shifted = np.repeat(theta[None], 2 * index.size, axis=0)
        shifted[np.arange(index.size), index] += h
        shifted[index.size + np.arange(index.size), index] -= h
        around = problem.evaluate(shifted, method).gradient
        hessian = (around[: index.size, index] - around[index.size :, index]).T / (2 * h)
        hessian = 0.5 * (hessian + hessian.T)
        try:
            delta = np.linalg.solve(hessian, -gradient[index])
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(delta)) or np.any(np.linalg.eigvalsh(hessian) >= 0):
            break
        accepted = False
        for _ in range(30):
            candidate = theta.copy()
            candidate[index] += delta
            valid = np.all(candidate[params.is_variance] >= 0) and np.all(
                np.abs(candidate[~params.is_variance]) < 1
            )
            if valid:
                trial = problem.evaluate(candidate[None], method)
                if trial.positive_definite[0] and trial.loglik[0] >= current.loglik[
                    0
                ] - 1e-12 * abs(current.loglik[0]):
                    theta, current, accepted = candidate, trial, True
                    break
            delta = delta / 2
        if not accepted:
            break
    gradient = current.gradient[0]
    interior = _interior(problem, theta, gradient, free)
    size = np.where(params.is_variance, np.maximum(np.abs(theta), 1e-8), 1.0)
    return (
        theta,
        steps,
        bool(np.max(np.abs(gradient[interior] * size[interior]), initial=0.0) < 1e-6),
    )


def _summarise(
    problem: MultilevelProblem,
    theta: FloatArray,
    method: str,
    iterations: IntArray,
    converged: BoolArray,
    messages: tuple[str, ...],
) -> MultilevelFit:
    """The fit statistics of metafor's ``rma.mv`` at the estimates."""
    params = problem.parameters
    final = problem.evaluate(theta, method)
    zero = np.zeros_like(theta)
    fixed_effect = problem.evaluate(zero, "ML", gradient=False)
    k = problem.k
    p = problem.p
    n_parameters = p + int((~params.fixed_mask).sum())
    loglik = final.loglik
    if method == "REML":
        n_eff = k - p
        deviance = -2 * loglik
    else:
        n_eff = k
        saturated = -0.5 * k * LOG_2PI - 0.5 * fixed_effect.logdet_m
        deviance = -2 * (loglik - saturated)
    aic = -2 * loglik + 2 * n_parameters
    bic = -2 * loglik + n_parameters * np.log(n_eff)
    denominator = np.maximum(n_eff, n_parameters + 2)
    aicc = -2 * loglik + 2 * n_parameters * denominator / (denominator - n_parameters - 1)
    qe = fixed_effect.rss
    qe_df = (k - p).astype(np.int64)
    return MultilevelFit(
        beta=final.beta, vcov=final.vcov, theta=theta, theta_names=params.names,
        fixed_mask=params.fixed_mask, loglik=loglik, deviance=deviance, aic=aic, bic=bic,
        aicc=aicc, qe=qe, qe_df=qe_df, qe_pvalue=chi2.sf(qe, qe_df), converged=converged,
        iterations=iterations, message=messages, method=method, gradient=final.gradient,
        n_parameters=n_parameters, k=k, layout=problem.layout, blocks=final.blocks,
        mask=problem.observed_mask,
    )  # fmt: skip
