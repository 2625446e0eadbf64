"""Random-effects formulas of multilevel and multivariate models, read into engine terms.

``"~ 1 | a/b/c"`` nests: a random intercept for each level of ``a``, of ``a:b`` and of
``a:b:c`` (one variance component each, metafor's ``sigma2``).  ``"~ inner | outer"``
gives the effects of one ``outer`` group a structured covariance over the levels of
``inner`` (metafor's ``tau2``/``rho``, with ``struct`` one of CS, HCS, UN, AR, HAR, ID,
DIAG).  These are the random terms of ``rma.mv`` (Viechtbauer 2010, J Stat Softw 36(3);
metafor's help page of ``rma.mv``, "Specifying Random Effects").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd

from srma.errors import InputError

_NAME = r"[A-Za-z_.][A-Za-z0-9_.]*"
_FORMULA = re.compile(
    rf"^\s*~\s*(?P<inner>{_NAME}|1)\s*\|\s*(?P<outer>{_NAME}(\s*/\s*{_NAME})*)\s*$"
)


@dataclass(frozen=True)
class RandomFormula:
    """One random-effects formula: the nested grouping columns, or an inner | outer pair."""

    text: str
    inner: str | None  # None for "~ 1 | ..."
    outer: tuple[str, ...]  # nested columns, outermost first (one column when inner is set)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.outer if self.inner is None else (self.inner, *self.outer)


def parse_random(text: str) -> RandomFormula:
    """``"~ 1 | study/effect"`` or ``"~ outcome | trial"`` as a :class:`RandomFormula`.

    Raises :class:`InputError` for anything else, saying what the two forms are.
    """
    if not isinstance(text, str):
        raise InputError(f"random: a formula must be text such as '~ 1 | study', got {text!r}")
    match = _FORMULA.match(text)
    if match is None:
        raise InputError(
            f"random formula {text!r} does not parse: write '~ 1 | study' (one random "
            "intercept per study), '~ 1 | study/effect' (nested levels) or "
            "'~ outcome | study' (a structured covariance of outcomes within a study)"
        )
    outer = tuple(part.strip() for part in match["outer"].split("/"))
    inner = None if match["inner"] == "1" else match["inner"]
    if inner is not None and len(outer) > 1:
        raise InputError(
            f"random formula {text!r}: an 'inner | outer' term takes one outer column, "
            "not a nesting"
        )
    return RandomFormula(text=text, inner=inner, outer=outer)


@dataclass(frozen=True)
class Grouping:
    """Integer codes of one grouping factor, with its level names (sorted as R sorts them)."""

    name: str  # as metafor prints it: "district/school"
    codes: np.ndarray  # (k,) int
    levels: tuple[str, ...]

    @property
    def n_levels(self) -> int:
        return len(self.levels)


def _natural_key(value: str) -> tuple[int, float | str]:
    try:
        return (0, float(value))
    except ValueError:
        return (1, value)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    values = frame[column]
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")  # 3.0 read from a CSV is the level "3"
    return values.astype(str).str.strip()


def grouping(frame: pd.DataFrame, columns: Sequence[str]) -> Grouping:
    """The factor of the interaction of ``columns`` (``a``, then ``a:b``...): sorted levels."""
    parts = [_text(frame, column) for column in columns]
    keys = list(zip(*parts, strict=True)) if len(parts) > 1 else list(parts[0])
    if len(parts) > 1:
        ordered = sorted(set(keys), key=lambda key: tuple(_natural_key(v) for v in key))
        names = tuple("/".join(key) for key in ordered)
    else:
        ordered = sorted(set(keys), key=_natural_key)
        names = tuple(ordered)
    position = {key: index for index, key in enumerate(ordered)}
    codes = np.fromiter((position[key] for key in keys), dtype=np.intp, count=len(keys))
    return Grouping(name="/".join(columns), codes=codes, levels=names)


def missing_cells(frame: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """Rows where any of ``columns`` is blank."""
    blank = np.zeros(len(frame), dtype=bool)
    for column in columns:
        raw = frame[column]
        blank |= (raw.isna() | (raw.astype(str).str.strip() == "")).to_numpy()
    return blank


def require_grouping_columns(
    frame: pd.DataFrame, formulas: Sequence[RandomFormula], source: str | None
) -> None:
    """Raise naming the first column of a random formula that the table lacks."""
    for formula in formulas:
        for column in formula.columns:
            if column not in frame.columns:
                raise InputError(
                    f"random formula {formula.text!r}: grouping column {column!r} not found; "
                    f"the table has {', '.join(map(str, frame.columns))}",
                    file=source,
                    column=column,
                )


def structures(struct: str | Sequence[str], count: int) -> tuple[str, ...]:
    """One covariance structure per ``inner | outer`` term (a single one serves them all)."""
    given = (struct,) if isinstance(struct, str) else tuple(struct)
    if len(given) == 1:
        given = given * count
    if count and len(given) != count:
        raise InputError(f"struct: {len(given)} structures given for {count} 'inner | outer' terms")
    return tuple(given[:count])


def fixed_values(
    values: float | Sequence[float | None] | None, names: Sequence[str], option: str
) -> dict[str, float]:
    """Fixed values of the parameters ``names`` (metafor's ``sigma2=``, ``tau2=``, ``rho=``).

    A single number fixes every one of them; a list fixes them in order, None (R's NA)
    leaving one estimated.
    """
    if values is None or not names:
        return {}
    listed = [values] * len(names) if np.isscalar(values) else list(values)  # type: ignore[list-item]
    if len(listed) != len(names):
        raise InputError(
            f"{option}: {len(listed)} values given for {len(names)} parameters ({', '.join(names)})"
        )
    return {
        name: float(value) for name, value in zip(names, listed, strict=True) if value is not None
    }


def check_structure(formula: RandomFormula, groups: Sequence[Grouping], source: str | None) -> None:
    """Refuse nested levels the data cannot tell apart (each outer level has one inner level).

    With one effect per study, ``~ 1 | study/effect`` has as many effects as studies: the
    two variances are confounded (only their sum is identified).
    """
    for outer, inner in pairwise(groups):
        if outer.n_levels == inner.n_levels:
            raise InputError(
                f"random formula {formula.text!r}: levels {outer.name!r} and {inner.name!r} "
                f"are confounded: each of the {outer.n_levels} levels of {outer.name!r} has "
                f"one level of {inner.name!r}, so their variances cannot be told apart; "
                f"drop the inner level ('~ 1 | {outer.name}')",
                file=source,
            )
    for group in groups:
        if group.n_levels < 2:
            raise InputError(
                f"random formula {formula.text!r}: {group.name!r} has one level, so its "
                "variance cannot be estimated",
                file=source,
                column=group.name.split("/")[-1],
            )


def check_components(
    formula: RandomFormula,
    outer: Grouping,
    estimated: Sequence[str],
    source: str | None,
) -> None:
    """Refuse more estimated variance components of a term than it has clusters."""
    if len(estimated) > outer.n_levels:
        raise InputError(
            f"random formula {formula.text!r}: {len(estimated)} variance components "
            f"({', '.join(estimated)}) cannot be estimated from {outer.n_levels} clusters of "
            f"{outer.name!r}; choose a simpler struct (CS) or fix some (rho=, tau2=)",
            file=source,
        )


__all__ = [
    "Grouping",
    "RandomFormula",
    "check_components",
    "check_structure",
    "fixed_values",
    "grouping",
    "missing_cells",
    "parse_random",
    "require_grouping_columns",
    "structures",
]
