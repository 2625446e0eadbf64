"""A review project: a folder holding ``review.toml`` (the protocol) and a database.

The database is ``srma.db`` (SQLite) in the folder unless a URL is given
(``--db`` or the ``SRMA_DATABASE_URL`` environment variable), for example
``postgresql://user@host/review`` for a team sharing one PostgreSQL server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.protocol import Protocol, read_protocol
from srma.store import Event, Reviewer, Store, open_store, resolve_url

PROTOCOL_FILE = "review.toml"
#: The reviewer name under which srma records its own (automatic) decisions.
SYSTEM_REVIEWER = "srma"
#: The kind of event that renames a reviewer (``payload``: ``from``, ``to``).
RENAME_REVIEWER = "rename_reviewer"

PROTOCOL_TEMPLATE = """\
# The review protocol. srma validates it whenever the project is opened
# (docs/review.md; what to extract: docs/extraction.md).
[review]
title = "{title}"
reviewers_per_record = 2

[question]
population = "adults with acute ischaemic stroke"
intervention = "mesenchymal stem cells (MSC)"
comparator = "placebo or no treatment"
outcome = "neurological deficit, function, adverse events"

[eligibility]
include = ["randomised or controlled studies", "reports the outcome with a measure of spread"]
exclude = ["reviews, editorials and conference abstracts", "animal studies"]

[screening]
exclusion_reasons = [
    "wrong population",
    "wrong intervention",
    "wrong comparator",
    "wrong outcome",
    "wrong study design",
    "duplicate report",
    "full text not available",
]
highlight_include = ["randomised", "randomized", "stroke", "mesenchymal"]
highlight_exclude = ["review", "editorial", "case report"]

# What to extract from each included study. Every study is extracted by
# reviewers_per_record reviewers, blinded, then reconciled (srma extract ...).
[extraction]
arms = ["MSC", "control"]          # the comparison's groups: experimental, then comparator
multi_arm = "combine"              # more arms than two: combine, choose or split

[[extraction.fields]]
name = "design"
type = "choice"                    # text, number, choice or date
choices = ["parallel RCT", "crossover RCT", "cluster RCT", "non-randomised controlled"]
required = true                    # must be filled before a study is submitted

[[extraction.fields]]
name = "country"
type = "text"

[[extraction.fields]]
name = "cell source"
type = "choice"
choices = ["bone marrow", "adipose tissue", "umbilical cord", "other"]
required = true

[[extraction.fields]]
name = "dose"
type = "number"
unit = "million cells"

[[extraction.fields]]
name = "route"
type = "choice"
choices = ["intravenous", "intra-arterial", "intracerebral", "intrathecal"]

[[extraction.fields]]
name = "time from onset"
type = "number"
unit = "days"

[[extraction.fields]]
name = "follow-up"
type = "number"
unit = "months"

[[extraction.fields]]
name = "first patient enrolled"
type = "date"

[[outcomes]]
name = "NIHSS"
measure = "SMD"
direction = "lower is better"
primary = true
data = "continuous"                # continuous, binary, time-to-event or generic
time_points = ["90 days", "1 year"]

[[outcomes]]
name = "Barthel index"
measure = "MD"
direction = "higher is better"
data = "continuous"
time_points = ["90 days"]

[[outcomes]]
name = "adverse events"
measure = "RR"
direction = "lower is better"
data = "binary"
time_points = ["end of follow-up"]

[risk_of_bias]
tool = "rob2"                      # rob1, rob2, robins-i, syrcle or quadas2
level = "result"                   # judged per "study" or per "result" (study x outcome)

[analysis]
policy = "modern"
planned = ["random-effects meta-analysis", "leave-one-out", "Egger's test"]

[[subgroups]]
name = "cell source"
description = "bone marrow against other sources"
"""


@dataclass(frozen=True)
class Project:
    """An opened project: its folder, validated protocol and database."""

    folder: Path
    protocol: Protocol
    store: Store

    def close(self) -> None:
        self.store.dispose()


def database_url(folder: Path, url: str | None) -> str:
    """The project's database: ``url``, else ``$SRMA_DATABASE_URL``, else SQLite in the folder."""
    return resolve_url(url or os.environ.get("SRMA_DATABASE_URL") or None, folder)


def init_project(folder: str | Path, *, title: str, url: str | None = None) -> Project:
    """Create a project folder with a protocol template (kept if one exists) and a database."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise InputError("not a folder", file=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    protocol = folder / PROTOCOL_FILE
    if not protocol.exists():
        protocol.write_text(PROTOCOL_TEMPLATE.format(title=title.replace('"', "'")))
    return open_project(folder, url=url)


def open_project(folder: str | Path, *, url: str | None = None) -> Project:
    """Open an existing project: validate its protocol and connect to (and migrate) its database."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError("no such project folder (create one with `srma init`)", file=str(folder))
    protocol = read_protocol(folder / PROTOCOL_FILE)
    return Project(folder, protocol, open_store(database_url(folder, url)))


def reviewer_names(session: Session) -> dict[int, str]:
    """Every reviewer's current name, by id: the registered name, or the latest rename.

    Reviewers are never changed in the database (the table is append-only); a
    rename is a ``rename_reviewer`` event, replayed here, so past decisions
    stay attributed to the same reviewer id and show the latest name.
    """
    names = dict(session.execute(select(Reviewer.id, Reviewer.name).order_by(Reviewer.id)).all())
    renames = session.execute(
        select(Event.reviewer_id, Event.payload)
        .where(Event.kind == RENAME_REVIEWER)
        .order_by(Event.id)
    )
    for reviewer, payload in renames:
        names[reviewer] = str((payload or {})["to"])
    return names


def current_name(session: Session, reviewer: int) -> str:
    """Reviewer id ``reviewer``'s current name, as :func:`reviewer_names` gives it, read on
    its own (two indexed queries, for a check made on every request)."""
    renamed = session.scalars(
        select(Event.payload)
        .where(Event.kind == RENAME_REVIEWER, Event.reviewer_id == reviewer)
        .order_by(Event.id.desc())
        .limit(1)
    ).first()
    if renamed is not None:
        return str(renamed["to"])
    return session.scalars(select(Reviewer.name).where(Reviewer.id == reviewer)).one()


def _former_names(session: Session) -> dict[str, int]:
    """Every name a reviewer was ever known by (lower case) -> that reviewer's id."""
    former = {name.lower(): id for id, name in session.execute(select(Reviewer.id, Reviewer.name))}
    for reviewer, payload in session.execute(
        select(Event.reviewer_id, Event.payload).where(Event.kind == RENAME_REVIEWER)
    ):
        for key in ("from", "to"):
            former.setdefault(str((payload or {})[key]).lower(), reviewer)
    return former


def reviewer_id(session: Session, name: str, *, create: bool = False) -> int:
    """The id of reviewer ``name``; an unknown name is an error unless ``create`` is true.

    Names are compared without surrounding spaces and without case, so
    ``Alice`` and ``alice`` are one reviewer.  Only current names are known: a
    reviewer's name from before a rename is an error that gives the new name.
    """
    clean = name.strip()
    if not clean:
        raise InputError("a reviewer needs a name")
    names = reviewer_names(session)
    found = next((id for id, known in names.items() if known.lower() == clean.lower()), None)
    if found is not None:
        return found
    before = _former_names(session).get(clean.lower())
    if before is not None:
        raise InputError(f"reviewer {clean!r} was renamed: their name is now {names[before]!r}")
    if not create:
        raise InputError(
            f"unknown reviewer {clean!r}: register reviewers with "
            f"`srma reviewer PROJECT --add {clean}`"
        )
    reviewer = Reviewer(name=clean)
    session.add(reviewer)
    session.flush()
    return reviewer.id


def _check_new_name(session: Session, clean: str, *, for_reviewer: int | None = None) -> None:
    if not clean:
        raise InputError("a reviewer needs a name")
    if clean.lower() == SYSTEM_REVIEWER:
        raise InputError(f"{SYSTEM_REVIEWER!r} is reserved for srma's automatic decisions")
    names = reviewer_names(session)
    taken = next((n for i, n in names.items() if n.lower() == clean.lower()), None)
    if taken is not None:
        raise InputError(f"reviewer {clean!r} already exists (as {taken!r})")
    before = _former_names(session).get(clean.lower())
    if before is not None and before != for_reviewer:
        raise InputError(
            f"the name {clean!r} was used by reviewer {names[before]!r} before a rename; "
            "names are never reused, so past decisions cannot be confused"
        )


def add_reviewer(session: Session, name: str) -> int:
    """Register a new reviewer; a name already taken (or srma's own) is an error.

    A name a reviewer had before a rename stays taken.
    """
    clean = name.strip()
    _check_new_name(session, clean)
    return reviewer_id(session, clean, create=True)


def rename_reviewer(session: Session, old: str, new: str) -> int:
    """Rename a reviewer (a typo, a changed name): a ``rename_reviewer`` event; return its id.

    The reviewer keeps their id, so every past decision stays theirs and is
    shown under the new name; the old name can no longer be used (nor
    registered by someone else).  srma's own reviewer cannot be renamed.
    """
    if old.strip().lower() == SYSTEM_REVIEWER:
        raise InputError(f"{SYSTEM_REVIEWER!r} is srma's own reviewer and cannot be renamed")
    renamed = reviewer_id(session, old)
    clean = new.strip()
    current = reviewer_names(session)[renamed]
    if clean == current:
        raise InputError(f"reviewer {current!r} already has that name")
    if clean.lower() != current.lower():
        _check_new_name(session, clean, for_reviewer=renamed)
    event = Event(reviewer_id=renamed, kind=RENAME_REVIEWER, payload={"from": current, "to": clean})
    session.add(event)
    session.flush()
    return event.id


def reviewer_name(session: Session, name: str) -> str:
    """The current spelling of a registered reviewer's name."""
    return reviewer_names(session)[reviewer_id(session, name)]
