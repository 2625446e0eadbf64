"""Random terms of the multilevel/multivariate model and the covariance they add.

The model (metafor's ``rma.mv``; Viechtbauer 2010, J Stat Softw 36(3);
Konstantopoulos 2011, Res Synth Methods 2:61-76; Berkey et al. 1998, Stat Med
17:2537-2550) is

    ``y = X beta + sum_t u_t + e``,  ``e ~ N(0, V)`` with ``V`` known,

so that the marginal covariance is ``M(theta) = V + sum_t G_t(theta_t)``.  Two
kinds of term:

* ``intercept`` (``~ 1 | g``): ``G_ij = sigma2 [g_i = g_j]``.  A nested model
  ``~ 1 | study/effect`` is two intercept terms (codes of study, codes of
  study:effect); crossed terms are simply more intercept terms.
* ``struct`` (``~ inner | outer``): ``G_ij = [outer_i = outer_j] S(inner_i,
  inner_j)`` with ``S`` an ``n_inner x n_inner`` matrix of the structure

  ======  =====================================================  ===========================
  CS      ``tau2 (rho + (1 - rho) [a = b])``                     ``tau2, rho``
  HCS     ``sqrt(tau2_a tau2_b) (rho + (1 - rho) [a = b])``      ``tau2_1.., rho``
  UN      ``sqrt(tau2_a tau2_b) rho_ab`` (``rho_aa = 1``)        ``tau2_1.., rho_12, rho_13..``
  AR      ``tau2 rho^|t_a - t_b|``                               ``tau2, rho``
  HAR     ``sqrt(tau2_a tau2_b) rho^|t_a - t_b|``                ``tau2_1.., rho``
  ID      ``tau2 [a = b]``                                       ``tau2``
  DIAG    ``tau2_a [a = b]``                                     ``tau2_1..``
  ======  =====================================================  ===========================

  ``t`` are the inner levels' positions (``times``); the default ``0..n_inner-1``
  is metafor's ``AR``/``HAR`` (equally spaced levels); other positions give its
  continuous-time ``CAR`` correlation.  UN correlations are listed in metafor's
  order (the lower triangle column by column: ``rho_12, rho_13, .., rho_23, ..``).

Each term evaluates ``S`` and its derivatives ``dS/dtheta`` for a batch of
parameter vectors; :mod:`srma.stats.multilevel.layout` spreads them over the
observations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

from srma.errors import InputError

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The structures of an ``inner | outer`` term.
STRUCTS = ("CS", "HCS", "UN", "AR", "HAR", "ID", "DIAG")

#: Kind of a parameter: a variance (>= 0) or a correlation (in [-1, 1]).
VARIANCE = "variance"
CORRELATION = "correlation"


def _indexed(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}_{a + 1}" for a in range(n))


def correlation_pairs(n_inner: int) -> list[tuple[int, int]]:
    """The pairs ``(a, b)``, ``a < b``, in metafor's order (``lower.tri``, column-major)."""
    return [(a, b) for a in range(n_inner) for b in range(a + 1, n_inner)]


def _pair_name(a: int, b: int, n_inner: int) -> str:
    separator = "" if n_inner < 10 else "_"
    return f"rho_{a + 1}{separator}{b + 1}"


@dataclass(frozen=True, eq=False)  # arrays: identity, not element-wise, equality
class RandomTerm:
    """One random term of the model, with the observations coded as integers.

    ``outer`` (k,) codes the grouping factor (for ``kind="intercept"`` the
    factor ``g`` of ``~ 1 | g``); ``inner`` (k,) codes ``0..n_inner-1`` of the
    inner factor of a ``struct`` term.  ``fixed`` maps local parameter names
    (:meth:`parameter_names`) to values held fixed, as metafor's ``sigma2=``,
    ``tau2=`` and ``rho=`` arguments do (e.g. ``{"rho": 0.5}`` for a network
    meta-analysis with ``~ comparison | study`` and struct CS).
    """

    kind: str
    outer: np.ndarray
    inner: np.ndarray | None = None
    n_inner: int = 0
    struct: str = ""
    times: np.ndarray | None = None
    fixed: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.kind not in ("intercept", "struct"):
            raise InputError(f"random term kind must be 'intercept' or 'struct', not {self.kind!r}")
        outer = np.asarray(self.outer)
        if outer.ndim != 1 or not np.issubdtype(outer.dtype, np.integer):
            raise InputError("random term 'outer' must be a 1-d array of integer codes")
        if self.kind == "struct":
            if self.struct not in STRUCTS:
                raise InputError(f"struct must be one of {', '.join(STRUCTS)}, not {self.struct!r}")
            if self.inner is None:
                raise InputError(f"struct term {self.struct} needs 'inner' codes")
            inner = np.asarray(self.inner)
            if inner.shape != outer.shape or not np.issubdtype(inner.dtype, np.integer):
                raise InputError("random term 'inner' must be integer codes, one per observation")
            if self.n_inner < 1 or inner.min() < 0 or inner.max() >= self.n_inner:
                raise InputError(f"inner codes must lie in 0..n_inner-1 (n_inner = {self.n_inner})")
            if self.times is not None:
                times = np.asarray(self.times, dtype=float)
                if times.shape != (self.n_inner,) or not np.all(np.isfinite(times)):
                    raise InputError(f"'times' must be {self.n_inner} finite positions")
        names = self.parameter_names()
        kinds = dict(zip(names, self.parameter_kinds(), strict=True))
        for name, value in self.fixed.items():
            if name not in kinds:
                raise InputError(
                    f"cannot fix {name!r}: the term's parameters are {', '.join(names)}"
                )
            bad_variance = kinds[name] == VARIANCE and not value >= 0
            bad_correlation = kinds[name] == CORRELATION and not -1 <= value <= 1
            if bad_variance or bad_correlation or not np.isfinite(value):
                expected = ">= 0" if kinds[name] == VARIANCE else "in [-1, 1]"
                raise InputError(f"fixed {name} = {value} must be {expected}")

    # --- parameters -------------------------------------------------------------

    @property
    def _levels(self) -> int:
        return 1 if self.kind == "intercept" else self.n_inner

    def parameter_names(self) -> tuple[str, ...]:
        """Local names: ``("sigma2",)``, ``("tau2", "rho")``, ``("tau2_1", "tau2_2", "rho_12")``."""
        if self.kind == "intercept":
            return ("sigma2",)
        n = self.n_inner
        return {
            "CS": ("tau2", "rho"),
            "HCS": (*_indexed("tau2", n), "rho"),
            "UN": (*_indexed("tau2", n), *(_pair_name(a, b, n) for a, b in correlation_pairs(n))),
            "AR": ("tau2", "rho"),
            "HAR": (*_indexed("tau2", n), "rho"),
            "ID": ("tau2",),
            "DIAG": _indexed("tau2", n),
        }[self.struct]

    def parameter_kinds(self) -> tuple[str, ...]:
        """:data:`VARIANCE` or :data:`CORRELATION` per parameter."""
        return tuple(
            CORRELATION if name.startswith("rho") else VARIANCE for name in self.parameter_names()
        )

    @property
    def positions(self) -> FloatArray:
        """The inner levels' positions ``t`` (AR, HAR); ``0..n_inner-1`` unless given."""
        if self.times is None:
            return np.arange(self._levels, dtype=float)
        return np.asarray(self.times, dtype=float)

    @property
    def correlation_lower_bound(self) -> float:
        """-1, or 0 for AR/HAR on non-integer position differences (``rho^d``, d not whole)."""
        if self.struct in ("AR", "HAR"):
            lags = np.abs(np.subtract.outer(self.positions, self.positions))
            if not np.allclose(lags, np.round(lags)):
                return 0.0
        return -1.0

    # --- the covariance S of the inner levels ------------------------------------

    def covariance(self, params: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``S`` (B, n, n) and ``dS/dtheta`` (B, n_params, n, n) for parameters (B, n_params).

        Derivatives of ``sqrt(tau2_a tau2_b)`` at ``tau2_a = 0`` are infinite;
        they are evaluated at ``tau2_a = 1e-300`` (the optimiser works on the
        bounded variance itself and needs only the sign there).
        """
        params = np.asarray(params, dtype=float)
        batch = params.shape[0]
        n = self._levels
        eye = np.eye(n)
        if self.kind == "intercept" or self.struct == "ID":
            S = params[:, 0, None, None] * eye
            return S, np.broadcast_to(eye, (batch, 1, n, n)).copy()
        if self.struct == "DIAG":
            S = params[:, :, None] * eye
            dS = np.zeros((batch, n, n, n))
            dS[:, np.arange(n), np.arange(n), np.arange(n)] = 1.0
            return S, dS
        if self.struct in ("CS", "AR"):
            tau2, rho = params[:, 0], params[:, 1]
            R, dR = self._correlation(rho)
            dS = np.stack([R, tau2[:, None, None] * dR], axis=1)
            return tau2[:, None, None] * R, dS
        # heteroscedastic: S = D R D with D = diag(sqrt(tau2))
        tau2 = params[:, :n]
        sd = np.sqrt(tau2)
        outer_sd = sd[:, :, None] * sd[:, None, :]
        if self.struct == "UN":
            R, dR_list = self._unstructured(params[:, n:])
        else:
            R, dR = self._correlation(params[:, n])
            dR_list = dR[:, None]
        S = outer_sd * R
        # d(sd_a sd_b)/d tau2_l = ([a = l] sd_b + [b = l] sd_a) / (2 sd_l)
        safe_sd = np.maximum(sd, 1e-150)
        d_outer = (
            eye[None, :, :, None] * sd[:, None, None, :]
            + eye[None, :, None, :] * sd[:, None, :, None]
        ) / (2 * safe_sd[:, :, None, None])
        d_outer[:, np.arange(n), np.arange(n), np.arange(n)] = 1.0  # d tau2_l / d tau2_l
        dS_var = d_outer * R[:, None]
        dS_cor = outer_sd[:, None] * dR_list
        return S, np.concatenate([dS_var, dS_cor], axis=1)

    def _correlation(self, rho: FloatArray) -> tuple[FloatArray, FloatArray]:
        """One-parameter correlation matrix R(rho) (B, n, n) and dR/drho."""
        n = self._levels
        eye = np.eye(n)
        if self.struct in ("CS", "HCS"):
            R = rho[:, None, None] * (1 - eye) + eye
            return R, np.broadcast_to(1 - eye, R.shape).copy()
        lag = np.abs(np.subtract.outer(self.positions, self.positions))
        r = rho[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            R = np.where(lag == 0, 1.0, np.power(r, lag))
            exponent = np.where(lag == 0, 0.0, lag - 1)
            # d rho^d / d rho is infinite at rho = 0 for d < 1: evaluated at rho = 1e-12 there
            base = np.where(exponent < 0, np.maximum(r, 1e-12), r)
            dR = np.where(lag == 0, 0.0, lag * np.power(base, exponent))
        return R, dR

    def _unstructured(self, rhos: FloatArray) -> tuple[FloatArray, FloatArray]:
        """UN correlation matrix (B, n, n) and its derivatives (B, n_pairs, n, n)."""
        n = self._levels
        pairs = correlation_pairs(n)
        batch = rhos.shape[0]
        R = np.broadcast_to(np.eye(n), (batch, n, n)).copy()
        dR = np.zeros((batch, len(pairs), n, n))
        for index, (a, b) in enumerate(pairs):  # over parameters, not observations
            R[:, a, b] = R[:, b, a] = rhos[:, index]
            dR[:, index, a, b] = dR[:, index, b, a] = 1.0
        return R, dR
