"""Reconciled data of one outcome in srma's columns, converted, ready for ``srma meta``.

A row per study (per comparison, where a shared group is split), every study
of the review included: one that cannot be analysed keeps its row, with the
reason in ``missing`` and its numbers blank (``srma meta`` omits it with a
warning), never dropped silently.  The columns are srma's canonical ones:

* continuous: ``mean1, sd1, n1, mean2, sd2, n2`` (group 1 the protocol's first
  arm, the experimental one);
* binary: ``events1, total1, events2, total2``;
* time-to-event and generic: ``yi, sei`` (a log hazard ratio for time-to-event);
* a network outcome (``network = true``): a row per study and treatment, ``treatment``
  (the arm's group), ``arms`` (the study's arms of it, combined when several) and the
  arm's ``mean, sd, n`` or ``events, total``, ready for ``srma network`` (a study with
  fewer than two of the treatments keeps one row with the reason);

with ``study`` ("Author year"), ``study_id``, ``records``, ``outcome``,
``time_point``, ``arm1``, ``arm2``, ``value_type``, ``conversions`` (each
conversion applied), ``multi_arm`` (how a trial with more arms entered),
``missing``, ``unresolved`` (fields still in discrepancy) and one column per
study characteristic, for subgroups and meta-regression.

Conversions (:mod:`srma.stats.conversions`, vectorised over every arm):

* SD from an SE, ``SE sqrt(n)``, and from a CI of the mean, ``sqrt(n) (upper -
  lower) / (2 t_{n-1})`` (Cochrane Handbook 6.5.2.2, t for small samples);
* mean and SD from a median with its IQR and/or range (Luo et al. 2018; Wan
  et al. 2014; Shi et al. 2020), as metafor's ``conv.fivenum``;
* n analysed, else n randomised (said in ``conversions``);
* arms of one group combined (Handbook 6.5.2.10, Table 6.5.a; events and
  totals summed), one arm chosen, or a shared group split between comparisons
  with its n (events and total) divided by their number (Handbook 23.3.4);
* a hazard ratio's CI to the SE of its log, ``(log upper - log lower) / (2 z)``
  (Handbook 6.3.2), or O - E and V to ``log HR = (O - E) / V`` with ``SE = 1 /
  sqrt(V)`` (Peto's method, Handbook 6.8.2); a generic estimate's CI to its SE.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from srma.errors import InputError
from srma.review.extract.assessment import DISCREPANCY, AssessmentState
from srma.review.extract.forms import DATA_FIELDS, NUMBER_KINDS, FormSpec
from srma.review.extract.studies import VERSUS, Study
from srma.review.extract.values import column_problems
from srma.review.extract.vocabulary import EXPORT_ID_COLUMNS, EXPORT_NOTE_COLUMNS
from srma.review.protocol import Outcome, Protocol
from srma.stats.conversions import (
    combine_groups,
    mean_sd_from_quantiles,
    sd_from_ci,
    sd_from_se,
)
from srma.stats.effects import from_confidence_interval

#: What each data type's export holds, per group (1, 2) or per comparison.
STATISTICS = {
    "continuous": ("mean", "sd", "n"),
    "binary": ("events", "total"),
    "time-to-event": ("yi", "sei"),
    "generic": ("yi", "sei"),
}
#: The number fields of each data type.
_NUMBERS = {d: tuple(f.name for f in fields if f.kind in NUMBER_KINDS)
            for d, fields in DATA_FIELDS.items()}  # fmt: skip
_LEVELS = {"95% CI": 0.95, "90% CI": 0.90, "99% CI": 0.99}
_QUANTILE_NOTES = {
    "IQR": "mean and SD from median and IQR (Luo 2018; Wan 2014)",
    "range": "mean and SD from median and range (Luo 2018; Wan 2014)",
    "IQR and range": "mean and SD from median, IQR and range (Luo 2018; Shi 2020)",
}


@dataclass(frozen=True)
class ExportTable:
    """One outcome's reconciled, converted data (``table``) and how to analyse it."""

    outcome: str
    measure: str
    data: str
    time_point: str
    table: pd.DataFrame
    #: a network outcome's table: a row per study and treatment (:func:`_network_rows`)
    network: bool = False

    @property
    def command(self) -> str:
        """The srma command that analyses this table."""
        return "network" if self.network else "meta"

    def meta_arguments(self) -> list[str]:
        """The options of ``srma meta`` (``srma network`` for a network outcome) that read
        this table."""
        if self.network:
            return ["--treatment", "treatment", "--measure", self.measure]
        if self.data in ("continuous", "binary"):
            return ["--measure", self.measure]
        return ["--yi", "yi", "--sei", "sei"]

    def write(self, path: Path) -> Path:
        """Write the table as CSV (text that looks like a formula is neutralised)."""
        from srma.review.flow.export import to_csv

        to_csv(self.table, path)
        return path


def _number(values: pd.Series) -> np.ndarray:
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)


def _arm_table(frame: pd.DataFrame, fields: Sequence[str]) -> pd.DataFrame:
    for name in fields:
        if name not in frame:
            frame[name] = None
    return frame


def _continuous(arms: pd.DataFrame) -> pd.DataFrame:
    """Mean, SD and n of every arm from what it reports (vectorised), with notes."""
    x = {f: _number(arms[f]) for f in _NUMBERS["continuous"]}
    dispersion = arms["dispersion"].fillna("").to_numpy(dtype=object)
    n = np.where(np.isnan(x["n_analysed"]), x["n_randomised"], x["n_analysed"])
    mean, sd = np.full(len(arms), np.nan), np.full(len(arms), np.nan)
    notes = np.full(len(arms), "", dtype=object)
    plain = np.isin(dispersion, ("SD", "SE", *_LEVELS))
    mean = np.where(plain, x["mean"], mean)
    sd = np.where(dispersion == "SD", x["sd"], sd)
    se = dispersion == "SE"
    sd = np.where(se, sd_from_se(x["se"], n), sd)
    notes[se] = "SD from SE"
    for kind, level in _LEVELS.items():
        chosen = dispersion == kind
        if chosen.any():
            sd = np.where(chosen, sd_from_ci(x["ci_lower"], x["ci_upper"], n, level=level), sd)
            notes[chosen] = f"SD from {kind} (t, n - 1 df)"
    quantiles = np.isin(dispersion, tuple(_QUANTILE_NOTES))
    if quantiles.any():

        def pick(name: str, *kinds: str) -> np.ndarray:
            """``name``'s values where the dispersion reports it, NaN elsewhere."""
            return np.where(np.isin(dispersion, kinds), x[name], np.nan)

        qm, qs = mean_sd_from_quantiles(
            n,
            x["median"],
            minimum=pick("minimum", "range", "IQR and range"),
            q1=pick("q1", "IQR", "IQR and range"),
            q3=pick("q3", "IQR", "IQR and range"),
            maximum=pick("maximum", "range", "IQR and range"),
        )
        mean, sd = np.where(quantiles, qm, mean), np.where(quantiles, qs, sd)
        for kind, note in _QUANTILE_NOTES.items():
            notes[dispersion == kind] = note
    randomised = np.isnan(x["n_analysed"]) & ~np.isnan(x["n_randomised"])
    notes[randomised] = [
        f"{t}; n randomised (n analysed not reported)".lstrip("; ") for t in notes[randomised]
    ]
    return arms.assign(
        mean=mean, sd=sd, n=n, note=notes, reported=~np.isnan(x["mean"]) | ~np.isnan(x["median"])
    )


def _binary(arms: pd.DataFrame) -> pd.DataFrame:
    events, total = _number(arms["events"]), _number(arms["total"])
    return arms.assign(events=events, total=total, note="", reported=~np.isnan(events))


def _comparisons(rows: pd.DataFrame, data: str) -> pd.DataFrame:
    """``yi`` and ``sei`` of every comparison (log HR for time-to-event), with notes."""
    x = {f: _number(rows[f]) for f in _NUMBERS[data]}
    level = rows["ci_level"].fillna("95%").str.rstrip("%").astype(float).to_numpy() / 100.0
    centre = "hr" if data == "time-to-event" else "estimate"
    yi, sei = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    notes = np.full(len(rows), "", dtype=object)
    interval = ~np.isnan(x[centre]) & ~np.isnan(x["ci_lower"]) & ~np.isnan(x["ci_upper"])
    for value in np.unique(level):
        chosen = interval & (level == value)
        if chosen.any():
            y, v = from_confidence_interval(
                x[centre],
                x["ci_lower"],
                x["ci_upper"],
                level=float(value),
                log=data == "time-to-event",
            )
            yi, sei = np.where(chosen, y, yi), np.where(chosen, np.sqrt(v), sei)
            what = "log HR and its SE" if data == "time-to-event" else "SE"
            notes[chosen] = f"{what} from the {value:.0%} CI"
    if data == "generic":
        se = ~np.isnan(x["estimate"]) & ~np.isnan(x["se"])
        yi, sei = np.where(se, x["estimate"], yi), np.where(se, x["se"], sei)
        notes[se] = ""
    else:
        peto = np.isnan(yi) & ~np.isnan(x["o_minus_e"]) & ~np.isnan(x["variance"])
        with np.errstate(divide="ignore", invalid="ignore"):
            yi = np.where(peto, x["o_minus_e"] / x["variance"], yi)
            sei = np.where(peto, 1.0 / np.sqrt(x["variance"]), sei)
        notes[peto] = "log HR = (O - E) / V, SE = 1 / sqrt(V) (Peto)"
    return rows.assign(yi=yi, sei=sei, note=notes, reported=~np.isnan(yi))


def _combined(arms: pd.DataFrame, data: str) -> pd.DataFrame:
    """Every group's arms merged into one (Handbook 6.5.2.10; events and totals summed),
    vectorised over studies: arm by arm, in the order the study lists them."""
    arms = arms.sort_values(["study", "group", "order"])
    rank = arms.groupby(["study", "group"]).cumcount().to_numpy()
    columns = list(STATISTICS[data])
    total = arms[rank == 0].set_index(["study", "group"])[columns].astype(float)
    for j in range(1, int(rank.max(initial=0)) + 1):
        more = arms[rank == j].set_index(["study", "group"])[columns].astype(float)
        at = total.loc[more.index]
        if data == "binary":
            total.loc[more.index, columns] = at.to_numpy() + more.to_numpy()
        else:
            n, m, s = combine_groups(
                at["n"], at["mean"], at["sd"], more["n"], more["mean"], more["sd"]
            )
            total.loc[more.index, "n"], total.loc[more.index, "mean"] = n, m
            total.loc[more.index, "sd"] = s
    return total


class _Arm(NamedTuple):
    """One row of the arm table (an arm, or a comparison for estimates) as plain values:
    its checks (``problem``, ``reported``), ``value_type``, conversion ``note`` and
    ``values`` (:data:`STATISTICS` of its data type, in that order)."""

    name: str
    group: str
    problem: str
    reported: bool
    value_type: str | None
    note: str
    values: tuple[float, ...]


def _arms_by_study(arms: pd.DataFrame, data: str) -> dict[int, list[_Arm]]:
    """The arm table's rows as :class:`_Arm` tuples by study, in the table's order (read
    column by column, so no pandas work is done per study)."""
    size = len(arms)
    value_types = arms["value_type"].tolist() if "value_type" in arms else [None] * size
    statistics = [arms[c].tolist() for c in STATISTICS[data]]
    found: dict[int, list[_Arm]] = {}
    for study, name, group, problem, reported, value_type, note, *values in zip(
        arms["study"].tolist(),
        arms["arm"].tolist(),
        arms["group"].tolist(),
        arms["problem"].tolist(),
        arms["reported"].tolist(),
        value_types,
        arms["note"].tolist(),
        *statistics,
        strict=True,
    ):
        kind = value_type if isinstance(value_type, str) else None
        arm = _Arm(str(name), str(group), problem, bool(reported), kind, note, tuple(values))
        found.setdefault(int(study), []).append(arm)
    return found


def _several_arms(arms: pd.DataFrame) -> pd.DataFrame:
    """The arms of the studies with more than one arm in a group (the only ones whose
    groups are combined, or split)."""
    repeated = arms.duplicated(["study", "group"], keep=False)
    return arms[arms["study"].isin(arms.loc[repeated, "study"])]


def _by_group(arms: pd.DataFrame, data: str) -> dict[tuple[int, str], tuple[float, ...]]:
    """Each group's arms combined (:func:`_combined`), as ``(study, group) -> values``."""
    if arms.empty:
        return {}
    combined = _combined(arms, data)
    rows = combined.to_numpy(dtype=float).tolist()
    return {(int(s), str(g)): tuple(r) for (s, g), r in zip(combined.index, rows, strict=True)}


def _notes(arms: Sequence[_Arm]) -> str:
    """The conversions of some arms: ``MSC: SD from SE; control: SD from SE``."""
    return "; ".join(f"{a.name}: {a.note}" for a in arms if a.note)


def _fields_text(fields: Sequence[str], where: Sequence[str]) -> str:
    return ", ".join(f"{f} ({w})" if w else f for f, w in zip(fields, where, strict=True))


def _texts_by_study(cells: pd.DataFrame) -> dict[int, str]:
    """Each study's cells as ``field (arm), field`` (the fields of its discrepancies)."""
    return {
        int(k): _fields_text(list(part["field"]), list(part["arm"]))
        for k, part in cells.groupby("study")
    }


@dataclass(frozen=True)
class _Row:
    label: str
    arm1: str = ""
    arm2: str = ""
    values: tuple[float, ...] = ()
    value_type: str = ""
    conversions: str = ""
    multi_arm: str = ""
    missing: str = ""


def _pairwise_problem(study: Study, mine: Sequence[_Arm], data: str) -> _Row | str:
    """The row that says why a study's arms cannot be analysed, or their value type
    (final values or changes from baseline; "" for binary data)."""
    bad = [a for a in mine if a.problem]
    if bad:
        return _Row(
            study.label, missing=f"values do not fit together ({bad[0].name}): {bad[0].problem}"
        )
    absent = [a.name for a in mine if not a.reported]
    if len(absent) == len(mine):
        return _Row(study.label, missing="not reported")
    if absent:
        return _Row(study.label, missing=f"not reported for {', '.join(absent)}")
    types = sorted({a.value_type for a in mine if a.value_type is not None})
    types = types if data == "continuous" else []
    if len(types) > 1:
        return _Row(
            study.label,
            missing="final values and changes from baseline mixed: "
            + "; ".join(f"{a.name}: {a.value_type}" for a in mine),
        )
    return str(types[0]) if types else ""


def _pairwise(
    study: Study,
    outcome: Outcome,
    mine: Sequence[_Arm],
    combined: Mapping[tuple[int, str], tuple[float, ...]],
    data: str,
) -> list[_Row]:
    """The rows of one study (``mine``: its arms) under the protocol's multi-arm rule."""
    first, second = outcome.arms
    value_type = _pairwise_problem(study, mine, data)
    if isinstance(value_type, _Row):
        return [value_type]
    groups = {g: [a for a in mine if a.group == g] for g in (first, second)}
    names = {g: [a.name for a in groups[g]] for g in groups}
    rule = outcome.multi_arm
    if len(names[first]) == 1 and len(names[second]) == 1:
        values = groups[first][0].values + groups[second][0].values
        return [
            _Row(study.label, names[first][0], names[second][0], values, value_type, _notes(mine))
        ]
    if rule == "choose":
        picked = {}
        for g in (first, second):
            chosen = [a for a in names[g] if a in study.chosen] or names[g][:1]
            picked[g] = next(a for a in groups[g] if a.name == chosen[0])
        text = "; ".join(
            f"chose {picked[g].name} of {', '.join(names[g])}"
            for g in (first, second)
            if len(names[g]) > 1
        )
        values = picked[first].values + picked[second].values
        return [
            _Row(
                study.label,
                picked[first].name,
                picked[second].name,
                values,
                value_type,
                _notes(list(picked.values())),
                text,
            )
        ]
    if rule == "combine":
        values = combined[(study.id, first)] + combined[(study.id, second)]
        text = "; ".join(
            f"combined {' + '.join(names[g])} (Handbook 6.5.2.10)"
            for g in (first, second)
            if len(names[g]) > 1
        )
        return [
            _Row(
                study.label,
                " + ".join(names[first]),
                " + ".join(names[second]),
                values,
                value_type,
                _notes(mine),
                text,
            )
        ]
    # split: each arm of the larger group against the other group, whose n is divided
    many, shared = (first, second) if len(names[first]) >= len(names[second]) else (second, first)
    k = len(names[many])
    share = tuple(
        v / k if c in ("n", "events", "total") else v
        for c, v in zip(STATISTICS[data], combined[(study.id, shared)], strict=True)
    )
    text = (
        f"split {' + '.join(names[shared])} between {k} comparisons "
        f"(n divided by {k}; Handbook 23.3.4)"
    )
    if len(names[shared]) > 1:
        text = f"combined {' + '.join(names[shared])}; " + text
    rows = []
    for arm in groups[many]:
        one = {many: arm.values, shared: share}
        pair = (arm.name, " + ".join(names[shared]))
        arm1, arm2 = pair if many == first else pair[::-1]
        rows.append(
            _Row(
                f"{study.label} ({arm.name})",
                arm1,
                arm2,
                one[first] + one[second],
                value_type,
                _notes(mine),
                text,
            )
        )
    return rows


def _network_rows(
    study: Study,
    outcome: Outcome,
    mine: Sequence[_Arm],
    combined: Mapping[tuple[int, str], tuple[float, ...]],
    data: str,
) -> list[_Row]:
    """The rows of one study of a network outcome: one per treatment it has (``arm1`` the
    treatment, ``arm2`` its arms), a treatment's arms combined (Handbook 6.5.2.10); or
    one row with the reason it cannot enter the network."""
    if not mine:
        return [
            _Row(
                study.label,
                missing="no arm of the network's treatments: name its arms with "
                "`srma extract arms`",
            )
        ]
    checked = _pairwise_problem(study, mine, data)
    if isinstance(checked, _Row):
        return [checked]
    treatments = [t for t in outcome.arms if any(a.group == t for a in mine)]
    if len(treatments) < 2:
        has = f" (it has {treatments[0]})" if treatments else ""
        return [
            _Row(
                study.label,
                missing=f"fewer than two treatments of the network{has}: name its arms with "
                "`srma extract arms`",
            )
        ]
    rows = []
    for treatment in treatments:
        arms = [a for a in mine if a.group == treatment]
        values = arms[0].values if len(arms) == 1 else combined[(study.id, treatment)]
        names = " + ".join(a.name for a in arms)
        text = f"combined {names} (Handbook 6.5.2.10)" if len(arms) > 1 else ""
        rows.append(_Row(study.label, treatment, names, values, checked, _notes(arms), text))
    return rows


def _estimates(study: Study, outcome: Outcome, mine: Sequence[_Arm]) -> list[_Row]:
    """The row of one study (``mine``: its comparisons): one comparison, or the chosen one."""
    bad = [a for a in mine if a.problem]
    if bad:
        return [_Row(study.label, missing=f"values do not fit together: {bad[0].problem}")]
    reported = [a for a in mine if a.reported]
    if not reported:
        return [_Row(study.label, missing="not reported")]
    chosen = reported[0]
    text = ""
    if len(reported) > 1:
        if outcome.multi_arm != "choose":
            return [
                _Row(
                    study.label,
                    missing=f"{len(reported)} comparisons: estimates cannot be "
                    'combined or split; set multi_arm = "choose" and name the arms with '
                    "`srma extract arms --choose`",
                )
            ]
        names = [a.name for a in reported]
        picked = [c for c in names if set(c.split(VERSUS)) & set(study.chosen)]
        chosen = reported[names.index((picked or names)[0])]
        text = f"chose {chosen.name} of {', '.join(names)}"
    arm1, arm2 = chosen.name.split(VERSUS)
    return [_Row(study.label, arm1, arm2, chosen.values, "", chosen.note, text)]


def _row_messages(data: str, frame: pd.DataFrame) -> list[str]:
    """The first problem of each row's values (row checks, as on import), or ""."""
    names = [f.name for f in DATA_FIELDS[data]]
    columns = {
        n: [
            None if blank else v
            for v, blank in zip(frame[n].tolist(), frame[n].isna(), strict=True)
        ]
        for n in names
    }
    found = [""] * len(frame)
    for index, field, message in column_problems(data, columns):
        if not found[index]:
            found[index] = f"{field}: {message}"
    return found


def export_outcome(
    form: FormSpec,
    state: AssessmentState,
    protocol: Protocol,
    outcome_name: str,
    time_point: str | None = None,
) -> ExportTable:
    """The reconciled data of one outcome at one time point (default: the protocol's
    first), a row per study, converted as the module says."""
    outcome = protocol.outcome(outcome_name)
    if outcome.data is None:
        raise InputError(
            f"outcome {outcome.name!r} (measure {outcome.measure}) has no "
            "extraction form, so nothing to export"
        )
    time = outcome.time_points[0] if time_point is None else time_point
    if time not in outcome.time_points:
        raise InputError(
            f"unknown time point {time!r} for {outcome.name}; expected one of: "
            f"{', '.join(outcome.time_points)}"
        )
    data = outcome.data
    scoped = state.items_in(outcome.name)
    cells = scoped[scoped["time"] == time]
    studies = [form.studies.by_id[i] for i in form.ids]
    open_ids = {s.id for s in studies if not state.is_blinded(s.id)}
    per_arm = data in ("continuous", "binary")
    layout = pd.DataFrame(
        [
            (s.id, a.name, a.group, i)
            for s in studies
            if s.id in open_ids
            for i, a in enumerate(s.arms_in(outcome.arms))
        ]
        if per_arm
        else [
            (s.id, c, "", i)
            for s in studies
            if s.id in open_ids
            for i, c in enumerate(s.comparisons(outcome.arms))
        ],
        columns=["study", "arm", "group", "order"],
    )
    fields = [f.name for f in DATA_FIELDS[data]]
    values = cells[cells["status"] != DISCREPANCY].pivot(
        index=["study", "arm"], columns="field", values="value"
    )
    arms = _arm_table(layout.merge(values.reset_index(), on=["study", "arm"], how="left"), fields)
    arms["problem"] = _row_messages(data, arms) if len(arms) else []
    converted = {"continuous": _continuous, "binary": _binary}.get(data)
    arms = converted(arms) if converted else _comparisons(arms, data)
    open_cells = cells[cells["status"] == DISCREPANCY]
    characteristics = state.items_in("")
    traits = characteristics[characteristics["status"] != DISCREPANCY].pivot(
        index="study", columns="field", values="value"
    )
    disputed = pd.concat([open_cells, characteristics[characteristics["status"] == DISCREPANCY]])
    combined = _by_group(_several_arms(arms), data) if per_arm else {}
    by_study = _arms_by_study(arms, data)
    open_by_study = _texts_by_study(open_cells)
    unresolved = _texts_by_study(disputed)
    output = []
    for study in studies:
        text = unresolved.get(study.id, "")
        if study.id not in open_ids:
            n = len(state.submitted.get(study.id, {}))
            rows = [
                _Row(study.label, missing=f"blinded: {n} of {state.required} extractors submitted")
            ]
            text = ""
        elif study.id in open_by_study:
            where = open_by_study[study.id]
            rows = [_Row(study.label, missing=f"unresolved discrepancy: {where}")]
        elif outcome.network:
            rows = _network_rows(study, outcome, by_study.get(study.id, []), combined, data)
        elif per_arm:
            rows = _pairwise(study, outcome, by_study.get(study.id, []), combined, data)
        else:
            rows = _estimates(study, outcome, by_study.get(study.id, []))
        for row in rows:
            output.append((row, study, text))
    return ExportTable(
        outcome.name,
        outcome.measure,
        data,
        time,
        _frame(output, outcome, time, data, protocol, traits),
        network=outcome.network,
    )


def _frame(
    output: list[tuple[_Row, Study, str]],
    outcome: Outcome,
    time: str,
    data: str,
    protocol: Protocol,
    traits: pd.DataFrame,
) -> pd.DataFrame:
    """The export's table: canonical columns, then one per study characteristic."""
    if outcome.network:
        numbers = list(STATISTICS[data])
    elif data == "continuous":
        numbers = ["mean1", "sd1", "n1", "mean2", "sd2", "n2"]
    elif data == "binary":
        numbers = ["events1", "total1", "events2", "total2"]
    else:
        numbers = ["yi", "sei"]
    records = []
    for row, study, unresolved in output:
        values = row.values if row.values else (np.nan,) * len(numbers)
        records.append(
            {
                "study": row.label,
                "study_id": study.id,
                "records": "; ".join(map(str, study.records)),
                "outcome": outcome.name,
                "time_point": time,
                "arm1": row.arm1,
                "arm2": row.arm2,
                **{c: float(v) for c, v in zip(numbers, values, strict=True)},
                "value_type": row.value_type,
                "conversions": row.conversions,
                "multi_arm": row.multi_arm,
                "missing": row.missing,
                "unresolved": unresolved,
            }
        )
    columns = [*EXPORT_ID_COLUMNS, *numbers, *EXPORT_NOTE_COLUMNS]
    frame = pd.DataFrame(records, columns=columns)
    if outcome.network:  # a row per treatment: arm1 is the treatment, arm2 its arms
        frame = frame.rename(columns={"arm1": "treatment", "arm2": "arms"})
    if data != "continuous":  # only continuous data are final values or changes
        frame = frame.drop(columns="value_type")
    for field in protocol.extraction.fields:
        column = traits[field.name] if field.name in traits else pd.Series(dtype=object)
        looked = frame["study_id"].map(column)
        frame[field.column] = (
            pd.to_numeric(looked, errors="coerce")
            if field.type == "number"
            else looked.where(looked.notna(), "")
        )
    for name in ("n1", "n2", "events1", "total1", "events2", "total2", "n", "events", "total"):
        if name in frame and (frame[name].dropna() % 1 == 0).all():
            frame[name] = frame[name].astype("Int64")
    return frame
