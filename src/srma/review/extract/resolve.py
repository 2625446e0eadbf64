"""Settling a value once every extractor has submitted the study: a resolution event.

``srma extract resolve`` settles one item (``--study``, ``--field``, and the
outcome, arm and time point where the item has them); a consensus workbook
(:func:`srma.review.extract.importing.import_form` with ``consensus=True``)
settles many.  A resolution may also correct a value both extractors agreed on.
The latest resolution of an item stands; a submitter who changes the item
afterwards reopens it (:mod:`srma.review.extract.assessment`).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import resolve_kind
from srma.review.extract.assessment import AssessmentState
from srma.review.extract.forms import FormSpec, ItemKey, RowKey
from srma.review.extract.importing import checked_reviewer
from srma.review.extract.values import Entry, clean_text, parse_value
from srma.review.project import Project, reviewer_id
from srma.store import Event


def item_key(
    project: Project,
    form: FormSpec,
    *,
    study: str,
    field: str,
    outcome: str | None,
    arm: str | None,
    time: str | None,
) -> ItemKey:
    """The item named by a study label, field and (for outcome data) outcome, arm and time
    point; the arm or time point may be left out where the study has only one."""
    found = form.studies.find(study)
    scope = project.protocol.outcome(outcome).name if outcome else ""
    sheet = form.sheet(scope)
    if sheet is None:
        raise InputError(f"outcome {scope!r} has no extraction form (its measure has no data type)")
    if sheet.field(field) is None:
        where = (
            f"outcome {scope!r}"
            if scope
            else "the study characteristics (give --outcome for outcome data)"
        )
        raise InputError(
            f"unknown field {field!r} for {where}; expected one of: "
            f"{', '.join(f.name for f in sheet.fields)}"
        )
    if sheet.layout == "long":
        if arm or time:
            raise InputError("a study characteristic has no --arm or --time-point")
        return ItemKey(found.id, "", "", "", field)
    rows = [r for r in sheet.rows if r.study == found.id]
    arms = list(dict.fromkeys(r.arm for r in rows))
    times = list(dict.fromkeys(r.time for r in rows))
    chosen_arm = arm if arm is not None else (arms[0] if len(arms) == 1 else None)
    chosen_time = time if time is not None else (times[0] if len(times) == 1 else None)
    if chosen_arm is None:
        raise InputError(
            f"{found.label} has several arms for {scope}: give --arm ({', '.join(arms)})"
        )
    if chosen_time is None:
        raise InputError(f"{scope} has several time points: give --time-point ({', '.join(times)})")
    arm_name = next((a for a in arms if a.lower() == chosen_arm.strip().lower()), chosen_arm)
    if RowKey(found.id, arm_name, chosen_time) not in rows:
        raise InputError(
            f"{found.label} has no row for arm {chosen_arm!r} at time point "
            f"{chosen_time!r} in {scope} (arms: {', '.join(arms)}; time points: "
            f"{', '.join(times)})"
        )
    return ItemKey(found.id, scope, arm_name, chosen_time, field)


def resolve_item(
    session: Session,
    project: Project,
    state: AssessmentState,
    form: FormSpec,
    *,
    reviewer: str,
    key: ItemKey,
    value: str,
    note: str | None = None,
) -> int:
    """Record the resolution of one item (``value`` "" means: no value); return the event
    id.  The study must have been submitted by every extractor it needs."""
    name = checked_reviewer(session, reviewer)
    study = form.studies.by_id[key.study]
    if state.is_blinded(key.study):
        raise InputError(
            f"{study.label} is still blinded ({len(state.submitted.get(key.study, {}))} of "
            f"{state.required} extractors submitted); resolve it once every extractor has"
        )
    field = form.sheet(key.scope).field(key.field)  # type: ignore[union-attr]
    try:
        canonical, written = parse_value(field, value)  # type: ignore[arg-type]
    except ValueError as error:
        raise InputError(f"--value: {error}") from None
    note = clean_text(note) if note else None
    entry = Entry(key, canonical, written, comment=note or "")
    event = Event(
        reviewer_id=reviewer_id(session, name),
        kind=resolve_kind(state.assessment),
        record_id=key.study,
        note=note or None,
        payload={"values": [entry.payload()], "method": "resolve"},
    )
    session.add(event)
    session.flush()
    return event.id
