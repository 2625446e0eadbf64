"""Small-study effects and publication bias for a pooled result.

``small_study_tests(result)`` runs Egger's test (classic and mixed-effects
forms), Begg's rank test, trim-and-fill and fail-safe N, and with per-arm
counts Peters' and Harbord's tests; numerics in :mod:`srma.stats.bias`.  With
fewer than 10 studies the result carries the Cochrane Handbook's caution
(section 13.3.5.4): these tests then have too little power to tell chance
from real asymmetry.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.results import MetaResult
from srma.errors import InputError, SrmaWarning
from srma.stats import bias as engine

LOW_POWER_NOTE = (
    "fewer than 10 studies: tests for funnel plot asymmetry have too little power to "
    "distinguish chance from real asymmetry (Cochrane Handbook 13.3.5.4)"
)
COUNT_METHODS = frozenset({"MH", "PETO"})


def _arrays(result: MetaResult) -> tuple[np.ndarray, np.ndarray]:
    y, v = np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)
    usable = np.isfinite(y) & np.isfinite(v)
    return y[usable], v[usable]


def _model(result: MetaResult) -> tuple[str, str]:
    """The tau² method and test refits use (inverse variance; MH and Peto as common effect)."""
    if result.method in COUNT_METHODS:
        return "EE", "z"
    return result.method, result.test


@dataclass(frozen=True)
class TrimFillResult:
    """Trim-and-fill: the number and side of missing studies, and the filled analysis."""

    estimator: str
    k0: int
    k0_se: float | None
    side: str
    imputed_yi: tuple[float, ...]
    imputed_vi: tuple[float, ...]
    filled: MetaResult

    @property
    def estimate(self) -> float | None:
        return self.filled.estimate

    def to_dict(self) -> dict[str, Any]:
        return {
            "estimator": self.estimator,
            "k0": self.k0,
            "k0_se": self.k0_se,
            "side": self.side,
            "estimate": self.filled.estimate,
            "se": self.filled.se,
            "ci_lower": self.filled.ci_lower,
            "ci_upper": self.filled.ci_upper,
            "tau2": self.filled.tau2,
            "exp": self.filled.back_transformed(),
            "imputed": [
                {"yi": y, "vi": v} for y, v in zip(self.imputed_yi, self.imputed_vi, strict=True)
            ],
        }


def trim_and_fill(
    result: MetaResult, *, estimator: str = "L0", side: str | None = None
) -> TrimFillResult:
    """Duval and Tweedie's trim-and-fill with the result's model (metafor's ``trimfill``)."""
    from srma.analysis.meta import meta

    y, v = _arrays(result)
    if y.size < 3:
        raise InputError("trim-and-fill needs at least 3 studies")
    method, test = _model(result)
    fill = engine.trim_and_fill(y, v, method=method, estimator=estimator, side=side)
    labels = [*result.labels[: y.size], *(f"Filled {i + 1}" for i in range(fill.k0))]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        filled = meta(
            np.concatenate([y, fill.imputed_y]),
            np.concatenate([v, fill.imputed_v]),
            measure=result.measure,
            method=method,
            test=test,
            level=result.level,
            pi_type=result.pi_type,
            labels=labels,
        )
    return TrimFillResult(
        estimator=estimator,
        k0=fill.k0,
        k0_se=None if not np.isfinite(fill.k0_se) else float(fill.k0_se),
        side=fill.side,
        imputed_yi=tuple(map(float, fill.imputed_y)),
        imputed_vi=tuple(map(float, fill.imputed_v)),
        filled=filled,
    )


@dataclass(frozen=True)
class SmallStudyResult:
    """Every small-study-effect analysis of one meta-analysis."""

    k: int
    egger: engine.RegressionTest | None
    egger_mixed: engine.RegressionTest | None
    begg: engine.RankTest | None
    trimfill: TrimFillResult | None
    failsafe: dict[str, engine.FailSafeN]
    peters: engine.RegressionTest | None = None
    harbord: engine.RegressionTest | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def low_power(self) -> bool:
        return self.k < 10

    def to_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            return None if value is None else asdict(value)

        egger = plain(self.egger)
        if egger is not None:
            # Egger's bias coefficient is the intercept of his original regression of
            # y/se on 1/se (Stata's metabias reports it as the intercept)
            egger["intercept"] = egger["coefficient"]
        return {
            "k": self.k,
            "low_power": self.low_power,
            "low_power_note": LOW_POWER_NOTE if self.low_power else None,
            "egger": egger,
            "egger_mixed": plain(self.egger_mixed),
            "begg": plain(self.begg),
            "trimfill": None if self.trimfill is None else self.trimfill.to_dict(),
            "failsafe": {name: asdict(value) for name, value in self.failsafe.items()},
            "peters": plain(self.peters),
            "harbord": plain(self.harbord),
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        lines = [f"Small-study effects (k = {self.k})"]
        if self.low_power:
            lines.append(f"note: {LOW_POWER_NOTE}")
        if self.egger is not None:
            lines.append(
                f"Egger (classic): bias = {self.egger.coefficient:.4f}, "
                f"t({self.egger.df:.0f}) = {self.egger.statistic:.3f}, p = {self.egger.pvalue:.4f}"
            )
        if self.egger_mixed is not None:
            lines.append(
                f"Egger (mixed-effects): statistic = {self.egger_mixed.statistic:.3f}, "
                f"p = {self.egger_mixed.pvalue:.4f}"
            )
        if self.begg is not None:
            lines.append(f"Begg: Kendall's tau = {self.begg.tau:.4f}, p = {self.begg.pvalue:.4f}")
        for name in ("peters", "harbord"):
            test = getattr(self, name)
            if test is not None:
                lines.append(
                    f"{name.capitalize()}: t({test.df:.0f}) = {test.statistic:.3f}, "
                    f"p = {test.pvalue:.4f}"
                )
        if self.trimfill is not None:
            tf = self.trimfill
            lines.append(
                f"Trim-and-fill ({tf.estimator}): {tf.k0} studies imputed on the "
                f"{tf.side}; filled estimate {tf.filled.estimate:.4f} "
                f"[{tf.filled.ci_lower:.4f}, {tf.filled.ci_upper:.4f}]"
            )
        for name, value in self.failsafe.items():
            lines.append(f"Fail-safe N ({name}): {value.n}")
        lines.extend(f"note: {note}" for note in self.notes)
        return "\n".join(lines)


def small_study_tests(
    result: MetaResult,
    *,
    counts: pd.DataFrame | None = None,
    estimator: str = "L0",
    side: str | None = None,
    alpha: float = 0.05,
    orwin_target: float | None = None,
    **columns: str,
) -> SmallStudyResult:
    """Run the tests for small-study effects on a pooled result.

    ``counts`` (one row per study, with ``events1, total1, events2, total2``
    or ``a, b, c, d``, mapped by keyword) adds Peters' and Harbord's tests
    for binary outcomes.  Regression and rank tests need at least 3 studies;
    below that they are None and a note says so.
    """
    y, v = _arrays(result)
    method, test = _model(result)
    notes: list[str] = []
    enough = y.size >= 3
    if not enough:
        notes.append("regression, rank and trim-and-fill need at least 3 studies")
    elif np.ptp(v) == 0:
        enough = False
        notes.append(
            "every study has the same standard error: regression and rank tests, "
            "and the side of trim-and-fill, are undefined"
        )
    peters = harbord = None
    if counts is not None:
        from srma.analysis.effect_sizes import binary_cells, effect_sizes

        a, b, c, d = binary_cells(counts, columns, None)
        informative = (a + c > 0) & (b + d > 0)
        log_or = effect_sizes(counts.loc[informative], "OR", drop00=False, **columns)["yi"]
        cells = [x[informative] for x in (a, b, c, d)]
        totals = cells[0] + cells[1] + cells[2] + cells[3]
        if informative.sum() >= 3 and np.ptp(totals) > 0:
            peters = engine.peters(log_or.to_numpy(dtype=float), *cells)
            harbord = engine.harbord(*cells)
        else:
            notes.append(
                "Peters' and Harbord's tests need at least 3 tables with events and differing sizes"
            )
    egger = egger_mixed = begg = fill = None
    if enough:
        egger = engine.egger_classic(y, v, level=result.level)
        egger_mixed = engine.egger_mixed(y, v, method=method, test=test, level=result.level)
        begg = engine.begg(y, v)
        try:
            fill = trim_and_fill(result, estimator=estimator, side=side)
        except RuntimeError as error:
            notes.append(str(error))
    for name, fitted in (("Egger's", egger), ("the mixed-effects Egger", egger_mixed)):
        if fitted is not None and not np.isfinite(fitted.pvalue):
            notes.append(f"{name} regression fits the data exactly: its test is undefined")
    return SmallStudyResult(
        k=int(y.size),
        egger=egger if egger is not None and np.isfinite(egger.pvalue) else None,
        egger_mixed=egger_mixed
        if egger_mixed is not None and np.isfinite(egger_mixed.pvalue)
        else None,
        begg=begg,
        trimfill=fill,
        failsafe={
            "rosenthal": engine.fail_safe_rosenthal(y, v, alpha),
            "orwin": engine.fail_safe_orwin(y, v, orwin_target),
            "rosenberg": engine.fail_safe_rosenberg(y, v, alpha),
        },
        peters=peters,
        harbord=harbord,
        notes=tuple(notes),
    )


@dataclass(frozen=True)
class FunnelContours:
    """What a contour-enhanced funnel plot needs: a grid of SEs and the region edges."""

    se: tuple[float, ...]
    null: float
    levels: dict[float, tuple[tuple[float, ...], tuple[float, ...]]]
    estimate: float | None
    studies: pd.DataFrame


def funnel_contours(
    result: MetaResult, levels: tuple[float, ...] = (0.10, 0.05, 0.01), points: int = 50
) -> FunnelContours:
    """Edges of the regions where studies reach p < 0.10, 0.05 and 0.01 (two-sided)."""
    _, v = _arrays(result)
    se = np.linspace(0.0, float(np.sqrt(v.max())) * 1.05, points)
    bounds = engine.contour_bounds(se, levels, null=0.0)
    frame = result.to_frame()
    return FunnelContours(
        se=tuple(map(float, se)),
        null=0.0,
        levels={
            level: (tuple(map(float, lo)), tuple(map(float, hi)))
            for level, (lo, hi) in bounds.items()
        },
        estimate=result.estimate,
        studies=frame[["label", "yi", "se"]],
    )
