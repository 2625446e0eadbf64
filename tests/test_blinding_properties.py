"""Property (hypothesis): on random logs of two reviewers, no view shows a reviewer's reason
or note on a record at a stage to anyone else before both reviewers have decided it there."""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from srma.errors import InputError
from srma.review.decision_log import STAGES, LoggedEvent, events_frame
from srma.review.flow.export import table_of, write_table
from srma.review.flow.status import prisma_counts_of, status_of
from srma.review.screen.agreement import agreement_of
from srma.review.screen.decisions import view_of
from srma.review.state import replay

RECORDS = list(range(1, 6))
REVIEWERS = ("ana", "ben")
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)

actions = st.lists(
    st.tuples(
        st.sampled_from((*REVIEWERS, "resolver")),
        st.sampled_from(STAGES),
        st.sampled_from(RECORDS),
        st.sampled_from(("include", "exclude", "maybe")),
        st.booleans(),  # with a reason (exclusions) and a note
    ),
    max_size=30,
)


def build(steps: list[tuple]) -> list[LoggedEvent]:
    """Every screening event gets a reason and a note found nowhere else (a unique token)."""
    events = []
    for number, (reviewer, stage, record, decision, explained) in enumerate(steps, start=1):
        if reviewer == "resolver":
            decision = "include" if decision == "maybe" else decision
            payload = {"method": "consensus"}
            events.append(LoggedEvent(number, MOMENT, reviewer, "resolution", stage, record,
                                      decision, None, None, None, payload))  # fmt: skip
            continue
        reason = f"reason-{number}-{reviewer}" if explained and decision == "exclude" else None
        note = f"note-{number}-{reviewer}" if explained else None
        events.append(LoggedEvent(number, MOMENT, reviewer, "screening", stage, record, decision,
                                  reason, note, None, None))  # fmt: skip
    return events


def record(number: int) -> SimpleNamespace:
    fields = {"title": f"Title {number}", "authors": ["Doe, J."], "year": 2020, "journal": "J"}
    blank = dict.fromkeys(("volume", "issue", "pages", "doi", "pmid", "abstract"), "")
    return SimpleNamespace(id=number, **fields, **blank)


def rows() -> list[tuple[SimpleNamespace, str]]:
    return [(record(r), "Scopus") for r in RECORDS]


def every_view(events: list[LoggedEvent], viewer: str | None) -> str:
    """Everything each view prints for ``viewer``, as one text."""
    state = replay(events, {r: f"Title {r}" for r in RECORDS}, required=2)
    shown = [json.dumps(status_of(state).to_dict(), default=str)]
    counts = prisma_counts_of(state, source="test")
    shown.append(repr((counts.counts, counts.exclusion_reasons, counts.notes)))
    table = table_of(state, rows(), viewer=viewer)
    with tempfile.TemporaryDirectory() as folder:
        for name in ("export.csv", "export.ris"):
            shown.append(write_table(table, Path(folder) / name).read_text())
    shown.append(events_frame(state.audit_events(viewer=viewer)).to_csv(index=False))
    for stage in STAGES:
        shown.append(json.dumps([asdict(c) for c in state.conflicts(stage)]))
        try:
            shown.append(json.dumps(agreement_of(state, stage).to_dict(), default=str))
        except InputError as error:
            shown.append(str(error))
        if viewer is not None:
            shown.append(repr(state.to_screen(viewer, stage)))
            for record in RECORDS:
                shown.append(repr(view_of(state, reviewer=viewer, record_id=record, stage=stage)))
    return "\n".join(shown)


@settings(max_examples=150, deadline=None)
@given(actions, st.sampled_from((None, *REVIEWERS)))
def test_no_view_shows_another_reviewers_reason_or_note_before_both_decided(
    steps: list[tuple], viewer: str | None
) -> None:
    events = build(steps)
    output = every_view(events, viewer)
    decided = {
        (e.record_id, e.stage, e.reviewer) for e in events if e.kind == "screening"
    }  # fmt: skip
    for e in events:
        if e.kind != "screening" or e.reviewer == viewer:
            continue
        both = all((e.record_id, e.stage, name) in decided for name in REVIEWERS)
        for secret in (e.reason, e.note):
            if secret is not None and not both:
                assert secret not in output, (secret, viewer)
    # and once both have decided, the audit (a view of every event) shows them all
    state = replay(events, RECORDS, required=2)
    audit = events_frame(state.audit_events(viewer=viewer)).to_csv(index=False)
    for e in events:
        if (
            e.kind == "screening"
            and e.note
            and all((e.record_id, e.stage, name) in decided for name in REVIEWERS)
        ):
            assert e.note in audit


def test_a_reviewer_sees_their_own_reasons_and_notes_while_blinded() -> None:
    events = build([("ana", "title_abstract", 1, "exclude", True)])
    assert "reason-1-ana" in every_view(events, "ana")
    assert "note-1-ana" in every_view(events, "ana")
    for viewer in (None, "ben"):
        output = every_view(events, viewer)
        assert "reason-1-ana" not in output and "note-1-ana" not in output
        assert "1 of 2 decided, blinded" in output
