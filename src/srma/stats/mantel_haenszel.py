"""Mantel-Haenszel and Peto pooling of 2x2 tables, many meta-analyses at once.

Every function takes the cells ``a, b, c, d`` (events and non-events in group 1,
then events and non-events in group 2) as arrays shaped ``(batch, k)`` with a
boolean ``mask`` (True where a table is present; absent cells may hold anything,
NaN included, and never reach a result) and returns arrays shaped ``(batch,)``,
one meta-analysis per row.  The numbers are those of metafor's ``rma.mh`` and
``rma.peto`` (version 3.8-1; Viechtbauer 2010, J Stat Softw 36(3)).

Two sets of cells are involved, as in metafor:

* the **pooling cells**, from which the pooled estimate, its variance, the
  weights and the tests of association and homogeneity are computed: by default
  the counts as they are (no continuity correction, no table left out);
* the **per-study effect sizes** ``yi, vi`` (as ``escalc`` computes them), used
  only for Cochran's Q around the pooled estimate (and for I², H²): by default
  double-zero tables are left out and the tables with a zero cell get 1/2 added
  to each cell.

Hence ``add``, ``to`` and ``drop00`` take one value or a pair, like metafor's: the
first element applies to ``yi, vi``, the second to the pooling cells, and a
single value ``x`` means ``(x, 0)``, ``(x, "none")``, ``(x, False)``.

References
----------
Mantel N, Haenszel W (1959). Statistical aspects of the analysis of data from
retrospective studies of disease. J Natl Cancer Inst 22:719-748.
Robins J, Breslow N, Greenland S (1986). Estimators of the Mantel-Haenszel
variance consistent in both sparse data and large-strata limiting models.
Biometrics 42:311-323.
Greenland S, Robins JM (1985). Estimation of a common effect parameter from
sparse follow-up data. Biometrics 41:55-68.
Sato T (1989). On the variance estimator for the Mantel-Haenszel risk
difference. Biometrics 45:1323-1324.
Breslow NE, Day NE (1980). Statistical Methods in Cancer Research, vol. 1.
Lyon: IARC.
Tarone RE (1985). On heterogeneity tests based on efficient scores.
Biometrika 72:91-95.
Yusuf S, Peto R, Lewis J, Collins R, Sleight P (1985). Beta blockade during
and after myocardial infarction: an overview of the randomized trials.
Prog Cardiovasc Dis 27:335-371.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import logsumexp
from scipy.stats import chi2

from srma.stats.batch import BoolArray, FloatArray
from srma.stats.effects import BINARY_MEASURES, CONTINUITY_TARGETS
from srma.stats.effects_rates import TWO_GROUP_RATE_MEASURES
from srma.stats.inference import critical_value, two_sided_pvalue, wald_interval

IntArray = NDArray[np.int64]
MantelHaenszelMeasure = Literal["OR", "RR", "RD"]
ContinuityTarget = Literal["only0", "all", "if0all", "none"]

#: The tests of association and homogeneity reported for Mantel-Haenszel odds
#: ratios (NaN for RR and RD), as :func:`srma.analysis.meta` reports them.
#: ``cochran_*`` and ``cmh_*`` carry the continuity correction when ``correct``
#: (metafor's default), the ``*_uncorrected`` ones never do.
ODDS_RATIO_TESTS = (
    "cochran_statistic",
    "cochran_pvalue",
    "cmh_statistic",
    "cmh_pvalue",
    "cochran_statistic_uncorrected",
    "cochran_pvalue_uncorrected",
    "cmh_statistic_uncorrected",
    "cmh_pvalue_uncorrected",
    "breslow_day_statistic",
    "tarone_statistic",
    "homogeneity_df",
    "breslow_day_pvalue",
    "tarone_pvalue",
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class PooledCountArrays:
    """What every Mantel-Haenszel batch holds: its settings (``add``, ``to`` and ``drop00``
    as pairs, as given), the studies pooled (``k``, present and not dropped by
    ``drop00[1]``) and with an effect size (``k_yi``, those in Q), the pooled estimate
    with its test and interval, and Q, I² and H²; shaped ``(batch,)``."""

    measure: str
    level: float
    add: tuple[float, float]
    to: tuple[str, str]
    drop00: tuple[bool, bool]
    correct: bool
    k: IntArray
    k_yi: IntArray
    estimate: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    q: FloatArray
    q_df: FloatArray
    q_pvalue: FloatArray
    i2: FloatArray
    h2: FloatArray


@dataclass(frozen=True)
class MantelHaenszelArrays(PooledCountArrays):
    """A batch of Mantel-Haenszel results; NaN where a number is undefined.

    Arrays are shaped ``(batch,)`` except ``yi``, ``vi``, ``weights`` and
    ``dropped``, shaped ``(batch, k)`` like the input.  ``estimate`` and the
    interval are on the log scale for OR and RR.  ``q``, ``q_df``,
    ``q_pvalue``, ``i2`` and ``h2`` are NaN when fewer than two tables have an
    effect size (metafor prints Q = 0, p = 1, I² = 0, H² = 1 there).  The
    odds-ratio tests are NaN for RR and RD.  The settings that produced the
    numbers are carried as given (``add``, ``to`` and ``drop00`` as pairs).
    """

    #: OR only: Cochran's test of no association (``N³`` in the variance)
    cochran_statistic: FloatArray
    cochran_pvalue: FloatArray
    #: OR only: the Cochran-Mantel-Haenszel test (``N² (N - 1)`` in the variance)
    cmh_statistic: FloatArray
    cmh_pvalue: FloatArray
    #: OR only: both tests without the continuity correction, whatever ``correct`` says
    cochran_statistic_uncorrected: FloatArray
    cochran_pvalue_uncorrected: FloatArray
    cmh_statistic_uncorrected: FloatArray
    cmh_pvalue_uncorrected: FloatArray
    #: OR only: Breslow-Day and Tarone's tests of homogeneity of the odds ratios
    breslow_day_statistic: FloatArray
    breslow_day_pvalue: FloatArray
    tarone_statistic: FloatArray
    tarone_pvalue: FloatArray
    #: OR only: tables with a positive fitted count and both outcomes (metafor's ``k.pos``)
    k_pos: IntArray
    #: OR only: ``k_pos - 1``, the df of Breslow-Day and Tarone (NaN below two tables)
    homogeneity_df: FloatArray
    #: per-study effect sizes used for Q (NaN where absent, dropped or undefined)
    yi: FloatArray
    vi: FloatArray
    #: Mantel-Haenszel weights in percent: 0 where absent or not pooled, NaN where
    #: every weight is 0 (e.g. OR with ``b c = 0`` in every table)
    weights: FloatArray
    #: present tables dropped as double-zero tables (no events, or only events, in both groups)
    dropped: BoolArray


@dataclass(frozen=True)
class PetoArrays:
    """A batch of Peto results; NaN where a number is undefined.

    Shaped as :class:`MantelHaenszelArrays`.  ``estimate`` is Peto's log odds
    ratio.  Where no pooled table has both outcomes (``sum V = 0``; metafor
    stops with an error) every number is NaN.  ``q`` and the fields derived
    from it are NaN when fewer than two tables are informative (``k_pos < 2``).
    """

    level: float
    add: tuple[float, float]
    to: tuple[str, str]
    drop00: tuple[bool, bool]
    #: tables pooled (present and not dropped by ``drop00[1]``)
    k: IntArray
    #: tables with an effect size ``yi, vi`` (``q_df = k_yi - 1``)
    k_yi: IntArray
    #: tables with a positive hypergeometric variance ``V`` (those in Q)
    k_pos: IntArray
    estimate: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    q: FloatArray
    q_df: FloatArray
    q_pvalue: FloatArray
    i2: FloatArray
    h2: FloatArray
    #: per-study Peto log odds ratios and variances (escalc's PETO; NaN where not computed)
    yi: FloatArray
    vi: FloatArray
    #: weights ``V / sum V`` in percent: 0 where absent or not pooled, NaN where
    #: the estimate is undefined
    weights: FloatArray
    #: present tables dropped as double-zero tables
    dropped: BoolArray


@dataclass(frozen=True)
class CountTables(Mapping[str, Any]):
    """The 2x2 tables of a Mantel-Haenszel or Peto analysis and the settings that pool them.

    A :class:`~srma.analysis.results.MetaResult` of ``method="MH"`` or
    ``"PETO"`` carries these, one table per study in the order of its
    labels, so that every follow-up (leave-one-out, cumulative, GOSH,
    subgroups) refits the tables by the same method with the same ``add``,
    ``to``, ``drop00`` (pairs, as :func:`mantel_haenszel` takes them) and
    ``correct``, as metafor's ``leave1out.rma.mh`` and friends do.  It reads
    as a mapping of its fields, so ``to_dict()`` of a result lists them.
    """

    a: tuple[float, ...]
    b: tuple[float, ...]
    c: tuple[float, ...]
    d: tuple[float, ...]
    add: tuple[float, float]
    to: tuple[str, str]
    drop00: tuple[bool, bool]
    correct: bool = True

    def __getitem__(self, key: str) -> Any:
        if key not in self._names():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return tuple(item.name for item in fields(cls))

    @property
    def k(self) -> int:
        return len(self.a)

    def pooled(self) -> BoolArray:
        """True for the tables in the pool: all but double-zero tables when ``drop00[1]``.

        metafor treats a table dropped from the pool as missing: its
        leave-one-out and cumulative rows are NA and GOSH leaves it out.
        """
        a, b, c, d = self.cells()
        double_zero = _double_zero(a, b, c, d, np.ones(a.shape, dtype=bool))
        return ~(double_zero & self.drop00[1])

    def subset(self, keep: ArrayLike) -> CountTables:
        """The tables where ``keep`` is True, with the same settings."""
        index = np.flatnonzero(np.asarray(keep, dtype=bool))
        a, b, c, d = (tuple(float(x[i]) for i in index) for x in self.cells())
        return CountTables(a, b, c, d, self.add, self.to, self.drop00, self.correct)

    def cells(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """The cells as float arrays of length k."""
        return tuple(np.asarray(x, dtype=np.float64) for x in (self.a, self.b, self.c, self.d))  # type: ignore[return-value]


def pool_tables(
    tables: CountTables,
    masks: ArrayLike,
    method: Literal["MH", "PETO"],
    measure: str | None = None,
    *,
    level: float = 0.95,
) -> MantelHaenszelArrays | MantelHaenszelRateArrays | PetoArrays:
    """Pool many subsets of the same tables in one call: row ``i`` pools the tables in ``masks[i]``.

    ``masks`` is boolean ``(batch, k)``; each row is a meta-analysis of the
    tables it marks, by :func:`mantel_haenszel` (``measure`` OR, RR or RD)
    or :func:`peto`, with the settings the tables carry; for ``measure`` IRR
    or IRD by :func:`mantel_haenszel_rates` (the tables then hold ``x1, t1, x2,
    t2``).  This is how leave-one-out (``~eye(k)``), cumulative (``tri(k)``),
    GOSH and subgroup analyses of a Mantel-Haenszel or Peto result refit it.
    """
    present = np.atleast_2d(np.asarray(masks, dtype=bool))
    if present.shape[1] != tables.k:
        raise ValueError(f"masks need one column per table ({tables.k}), got {present.shape}")
    shape = present.shape
    cells = [np.broadcast_to(x, shape) for x in tables.cells()]
    settings = {"level": level, "add": tables.add, "to": tables.to, "drop00": tables.drop00}
    if method == "PETO":
        return peto(*cells, present, **settings)
    if method != "MH":
        raise ValueError(f"tables are pooled by MH or PETO, not {method!r}")
    if measure in ("IRR", "IRD"):
        return mantel_haenszel_rates(
            *cells,
            present,
            measure,  # type: ignore[arg-type]
            correct=tables.correct,
            **settings,
        )
    return mantel_haenszel(
        *cells,
        present,
        measure,  # type: ignore[arg-type]
        correct=tables.correct,
        **settings,
    )


# --- shared pieces --------------------------------------------------------------


def _pair(value: _T | tuple[_T, _T] | list[_T], second: _T, name: str) -> tuple[_T, _T]:
    if isinstance(value, tuple | list):
        if len(value) != 2:
            raise ValueError(f"{name} takes one value or a pair, got {value!r}")
        return value[0], value[1]
    return value, second


def _settings(
    add: float | tuple[float, float],
    to: str | tuple[str, str],
    drop00: bool | tuple[bool, bool],
    level: float,
) -> tuple[tuple[float, float], tuple[str, str], tuple[bool, bool]]:
    adds = _pair(add, 0.0, "add")
    targets = _pair(to, "none", "to")
    drops = _pair(drop00, False, "drop00")
    for target in targets:
        if target not in CONTINUITY_TARGETS:
            raise ValueError(f"to must be one of {', '.join(CONTINUITY_TARGETS)}, got {target!r}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie between 0 and 1 (0.95 for 95%), got {level}")
    return (float(adds[0]), float(adds[1])), targets, (bool(drops[0]), bool(drops[1]))


def _cells(
    a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike, mask: ArrayLike
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, BoolArray]:
    """The cells as float arrays ``(batch, k)`` and the mask, checked for shape."""
    cells = [np.atleast_2d(np.asarray(x, dtype=np.float64)) for x in (a, b, c, d)]
    shape = cells[0].shape
    if len(shape) != 2 or any(x.shape != shape for x in cells):
        raise ValueError(
            f"a, b, c, d must share one shape (batch, k), got {[x.shape for x in cells]}"
        )
    present = np.broadcast_to(np.atleast_2d(np.asarray(mask, dtype=bool)), shape)
    return cells[0], cells[1], cells[2], cells[3], present


def _double_zero(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, present: BoolArray
) -> BoolArray:
    """Present tables with no events in either group, or only events (metafor's ``drop00``)."""
    return present & (((a == 0) & (c == 0)) | ((b == 0) & (d == 0)))


def _corrected(
    cells: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    use: BoolArray,
    add: float,
    to: str,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """The cells of the tables in ``use`` with ``add`` added as ``to`` says; 1 elsewhere.

    ``only0``: tables with a zero cell; ``all``: every table; ``if0all``: every
    table of a row (one meta-analysis) if any of its tables has a zero cell;
    ``none``: no table.  Cells outside ``use`` become 1 so that arithmetic on
    them stays finite; they are masked out of every sum.
    """
    a, b, c, d = (np.where(use, x, 1.0) for x in cells)
    zero = use & ((a == 0) | (b == 0) | (c == 0) | (d == 0))
    if to == "none" or add == 0.0:
        return a, b, c, d
    if to == "all":
        target = use
    elif to == "if0all":
        target = use & zero.any(axis=1, keepdims=True)
    else:
        target = zero
    return a + target * add, b + target * add, c + target * add, d + target * add


def _sum(values: FloatArray, use: BoolArray) -> FloatArray:
    """Row sums over the tables in ``use`` only."""
    return np.where(use, values, 0.0).sum(axis=1)


def _log_sum(*logs: FloatArray, use: BoolArray) -> FloatArray:
    """``log`` of the row sums of ``exp(logs)`` over the tables in ``use`` (log-sum-exp).

    The Mantel-Haenszel sums ``sum a n2 / N`` and ``sum c n1 / N`` of tables
    with 1e-300 events in 1e65 patients underflow to 0 although their ratio,
    the pooled estimate, is an ordinary number: summed in logarithms they do not.
    """
    terms = np.concatenate([np.where(use, x, -np.inf) for x in logs], axis=1)
    return logsumexp(terms, axis=1)


def _log(x: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(x)


def _effect_sizes(
    measure: str,
    cells: tuple[FloatArray, FloatArray, FloatArray, FloatArray],
    present: BoolArray,
    dropped: BoolArray,
    add: float,
    to: str,
) -> tuple[FloatArray, FloatArray]:
    """``yi, vi`` as escalc computes them (NaN for absent and dropped tables)."""
    use = present & ~dropped
    yi, vi = BINARY_MEASURES[measure](*_corrected(cells, use, add, to))
    return np.where(use, yi, np.nan), np.where(use, vi, np.nan)


def _wald(
    estimate: FloatArray, se: FloatArray, level: float
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``z = estimate / se``, its two-sided normal p-value and the Wald interval."""
    statistic = estimate / se
    lower, upper = wald_interval(estimate, se, critical_value(level, shape=np.shape(estimate)))
    return statistic, two_sided_pvalue(statistic), lower, upper


def _heterogeneity(
    q: FloatArray, df: FloatArray, defined: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Q on ``df`` degrees of freedom, ``I² = max(0, 100 (Q - df) / Q)``, ``H² = Q / df``.

    NaN where not ``defined``; a NaN Q stays NaN (as R's ``max(0, NaN)``).
    """
    safe_df = np.where(defined, df, 1.0)
    q_pvalue = chi2.sf(q, safe_df)
    i2 = np.maximum(0.0, 100.0 * (q - safe_df) / q)
    h2 = q / safe_df

    def keep(values: FloatArray) -> FloatArray:
        return np.where(defined, values, np.nan)

    return keep(q), keep(df), keep(q_pvalue), keep(i2), keep(h2)


def _percent(weights: FloatArray, use: BoolArray) -> FloatArray:
    """Weights as percentages of their row sum, 0 outside ``use``."""
    weights = np.where(use, weights, 0.0)
    return 100.0 * weights / weights.sum(axis=1, keepdims=True)


# --- Mantel-Haenszel --------------------------------------------------------------


def mantel_haenszel(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    d: ArrayLike,
    mask: ArrayLike,
    measure: MantelHaenszelMeasure,
    *,
    level: float = 0.95,
    add: float | tuple[float, float] = 0.5,
    to: ContinuityTarget | tuple[ContinuityTarget, ContinuityTarget] = "only0",
    drop00: bool | tuple[bool, bool] = True,
    correct: bool = True,
) -> MantelHaenszelArrays:
    """Mantel-Haenszel pooled odds ratio, risk ratio or risk difference.

    Parameters
    ----------
    a, b, c, d
        Cell counts shaped ``(batch, k)``: events and non-events in group 1,
        events and non-events in group 2.  Present tables must hold finite counts.
    mask
        Boolean ``(batch, k)``, True where a table is present.
    measure
        ``"OR"``, ``"RR"`` or ``"RD"``.
    level
        Confidence level of the interval (0.95 for 95%).
    add, to, drop00
        Continuity correction and double-zero policy, each one value or a pair
        ``(for yi/vi, for pooling)`` as in metafor; one value ``x`` means
        ``(x, 0)``, ``(x, "none")``, ``(x, False)``.  ``drop00`` leaves out
        tables with no events (or only events) in both groups.
    correct
        Continuity correction (1/2) in Cochran's and the CMH test (``cochran_*``,
        ``cmh_*``); the ``*_uncorrected`` fields are always without it.

    Notes
    -----
    With ``N = a + b + c + d``, ``n1 = a + b``, ``n2 = c + d``, ``x = a + c``
    (events) and ``y = b + d`` (non-events), all sums over the pooled tables:

    * **OR** (Mantel & Haenszel 1959): ``psi = R / S`` with ``R = sum(a d / N)``
      and ``S = sum(b c / N)``, undefined when ``R = 0`` or ``S = 0``.  Variance
      of ``log psi`` (Robins, Breslow & Greenland 1986), with ``P = (a + d)/N``,
      ``Q = (b + c)/N``::

          1/2 [sum(P a d/N) / R² + sum(P b c/N + Q a d/N) / (R S) + sum(Q b c/N) / S²]

    * **RR** (Greenland & Robins 1985): ``R / S`` with ``R = sum(a n2 / N)`` and
      ``S = sum(c n1 / N)``, undefined when ``sum a = 0`` or ``sum c = 0``;
      ``Var(log RR) = sum(n1 n2 x / N² - a c / N) / (R S)``.
    * **RD**: ``sum(a n2 / N - c n1 / N) / W`` with ``W = sum(n1 n2 / N)``; the
      variance of Sato (1989) as Greenland & Robins (1985) extended it::

          [RD sum(c n1²/N² - a n2²/N² + n1 n2 (n2 - n1) / (2 N²))
           + sum(a (n2 - c) / N + c (n1 - a) / N) / 2] / W²

    The weights are ``b c / N`` (OR), ``c n1 / N`` (RR) and ``n1 n2 / N`` (RD).

    For OR also the tests of no association, Cochran's and the
    Cochran-Mantel-Haenszel test (Mantel & Haenszel 1959)::

        (|sum(a - n1 x / N)| - 1/2)² / sum(n1 n2 x y / (N² (N - 1)))

    (Cochran's with ``N³`` in place of ``N² (N - 1)``; no 1/2 unless
    ``correct``), chi² on 1 df, undefined when ``sum x = 0`` or ``sum y = 0``;
    and the tests of homogeneity of the odds ratios: Breslow & Day (1980),
    ``BD = sum((a - A)² / V)`` where ``A`` is the count in cell a fitted under the
    common odds ratio ``psi`` (the root in ``(0, min(n1, x))`` of
    ``A (n2 - x + A) = psi (n1 - A)(x - A)``) and ``1/V = 1/A + 1/(n1 - A) +
    1/(x - A) + 1/(n2 - x + A)``, and Tarone (1985)'s correction ``TA = BD -
    (sum(a - A))² / sum V``, both over the ``k_pos`` tables with ``A > 0``,
    both outcomes and both groups, chi² on ``k_pos - 1`` df.  (metafor does not
    ask for both groups: a table with an empty group has ``A = a`` up to
    rounding, and there its contribution is 0/0 or x/0 and its count adds to
    the df; such a table says nothing about the odds ratio and is left out.)

    Heterogeneity: ``Q = sum((yi - estimate)² / vi)`` over the tables with an
    effect size (``k_yi`` of them; escalc's log OR, log RR or RD with the
    correction ``add[0], to[0]``), on ``k_yi - 1`` df; ``I² = max(0, 100 (Q -
    df) / Q)`` and ``H² = Q / df`` (metafor's ``rma.mh``).
    """
    if measure not in ("OR", "RR", "RD"):
        raise ValueError(f"Mantel-Haenszel pools OR, RR or RD, not {measure!r}")
    adds, targets, drops = _settings(add, to, drop00, level)
    a0, b0, c0, d0, present = _cells(a, b, c, d, mask)
    double_zero = _double_zero(a0, b0, c0, d0, present)
    dropped = double_zero & (drops[0] | drops[1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        yi, vi = _effect_sizes(
            measure, (a0, b0, c0, d0), present, double_zero & drops[0], adds[0], targets[0]
        )
        pooled = present & ~(double_zero & drops[1])
        cells = _corrected((a0, b0, c0, d0), pooled, adds[1], targets[1])
        estimate, se, weights = _POOLERS[measure](*cells, pooled)
        statistic, pvalue, ci_lower, ci_upper = _wald(estimate, se, level)

        in_q = present & ~np.isnan(yi) & ~np.isnan(vi)
        k_yi = in_q.sum(axis=1)
        residual = np.where(in_q, yi, 0.0) - estimate[:, None]
        q = np.maximum(0.0, _sum(residual**2 / vi, in_q))
        heterogeneity = _heterogeneity(q, (k_yi - 1).astype(np.float64), k_yi > 1)

        nan = np.full(estimate.shape, np.nan)
        tests = dict.fromkeys(
            (
                "cochran_statistic",
                "cochran_pvalue",
                "cmh_statistic",
                "cmh_pvalue",
                "cochran_statistic_uncorrected",
                "cochran_pvalue_uncorrected",
                "cmh_statistic_uncorrected",
                "cmh_pvalue_uncorrected",
                "breslow_day_statistic",
                "breslow_day_pvalue",
                "tarone_statistic",
                "tarone_pvalue",
                "homogeneity_df",
            ),
            nan,
        )
        k_pos = np.zeros(estimate.shape, dtype=np.int64)
        if measure == "OR":
            tests.update(_association_tests(*cells, pooled, correct))
            uncorrected = _association_tests(*cells, pooled, False)
            tests.update({f"{name}_uncorrected": value for name, value in uncorrected.items()})
            homogeneity, k_pos = _homogeneity_tests(*cells, pooled, np.exp(estimate))
            tests.update(homogeneity)
        q_out, q_df, q_pvalue, i2, h2 = heterogeneity
    return MantelHaenszelArrays(
        measure=measure,
        level=level,
        add=adds,
        to=targets,
        drop00=drops,
        correct=correct,
        k=pooled.sum(axis=1),
        k_yi=k_yi,
        estimate=estimate,
        se=se,
        statistic=statistic,
        pvalue=pvalue,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        q=q_out,
        q_df=q_df,
        q_pvalue=q_pvalue,
        i2=i2,
        h2=h2,
        k_pos=k_pos,
        yi=yi,
        vi=vi,
        weights=weights,
        dropped=dropped,
        **tests,
    )


def _pool_or(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, use: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mantel-Haenszel log odds ratio, Robins-Breslow-Greenland SE, weights ``b c / N``.

    ``log(R / S)`` with ``R = sum a d / N``, ``S = sum b c / N`` and the variance
    ``(sum P R_i / R² + sum (P S_i + Q R_i) / (R S) + sum Q S_i / S²) / 2`` are
    computed from log-sums (:func:`_log_sum`).
    """
    total = a + b + c + d
    p, q = a / total + d / total, b / total + c / total
    log_r_i, log_s_i = _log(a) - _log(total) + _log(d), _log(b) - _log(total) + _log(c)
    log_r, log_s = _log_sum(log_r_i, use=use), _log_sum(log_s_i, use=use)
    with np.errstate(over="ignore", invalid="ignore"):
        variance = 0.5 * (
            np.exp(_log_sum(_log(p) + log_r_i, use=use) - 2.0 * log_r)
            + np.exp(_log_sum(_log(p) + log_s_i, _log(q) + log_r_i, use=use) - log_r - log_s)
            + np.exp(_log_sum(_log(q) + log_s_i, use=use) - 2.0 * log_s)
        )
    defined = np.isfinite(log_r) & np.isfinite(log_s)
    estimate = np.where(defined, log_r - log_s, np.nan)
    se = np.where(defined, np.sqrt(variance), np.nan)
    return estimate, se, _percent((b / total) * c, use)


def _pool_rr(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, use: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mantel-Haenszel log risk ratio, Greenland-Robins SE, weights ``c n1 / N``.

    ``log(R / S)`` with ``R = sum a n2 / N``, ``S = sum c n1 / N`` from log-sums
    (:func:`_log_sum`), and the variance ``sum (n1 n2 (a + c) / N² - a c / N) / (R S)``.
    """
    n1, n2 = a + b, c + d
    total = n1 + n2
    log_r = _log_sum(_log(a) + _log(n2) - _log(total), use=use)
    log_s = _log_sum(_log(c) + _log(n1) - _log(total), use=use)
    numerator = _sum((n1 / total) * (n2 / total) * (a + c) - (a / total) * c, use)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        variance = np.exp(_log(numerator) - log_r - log_s)
    defined = (_sum(a, use) != 0) & (_sum(c, use) != 0) & np.isfinite(log_r - log_s)
    estimate = np.where(defined, log_r - log_s, np.nan)
    se = np.where(defined, np.sqrt(variance), np.nan)
    return estimate, se, _percent((c / total) * n1, use)


def _pool_rd(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, use: BoolArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mantel-Haenszel risk difference, Sato / Greenland-Robins SE, weights ``n1 n2 / N``."""
    n1, n2 = a + b, c + d
    total = n1 + n2
    w = _sum(n1 * (n2 / total), use)
    estimate = _sum(a * (n2 / total) - c * (n1 / total), use) / w
    variance = (
        estimate
        * _sum(
            c * (n1 / total) ** 2
            - a * (n2 / total) ** 2
            + (n1 / total) * (n2 / total) * (n2 - n1) / 2.0,
            use,
        )
        + _sum(a * (n2 - c) / total + c * (n1 - a) / total, use) / 2.0
    ) / w**2
    return estimate, np.sqrt(variance), _percent((n1 / total) * n2, use)


_POOLERS = {"OR": _pool_or, "RR": _pool_rr, "RD": _pool_rd}


def _association_tests(
    a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray, use: BoolArray, correct: bool
) -> dict[str, FloatArray]:
    """Cochran's and the Cochran-Mantel-Haenszel test of no association (chi², 1 df)."""
    n1, n2, x, y = a + b, c + d, a + c, b + d
    total = n1 + n2
    numerator = (np.abs(_sum(a - (n1 / total) * x, use)) - (0.5 if correct else 0.0)) ** 2
    spread = (n1 / total) * (n2 / total) * x
    cochran = numerator / _sum(spread * (y / total), use)
    cmh = numerator / _sum(spread * (y / (total - 1.0)), use)
    defined = (_sum(x, use) != 0) & (_sum(y, use) != 0)
    cochran = np.where(defined, cochran, np.nan)
    cmh = np.where(defined, cmh, np.nan)
    return {
        "cochran_statistic": cochran,
        "cochran_pvalue": chi2.sf(cochran, 1.0),
        "cmh_statistic": cmh,
        "cmh_pvalue": chi2.sf(cmh, 1.0),
    }


def _homogeneity_tests(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    d: FloatArray,
    use: BoolArray,
    odds_ratio: FloatArray,
) -> tuple[dict[str, FloatArray], IntArray]:
    """Breslow-Day and Tarone's tests of homogeneity of the odds ratios, and ``k_pos``.

    The fitted count ``A`` in cell a under the common odds ratio ``psi`` is the
    smaller root of ``(psi - 1) A² - B A + psi n1 x = 0`` with ``B = psi (n1 +
    x) + n2 - x``: ``A = (B - sqrt(D)) / (2 (psi - 1))``, ``D = B² - 4 n1 x psi
    (psi - 1)``, as metafor writes it.  It is computed here in the equal form
    ``A = 2 psi n1 x / (B + sqrt(D))``, which needs no special case at ``psi =
    1`` (where it gives ``n1 x / N``) and keeps its digits near it, where the
    difference ``B - sqrt(D)`` cancels.  Tables with an empty group, no
    events or no non-events carry no information on the odds ratio and are
    left out (metafor keeps those with an empty group, where its sums then
    depend on rounding).
    """
    n1, n2, x, y = a + b, c + d, a + c, b + d
    total = n1 + n2
    psi = odds_ratio[:, None]
    big_b = psi * (n1 + x) + (n2 - x)
    root = np.sqrt(big_b**2 - 4.0 * n1 * x * psi * (psi - 1.0))
    fitted = 2.0 * psi * n1 * x / (big_b + root)
    positive = use & (fitted > 0) & (x > 0) & (y > 0) & (n1 > 0) & (n2 > 0)
    k_pos = positive.sum(axis=1)
    inverse_v = (
        1.0 / fitted + 1.0 / (n1 - fitted) + 1.0 / (x - fitted) + 1.0 / (fitted - n1 - x + total)
    )
    residual = a - fitted
    breslow_day = np.maximum(0.0, _sum(residual**2 / inverse_v**-1, positive))
    tarone = np.maximum(
        0.0, breslow_day - _sum(residual, positive) ** 2 / _sum(inverse_v**-1, positive)
    )
    estimated = ~np.isnan(odds_ratio)
    k_pos = np.where(estimated, k_pos, 0)
    several = estimated & (k_pos > 1)
    df = np.where(several, k_pos - 1.0, np.nan)
    safe_df = np.where(several, df, 1.0)
    breslow_day = np.where(estimated, breslow_day, np.nan)
    tarone = np.where(estimated, tarone, np.nan)
    return {
        "breslow_day_statistic": breslow_day,
        "breslow_day_pvalue": np.where(several, chi2.sf(breslow_day, safe_df), np.nan),
        "tarone_statistic": tarone,
        "tarone_pvalue": np.where(several, chi2.sf(tarone, safe_df), np.nan),
        "homogeneity_df": df,
    }, k_pos


# --- Peto --------------------------------------------------------------------------


def peto(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    d: ArrayLike,
    mask: ArrayLike,
    *,
    level: float = 0.95,
    add: float | tuple[float, float] = 0.5,
    to: ContinuityTarget | tuple[ContinuityTarget, ContinuityTarget] = "only0",
    drop00: bool | tuple[bool, bool] = True,
) -> PetoArrays:
    """Peto's pooled log odds ratio (Yusuf et al. 1985), as metafor's ``rma.peto``.

    Parameters as :func:`mantel_haenszel`; ``add``, ``to`` and ``drop00`` apply
    to the per-study ``yi, vi`` (first element) and the pooling cells (second).

    Notes
    -----
    Per table, the expected count in cell a and its hypergeometric variance
    under no association::

        E = x n1 / N,    V = x y (n1 / N)(n2 / N) / (N - 1)

    with ``x = a + c``, ``y = b + d``.  Pooled: ``log OR = sum(a - E) / sum V``,
    ``SE = 1 / sqrt(sum V)``, weights ``V / sum V``; undefined (NaN; metafor
    stops) when ``sum V = 0``.  Heterogeneity over the ``k_pos`` tables with
    ``V > 0``::

        Q = max(0, sum((a - E)² / V) - (sum(a - E))² / sum V)

    on ``k_yi - 1`` df, where ``k_yi`` counts the tables with a per-study Peto
    log odds ratio ``yi = (a - E) / V``, ``vi = 1 / V`` (escalc's PETO, whose
    cells get the continuity correction ``add[0], to[0]``); ``I² = max(0, 100
    (Q - df) / Q)``, ``H² = Q / df``; NaN unless ``k_pos > 1``.
    """
    adds, targets, drops = _settings(add, to, drop00, level)
    a0, b0, c0, d0, present = _cells(a, b, c, d, mask)
    double_zero = _double_zero(a0, b0, c0, d0, present)
    dropped = double_zero & (drops[0] | drops[1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        yi, vi = _effect_sizes(
            "PETO", (a0, b0, c0, d0), present, double_zero & drops[0], adds[0], targets[0]
        )
        in_q = present & ~np.isnan(yi) & ~np.isnan(vi)
        k_yi = in_q.sum(axis=1)

        pooled = present & ~(double_zero & drops[1])
        a1, b1, c1, d1 = _corrected((a0, b0, c0, d0), pooled, adds[1], targets[1])
        n1, n2, x, y = a1 + b1, c1 + d1, a1 + c1, b1 + d1
        total = n1 + n2
        expected = x * n1 / total
        variance = x * y * (n1 / total) * (n2 / total) / (total - 1.0)
        sum_v = _sum(variance, pooled)
        defined = sum_v != 0
        observed_minus_expected = _sum(a1 - expected, pooled)
        estimate = np.where(defined, observed_minus_expected / sum_v, np.nan)
        se = np.where(defined, np.sqrt(1.0 / sum_v), np.nan)
        statistic, pvalue, ci_lower, ci_upper = _wald(estimate, se, level)

        informative = pooled & (variance > 0)
        k_pos = informative.sum(axis=1)
        q = np.maximum(
            0.0,
            _sum((a1 - expected) ** 2 / variance, informative)
            - observed_minus_expected**2 / _sum(variance, informative),
        )
        q_out, q_df, q_pvalue, i2, h2 = _heterogeneity(
            q, (k_yi - 1).astype(np.float64), defined & (k_pos > 1) & (k_yi > 1)
        )
        weights = np.where(defined[:, None], _percent(variance, pooled), np.nan)
    return PetoArrays(
        level=level,
        add=adds,
        to=targets,
        drop00=drops,
        k=pooled.sum(axis=1),
        k_yi=k_yi,
        k_pos=k_pos,
        estimate=estimate,
        se=se,
        statistic=statistic,
        pvalue=pvalue,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        q=q_out,
        q_df=q_df,
        q_pvalue=q_pvalue,
        i2=i2,
        h2=h2,
        yi=yi,
        vi=vi,
        weights=weights,
        dropped=dropped,
    )


# --- Mantel-Haenszel for incidence rates ------------------------------------------

#: The Mantel-Haenszel test of no association reported for the rate ratio (NaN for IRD).
RATE_RATIO_TESTS = ("mh_statistic", "mh_pvalue")


@dataclass(frozen=True)
class MantelHaenszelRateArrays(PooledCountArrays):
    """A batch of Mantel-Haenszel incidence-rate results; NaN where a number is undefined.

    Shaped as :class:`MantelHaenszelArrays`: ``(batch,)`` except ``yi``, ``vi``,
    ``weights`` and ``dropped``, shaped ``(batch, k)``.  ``estimate`` and the
    interval are on the log scale for IRR.  ``mh_statistic`` and ``mh_pvalue``
    (the test of no association) are NaN for IRD.
    """

    #: IRR only: the Mantel-Haenszel test of no association (chi², 1 df)
    mh_statistic: FloatArray
    mh_pvalue: FloatArray
    #: per-study effect sizes used for Q (escalc's IRR or IRD; NaN where absent or dropped)
    yi: FloatArray
    vi: FloatArray
    #: weights in percent: 0 where absent or not pooled
    weights: FloatArray
    #: present studies dropped as double-zero studies (no events in either group)
    dropped: BoolArray


def _corrected_events(
    x1: FloatArray, x2: FloatArray, use: BoolArray, add: float, to: str
) -> tuple[FloatArray, FloatArray]:
    """Both event counts of the studies in ``use`` with ``add`` added as ``to`` says; 1 elsewhere.

    As :func:`_corrected`, on the counts only (person-time is not a count):
    ``only0`` corrects the studies with a zero count in either group.
    """
    x1, x2 = np.where(use, x1, 1.0), np.where(use, x2, 1.0)
    if to == "none" or add == 0.0:
        return x1, x2
    zero = use & ((x1 == 0) | (x2 == 0))
    if to == "all":
        target = use
    elif to == "if0all":
        target = use & zero.any(axis=1, keepdims=True)
    else:
        target = zero
    return x1 + target * add, x2 + target * add


def mantel_haenszel_rates(
    x1: ArrayLike,
    t1: ArrayLike,
    x2: ArrayLike,
    t2: ArrayLike,
    mask: ArrayLike,
    measure: Literal["IRR", "IRD"],
    *,
    level: float = 0.95,
    add: float | tuple[float, float] = 0.5,
    to: ContinuityTarget | tuple[ContinuityTarget, ContinuityTarget] = "only0",
    drop00: bool | tuple[bool, bool] = True,
    correct: bool = True,
) -> MantelHaenszelRateArrays:
    """Mantel-Haenszel pooled incidence rate ratio or difference, as metafor's ``rma.mh``.

    Parameters
    ----------
    x1, t1, x2, t2
        Events and person-time in group 1, then in group 2, shaped ``(batch, k)``.
    mask
        Boolean ``(batch, k)``, True where a study is present.
    measure
        ``"IRR"`` (log scale) or ``"IRD"``.
    level, add, to, drop00
        As :func:`mantel_haenszel`; the correction adds to the event counts only
        and ``drop00`` leaves out studies with no events in either group.
    correct
        Continuity correction (1/2) in the Mantel-Haenszel test (IRR).

    Notes
    -----
    With ``T = t1 + t2`` and sums over the pooled studies (Rothman, Greenland &
    Lash 2008, *Modern Epidemiology*, 3rd ed., eqs. 15-16 to 15-19; Greenland &
    Robins 1985):

    * **IRR**: ``R / S`` with ``R = sum(x1 t2 / T)``, ``S = sum(x2 t1 / T)``,
      undefined when ``sum x1 = 0`` or ``sum x2 = 0``; ``Var(log IRR) =
      sum(t1 t2 (x1 + x2) / T²) / (R S)``; weights ``x2 t1 / T``.  The
      Mantel-Haenszel test of no association::

          (|sum(x1 - (x1 + x2) t1 / T)| - 1/2)² / sum((x1 + x2) t1 t2 / T²)

      chi² on 1 df (no 1/2 unless ``correct``), undefined when no study has events.
    * **IRD**: ``sum((x1 t2 - x2 t1) / T) / W`` with ``W = sum(t1 t2 / T)``,
      ``SE = sqrt(sum((t1 t2 / T)² (x1 / t1² + x2 / t2²))) / W``; weights ``t1 t2 / T``.

    Heterogeneity: Cochran's Q of the per-study ``yi, vi`` (escalc's IRR or IRD
    with ``add[0], to[0]``) around the pooled estimate, on ``k_yi - 1`` df, with
    I² and H² (NaN when ``k_yi < 2``).
    """
    if measure not in ("IRR", "IRD"):
        raise ValueError(f"Mantel-Haenszel pools incidence rates as IRR or IRD, not {measure!r}")
    adds, targets, drops = _settings(add, to, drop00, level)
    e1, time1, e2, time2, present = _cells(x1, t1, x2, t2, mask)
    double_zero = present & (e1 == 0) & (e2 == 0)
    dropped = double_zero & (drops[0] | drops[1])
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        use_yi = present & ~(double_zero & drops[0])
        y1, y2 = _corrected_events(e1, e2, use_yi, adds[0], targets[0])
        yi, vi = TWO_GROUP_RATE_MEASURES[measure](
            y1, np.where(use_yi, time1, 1.0), y2, np.where(use_yi, time2, 1.0)
        )
        yi, vi = np.where(use_yi, yi, np.nan), np.where(use_yi, vi, np.nan)

        pooled = present & ~(double_zero & drops[1])
        a, c = _corrected_events(e1, e2, pooled, adds[1], targets[1])
        s1, s2 = np.where(pooled, time1, 1.0), np.where(pooled, time2, 1.0)
        total = s1 + s2
        nan = np.full(a.shape[0], np.nan)
        if measure == "IRR":
            r = _sum(a * (s2 / total), pooled)
            s = _sum(c * (s1 / total), pooled)
            defined = (_sum(a, pooled) != 0) & (_sum(c, pooled) != 0)
            estimate = np.where(defined, np.log(r / s), np.nan)
            variance = _sum((s1 / total) * (s2 / total) * (a + c), pooled) / (r * s)
            se = np.where(defined, np.sqrt(variance), np.nan)
            weights = _percent(c * (s1 / total), pooled)
            events = a + c
            numerator = (
                np.abs(_sum(a - events * (s1 / total), pooled)) - (0.5 if correct else 0.0)
            ) ** 2
            any_events = _sum(events, pooled) != 0
            mh = np.where(
                any_events,
                numerator / _sum(events * (s1 / total) * (s2 / total), pooled),
                np.nan,
            )
            mh_pvalue = chi2.sf(mh, 1.0)
        else:
            w = _sum((s1 / total) * s2, pooled)
            estimate = _sum((a * s2 - c * s1) / total, pooled) / w
            se = np.sqrt(_sum(((s1 / total) * s2) ** 2 * (a / s1**2 + c / s2**2), pooled)) / w
            weights = _percent((s1 / total) * s2, pooled)
            mh, mh_pvalue = nan, nan
        statistic, pvalue, ci_lower, ci_upper = _wald(estimate, se, level)

        in_q = present & ~np.isnan(yi) & ~np.isnan(vi)
        k_yi = in_q.sum(axis=1)
        residual = np.where(in_q, yi, 0.0) - estimate[:, None]
        q = np.maximum(0.0, _sum(residual**2 / vi, in_q))
        q_out, q_df, q_pvalue, i2, h2 = _heterogeneity(q, (k_yi - 1).astype(np.float64), k_yi > 1)
    return MantelHaenszelRateArrays(
        measure=measure,
        level=level,
        add=adds,
        to=targets,
        drop00=drops,
        correct=correct,
        k=pooled.sum(axis=1),
        k_yi=k_yi,
        estimate=estimate,
        se=se,
        statistic=statistic,
        pvalue=pvalue,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        q=q_out,
        q_df=q_df,
        q_pvalue=q_pvalue,
        i2=i2,
        h2=h2,
        mh_statistic=np.asarray(mh, dtype=np.float64),
        mh_pvalue=np.asarray(mh_pvalue, dtype=np.float64),
        yi=yi,
        vi=vi,
        weights=weights,
        dropped=dropped,
    )
