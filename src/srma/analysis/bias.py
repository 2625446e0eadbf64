"""Small-study effects and publication bias for a pooled result.

``small_study_tests(result)`` runs Egger's test (classic and mixed-effects
forms), Begg and Mazumdar's rank test, trim-and-fill and the three fail-safe
Ns, and, given per-arm counts, Peters' and Harbord's tests; each is also a
function of its own (:func:`egger_test`, :func:`rank_test`,
:func:`trim_and_fill`, :func:`fail_safe_n`, :func:`peters_test`,
:func:`harbord_test`), and :func:`funnel_contours` gives what a
contour-enhanced funnel plot needs.  The numerics, formulas and references
are in :mod:`srma.stats.bias`; the numbers agree with metafor's ``regtest``,
``ranktest``, ``trimfill`` and ``fsn`` and with R's ``lm()`` fits of Peters'
and Harbord's regressions (tests/reference/bias.R).

Too few studies.  The regression and rank tests and trim-and-fill need at
least 3 studies with differing standard errors.  The functions of one test
raise :class:`~srma.errors.InputError` when the test is undefined (too few
studies, no spread in the predictor, an exact fit); :func:`small_study_tests`
instead leaves that test ``None`` and says why in ``notes``, so that a report
or the command line always gets the tests that are defined.  With fewer than
10 studies every result carries the Cochrane Handbook's caution (section
13.3.5.4): the tests then have too little power to tell chance from real
asymmetry (``low_power``, ``low_power_note``).

Models.  Refits (the mixed-effects Egger test, the side and the filled
analysis of trim-and-fill) use the result's tau² method and test;
Mantel-Haenszel and Peto results are refitted as inverse-variance common-effect
models, as metafor does.  metafor's ``trimfill`` refits the filled data with a
z test whatever the model's test; srma keeps the model's test.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from srma import vocabulary
from srma.analysis.results import MetaResult, optional_float, refuse_user_weights
from srma.analysis.validation import validate_options
from srma.errors import InputError, SrmaWarning
from srma.formatting import format_count, format_p
from srma.stats import bias as engine
from srma.stats.batch import as_batch

LOW_POWER_NOTE = (
    "fewer than 10 studies: tests for funnel plot asymmetry have too little power to "
    "distinguish chance from real asymmetry (Cochrane Handbook 13.3.5.4)"
)
#: Studies below which the tests are not worth much (Cochrane Handbook 13.3.5.4).
LOW_POWER_K = 10
#: Fewest studies a regression or rank test, or trim-and-fill, is computed for.
MIN_STUDIES = 3
COUNT_METHODS = frozenset({"MH", "PETO"})
COUNT_COLUMNS = ("events1", "total1", "events2", "total2", "a", "b", "c", "d")
FAIL_SAFE_TYPES = vocabulary.FAIL_SAFE_TYPES
EGGER_MODELS = vocabulary.EGGER_MODELS


def _arrays(result: MetaResult) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    y, v = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    usable = np.isfinite(y) & np.isfinite(v)
    labels = tuple(label for label, keep in zip(result.labels, usable, strict=False) if keep)
    return y[usable], v[usable], labels


def _model(result: MetaResult) -> tuple[str, str]:
    """The tau² method and test of refits (inverse variance; MH and Peto as common effect)."""
    if result.method in COUNT_METHODS:
        return "EE", "z"
    return result.method, result.test


def _need_studies(k: int, what: str) -> None:
    if k < MIN_STUDIES:
        raise InputError(f"{what} needs at least {MIN_STUDIES} studies, got {k}")


def _float(value: Any) -> float | None:
    return optional_float(value)


# --- regression tests -------------------------------------------------------------


@dataclass(frozen=True)
class EggerTest:
    """Egger's regression test for funnel plot asymmetry.

    ``model`` is ``"lm"`` (the classic form: weighted least squares, t on
    ``k - 2`` df; Stata's ``metabias``; ``method`` "WLS", ``test`` "t") or
    ``"rma"`` (the mixed-effects form, metafor's default, with the result's
    tau² ``method`` and ``test``).  ``coefficient`` is the
    slope on ``predictor`` and is what is tested; with ``predictor="sei"`` in
    the classic form it is Egger's bias coefficient, the intercept of the
    standard normal deviate on precision (``intercept``).  ``limit_estimate``
    is the effect of a study of infinite precision (metafor's ``est``) with
    its interval at ``level``; None for the predictors ``ni`` and ``sqrtni``.
    """

    model: str
    predictor: str
    method: str
    test: str
    level: float
    k: int
    statistic: float
    df: float | None
    pvalue: float
    coefficient: float
    coefficient_se: float
    limit_estimate: float | None
    limit_ci_lower: float | None
    limit_ci_upper: float | None
    tau2: float | None

    @property
    def intercept(self) -> float | None:
        """Egger's bias coefficient: the intercept of ``y/se`` on ``1/se`` (classic form, sei)."""
        if self.model == "lm" and self.predictor == "sei":
            return self.coefficient
        return None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["intercept"] = self.intercept
        return out

    def summary(self) -> str:
        form = "classic" if self.model == "lm" else "mixed-effects"
        name = "z" if self.df is None else f"t({format_count(self.df)})"
        return (
            f"Egger ({form}, on {self.predictor}): coefficient = {self.coefficient:.4f}, "
            f"{name} = {self.statistic:.3f}, {format_p(self.pvalue)}"
        )


def _regression_values(fit: engine.RegressionTestArrays, what: str) -> dict[str, float | None]:
    values = {
        name: _float(getattr(fit, name)[0])
        for name in (
            "statistic",
            "df",
            "pvalue",
            "coefficient",
            "coefficient_se",
            "limit_estimate",
            "limit_ci_lower",
            "limit_ci_upper",
            "tau2",
        )
    }
    if values["coefficient"] is None:
        raise InputError(f"{what} is undefined: the predictor does not vary between studies")
    if values["pvalue"] is None:
        raise InputError(f"{what} is undefined: the regression fits the data exactly")
    return values


def egger_test(
    result: MetaResult,
    *,
    model: str = "lm",
    predictor: str = "sei",
    ni: ArrayLike | None = None,
) -> EggerTest:
    """Egger's regression test of a pooled result (metafor's ``regtest``).

    ``model="lm"``: the classic form, ``regtest(model = "lm")``; ``"rma"``:
    the mixed-effects form with the result's tau² method and test, metafor's
    default.  ``predictor`` is ``"sei"`` (Egger's test), ``"vi"``, or, with
    the study sizes ``ni`` (one per study of the result), ``"ni"``,
    ``"ninv"`` (Peters' form), ``"sqrtni"`` or ``"sqrtninv"``.  Raises
    :class:`InputError` when the test is undefined, and for ``"rma"`` on a fit
    at user weights (``meta(weights=)``), which its meta-regression does not take.
    """
    validate_options("egger_test", model=model, predictor=predictor)
    if model == "rma":
        refuse_user_weights(result, "the mixed-effects Egger test (egger_test(model='rma'))")
    y, v, _ = _arrays(result)
    sizes = None
    if predictor in engine.SIZE_PREDICTORS:
        if ni is None:
            raise InputError(f"predictor {predictor!r} needs the study sizes ni")
        all_sizes = np.asarray(ni, dtype=float)
        if all_sizes.shape != (len(result.yi),):
            raise InputError(
                f"ni must give one size per study ({len(result.yi)}), got shape {all_sizes.shape}"
            )
        usable = np.isfinite(np.asarray(result.yi, dtype=float)) & np.isfinite(
            np.asarray(result.vi, dtype=float)
        )
        sizes = all_sizes[usable]
        if np.any(~np.isfinite(sizes) | (sizes <= 0)):
            raise InputError("ni must be positive study sizes")
    _need_studies(y.size, "Egger's test")
    batch = as_batch(y, v)
    method, test = _model(result)
    if model == "lm":
        fit = engine.egger_classic(batch, predictor=predictor, n=sizes, level=result.level)
        method, test = "WLS", "t"
    else:
        # every tau² method of the result (PMM included) fits the meta-regression
        fit = engine.egger_mixed(
            batch, method=method, test=test, predictor=predictor, n=sizes, level=result.level
        )
    what = "Egger's test" if model == "lm" else "the mixed-effects Egger test"
    values = _regression_values(fit, what)
    return EggerTest(
        model=model,
        predictor=predictor,
        method=method,
        test=test,
        level=result.level,
        k=int(y.size),
        statistic=float(values["statistic"]),  # type: ignore[arg-type]
        df=values["df"],
        pvalue=float(values["pvalue"]),  # type: ignore[arg-type]
        coefficient=float(values["coefficient"]),  # type: ignore[arg-type]
        coefficient_se=float(values["coefficient_se"]),  # type: ignore[arg-type]
        limit_estimate=values["limit_estimate"],
        limit_ci_lower=values["limit_ci_lower"],
        limit_ci_upper=values["limit_ci_upper"],
        tau2=values["tau2"] if model == "rma" else None,
    )


@dataclass(frozen=True)
class BinaryBiasTest:
    """Peters' or Harbord's regression test for 2x2 tables (t on ``k - 2`` df).

    Peters: ``coefficient`` is the slope of ``log OR`` on ``1/N``,
    ``limit_estimate`` the intercept.  Harbord: ``coefficient`` is the
    intercept of ``Z/sqrt(V)`` on ``sqrt(V)``, ``limit_estimate`` the slope
    (an estimate of the log odds ratio).  ``k`` counts the tables used
    (those with events and non-events).
    """

    name: str
    k: int
    statistic: float
    df: float
    pvalue: float
    coefficient: float
    coefficient_se: float
    limit_estimate: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return (
            f"{self.name}: coefficient = {self.coefficient:.4f}, t({format_count(self.df)}) = "
            f"{self.statistic:.3f}, {format_p(self.pvalue)}"
        )


def _counts(
    counts: pd.DataFrame | Mapping[str, ArrayLike], columns: Mapping[str, str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Events and group sizes from ``events1, total1, events2, total2`` or cells ``a, b, c, d``."""
    from srma.analysis.effect_sizes import binary_cells

    frame = counts if isinstance(counts, pd.DataFrame) else pd.DataFrame(dict(counts))
    cells = {k: v for k, v in columns.items() if k in COUNT_COLUMNS}
    a, b, c, d = (np.asarray(x, dtype=float) for x in binary_cells(frame, cells, None))
    return a, a + b, c, c + d


def _binary_test(
    name: str,
    function: Any,
    counts: pd.DataFrame | Mapping[str, ArrayLike],
    columns: Mapping[str, str],
    level: float,
) -> BinaryBiasTest:
    events1, total1, events2, total2 = _counts(counts, columns)
    events = events1 + events2
    informative = (events > 0) & (events < total1 + total2)
    if informative.sum() < MIN_STUDIES:
        raise InputError(
            f"{name}'s test needs at least {MIN_STUDIES} tables with events and non-events, "
            f"got {int(informative.sum())}"
        )
    fit = function(events1, total1, events2, total2, level=level)
    values = _regression_values(fit, f"{name}'s test")
    return BinaryBiasTest(
        name=name,
        k=int(fit.k[0]),
        statistic=float(values["statistic"]),  # type: ignore[arg-type]
        df=float(values["df"]),  # type: ignore[arg-type]
        pvalue=float(values["pvalue"]),  # type: ignore[arg-type]
        coefficient=float(values["coefficient"]),  # type: ignore[arg-type]
        coefficient_se=float(values["coefficient_se"]),  # type: ignore[arg-type]
        limit_estimate=values["limit_estimate"],
    )


def peters_test(
    counts: pd.DataFrame | Mapping[str, ArrayLike], *, level: float = 0.95, **columns: str
) -> BinaryBiasTest:
    """Peters' test (JAMA 2006;295:676): ``log OR`` on ``1/N``, weights ``S F / N``.

    ``counts`` has one row per study with ``events1, total1, events2,
    total2`` or the cells ``a, b, c, d`` (a mapping of arrays works too);
    ``columns`` maps those roles to other column names.  Tables without
    events or without non-events drop out; zero cells get escalc's 0.5.
    """
    validate_options("peters_test", level=level)
    return _binary_test("Peters", engine.peters, counts, columns, level)


def harbord_test(
    counts: pd.DataFrame | Mapping[str, ArrayLike], *, level: float = 0.95, **columns: str
) -> BinaryBiasTest:
    """Harbord's score test (Stat Med 2006;25:3443): ``Z/sqrt(V)`` on ``sqrt(V)``, intercept.

    ``counts`` as :func:`peters_test`.
    """
    validate_options("harbord_test", level=level)
    return _binary_test("Harbord", engine.harbord, counts, columns, level)


# --- rank test -----------------------------------------------------------------


@dataclass(frozen=True)
class RankTest:
    """Begg and Mazumdar's rank correlation test (metafor's ``ranktest``).

    ``tau`` is Kendall's tau-b, ``score`` Kendall's S (concordant minus
    discordant pairs); ``exact`` says whether the p-value comes from the exact
    null distribution (no ties) or the normal approximation.
    """

    k: int
    tau: float
    score: float
    pvalue: float
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        return f"Begg: Kendall's tau = {self.tau:.4f}, {format_p(self.pvalue)}"


def rank_test(result: MetaResult) -> RankTest:
    """Begg and Mazumdar's test of a pooled result; InputError when undefined."""
    y, v, _ = _arrays(result)
    _need_studies(y.size, "the rank correlation test")
    fit = engine.begg(as_batch(y, v))
    tau = _float(fit.tau[0])
    if tau is None:
        raise InputError(
            "the rank correlation test is undefined: every study has the same effect "
            "or the same variance"
        )
    return RankTest(
        k=int(y.size),
        tau=tau,
        score=float(fit.score[0]),
        pvalue=float(fit.pvalue[0]),
        exact=bool(fit.exact[0]),
    )


# --- trim-and-fill ----------------------------------------------------------------


@dataclass(frozen=True)
class TrimFill:
    """Trim-and-fill: the number and side of missing studies, the imputed studies, the refit.

    ``side`` is where studies are missing (``side_estimated``: from the sign
    of the slope of the studies' effects on their standard errors, as
    metafor; ``side_slope`` is that slope, None when the side was given).
    ``imputed_yi``/``imputed_vi`` are the filled-in studies,
    ``2 mu - y_i`` for the ``k0`` most extreme studies with ``mu`` the last
    trimmed estimate (``trimmed_estimate``); ``filled`` is the analysis of the
    original and imputed studies with the result's method and test.
    ``k0_pvalue`` (R0 only) is ``0.5^(k0+1)``, metafor's ``p.k0``.
    """

    estimator: str
    side: str
    side_estimated: bool
    side_slope: float | None
    k0: int
    k0_se: float | None
    k0_pvalue: float | None
    trimmed_estimate: float
    imputed_yi: tuple[float, ...]
    imputed_vi: tuple[float, ...]
    imputed_labels: tuple[str, ...]
    iterations: int
    filled: MetaResult

    @property
    def estimate(self) -> float | None:
        return self.filled.estimate

    @property
    def se(self) -> float | None:
        return self.filled.se

    @property
    def ci_lower(self) -> float | None:
        return self.filled.ci_lower

    @property
    def ci_upper(self) -> float | None:
        return self.filled.ci_upper

    @property
    def pvalue(self) -> float | None:
        return self.filled.pvalue

    @property
    def tau2(self) -> float | None:
        return self.filled.tau2

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "k0": self.k0,
            "k0_se": self.k0_se,
            "k0_pvalue": self.k0_pvalue,
            "side": self.side,
            "side_estimated": self.side_estimated,
            "side_slope": self.side_slope,
            "k": self.filled.k,
            "method": self.filled.method,
            "test": self.filled.test,
            "estimate": self.filled.estimate,
            "se": self.filled.se,
            "statistic": self.filled.statistic,
            "pvalue": self.filled.pvalue,
            "df": self.filled.df,
            "ci_lower": self.filled.ci_lower,
            "ci_upper": self.filled.ci_upper,
            "tau2": self.filled.tau2,
            "i2": self.filled.i2,
            "trimmed_estimate": self.trimmed_estimate,
            "exp": self.filled.back_transformed(),
            "imputed": [
                {"label": label, "yi": y, "vi": v}
                for label, y, v in zip(
                    self.imputed_labels, self.imputed_yi, self.imputed_vi, strict=True
                )
            ],
        }

    def summary(self) -> str:
        return (
            f"Trim-and-fill ({self.estimator}): {self.k0} "
            f"{'study' if self.k0 == 1 else 'studies'} imputed on the {self.side}; "
            f"filled estimate {self.filled.estimate:.4f} "
            f"[{self.filled.ci_lower:.4f}, {self.filled.ci_upper:.4f}]"
        )


#: The name figures and reports import.
TrimFillResult = TrimFill


def trim_and_fill(
    result: MetaResult,
    *,
    estimator: str = "L0",
    side: str | None = None,
    max_iterations: int = 100,
) -> TrimFill:
    """Duval and Tweedie's trim-and-fill of a pooled result (metafor's ``trimfill``).

    ``estimator`` is ``"L0"`` or ``"R0"``; ``side`` (``"left"`` or
    ``"right"``, where studies are missing) is estimated when not given.
    Raises :class:`InputError` with fewer than 3 studies, an unknown
    estimator or side, or a side that cannot be estimated (equal variances);
    RuntimeError if ``k0`` does not settle within ``max_iterations``.

    A Mantel-Haenszel or Peto result is refused (InputError): the studies
    trim-and-fill imputes are mirror images ``2 mu - y_i`` of effect sizes,
    with no 2x2 table, so the filled data cannot be pooled by the method the
    result follows, and refitting them by inverse variance would answer a
    question about another model (metafor's ``trimfill`` likewise takes
    ``rma.uni`` fits only).  Run it on an inverse-variance fit of the same
    effect sizes, ``meta(data, measure=..., method="EE")`` (or a
    random-effects method), and report it as such.
    """
    from srma.analysis.meta import meta

    if result.method in COUNT_METHODS:
        article = "an" if result.method == "MH" else "a"
        raise InputError(
            f"trim-and-fill is not defined for {article} {result.method} result: the imputed "
            "studies are mirrored effect sizes without 2x2 tables, so they cannot be pooled by "
            f"{result.method} (metafor's trimfill takes rma.uni fits only); run it on an "
            "inverse-variance fit of the same data, e.g. meta(data, measure=..., method='EE')"
        )

    validate_options("trim_and_fill", estimator=estimator, side=side, max_iterations=max_iterations)
    refuse_user_weights(result, "trim_and_fill()")
    y, v, labels = _arrays(result)
    _need_studies(y.size, "trim-and-fill")
    method, test = _model(result)
    batch = as_batch(y, v)
    if side is None:
        sides, slope = engine.estimate_side(batch, method=method)
        if not np.isfinite(slope[0]):
            raise InputError(
                "the side of trim-and-fill cannot be estimated: every study has the same "
                "variance; give side='left' or 'right'"
            )
        side_used, side_slope = str(sides[0]), float(slope[0])
    else:
        side_used, side_slope = side, None
    fill = engine.trim_and_fill(
        batch,
        method=method,
        estimator=estimator,
        side=side_used,
        test=test,
        level=result.level,
        max_iterations=max_iterations,
    )
    if not fill.converged[0]:
        raise RuntimeError(
            f"trim-and-fill did not converge in {max_iterations} iterations "
            "(k0 keeps changing; metafor's trimfill stops likewise)"
        )
    k0 = int(fill.k0[0])
    imputed_y = fill.imputed_y[0, :k0]
    imputed_v = fill.imputed_v[0, :k0]
    imputed_labels = tuple(f"Filled {i + 1}" for i in range(k0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        filled = meta(
            np.concatenate([y, imputed_y]),
            np.concatenate([v, imputed_v]),
            measure=result.measure,
            method=method,
            test=test,
            level=result.level,
            pi_type=result.pi_type,
            labels=[*labels, *imputed_labels],
        )
    return TrimFill(
        estimator=estimator,
        side=side_used,
        side_estimated=side is None,
        side_slope=side_slope,
        k0=k0,
        k0_se=_float(fill.k0_se[0]),
        k0_pvalue=_float(fill.k0_pvalue[0]),
        trimmed_estimate=float(fill.trimmed_estimate[0]),
        imputed_yi=tuple(map(float, imputed_y)),
        imputed_vi=tuple(map(float, imputed_v)),
        imputed_labels=imputed_labels,
        iterations=int(fill.iterations[0]),
        filled=filled,
    )


# --- fail-safe N ---------------------------------------------------------------------


@dataclass(frozen=True)
class FailSafeN:
    """A fail-safe N (metafor's ``fsn``) with what it was computed from.

    ``n`` is None where it is unbounded (Orwin with a zero target).
    Rosenthal: ``pvalue`` is the one-sided p of Stouffer's z; Rosenberg: the
    two-sided p of the common-effect z test; Orwin: ``target`` and the
    (``weighted`` or unweighted) ``mean_effect``; Fisher: the p of Fisher's
    combined chi-square of the studies' one-sided p-values.
    """

    type: str
    n: int | None
    alpha: float | None
    target: float | None
    mean_effect: float | None
    pvalue: float | None
    weighted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fail_safe_n(
    result: MetaResult,
    type: str = "Rosenthal",
    *,
    alpha: float = 0.05,
    target: float | None = None,
    weighted: bool = False,
) -> FailSafeN:
    """The fail-safe N of a pooled result: ``"Rosenthal"``, ``"Orwin"``, ``"Rosenberg"``
    or ``"Fisher"``.

    ``alpha`` is the significance level (Rosenthal and Fisher one-sided,
    Rosenberg two-sided); ``target`` (Orwin) the mean effect to reduce to, by
    default half the observed; ``weighted`` (Orwin) uses the inverse-variance
    mean.  Fisher: :func:`srma.stats.bias.fail_safe_fisher` (Becker 2005), not in metafor 3.8-1.
    """
    validate_options("fail_safe_n", type=type, alpha=alpha, target=target, weighted=weighted)
    y, v, _ = _arrays(result)
    if y.size == 0:
        raise InputError("fail-safe N needs at least one study")
    batch = as_batch(y, v)
    if type == "Fisher":
        n_fisher, p_fisher = engine.fail_safe_fisher(y, v, alpha=alpha)
        return FailSafeN(type=type, n=n_fisher, alpha=alpha, target=None, mean_effect=None,
                         pvalue=p_fisher)  # fmt: skip
    if type == "Rosenthal":
        fit = engine.fail_safe_rosenthal(batch, alpha=alpha)
    elif type == "Rosenberg":
        fit = engine.fail_safe_rosenberg(batch, alpha=alpha)
    else:
        fit = engine.fail_safe_orwin(batch, target=target, weighted=weighted)
    n = float(fit.n[0])
    return FailSafeN(
        type=type,
        n=int(n) if math.isfinite(n) else None,
        alpha=None if type == "Orwin" else alpha,
        target=_float(fit.target[0]),
        mean_effect=_float(fit.mean_effect[0]),
        pvalue=_float(fit.pvalue[0]),
        weighted=weighted if type == "Orwin" else False,
    )


# --- everything at once --------------------------------------------------------------


@dataclass(frozen=True)
class SmallStudyResult:
    """Every small-study-effect analysis of one meta-analysis.

    A test that is undefined for these data is None, with the reason in
    ``notes``.  ``failsafe`` maps ``"rosenthal"``, ``"orwin"`` and
    ``"rosenberg"`` to their :class:`FailSafeN`.
    """

    k: int
    egger: EggerTest | None
    egger_mixed: EggerTest | None
    begg: RankTest | None
    trimfill: TrimFill | None
    failsafe: Mapping[str, FailSafeN]
    peters: BinaryBiasTest | None = None
    harbord: BinaryBiasTest | None = None
    notes: tuple[str, ...] = field(default=())
    method: str | None = None
    test: str | None = None

    @property
    def low_power(self) -> bool:
        """True with fewer than 10 studies (Cochrane Handbook 13.3.5.4)."""
        return self.k < LOW_POWER_K

    @property
    def low_power_note(self) -> str | None:
        """The Cochrane Handbook's caution when there are fewer than 10 studies."""
        return LOW_POWER_NOTE if self.low_power else None

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return None if value is None else value.to_dict()

        return {
            "k": self.k,
            "method": self.method,
            "test": self.test,
            "low_power": self.low_power,
            "low_power_note": self.low_power_note,
            "egger": plain(self.egger),
            "egger_mixed": plain(self.egger_mixed),
            "begg": plain(self.begg),
            "trimfill": plain(self.trimfill),
            "failsafe": {name: value.to_dict() for name, value in self.failsafe.items()},
            "peters": plain(self.peters),
            "harbord": plain(self.harbord),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [f"Small-study effects (k = {self.k})"]
        if self.low_power:
            lines.append(f"note: {LOW_POWER_NOTE}")
        for test in (
            self.egger,
            self.egger_mixed,
            self.begg,
            self.peters,
            self.harbord,
            self.trimfill,
        ):
            if test is not None:
                lines.append(test.summary())
        for name, value in self.failsafe.items():
            shown = "unbounded" if value.n is None else str(value.n)
            lines.append(f"Fail-safe N ({name.capitalize()}): {shown}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def small_study_tests(
    result: MetaResult,
    *,
    counts: pd.DataFrame | Mapping[str, ArrayLike] | None = None,
    estimator: str = "L0",
    side: str | None = None,
    alpha: float = 0.05,
    orwin_target: float | None = None,
    predictor: str = "sei",
    ni: ArrayLike | None = None,
    **columns: str,
) -> SmallStudyResult:
    """Run every test for small-study effects on a pooled result.

    Egger's test in its classic (``egger``) and mixed-effects
    (``egger_mixed``) forms on ``predictor`` (``ni`` gives study sizes for the
    size predictors), Begg's rank test, trim-and-fill (``estimator``,
    ``side``), and the Rosenthal, Orwin (``orwin_target``) and Rosenberg
    fail-safe Ns at ``alpha``.  ``counts`` (one row per study, with
    ``events1, total1, events2, total2`` or ``a, b, c, d``, renamed by
    keyword as in :func:`srma.meta`) adds Peters' and Harbord's tests.  A test
    that is undefined for the data is None and ``notes`` says why; options
    that are wrong (an unknown estimator, side or predictor) raise
    :class:`InputError`.
    """
    validate_options(
        "small_study_tests",
        estimator=estimator,
        side=side,
        alpha=alpha,
        orwin_target=orwin_target,
        predictor=predictor,
    )
    y, _, _ = _arrays(result)
    method, test = _model(result)
    notes: list[str] = []

    def attempt(run: Any) -> Any:
        try:
            return run()
        except (InputError, RuntimeError) as error:
            notes.append(str(error))
            return None

    if y.size < MIN_STUDIES:
        notes.append(
            f"regression and rank tests and trim-and-fill need at least {MIN_STUDIES} studies"
        )
        egger = egger_mixed = begg = fill = None
    else:
        egger = attempt(lambda: egger_test(result, model="lm", predictor=predictor, ni=ni))
        egger_mixed = attempt(
            lambda: egger_test(result, model="rma", predictor=predictor, ni=ni),
        )
        begg = attempt(lambda: rank_test(result))
        fill = attempt(lambda: trim_and_fill(result, estimator=estimator, side=side))
    peters = harbord = None
    if counts is not None:
        peters = attempt(lambda: peters_test(counts, **columns))
        harbord = attempt(lambda: harbord_test(counts, **columns))
    failsafe = {}
    if y.size:
        failsafe = {
            "rosenthal": fail_safe_n(result, "Rosenthal", alpha=alpha),
            "orwin": fail_safe_n(result, "Orwin", target=orwin_target),
            "rosenberg": fail_safe_n(result, "Rosenberg", alpha=alpha),
        }
    return SmallStudyResult(
        k=int(y.size),
        egger=egger,
        egger_mixed=egger_mixed,
        begg=begg,
        trimfill=fill,
        failsafe=failsafe,
        peters=peters,
        harbord=harbord,
        notes=tuple(notes),
        method=method,
        test=test,
    )


# --- contour-enhanced funnel plots ---------------------------------------------------


@dataclass(frozen=True)
class FunnelContours:
    """What a contour-enhanced funnel plot needs: a grid of SEs and the region edges.

    ``levels`` maps each significance level to the (lower, upper) effects at
    which a study with the grid's standard errors has two-sided ``p = level``
    in a z test against ``null``; outside them, ``p < level``.  Effects are on
    the analysis scale (log scale for ratios).  ``studies`` holds each
    study's label, yi and se.
    """

    se: tuple[float, ...]
    null: float
    levels: dict[float, tuple[tuple[float, ...], tuple[float, ...]]]
    estimate: float | None
    studies: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {
            "se": list(self.se),
            "null": self.null,
            "estimate": self.estimate,
            "levels": [
                {"level": level, "lower": list(lower), "upper": list(upper)}
                for level, (lower, upper) in self.levels.items()
            ],
            "studies": self.studies.to_dict(orient="records"),
        }


def funnel_contours(
    result: MetaResult,
    levels: tuple[float, ...] = (0.10, 0.05, 0.01),
    *,
    points: int = 50,
    null: float = 0.0,
) -> FunnelContours:
    """Edges of the regions where a study reaches two-sided ``p < level`` (Peters et al. 2008).

    The grid of standard errors runs from 0 to 5% beyond the largest
    study's; ``null`` is the effect tested against (0 on the analysis scale:
    a ratio of 1).
    """
    if not levels or any(not 0.0 < level < 1.0 for level in levels):
        raise InputError(f"levels must lie between 0 and 1, got {levels}")
    if points < 2:
        raise InputError(f"points must be at least 2, got {points}")
    _, v, _ = _arrays(result)
    if v.size == 0:
        raise InputError("a funnel plot needs at least one study")
    se = np.linspace(0.0, float(np.sqrt(v.max())) * 1.05, points)
    bounds = engine.contour_bounds(se, tuple(levels), null=null)
    frame = result.to_frame()
    return FunnelContours(
        se=tuple(map(float, se)),
        null=float(null),
        levels={
            float(level): (tuple(map(float, lo)), tuple(map(float, hi)))
            for level, (lo, hi) in bounds.items()
        },
        estimate=result.estimate,
        studies=frame[["label", "yi", "se"]],
    )
