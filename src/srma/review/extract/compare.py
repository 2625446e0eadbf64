"""Comparing the extractors: every discrepancy, and how well they agreed.

Only studies that every extractor they need has submitted are compared
(before that, counts only: how many studies, how many submitted).  On those:

* **discrepancies**: every item whose submitted values differ (numbers at the
  precision reported, categories and text exactly; a value present for one
  reviewer only is a discrepancy too), open or resolved;
* **agreement** for each pair of reviewers who submitted the same studies:
  percent agreement on numbers (items either gave; an item only one gave is a
  disagreement), on text, and per categorical field percent agreement and
  Cohen's kappa (:func:`srma.review.screen.kappa.cohen_kappa`) on the items both
  gave.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from itertools import combinations

import pandas as pd

from srma.errors import InputError
from srma.review.extract.assessment import DISCREPANCY, KEY, RESOLVED, AssessmentState
from srma.review.extract.forms import NUMBER_KINDS, FieldSpec, FormSpec
from srma.review.screen.kappa import CohenKappa, cohen_kappa


@dataclass(frozen=True)
class Discrepancy:
    """An item the extractors' values disagree on, with each one's value and source, and
    the resolution that stands (None while open)."""

    study: str
    study_id: int
    outcome: str
    arm: str
    time_point: str
    field: str
    values: tuple[tuple[str, str | None, str], ...]  # reviewer, value as written, source
    resolved: str | None = None
    resolved_by: str | None = None


@dataclass(frozen=True)
class FieldAgreement:
    """Agreement on one categorical field: items either gave, items agreed, Cohen's kappa
    on the items both gave (None, with ``problem``, where it is undefined)."""

    outcome: str
    field: str
    items: int
    agreed: int
    percent: float | None
    kappa: CohenKappa | None
    problem: str | None


@dataclass(frozen=True)
class PairAgreement:
    """Agreement of two extractors on the studies both submitted (open studies only)."""

    reviewer1: str
    reviewer2: str
    studies: int
    number_items: int
    numbers_agreed: int
    numbers_percent: float | None
    text_items: int
    text_agreed: int
    text_percent: float | None
    one_sided: int
    categories: tuple[FieldAgreement, ...]


@dataclass(frozen=True)
class Comparison:
    """What ``srma extract compare`` shows: study counts, the blinded studies (counts
    only), open and resolved discrepancies, and agreement per pair of extractors."""

    studies: int
    open_studies: int
    required: int
    blinded: tuple[tuple[str, int], ...]  # study label, how many have submitted
    submitted_by: dict[str, int]
    discrepancies: tuple[Discrepancy, ...]
    resolved: tuple[Discrepancy, ...]
    agreement: tuple[PairAgreement, ...]

    def to_dict(self) -> dict[str, object]:
        found = asdict(self)
        found["blinded"] = [
            {"study": s, "submitted": n, "required": self.required} for s, n in self.blinded
        ]
        for group in ("discrepancies", "resolved"):
            for item in found[group]:
                item["values"] = [
                    {"reviewer": r, "value": v, "source": s} for r, v, s in item["values"]
                ]
        return found


def _percent(agreed: int, items: int) -> float | None:
    return 100.0 * agreed / items if items else None


def _kinds(form: FormSpec) -> dict[tuple[str, str], FieldSpec]:
    return {(sheet.scope, f.name): f for sheet in form.sheets for f in sheet.fields}


def _pair(
    given: pd.DataFrame,
    first: str,
    second: str,
    studies: list[int],
    fields: dict[tuple[str, str], FieldSpec],
) -> PairAgreement:
    mine = given[given["study"].isin(studies)]
    wide = mine.pivot(index=KEY, columns="reviewer", values="value")
    for name in (first, second):
        if name not in wide:
            wide[name] = None
    wide = wide[wide[first].notna() | wide[second].notna()].reset_index()
    kinds = [
        fields.get((s, f), FieldSpec(f, "text"))
        for s, f in zip(wide["scope"], wide["field"], strict=True)
    ]
    wide["kind"] = ["number" if k.kind in NUMBER_KINDS else k.kind for k in kinds]
    wide["same"] = wide[first].eq(wide[second]) & wide[first].notna()
    both = wide[first].notna() & wide[second].notna()
    numbers, text = wide[wide["kind"] == "number"], wide[wide["kind"].isin(("text", "date"))]
    categories = []
    for (scope, field), part in wide[wide["kind"] == "choice"].groupby(["scope", "field"]):
        spec = fields[(scope, field)]
        rated = part[both.loc[part.index]]
        kappa, problem = None, None
        if rated.empty:
            problem = "no item both reviewers gave"
        else:
            try:
                kappa = cohen_kappa(
                    list(rated[first]), list(rated[second]), categories=spec.choices
                )
            except InputError as error:
                problem = error.reason
        agreed = int(part["same"].sum())
        categories.append(
            FieldAgreement(
                scope, field, len(part), agreed, _percent(agreed, len(part)), kappa, problem
            )
        )
    n_agreed, t_agreed = int(numbers["same"].sum()), int(text["same"].sum())
    return PairAgreement(
        first,
        second,
        len(studies),
        len(numbers),
        n_agreed,
        _percent(n_agreed, len(numbers)),
        len(text),
        t_agreed,
        _percent(t_agreed, len(text)),
        int((~both).sum()),
        tuple(categories),
    )


def compare(state: AssessmentState, form: FormSpec) -> Comparison:
    """Discrepancies and agreement of the extractors (open studies only; see the module)."""
    studies = form.studies
    blinded = tuple(
        (s.label, len(state.submitted.get(s.id, {}))) for s in studies if state.is_blinded(s.id)
    )
    counts: dict[str, int] = {}
    for by in state.submitted.values():
        for name in by:
            counts[name] = counts.get(name, 0) + 1
    open_ids = [s for s in state.open_studies() if studies.get(s) is not None]
    items = state.reconciliation()
    items = items[items["study"].isin(open_ids)]
    pairs = pd.DataFrame(
        [(s, r) for s in open_ids for r in state.submitted[s]], columns=["study", "reviewer"]
    )
    given = state.values.merge(pairs, on=["study", "reviewer"], how="inner")
    listed = items[items["status"] != "agreed"].merge(
        state.resolutions[[*KEY, "reviewer"]].rename(columns={"reviewer": "by"}),
        on=KEY,
        how="left",
    )
    details = (
        {
            tuple(k): part
            for k, part in given[
                given.set_index(KEY).index.isin(listed.set_index(KEY).index)
            ].groupby(KEY)
        }
        if len(listed)
        else {}
    )
    open_items, resolved = [], []
    for row in listed.itertuples(index=False):
        key = tuple(getattr(row, k) for k in KEY)
        part = details.get(key)
        values = (
            {r.reviewer: (r.written, r.source) for r in part.itertuples()}
            if part is not None
            else {}
        )
        shown = tuple(
            (name, *values.get(name, (None, ""))) for name in sorted(state.submitted[row.study])
        )
        item = Discrepancy(
            studies.by_id[row.study].label,
            int(row.study),
            row.scope,
            row.arm,
            row.time,
            row.field,
            shown,
        )
        if row.status == RESOLVED:
            resolved.append(replace(item, resolved=row.written, resolved_by=row.by))
        elif row.status == DISCREPANCY:
            open_items.append(item)
    fields = _kinds(form)
    agreement = []
    reviewers = sorted({r for s in open_ids for r in state.submitted[s]})
    for first, second in combinations(reviewers, 2):
        shared = [s for s in open_ids if {first, second} <= set(state.submitted[s])]
        if shared:
            agreement.append(_pair(given, first, second, shared, fields))
    order = {s.id: i for i, s in enumerate(studies)}
    sort = lambda d: (order[d.study_id], d.outcome, d.arm, d.time_point, d.field)  # noqa: E731
    return Comparison(
        len(studies),
        len(open_ids),
        state.required,
        blinded,
        counts,
        tuple(sorted(open_items, key=sort)),
        tuple(sorted(resolved, key=sort)),
        tuple(agreement),
    )
