"""Studies to assess: the records included at full text, linked publications grouped.

A study is one or more records: the main report first (its id is the study's
id, under which every value is stored) and any linked publications of the same
trial.  Grouping is an event (``study_link``: ``payload`` ``records``, main
first, and an optional ``label``), so it is logged and can be changed; a study's
arms are an event too (``study_arms``: ``payload`` ``arms``, each ``[name,
group]``, and ``chosen``).  Both are structure, not data: every extractor sees
them.

Labels are "Author year" from the main record's first author and year;
studies that would share a label get "a", "b", ... in the order of their ids
(Lee 2010a, Lee 2010b), unless the link gave one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from string import ascii_lowercase
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import ASSESSMENTS, LoggedEvent
from srma.review.project import Project, reviewer_id
from srma.review.protocol import Protocol
from srma.review.state import ReviewState
from srma.store import Event, RecordRow

LINK = "study_link"
ARMS = "study_arms"
#: What separates the two arms of a comparison's name ("MSC vs control").
VERSUS = " vs "


@dataclass(frozen=True)
class Arm:
    """An arm of a study and the group of the comparison it belongs to."""

    name: str
    group: str


@dataclass(frozen=True)
class Study:
    """A study: its id (the main record's), label, records (main first) and arms."""

    id: int
    label: str
    records: tuple[int, ...]
    arms: tuple[Arm, ...]
    chosen: tuple[str, ...] = ()

    def arms_in(self, groups: Sequence[str]) -> tuple[Arm, ...]:
        """The arms that belong to one of ``groups``, in ``groups``' order."""
        return tuple(arm for group in groups for arm in self.arms if arm.group == group)

    def comparisons(self, groups: Sequence[str]) -> tuple[str, ...]:
        """The comparisons ``"A vs B"`` of every arm of the first group with every arm of the
        second (one for a two-arm trial)."""
        first, second = groups
        return tuple(
            f"{a.name}{VERSUS}{b.name}"
            for a in self.arms
            if a.group == first
            for b in self.arms
            if b.group == second
        )


@dataclass(frozen=True)
class Studies:
    """The studies of a review, by id (in label order), with lookup by label."""

    by_id: Mapping[int, Study]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, study_id: int) -> Study | None:
        return self.by_id.get(study_id)

    def find(self, label: str) -> Study:
        """The study labelled ``label`` (ignoring case), or ``#ID``/``ID`` by its id."""
        text = label.strip()
        number = text.removeprefix("#")
        if number.isdigit() and int(number) in self.by_id:
            return self.by_id[int(number)]
        for study in self.by_id.values():
            if study.label.lower() == text.lower():
                return study
        known = ", ".join(s.label for s in list(self.by_id.values())[:12])
        more = " ..." if len(self.by_id) > 12 else ""
        raise InputError(f"unknown study {label!r}; the studies are: {known or 'none'}{more}")


def surname(author: str) -> str:
    """The family name in an author string: ``Bang, O. Y.`` and ``Bang OY`` give ``Bang``.

    With a comma, what comes before it; without, the name less trailing initials
    (``Bang OY``); a name without either (a group, ``TPT Madras``) is kept whole.
    """
    text = " ".join(author.split())
    if "," in text:
        return text.split(",", 1)[0].strip()
    parts = text.split(" ")
    if len(parts) > 1 and re.fullmatch(r"(?:[A-Z]\.?){1,3}", parts[-1]):
        return " ".join(parts[:-1])
    return text


def base_label(authors: Sequence[str], year: int | None, record: int) -> str:
    """``Author year`` from a record's first author and year (``Record 12`` without authors)."""
    name = surname(authors[0]) if authors and authors[0].strip() else f"Record {record}"
    return f"{name} {year}" if year is not None else name


def _labels(
    mains: Sequence[int], given: Mapping[int, str], bases: Mapping[int, str]
) -> dict[int, str]:
    """Each study's label: given by its link, else its base label, with a, b, ... where
    bases repeat (in id order)."""
    labels = {m: given[m] for m in mains if m in given}
    taken = {label.lower() for label in labels.values()}
    groups: dict[str, list[int]] = {}
    for main in sorted(m for m in mains if m not in given):
        groups.setdefault(bases[main].lower(), []).append(main)
    for members in groups.values():
        if len(members) == 1 and bases[members[0]].lower() not in taken:
            labels[members[0]] = bases[members[0]]
            continue
        letters = iter(ascii_lowercase)
        for main in members:
            label = next(
                (f"{bases[main]}{c}" for c in letters if f"{bases[main]}{c}".lower() not in taken),
                f"{bases[main]} #{main}",
            )
            labels[main] = label
            taken.add(label.lower())
    return labels


def included_records(state: ReviewState) -> list[int]:
    """The records included at full text, in id order."""
    return [r for r, entry in state.at("full_text").items() if entry.outcome == "include"]


def default_groups(protocol: Protocol) -> tuple[str, ...]:
    """Every group of a pairwise comparison the protocol names ([extraction] arms and each
    pairwise outcome's): every study has an arm of each.  A protocol whose outcomes are all
    network outcomes has none: each study's arms are named with their treatments."""
    pairwise = [o for o in protocol.outcomes if not o.network]
    if protocol.outcomes and not pairwise:
        return ()
    groups = list(protocol.extraction.arms)
    for outcome in pairwise:
        groups.extend(g for g in outcome.arms if g not in groups)
    return tuple(groups)


def network_treatments(protocol: Protocol) -> tuple[str, ...]:
    """The treatments of the protocol's network outcomes that are not a default group: a
    study's arm may belong to one, and need not (a study compares some of them)."""
    found = list(default_groups(protocol))
    for outcome in protocol.outcomes:
        if outcome.network:
            found.extend(t for t in outcome.arms if t not in found)
    return tuple(found[len(default_groups(protocol)) :])


def studies_of(
    state: ReviewState, records: Mapping[int, tuple[Sequence[str], int | None]], protocol: Protocol
) -> Studies:
    """The studies of the review: included records, grouped by the latest links.

    ``records`` gives each included record's authors and year.  A link sets the
    records of its study (main first); a record it no longer lists is a study of
    its own again.  Records no longer included drop out.
    """
    included = included_records(state)
    member: dict[int, int] = {}
    given: dict[int, str] = {}
    arms: dict[int, LoggedEvent] = {}
    for e in state.events:
        if e.kind == LINK and e.record_id is not None:
            listed = [int(r) for r in (e.payload or {}).get("records", [])]
            for record, main in list(member.items()):
                if main == e.record_id and record not in listed:
                    del member[record]
            for record in listed:
                member[record] = e.record_id
            label = (e.payload or {}).get("label")
            if label:
                given[e.record_id] = str(label)
            else:
                given.pop(e.record_id, None)
        elif e.kind == ARMS and e.record_id is not None:
            arms[e.record_id] = e
    chosen_set = set(included)
    groups: dict[int, list[int]] = {}
    for record in included:
        main = member.get(record, record)
        if main not in chosen_set or member.get(main, main) != main:
            main = record
        groups.setdefault(main, []).append(record)
    for main, listed in groups.items():
        listed.sort(key=lambda r: (r != main, r))
    bases = {m: base_label(*records.get(m, ((), None)), m) for m in groups}
    labels = _labels(list(groups), {m: given[m] for m in groups if m in given}, bases)
    defaults = tuple(Arm(g, g) for g in default_groups(protocol))
    found = []
    for main, listed in groups.items():
        event = arms.get(main)
        payload = event.payload or {} if event is not None else {}
        study_arms = tuple(Arm(str(n), str(g)) for n, g in payload.get("arms", [])) or defaults
        found.append(
            Study(
                main,
                labels[main],
                tuple(listed),
                study_arms,
                tuple(str(c) for c in payload.get("chosen", [])),
            )
        )
    found.sort(key=lambda s: (s.label.lower(), s.id))
    return Studies(MappingProxyType({s.id: s for s in found}))


def load_studies(session: Session, project: Project, state: ReviewState) -> Studies:
    """:func:`studies_of` with the included records' authors and years read from the store."""
    included = included_records(state)
    rows = session.execute(
        select(RecordRow.id, RecordRow.authors, RecordRow.year).where(RecordRow.id.in_(included))
    ).all()
    return studies_of(state, {r.id: (r.authors or [], r.year) for r in rows}, project.protocol)


def _assessed(state: ReviewState, study: int) -> bool:
    """Whether any assessment event (values, submission, resolution) is stored for ``study``."""
    kinds = {k for a in ASSESSMENTS for k in (a, f"{a}_submit", f"{a}_resolve")}
    return any(e.record_id == study and e.kind in kinds for e in state.events)


def link_records(
    session: Session,
    project: Project,
    state: ReviewState,
    *,
    records: Sequence[int],
    reviewer: str,
    label: str | None = None,
) -> int:
    """Group ``records`` (main report first) into one study; return the event id.

    Every record must be included at full text.  A record other than the main
    one must hold no assessment yet (its values would be lost from view); a
    single record makes that record a study of its own again.  A label, when
    given, must not be another study's.
    """
    listed = list(dict.fromkeys(int(r) for r in records))
    if not listed:
        raise InputError("--records needs at least one record id")
    included = set(included_records(state))
    outside = [r for r in listed if r not in included]
    if outside:
        raise InputError(
            f"record(s) {', '.join(map(str, outside))} are not included at full text; "
            "only included records are grouped into studies"
        )
    for record in listed[1:]:
        if _assessed(state, record):
            raise InputError(
                f"record {record} is a study that already holds extracted values or "
                "judgements; make it the main record (list it first) or keep it apart"
            )
    studies = load_studies(session, project, state)
    if label is not None and label.strip():
        label = " ".join(label.split())
        clash = next(
            (s for s in studies if s.label.lower() == label.lower() and s.id != listed[0]), None
        )
        if clash is not None:
            raise InputError(f"study label {label!r} is taken by study {clash.id}")
    event = Event(
        reviewer_id=reviewer_id(session, reviewer),
        kind=LINK,
        record_id=listed[0],
        payload={"records": listed, "label": label or None},
    )
    session.add(event)
    session.flush()
    return event.id


def parse_arms(texts: Iterable[str]) -> list[Arm]:
    """``["low dose=MSC", "placebo=control"]`` as arms (name, group)."""
    found = []
    for text in texts:
        name, separator, group = text.rpartition("=")
        if not separator or not name.strip() or not group.strip():
            raise InputError(f"--arm expects NAME=GROUP, got {text!r}")
        found.append(Arm(" ".join(name.split()), group.strip()))
    return found


def set_arms(
    session: Session,
    project: Project,
    values: dict[tuple[int, str], int],
    *,
    study: Study,
    arms: Sequence[Arm],
    chosen: Sequence[str],
    reviewer: str,
) -> int:
    """Name a study's arms and their groups (and, for ``multi_arm = "choose"``, the arm
    chosen per group); return the event id.

    Every group of the protocol's pairwise comparisons needs an arm (a network
    outcome's treatments are groups too, each optional); names are unique; an
    arm that already holds values (``values``: ``(study, arm) -> count``) cannot
    be dropped.
    """
    groups = default_groups(project.protocol)
    allowed = (*groups, *network_treatments(project.protocol))
    unknown = sorted({a.group for a in arms} - set(allowed))
    if unknown:
        raise InputError(
            f"unknown group {unknown[0]!r}; the protocol's groups are: {', '.join(allowed)}"
        )
    if not arms:
        raise InputError("a study needs at least one arm")
    names = [a.name.lower() for a in arms]
    repeated = sorted({a.name for a in arms if names.count(a.name.lower()) > 1})
    if repeated:
        raise InputError(f"arm {repeated[0]!r} is named twice")
    if any(VERSUS.strip() in a.name.lower().split() for a in arms):
        raise InputError("an arm's name may not contain the word 'vs' (it names comparisons)")
    empty = [g for g in groups if not any(a.group == g for a in arms)]
    if empty:
        raise InputError(f"group {empty[0]!r} has no arm; every group of the comparison needs one")
    kept = {a.name for a in arms}
    dropped = sorted(
        arm
        for (sid, arm), n in values.items()
        if sid == study.id and n and arm and arm not in kept and VERSUS not in arm
    )
    if dropped:
        raise InputError(
            f"arm {dropped[0]!r} of {study.label} already holds extracted values; "
            "keep it (rename it by extracting into a new arm first)"
        )
    picked = []
    for name in chosen:
        arm = next((a for a in arms if a.name.lower() == name.strip().lower()), None)
        if arm is None:
            raise InputError(f"--choose {name!r} is not one of the arms given")
        if any(p.group == arm.group for p in picked):
            raise InputError(f"--choose names two arms of group {arm.group!r}; choose one")
        picked.append(arm)
    event = Event(
        reviewer_id=reviewer_id(session, reviewer),
        kind=ARMS,
        record_id=study.id,
        payload={"arms": [[a.name, a.group] for a in arms], "chosen": [a.name for a in picked]},
    )
    session.add(event)
    session.flush()
    return event.id
