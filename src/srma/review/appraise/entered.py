"""Answers and judgements entered on screen for one assessment (the browser workspace, its
JSON API), read as a form file's row is: a :class:`~srma.review.appraise.rows.RobRead`
that :func:`srma.review.appraise.project.import_rob_read` checks against the tool and
stores like any other, and :func:`proposals` for showing the tool's proposal while the
assessor answers (nothing is stored)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from srma.review.appraise.forms import INPUT, RobForm
from srma.review.appraise.rows import Cell, RobRead, RowResult, check_row
from srma.review.extract.entered import ON_SCREEN
from srma.review.extract.values import Problem


def _cells(
    form: RobForm, label: str, scope: str, values: Mapping[str, str | None]
) -> dict[str, Cell]:
    place = f"{label}, {scope}" if scope else label
    return {name: Cell(raw, f"{place}, {name!r}") for name, raw in values.items()}


def entered_rob(
    form: RobForm,
    study: int,
    scope: str,
    values: Mapping[str, str | None],
    *,
    reviewer: str,
    submit: bool = False,
) -> RobRead:
    """What an assessor entered for ``study`` at ``scope`` (values by column: ``1.1``,
    ``D1 judgement``, ...; a blank judgement takes the tool's proposal), read against
    ``form``; ``submit`` marks the study submitted.  Unknown columns are problems."""
    label = form.studies.by_id[study].label
    problems = [
        Problem(label, f"{name!r} is not a column of the {form.tool.name} form one can fill")
        for name in values
        if (spec := form.field(name)) is None or spec.kind not in INPUT
    ]
    known = {n: v for n, v in values.items() if (f := form.field(n)) and f.kind in INPUT}
    content = json.dumps(
        [study, scope, sorted(known.items()), submit, reviewer], ensure_ascii=False
    )
    return RobRead(
        ON_SCREEN,
        hashlib.sha256(content.encode("utf-8")).hexdigest(),
        reviewer,
        False,
        {(study, scope): _cells(form, label, scope, known)},
        submitted=((study, label),) if submit else (),
        problems=tuple(problems),
        cells=len(known),
    )


def proposals(form: RobForm, study: int, scope: str, values: Mapping[str, str | None]) -> RowResult:
    """The row checked as it stands (nothing stored): per domain the tool's proposal from
    the answers given (``D1 proposal``; None where answers are missing) and the problems."""
    label = form.studies.by_id[study].label
    known = {n: v for n, v in values.items() if (f := form.field(n)) and f.kind in INPUT}
    return check_row(form, _cells(form, label, scope, known), fallback=label)
