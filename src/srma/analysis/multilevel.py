"""``meta_mv()``: multilevel and multivariate meta-analysis (metafor's ``rma.mv``).

The model is ``y = X beta + sum_t u_t + e`` with ``e ~ N(0, V)``, ``V`` the known
sampling covariance (a column of variances or a full matrix), and random terms given
as formulas: ``"~ 1 | study/effect"`` (three-level model: Konstantopoulos 2011, Res
Synth Methods 2:61-76), ``"~ outcome | trial"`` with a covariance structure
(multivariate model: Berkey et al. 1998, Stat Med 17:2537-2550), or several of them.
Estimation is REML or ML (Viechtbauer 2010, J Stat Softw 36(3)), by
:mod:`srma.stats.multilevel`.  This module reads and validates the data, builds the
terms, and reports: coefficients with Wald tests, the variance components with
profile-likelihood intervals, QE, the omnibus test QM, fit statistics, and the
multilevel I² of each level (Cheung 2014, Psychol Methods 19:211-229; metafor FAQ
"I^2 for multilevel and multivariate models").
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats as scipy_stats

from srma.analysis.metareg import Term, check_design, design_matrix
from srma.analysis.multilevel_terms import (
    Grouping,
    RandomFormula,
    check_components,
    check_structure,
    fixed_values,
    grouping,
    missing_cells,
    parse_random,
    require_grouping_columns,
    structures,
)
from srma.analysis.results import optional_float
from srma.analysis.validation import numeric_column, validate_options
from srma.errors import InputError, SrmaWarning
from srma.formatting import format_count, format_number, format_p, format_p_value
from srma.stats.inference import critical_value, two_sided_pvalue
from srma.stats.multilevel import RandomTerm, fit_multilevel, profile_interval

__all__ = [
    "Coefficient",
    "MultilevelResult",
    "OmnibusTest",
    "VarianceComponent",
    "likelihood_ratio_test",
    "meta_mv",
]

#: A sampling covariance matrix given as an array or nested lists.
ArrayLikeMatrix = np.ndarray | Sequence[Sequence[float]]

#: ``~ x - 1``, ``~ 0 + x``, ``~ x + 0``: a model without intercept (R's spelling).
_NO_INTERCEPT = re.compile(r"(-\s*1\b)|(^\s*0\s*\+)|(\+\s*0\s*$)|(^\s*0\s*$)")


@dataclass(frozen=True)
class Coefficient:
    """One fixed effect: its estimate, standard error, Wald test and confidence interval."""

    name: str
    estimate: float
    se: float
    statistic: float
    pvalue: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class VarianceComponent:
    """One variance parameter, named as metafor prints it (``sigma2.1 (district)``).

    ``sqrt`` is the standard deviation (None for a correlation), ``n_levels`` the
    number of levels of the factor it belongs to, ``fixed`` whether it was held fixed;
    ``ci_lower``/``ci_upper`` are the profile-likelihood interval (metafor's
    ``confint``), None where fixed or where a bound could not be bracketed.
    """

    name: str
    parameter: str
    estimate: float
    sqrt: float | None
    n_levels: int
    fixed: bool
    ci_lower: float | None
    ci_upper: float | None


@dataclass(frozen=True)
class OmnibusTest:
    """The Wald test that the moderators' coefficients are all zero (QM).

    Chi-square with ``df`` degrees of freedom under ``test="z"``; under ``test="t"``
    ``statistic`` is ``QM / df`` on an F distribution with ``df`` and ``df2``.
    """

    statistic: float
    df: int
    df2: float | None
    pvalue: float


@dataclass(frozen=True)
class MultilevelResult:
    """A fitted multilevel or multivariate model: settings, data, estimates and tests."""

    random: tuple[str, ...]
    mods: str | None
    method: str
    test: str
    level: float
    struct: tuple[str, ...]
    source: str | None
    labels: tuple[str, ...]
    yi: tuple[float, ...]
    k: int
    p: int
    coefficients: tuple[Coefficient, ...]
    variance_components: tuple[VarianceComponent, ...]
    q: float
    q_df: int
    q_pvalue: float
    qm: OmnibusTest | None
    df: float | None
    loglik: float
    deviance: float
    aic: float
    bic: float
    aicc: float
    i2: Mapping[str, float] | None
    i2_total: float | None
    converged: bool
    iterations: int
    cluster: str
    cluster_codes: tuple[int, ...]
    n_parameters: int
    omitted: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    #: the rows of the data in the model (0-based, in the data's order)
    rows: tuple[int, ...] = ()
    design_matrix: NDArray[np.float64] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    marginal_covariance: NDArray[np.float64] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    vcov: NDArray[np.float64] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    sampling_covariance: NDArray[np.float64] = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    @property
    def names(self) -> tuple[str, ...]:
        """The coefficients' names, in order."""
        return tuple(row.name for row in self.coefficients)

    def coefficient_frame(self) -> pd.DataFrame:
        """The coefficients as a table (one row each)."""
        return pd.DataFrame([vars(row) for row in self.coefficients])

    def component_frame(self) -> pd.DataFrame:
        """The variance components as a table (one row each)."""
        return pd.DataFrame([vars(row) for row in self.variance_components])

    def predict(self) -> dict[str, float | None]:
        """The pooled estimate of an intercept-only model with its CI and prediction interval.

        The prediction interval is ``mu ± crit sqrt(se² + sum sigma2 + tau2)`` (metafor's
        ``predict.rma.mv`` for models whose random terms are intercepts or homoscedastic
        structures), with ``crit`` from the normal (z) or t with ``k - p`` df (t).
        """
        if self.p != 1 or self.names[0] != "intercept":
            raise InputError("predict(): only an intercept-only model has one pooled estimate")
        heteroscedastic = [
            c.name for c in self.variance_components
            if c.parameter.startswith(("tau2.", "gamma2."))
        ]  # fmt: skip
        if heteroscedastic:
            raise InputError(
                "predict(): the prediction interval of a heteroscedastic structure depends on "
                f"the level ({', '.join(heteroscedastic)}); it is not defined for the pooled mean"
            )
        pooled = self.coefficients[0]
        total = sum(
            c.estimate
            for c in self.variance_components
            if not c.parameter.startswith(("rho", "phi"))
        )
        crit = float(np.ravel(critical_value(self.level, np.array([self.df or np.nan])))[0])
        half = crit * float(np.sqrt(pooled.se**2 + total))
        return {
            "estimate": pooled.estimate,
            "se": pooled.se,
            "ci_lower": pooled.ci_lower,
            "ci_upper": pooled.ci_upper,
            "pi_lower": pooled.estimate - half,
            "pi_upper": pooled.estimate + half,
        }

    def to_dict(self) -> dict[str, Any]:
        """Every reported field as JSON-ready values (the matrices left out)."""
        return {
            "random": list(self.random),
            "mods": self.mods,
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "struct": list(self.struct),
            "source": self.source,
            "k": self.k,
            "p": self.p,
            "coefficients": [vars(row) for row in self.coefficients],
            "variance_components": [vars(row) for row in self.variance_components],
            "q": self.q,
            "q_df": self.q_df,
            "q_pvalue": self.q_pvalue,
            "qm": None if self.qm is None else vars(self.qm),
            "df": self.df,
            "loglik": self.loglik,
            "deviance": self.deviance,
            "aic": self.aic,
            "bic": self.bic,
            "aicc": self.aicc,
            "i2": None if self.i2 is None else dict(self.i2),
            "i2_total": self.i2_total,
            "converged": self.converged,
            "iterations": self.iterations,
            "cluster": self.cluster,
            "n_parameters": self.n_parameters,
            "labels": list(self.labels),
            "yi": list(self.yi),
            "omitted": list(self.omitted),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        """A plain-text report in the layout of metafor's ``print.rma.mv``."""
        percent = round(100 * self.level)
        lines = [
            f"Multivariate Meta-Analysis Model (k = {self.k}; method: {self.method})",
            "",
            f"logLik {format_number(self.loglik, 4)}, deviance {format_number(self.deviance, 4)}"
            f", AIC {format_number(self.aic, 4)}, BIC {format_number(self.bic, 4)}, "
            f"AICc {format_number(self.aicc, 4)}",
            "",
            "Variance components:",
        ]
        rows = self.variance_components
        table = pd.DataFrame(
            {
                "component": [c.name for c in rows],
                "estimate": [format_number(c.estimate, 4) for c in rows],
                "sqrt": ["" if c.sqrt is None else format_number(c.sqrt, 4) for c in rows],
                "levels": [c.n_levels for c in rows],
                "fixed": ["yes" if c.fixed else "no" for c in rows],
                f"{percent}% CI": [
                    "" if c.fixed else
                    f"[{format_number(c.ci_lower, 4)}, {format_number(c.ci_upper, 4)}]"
                    for c in rows
                ],
            }
        )  # fmt: skip
        if self.i2 is not None:
            table["I² (%)"] = [format_number(self.i2.get(c.name), 1) for c in rows]
        lines.append(table.to_string(index=False))
        if self.i2_total is not None:
            lines.append(f"I² of all levels: {format_number(self.i2_total, 1)}%")
        lines += [
            "",
            f"Test for heterogeneity: QE({format_count(self.q_df)}) = "
            f"{format_number(self.q, 4)}, {format_p(self.q_pvalue)}",
        ]
        if self.qm is not None:
            if self.qm.df2 is None:
                lines.append(
                    f"Test of moderators: QM({self.qm.df}) = {format_number(self.qm.statistic, 4)}"
                    f", {format_p(self.qm.pvalue)}"
                )
            else:
                lines.append(
                    f"Test of moderators: F({self.qm.df}, {format_count(self.qm.df2)}) = "
                    f"{format_number(self.qm.statistic, 4)}, {format_p(self.qm.pvalue)}"
                )
        statistic = "zval" if self.df is None else f"tval (df = {format_count(self.df)})"
        lines += ["", f"Model results ({statistic}; {percent}% CI):"]
        lines.append(
            self.coefficient_frame().to_string(
                index=False,
                float_format=lambda value: format_number(value, 4),
                formatters={"pvalue": format_p_value},
            )
        )
        lines.extend(f"warning: {w}" for w in self.warnings)  # (they name the rows omitted)
        return "\n".join(lines)


# --- data ------------------------------------------------------------------------------


def _design(
    frame: pd.DataFrame, mods: str | None, source: str | None, rows: Sequence[int]
) -> tuple[np.ndarray, tuple[str, ...], list[Term], np.ndarray, bool]:
    """The design matrix, its column names, terms, complete rows, and whether it has an intercept.

    Without an intercept (``"~ x - 1"``, ``"~ 0 + x"``) the first categorical
    moderator gets a column for each of its levels, as R's model.matrix does.
    """
    if mods is None:
        return np.ones((len(frame), 1)), ("intercept",), [], np.ones(len(frame), bool), True
    intercept = _NO_INTERCEPT.search(mods.split("~", 1)[-1]) is None
    cleaned = _NO_INTERCEPT.sub("", mods.split("~", 1)[-1]).strip().strip("+").strip()
    X, terms, complete = design_matrix(frame, f"~ {cleaned or '1'}", source=source, rows=rows)
    names = ["intercept", *(name for term in terms for name in term.names)]
    if intercept:
        return X, tuple(names), terms, complete, True
    if not terms:
        raise InputError(f"mods {mods!r}: a model without intercept needs a moderator")
    X, names = X[:, 1:], names[1:]
    if terms[0].categorical:
        first = terms[0]
        width = len(first.levels) - 1
        reference = 1.0 - X[:, :width].sum(axis=1)
        X = np.column_stack([reference, X])
        names.insert(0, f"{first.column}[{first.levels[0]}]")
    return X, tuple(names), terms, complete, False


def _sampling_covariance(
    frame: pd.DataFrame, V: str | ArrayLikeMatrix, source: str | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Sampling variances (k,) and the full matrix (k, k), or None where V is a column."""
    if isinstance(V, str):
        vi = numeric_column(frame, V, source=source)
        bad = np.flatnonzero(np.isfinite(vi) & (vi <= 0))
        if bad.size:
            raise InputError(
                f"sampling variance must be > 0, got {vi[bad[0]]:g}",
                file=source,
                row=int(bad[0]) + 1,
                column=V,
            )
        return vi, None
    try:
        matrix = np.array(V, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise InputError(f"V must be a column name or a k x k matrix of numbers: {error}") from None
    k = len(frame)
    if matrix.shape != (k, k):
        raise InputError(
            f"V has shape {matrix.shape}, but the data have {k} rows: it must be {k} x {k}",
            file=source,
        )
    if not np.isfinite(matrix).all():
        row, column = np.argwhere(~np.isfinite(matrix))[0]
        raise InputError(f"V[{row + 1}, {column + 1}] is not a finite number", file=source)
    asymmetric = np.abs(matrix - matrix.T) > 1e-10 * np.maximum(np.abs(matrix), 1e-300)
    if asymmetric.any():
        row, column = np.argwhere(asymmetric)[0]
        raise InputError(
            f"V is not symmetric: V[{row + 1}, {column + 1}] = {matrix[row, column]:g} but "
            f"V[{column + 1}, {row + 1}] = {matrix[column, row]:g}",
            file=source,
        )
    return np.diagonal(matrix).copy(), matrix


def _blocks(matrix: np.ndarray) -> list[np.ndarray]:
    """The rows of each block of ``matrix`` (connected by non-zero covariances)."""
    k = matrix.shape[0]
    label = np.arange(k)
    linked = matrix != 0
    changed = True
    while changed:  # label propagation: each row takes the smallest label it is linked to
        spread = np.where(linked, label[None, :], k).min(axis=1)
        new = np.minimum(label, spread)
        changed = bool((new != label).any())
        label = new[new]
    return [np.flatnonzero(label == value) for value in np.unique(label)]


def _check_positive_definite(
    matrix: np.ndarray, labels: Sequence[str], rows: Sequence[int], source: str | None
) -> None:
    """Refuse a V that is not positive definite, naming the block (rows and studies) at fault."""
    for block in _blocks(matrix):
        sub = matrix[np.ix_(block, block)]
        try:
            np.linalg.cholesky(sub)
        except np.linalg.LinAlgError:
            smallest = float(np.linalg.eigvalsh(sub)[0])
            names = sorted({labels[i] for i in block})
            where = ", ".join(str(rows[i] + 1) for i in block)
            raise InputError(
                f"V is not positive definite in the block of rows {where} "
                f"({', '.join(names)}): its smallest eigenvalue is {smallest:.3g}; check "
                "the covariances (a correlation above 1 in absolute value?)",
                file=source,
            ) from None


def _labels(frame: pd.DataFrame, label: str | None, fallback: str) -> list[str]:
    column = label
    if column is None:
        column = next((c for c in ("study", "label", "author") if c in frame.columns), fallback)
    if column not in frame.columns:
        raise InputError(f"label column {column!r} not found", column=column)
    return [str(value) for value in frame[column]]


# --- terms -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Model:
    """The engine's random terms, with what the report needs to name their parameters."""

    terms: tuple[RandomTerm, ...]
    labels: dict[str, str]  # global parameter name -> what it belongs to
    n_levels: dict[str, int]  # global parameter name -> levels of its factor
    struct: tuple[str, ...]
    cluster: Grouping


def _build_terms(
    frame: pd.DataFrame,
    formulas: Sequence[RandomFormula],
    struct: str | Sequence[str],
    *,
    sigma2: float | Sequence[float | None] | None,
    tau2: float | Sequence[float | None] | None,
    rho: float | Sequence[float | None] | None,
    source: str | None,
) -> _Model:
    nested = [f for f in formulas if f.inner is None]
    structured = [f for f in formulas if f.inner is not None]
    if len(structured) > 2:
        raise InputError("at most two 'inner | outer' random terms are supported (as in metafor)")
    chosen = structures(struct, len(structured))
    intercepts: list[RandomTerm] = []
    labels: dict[str, str] = {}
    n_levels: dict[str, int] = {}
    groups_of_intercepts: list[Grouping] = []
    for formula in nested:
        groups = [
            grouping(frame, formula.outer[: depth + 1]) for depth in range(len(formula.outer))
        ]
        check_structure(formula, groups, source)
        groups_of_intercepts.extend(groups)
    names = [f"sigma2_{index + 1}" for index in range(len(groups_of_intercepts))]
    fixed_sigma2 = fixed_values(sigma2, names, "sigma2")
    for name, group in zip(names, groups_of_intercepts, strict=True):
        labels[name] = group.name
        n_levels[name] = group.n_levels
        fixed = {"sigma2": fixed_sigma2[name]} if name in fixed_sigma2 else {}
        intercepts.append(RandomTerm(kind="intercept", outer=group.codes, fixed=fixed))
    structs: list[RandomTerm] = []
    outer_groups: list[Grouping] = []
    for position, (formula, kind) in enumerate(zip(structured, chosen, strict=True)):
        inner = grouping(frame, [formula.inner])  # type: ignore[list-item]
        outer = grouping(frame, formula.outer)
        if inner.n_levels < 2 and kind not in ("ID", "DIAG"):
            raise InputError(
                f"random formula {formula.text!r}: {formula.inner!r} has one level; "
                f"struct {kind} needs two or more (or write '~ 1 | {outer.name}')",
                file=source,
                column=formula.inner,
            )
        bare = RandomTerm(kind="struct", outer=outer.codes, inner=inner.codes,
                          n_inner=inner.n_levels, struct=kind)  # fmt: skip
        local = bare.parameter_names()
        fixed: dict[str, float] = {}
        if position == 0:
            fixed |= fixed_values(tau2, [n for n in local if n.startswith("tau2")], "tau2")
            fixed |= fixed_values(rho, [n for n in local if n.startswith("rho")], "rho")
        estimated = [n for n in local if n not in fixed]
        check_components(formula, outer, estimated, source)
        term = RandomTerm(kind="struct", outer=outer.codes, inner=inner.codes,
                          n_inner=inner.n_levels, struct=kind, fixed=fixed)  # fmt: skip
        structs.append(term)
        outer_groups.append(outer)
        prefix = ("tau2", "rho") if position == 0 else ("gamma2", "phi")
        for name in local:
            suffix = name.split("_", 1)[1] if "_" in name else ""
            is_variance = name.startswith("tau2")
            global_name = (prefix[0] if is_variance else prefix[1]) + (
                f"_{suffix}" if suffix else ""
            )
            if is_variance and suffix:
                labels[global_name] = inner.levels[int(suffix) - 1]
                n_levels[global_name] = int(np.bincount(inner.codes)[int(suffix) - 1])
            else:
                labels[global_name] = f"{formula.inner} | {outer.name}"
                n_levels[global_name] = inner.n_levels if is_variance else outer.n_levels
    if not intercepts and not structs:
        raise InputError("random: give at least one random-effects formula")
    # the outermost clustering: the coarsest factor of the model (robust variance clusters)
    candidates = [*(g for g in groups_of_intercepts), *outer_groups]
    cluster = min(candidates, key=lambda g: g.n_levels)
    return _Model((*intercepts, *structs), labels, n_levels, chosen, cluster)


def _display(parameter: str) -> str:
    """``sigma2_1`` as metafor prints it: ``sigma2.1``; ``rho_12`` as ``rho.12``."""
    return parameter.replace("_", ".")


# --- the fit ---------------------------------------------------------------------------


def _i2(sigma2: np.ndarray, V: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, float]:
    """Multilevel I² of each level and their total (Cheung 2014; metafor FAQ).

    ``I2_l = 100 sigma2_l / (sum sigma2 + (k - p) / tr(P))``, with
    ``P = W - W X (X'W X)^-1 X'W`` and ``W = V^-1``; ``(k - p) / tr(P)`` is the
    typical sampling variance.
    """
    k, p = X.shape
    W = np.linalg.inv(V)
    WX = W @ X
    P = W - WX @ np.linalg.solve(X.T @ WX, WX.T)
    typical = (k - p) / float(np.trace(P))
    total = float(sigma2.sum())
    return 100.0 * sigma2 / (total + typical), 100.0 * total / (total + typical)


def _omnibus(
    beta: np.ndarray, vcov: np.ndarray, tested: np.ndarray, test: str, df: float | None
) -> OmnibusTest | None:
    """QM = b' (Var b)^-1 b over the ``tested`` coefficients (F = QM / m under t)."""
    if not tested.any():
        return None
    b = beta[tested]
    statistic = float(b @ np.linalg.solve(vcov[np.ix_(tested, tested)], b))
    m = int(tested.sum())
    if test == "t":
        assert df is not None
        return OmnibusTest(statistic / m, m, df, float(scipy_stats.f.sf(statistic / m, m, df)))
    return OmnibusTest(statistic, m, None, float(scipy_stats.chi2.sf(statistic, m)))


def meta_mv(
    data: pd.DataFrame,
    yi: str = "yi",
    V: str | ArrayLikeMatrix = "vi",
    *,
    random: str | Sequence[str] = "~ 1 | study",
    mods: str | None = None,
    method: str = "REML",
    struct: str | Sequence[str] = "CS",
    rho: float | Sequence[float | None] | None = None,
    tau2: float | Sequence[float | None] | None = None,
    sigma2: float | Sequence[float | None] | None = None,
    test: str = "z",
    level: float = 0.95,
    profile_ci: bool = True,
    label: str | None = None,
    source: str | None = None,
) -> MultilevelResult:
    """Fit a multilevel or multivariate meta-analysis (metafor's ``rma.mv``).

    ``V`` is a column of sampling variances or the full ``k x k`` sampling covariance
    matrix (rows in the order of ``data``).  ``random`` is one formula or a list:
    ``"~ 1 | a/b/c"`` (random intercepts for ``a``, ``a:b``, ``a:b:c``) or
    ``"~ inner | outer"`` (a covariance ``struct`` of ``inner`` levels within each
    ``outer`` group: CS, HCS, UN, AR, HAR, ID, DIAG; one struct, or one per such
    term).  ``sigma2``, ``tau2`` and ``rho`` fix variance components as metafor's
    arguments of those names do (a number, or a list with None for "estimate").
    ``mods`` is a moderator formula (``"~ x + factor(g)"``; ``"- 1"`` drops the
    intercept).  Rows with a missing effect, variance, grouping or moderator are
    omitted with a warning naming them.  ``profile_ci=False`` leaves out the
    profile-likelihood intervals of the variance components (metafor's ``confint``,
    one constrained refit per trial value: most of the time of a large fit), as
    ``rma.mv`` itself does.
    """
    options = validate_options(
        "meta_mv", method=method, test=test, level=level, struct=struct, rho=rho, tau2=tau2,
        sigma2=sigma2, profile_ci=profile_ci,
    )  # fmt: skip
    method, test, level = options["method"], options["test"], options["level"]
    struct = options["struct"]
    if not isinstance(data, pd.DataFrame):
        raise InputError("meta_mv(): data must be a pandas DataFrame")
    frame = data.reset_index(drop=True)
    texts = [random] if isinstance(random, str) else list(random)
    if not texts:
        raise InputError("random: give at least one random-effects formula")
    formulas = [parse_random(text) for text in texts]
    require_grouping_columns(frame, formulas, source)
    y = numeric_column(frame, yi, source=source)
    vi, matrix = _sampling_covariance(frame, V, source)
    labels = _labels(frame, label, formulas[0].outer[0])
    X, names, terms, complete, intercept = _design(frame, mods, source, list(range(len(frame))))
    group_columns = sorted({column for f in formulas for column in f.columns})
    present = np.isfinite(y) & np.isfinite(vi) & complete & ~missing_cells(frame, group_columns)
    notes: list[str] = []
    omitted = tuple(labels[i] for i in np.flatnonzero(~present))
    if omitted:
        notes.append(
            f"omitted {len(omitted)} rows with a missing effect, variance, grouping or "
            f"moderator: {', '.join(omitted)}"
        )
    keep = np.flatnonzero(present)
    if keep.size == 0:
        raise InputError("no row has an effect, a variance and its groupings", file=source)
    frame, y, vi, X = frame.iloc[keep].reset_index(drop=True), y[keep], vi[keep], X[keep]
    labels = [labels[i] for i in keep]
    sampling = np.diag(vi) if matrix is None else matrix[np.ix_(keep, keep)]
    if matrix is not None:
        _check_positive_definite(sampling, labels, keep.tolist(), source)
    k, p = X.shape
    if k <= p:
        raise InputError(f"{k} effects cannot estimate {p} coefficients", file=source)
    check_design(X, names, terms, source=source)
    model = _build_terms(frame, formulas, struct, sigma2=sigma2, tau2=tau2, rho=rho,
                         source=source)  # fmt: skip
    # the optimiser may probe a negative variance on its way (sqrt of it is NaN there and
    # the step is refused); the estimate is checked below, so numpy's warning is not shown
    with np.errstate(invalid="ignore"):
        fit = fit_multilevel(y, vi if matrix is None else sampling, X, model.terms, method=method)
    if not np.isfinite(fit.beta[0]).all():
        raise InputError(
            f"the {method} fit failed: {fit.message[0]} (check V and the random terms)",
            file=source,
        )
    if not bool(fit.converged[0]):
        notes.append(f"the {method} fit did not converge: {fit.message[0]}")
    beta = fit.beta[0]
    vcov = fit.vcov[0]
    se = np.sqrt(np.diagonal(vcov))
    df = float(k - p) if test == "t" else None
    statistic = beta / se
    pvalue = two_sided_pvalue(statistic, None if df is None else np.full(p, df))
    crit = float(np.ravel(critical_value(level, None if df is None else np.array([df])))[0])
    coefficients = tuple(
        Coefficient(
            names[j],
            float(beta[j]),
            float(se[j]),
            float(statistic[j]),
            float(pvalue[j]),
            float(beta[j] - crit * se[j]),
            float(beta[j] + crit * se[j]),
        )
        for j in range(p)
    )
    tested = np.ones(p, dtype=bool)
    if intercept:
        tested[0] = False
    qm = _omnibus(beta, vcov, tested, test, df)
    components = []
    V_for_profile = vi if matrix is None else sampling
    for index, parameter in enumerate(fit.theta_names):
        value = float(fit.theta[0, index])
        is_fixed = bool(fit.fixed_mask[index])
        lower = upper = None
        if profile_ci and not is_fixed:
            with np.errstate(invalid="ignore"):
                low, high, found = profile_interval(
                    y, V_for_profile, X, model.terms, fit, parameter, level=level
                )
            lower, upper = optional_float(low), optional_float(high)
            if not found:
                notes.append(
                    f"the profile-likelihood interval of {_display(parameter)} could not be "
                    "bracketed at one end: left out"
                )
        variance = not parameter.startswith(("rho", "phi"))
        label_text = model.labels.get(parameter, "")
        components.append(
            VarianceComponent(
                name=f"{_display(parameter)} ({label_text})" if label_text else _display(parameter),
                parameter=_display(parameter),
                estimate=value,
                sqrt=float(np.sqrt(max(value, 0.0))) if variance else None,
                n_levels=model.n_levels.get(parameter, 0),
                fixed=is_fixed,
                ci_lower=lower,
                ci_upper=upper,
            )
        )
    sigma_positions = [i for i, n in enumerate(fit.theta_names) if n.startswith("sigma2")]
    i2: dict[str, float] | None = None
    i2_total: float | None = None
    if sigma_positions and len(sigma_positions) == len(fit.theta_names):
        levels, i2_total = _i2(fit.theta[0, sigma_positions], sampling, X)
        i2 = {components[i].name: float(v) for i, v in zip(sigma_positions, levels, strict=True)}
    for note in notes:
        warnings.warn(note, SrmaWarning, stacklevel=2)
    return MultilevelResult(
        random=tuple(f.text for f in formulas),
        mods=mods,
        method=method,
        test=test,
        level=level,
        struct=model.struct,
        source=source,
        labels=tuple(labels),
        yi=tuple(map(float, y)),
        k=k,
        p=p,
        coefficients=coefficients,
        variance_components=tuple(components),
        q=float(fit.qe[0]),
        q_df=int(fit.qe_df[0]),
        q_pvalue=float(fit.qe_pvalue[0]),
        qm=qm,
        df=df,
        loglik=float(fit.loglik[0]),
        deviance=float(fit.deviance[0]),
        aic=float(fit.aic[0]),
        bic=float(fit.bic[0]),
        aicc=float(fit.aicc[0]),
        i2=i2,
        i2_total=i2_total,
        converged=bool(fit.converged[0]),
        iterations=int(fit.iterations[0]),
        cluster=model.cluster.name,
        cluster_codes=tuple(int(c) for c in model.cluster.codes),
        n_parameters=int(fit.n_parameters),
        omitted=omitted,
        warnings=tuple(notes),
        rows=tuple(int(i) for i in keep),
        design_matrix=X,
        marginal_covariance=fit.marginal_covariance(0),
        vcov=vcov,
        sampling_covariance=sampling,
    )


@dataclass(frozen=True)
class LikelihoodRatioTest:
    """The likelihood-ratio test of two nested models (metafor's ``anova.rma`` with two fits)."""

    statistic: float
    df: int
    pvalue: float
    loglik_full: float
    loglik_reduced: float
    aic_full: float
    aic_reduced: float

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def likelihood_ratio_test(full: MultilevelResult, reduced: MultilevelResult) -> LikelihoodRatioTest:
    """``LRT = 2 (l_full - l_reduced)`` on ``n_full - n_reduced`` df (parameters: p + free
    variance components).

    Both models must be fitted to the same effects by the same method; REML
    likelihoods of models with different fixed effects are not comparable
    (Harville 1977), so such a pair is refused: refit both with ``method="ML"``.
    """
    if full.method != reduced.method:
        raise InputError(
            f"likelihood_ratio_test(): the models were fitted by {full.method} and "
            f"{reduced.method}; fit both by the same method"
        )
    if full.k != reduced.k or not np.allclose(full.yi, reduced.yi, rtol=0, atol=0):
        raise InputError("likelihood_ratio_test(): the models were fitted to different effects")
    same_fixed = full.p == reduced.p and np.array_equal(full.design_matrix, reduced.design_matrix)
    if full.method == "REML" and not same_fixed:
        raise InputError(
            "likelihood_ratio_test(): REML likelihoods of models with different fixed effects "
            "(moderators) cannot be compared; fit both with method='ML'"
        )
    df = full.n_parameters - reduced.n_parameters
    if df <= 0:
        raise InputError(
            f"likelihood_ratio_test(): the full model has {full.n_parameters} parameters and "
            f"the reduced one {reduced.n_parameters}; the full model must have more"
        )
    statistic = max(0.0, 2.0 * (full.loglik - reduced.loglik))
    return LikelihoodRatioTest(
        statistic=statistic,
        df=df,
        pvalue=float(scipy_stats.chi2.sf(statistic, df)),
        loglik_full=full.loglik,
        loglik_reduced=reduced.loglik,
        aic_full=full.aic,
        aic_reduced=reduced.aic,
    )
