"""Storing what a form file holds, as events: only what changed, all or nothing.

:func:`import_form` reads a workbook (``.xlsx``) or the long CSV form
(``.csv``), compares every value with what the reviewer stored before (for a
consensus form: with the reconciled value), checks the rows that changed
(:func:`srma.review.extract.values.row_problems`) and the studies it submits
(their required characteristics filled), and only then writes, in the
caller's transaction: one event per study with the values that changed (who,
when, the file and its SHA-256, and per value the sheet and cell it came from),
and one ``*_submit`` event per study newly submitted.  Any problem raises
:class:`~srma.review.extract.reading.FormError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import resolve_kind, submit_kind
from srma.review.extract.assessment import DISCREPANCY, AssessmentState
from srma.review.extract.context import Extraction, require_studies
from srma.review.extract.forms import FormSpec, ItemKey
from srma.review.extract.reading import FormError, ReadForm
from srma.review.extract.studies import Studies
from srma.review.extract.values import Entry, Problem, row_problems
from srma.review.project import SYSTEM_REVIEWER, reviewer_id, reviewer_name
from srma.store import Event


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: values changed (and in how many studies), studies newly
    submitted, the events written; nothing is stored when nothing changed."""

    file: str
    reviewer: str
    consensus: bool
    values_read: int
    values_changed: int
    studies_changed: tuple[str, ...]
    submitted: tuple[str, ...]
    events: tuple[int, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "reviewer": self.reviewer,
            "consensus": self.consensus,
            "values_read": self.values_read,
            "values_changed": self.values_changed,
            "studies_changed": list(self.studies_changed),
            "submitted": list(self.submitted),
            "events": list(self.events),
            "problems": [],
        }


def checked_reviewer(session: Session, reviewer: str) -> str:
    """The stored spelling of a registered reviewer who may assess studies."""
    if reviewer.strip().lower() == SYSTEM_REVIEWER:
        raise InputError(
            f"{SYSTEM_REVIEWER!r} is srma itself and assesses no study; give your own name"
        )
    return reviewer_name(session, reviewer)


def read_form(
    path: Path, form: FormSpec, *, project_id: str, reviewer: str, consensus: bool
) -> ReadForm:
    """Read an ``.xlsx`` workbook or a ``.csv`` long form."""
    from srma.review.extract.longform import read_longform
    from srma.review.extract.workbook import read_workbook

    if not path.is_file():
        raise InputError("no such file", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_workbook(
            path, form, project_id=project_id, reviewer=reviewer, consensus=consensus
        )
    if suffix == ".csv":
        if consensus:
            raise InputError(
                "a consensus form is a workbook (.xlsx): write one with "
                "`srma extract form --consensus`",
                file=str(path),
            )
        return read_longform(path, form)
    raise InputError("a form is an .xlsx workbook or a .csv long form", file=str(path))


def _where(entry: Entry) -> str:
    return f"sheet {entry.sheet!r}, cell {entry.cell}" if entry.sheet else entry.cell


def _row_check(
    form: FormSpec,
    changed: Sequence[Entry],
    read: Sequence[Entry],
    stored: Mapping[ItemKey, Entry],
    bad: frozenset[tuple[int, str, str, str]] = frozenset(),
) -> list[Problem]:
    """Problems of the rows ``changed`` touches (not the ``bad`` rows, whose cells already
    have one), with the stored values they keep."""
    in_file: dict[tuple[int, str, str, str], dict[str, Entry]] = {}
    for entry in read:
        key = entry.key
        in_file.setdefault((key.study, key.scope, key.arm, key.time), {})[key.field] = entry
    touched = list(
        dict.fromkeys(
            (e.key.study, e.key.scope, e.key.arm, e.key.time)
            for e in changed
            if e.key.scope and (e.key.study, e.key.scope, e.key.arm, e.key.time) not in bad
        )
    )
    problems: list[Problem] = []
    for sheet in form.sheets:
        if sheet.data is None:
            continue
        rows = [row for row in touched if row[1] == sheet.scope]
        names = [f.name for f in sheet.fields]
        merged = []
        for study, scope, arm, time in rows:
            given = in_file.get((study, scope, arm, time), {})
            values = {}
            for name in names:
                entry = given.get(name) or stored.get(ItemKey(study, scope, arm, time, name))
                values[name] = entry.value if entry is not None else None
            merged.append(values)
        for index, name, message in row_problems(sheet.data, names, merged):
            study, scope, arm, time = rows[index]
            given = in_file.get((study, scope, arm, time), {})
            entry = given.get(name)
            # a field the file leaves out (the long form): named beside a line of its row
            where = _where(entry) if entry is not None else (
                f"{_where(next(iter(given.values())))} ({name})"
            )  # fmt: skip
            problems.append(Problem(where, message))
    return problems


def _submission_problems(
    form: FormSpec,
    state: AssessmentState,
    read: ReadForm,
    reviewer: str,
    own: Mapping[ItemKey, Entry],
) -> tuple[list[Problem], list[int]]:
    problems, new = [], []
    for study, where in read.not_submitted:
        if state.has_submitted(study, reviewer):
            when = state.submitted[study][
                next(r for r in state.submitted[study] if r.lower() == reviewer.lower())
            ].created_at
            problems.append(
                Problem(
                    where,
                    f"{form.studies.by_id[study].label} was submitted "
                    f"on {when:%Y-%m-%d %H:%M} UTC; a submission cannot "
                    "be taken back (change values by importing them; "
                    "every change is logged)",
                )
            )
    file_values = {e.key: e for e in read.entries}
    required = [f for f in form.sheet("").fields if f.required] if form.sheet("") else []
    for study, where in read.submitted:
        if state.has_submitted(study, reviewer):
            continue
        empty = []
        for field in required:
            key = ItemKey(study, "", "", "", field.name)
            entry = file_values.get(key) or own.get(key)
            if entry is None or entry.value is None:
                empty.append(field.name)
        if empty:
            problems.append(
                Problem(
                    where,
                    f"{form.studies.by_id[study].label} cannot be "
                    f"submitted: required {', '.join(empty)} empty",
                )
            )
        else:
            new.append(study)
    return problems, new


def _consensus_changes(
    state: AssessmentState, read: ReadForm, studies: Studies
) -> tuple[list[Entry], list[Problem]]:
    """The values of a consensus form that settle an item: those differing from the
    reconciled value (a blank cell leaves an open discrepancy open)."""
    problems = []
    for study in sorted({e.key.study for e in read.entries}):
        if state.is_blinded(study):
            submitted = len(state.submitted.get(study, {}))
            problems.append(
                Problem(
                    _where(next(e for e in read.entries if e.key.study == study)),
                    f"{studies.by_id[study].label} is still blinded ({submitted} "
                    f"of {state.required} extractors submitted); consensus "
                    "settles only studies every extractor submitted",
                )
            )
    if problems:
        return [], problems
    current = {
        ItemKey(int(r.study), r.scope, r.arm, r.time, r.field): (r.status, r.value)
        for r in state.reconciliation().itertuples(index=False)
    }
    changed = []
    for entry in read.entries:
        status, value = current.get(entry.key, (None, None))
        if status == DISCREPANCY and entry.value is None:
            continue
        if entry.value != value:
            changed.append(entry)
    return changed, problems


def import_form(
    session: Session,
    extraction: Extraction,
    path: Path,
    *,
    reviewer: str,
    consensus: bool = False,
) -> ImportResult:
    """Import one form file for ``reviewer`` (a consensus form: resolutions); write the
    changes as events in ``session``'s transaction, or raise with every problem."""
    require_studies(extraction)
    name = checked_reviewer(session, reviewer)
    read = read_form(
        path, extraction.form, project_id=extraction.identity, reviewer=name, consensus=consensus
    )
    return import_read(session, extraction, read, reviewer=name, consensus=consensus)


def import_read(
    session: Session,
    extraction: Extraction,
    read: ReadForm,
    *,
    reviewer: str,
    consensus: bool = False,
) -> ImportResult:
    """Store what a form holds once read (a file, or values entered on screen:
    :mod:`srma.review.extract.entered`): only the changes, checked as a file's are, or raise
    :class:`FormError` with every problem and store nothing."""
    require_studies(extraction)
    name = checked_reviewer(session, reviewer)
    studies, form, state = extraction.studies, extraction.form, extraction.state
    if consensus:
        changed, problems = _consensus_changes(state, read, studies)
        problems = [*read.problems, *problems]
        new_submissions: list[int] = []
    else:
        own = state.own(name)
        changed = [e for e in read.entries if not e.same(own.get(e.key))]
        problems = [*read.problems, *_row_check(form, changed, read.entries, own, read.bad_rows)]
        more, new_submissions = _submission_problems(form, state, read, name, own)
        problems += more
    if problems:
        raise FormError(read.file, problems)
    label = {s.id: s.label for s in studies}
    return store_changes(
        session,
        read,
        changed,
        new_submissions,
        reviewer=name,
        assessment=form.assessment,
        consensus=consensus,
        labels=label,
        values_read=len(read.entries),
    )


def store_changes(
    session: Session,
    read: ReadForm,
    changed: Sequence[Entry],
    submitted: Sequence[int],
    *,
    reviewer: str,
    assessment: str,
    consensus: bool,
    labels: Mapping[int, str],
    values_read: int,
) -> ImportResult:
    """Write a checked form's changes: one event per study with the values that changed (a
    resolution for a consensus form), one ``*_submit`` event per study newly submitted."""
    who = reviewer_id(session, reviewer)
    kind = resolve_kind(assessment) if consensus else assessment
    by_study: dict[int, list[Entry]] = {}
    for entry in changed:
        by_study.setdefault(entry.key.study, []).append(entry)
    file = Path(read.file).name
    events = [
        Event(
            reviewer_id=who,
            kind=kind,
            record_id=study,
            payload={
                "file": file,
                "sha256": read.sha256,
                "values": [e.payload() for e in entries],
                **({"method": "consensus"} if consensus else {}),
            },
        )
        for study, entries in by_study.items()
    ]
    events += [
        Event(
            reviewer_id=who,
            kind=submit_kind(assessment),
            record_id=study,
            payload={"file": file, "sha256": read.sha256},
        )
        for study in submitted
    ]
    session.add_all(events)
    session.flush()
    return ImportResult(
        file=read.file,
        reviewer=reviewer,
        consensus=consensus,
        values_read=values_read,
        values_changed=len(changed),
        studies_changed=tuple(labels[s] for s in by_study),
        submitted=tuple(labels[s] for s in submitted),
        events=tuple(e.id for e in events),
    )


def submit(
    session: Session,
    extraction: Extraction,
    *,
    reviewer: str,
    labels: Sequence[str],
) -> tuple[int, ...]:
    """Submit studies (by label) for ``reviewer``: their extraction is complete.

    Required characteristics must be filled; a study already submitted is left
    as it is.  Returns the ids of the ``*_submit`` events written.
    """
    require_studies(extraction)
    name = checked_reviewer(session, reviewer)
    studies, state = extraction.studies, extraction.state
    assessment = state.assessment
    own = state.own(name)
    required = [f.name for f in extraction.project.protocol.extraction.fields if f.required]
    chosen = list(dict.fromkeys(studies.find(label).id for label in labels))
    if not chosen:
        raise InputError("name the studies to submit with --study (or --all)")
    for study in chosen:
        empty = [
            n
            for n in required
            if (e := own.get(ItemKey(study, "", "", "", n))) is None or e.value is None
        ]
        if empty:
            raise InputError(
                f"{studies.by_id[study].label} cannot be submitted: required "
                f"{', '.join(empty)} empty"
            )
    who = reviewer_id(session, name)
    events = [
        Event(
            reviewer_id=who,
            kind=submit_kind(assessment),
            record_id=study,
            payload={"command": "srma extract submit"},
        )
        for study in chosen
        if not state.has_submitted(study, name)
    ]
    session.add_all(events)
    session.flush()
    return tuple(e.id for e in events)
