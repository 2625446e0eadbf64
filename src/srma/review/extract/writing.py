"""Writing a reviewer's form: their own values only, or a consensus form of the open studies.

Blinding: a reviewer's form holds the study structure (studies, arms) and that
reviewer's values, never anyone else's.  A consensus form holds only studies
every extractor they need has submitted: the reconciled values filled in, and
each open discrepancy left blank, marked, with every extractor's value and
source in the cell's note.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.extract.assessment import AGREED, DISCREPANCY, KEY, RESOLVED
from srma.review.extract.context import Extraction, require_studies
from srma.review.extract.forms import ItemKey, extraction_form
from srma.review.extract.importing import checked_reviewer
from srma.review.extract.longform import write_longform
from srma.review.extract.values import Entry
from srma.review.extract.workbook import write_form


def write_reviewer_form(
    session: Session, extraction: Extraction, path: Path, *, reviewer: str, consensus: bool
) -> Path:
    """Write ``reviewer``'s form (``.xlsx``, or the long ``.csv`` form) to ``path``."""
    require_studies(extraction)
    name = checked_reviewer(session, reviewer)
    suffix = path.suffix.lower()
    if suffix not in (".xlsx", ".csv") or (consensus and suffix != ".xlsx"):
        raise InputError(
            "a form is an .xlsx workbook" + ("" if consensus else " or a .csv long form"),
            file=str(path),
        )
    state = extraction.state
    if not consensus:
        own = state.own(name)
        submitted = [s for s in state.submitted if state.has_submitted(s, name)]
        if suffix == ".csv":
            return write_longform(path, extraction.form, own)
        return write_form(
            path,
            extraction.form,
            project_id=extraction.identity,
            title=extraction.project.protocol.title,
            reviewer=name,
            values=own,
            submitted=submitted,
        )
    ready = state.open_studies()
    if not ready:
        raise InputError(
            "no study has been submitted by every extractor it needs yet: a consensus form "
            "holds only such studies"
        )
    form = extraction_form(extraction.project.protocol, extraction.studies, only=ready)
    items = state.reconciliation()
    settled = items[items["status"].isin((AGREED, RESOLVED))]
    values = {
        ItemKey(int(r.study), r.scope, r.arm, r.time, r.field): Entry(
            ItemKey(int(r.study), r.scope, r.arm, r.time, r.field), r.value, r.written
        )
        for r in settled.itertuples(index=False)
    }
    open_items = items[items["status"] == DISCREPANCY][KEY]
    given = state.values.merge(open_items, on=KEY, how="inner")
    notes: dict[ItemKey, list[str]] = {}
    for r in given.itertuples(index=False):
        if r.reviewer not in state.submitted.get(int(r.study), {}):
            continue
        shown = r.written if r.value is not None else "(blank)"
        source = f" ({r.source})" if r.source else ""
        key = ItemKey(int(r.study), r.scope, r.arm, r.time, r.field)
        notes.setdefault(key, []).append(f"{r.reviewer}: {shown}{source}")
    for r in open_items.itertuples(index=False):
        key = ItemKey(int(r.study), r.scope, r.arm, r.time, r.field)
        given_by = {n.split(":", 1)[0] for n in notes.get(key, [])}
        for other in sorted(set(state.submitted[key.study]) - given_by):
            notes.setdefault(key, []).append(f"{other}: (blank)")
    return write_form(
        path,
        form,
        project_id=extraction.identity,
        title=extraction.project.protocol.title,
        reviewer=name,
        values=values,
        consensus=True,
        disagreements={k: "; ".join(sorted(v)) for k, v in notes.items()},
    )
