"""Subgroup analysis: per-subgroup pooled results and the test for subgroup differences.

Reported as RevMan 5 and R's meta report it: each subgroup with its own
estimate, interval and heterogeneity, then "Test for subgroup differences:
Chi² = Q, df = G - 1, P = p" (or F under Knapp-Hartung with a common tau²).
The numbers come from :func:`srma.stats.subgroups.subgroup_analysis`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.meta import (
    EffectData,
    _check_settings,
    count_fit_row,
    meta,
    prepare_effects,
    result_from_arrays,
    warn_about,
)
from srma.analysis.metareg import imprecise_fit_error
from srma.analysis.results import MetaResult
from srma.errors import InputError
from srma.formatting import format_count, format_p
from srma.stats.batch import as_batch
from srma.stats.heterogeneity import cochran_q
from srma.stats.mantel_haenszel import (
    MantelHaenszelArrays,
    PetoArrays,
    pool_tables,
)
from srma.stats.pooling import pool
from srma.stats.subgroups import subgroup_analysis as subgroup_engine
from srma.vocabulary import COMMON_EFFECT_METHODS, COUNT_METHODS, USER_WEIGHT_METHODS


@dataclass(frozen=True)
class SubgroupResult:
    """Subgroups of one meta-analysis and the test for subgroup differences."""

    variable: str
    groups: tuple[str, ...]
    subgroups: tuple[MetaResult, ...]
    overall: MetaResult
    common_tau2: bool
    tau2_common: float | None
    q_between: float
    df_between: float
    df_between_denominator: float | None
    pvalue_between: float
    test_between: str  # "chi2" or "F"
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "notes": list(self.notes),
            "variable": self.variable,
            "groups": list(self.groups),
            "common_tau2": self.common_tau2,
            "tau2_common": self.tau2_common,
            "test_between": self.test_between,
            "q_between": self.q_between,
            "df_between": self.df_between,
            "df_between_denominator": self.df_between_denominator,
            "pvalue_between": self.pvalue_between,
            "subgroups": [
                {"group": group, **result.to_dict()}
                for group, result in zip(self.groups, self.subgroups, strict=True)
            ],
            "overall": self.overall.to_dict(),
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per subgroup: k, estimate, CI, tau², I², Q and its p-value."""
        names = (
            "k",
            "estimate",
            "se",
            "ci_lower",
            "ci_upper",
            "pvalue",
            "tau2",
            "i2",
            "q",
            "q_pvalue",
            "pi_lower",
            "pi_upper",
        )
        return pd.DataFrame(
            [
                {"group": g, **{n: getattr(r, n) for n in names}}
                for g, r in zip(self.groups, self.subgroups, strict=True)
            ]
        )

    def summary(self) -> str:
        lines = [f"Subgroups by {self.variable} ({len(self.groups)} groups)"]
        for group, result in zip(self.groups, self.subgroups, strict=True):
            lines.append(f"-- {group}")
            lines.extend("   " + line for line in result.summary().splitlines())
        statistic = "Chi²" if self.test_between == "chi2" else "F"
        df = (
            format_count(self.df_between)
            if self.df_between_denominator is None
            else f"{format_count(self.df_between)}, {format_count(self.df_between_denominator)}"
        )
        lines.append(
            f"Test for subgroup differences: {statistic} = {self.q_between:.2f}, df = {df}, "
            f"{format_p(self.pvalue_between)}"
            + (f" (common tau² = {self.tau2_common:.4f})" if self.tau2_common is not None else "")
        )
        return "\n".join(lines)


def _subset(effects: EffectData, keep: np.ndarray) -> EffectData:
    return effects.subset(np.flatnonzero(keep))


def subgroup_analysis(
    data: pd.DataFrame,
    by: str,
    *,
    measure: str | None = None,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    common_tau2: bool = False,
    order: Sequence[str] | None = None,
    label: str | None = None,
    source: str | None = None,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool | None = None,
    **columns: str,
) -> SubgroupResult:
    """Pool each level of the column ``by`` and test whether the subgroups differ.

    ``common_tau2=False`` (default, as RevMan and meta) estimates tau² within
    each subgroup; ``True`` uses the residual tau² of the meta-regression on
    the subgroups for all of them.  Studies with a blank ``by`` are omitted
    with a warning.  ``order`` fixes the order of the subgroups (default:
    order of first appearance).  Mantel-Haenszel and Peto pool each subgroup
    with their own method, as metafor's ``rma.mh``/``rma.peto`` within each
    subgroup: the 2x2 tables of the overall result, masked by subgroup, in
    one call of :func:`srma.stats.mantel_haenszel.pool_tables`, with the same
    ``add``, ``to`` and ``drop00``.  Their test for subgroup differences is
    Cochran's Q of the subgroup estimates, ``sum (mu_g - mu)² / se_g²`` with
    ``mu`` their inverse-variance mean, chi² on ``G - 1`` df (a subgroup
    whose estimate is undefined is left out of it, with a note); there is no
    tau², so ``common_tau2`` does not apply.

    With ``common_tau2=True`` (random-effects methods) every subgroup is a
    coefficient of one model, metafor's ``rma(mods = ~ 0 + factor(by))``:
    see :mod:`srma.stats.subgroups` for its estimates, Knapp-Hartung scaling
    and the test for subgroup differences.
    """
    method = _check_settings(
        method, test, pi_type, level, "subgroup_analysis", common_tau2=common_tau2,
        measure=measure, add=add, to=to, drop00=drop00,
    )  # fmt: skip
    if method in USER_WEIGHT_METHODS:
        raise InputError(
            f"subgroup_analysis(): method {method} needs user weights, which subgroup analyses "
            "do not take; choose a tau² method of srma.vocabulary.TAU2_METHODS"
        )
    if by not in data.columns:
        raise InputError(f"subgroup column {by!r} not found", file=source, column=by)
    effects = prepare_effects(
        data,
        measure=measure,
        method=method,
        label=label,
        source=source,
        add=add,
        to=to,
        drop00=drop00,
        **columns,
    )
    values = effects.frame[by]
    blank = values.isna() | (values.astype(str).str.strip() == "")
    notes: list[str] = []
    if blank.any():
        names = ", ".join(effects.labels[i] for i in np.flatnonzero(blank.to_numpy()))
        notes.append(f"omitted studies with no value in {by!r}: {names}")
        effects = _subset(effects, ~blank.to_numpy())
        values = effects.frame[by]
    text = values.astype(str).str.strip().to_numpy()
    groups = list(dict.fromkeys(text)) if order is None else [str(g) for g in order]
    unknown = sorted(set(text) - set(groups))
    if unknown:
        raise InputError(
            f"subgroups {unknown} are not in the given order {groups}", file=source, column=by
        )
    if len(groups) < 2:
        raise InputError(
            f"subgroup analysis needs at least 2 groups in {by!r}", file=source, column=by
        )
    random_effects = method not in COMMON_EFFECT_METHODS and method not in COUNT_METHODS
    if common_tau2 and random_effects and len(text) <= len(groups):
        raise InputError(
            f"a common tau² needs more studies ({len(text)}) than subgroups ({len(groups)}) "
            f"in {by!r}: there is no residual heterogeneity to estimate",
            file=source,
            column=by,
        )
    codes = np.array([groups.index(value) for value in text])

    def pooled(subset: EffectData, extra_notes: Sequence[str] = ()) -> MetaResult:
        if method in ("MH", "PETO"):
            return meta(
                subset.frame,
                measure=measure,
                method=method,
                test=test,
                level=level,
                labels=subset.labels,
                source=source,
                add=add,
                to=to,
                drop00=drop00,
                **columns,
            )
        arrays = pool(
            as_batch(subset.yi, subset.vi), method=method, test=test, level=level, pi_type=pi_type
        )
        return warn_about(
            result_from_arrays(
                arrays,
                0,
                subset,
                method=method,
                test=test,
                level=level,
                pi_type=pi_type,
                notes=extra_notes,
            )
        )

    overall = pooled(effects, notes)
    if method in ("MH", "PETO"):
        return _count_subgroups(overall, by, groups, codes, common_tau2)

    arrays = subgroup_engine(
        effects.yi,
        effects.vi,
        codes,
        method=method,
        test=test,
        level=level,
        pi_type=pi_type,
        common_tau2=common_tau2,
    )
    if arrays.common_tau2 is not None and not np.isfinite(arrays.common_tau2):
        raise imprecise_fit_error(effects, method)
    subgroups = tuple(
        warn_about(
            result_from_arrays(
                arrays.subgroups,
                g,
                _subset(effects, codes == g),
                method=method,
                test=test,
                level=level,
                pi_type=pi_type,
                present=codes == g,
            )
        )
        for g in range(len(groups))
    )
    return SubgroupResult(
        variable=by,
        groups=tuple(groups),
        subgroups=subgroups,
        overall=overall,
        common_tau2=arrays.common_tau2 is not None,
        tau2_common=arrays.common_tau2,
        q_between=arrays.q_between,
        df_between=arrays.df_between,
        df_between_denominator=arrays.df_between_denominator,
        pvalue_between=arrays.pvalue_between,
        test_between=arrays.test_between,
    )


def _count_subgroup(
    overall: MetaResult, arrays: MantelHaenszelArrays | PetoArrays, row: int, keep: np.ndarray
) -> MetaResult:
    """Row ``row`` of a batch of MH or Peto fits as the result of the subgroup ``keep``."""
    index = np.flatnonzero(keep)
    values, extra = count_fit_row(arrays, row)
    notes = []
    if values["estimate"] is None:
        notes.append(f"the {overall.method} estimate is undefined: no events in one of the groups")
    assert overall.tables is not None
    return dataclasses.replace(
        overall,
        labels=tuple(overall.labels[i] for i in index),
        yi=tuple(overall.yi[i] for i in index),
        vi=tuple(overall.vi[i] for i in index),
        k=int(arrays.k[row]),
        weights=tuple(float(arrays.weights[row, i]) for i in index),
        omitted=(),
        warnings=tuple(notes),
        extra=extra,
        tables=overall.tables.subset(keep),
        **values,
    )


def _count_subgroups(
    overall: MetaResult,
    by: str,
    groups: Sequence[str],
    codes: np.ndarray,
    common_tau2: bool,
) -> SubgroupResult:
    """Mantel-Haenszel or Peto within each subgroup: one batch of masks over the tables."""
    assert overall.tables is not None
    masks = codes[None, :] == np.arange(len(groups))[:, None]
    arrays = pool_tables(
        overall.tables, masks, overall.method, overall.measure, level=overall.level
    )  # type: ignore[arg-type]
    subgroups = tuple(
        warn_about(_count_subgroup(overall, arrays, g, masks[g])) for g in range(len(groups))
    )
    notes = []
    if common_tau2:
        notes.append(f"{overall.method} is a common-effect method: common_tau2 does not apply")
    defined = np.isfinite(arrays.estimate) & np.isfinite(arrays.se)
    if not defined.all():
        names = ", ".join(g for g, ok in zip(groups, defined, strict=True) if not ok)
        notes.append(f"left out of the test for subgroup differences (estimate undefined): {names}")
    between = cochran_q(as_batch(arrays.estimate[defined], arrays.se[defined] ** 2))
    several = int(defined.sum()) > 1
    return SubgroupResult(
        variable=by,
        groups=tuple(groups),
        subgroups=subgroups,
        overall=overall,
        common_tau2=False,
        tau2_common=None,
        q_between=float(between.q[0]) if several else float("nan"),
        df_between=float(between.df[0]) if several else float("nan"),
        df_between_denominator=None,
        pvalue_between=float(between.pvalue[0]) if several else float("nan"),
        test_between="chi2",
        notes=tuple(notes),
    )
