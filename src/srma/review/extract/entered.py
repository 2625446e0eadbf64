"""Values entered on screen for one study (the browser workspace, its JSON API), read as a
form file is: a :class:`~srma.review.extract.reading.ReadForm` that
:func:`srma.review.extract.importing.import_read` checks and stores like any other, so the
same rules, messages and events hold wherever values come from.

An item is named by its place on the study's form (:func:`study_items`); a value that
equals the stored one keeps the stored entry (its source and comment), so only what the
reviewer changed becomes an event.  Problems name the study, outcome, arm, time point and
field, since a screen has no cells.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, replace

from srma.review.extract.forms import FieldSpec, FormSpec, ItemKey
from srma.review.extract.reading import ReadForm
from srma.review.extract.values import Entry, Problem, parse_value

#: The ``file`` of values entered on screen (stored with each value in its event).
ON_SCREEN = "entered on screen"


@dataclass(frozen=True)
class Item:
    """One item of a study's form: its key, field and the place a message names."""

    key: ItemKey
    field: FieldSpec
    where: str


def study_items(form: FormSpec, study: int) -> tuple[Item, ...]:
    """Every item of ``study`` on ``form``, in the form's order: the characteristics, then
    per outcome each row (arm or comparison x time point) field by field."""
    label = form.studies.by_id[study].label
    found = []
    for sheet in form.sheets:
        if sheet.layout == "long":
            for row_study, name in sheet.long_rows:
                if row_study == study:
                    spec = sheet.field(name)
                    assert spec is not None
                    where = f"{label}, characteristic {name!r}"
                    found.append(Item(ItemKey(study, "", "", "", name), spec, where))
            continue
        for row in sheet.rows:
            if row.study != study:
                continue
            for spec in sheet.fields:
                where = f"{label}, {sheet.scope}, {row.arm}, {row.time}, field {spec.name!r}"
                found.append(
                    Item(ItemKey(study, sheet.scope, row.arm, row.time, spec.name), spec, where)
                )
    return tuple(found)


def entered_form(
    form: FormSpec,
    study: int,
    values: Mapping[ItemKey, str | None],
    stored: Mapping[ItemKey, Entry],
    *,
    reviewer: str,
    submit: bool = False,
) -> ReadForm:
    """What a reviewer entered for ``study`` (``values`` by item; an item left out keeps
    its value, a blank one clears it), read against ``form``; ``submit`` marks the study
    submitted.  Values that cannot be read are problems of the result, not errors."""
    items = {item.key: item for item in study_items(form, study)}
    label = form.studies.by_id[study].label
    problems: list[Problem] = []
    entries: list[Entry] = []
    bad: set[tuple[int, str, str, str]] = set()
    for key, raw in values.items():
        item = items.get(key)
        if item is None:
            problems.append(
                Problem(
                    label,
                    f"{key.field!r} ({key.scope or 'characteristic'}, "
                    f"{key.arm or '-'}, {key.time or '-'}) is not an item "
                    f"of this study's form",
                )
            )
            continue
        try:
            value, written = parse_value(item.field, raw)
        except ValueError as error:
            problems.append(Problem(item.where, str(error)))
            bad.add((key.study, key.scope, key.arm, key.time))
            continue
        before = stored.get(key)
        if before is not None and before.value == value and value is not None:
            entries.append(replace(before, sheet="", cell=item.where))
        elif value is None:
            entries.append(Entry(key, None, None, cell=item.where))
        else:
            entries.append(Entry(key, value, written, cell=item.where))
    content = json.dumps(
        [[list(k), v] for k, v in sorted(values.items(), key=lambda kv: tuple(kv[0]))]
        + [submit, reviewer],
        ensure_ascii=False,
    )
    return ReadForm(
        ON_SCREEN,
        hashlib.sha256(content.encode("utf-8")).hexdigest(),
        form.assessment,
        reviewer,
        False,
        tuple(entries),
        submitted=((study, label),) if submit else (),
        problems=tuple(problems),
        bad_rows=frozenset(bad),
    )
