"""Risk of bias in a review project: two blinded assessors, their forms, submissions, consensus.

The second assessment of included studies, on data extraction's machinery
(:mod:`srma.review.extract`): the studies are the review's (linked reports
grouped), the events are ``rob`` (an assessor's values of one study),
``rob_submit`` and ``rob_resolve``, replayed by
:func:`srma.review.extract.assessment.assessment_state`, and blinding is the
review state's: until ``reviewers_per_record`` assessors have submitted a
study, nobody sees another's answers or judgements on it.

:func:`import_rob_form` reads a workbook or the long CSV form, checks every row
it changes against the tool (:func:`srma.review.appraise.rows.check_row`: the
answers, the proposal computed from them, the judgement, an override's
reason), and the studies it submits (every domain judged), and only then
writes, in the caller's transaction, one ``rob`` event per study with the
values that changed (each with its sheet and cell) and a ``rob_submit`` event
per study newly submitted.  Any problem raises
:class:`~srma.review.extract.reading.FormError` before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.appraise.assessment import OVERALL
from srma.review.appraise.forms import (
    ANSWER,
    ASSESSMENT,
    COMPARED,
    INPUT,
    JUDGEMENT,
    PROPOSAL,
    REASON,
    TEXT,
    RobForm,
    field_name,
    rob_form,
)
from srma.review.appraise.rows import Cell, RobRead, check_row, parse_cell, text
from srma.review.decision_log import resolve_kind, submit_kind
from srma.review.extract.assessment import (
    AGREED,
    DISCREPANCY,
    KEY,
    RESOLVED,
    AssessmentState,
    assessment_state,
    project_identity,
)
from srma.review.extract.context import require_studies
from srma.review.extract.forms import ItemKey
from srma.review.extract.importing import ImportResult, checked_reviewer, store_changes
from srma.review.extract.reading import FormError
from srma.review.extract.studies import Studies, load_studies
from srma.review.extract.values import Entry, Problem
from srma.review.project import Project, reviewer_id
from srma.review.state import ReviewState, load_state
from srma.store import Event

Row = tuple[int, str]


@dataclass(frozen=True)
class RobReview:
    """A project's risk-of-bias assessment as the log says it is now (replayed once)."""

    project: Project
    review: ReviewState
    studies: Studies
    form: RobForm
    state: AssessmentState
    identity: str

    def unjudged(self, values: Mapping[ItemKey, Entry], study: int) -> list[str]:
        """What keeps ``study`` from being submitted with ``values``: the domains not judged,
        per outcome at result level (empty when every domain of every row is judged)."""
        missing = []
        for scope in self.form.scopes:
            left = [
                d.id
                for d in self.form.domains
                if (e := values.get(ItemKey(study, scope, "", "", field_name(d.id, JUDGEMENT))))
                is None
                or e.value is None
            ]
            if left:
                missing.append((f"{scope}: " if scope else "") + ", ".join(left))
        return missing

    def status(self) -> dict[str, object]:
        """Counts only, never an answer or judgement: per study how many assessors submitted
        it; per assessor the studies submitted and the assessments (rows) fully judged."""
        state = self.state
        judged = state.values[
            state.values["field"].str.endswith(f" {JUDGEMENT}") & state.values["value"].notna()
        ]
        domains = len(self.form.domains)
        per_row = judged[judged["field"] != field_name(OVERALL, JUDGEMENT)].groupby(
            ["reviewer", "study", "scope"]
        )
        rows = per_row.size()
        full = rows[rows == domains].groupby(level="reviewer").size().to_dict()
        submitted: dict[str, int] = {}
        for by in state.submitted.values():
            for name in by:
                submitted[name] = submitted.get(name, 0) + 1
        return {
            "tool": self.form.tool.name,
            "effect": self.form.effect,
            "level": self.form.level,
            "studies": [
                {
                    "study": s.label,
                    "study_id": s.id,
                    "submitted": len(state.submitted.get(s.id, {})),
                    "required": state.required,
                    "blinded": state.is_blinded(s.id),
                }
                for s in self.studies
            ],
            "reviewers": {
                name: {"submitted": submitted.get(name, 0), "assessed": int(full.get(name, 0))}
                for name in sorted(set(full) | set(submitted))
            },
        }


def load_rob(session: Session, project: Project) -> RobReview:
    """Replay the log once for a risk-of-bias command."""
    review = load_state(session, project)
    studies = load_studies(session, project, review)
    form = rob_form(project.protocol, studies)
    state = assessment_state(review, ASSESSMENT)
    return RobReview(project, review, studies, form, state, project_identity(session))


def consensus_form(rob: RobReview) -> RobForm:
    """The form of the studies every assessor they need has submitted."""
    ready = rob.state.open_studies()
    if not ready:
        raise InputError(
            "no study has been submitted by every assessor it needs yet: a consensus form "
            "holds only such studies"
        )
    return rob_form(rob.project.protocol, rob.studies, only=ready)


def reconciled(rob: RobReview, items: pd.DataFrame | None = None) -> dict[ItemKey, Entry]:
    """The reconciled value of every item of the open studies (or of ``items``, rows of
    their reconciliation) that is agreed or resolved: answers, judgements, support and
    reasons (proposals are each assessor's)."""
    frame = rob.state.reconciliation() if items is None else items
    settled = frame[frame["status"].isin((AGREED, RESOLVED))]
    found = {}
    for r in settled.itertuples(index=False):
        spec = rob.form.field(r.field)
        if spec is None or spec.kind == PROPOSAL:
            continue
        key = ItemKey(int(r.study), r.scope, r.arm, r.time, r.field)
        found[key] = Entry(key, r.value, r.written)
    return found


def shown(form: RobForm, values: Mapping[ItemKey, Entry]) -> dict[ItemKey, Entry]:
    """What a form shows of an assessor's stored values: a judgement equal to its proposal
    is left blank, as it was typed (it follows the proposal when the answers change); an
    override, and a judgement where the tool proposes none, are shown."""
    found = dict(values)
    for key, entry in values.items():
        spec = form.field(key.field)
        if spec is None or spec.kind != JUDGEMENT:
            continue
        proposal = values.get(key._replace(field=field_name(spec.domain, PROPOSAL)))
        if proposal is not None and proposal.value is not None and proposal.value == entry.value:
            del found[key]
    return found


def read_rob_file(path: Path, rob: RobReview, form: RobForm, *, reviewer: str,
                  consensus: bool) -> RobRead:  # fmt: skip
    """Read an ``.xlsx`` workbook or a ``.csv`` long form."""
    from srma.review.appraise.longform import read_rob_longform
    from srma.review.appraise.workbook import read_rob_workbook

    if not path.is_file():
        raise InputError("no such file", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return read_rob_workbook(
            path, form, project_id=rob.identity, reviewer=reviewer, consensus=consensus
        )
    if suffix == ".csv":
        if consensus:
            raise InputError(
                "a consensus form is a workbook (.xlsx): write one with "
                "`srma rob form --consensus`",
                file=str(path),
            )
        return read_rob_longform(path, form)
    raise InputError("a form is an .xlsx workbook or a .csv long form", file=str(path))


def _raw(entry: Entry | None) -> str | None:
    if entry is None or entry.value is None:
        return None
    return entry.written or entry.value


def _touched(cells: Mapping[str, Cell], base: Mapping[str, Entry | None]) -> bool:
    """Whether any cell says something other than what is stored (or reconciled)."""
    for name, cell in cells.items():
        written = text(cell.raw)
        entry = base.get(name)
        known = {(_raw(entry) or "").lower(), ((entry.value if entry else None) or "").lower()}
        if (written or "").lower() not in known:
            return True
    return False


def _checked_rows(
    form: RobForm, read: RobRead, base: Mapping[ItemKey, Entry], *, consensus: bool
) -> tuple[list[Entry], list[Problem]]:
    """The entries that change and the problems of the rows the file changes (each checked
    with what the form showed of the stored values for the cells it leaves out)."""
    changed: list[Entry] = []
    problems: list[Problem] = []
    display = base if consensus else shown(form, base)
    for (study, scope), cells in read.rows.items():
        stored = {f.name: display.get(ItemKey(study, scope, "", "", f.name)) for f in form.fields}
        if not cells or not _touched(cells, stored):
            continue
        fallback = next(iter(cells.values())).where
        merged = {
            name: Cell(_raw(entry), f"{fallback} ({name})")
            for name, entry in stored.items()
            if entry is not None and form.field(name).kind in INPUT  # type: ignore[union-attr]
        }
        merged.update(cells)
        result = check_row(form, merged, fallback=fallback)
        problems += result.problems
        for field in form.fields:
            if consensus and field.kind == PROPOSAL:
                continue
            key = ItemKey(study, scope, "", "", field.name)
            value, written = result.values[field.name]
            cell = cells.get(field.name)
            entry = Entry(
                key,
                value,
                written,
                sheet=cell.sheet if cell is not None and value is not None else "",
                cell=cell.ref if cell is not None and value is not None else "",
            )
            if not entry.same(base.get(key)):
                changed.append(entry)
    return changed, problems


def _submission_problems(
    rob: RobReview,
    read: RobRead,
    name: str,
    final: Mapping[ItemKey, Entry],
) -> tuple[list[Problem], list[int]]:
    state, problems, new = rob.state, [], []
    for study, where in read.not_submitted:
        if state.has_submitted(study, name):
            problems.append(
                Problem(
                    where,
                    f"{rob.studies.by_id[study].label} was submitted; a submission cannot be "
                    "taken back (change answers by importing them; every change is logged)",
                )
            )
    for study, where in read.submitted:
        if state.has_submitted(study, name):
            continue
        missing = rob.unjudged(final, study)
        if missing:
            problems.append(
                Problem(
                    where,
                    f"{rob.studies.by_id[study].label} cannot be submitted: not judged yet: "
                    + "; ".join(missing),
                )
            )
        else:
            new.append(study)
    return problems, new


def import_rob_form(
    session: Session, rob: RobReview, path: Path, *, reviewer: str, consensus: bool = False
) -> ImportResult:
    """Import one risk-of-bias form for ``reviewer`` (a consensus form: resolutions); write
    the changes as events in ``session``'s transaction, or raise with every problem."""
    require_studies(rob)
    name = checked_reviewer(session, reviewer)
    form = consensus_form(rob) if consensus else rob.form
    read = read_rob_file(path, rob, form, reviewer=name, consensus=consensus)
    return import_rob_read(session, rob, read, reviewer=name, consensus=consensus)


def import_rob_read(
    session: Session, rob: RobReview, read: RobRead, *, reviewer: str, consensus: bool = False
) -> ImportResult:
    """Store what a risk-of-bias form holds once read (a file, or answers entered on screen:
    :func:`srma.review.appraise.entered.entered_rob`): only the changes, each row checked
    against the tool, or raise :class:`FormError` with every problem and store nothing."""
    require_studies(rob)
    name = checked_reviewer(session, reviewer)
    form = consensus_form(rob) if consensus else rob.form
    base = reconciled(rob) if consensus else rob.state.own(name)
    changed, problems = _checked_rows(form, read, base, consensus=consensus)
    problems = [*read.problems, *problems]
    new: list[int] = []
    if not consensus and not read.problems:  # a file that cannot be read whole submits nothing
        final = dict(base) | {e.key: e for e in changed}
        more, new = _submission_problems(rob, read, name, final)
        problems += more
    if problems:
        raise FormError(read.file, problems)
    return store_changes(
        session,
        read,
        changed,
        new,
        reviewer=name,
        assessment=ASSESSMENT,
        consensus=consensus,
        labels={s.id: s.label for s in rob.studies},
        values_read=read.cells,
    )


def submit_rob(
    session: Session, rob: RobReview, *, reviewer: str, labels: Sequence[str]
) -> tuple[int, ...]:
    """Submit studies (by label) for ``reviewer``: every domain of every row judged.  A
    study already submitted is left as it is; returns the ids of the events written."""
    require_studies(rob)
    name = checked_reviewer(session, reviewer)
    chosen = list(dict.fromkeys(rob.studies.find(label).id for label in labels))
    if not chosen:
        raise InputError("name the studies to submit with --study (or --all)")
    own = rob.state.own(name)
    for study in chosen:
        missing = rob.unjudged(own, study)
        if missing and not rob.state.has_submitted(study, name):
            raise InputError(
                f"{rob.studies.by_id[study].label} cannot be submitted: not judged yet: "
                + "; ".join(missing)
            )
    events = [
        Event(
            reviewer_id=reviewer_id(session, name),
            kind=submit_kind(ASSESSMENT),
            record_id=study,
            payload={"command": "srma rob submit"},
        )
        for study in chosen
        if not rob.state.has_submitted(study, name)
    ]
    session.add_all(events)
    session.flush()
    return tuple(e.id for e in events)


def _disagreements(rob: RobReview, items: pd.DataFrame) -> dict[ItemKey, str]:
    """Each open discrepancy's note: every submitter's value (a judgement's with its support)."""
    state = rob.state
    open_items = items[items["status"] == DISCREPANCY][KEY]
    given = state.values.merge(open_items, on=KEY, how="inner")
    support = {
        (int(r.study), r.scope, r.field.removesuffix(" support"), r.reviewer): r.value
        for r in state.values.itertuples(index=False)
        if r.field.endswith(" support") and r.value is not None
    }
    notes: dict[ItemKey, dict[str, str]] = {}
    for r in given.itertuples(index=False):
        spec = rob.form.field(r.field)
        if spec is None or spec.kind not in COMPARED:
            continue
        if r.reviewer not in state.submitted.get(int(r.study), {}):
            continue
        key = ItemKey(int(r.study), r.scope, "", "", r.field)
        shown = r.value if r.value is not None else "(blank)"
        why = support.get((key.study, key.scope, spec.domain, r.reviewer))
        if spec.kind == JUDGEMENT and why:
            shown += f" (support: {why})"
        notes.setdefault(key, {})[r.reviewer] = shown
    for key, by in notes.items():
        for other in set(state.submitted[key.study]) - set(by):
            by[other] = "(blank)"
    return {k: "; ".join(f"{n}: {v}" for n, v in sorted(by.items())) for k, by in notes.items()}


def write_rob_form(
    session: Session, rob: RobReview, path: Path, *, reviewer: str, consensus: bool = False
) -> Path:
    """Write ``reviewer``'s form (``.xlsx``, or the long ``.csv`` form) with their own values
    only; with ``consensus``, the open studies with the reconciled values."""
    from srma.review.appraise.longform import write_rob_longform
    from srma.review.appraise.workbook import write_rob_workbook

    require_studies(rob)
    name = checked_reviewer(session, reviewer)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv") or (consensus and suffix != ".xlsx"):
        raise InputError(
            "a form is an .xlsx workbook" + ("" if consensus else " or a .csv long form"),
            file=str(path),
        )
    state = rob.state
    title = rob.project.protocol.title
    if not consensus:
        own = shown(rob.form, state.own(name))
        if suffix == ".csv":
            return write_rob_longform(path, rob.form, own)
        submitted = [s for s in state.submitted if state.has_submitted(s, name)]
        return write_rob_workbook(
            path,
            rob.form,
            project_id=rob.identity,
            title=title,
            reviewer=name,
            values=own,
            submitted=submitted,
        )
    form = consensus_form(rob)
    items = state.reconciliation()
    return write_rob_workbook(
        path,
        form,
        project_id=rob.identity,
        title=title,
        reviewer=name,
        values=reconciled(rob, items),
        consensus=True,
        disagreements=_disagreements(rob, items),
    )


def resolve_rob(
    session: Session,
    rob: RobReview,
    *,
    reviewer: str,
    study: str,
    outcome: str | None,
    field: str,
    value: str,
    reason: str | None = None,
    note: str | None = None,
) -> int:
    """Settle one answer or judgement of a study every assessor submitted (a
    ``rob_resolve`` event; ``value`` "" means none).  ``field`` is a question (``2.3``), a
    domain (``D1``, its judgement) or ``overall``.  Once every answer and judgement of the
    row is settled, the row must hold together as the tool judges it (an override of the
    proposal needs ``reason``)."""
    name = checked_reviewer(session, reviewer)
    found = rob.studies.find(study)
    scope = rob.form.scope(outcome)
    if rob.state.is_blinded(found.id):
        raise InputError(
            f"{found.label} is still blinded ({len(rob.state.submitted.get(found.id, {}))} of "
            f"{rob.state.required} assessors submitted); resolve it once every assessor has"
        )
    spec = rob.form.field(field) or rob.form.field(field_name(field, JUDGEMENT))
    if spec is None or spec.kind not in (ANSWER, JUDGEMENT):
        known = [f.name for f in rob.form.fields if f.kind == ANSWER]
        domains = [d.id for d in rob.form.domains]
        raise InputError(
            f"unknown question or domain {field!r}; expected a question ("
            f"{', '.join(known[:6])}{' ...' if len(known) > 6 else ''}), a domain "
            f"({', '.join(domains)}) or overall"
        )
    if reason and spec.kind != JUDGEMENT:
        raise InputError("--reason goes with a judgement (a domain or overall)")
    try:
        canonical, written = parse_cell(rob.form, spec, value)
    except ValueError as error:
        raise InputError(f"--value: {error}") from None
    key = ItemKey(found.id, scope, "", "", spec.name)
    entries = [Entry(key, canonical, written)]
    if reason is not None:
        why = field_name(spec.domain, REASON)
        entries.append(Entry(ItemKey(found.id, scope, "", "", why), text(reason), None))
    _check_resolution(rob, found.id, scope, entries)
    event = Event(
        reviewer_id=reviewer_id(session, name),
        kind=resolve_kind(ASSESSMENT),
        record_id=found.id,
        note=text(note) if note else None,
        payload={"values": [e.payload() for e in entries], "method": "resolve"},
    )
    session.add(event)
    session.flush()
    return event.id


def _check_resolution(rob: RobReview, study: int, scope: str, entries: list[Entry]) -> None:
    """Refuse a resolution that leaves its domain, once every answer of it is settled, or
    the whole row, once everything in it is, inconsistent with the tool."""
    form = rob.form
    items = rob.state.reconciliation()
    mine = items[(items["study"] == study) & (items["scope"] == scope)]
    new = {e.key.field: e for e in entries}
    unsettled = {
        spec.domain
        for f in mine[mine["status"] == DISCREPANCY]["field"]
        if (spec := form.field(f)) is not None and spec.kind in COMPARED and f not in new
    }
    cells = {
        k.field: Cell(_raw(e), f"--value ({k.field})")
        for k, e in reconciled(rob, mine).items()
        if form.field(k.field).kind in (*COMPARED, *TEXT)  # type: ignore[union-attr]
    }
    cells |= {f: Cell(e.value, f"--value ({f})") for f, e in new.items()}
    domain = form.field(entries[0].key.field).domain  # type: ignore[union-attr]
    if unsettled and domain in unsettled | {OVERALL}:
        return  # checked once the domain's (or for the overall, the row's) answers are settled
    if unsettled:  # the domain alone
        cells = {f: c for f, c in cells.items() if form.field(f).domain == domain}  # type: ignore[union-attr]
    result = check_row(form, cells, fallback="the resolved row")
    if result.problems:
        raise InputError(
            "the resolution would not hold together: "
            + "; ".join(p.message for p in result.problems)
            + " (give --reason with a judgement that overrides the proposal)"
        )
