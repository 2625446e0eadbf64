"""What the risk-of-bias pages and API show and store, through :mod:`srma.review.appraise`.

An assessor sees their own answers, judgements and the tool's proposals from
them only; others' appear, as discrepancies, once every assessor a study needs
has submitted it.  Answers are read by
:func:`srma.review.appraise.entered.entered_rob` and stored by
:func:`srma.review.appraise.project.import_rob_read`, checked against the tool
as a form file's row is; :func:`preview` shows the tool's proposal for answers
not saved yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.appraise.compare import compare_rob
from srma.review.appraise.entered import entered_rob, proposals
from srma.review.appraise.forms import INPUT, PROPOSAL, field_name
from srma.review.appraise.project import RobReview, import_rob_read, load_rob, resolve_rob, shown
from srma.review.extract.context import require_studies
from srma.review.extract.forms import ItemKey
from srma.review.project import Project


def _row(rob: RobReview, study_id: int, outcome: str | None) -> tuple[int, str]:
    require_studies(rob)
    if rob.studies.get(study_id) is None:
        raise InputError(
            f"no study {study_id} in this review (its studies are the records "
            "included at full text)"
        )
    return study_id, rob.form.scope(outcome)


def overview(session: Session, project: Project, viewer: str) -> dict[str, Any]:
    """The tool, every study with how many assessors submitted it and whether ``viewer``
    did (counts only), the rows to assess, and the open discrepancies of unblinded studies."""
    rob = load_rob(session, project)
    status = rob.status()
    for study in status["studies"]:  # type: ignore[union-attr]
        study["submitted_by_you"] = rob.state.has_submitted(study["study_id"], viewer)
    found = compare_rob(rob) if len(rob.studies) else None
    return {
        **status,
        "scopes": list(rob.form.scopes),
        "judgements": list(rob.form.tool.judgements),
        "discrepancies": [] if found is None else [d.to_dict() for d in found.discrepancies],
    }


def study_form(
    session: Session, project: Project, study_id: int, outcome: str | None, viewer: str
) -> dict[str, Any]:
    """One assessment of ``viewer``: per domain its signalling questions (wording, answers,
    when asked), the tool's proposal from the stored answers, the judgement (blank where it
    follows the proposal), support and reason."""
    rob = load_rob(session, project)
    study, scope = _row(rob, study_id, outcome)
    own = rob.state.own(viewer)
    display = shown(rob.form, own)

    def value(name: str, values: Mapping[ItemKey, Any]) -> str | None:
        entry = values.get(ItemKey(study, scope, "", "", name))
        return None if entry is None or entry.value is None else entry.written or entry.value

    domains = []
    for domain in [*rob.form.domains, None]:
        key = "overall" if domain is None else domain.id
        fields = [
            {
                "name": f.name,
                "kind": f.kind,
                "choices": list(f.choices),
                "note": f.note,
                "question": None if f.question is None else f.question.text,
                "asked_if": None if f.question is None else f.question.condition_text,
                "value": value(f.name, display),
            }
            for f in rob.form.of(key)
            if f.kind in INPUT
        ]
        if not fields:
            continue
        domains.append(
            {
                "id": key,
                "name": "Overall" if domain is None else domain.name,
                "prompt": None if domain is None else domain.prompt,
                "proposal": value(field_name(key, PROPOSAL), own),
                "has_algorithm": rob.form.field(field_name(key, PROPOSAL)) is not None,
                "fields": fields,
            }
        )
    return {
        "study_id": study,
        "study": rob.studies.by_id[study].label,
        "outcome": scope,
        "tool": rob.form.tool.name,
        "title": rob.form.tool.title,
        "judgements": list(rob.form.tool.judgements),
        "effect": rob.form.effect,
        "submitted": rob.state.has_submitted(study, viewer),
        "domains": domains,
    }


def save(
    session: Session,
    project: Project,
    viewer: str,
    study_id: int,
    outcome: str | None,
    values: Mapping[str, str | None],
    *,
    submit: bool,
) -> dict[str, object]:
    """Store ``viewer``'s answers of one assessment (and the study's submission), checked
    against the tool; every problem raised together, nothing stored."""
    rob = load_rob(session, project)
    study, scope = _row(rob, study_id, outcome)
    read = entered_rob(rob.form, study, scope, values, reviewer=viewer, submit=submit)
    return import_rob_read(session, rob, read, reviewer=viewer).to_dict()


def preview(
    session: Session,
    project: Project,
    study_id: int,
    outcome: str | None,
    values: Mapping[str, str | None],
) -> dict[str, Any]:
    """The tool's proposal per domain from ``values`` and the problems, storing nothing."""
    rob = load_rob(session, project)
    study, scope = _row(rob, study_id, outcome)
    result = proposals(rob.form, study, scope, values)
    found = {f.domain: result.values[f.name][0] for f in rob.form.fields if f.kind == PROPOSAL}
    return {
        "proposals": found,
        "problems": [{"where": p.where, "message": p.message} for p in result.problems],
    }


def resolve(session: Session, project: Project, viewer: str, body: Mapping[str, Any]) -> int:
    """Settle an answer or judgement of a study every assessor submitted."""
    rob = load_rob(session, project)
    study, _scope = _row(rob, int(body["study_id"]), body.get("outcome"))
    return resolve_rob(
        session,
        rob,
        reviewer=viewer,
        study=f"#{study}",
        outcome=body.get("outcome") or None,
        field=str(body["field"]),
        value=str(body.get("value") or ""),
        reason=body.get("reason") or None,
        note=body.get("note") or None,
    )
