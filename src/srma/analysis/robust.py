"""Cluster-robust inference for a fitted meta-analysis: ``robust(result, cluster)``.

Effect sizes from the same study (or lab, or sample) are rarely independent,
and their covariances are rarely known.  ``robust()`` keeps the fitted model's
estimates and replaces their standard errors by the cluster-robust (sandwich)
covariance, which is consistent whatever the dependence within clusters
(Hedges, Tipton & Johnson 2010, Res Synth Methods 1:39), with the small-sample
corrections of clubSandwich (Pustejovsky & Tipton 2018, J Bus Econ Stat 36:672;
Tipton 2015, Psychol Methods 20:375):

* ``adjust``: ``CR2`` (default; bias-reduced linearisation), ``CR0``, ``CR1``
  (``J / (J - 1)``), ``CR1p`` (``J / (J - p)``, metafor's ``robust(adjust =
  TRUE)``), ``CR1S`` (Stata's);
* ``test``: ``satterthwaite`` (default; t tests on Satterthwaite df per
  coefficient, with the HTZ F test of the moderators), ``t`` (``J - p`` df,
  as metafor's ``robust()``) or ``z``.

It takes a :class:`~srma.MetaResult`, a :class:`~srma.MetaRegressionResult`
or a :class:`~srma.MultilevelResult` (its design matrix and the inverse of its
marginal covariance as weights).  Numerics: :mod:`srma.stats.robust`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.results import optional_float, refuse_user_weights
from srma.analysis.validation import require_columns, validate_options
from srma.errors import InputError, SrmaWarning
from srma.formatting import format_count, format_number, format_p, format_p_value
from srma.stats.inference import chi2_pvalue, f_pvalue
from srma.stats.robust import RobustArrays, cluster_robust, robust_tests
from srma.vocabulary import COUNT_METHODS

#: Below this many Satterthwaite df, t tests are unreliable (Tipton 2015, p. 386).
SMALL_DF = 4.0

#: What the tests are called in a summary.
ROBUST_TEST_NAMES: Mapping[str, str] = {
    "satterthwaite": "t tests with Satterthwaite df",
    "t": "t tests with J - p df",
    "z": "z tests",
}


@dataclass(frozen=True)
class RobustCoefficient:
    """One coefficient with its cluster-robust standard error, test and interval."""

    name: str
    estimate: float
    se: float
    statistic: float
    df: float | None  # None under the z test
    pvalue: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class RobustResult:
    """Cluster-robust inference for a fitted model's coefficients.

    ``model`` says which analysis was robustified (``meta``,
    ``meta_regression`` or the result's type), with its ``method`` and
    ``tau2`` (None where it has none, e.g. a multilevel model's variance
    components).  ``moderator_test`` is the test of every coefficient but the
    intercept (HTZ under Satterthwaite, F on ``(m, J - p)`` df under ``t``,
    chi² under ``z``); None for an intercept-only model.
    """

    model: str
    method: str | None
    tau2: float | None
    adjust: str
    test: str
    level: float
    k: int
    n_clusters: int
    coefficients: tuple[RobustCoefficient, ...]
    vcov: tuple[tuple[float, ...], ...] = field(repr=False)
    moderator_test: Mapping[str, float | None] | None = None
    warnings: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """The coefficient table: one row per coefficient."""
        return pd.DataFrame([vars(row) for row in self.coefficients])

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "method": self.method,
            "tau2": optional_float(self.tau2),
            "adjust": self.adjust,
            "test": self.test,
            "level": self.level,
            "k": self.k,
            "n_clusters": self.n_clusters,
            "coefficients": [
                {
                    key: optional_float(value) if key != "name" else value
                    for key, value in vars(row).items()
                }
                for row in self.coefficients
            ],
            "vcov": [list(row) for row in self.vcov],
            "moderator_test": None
            if self.moderator_test is None
            else {key: optional_float(value) for key, value in self.moderator_test.items()},
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        lines = [
            f"Cluster-robust inference ({self.adjust}, {ROBUST_TEST_NAMES[self.test]}) for "
            f"{self.model} ({self.method or 'model-based weights'}); k = {self.k} in "
            f"{self.n_clusters} clusters; {round(100 * self.level)}% intervals"
        ]
        test = self.moderator_test
        if test is not None:
            df2 = test["df_denom"]
            name = (
                f"F({format_count(test['df_num'])}, {format_number(df2, 2)})"
                if df2 is not None
                else f"QM({format_count(test['df_num'])})"
            )
            lines.append(
                f"moderators: {name} = {test['statistic']:.3f}, {format_p(test['pvalue'])}"
            )
        lines.append(
            self.to_frame().to_string(
                index=False,
                float_format=lambda value: format_number(value, 4),
                formatters={"pvalue": format_p_value},
            )
        )
        lines.extend(f"warning: {w}" for w in self.warnings)
        return "\n".join(lines)


@dataclass(frozen=True)
class _Model:
    """What the sandwich needs of a fit."""

    kind: str
    method: str | None
    tau2: float | None
    names: tuple[str, ...]
    labels: tuple[str, ...]
    X: np.ndarray
    y: np.ndarray
    beta: np.ndarray
    weights: np.ndarray  # diagonal (k,) or dense (k, k)


def _model(result: Any) -> _Model:
    """The design, responses, estimates and weights of a supported result."""
    from srma.analysis.metareg import MetaRegressionResult
    from srma.analysis.multilevel import MultilevelResult
    from srma.analysis.results import MetaResult

    if isinstance(result, MetaResult):
        if result.method in COUNT_METHODS or result.estimate is None:
            raise InputError(
                f"robust() needs an inverse-variance fit; a {result.method} pooled estimate "
                "has other weights"
            )
        refuse_user_weights(result, "robust()")
        tau2 = result.tau2 or 0.0
        vi = np.asarray(result.vi, dtype=float)
        return _Model(
            kind="meta",
            method=result.method,
            tau2=result.tau2,
            names=("intercept",),
            labels=result.labels,
            X=np.ones((result.k, 1)),
            y=np.asarray(result.yi, dtype=float),
            beta=np.array([result.estimate]),
            weights=1.0 / (vi + tau2),
        )
    if isinstance(result, MetaRegressionResult):
        vi = np.asarray(result.vi, dtype=float)
        return _Model(
            kind="meta_regression",
            method=result.method,
            tau2=result.tau2,
            names=result.names,
            labels=result.labels,
            X=np.asarray(result.X, dtype=float),
            y=np.asarray(result.yi, dtype=float),
            beta=np.asarray(result.estimate, dtype=float),
            weights=1.0 / (vi + (result.tau2 or 0.0)),
        )
    if isinstance(result, MultilevelResult):
        return _Model(
            kind="meta_mv",
            method=result.method,
            tau2=None,
            names=tuple(row.name for row in result.coefficients),
            labels=result.labels,
            X=np.asarray(result.design_matrix, dtype=float),
            y=np.asarray(result.yi, dtype=float),
            beta=np.array([row.estimate for row in result.coefficients]),
            weights=np.linalg.inv(np.asarray(result.marginal_covariance, dtype=float)),
        )
    raise InputError(
        "robust() takes a result of meta(), meta_regression() or meta_mv(), got "
        f"{type(result).__name__}"
    )


def _cluster_labels(
    cluster: str | Sequence[Any] | pd.Series,
    model: _Model,
    data: pd.DataFrame | None,
    source: str | None,
) -> np.ndarray:
    """The cluster of each study in the model, checked: aligned, no missing label."""
    k = model.X.shape[0]
    column = None
    if isinstance(cluster, str):
        if data is None:
            raise InputError(
                f"cluster {cluster!r} names a column: pass the table as data= (one row per "
                "study in the model), or give the labels themselves",
                file=source,
            )
        require_columns(data, [cluster], source=source)
        column = cluster
        values = data[cluster]
    else:
        values = pd.Series(list(cluster) if not isinstance(cluster, pd.Series) else cluster)
    if len(values) != k:
        raise InputError(
            f"{len(values)} cluster labels for the {k} studies in the model: give one per "
            "study, in the model's order (without the studies it omitted)",
            file=source,
            column=column,
        )
    labels = values.reset_index(drop=True)
    blank = labels.isna() | (labels.astype(str).str.strip() == "")
    if blank.any():
        position = int(np.flatnonzero(blank.to_numpy())[0])
        raise InputError(
            f"the cluster of study {model.labels[position]!r} is missing; every study needs "
            "a cluster",
            file=source,
            row=position + 1 if column is not None else None,
            column=column,
        )
    text = labels.astype(str).str.strip().to_numpy()
    n_clusters = np.unique(text).size
    if n_clusters < 2:
        raise InputError(
            f"all {k} studies are in one cluster ({text[0]!r}): cluster-robust variance needs "
            "at least two clusters (and is only trustworthy with many more)",
            file=source,
            column=column,
        )
    return text


def _check_nesting(model: _Model, clusters: np.ndarray) -> None:
    """A dense working covariance must not link studies of different clusters."""
    if model.weights.ndim == 1:
        return
    across = (clusters[:, None] != clusters[None, :]) & (model.weights != 0)
    if across.any():
        i, j = np.argwhere(across)[0]
        raise InputError(
            f"the model's covariance links study {model.labels[i]!r} (cluster "
            f"{clusters[i]!r}) with study {model.labels[j]!r} (cluster {clusters[j]!r}): its "
            "random effects must be nested within the clusters; cluster at a higher level"
        )


def robust(
    result: Any,
    cluster: str | Sequence[Any] | pd.Series,
    *,
    adjust: str = "CR2",
    test: str = "satterthwaite",
    level: float = 0.95,
    data: pd.DataFrame | None = None,
    source: str | None = None,
) -> RobustResult:
    """Cluster-robust standard errors, tests and intervals for a fitted model (module docstring).

    ``cluster``: one label per study in the model (in its order, without the
    studies it omitted), or the name of a column of ``data`` holding them.
    Warns (Tipton 2015) where a Satterthwaite df is below 4: its p-value and
    interval are then not to be trusted.
    """
    options = validate_options("robust", adjust=adjust, test=test, level=level)
    adjust, test = options["adjust"], options["test"]
    model = _model(result)
    clusters = _cluster_labels(cluster, model, data, source)
    _check_nesting(model, clusters)
    k, p = model.X.shape
    n_clusters = int(np.unique(clusters).size)
    if test == "t" and n_clusters <= p:
        raise InputError(
            f"{n_clusters} clusters cannot give a t test with J - p df for {p} coefficients; "
            "use test='satterthwaite'"
        )
    residuals = model.y - model.X @ model.beta
    arrays = cluster_robust(model.X, model.weights, residuals, clusters, adjust=adjust)
    tests = robust_tests(model.beta, arrays, test=test, level=level, n_params=p)
    notes: list[str] = []
    if test == "satterthwaite":
        small = [
            f"{name} ({df:.2f})"
            for name, df in zip(model.names, arrays.df[0], strict=True)
            if df < SMALL_DF
        ]
        if small:
            notes.append(
                f"Satterthwaite df below {SMALL_DF:g} for {', '.join(small)}: the p-values "
                "and intervals of these coefficients are unreliable (Tipton 2015)"
            )
    moderator_test = _moderator_test(model, arrays, test, n_clusters) if p > 1 else None
    for note in notes:
        warnings.warn(note, SrmaWarning, stacklevel=2)
    rows = tuple(
        RobustCoefficient(
            name=name,
            estimate=float(model.beta[i]),
            se=float(arrays.se[0, i]),
            statistic=float(tests["statistic"][0, i]),
            df=optional_float(tests["df"][0, i]),
            pvalue=float(tests["pvalue"][0, i]),
            ci_lower=float(tests["ci_lower"][0, i]),
            ci_upper=float(tests["ci_upper"][0, i]),
        )
        for i, name in enumerate(model.names)
    )
    return RobustResult(
        model=model.kind,
        method=model.method,
        tau2=model.tau2,
        adjust=adjust,
        test=test,
        level=level,
        k=k,
        n_clusters=n_clusters,
        coefficients=rows,
        vcov=tuple(tuple(map(float, row)) for row in arrays.vcov[0]),
        moderator_test=moderator_test,
        warnings=tuple(notes),
    )


def _moderator_test(
    model: _Model, arrays: RobustArrays, test: str, n_clusters: int
) -> dict[str, float | None]:
    """The test that every coefficient but the intercept is zero."""
    p = model.X.shape[1]
    contrasts = np.eye(p)[1:]
    if test == "satterthwaite":
        wald = arrays.wald_test(model.beta, contrasts)
        return {name: optional_float(values[0]) for name, values in wald.items()}
    b = model.beta[1:]
    vcov = arrays.vcov[0][1:, 1:]
    quadratic = float(b @ np.linalg.solve(vcov, b))
    m = p - 1
    if test == "t":
        statistic = quadratic / m
        df2 = float(n_clusters - p)
        return {
            "statistic": statistic,
            "df_num": float(m),
            "df_denom": df2,
            "pvalue": float(f_pvalue(statistic, m, df2)),
        }
    return {
        "statistic": quadratic,
        "df_num": float(m),
        "df_denom": None,
        "pvalue": float(chi2_pvalue(quadratic, m)),
    }
