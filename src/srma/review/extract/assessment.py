"""Every reviewer's values replayed from the log; submissions, resolutions, reconciliation.

Generic over assessments (``extraction`` now; ``rob`` for risk of bias): the
events are ``NAME`` (a reviewer's values of one study, ``payload["values"]``),
``NAME_submit`` and ``NAME_resolve`` (see :mod:`srma.review.decision_log`).
A reviewer's value of an item is their latest (a blank cell imported later
clears it: value None).  Blinding is the review state's
(:meth:`srma.review.state.ReviewState.is_assessment_blinded`): a study is
*open* once ``reviewers_per_record`` reviewers have submitted it, and only then
is anything about one reviewer's values shown to anyone else.

**Reconciliation** of an open study uses the values of the reviewers who
submitted it.  An item is *agreed* when all of them give the same value (the
canonical form, :mod:`srma.review.extract.values`), *resolved* when a
resolution stands (the latest, unless a submitter changed the item after it,
which reopens it, as in screening), and a *discrepancy* otherwise, also when a
value is present for some of them only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.review.decision_log import LoggedEvent, resolve_kind, submissions
from srma.review.extract.forms import ItemKey
from srma.review.extract.values import Entry
from srma.review.state import ReviewState
from srma.store import Event

KEY = ["study", "scope", "arm", "time", "field"]
_DETAILS = ["value", "written", "source", "digitised", "comment", "sheet", "cell"]
COLUMNS = [*KEY, "reviewer", *_DETAILS, "file", "event", "at"]
#: What an item of an open study is.
AGREED, RESOLVED, DISCREPANCY = "agreed", "resolved", "discrepancy"


def project_identity(session: Session) -> str:
    """A project's identity: the hash of the first event of its log (empty without events).

    The log is append-only and hash-chained, so the first event never changes and
    no other project's log starts with it; forms carry it, and a form of another
    project is refused.
    """
    first = session.execute(select(Event.hash).order_by(Event.id).limit(1)).scalar()
    return (first or "")[:16]


def _frame(rows: list[tuple[object, ...]], latest_by: list[str]) -> pd.DataFrame:
    """The rows as a frame, keeping the latest row per ``latest_by``."""
    frame = pd.DataFrame(rows, columns=COLUMNS).astype({"value": object, "written": object})
    frame = frame.drop_duplicates(latest_by, keep="last").reset_index(drop=True)
    for column in ("value", "written"):  # missing as None, never NaN
        frame[column] = frame[column].where(frame[column].notna(), None)
    return frame


@dataclass(frozen=True)
class AssessmentState:
    """One assessment as the log says it is: every reviewer's latest values, the latest
    resolution of each item, and who submitted each study.

    ``values`` and ``resolutions`` are frames with :data:`COLUMNS` (for
    resolutions, ``reviewer`` is who resolved); treat them as read-only.
    """

    assessment: str
    review: ReviewState
    values: pd.DataFrame
    resolutions: pd.DataFrame
    submitted: Mapping[int, Mapping[str, LoggedEvent]]

    @property
    def required(self) -> int:
        return self.review.required

    def is_blinded(self, study: int) -> bool:
        """Whether fewer reviewers than needed have submitted ``study``."""
        return self.review.is_assessment_blinded(study, self.assessment)

    def has_submitted(self, study: int, reviewer: str) -> bool:
        return any(r.lower() == reviewer.lower() for r in self.submitted.get(study, {}))

    def own(self, reviewer: str) -> dict[ItemKey, Entry]:
        """``reviewer``'s latest value of every item they entered (None where cleared)."""
        mine = self.values[self.values["reviewer"].str.lower() == reviewer.lower()]
        keys = map(ItemKey, mine["study"].astype(int), mine["scope"], mine["arm"], mine["time"],
                   mine["field"])  # fmt: skip
        details = zip(*(mine[c] for c in _DETAILS), strict=True)
        return {
            key: Entry(key, value, written, source, bool(digitised), comment, sheet, cell)
            for key, (value, written, source, digitised, comment, sheet, cell) in zip(
                keys, details, strict=True
            )
        }

    def value_counts(self) -> dict[tuple[int, str], int]:
        """How many values each ``(study, arm)`` holds, over every reviewer (no values shown)."""
        present = self.values[self.values["value"].notna()]
        return {(int(s), str(a)): int(n) for (s, a), n in present.groupby(["study", "arm"]).size().items()}  # fmt: skip  # noqa: E501

    def open_studies(self) -> list[int]:
        """Studies every reviewer they need has submitted (their values may be shown)."""
        return sorted(s for s in self.submitted if not self.is_blinded(s))

    def reconciliation(self) -> pd.DataFrame:
        """Every item of the open studies: :data:`KEY`, ``status`` (agreed, resolved,
        discrepancy), the reconciled ``value`` and ``written`` (None for a discrepancy),
        ``reviewers`` (how many submitted) and ``resolution`` (the event id, if one stands).
        """
        studies = self.open_studies()
        pairs = pd.DataFrame(
            [(s, r) for s in studies for r in self.submitted[s]], columns=["study", "reviewer"]
        )
        given = self.values.merge(pairs, on=["study", "reviewer"], how="inner")
        needed = pairs.groupby("study").size().rename("reviewers")
        items = given.groupby(KEY, sort=False).agg(
            present=("value", "count"),
            distinct=("value", "nunique"),
            first=("value", "first"),
            first_written=("written", "first"),
            last_event=("event", "max"),
        )
        items = items[items["present"] > 0].reset_index()
        settled = self.resolutions[self.resolutions["study"].isin(studies)]
        settled = settled[[*KEY, "value", "written", "event"]].rename(
            columns={"value": "resolved", "written": "resolved_written", "event": "resolution"}
        )
        items = items.merge(settled, on=KEY, how="outer")
        items = items.merge(needed, left_on="study", right_index=True, how="left")
        resolution = pd.to_numeric(items["resolution"]).astype(float)
        changed_after = pd.to_numeric(items["last_event"]).astype(float) > resolution
        stands = resolution.notna() & ~changed_after
        agreed = (items["present"] == items["reviewers"]) & (items["distinct"] == 1)
        items["status"] = DISCREPANCY
        items.loc[agreed, "status"] = AGREED
        items.loc[stands, "status"] = RESOLVED
        items["value"] = items["first"].where(agreed, None)
        items["written"] = items["first_written"].where(agreed, None)
        items.loc[stands, "value"] = items.loc[stands, "resolved"]
        items.loc[stands, "written"] = items.loc[stands, "resolved_written"]
        items["resolution"] = items["resolution"].where(stands, None)
        # an item no submitter gave and no resolution fills is not an item
        items = items[(items["present"].fillna(0) > 0) | stands]
        columns = [*KEY, "status", "value", "written", "reviewers", "resolution"]
        return items[columns].astype({"study": int}).reset_index(drop=True)

    def items_in(self, scope: str) -> pd.DataFrame:
        """The :meth:`reconciliation` items of one scope (an outcome, or "" for the
        study's characteristics), in reconciliation order."""
        none, by_scope = self._items_by_scope
        return by_scope.get(scope, none)

    @cached_property
    def _items_by_scope(self) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
        """The reconciliation split by scope once per state (the state does not change),
        so that exporting every outcome does not filter every item once per outcome;
        with an empty frame of its columns for a scope without items."""
        items = self.reconciliation()
        by_scope = {str(scope): part for scope, part in items.groupby("scope", sort=False)}
        return items.iloc[:0], by_scope


def assessment_state(review: ReviewState, assessment: str = "extraction") -> AssessmentState:
    """Replay ``assessment``'s events of ``review`` (values, submissions, resolutions)."""
    values: list[tuple[object, ...]] = []
    settled: list[tuple[object, ...]] = []
    resolve = resolve_kind(assessment)
    for e in review.events:
        if e.record_id is None or e.kind not in (assessment, resolve):
            continue
        rows = values if e.kind == assessment else settled
        payload = e.payload or {}
        file = payload.get("file", "")
        for v in payload.get("values", []):
            value = v.get("value")
            rows.append(
                (
                    e.record_id,
                    v["scope"],
                    v["arm"],
                    v["time"],
                    v["field"],
                    e.reviewer,
                    value,
                    v.get("written", value),
                    v.get("source", ""),
                    bool(v.get("digitised", False)),
                    v.get("comment", ""),
                    v.get("sheet", ""),
                    v.get("cell", ""),
                    file,
                    e.id,
                    e.created_at,
                )
            )
    submitted = {
        study: MappingProxyType(by)
        for (study, name), by in submissions(review.events).items()
        if name == assessment
    }
    return AssessmentState(
        assessment,
        review,
        _frame(values, [*KEY, "reviewer"]),
        _frame(settled, KEY),
        MappingProxyType(submitted),
    )
