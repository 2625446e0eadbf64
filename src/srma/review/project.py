"""A review project: a folder holding ``review.toml`` (the protocol) and a database.

The database is ``srma.db`` (SQLite) in the folder unless a URL is given
(``--db`` or the ``SRMA_DATABASE_URL`` environment variable), for example
``postgresql://user@host/review`` for a team sharing one PostgreSQL server.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.protocol import Protocol, read_protocol
from srma.store import Reviewer, Store, open_store, resolve_url

PROTOCOL_FILE = "review.toml"
#: The reviewer name under which srma records its own (automatic) decisions.
SYSTEM_REVIEWER = "srma"

PROTOCOL_TEMPLATE = """\
# The review protocol. srma validates it whenever the project is opened.
[review]
title = "{title}"
reviewers_per_record = 2

[question]
population = "adult patients with acute myocardial infarction"
intervention = "the intervention under review"
comparator = "placebo or no treatment"
outcome = "infarct size"

[eligibility]
include = ["randomised or controlled studies", "reports the outcome with a measure of spread"]
exclude = ["reviews, editorials and conference abstracts"]

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
highlight_include = ["randomised", "randomized", "infarct"]
highlight_exclude = ["review", "editorial", "case report"]

[[outcomes]]
name = "infarct size"
measure = "SMD"
direction = "lower is better"
primary = true

[analysis]
policy = "modern"
planned = ["random-effects meta-analysis", "leave-one-out", "Egger's test"]
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


def reviewer_id(session: Session, name: str, *, create: bool = False) -> int:
    """The id of reviewer ``name``; an unknown name is an error unless ``create`` is true.

    Names are compared without surrounding spaces and without case, so
    ``Alice`` and ``alice`` are one reviewer.
    """
    clean = name.strip()
    if not clean:
        raise InputError("a reviewer needs a name")
    found = session.scalar(select(Reviewer.id).where(func.lower(Reviewer.name) == clean.lower()))
    if found is not None:
        return found
    if not create:
        raise InputError(
            f"unknown reviewer {clean!r}: register reviewers with "
            f"`srma reviewer PROJECT --add {clean}`"
        )
    reviewer = Reviewer(name=clean)
    session.add(reviewer)
    session.flush()
    return reviewer.id


def add_reviewer(session: Session, name: str) -> int:
    """Register a new reviewer; a name already taken (or srma's own) is an error."""
    clean = name.strip()
    if clean.lower() == SYSTEM_REVIEWER:
        raise InputError(f"{SYSTEM_REVIEWER!r} is reserved for srma's automatic decisions")
    taken = session.scalar(select(Reviewer.name).where(func.lower(Reviewer.name) == clean.lower()))
    if taken is not None:
        raise InputError(f"reviewer {clean!r} already exists (as {taken!r})")
    return reviewer_id(session, clean, create=True)


def reviewer_name(session: Session, name: str) -> str:
    """The stored spelling of a registered reviewer's name."""
    return session.get(Reviewer, reviewer_id(session, name)).name
