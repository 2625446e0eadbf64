"""Properties of replaying the decision log, on random logs (hypothesis)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from srma.review.decision_log import LoggedEvent, records_at_stage, stage_outcomes
from srma.review.flow.status import stage_status
from srma.review.screen.decisions import blinded_view

RECORDS = list(range(1, 9))
REVIEWERS = ("ana", "ben", "cy")
MOMENT = datetime(2026, 1, 1, tzinfo=UTC)


def event(number: int, reviewer: str, kind: str, stage: str | None, record: int,
          decision: str | None, payload: dict | None = None) -> LoggedEvent:  # fmt: skip
    return LoggedEvent(number, MOMENT, reviewer, kind, stage, record, decision, None, None, None,
                       payload)  # fmt: skip


screening = st.tuples(
    st.sampled_from(REVIEWERS),
    st.sampled_from(("title_abstract", "full_text")),
    st.sampled_from(RECORDS),
    st.sampled_from(("include", "exclude", "maybe")),
)
resolution = st.tuples(
    st.just("resolver"),
    st.sampled_from(("title_abstract", "full_text")),
    st.sampled_from(RECORDS),
    st.sampled_from(("include", "exclude")),
)
merge = st.tuples(st.sampled_from(RECORDS[1:]), st.just(1))


def build(actions: list[tuple], merges: list[tuple[int, int]]) -> list[LoggedEvent]:
    events = [
        event(number, "srma", "duplicate", None, duplicate, "duplicate", {"kept": kept})
        for number, (duplicate, kept) in enumerate(sorted(set(merges)), start=1)
    ]
    for reviewer, stage, record, decision in actions:
        kind = "resolution" if reviewer == "resolver" else "screening"
        events.append(event(len(events) + 1, reviewer, kind, stage, record, decision))
    return events


logs = st.builds(
    build,
    st.lists(st.one_of(screening, screening, screening, resolution), max_size=40),
    st.lists(merge, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(logs, st.integers(1, 3))
def test_every_record_has_exactly_one_outcome(events: list[LoggedEvent], required: int) -> None:
    for stage in ("title_abstract", "full_text"):
        status = stage_status(events, RECORDS, stage, required)
        assert status.included + status.excluded + status.conflicts + status.pending == (
            status.records
        )
        assert sum(status.exclusion_reasons.values()) == status.excluded
    screened = set(records_at_stage(events, RECORDS, stage="title_abstract", required=required))
    full_text = set(records_at_stage(events, RECORDS, stage="full_text", required=required))
    outcomes = stage_outcomes(events, sorted(screened), stage="title_abstract", required=required)
    assert full_text == {r for r in screened if outcomes[r] == "include"}
    merged = {e.record_id for e in events if e.kind == "duplicate"}
    assert screened == set(RECORDS) - merged


@settings(max_examples=300, deadline=None)
@given(logs, st.randoms(use_true_random=False))
def test_outcomes_do_not_depend_on_how_reviewers_interleave(events: list[LoggedEvent],
                                                            shuffler) -> None:  # fmt: skip
    """Only each reviewer's own order matters: interleave the reviewers differently between
    resolutions (a decision after a resolution reopens the conflict, so those stay put)."""
    segments: list[list[LoggedEvent]] = [[]]
    for e in events:
        if e.kind == "resolution":
            segments.append([e])
            segments.append([])
        else:
            segments[-1].append(e)
    mixed: list[LoggedEvent] = []
    for segment in segments:
        queues: dict[str, list[LoggedEvent]] = {}
        for e in segment:
            queues.setdefault(e.reviewer, []).append(e)
        while queues:
            name = shuffler.choice(sorted(queues))
            mixed.append(queues[name].pop(0))
            if not queues[name]:
                del queues[name]
    mixed = [replace(e, id=number) for number, e in enumerate(mixed, start=1)]
    for stage in ("title_abstract", "full_text"):
        assert stage_outcomes(events, RECORDS, stage=stage, required=2) == stage_outcomes(
            mixed, RECORDS, stage=stage, required=2
        )


@settings(max_examples=200, deadline=None)
@given(logs, st.sampled_from(REVIEWERS), st.sampled_from(RECORDS), st.integers(1, 3))
def test_no_one_sees_others_before_every_reviewer_needed_decided(
    events: list[LoggedEvent], reviewer: str, record: int, required: int
) -> None:
    view = blinded_view(events, reviewer=reviewer, record_id=record, stage="title_abstract",
                        required=required)  # fmt: skip
    deciders = {
        e.reviewer for e in events
        if e.record_id == record and e.kind == "screening" and e.stage == "title_abstract"
    }  # fmt: skip
    assert (view.own is not None) == (reviewer in deciders)
    others = deciders - {reviewer}
    if len(deciders) < required:
        assert view.others == () and view.others_hidden == len(others)
    else:
        assert {e.reviewer for e in view.others} == others and view.others_hidden == 0
