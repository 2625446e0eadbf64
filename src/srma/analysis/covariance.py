"""``vcalc(data, ...)``: the sampling covariance matrix of dependent effect sizes.

The same calculation as metafor's ``vcalc`` (numerics and formula:
:mod:`srma.stats.covariance`), reading its variables from columns of a table:

* ``obs`` with ``rho``: several effect sizes of one construct (measures,
  observations) correlated ``rho``;
* ``type`` with ``rho``: effect sizes of different constructs correlated
  ``rho``; with both ``obs`` and ``type``, ``rho`` is a pair ``(within
  construct, between constructs)``;
* ``time1`` (and ``time2``) with ``phi``: repeated occasions, correlated
  ``phi^|t1 - t2|``;
* ``grp1``, ``grp2`` (and their sizes ``w1``, ``w2``): contrasts of groups
  where one group (a shared control) is used more than once;
* ``subgroup``: rows of different subgroups of a cluster are independent.

A correlation is a number, or a square :class:`pandas.DataFrame` whose index
and columns name the levels of ``obs`` or ``type``.  The result is the
``k x k`` matrix in the table's row order, block-diagonal by cluster; a block
that is not positive definite is an error naming its cluster
(``check_pd=False`` returns it anyway, as metafor does with a warning).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from srma.analysis.validation import column_name, numeric_column, require_columns, validate_options
from srma.errors import InputError
from srma.stats.covariance import (
    cluster_codes,
    correlation_matrix,
    sampling_covariance,
    smallest_block_eigenvalues,
)
from srma.stats.robust import cluster_blocks

#: A block of correlations whose smallest eigenvalue is at most this is not positive
#: definite.  metafor tests against machine epsilon; a singular block's zero eigenvalue
#: comes out of rounding as anything within about 1e-15 of 0, so srma allows more.
PD_TOLERANCE = 1e-10

Correlation = float | pd.DataFrame


def _labels(frame: pd.DataFrame, column: str, source: str | None) -> np.ndarray:
    """A column as text labels; a missing cell is an error naming its row."""
    require_columns(frame, [column], source=source)
    raw = frame[column]
    blank = (raw.isna() | (raw.astype(str).str.strip() == "")).to_numpy()
    if blank.any():
        row = int(np.flatnonzero(blank)[0])
        raise InputError(
            "a value is needed here: vcalc cannot place a row without it",
            file=source,
            row=row + 1,
            column=column,
        )
    return raw.astype(str).str.strip().to_numpy()


def _numbers(frame: pd.DataFrame, column: str, source: str | None) -> np.ndarray:
    values = numeric_column(frame, column, source=source)
    missing = np.flatnonzero(np.isnan(values))
    if missing.size:
        raise InputError(
            "a number is needed here: vcalc cannot place a row without it",
            file=source,
            row=int(missing[0]) + 1,
            column=column,
        )
    return values


def _correlations(
    rho: Correlation, levels: np.ndarray, role: str, column: str, source: str | None
) -> np.ndarray:
    """The correlation matrix of the levels of ``column`` (in order of first appearance)."""
    order = list(dict.fromkeys(levels))
    if isinstance(rho, pd.DataFrame):
        index = [str(label).strip() for label in rho.index]
        columns = [str(label).strip() for label in rho.columns]
        if index != columns:
            raise InputError(
                f"the {role} correlation matrix must name the same levels in its rows and "
                f"columns, got rows {index} and columns {columns}",
                column=column,
            )
        missing = [level for level in order if level not in index]
        if missing:
            raise InputError(
                f"the {role} correlation matrix has no row for level(s) {missing} of "
                f"{column_name(column)}",
                file=source,
                column=column,
            )
        values = rho.to_numpy(dtype=float)
        if not np.allclose(values, values.T, rtol=0.0, atol=1e-12):
            raise InputError(f"the {role} correlation matrix must be symmetric", column=column)
        position = [index.index(level) for level in order]
        matrix = values[np.ix_(position, position)]
    else:
        if isinstance(rho, bool) or not isinstance(rho, (int, float, np.floating, np.integer)):
            raise InputError(
                f"the {role} correlation must be a number or a square DataFrame of the "
                f"levels of {column_name(column)}, got {rho!r}",
                column=column,
            )
        matrix = np.full((len(order), len(order)), float(rho))
    bad = ~(np.abs(matrix) <= 1.0)
    np.fill_diagonal(bad, False)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(
            f"the {role} correlation of {order[i]!r} and {order[j]!r} is {float(matrix[i, j])!r}: "
            "a correlation must lie in [-1, 1]",
            column=column,
        )
    return matrix


def _split_rho(
    rho: Correlation | Sequence[Correlation] | Mapping[str, Correlation] | None,
    obs: str | None,
    type: str | None,
) -> tuple[Correlation, Correlation]:
    """``(within construct, between constructs)`` as metafor reads ``rho``."""
    if obs is None and type is None:
        if rho is not None:
            raise InputError("rho is a correlation of obs or type rows: name obs= or type=")
        return 0.0, 0.0
    if rho is None:
        raise InputError(f"rho is needed with {'obs' if obs is not None else 'type'}=")
    if obs is not None and type is not None:
        if isinstance(rho, Mapping):
            if set(rho) != {"obs", "type"}:
                raise InputError("rho must map 'obs' and 'type' to their correlations")
            return rho["obs"], rho["type"]
        if isinstance(rho, (list, tuple)) and len(rho) == 2:
            return rho[0], rho[1]
        raise InputError(
            "with both obs and type, rho must be a pair: (the correlation within a "
            f"construct, the correlation between constructs), got {rho!r}"
        )
    if isinstance(rho, (list, tuple, Mapping)):
        raise InputError(f"with only {'obs' if obs else 'type'}=, rho must be one correlation")
    return (rho, 0.0) if obs is not None else (0.0, rho)


def vcalc(
    data: pd.DataFrame,
    vi: str = "vi",
    cluster: str = "study",
    *,
    obs: str | None = None,
    type: str | None = None,
    time1: str | None = None,
    time2: str | None = None,
    grp1: str | None = None,
    grp2: str | None = None,
    w1: str | None = None,
    w2: str | None = None,
    subgroup: str | None = None,
    rho: Correlation | Sequence[Correlation] | Mapping[str, Correlation] | None = None,
    phi: float | None = None,
    check_pd: bool = True,
    source: str | None = None,
) -> np.ndarray:
    """The ``k x k`` sampling covariance matrix of the table's effect sizes (module docstring).

    The arguments name columns of ``data``, as metafor's ``vcalc`` does:
    ``vcalc(frame, "vi", "study", obs="esid", rho=0.6)``.
    """
    phi = validate_options("vcalc", phi=phi)["phi"]
    if time2 is not None and time1 is None:
        raise InputError("time2 needs time1 (the occasion of grp1)")
    if grp2 is not None and grp1 is None:
        raise InputError("grp2 needs grp1")
    if w2 is not None and w1 is None:
        raise InputError("w2 needs w1 (the size of grp1)")
    if (time2 is not None or w2 is not None) and grp2 is None:
        raise InputError("time2 and w2 describe grp2: name grp2= too")
    if time1 is not None and phi is None:
        raise InputError("phi (the autocorrelation of occasions) is needed with time1=")
    rho_obs, rho_type = _split_rho(rho, obs, type)
    k = len(data)
    if k < 2:
        raise InputError(f"vcalc needs at least two rows, got {k}", file=source)
    variances = _numbers(data, vi, source)
    negative = np.flatnonzero(variances < 0)
    if negative.size:
        row = int(negative[0])
        raise InputError(
            f"a sampling variance cannot be negative, got {variances[row]!r}",
            file=source,
            row=row + 1,
            column=vi,
        )
    clusters = _labels(data, cluster, source)
    if subgroup is not None:
        clusters = np.char.add(np.char.add(clusters, "\x1f"), _labels(data, subgroup, source))
    ones = np.ones(k)
    obs_labels = _labels(data, obs, source) if obs is not None else np.full(k, "1")
    type_labels = _labels(data, type, source) if type is not None else np.full(k, "1")
    r_obs = _correlations(rho_obs, obs_labels, "obs", obs or "obs", source)
    r_type = _correlations(rho_type, type_labels, "type", type or "type", source)
    first = _labels(data, grp1, source) if grp1 is not None else np.full(k, "1")
    second = _labels(data, grp2, source) if grp2 is not None else np.full(k, "2")
    group_codes = cluster_codes(np.concatenate([first, second]))
    sizes1 = _numbers(data, w1, source) if w1 is not None else ones
    sizes2 = _numbers(data, w2, source) if w2 is not None else sizes1
    for column, sizes in ((w1, sizes1), (w2, sizes2)):
        small = np.flatnonzero(~(sizes > 0))
        if column is not None and small.size:
            row = int(small[0])
            raise InputError(
                f"a group size must be > 0, got {sizes[row]!r}",
                file=source,
                row=row + 1,
                column=column,
            )
    times1 = _numbers(data, time1, source) if time1 is not None else ones
    times2 = _numbers(data, time2, source) if time2 is not None else times1
    correlation = correlation_matrix(
        cluster_codes(clusters),
        obs=cluster_codes(obs_labels),
        type=cluster_codes(type_labels),
        rho_obs=r_obs,
        rho_type=r_type,
        grp1=group_codes[:k],
        grp2=group_codes[k:],
        time1=times1,
        time2=times2,
        w1=sizes1,
        w2=sizes2,
        phi=1.0 if phi is None else float(phi),
    )
    if not np.isfinite(correlation).all():
        row = int(np.flatnonzero(~np.isfinite(correlation).all(axis=1))[0])
        raise InputError(
            "the correlation of this row with another is undefined (its two groups are "
            "the same group at the same time, or phi < 0 with fractional time lags)",
            file=source,
            row=row + 1,
            column=grp1 or time1,
        )
    if check_pd:
        smallest = smallest_block_eigenvalues(correlation, clusters)
        bad = np.flatnonzero(smallest <= PD_TOLERANCE)
        if bad.size:
            order = list(dict.fromkeys(clusters))
            names = [order[j].replace("\x1f", " / ") for j in bad]
            blocks = cluster_blocks(clusters)
            rows = blocks.index[bad[0]][blocks.mask[bad[0]]]
            raise InputError(
                f"the covariance matrix of cluster(s) {', '.join(map(repr, names))} is not "
                f"positive definite (smallest eigenvalue {smallest[bad[0]]:.3g} of its "
                f"correlations; rows {', '.join(str(r + 1) for r in rows)}): rows that are "
                "perfectly correlated or correlations that contradict each other; check "
                "rho, obs/type and the groups, or pass check_pd=False",
                file=source,
                column=cluster,
            )
    return sampling_covariance(variances, correlation)
