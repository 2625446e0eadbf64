"""Mixed-effects meta-regression with categorical and continuous moderators.

``meta_regression(data, "~ dose + factor(route)")`` fits ``y_i = x_i'beta + u_i +
e_i`` (metafor's ``rma(yi, vi, mods = ~ ...)``): coefficients with their tests,
the omnibus test of the moderators (QM), residual heterogeneity (QE, tau²,
I², H²), the share of heterogeneity explained (R², Raudenbush 2009), an
optional permutation test (Higgins & Thompson 2004; Viechtbauer et al. 2015),
and predictions for bubble plots.  Numerics: :mod:`srma.stats.regression`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.meta import EffectData, prepare_effects
from srma.analysis.results import optional_float
from srma.analysis.validation import shown, validate_options
from srma.errors import InputError, SrmaWarning
from srma.formatting import format_count, format_number, format_p, format_p_value
from srma.stats.batch import as_batch
from srma.stats.inference import critical_value, prediction_df, prediction_interval, wald_interval
from srma.stats.pooling import pool
from srma.stats.regression import meta_regression as regression_engine
from srma.stats.regression import permutation_test, regression_batch

_FACTOR = re.compile(r"^factor\((?P<name>[^()]+)\)$")


@dataclass(frozen=True)
class Term:
    """One moderator: a column, numeric or categorical, and the design columns it makes."""

    column: str
    categorical: bool
    levels: tuple[str, ...] = ()  # categorical: reference level first

    @property
    def names(self) -> tuple[str, ...]:
        if not self.categorical:
            return (self.column,)
        return tuple(f"{self.column}[{level}]" for level in self.levels[1:])


def parse_moderators(moderators: str | Sequence[str]) -> list[tuple[str, bool]]:
    """``"~ a + factor(b)"`` or ``["a", "factor(b)"]`` to ``[("a", False), ("b", True)]``.

    Main effects only: interactions (``a:b``, ``a*b``) are not supported.
    ``"~ 1"`` (or an empty list) is the intercept-only model: no terms.
    """
    if isinstance(moderators, str):
        text = moderators.split("~", 1)[-1]
        parts = [part.strip() for part in text.split("+")]
    else:
        parts = [str(part).strip() for part in moderators]
    terms = []
    for part in parts:
        if not part or part == "1":
            continue
        if any(symbol in part for symbol in ":*^|"):
            raise InputError(f"moderator {part!r}: only main effects (a + b) are supported")
        match = _FACTOR.match(part)
        terms.append((match["name"].strip(), True) if match else (part, False))
    return terms


def design_matrix(
    frame: pd.DataFrame,
    moderators: str | Sequence[str],
    *,
    source: str | None = None,
    rows: Sequence[int] | None = None,
) -> tuple[np.ndarray, list[Term], np.ndarray]:
    """The design matrix (intercept first), its terms, and which rows are complete.

    A column is categorical when wrapped in ``factor()`` or when it holds text;
    its first level in sorted order is the reference (R's convention).  An
    infinite value of a numeric moderator is an error naming its row (``rows``:
    the frame's 0-based rows in the input table) and column.
    """
    columns: list[np.ndarray] = [np.ones(len(frame))]
    terms: list[Term] = []
    complete = np.ones(len(frame), dtype=bool)
    for name, forced in parse_moderators(moderators):
        if name not in frame.columns:
            raise InputError(f"moderator column {name!r} not found", file=source, column=name)
        raw = frame[name]
        numeric = pd.to_numeric(raw, errors="coerce")
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        complete &= ~blank.to_numpy()
        categorical = forced or bool((numeric.isna() & ~blank).any())
        if categorical:
            text = raw.astype(str).str.strip()
            levels = tuple(sorted(set(text[~blank]), key=_natural_key))
            for level in levels[1:]:
                columns.append((text == level).to_numpy(dtype=float))
            terms.append(Term(name, True, levels))
        else:
            values = numeric.to_numpy(dtype=float)
            infinite = np.flatnonzero(np.isinf(values))
            if infinite.size:
                position = int(infinite[0])
                raise InputError(
                    f"expected a finite number, got {shown(raw.iloc[position])}",
                    file=source,
                    row=(rows[position] if rows is not None else position) + 1,
                    column=name,
                )
            columns.append(values)
            terms.append(Term(name, False))
    return np.column_stack(columns), terms, complete


def _natural_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


@dataclass(frozen=True)
class MetaRegressionResult:
    """A fitted meta-regression: coefficients, tests, heterogeneity and the data used."""

    method: str
    test: str
    level: float
    pi_type: str
    measure: str | None
    terms: tuple[Term, ...]
    names: tuple[str, ...]  # "intercept" then one per design column
    labels: tuple[str, ...]
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    X: tuple[tuple[float, ...], ...]
    k: int
    estimate: tuple[float, ...]
    se: tuple[float, ...]
    statistic: tuple[float, ...]
    pvalue: tuple[float, ...]
    ci_lower: tuple[float, ...]
    ci_upper: tuple[float, ...]
    df: float | None
    tau2: float | None
    i2: float | None
    h2: float | None
    r2: float | None
    qe: float
    qe_df: float
    qe_pvalue: float
    qm: float
    qm_df1: float
    qm_df2: float | None
    qm_pvalue: float
    vcov: tuple[tuple[float, ...], ...] = field(repr=False)
    permutation: Mapping[str, Any] | None = None
    omitted: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def coefficients(self) -> pd.DataFrame:
        """The coefficient table: estimate, se, statistic, p-value and CI per term."""
        table = pd.DataFrame(
            {
                "term": list(self.names),
                "estimate": self.estimate,
                "se": self.se,
                "statistic": self.statistic,
                "pvalue": self.pvalue,
                "ci_lower": self.ci_lower,
                "ci_upper": self.ci_upper,
            }
        )
        if self.permutation is not None:
            table["permutation_pvalue"] = self.permutation["pvalue"]
        return table

    def predict(self, values: Mapping[str, Any] | pd.DataFrame) -> pd.DataFrame:
        """Predicted effects with CI and prediction interval at given moderator values.

        ``values`` maps each moderator column to a value or a list of values.
        The prediction interval uses ``pi_type`` as :func:`srma.meta` does
        (``riley``: t with ``k - p - 1`` df).
        """
        frame = pd.DataFrame(
            values
            if isinstance(values, pd.DataFrame)
            else {key: np.atleast_1d(val) for key, val in values.items()}
        )
        rows = [np.ones(len(frame))]
        for term in self.terms:
            if term.column not in frame.columns:
                raise InputError(
                    f"a value for moderator {term.column!r} is needed", column=term.column
                )
            if term.categorical:
                text = frame[term.column].astype(str).str.strip()
                unknown = sorted(set(text) - set(term.levels))
                if unknown:
                    raise InputError(
                        f"unknown level(s) {unknown} of {term.column!r}", column=term.column
                    )
                rows.extend((text == level).to_numpy(dtype=float) for level in term.levels[1:])
            else:
                rows.append(pd.to_numeric(frame[term.column]).to_numpy(dtype=float))
        x = np.column_stack(rows)
        beta = np.asarray(self.estimate)
        vcov = np.asarray(self.vcov)
        prediction = x @ beta
        se = np.sqrt(np.einsum("ni,ij,nj->n", x, vcov, x))
        df = np.nan if self.df is None else self.df
        crit = float(critical_value(self.level, np.array([df]))[0])
        pi_df = prediction_df(
            self.pi_type, self.test, np.array([self.k]), len(self.names), random=self.method != "EE"
        )
        pi_crit = float(critical_value(self.level, pi_df)[0])
        ci_lower, ci_upper = wald_interval(prediction, se, crit)
        pi_lower, pi_upper = prediction_interval(prediction, se, self.tau2 or 0.0, pi_crit)
        out = frame.copy()
        out["prediction"] = prediction
        out["se"] = se
        out["ci_lower"] = ci_lower
        out["ci_upper"] = ci_upper
        out["pi_lower"] = pi_lower
        out["pi_upper"] = pi_upper
        return out

    def bubble_data(self, moderator: str, points: int = 101) -> dict[str, pd.DataFrame]:
        """What a bubble plot needs: the studies, and the fitted line over a continuous moderator.

        Other continuous moderators are held at their weighted mean and
        categorical ones at their reference level.
        """
        term = next((t for t in self.terms if t.column == moderator), None)
        if term is None or term.categorical:
            raise InputError(f"{moderator!r} is not a continuous moderator of this model")
        X = np.asarray(self.X)
        position = self.names.index(moderator)
        weights = 1.0 / (np.asarray(self.vi) + (self.tau2 or 0.0))
        studies = pd.DataFrame(
            {
                "label": self.labels,
                moderator: X[:, position],
                "yi": self.yi,
                "weight": 100.0 * weights / weights.sum(),
            }
        )
        grid = np.linspace(X[:, position].min(), X[:, position].max(), points)
        values: dict[str, Any] = {moderator: grid}
        for other in self.terms:
            if other.column == moderator:
                continue
            if other.categorical:
                values[other.column] = [other.levels[0]] * points
            else:
                column = X[:, self.names.index(other.column)]
                values[other.column] = np.full(points, np.average(column, weights=weights))
        return {"studies": studies, "line": self.predict(values)}

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "measure": self.measure,
            "k": self.k,
            "coefficients": self.coefficients()
            .astype(object)
            .where(lambda frame: frame.notna(), None)
            .to_dict(orient="records"),
        }
        for name in (
            "df",
            "tau2",
            "i2",
            "h2",
            "r2",
            "qe",
            "qe_df",
            "qe_pvalue",
            "qm",
            "qm_df1",
            "qm_df2",
            "qm_pvalue",
        ):
            out[name] = optional_float(getattr(self, name))
        out["permutation"] = (
            None
            if self.permutation is None
            else {
                key: (list(value) if isinstance(value, tuple) else value)
                for key, value in self.permutation.items()
            }
        )
        out["omitted"] = list(self.omitted)
        out["warnings"] = list(self.warnings)
        return out

    def summary(self) -> str:
        lines = [f"Meta-regression ({self.method}, {self.test}); k = {self.k}"]
        if self.tau2 is not None:
            lines.append(
                f"residual tau² = {self.tau2:.4f}, I² = {self.i2:.1f}%, R² = {self.r2:.1f}%"
                if self.r2 is not None
                else f"residual tau² = {self.tau2:.4f}, I² = {self.i2:.1f}%"
            )
        lines.append(f"QE({format_count(self.qe_df)}) = {self.qe:.3f}, {format_p(self.qe_pvalue)}")
        if self.qm_df1 == 0:
            pass  # the intercept-only model has no moderators to test
        elif self.qm_df2 is None:
            lines.append(
                f"QM({format_count(self.qm_df1)}) = {self.qm:.3f}, {format_p(self.qm_pvalue)}"
            )
        else:
            lines.append(
                f"F({format_count(self.qm_df1)}, {format_count(self.qm_df2)}) = "
                f"{self.qm:.3f}, {format_p(self.qm_pvalue)}"
            )
        lines.append(
            self.coefficients().to_string(
                index=False,
                float_format=lambda value: format_number(value, 4),
                formatters={"pvalue": format_p_value},
            )
        )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


def check_design(
    X: np.ndarray, names: Sequence[str], terms: Sequence[Term], *, source: str | None
) -> None:
    """Refuse a design matrix without full column rank, naming the moderator that breaks it.

    Columns are compared on one scale (each divided by a power of two near its
    largest value, as the fit does), so a moderator in units of 1e-200 or
    1e200 is not mistaken for a collinear one; a moderator whose values agree
    to all digits of a double (1e20 + 1, 1e20 + 2 ...) is constant.
    """
    largest = np.abs(X).max(axis=0)
    scaled = X / np.where(largest > 0, largest, 1.0)
    if np.linalg.matrix_rank(scaled) < X.shape[1]:  # (the caller checks k > p first)
        # the first column that the ones before it span: R_jj of a QR (in the columns'
        # order) is 0 there, to matrix_rank's tolerance; one QR, not a rank per column
        diagonal = np.abs(np.diagonal(np.linalg.qr(scaled, mode="r")))
        tolerance = diagonal.max(initial=0.0) * max(X.shape) * np.finfo(float).eps
        dependent = np.flatnonzero(diagonal <= tolerance)
        name = names[int(dependent[0]) if dependent.size else -1]
        column = next(
            (t.column for t in terms if name in t.names), name
        )  # a categorical level names its column
        raise InputError(
            f"moderator {name!r} is constant or collinear with the intercept and the "
            "moderators before it (or a category has no studies left); drop it, or "
            "centre or rescale it if its values differ only in far digits",
            file=source,
            column=column,
        )


def imprecise_fit_error(effects: EffectData, method: str) -> InputError:
    """The error for a fit whose weights are too unequal to compute in double precision.

    Names the study with the smallest variance: it outweighs the others so far
    that it alone fixes a coefficient (:data:`srma.stats.tau2.PRECISE_TRACE`).
    """
    order = np.argsort(effects.vi, kind="stable")
    first = int(order[0])
    others = f" (the next smallest is {effects.vi[order[1]]:.3g})" if order.size > 1 else ""
    return InputError(
        f"variance {effects.vi[first]:.3g} is too small beside the others'{others}: this "
        "study outweighs the rest so far that it alone fixes a coefficient, and the "
        f"weighted fit ({method}) cannot be computed in double precision; check the value",
        file=effects.source,
        row=effects.row(first),
        column=effects.variance_column,
    )


def _r_squared(
    effects: EffectData, X: np.ndarray, method: str, test: str, tau2: float, qe: float
) -> float | None:
    """R² as metafor computes it: ``max(0, 100 (tau²_0 - tau²) / tau²_0)``.

    ``tau²_0`` is from the intercept-only model with the same estimator; for
    a common-effect model, the adjusted R² of the weighted least-squares fit.
    None for the intercept-only model itself (nothing to explain with).
    """
    k, p = X.shape
    if p == 1:
        return None
    if method == "EE":
        total = pool(as_batch(effects.yi, effects.vi), method="EE").q[0]
        if total == 0:
            return 0.0
        adjusted = 1.0 - (qe / total) * (k - 1) / (k - p)
        return max(0.0, 100.0 * adjusted)
    tau2_null = float(
        pool(as_batch(effects.yi, effects.vi), method=method, test=test, tau2_interval=False).tau2[
            0
        ]
    )
    if tau2_null == 0:
        return 0.0
    return max(0.0, 100.0 * (tau2_null - tau2) / tau2_null)


def meta_regression(
    data: pd.DataFrame,
    moderators: str | Sequence[str],
    *,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    permutations: int | None = None,
    seed: int | None = None,
    label: str | None = None,
    source: str | None = None,
    **columns: str,
) -> MetaRegressionResult:
    """Fit a mixed-effects meta-regression (``method="EE"`` for a fixed-effects one).

    ``moderators`` is a formula (``"~ dose + factor(route)"``) or a list of
    columns.  ``permutations`` asks for a permutation test with that many
    permutations (exact when there are no more distinct ones; Monte Carlo
    with ``seed`` otherwise).  Rows with a missing moderator are omitted with
    a warning naming them.
    """
    options = validate_options(
        "meta_regression",
        measure=measure,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        permutations=permutations,
        seed=seed,
    )
    method, measure = options["method"], options["measure"]
    effects = prepare_effects(
        data, measure=measure, method=method, label=label, source=source, **columns
    )
    X, terms, complete = design_matrix(effects.frame, moderators, source=source, rows=effects.rows)
    notes = list(effects.notes)
    omitted = list(effects.omitted)
    if not complete.all():
        missing = [effects.labels[i] for i in np.flatnonzero(~complete)]
        notes.append(f"omitted studies with a missing moderator: {', '.join(missing)}")
        omitted.extend(missing)
        keep = np.flatnonzero(complete)
        effects = effects.subset(keep)
        X = X[keep]
    k, p = X.shape
    names = ("intercept", *(name for term in terms for name in term.names))
    if k <= p:
        raise InputError(f"{k} studies cannot estimate {p} coefficients", file=source)
    check_design(X, names, terms, source=source)
    fit = regression_engine(
        regression_batch(effects.yi, effects.vi, X), method=method, test=test, level=level
    )
    if not np.isfinite(fit.beta[0]).all() or not np.isfinite(fit.tau2[0]):
        raise imprecise_fit_error(effects, method)
    if not fit.converged[0]:
        notes.append(f"the {method} estimate of residual tau² did not converge")
    tau2 = float(fit.tau2[0])
    qe = float(fit.qe[0])
    permutation = None
    if permutations is not None:
        result = permutation_test(
            effects.yi,
            effects.vi,
            X,
            method=method,
            test=test,
            iterations=permutations,
            rng=np.random.default_rng(seed),
        )
        permutation = {
            "exact": result.exact,
            "iterations": result.iterations,
            "qm_pvalue": result.qm_pvalue,
            "pvalue": tuple(map(float, result.pvalue)),
            "seed": seed,
        }
    if k < 10:
        notes.append(
            f"only {k} studies: meta-regression has little power and may mislead "
            "(Cochrane Handbook 10.11.5.1 advises about 10 studies per moderator)"
        )
    for note in notes:
        warnings.warn(note, SrmaWarning, stacklevel=2)
    return MetaRegressionResult(
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        measure=effects.measure,
        terms=tuple(terms),
        names=names,
        labels=effects.labels,
        yi=tuple(map(float, effects.yi)),
        vi=tuple(map(float, effects.vi)),
        X=tuple(tuple(map(float, row)) for row in X),
        k=k,
        estimate=tuple(map(float, fit.beta[0])),
        se=tuple(map(float, fit.se[0])),
        statistic=tuple(map(float, fit.statistic[0])),
        pvalue=tuple(map(float, fit.pvalue[0])),
        ci_lower=tuple(map(float, fit.ci_lower[0])),
        ci_upper=tuple(map(float, fit.ci_upper[0])),
        df=optional_float(fit.df[0]),
        tau2=None if method == "EE" else tau2,
        i2=float(fit.i2[0]),
        h2=float(fit.h2[0]),
        r2=_r_squared(effects, X, method, test, tau2, qe),
        qe=qe,
        qe_df=float(fit.qe_df[0]),
        qe_pvalue=float(fit.qe_pvalue[0]),
        qm=float(fit.qm[0]),
        qm_df1=float(fit.qm_df1[0]),
        qm_df2=optional_float(fit.qm_df2[0]),
        qm_pvalue=float(fit.qm_pvalue[0]),
        vcov=tuple(tuple(map(float, row)) for row in fit.vcov[0]),
        permutation=permutation,
        omitted=tuple(omitted),
        warnings=tuple(notes),
    )
