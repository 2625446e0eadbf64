"""Sign-in accounts of the workspace: a role and an argon2 password hash per reviewer.

The ``accounts`` table is append-only: adding an account again (a new
password, another role) writes a new row and the reviewer's latest row is
the account in force.  Passwords are hashed with argon2id (argon2-cffi).
"""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.project import SYSTEM_REVIEWER, current_name, reviewer_id, reviewer_names
from srma.store import AccountRow

ROLES = ("lead", "reviewer")
MIN_PASSWORD = 8
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    """A signed-in person: reviewer id, current name and role."""

    reviewer_id: int
    name: str
    role: str

    @property
    def is_lead(self) -> bool:
        return self.role == "lead"


def add_account(session: Session, name: str, *, role: str, password: str) -> Account:
    """Give reviewer ``name`` (registered now if new) a sign-in with ``role`` and ``password``."""
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}; expected one of {ROLES}")
    if name.strip().lower() == SYSTEM_REVIEWER:
        raise InputError(f"{SYSTEM_REVIEWER!r} is srma's own reviewer and cannot sign in")
    if len(password) < MIN_PASSWORD:
        raise InputError(f"a password needs at least {MIN_PASSWORD} characters")
    rid = reviewer_id(session, name, create=True)
    session.add(AccountRow(reviewer_id=rid, role=role, password_hash=_hasher.hash(password)))
    session.flush()
    return Account(rid, reviewer_names(session)[rid], role)


def _latest(session: Session) -> dict[int, AccountRow]:
    rows = session.scalars(select(AccountRow).order_by(AccountRow.id)).all()
    return {row.reviewer_id: row for row in rows}


def accounts(session: Session) -> list[Account]:
    """Every account in force, by reviewer id."""
    names = reviewer_names(session)
    return [Account(r, names[r], row.role) for r, row in sorted(_latest(session).items())]


def account_of(session: Session, reviewer: int) -> Account | None:
    """The account in force of reviewer id ``reviewer`` (None: none)."""
    row = session.scalars(
        select(AccountRow)
        .where(AccountRow.reviewer_id == reviewer)
        .order_by(AccountRow.id.desc())
        .limit(1)
    ).first()
    return None if row is None else Account(reviewer, current_name(session, reviewer), row.role)


def authenticate(session: Session, name: str, password: str) -> Account | None:
    """The account of ``name`` when ``password`` is right; None otherwise (no hint which)."""
    names = reviewer_names(session)
    found = next((i for i, n in names.items() if n.lower() == name.strip().lower()), None)
    row = None if found is None else _latest(session).get(found)
    if row is None:
        _hasher.hash(password)  # the same work for an unknown name
        return None
    try:
        _hasher.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return Account(found, names[found], row.role)
