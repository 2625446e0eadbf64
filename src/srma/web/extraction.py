"""What the extraction pages and API show and store, through :mod:`srma.review.extract`.

A reviewer sees their own values only; the values of others appear, as
discrepancies to resolve, once every extractor a study needs has submitted it
(:meth:`~srma.review.extract.assessment.AssessmentState.is_blinded`).  Values
entered are read by :func:`srma.review.extract.entered.entered_form` and stored
by :func:`srma.review.extract.importing.import_read`, as a form file's are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.extract.compare import compare
from srma.review.extract.context import Extraction, load_extraction, require_studies
from srma.review.extract.entered import Item, entered_form, study_items
from srma.review.extract.forms import ItemKey
from srma.review.extract.importing import import_read
from srma.review.extract.resolve import resolve_item
from srma.review.project import Project


def _study(extraction: Extraction, study_id: int) -> int:
    require_studies(extraction)
    if extraction.studies.get(study_id) is None:
        raise InputError(
            f"no study {study_id} in this review (its studies are the records "
            "included at full text)"
        )
    return study_id


def overview(session: Session, project: Project, viewer: str) -> dict[str, Any]:
    """Every study with its arms, how many submitted it and whether ``viewer`` did (counts,
    never a value), and the open discrepancies once studies are unblinded."""
    extraction = load_extraction(session, project)
    status = extraction.status()
    for study in status["studies"]:  # type: ignore[union-attr]
        study["submitted_by_you"] = extraction.state.has_submitted(study["study_id"], viewer)
    found = compare(extraction.state, extraction.form) if len(extraction.studies) else None
    return {
        **status,
        "discrepancies": [] if found is None else found.to_dict()["discrepancies"],
    }


def _item(item: Item, value: str | None) -> dict[str, Any]:
    key, spec = item.key, item.field
    return {
        "outcome": key.scope,
        "arm": key.arm,
        "time_point": key.time,
        "field": key.field,
        "kind": spec.kind,
        "choices": list(spec.choices),
        "unit": spec.unit,
        "required": spec.required,
        "help": spec.help,
        "value": value,
    }


def study_form(session: Session, project: Project, study_id: int, viewer: str) -> dict[str, Any]:
    """The form of one study with ``viewer``'s own values (as they wrote them)."""
    extraction = load_extraction(session, project)
    study = extraction.studies.by_id[_study(extraction, study_id)]
    own = extraction.state.own(viewer)
    items = []
    for item in study_items(extraction.form, study.id):
        entry = own.get(item.key)
        items.append(_item(item, None if entry is None else entry.written or entry.value))
    return {
        "study_id": study.id,
        "study": study.label,
        "records": list(study.records),
        "arms": [[a.name, a.group] for a in study.arms],
        "submitted": extraction.state.has_submitted(study.id, viewer),
        "items": items,
    }


def keyed(study_id: int, values: Sequence[Mapping[str, Any]]) -> dict[ItemKey, str | None]:
    """API items (``outcome``, ``arm``, ``time_point``, ``field``, ``value``) by key."""
    found: dict[ItemKey, str | None] = {}
    for number, item in enumerate(values, start=1):
        if not item.get("field"):
            raise InputError(f"value {number}: 'field' is missing")
        key = ItemKey(
            study_id,
            str(item.get("outcome") or ""),
            str(item.get("arm") or ""),
            str(item.get("time_point") or ""),
            str(item["field"]),
        )
        if key in found:
            raise InputError(f"value {number}: {key.field!r} is given twice")
        raw = item.get("value")
        found[key] = None if raw is None else str(raw)
    return found


def form_values(
    session: Session, project: Project, study_id: int, posted: Mapping[str, str]
) -> dict[ItemKey, str | None]:
    """The page's fields (``v0``, ``v1``, ... in :func:`study_items` order) by key."""
    extraction = load_extraction(session, project)
    items = study_items(extraction.form, _study(extraction, study_id))
    return {item.key: posted[f"v{n}"] for n, item in enumerate(items) if f"v{n}" in posted}


def save(
    session: Session,
    project: Project,
    viewer: str,
    study_id: int,
    values: Mapping[ItemKey, str | None],
    *,
    submit: bool,
) -> dict[str, object]:
    """Store ``viewer``'s changed values of a study (and its submission); every problem is
    raised together (:class:`~srma.review.extract.reading.FormError`), nothing stored."""
    extraction = load_extraction(session, project)
    study = _study(extraction, study_id)
    read = entered_form(
        extraction.form, study, values, extraction.state.own(viewer), reviewer=viewer, submit=submit
    )
    return import_read(session, extraction, read, reviewer=viewer).to_dict()


def resolve(session: Session, project: Project, viewer: str, body: Mapping[str, Any]) -> int:
    """Settle one discrepancy (a study every extractor submitted): a resolution event."""
    extraction = load_extraction(session, project)
    study = _study(extraction, int(body["study_id"]))
    key = ItemKey(
        study,
        body.get("outcome") or "",
        body.get("arm") or "",
        body.get("time_point") or "",
        body["field"],
    )
    if key not in {i.key for i in study_items(extraction.form, study)}:
        raise InputError(f"{body['field']!r} is not an item of this study's form")
    return resolve_item(
        session,
        project,
        extraction.state,
        extraction.form,
        reviewer=viewer,
        key=key,
        value=str(body.get("value") or ""),
        note=body.get("note") or None,
    )
