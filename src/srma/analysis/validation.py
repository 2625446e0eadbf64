"""Input validation for analyses, gathered in one place (as scikit-learn does).

Two kinds of check live here.

*Options* (``measure``, ``method``, ``test``, ``level``, ``pi_type``, ``add``,
``to``...) are declared once, in :data:`OPTION_CONSTRAINTS` (one constraint
per option name, in the spirit of scikit-learn's ``_param_validation``), with
narrower constraints for particular functions in :data:`FUNCTION_CONSTRAINTS`.
Every public analysis function makes one :func:`validate_options` call, which
raises :class:`srma.errors.InputError` naming the function, the option, the
value given and what is allowed, and returns the values in canonical form
(``"reml"`` -> ``"REML"``, ``"FE"`` -> ``"EE"``).  :mod:`srma.stats` then
only raises ``ValueError`` for programming errors.

*Data* checks raise :class:`InputError` naming the file, the 1-based data row
(the header not counted) and the column, with what was expected and what was
found.  Missing cells are not errors here: they become NaN, and the analysis
omits the study with a warning.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from srma import vocabulary
from srma.errors import InputError
from srma.stats.pooling import ENGINES
from srma.stats.robust import ADJUSTMENTS

# --- options: constraints declared once ----------------------------------------------


class Constraint(Protocol):
    """What an option accepts: ``requirement`` reads "must be ...", ``parse`` returns the value."""

    @property
    def requirement(self) -> str: ...

    def message(self, name: str, value: Any) -> str:
        """What is wrong with ``value`` for the option ``name``, and what is allowed."""
        ...

    def parse(self, value: Any) -> Any:
        """The value in canonical form; raises ``ValueError`` if it is not accepted."""
        ...


@dataclass(frozen=True)
class OneOf:
    """One of a fixed list of strings; ``case_insensitive`` upper-cases first, then aliases."""

    choices: tuple[str, ...]
    case_insensitive: bool = False
    aliases: Mapping[str, str] | None = None

    @property
    def requirement(self) -> str:
        return f"must be one of {', '.join(self.choices)}"

    def message(self, name: str, value: Any) -> str:
        return f"unknown {name} {value!r}; expected one of {', '.join(self.choices)}"

    def parse(self, value: Any) -> Any:
        if not isinstance(value, str):
            raise ValueError
        text = value.upper() if self.case_insensitive else value
        text = (self.aliases or {}).get(text, text)
        if text not in self.choices:
            raise ValueError
        return text


@dataclass(frozen=True)
class Number:
    """A finite real number in an interval (ends open or closed); ``integer`` for whole numbers."""

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    @property
    def requirement(self) -> str:
        kind = "a whole number" if self.integer else "a finite number"
        if self.low == 0 and self.high == 1 and self.low_open and self.high_open:
            return "must lie between 0 and 1 (exclusive)"
        bounds = []
        if self.low > -math.inf:
            bounds.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high < math.inf:
            bounds.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return f"must be {kind}" + (f" {' and '.join(bounds)}" if bounds else "")

    def message(self, name: str, value: Any) -> str:
        return f"{name} {self.requirement}, got {value!r}"

    def parse(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError
        number = float(value)
        if not math.isfinite(number):
            raise ValueError
        if self.integer and not float(number).is_integer():
            raise ValueError
        too_low = number <= self.low if self.low_open else number < self.low
        too_high = number >= self.high if self.high_open else number > self.high
        if too_low or too_high:
            raise ValueError
        return int(number) if self.integer else value


@dataclass(frozen=True)
class Boolean:
    """True or False."""

    @property
    def requirement(self) -> str:
        return "must be True or False"

    def message(self, name: str, value: Any) -> str:
        return f"{name} {self.requirement}, got {value!r}"

    def parse(self, value: Any) -> Any:
        if not isinstance(value, (bool, np.bool_)):
            raise ValueError
        return bool(value)


@dataclass(frozen=True)
class Optional:
    """None, or what ``inner`` accepts."""

    inner: Constraint

    @property
    def requirement(self) -> str:
        return f"{self.inner.requirement}, or None"

    def message(self, name: str, value: Any) -> str:
        return f"{self.inner.message(name, value)} (or None)"

    def parse(self, value: Any) -> Any:
        return None if value is None else self.inner.parse(value)


@dataclass(frozen=True)
class OneOrMany:
    """What ``inner`` accepts, or a non-empty list of such values (None in a list where
    ``holes``: metafor's NA, "estimate this one"); a list comes back as a tuple."""

    inner: Constraint
    holes: bool = False

    @property
    def requirement(self) -> str:
        hole = " (None to estimate one)" if self.holes else ""
        return f"{self.inner.requirement}, or a list of such values{hole}"

    def message(self, name: str, value: Any) -> str:
        return f"{name} {self.requirement}, got {value!r}"

    def parse(self, value: Any) -> Any:
        if isinstance(value, (list, tuple)):
            if not value:
                raise ValueError
            return tuple(
                None if item is None and self.holes else self.inner.parse(item) for item in value
            )
        return self.inner.parse(value)


PROBABILITY = Number(0.0, 1.0, low_open=True, high_open=True)

#: The covariance structures of an ``inner | outer`` random term (metafor's ``struct``).
MULTILEVEL_STRUCTURES = ("CS", "HCS", "UN", "AR", "HAR", "ID", "DIAG")

#: The most permutations of a meta-regression's permutation test (metafor's default is 1,000).
MOST_PERMUTATIONS = 100_000
#: The most subsets a GOSH plot fits (2**24: every subset of 24 studies).
MOST_SUBSETS = 2**24
#: The most iterations of trim-and-fill (it settles in a handful).
MOST_ITERATIONS = 10_000
#: The most normal draws of a network's rank probabilities (draws x treatments numbers).
MOST_RANK_DRAWS = 1_000_000
#: Network meta-analysis: its methods, tests, and the direction of the outcome.
NETWORK_METHODS = ("EE", "DL", "REML", "ML")
NETWORK_TESTS = ("z", "knha")
SMALL_VALUES = ("good", "bad")

#: Every user-facing option of srma's analysis functions, declared once.
OPTION_CONSTRAINTS: Mapping[str, Constraint] = {
    "measure": Optional(OneOf(tuple(vocabulary.MEASURE_NAMES), case_insensitive=True)),
    "method": OneOf(
        tuple(vocabulary.METHOD_NAMES), case_insensitive=True, aliases=vocabulary.METHOD_ALIASES
    ),
    "test": OneOf(vocabulary.TESTS),
    "level": PROBABILITY,
    "pi_type": OneOf(vocabulary.PI_TYPES),
    "tau2": Optional(Number(0.0)),
    "add": Number(0.0),
    "to": OneOf(vocabulary.CONTINUITY_TARGETS),
    "drop00": Optional(Boolean()),
    "tau2_interval": Boolean(),
    "workers": Optional(Number(1, integer=True)),
    # upper bounds: every loop ends (the permutations are refitted as one batch of
    # permutations x k x p numbers; GOSH fits up to max_subsets subsets)
    "permutations": Optional(Number(1, MOST_PERMUTATIONS, integer=True)),
    "seed": Optional(Number(0, integer=True)),
    "common_tau2": Boolean(),
    "max_subsets": Number(1, MOST_SUBSETS, integer=True),
    "estimator": OneOf(vocabulary.TRIMFILL_ESTIMATORS),
    "side": Optional(OneOf(vocabulary.TRIMFILL_SIDES)),
    "max_iterations": Number(1, MOST_ITERATIONS, integer=True),
    "model": OneOf(vocabulary.EGGER_MODELS),
    "predictor": OneOf(vocabulary.BIAS_PREDICTORS),
    "type": OneOf(vocabulary.FAIL_SAFE_TYPES),
    "alpha": PROBABILITY,
    "target": Optional(Number()),
    "orwin_target": Optional(Number()),
    "weighted": Boolean(),
    "decreasing": Boolean(),
    # cluster-robust variance (srma.robust) and sampling covariances (srma.vcalc)
    "adjust": OneOf(ADJUSTMENTS, case_insensitive=True, aliases={"CR1P": "CR1p"}),
    "phi": Optional(Number(-1.0, 1.0)),
    "struct": OneOf(MULTILEVEL_STRUCTURES, case_insensitive=True),
    "rho": Optional(Number(-1.0, 1.0)),
    "sigma2": Optional(Number(0.0)),
    "profile_ci": Boolean(),
    # network meta-analysis: rankings (the direction; the normal draws of rank probabilities)
    "small_values": OneOf(SMALL_VALUES),
    "draws": Number(1, MOST_RANK_DRAWS, integer=True),
}

#: The tests of :func:`srma.robust`: Satterthwaite df, ``t`` with J - p df (metafor), ``z``.
ROBUST_TESTS = ("satterthwaite", "t", "z")

_INVERSE_VARIANCE = OneOf(
    vocabulary.INVERSE_VARIANCE_METHODS, case_insensitive=True, aliases=vocabulary.METHOD_ALIASES
)

#: Narrower constraints of particular functions (they win over :data:`OPTION_CONSTRAINTS`).
FUNCTION_CONSTRAINTS: Mapping[str, Mapping[str, Constraint]] = {
    # MH and Peto need 2x2 tables, which these do not take (or do not model)
    "meta_batch": {"method": _INVERSE_VARIANCE, "engine": Optional(OneOf(ENGINES))},
    "meta_regression": {"method": _INVERSE_VARIANCE},
    "effect_sizes": {"measure": OneOf(tuple(vocabulary.MEASURES), case_insensitive=True)},
    "robust": {"test": OneOf(ROBUST_TESTS)},
    # rma.mv: REML or ML, Wald z or t; one struct per 'inner | outer' term; fixed values
    # as numbers or lists (None: estimated)
    "meta_mv": {
        "method": OneOf(("REML", "ML"), case_insensitive=True),
        "test": OneOf(("z", "t")),
        "struct": OneOrMany(OneOf(MULTILEVEL_STRUCTURES, case_insensitive=True)),
        "rho": Optional(OneOrMany(Number(-1.0, 1.0), holes=True)),
        "tau2": Optional(OneOrMany(Number(0.0), holes=True)),
        "sigma2": Optional(OneOrMany(Number(0.0), holes=True)),
    },
    # network_meta: its own methods and tests; an arm-level measure (a contrast table's
    # label too); a seed always given, so that the rank probabilities are reproduced
    "network_meta": {
        "method": OneOf(NETWORK_METHODS, case_insensitive=True, aliases={"FE": "EE", "CE": "EE"}),
        "measure": OneOf(("OR", "RR", "RD", "MD", "SMD", "GEN"), case_insensitive=True),
        "test": OneOf(NETWORK_TESTS),
        "seed": Number(0, integer=True),
    },
}


class OptionError(InputError):
    """A bad value of an option: the function, the option, the value and its constraint.

    Reads ``"meta(): unknown test 'w'; expected one of z, t, knha, adhoc"``;
    :meth:`for_flag` gives the same for a command line that spells the option
    ``--test`` (the shell maps it once, in :func:`srma.cli.shell.run`).
    """

    def __init__(self, function: str, option: str, value: Any, constraint: Constraint) -> None:
        self.function = function
        self.option = option
        self.value = value
        self.constraint = constraint
        super().__init__(f"{function}(): {constraint.message(option, value)}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (OptionError, (self.function, self.option, self.value, self.constraint))

    def for_flag(self, flag: str) -> str:
        """``"--test: unknown test 'w'; expected one of z, t, knha, adhoc"``.

        On a command line an optional value that is None is an option not
        given, so only the inner constraint is stated.
        """
        inner = self.constraint.inner if isinstance(self.constraint, Optional) else self.constraint
        if isinstance(inner, OneOf):
            return f"{flag}: {inner.message(self.option, self.value)}"
        return f"{flag}: {inner.requirement}, got {self.value!r}"


def validate_options(function: str, **options: Any) -> dict[str, Any]:
    """Check the options of one call of ``function``; return them in canonical form.

    Raises :class:`OptionError` (an :class:`InputError`) naming the function,
    the option, the value and what is allowed (``"meta(): unknown test 'w';
    expected one of z, t, knha, adhoc"``) for the first option that its
    constraint rejects.
    """
    specific = FUNCTION_CONSTRAINTS.get(function, {})
    parsed: dict[str, Any] = {}
    for name, value in options.items():
        constraint = specific.get(name) or OPTION_CONSTRAINTS[name]
        try:
            parsed[name] = constraint.parse(value)
        except (ValueError, TypeError):
            raise OptionError(function, name, value, constraint) from None
    return parsed


# --- data ------------------------------------------------------------------------------


def require_columns(frame: pd.DataFrame, columns: Iterable[str], *, source: str | None) -> None:
    """Raise naming the first of ``columns`` that the table lacks, and listing what it has."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        what = "column" if len(missing) == 1 else "columns"
        raise InputError(
            f"{what} {', '.join(map(repr, missing))} not found; the table has "
            f"{', '.join(map(column_name, frame.columns)) or 'no columns'}",
            file=source,
            column=missing[0],
        )


def column_name(name: object) -> str:
    """A column's name as a message shows it: quoted where spaces at its ends or invisible
    characters (a zero-width space, a control character) would hide what it is."""
    text = str(name)
    return text if text and text.isprintable() and text == text.strip() else repr(text)


def shown(value: object) -> str:
    """A cell's value as a message shows it: ``'abc'``, ``-inf`` (not ``np.float64(-inf)``)."""
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value)


def numeric_column(frame: pd.DataFrame, column: str, *, source: str | None) -> NDArray[np.float64]:
    """A column as floats; blank cells become NaN, text or infinity is an error naming its row."""
    require_columns(frame, [column], source=source)
    raw = frame[column]
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "fiu":
        # already numbers: no cell can be text, and a missing cell is NaN
        values = raw.to_numpy(dtype=float)
        text = np.zeros(0, dtype=np.intp)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        blank = raw.isna().to_numpy() | (raw.astype(str).str.strip() == "").to_numpy()
        text = np.flatnonzero(np.isnan(values) & ~blank)
    if text.size:
        row = int(text[0])
        raise InputError(
            f"expected a number, got {shown(raw.iloc[row])}",
            file=source,
            row=row + 1,
            column=column,
        )
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        row = int(infinite[0])
        raise InputError(
            f"expected a finite number, got {shown(raw.iloc[row])}",
            file=source,
            row=row + 1,
            column=column,
        )
    return values


def numeric_columns(
    frame: pd.DataFrame, roles: Mapping[str, str], *, source: str | None
) -> dict[str, NDArray[np.float64]]:
    """The columns playing the given roles (role -> column name), as floats, keyed by role."""
    require_columns(frame, roles.values(), source=source)
    return {role: numeric_column(frame, column, source=source) for role, column in roles.items()}


def reject(
    bad: NDArray[np.bool_],
    values: NDArray[np.float64],
    *,
    column: str,
    source: str | None,
    message: Callable[[float], str],
) -> None:
    """Raise for the first row where ``bad`` holds; ``message`` gets that row's value.

    Rows where ``values`` is missing are never bad: a missing cell is not an error.
    """
    rows = np.flatnonzero(bad & ~np.isnan(values))
    if rows.size:
        row = int(rows[0])
        raise InputError(message(float(values[row])), file=source, row=row + 1, column=column)


# --- the range of representable data ----------------------------------------------------

#: The smallest variance accepted: the smallest normal double (about 2.2e-308).  A
#: subnormal variance carries too few significant digits to weigh a study by.
SMALLEST_VARIANCE = float(np.finfo(np.float64).tiny)

#: The largest distance accepted between an effect and the median effect.
#:
#: Absolute, and rightly so: the effects themselves may be of any size (they
#: are centred before anything is summed, so 1e300 ± 1e149 is fine), but tau²,
#: its interval and the prediction interval are in squared units of the
#: effects, whatever their variances, and must be doubles.  tau² is at most
#: about the squared spread, so the spread must stay below ``sqrt(1.8e308) =
#: 1.3e154``; 1e150 leaves a factor of 1e8 for the upper end of the Q-profile
#: interval (``S / chi²_{k-1, alpha/2}``: about 1e3 times the squared spread at
#: level 0.95 with k = 2, 2.5e6 at 0.999) and the sums of squares.  Beyond
#: that end, it is reported as undefined with a warning.  A bound relative to
#: the variances would admit spreads whose tau² is not a double.
LARGEST_EFFECT_SPREAD = 1e150


def _cell(row: int | None, rows: NDArray[np.intp] | None) -> int | None:
    """The 1-based data row of position ``row`` among the studies checked."""
    if row is None:
        return None
    return int(rows[row] if rows is not None else row) + 1


def check_representable(
    yi: NDArray[np.float64],
    vi: NDArray[np.float64],
    *,
    source: str | None,
    yi_column: str = "yi",
    vi_column: str = "vi",
    standard_error: bool = False,
    rows: NDArray[np.intp] | None = None,
) -> None:
    """Refuse effects and variances whose analysis would leave the range of doubles.

    srma scales before it sums (docs/statistics.md, "Extreme inputs"), so
    effects of any size and variances from about 1e-308 to 1e308 give the
    right answer.  What cannot be represented is refused here, in one place,
    with an :class:`InputError` naming the file, the row and the column:

    * a variance below :data:`SMALLEST_VARIANCE` (0 is refused earlier, as
      not > 0; subnormal numbers carry too few digits), or a standard error
      whose square is below it (``standard_error=True``: the message names
      the SE column);
    * an effect farther than :data:`LARGEST_EFFECT_SPREAD` from the median
      effect: tau² would be the square of that spread;
    * a study whose term of Cochran's Q, ``(y_i - mu)² / v_i``, is beyond the
      largest double (about 1.8e308).

    ``yi`` and ``vi`` hold the studies present (no NaN); ``rows`` gives their
    0-based rows in the table (default: their positions).  Missing values are
    not checked (they are omitted elsewhere).
    """
    y = np.asarray(yi, dtype=np.float64)
    v = np.asarray(vi, dtype=np.float64)
    present = np.isfinite(y) & np.isfinite(v)
    tiny = np.flatnonzero(present & (v > 0) & (v < SMALLEST_VARIANCE))
    if tiny.size:
        row = int(tiny[0])
        if standard_error:
            message = (
                f"standard error {np.sqrt(v[row]):.6g} is too small: its square must be at "
                f"least {SMALLEST_VARIANCE:.6g} (the smallest normal double), so SE >= "
                f"{np.sqrt(SMALLEST_VARIANCE):.6g}"
            )
        else:
            message = (
                f"sampling variance {v[row]:.6g} is too small: it must be at least "
                f"{SMALLEST_VARIANCE:.6g} (the smallest normal double; a subnormal number "
                "carries too few digits)"
            )
        raise InputError(message, file=source, row=_cell(row, rows), column=vi_column)
    index = np.flatnonzero(present)
    if index.size == 0:
        return
    y, v = y[index], v[index]
    median = float(np.median(y))
    with np.errstate(over="ignore", invalid="ignore"):
        distance = np.abs(y - median)
    far = np.flatnonzero(~(distance <= LARGEST_EFFECT_SPREAD))
    if far.size:
        row = int(far[np.argmax(np.where(np.isfinite(distance[far]), distance[far], np.inf))])
        raise InputError(
            f"effect {y[row]:.6g} is out of range: effects must lie within "
            f"{LARGEST_EFFECT_SPREAD:g} of the median effect ({median:.6g}), since tau² "
            "is measured in their squares and the square of a larger spread is not a "
            "double; rescale the effects",
            file=source,
            row=_cell(int(index[row]), rows),
            column=yi_column,
        )
    # each study's term of Q in logarithms: 2 log|y - mu| - log v, mu the common-effect mean
    from srma.stats.batch import as_batch
    from srma.stats.tau2 import weighted_sums

    mu = float(weighted_sums(as_batch(y, v), np.zeros(1)).mean[0])
    with np.errstate(divide="ignore"):
        log_term = 2.0 * np.log(np.abs(y - mu)) - np.log(v)
    largest = float(np.log(np.finfo(np.float64).max)) - np.log(max(y.size, 1))
    over = np.flatnonzero(log_term > largest)
    if over.size:
        row = int(over[np.argmax(log_term[over])])
        what = "standard error" if standard_error else "variance"
        raise InputError(
            f"{what} {np.sqrt(v[row]) if standard_error else v[row]:.6g} is too small for "
            f"an effect of {y[row]:.6g} {abs(y[row] - mu):.3g} from the pooled mean: "
            "Cochran's Q, the sum of (y - mu)² / v, would exceed the largest double "
            "(1.8e308)",
            file=source,
            row=_cell(int(index[row]), rows),
            column=vi_column,
        )
