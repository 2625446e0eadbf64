"""Result objects of meta-analyses: immutable values that know how to present themselves."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd

from srma.errors import InputError
from srma.formatting import format_count, format_number, format_p
from srma.stats import effects_proportions as proportions
from srma.stats.inference import critical_value
from srma.stats.mantel_haenszel import CountTables
from srma.vocabulary import BACK_TRANSFORMATIONS, METHOD_NAMES, RATIO_MEASURES, TEST_NAMES

# the vocabulary lives in srma.vocabulary; these names stay importable from here
__all__ = [
    "METHOD_NAMES",
    "RATIO_MEASURES",
    "TEST_NAMES",
    "MetaResult",
    "format_p",
    "optional_float",
    "refuse_user_weights",
]

#: Fields of a pooled result, in the order of the public interface.
POOLED_FIELDS = (
    "k",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "df",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "tau",
    "i2",
    "i2_ci_lower",
    "i2_ci_upper",
    "h2",
    "h2_ci_lower",
    "h2_ci_upper",
    "q",
    "q_df",
    "q_pvalue",
)


def optional_float(value: Any) -> float | None:
    """A Python float, or None where the value is undefined (NaN, None)."""
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _format(value: float | None, digits: int = 4) -> str:
    return format_number(value, digits)


#: The fields a ratio measure reports back on the ratio scale (``exp``).
BACK_TRANSFORMED = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")

#: ``log`` of the largest double: a log ratio above it has no ratio that is a double.
LARGEST_LOG = math.log(float(np.finfo(np.float64).max))


def _exp(value: float | None) -> float | None:
    return None if value is None or value > LARGEST_LOG else math.exp(value)


def _inverse(measure: str, values: Any, harmonic_mean_n: float | None) -> np.ndarray:
    """Values of a measure of :data:`BACK_TRANSFORMATIONS` on its natural scale.

    NaN where ``exp`` would be beyond the largest double (PLN, IRLN).
    """
    y = np.asarray(values, dtype=np.float64)
    if measure == "PLO":
        return proportions.expit(y)
    if measure in ("PLN", "IRLN"):
        return np.exp(np.where(y > LARGEST_LOG, np.nan, y))
    if measure == "PAS":
        return proportions.inverse_arcsine(y)
    if measure == "IRS":
        return np.maximum(y, 0.0) ** 2
    return proportions.inverse_freeman_tukey(
        y, np.nan if harmonic_mean_n is None else harmonic_mean_n
    )


def ratio_overflow(values: Mapping[str, float | None]) -> str | None:
    """A warning naming the fields whose ``exp`` is beyond the largest double, or None."""
    names = [name for name in BACK_TRANSFORMED if (values.get(name) or 0.0) > LARGEST_LOG]
    if not names:
        return None
    return (
        f"the ratio of {', '.join(names)} is beyond the largest double (log ratio > "
        f"{LARGEST_LOG:.2f}): left out of the back-transformed values"
    )


@dataclass(frozen=True)
class MetaResult:
    """A pooled meta-analysis: the settings that produced it, its data and its results.

    Numbers are on the analysis scale (log scale for ratio measures);
    :meth:`back_transformed` gives the ratio scale.  Undefined values are None:
    the heterogeneity fields when k = 1, ``df`` under the z test, tau² and its
    interval under a common-effect model, the prediction interval outside a
    random-effects model.  ``weights`` are in percent of the total.  ``tau2_se``
    is the standard error of tau² (metafor's ``se.tau2``).
    """

    measure: str | None
    method: str
    test: str
    level: float
    pi_type: str
    source: str | None
    labels: tuple[str, ...]
    yi: tuple[float, ...]
    vi: tuple[float, ...]
    k: int
    estimate: float | None
    se: float | None
    statistic: float | None
    pvalue: float | None
    df: float | None
    ci_lower: float | None
    ci_upper: float | None
    pi_lower: float | None
    pi_upper: float | None
    tau2: float | None
    tau2_ci_lower: float | None
    tau2_ci_upper: float | None
    tau: float | None
    i2: float | None
    i2_ci_lower: float | None
    i2_ci_upper: float | None
    h2: float | None
    h2_ci_lower: float | None
    h2_ci_upper: float | None
    q: float | None
    q_df: float | None
    q_pvalue: float | None
    weights: tuple[float, ...]
    converged: bool
    iterations: int
    omitted: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    extra: Mapping[str, float | None] = field(default_factory=dict)
    #: MH and Peto: the 2x2 tables and settings, which follow-up analyses refit
    tables: CountTables | None = None
    #: PFT: the harmonic mean of the studies' sizes, for Miller's back-transformation
    harmonic_mean_n: float | None = None
    #: the standard error of tau² as metafor's ``se.tau2``, reported by ``meta()``
    #: (None for a common-effect model, k = 1, a fixed tau², and in subgroup results;
    #: :func:`srma.stats.tau2.tau2_standard_error`)
    tau2_se: float | None = None
    #: the user's weights the studies were pooled at (``meta(weights=)``, metafor's
    #: ``rma.uni(weights=)``), in the order of ``labels``; None: inverse variance
    model_weights: tuple[float, ...] | None = None

    @property
    def is_ratio(self) -> bool:
        """True for measures analysed on the log scale (RR, OR, ROM, PETO...)."""
        return self.measure in RATIO_MEASURES

    def back_transformed(self) -> dict[str, float | None] | None:
        """The estimate and the interval bounds on the natural scale, or None.

        Ratio measures: ``exp``, None where it is beyond the largest double (a
        log ratio above 709.78): the ratio is not a number srma can write
        (:func:`ratio_overflow` says which).  The measures of
        :data:`~srma.vocabulary.BACK_TRANSFORMATIONS`: the pooled proportion or
        rate, by the inverse logit (PLO), ``exp`` (PLN, IRLN), ``sin²`` (PAS,
        metafor's ``transf.iarcsin``), the square (IRS) and, for PFT, Miller's
        (1978) inverse of the double arcsine with ``n`` the harmonic mean of
        the studies' sizes (metafor's ``transf.ipft.hm``; None without it).
        Other measures: None.
        """
        values = {name: getattr(self, name) for name in BACK_TRANSFORMED}
        if self.is_ratio:
            return {name: _exp(value) for name, value in values.items()}
        if self.measure not in BACK_TRANSFORMATIONS:
            return None
        if self.measure == "PFT" and self.harmonic_mean_n is None:
            return None
        return {
            name: None
            if value is None
            else optional_float(_inverse(self.measure, value, self.harmonic_mean_n))
            for name, value in values.items()
        }

    def natural_scale(self, values: Any) -> np.ndarray | None:
        """Values on the analysis scale (per-study ``yi``, interval bounds) on the natural scale.

        ``exp`` for ratio measures, the inverse transformation of
        :meth:`back_transformed` for the measures of
        :data:`~srma.vocabulary.BACK_TRANSFORMATIONS`, None for other measures.
        """
        y = np.asarray(values, dtype=np.float64)
        if self.is_ratio:
            with np.errstate(over="ignore"):
                return np.exp(y)
        if self.measure not in BACK_TRANSFORMATIONS:
            return None
        if self.measure == "PFT" and self.harmonic_mean_n is None:
            return None
        return _inverse(self.measure, y, self.harmonic_mean_n)

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON-ready values (None where undefined), plus ``exp`` for ratios
        and ``back_transformed`` for the measures of :data:`BACK_TRANSFORMATIONS`."""
        out: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[item.name] = value
        natural = self.back_transformed()
        if natural is not None:
            out["exp" if self.is_ratio else "back_transformed"] = natural
        return out

    def to_frame(self) -> pd.DataFrame:
        """Per-study table: label, yi, vi, se, the study's own CI at ``level``, weight (%)."""
        yi = np.asarray(self.yi, dtype=float)
        se = np.sqrt(np.asarray(self.vi, dtype=float))
        crit = critical_value(self.level)
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "yi": yi,
                "vi": np.asarray(self.vi, dtype=float),
                "se": se,
                "ci_lower": yi - crit * se,
                "ci_upper": yi + crit * se,
                "weight": np.asarray(self.weights, dtype=float),
            }
        )

    def summary(self) -> str:
        """A plain-text report of the analysis, in the spirit of metafor's print method."""
        percent = round(100 * self.level)
        lines = [
            f"Meta-analysis: {METHOD_NAMES.get(self.method, self.method)}"
            + (f", measure {self.measure}" if self.measure else ""),
            f"k = {self.k}; {TEST_NAMES.get(self.test, self.test)}; {percent}% intervals",
        ]
        if self.model_weights is not None:
            lines.append("pooled at user weights (weighted least squares, sandwich variance)")
        if self.omitted:
            lines.append(f"omitted (missing data): {', '.join(self.omitted)}")
        if self.q is not None:
            lines.append(
                f"Heterogeneity: Q = {_format(self.q, 2)} (df = {format_count(self.q_df)}, "
                f"{format_p(self.q_pvalue)}), I² = {_format(self.i2, 1)}%, "
                f"H² = {_format(self.h2, 2)}"
            )
        tests = self.extra
        if tests.get("cmh_statistic") is not None:
            lines.append(
                f"Cochran-Mantel-Haenszel test: CMH = {_format(tests['cmh_statistic'], 2)} "
                f"(df = 1, {format_p(tests['cmh_pvalue'])}); without continuity correction "
                f"{_format(tests.get('cmh_statistic_uncorrected'), 2)} "
                f"({format_p(tests.get('cmh_pvalue_uncorrected'))})"
            )
        if tests.get("mh_statistic") is not None:
            lines.append(
                f"Mantel-Haenszel test: MH = {_format(tests['mh_statistic'], 2)} "
                f"(df = 1, {format_p(tests['mh_pvalue'])})"
            )
        if tests.get("tarone_pvalue") is not None:
            lines.append(
                f"Tarone's test for heterogeneity: X² = {_format(tests['tarone_statistic'], 2)} "
                f"(df = {tests['homogeneity_df']:.0f}, {format_p(tests['tarone_pvalue'])}); "
                f"Breslow-Day {_format(tests['breslow_day_statistic'], 2)} "
                f"({format_p(tests['breslow_day_pvalue'])})"
            )
        if self.tau2 is not None:
            lines.append(
                f"tau² = {_format(self.tau2)} [{_format(self.tau2_ci_lower)}, "
                f"{_format(self.tau2_ci_upper)}], tau = {_format(self.tau)}"
            )
        statistic_name = "z" if self.df is None else f"t({format_count(self.df)})"
        lines.append(
            f"estimate = {_format(self.estimate)}, se = {_format(self.se)}, "
            f"{statistic_name} = {_format(self.statistic, 3)}, {format_p(self.pvalue)}"
        )
        lines.append(f"{percent}% CI [{_format(self.ci_lower)}, {_format(self.ci_upper)}]")
        if self.pi_lower is not None:
            lines.append(
                f"{percent}% prediction interval [{_format(self.pi_lower)}, "
                f"{_format(self.pi_upper)}]"
            )
        exp = self.back_transformed()
        if exp is not None:
            name = self.measure if self.is_ratio else BACK_TRANSFORMATIONS[self.measure][0]
            text = (
                f"{name} = {_format(exp['estimate'])} "
                f"[{_format(exp['ci_lower'])}, {_format(exp['ci_upper'])}]"
            )
            if exp["pi_lower"] is not None:
                text += f", PI [{_format(exp['pi_lower'])}, {_format(exp['pi_upper'])}]"
            lines.append(text)
        for warning in self.warnings:
            lines.append(f"warning: {warning}")
        return "\n".join(lines)


def refuse_user_weights(result: Any, analysis: str) -> None:
    """Raise :class:`~srma.errors.InputError` for a result pooled at user weights.

    For the follow-ups that assume inverse-variance weights ``1/(v + tau²)``
    (hat values, residuals, refits by a path that takes no weights): they
    would not describe the model a ``meta(weights=)`` result fitted.
    """
    if getattr(result, "model_weights", None) is not None:
        raise InputError(
            f"{analysis} is not available for a {result.method} fit with user weights "
            "(meta(weights=)); it assumes inverse-variance weights 1/(v + tau²)"
        )
