"""The (restricted) log-likelihood of the multilevel model and its analytic gradient.

With ``M = V + sum_t G_t(theta)``, ``W = M^-1``, ``A = (X'WX)^-1``, the GLS
estimate ``beta = A X'Wy``, ``r = y - X beta`` and ``RSS = r'Wr``
(Viechtbauer 2010; Harville 1977, JASA 72:320-338, eqs. 3.1 and 3.4), metafor's
``rma.mv`` maximises

    ML:    ``l = -k/2 log 2pi - 1/2 log|M| - 1/2 RSS``
    REML:  ``l = -(k-p)/2 log 2pi + 1/2 log|X'X| - 1/2 log|M| - 1/2 log|X'WX| - 1/2 RSS``

(the ``1/2 log|X'X|`` term is metafor's ``REMLf = TRUE`` default).  The
gradient (Harville 1977, eq. 4.5) is, for ``dM_j = dM/dtheta_j``,

    ``dl/dtheta_j = -1/2 tr(P dM_j) + 1/2 r'W dM_j W r``

with ``P = W`` (ML) or ``P = W - W X A X'W`` (REML), using ``P y = W r``.  ``M``
is block-diagonal (:mod:`srma.stats.multilevel.layout`), so ``log|M|``,
``tr(W dM_j)``, ``X'WX`` and ``X'W dM_j W X`` are sums over blocks computed with
batched Cholesky factors and inverses of the padded stack; the ``X`` correction
of REML's trace is ``tr(A sum_c X_c'W_c dM_jc W_c X_c)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from srma.errors import InputError
from srma.stats.multilevel.layout import (
    BlockLayout,
    BoolArray,
    build_layout,
    pack_matrix,
    pack_rows,
    pack_vector,
)
from srma.stats.multilevel.terms import CORRELATION, FloatArray, IntArray, RandomTerm

LOG_2PI = float(np.log(2 * np.pi))
METHODS = ("REML", "ML")


@dataclass(frozen=True)
class ParameterLayout:
    """The model's variance parameters ``theta``, in metafor's order and names.

    Intercept terms first (``sigma2_1, sigma2_2, ..``, in the order given), then
    the ``inner | outer`` terms: the first named ``tau2.., rho..``, the second
    ``gamma2.., phi..`` (metafor's ``G`` and ``H`` terms).  ``fixed`` holds the
    value of a fixed parameter and NaN for a free one.
    """

    names: tuple[str, ...]
    kinds: tuple[str, ...]
    slices: tuple[slice, ...]
    fixed: FloatArray
    correlation_lower: FloatArray

    @property
    def n_theta(self) -> int:
        return len(self.names)

    @property
    def fixed_mask(self) -> BoolArray:
        return ~np.isnan(self.fixed)

    @property
    def is_variance(self) -> BoolArray:
        return np.array([kind != CORRELATION for kind in self.kinds], dtype=bool)

    def index(self, name: str) -> int:
        if name not in self.names:
            raise InputError(f"unknown parameter {name!r}: the model has {', '.join(self.names)}")
        return self.names.index(name)


def order_terms(terms: Sequence[RandomTerm]) -> tuple[RandomTerm, ...]:
    """Intercept terms first, then the ``inner | outer`` terms (metafor's order)."""
    intercepts = [t for t in terms if t.kind == "intercept"]
    structs = [t for t in terms if t.kind == "struct"]
    if len(structs) > 2:
        raise InputError("at most two 'inner | outer' random terms are supported (as in metafor)")
    if not terms:
        raise InputError("the model needs at least one random term")
    return (*intercepts, *structs)


def parameter_layout(terms: Sequence[RandomTerm]) -> ParameterLayout:
    """Names, kinds and fixed values of ``theta`` for terms in :func:`order_terms` order."""
    names: list[str] = []
    kinds: list[str] = []
    slices: list[slice] = []
    fixed: list[float] = []
    lower: list[float] = []
    n_struct = 0
    n_intercept = 0
    for term in terms:
        local = term.parameter_names()
        if term.kind == "intercept":
            n_intercept += 1
            global_names = [f"sigma2_{n_intercept}"]
        else:
            n_struct += 1
            rename = (
                {"tau2": "tau2", "rho": "rho"}
                if n_struct == 1
                else {"tau2": "gamma2", "rho": "phi"}
            )
            global_names = [
                rename["tau2"] + name[4:] if name.startswith("tau2") else rename["rho"] + name[3:]
                for name in local
            ]
        slices.append(slice(len(names), len(names) + len(local)))
        names.extend(global_names)
        kinds.extend(term.parameter_kinds())
        fixed.extend(float(term.fixed.get(name, np.nan)) for name in local)
        lower.extend(term.correlation_lower_bound for _ in local)
    return ParameterLayout(
        tuple(names), tuple(kinds), tuple(slices), np.array(fixed), np.array(lower)
    )


@dataclass(frozen=True)
class Evaluation:
    """The likelihood and the GLS fit at a batch of ``theta`` (B rows)."""

    loglik: FloatArray  # (B,), -inf where M is not positive definite
    gradient: FloatArray | None  # (B, n_theta)
    beta: FloatArray  # (B, p)
    vcov: FloatArray  # (B, p, p)
    rss: FloatArray  # (B,)
    logdet_m: FloatArray  # (B,)
    blocks: FloatArray  # (B, n_blocks, m, m): M
    positive_definite: BoolArray  # (B,)
    information: FloatArray | None = None  # (B, n_theta, n_theta): expected information


@dataclass(frozen=True)
class MultilevelProblem:
    """The data of a batch of fits of one model, packed in blocks.

    The data arrays carry a leading batch axis ``Bd``; :meth:`evaluate` takes
    ``theta`` with ``B`` rows where ``Bd`` is 1 (one data set, many ``theta``:
    profiles, finite differences) or ``B``.
    """

    terms: tuple[RandomTerm, ...]
    layout: BlockLayout
    parameters: ParameterLayout
    y: FloatArray  # (Bd, n_blocks, m)
    V: FloatArray  # (Bd, n_blocks, m, m)
    X: FloatArray  # (Bd, n_blocks, m, p)
    valid: BoolArray  # (Bd, n_blocks, m)
    k: IntArray  # (Bd,)
    logdet_xtx: FloatArray  # (Bd,)

    @property
    def batch(self) -> int:
        return self.y.shape[0]

    @property
    def p(self) -> int:
        return self.X.shape[-1]

    @property
    def observed_mask(self) -> BoolArray:
        """(Bd, k): which observations each fit has."""
        present = np.zeros((self.batch, self.layout.k), dtype=bool)
        rows = self.layout.index[self.layout.valid]
        present[:, rows] = self.valid[:, self.layout.valid]
        return present

    def row(self, b: int) -> MultilevelProblem:
        """The problem of fit ``b`` alone (a batch of one)."""
        return self.rows(np.array([b]))

    def rows(self, take: IntArray) -> MultilevelProblem:
        """The problem of the fits ``take`` (indices into the batch)."""
        return MultilevelProblem(
            self.terms, self.layout, self.parameters, self.y[take], self.V[take],
            self.X[take], self.valid[take], self.k[take], self.logdet_xtx[take],
        )  # fmt: skip

    def _pair_valid(self) -> BoolArray:
        return self.valid[:, :, :, None] & self.valid[:, :, None, :]

    def evaluate(
        self, theta: FloatArray, method: str, *, gradient: bool = True, information: bool = False
    ) -> Evaluation:
        """Log-likelihood (``method`` "REML" or "ML"), its gradient and the GLS fit at ``theta``.

        ``information=True`` adds the expected (Fisher) information of ``theta``.
        """
        theta = np.atleast_2d(np.asarray(theta, dtype=float))
        n_fits = theta.shape[0]
        pair_valid = self._pair_valid()
        M = np.broadcast_to(self.V, (n_fits, *self.V.shape[1:])).copy()
        derivative_maps: list[tuple[FloatArray, BoolArray, IntArray]] = []
        for term, where, same, pairs in zip(
            self.terms, self.parameters.slices, self.layout.same_outer, self.layout.pair_index,
            strict=True,
        ):  # fmt: skip
            S, dS = term.covariance(theta[:, where])
            n = S.shape[-1]
            active = same[None] & pair_valid
            M += np.where(active, S.reshape(n_fits, n * n)[:, pairs], 0.0)
            if gradient or information:
                derivative_maps.append((dS.reshape(n_fits, dS.shape[1], n * n), active, pairs))
        L, positive_definite = _cholesky(M)
        logdet_m = 2 * np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(axis=(1, 2))
        W = _inverse_from_cholesky(L)
        y = np.broadcast_to(self.y, (n_fits, *self.y.shape[1:]))
        X = np.broadcast_to(self.X, (n_fits, *self.X.shape[1:]))
        WX = W @ X
        Wy = np.einsum("bcmn,bcn->bcm", W, y)
        xtwx = np.einsum("bcmp,bcmq->bpq", X, WX)
        xtwy = np.einsum("bcmp,bcm->bp", X, Wy)
        A = np.linalg.inv(xtwx)
        beta = np.einsum("bpq,bq->bp", A, xtwy)
        Wr = Wy - np.einsum("bcmp,bp->bcm", WX, beta)
        r = y - np.einsum("bcmp,bp->bcm", X, beta)
        rss = np.einsum("bcm,bcm->b", r, Wr)
        k = np.broadcast_to(self.k, (n_fits,))
        reml = _check_method(method) == "REML"
        if reml:
            _, logdet_xtwx = np.linalg.slogdet(xtwx)
            loglik = (
                -0.5 * (k - self.p) * LOG_2PI
                + 0.5 * np.broadcast_to(self.logdet_xtx, (n_fits,))
                - 0.5 * logdet_m
                - 0.5 * logdet_xtwx
                - 0.5 * rss
            )
        else:
            loglik = -0.5 * k * LOG_2PI - 0.5 * logdet_m - 0.5 * rss
        loglik = np.where(positive_definite, loglik, -np.inf)
        grad = None
        info = None
        if gradient or information:
            columns = []
            W_dM: list[FloatArray] = []  # W dM_j per block
            corrections: list[FloatArray] = []  # X'W dM_j W X
            dM_WX: list[FloatArray] = []  # dM_j W X per block
            for dS_flat, active, pairs in derivative_maps:
                for local in range(dS_flat.shape[1]):
                    dM = np.where(active, dS_flat[:, local][:, pairs], 0.0)
                    trace = np.einsum("bcmn,bcmn->b", W, dM)
                    if reml:
                        correction = np.einsum("bcmp,bcmn,bcnq->bpq", WX, dM, WX)
                        trace = trace - np.einsum("bpq,bpq->b", A, correction)
                        corrections.append(correction)
                    quadratic = np.einsum("bcm,bcmn,bcn->b", Wr, dM, Wr)
                    columns.append(-0.5 * trace + 0.5 * quadratic)
                    if information:
                        W_dM.append(W @ dM)
                        dM_WX.append(dM @ WX)
            grad = np.stack(columns, axis=1)
            if information:
                info = _expected_information(W, A, W_dM, corrections, dM_WX, reml)
        return Evaluation(loglik, grad, beta, A, rss, logdet_m, M, positive_definite, info)


def _expected_information(
    W: FloatArray,
    A: FloatArray,
    W_dM: list[FloatArray],
    corrections: list[FloatArray],
    dM_WX: list[FloatArray],
    reml: bool,
) -> FloatArray:
    """``I_jk = 1/2 tr(P dM_j P dM_k)`` (Harville 1977, eq. 4.6), block by block.

    With ``P = W - W X A X'W`` (REML) this is ``1/2 [tr(W dM_j W dM_k)
    - 2 tr(A X'W dM_j W dM_k W X) + tr(A F_j A F_k)]``, ``F_j = X'W dM_j W X``;
    ML keeps the first term.
    """
    n_theta = len(W_dM)
    info = np.empty((W.shape[0], n_theta, n_theta))
    for j in range(n_theta):  # over parameter pairs, not observations
        for k in range(j + 1):
            value = np.einsum("bcmn,bcnm->b", W_dM[j], W_dM[k])
            if reml:
                cross = np.einsum("bcmp,bcmn,bcnq->bpq", dM_WX[j], W, dM_WX[k])
                AF_j = A @ corrections[j]
                AF_k = A @ corrections[k]
                value = (
                    value
                    - 2 * np.einsum("bpq,bqp->b", A, cross)
                    + np.einsum("bpq,bqp->b", AF_j, AF_k)
                )
            info[:, j, k] = info[:, k, j] = 0.5 * value
    return info


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    return method


def _cholesky(M: FloatArray) -> tuple[FloatArray, BoolArray]:
    """Batched Cholesky factors; fits whose ``M`` is not positive definite get ``I`` and False."""
    try:
        return np.linalg.cholesky(M), np.ones(M.shape[0], dtype=bool)
    except np.linalg.LinAlgError:
        smallest = np.linalg.eigvalsh(M)[..., 0]
        positive_definite = np.all(smallest > 0, axis=1)
        M = np.where(positive_definite[:, None, None, None], M, np.eye(M.shape[-1]))
        try:
            return np.linalg.cholesky(M), positive_definite
        except np.linalg.LinAlgError:  # eigenvalues > 0 yet numerically indefinite
            return np.broadcast_to(np.eye(M.shape[-1]), M.shape).copy(), np.zeros(
                M.shape[0], dtype=bool
            )


def _inverse_from_cholesky(L: FloatArray) -> FloatArray:
    """``M^-1 = L^-T L^-1`` for stacked lower-triangular factors."""
    L_inv = np.linalg.inv(L)
    return np.swapaxes(L_inv, -1, -2) @ L_inv


# --- building a problem from arrays ------------------------------------------------


def _as_batch(values: np.ndarray, ndim: int, name: str) -> FloatArray:
    array = np.asarray(values, dtype=float)
    if array.ndim == ndim - 1:
        array = array[None]
    if array.ndim != ndim:
        raise InputError(f"{name} must have {ndim - 1} or {ndim} dimensions, not {array.ndim}")
    return array


def build_problem(
    y: np.ndarray,
    V: np.ndarray,
    X: np.ndarray,
    terms: Sequence[RandomTerm],
    mask: np.ndarray | None = None,
) -> MultilevelProblem:
    """Validate and pack ``y`` (k,)/(B,k), ``V`` (k,)/(k,k)/(B,k)/(B,k,k), ``X`` (k,p)/(B,k,p)."""
    y_b = _as_batch(y, 2, "y")
    n_batch, k = y_b.shape
    V_arr = np.asarray(V, dtype=float)
    if V_arr.ndim == 1 or (
        V_arr.ndim == 2 and V_arr.shape == (n_batch, k) and V_arr.shape != (k, k)
    ):
        V_b = np.zeros((*np.atleast_2d(V_arr).shape, k))
        V_b[..., np.arange(k), np.arange(k)] = np.atleast_2d(V_arr)
    else:
        V_b = _as_batch(V_arr, 3, "V")
    X_b = _as_batch(X, 3, "X")
    if V_b.shape[1:] != (k, k) or V_b.shape[0] not in (1, n_batch):
        raise InputError(f"V must be (k, k) = ({k}, {k}) per fit, got {V_arr.shape}")
    if X_b.shape[1] != k or X_b.shape[0] not in (1, n_batch):
        raise InputError(f"X must have k = {k} rows per fit, got {np.asarray(X).shape}")
    V_b = np.broadcast_to(V_b, (n_batch, k, k))
    X_b = np.broadcast_to(X_b, (n_batch, k, X_b.shape[2]))
    keep = np.ones((n_batch, k), dtype=bool) if mask is None else np.asarray(mask, dtype=bool)
    keep = np.broadcast_to(keep, (n_batch, k))
    for term in terms:
        if np.asarray(term.outer).shape != (k,):
            raise InputError(f"each random term needs {k} codes (one per observation)")
    present = keep[:, :, None] & keep[:, None, :]
    values_ok = (
        np.where(keep, np.isfinite(y_b), True).all()
        and np.where(present, np.isfinite(V_b), True).all()
    )
    if not values_ok or not np.where(keep[:, :, None], np.isfinite(X_b), True).all():
        raise InputError("y, V and X must be finite for every observation that is present")
    if not np.allclose(V_b, np.swapaxes(V_b, 1, 2)):
        raise InputError("V must be symmetric")
    if np.any(keep & (np.diagonal(V_b, axis1=1, axis2=2) <= 0)):
        raise InputError("every sampling variance (the diagonal of V) must be > 0")
    ordered = order_terms(terms)
    layout = build_layout(np.any((V_b != 0) & present, axis=0), ordered)
    valid = layout.valid[None] & pack_vector(layout, keep.astype(float)).astype(bool)
    pair_valid = valid[:, :, :, None] & valid[:, :, None, :]
    V_packed = np.where(pair_valid, pack_matrix(layout, V_b), np.eye(layout.m_max))
    y_packed = np.where(valid, pack_vector(layout, y_b), 0.0)
    X_packed = np.where(valid[..., None], pack_rows(layout, X_b), 0.0)
    n_obs = keep.sum(axis=1)
    p = X_b.shape[2]
    xtx = np.einsum("bcmp,bcmq->bpq", X_packed, X_packed)
    sign, logdet_xtx = np.linalg.slogdet(xtx)
    if np.any(sign <= 0) or np.any(n_obs <= p):
        raise InputError(f"X must have full column rank p = {p} with more than p observations")
    if np.any(np.linalg.eigvalsh(V_packed)[..., 0] <= 0):
        raise InputError("V must be positive definite")
    return MultilevelProblem(
        ordered, layout, parameter_layout(ordered), y_packed, V_packed, X_packed,
        valid, n_obs.astype(np.int64), logdet_xtx,
    )  # fmt: skip
