"""Deduplication inside a project: merges recorded as events, pairs to review, undo.

:func:`srma.review.identify.dedup.find_duplicates` decides about pairs of records;
here its ``duplicate`` pairs become merge events (by the reviewer ``srma``),
its ``review`` pairs are offered to a person, and a person's judgement - same
reference or not - is an event too.  A merge never deletes anything: the
duplicate record stays in the database, linked to the record it duplicates,
and undoing the merge (an ``undo`` event) brings it back to screening; the
pair is then never merged automatically again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import (
    LoggedEvent,
    distinct_pairs,
    duplicate_links,
    kept_record,
    load_events,
)
from srma.review.identify.dedup import PairDecision, find_duplicates
from srma.review.identify.records import Record
from srma.review.project import SYSTEM_REVIEWER, reviewer_id
from srma.store import Event, RecordRow


def stored_records(session: Session) -> tuple[list[int], list[Record]]:
    """Every stored record (ids in order, and the records as read)."""
    rows = session.scalars(select(RecordRow).order_by(RecordRow.id)).all()
    records = [
        Record(
            title=row.title, abstract=row.abstract, authors=tuple(row.authors), year=row.year,
            journal=row.journal, volume=row.volume, issue=row.issue, pages=row.pages,
            doi=row.doi, pmid=row.pmid, keywords=tuple(row.keywords), type=row.type,
            source_file=str(row.import_id), source_line=row.source_line, fields=row.fields,
        )
        for row in rows
    ]  # fmt: skip
    return [row.id for row in rows], records


_DEDUP_COLUMNS = (
    RecordRow.id, RecordRow.title, RecordRow.authors, RecordRow.year, RecordRow.journal,
    RecordRow.volume, RecordRow.pages, RecordRow.doi, RecordRow.pmid,
)  # fmt: skip


def dedup_records(session: Session) -> tuple[list[int], list[Record]]:
    """Every stored record with only the fields deduplication reads (ids in order).

    Abstracts, keywords and the original fields are not loaded: they are most of
    a record's size and :func:`find_duplicates` never reads them, so they are left empty.
    """
    rows = session.execute(select(*_DEDUP_COLUMNS).order_by(RecordRow.id)).all()
    records = [
        Record(
            title=title, abstract="", authors=tuple(authors), year=year, journal=journal,
            volume=volume, issue="", pages=pages, doi=doi, pmid=pmid, keywords=(), type="",
            source_file="", source_line=0,
        )
        for _, title, authors, year, journal, volume, pages, doi, pmid in rows
    ]  # fmt: skip
    return [row[0] for row in rows], records


@dataclass(frozen=True)
class PairToReview:
    """Two records that may be the same reference, for a person to judge."""

    first: int
    second: int
    reason: str
    title_similarity: float


@dataclass(frozen=True)
class DedupRun:
    """What one deduplication run did."""

    records: int
    merged_now: tuple[tuple[int, int, str], ...]  # duplicate, kept, reason
    merged_before: int
    to_review: tuple[PairToReview, ...]

    @property
    def unique_records(self) -> int:
        return self.records - self.merged_before - len(self.merged_now)

    def to_dict(self) -> dict[str, object]:
        return {
            "records": self.records,
            "merged_now": [
                {"duplicate": d, "kept": k, "reason": reason} for d, k, reason in self.merged_now
            ],
            "merged_before": self.merged_before,
            "unique_records": self.unique_records,
            "to_review": [pair.__dict__ for pair in self.to_review],
        }


def _open_pairs(
    events: Sequence[LoggedEvent], ids: list[int], pairs: Sequence[PairDecision]
) -> tuple[list[tuple[int, int, PairDecision]], list[tuple[int, int, PairDecision]]]:
    """Duplicate and review pairs (as record ids) not yet merged or judged distinct."""
    judged = distinct_pairs(events)
    links = duplicate_links(events)
    duplicates, review = [], []
    for pair in pairs:
        first, second = ids[pair.first], ids[pair.second]
        if frozenset((first, second)) in judged:
            continue
        if kept_record(links, first) == kept_record(links, second):
            continue
        target = duplicates if pair.decision == "duplicate" else review
        target.append((first, second, pair))
    return duplicates, review


def deduplicate(session: Session) -> DedupRun:
    """Find duplicates among all records and merge the certain ones (one event per merge).

    Each duplicate is linked to the oldest record of its group (the lowest
    id, i.e. the first imported), following merges made before.
    """
    ids, records = dedup_records(session)
    events = load_events(session)
    result = find_duplicates(records)
    duplicates, review = _open_pairs(events, ids, result.pairs)
    links = {record: kept for record, (kept, _) in duplicate_links(events).items()}
    system = reviewer_id(session, SYSTEM_REVIEWER, create=True)
    merged = []

    def root(record: int) -> int:
        while record in links:  # kept < duplicate always, so chains end
            record = links[record]
        return record

    for first, second, pair in sorted(duplicates, key=lambda item: (item[0], item[1])):
        root_first, root_second = root(first), root(second)
        if root_first == root_second:
            continue
        kept, duplicate = min(root_first, root_second), max(root_first, root_second)
        links[duplicate] = kept
        session.add(
            Event(
                reviewer_id=system,
                kind="duplicate",
                record_id=duplicate,
                decision="duplicate",
                reason=pair.reason,
                payload={"kept": kept, "pair": [first, second]},
            )
        )
        merged.append((duplicate, kept, pair.reason))
    session.flush()
    final_links = duplicate_links(load_events(session))
    to_review = tuple(
        PairToReview(first, second, pair.reason, pair.title_similarity)
        for first, second, pair in review
        if kept_record(final_links, first) != kept_record(final_links, second)
    )
    return DedupRun(len(ids), tuple(merged), len(duplicate_links(events)), to_review)


def judge_pair(
    session: Session, *, reviewer: str, first: int, second: int, same: bool, note: str | None = None
) -> int:
    """A person's judgement on a pair: the same reference (merge) or two different ones."""
    for record in (first, second):
        if session.get(RecordRow, record) is None:
            raise InputError(f"no record {record} in this project")
    if first == second:
        raise InputError("a record cannot be compared with itself")
    links = duplicate_links(load_events(session))
    kept, duplicate = sorted((kept_record(links, first), kept_record(links, second)))
    if same and kept == duplicate:
        raise InputError(f"records {first} and {second} are already merged")
    event = Event(
        reviewer_id=reviewer_id(session, reviewer),
        kind="duplicate" if same else "distinct",
        record_id=duplicate if same else first,
        decision="duplicate" if same else "distinct",
        note=note or None,
        reason="judged by a reviewer",
        payload={"kept": kept, "pair": [first, second]} if same else {"other": second},
    )
    session.add(event)
    session.flush()
    return event.id


def undo_merge(session: Session, *, reviewer: str, record_id: int, note: str | None = None) -> int:
    """Take back the merge of ``record_id`` into another record; return the undo event's id."""
    links = duplicate_links(load_events(session))
    if record_id not in links:
        raise InputError(f"record {record_id} is not merged into another record")
    event = Event(
        reviewer_id=reviewer_id(session, reviewer),
        kind="undo",
        record_id=record_id,
        refers_to=links[record_id][1],
        note=note or None,
    )
    session.add(event)
    session.flush()
    return event.id
