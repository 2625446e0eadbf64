"""SQLAlchemy 2 models of a review project's database.

The tables hold what was imported (``imports``, ``import_problems``,
``records``), who works on the review (``reviewers``), everything that was
decided (``events``) and the results of the planned analyses with the data
version they came from (``analyses``, :mod:`srma.review.synthesize.stored`).
Every table is append-only: a changed decision is a new event, an undone merge
is an ``undo`` event that refers to the merge, a renamed reviewer is a
``rename_reviewer`` event.  The migrations add database triggers that refuse
``UPDATE``, ``DELETE``, ``REPLACE`` and (PostgreSQL) ``TRUNCATE`` on every table
of :data:`APPEND_ONLY_TABLES`, and every event carries a hash chained on the event
before it (:mod:`srma.store.chain`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utc_now() -> datetime:
    """The current time in UTC (events are ordered by id; the time is for people)."""
    return datetime.now(UTC)


#: Tables whose rows are never changed or removed once written (triggers enforce it).
APPEND_ONLY_TABLES = (
    "reviewers", "imports", "import_problems", "records", "events", "analyses", "accounts",
)  # fmt: skip


class Base(DeclarativeBase):
    """Declarative base of srma's tables."""


class Reviewer(Base):
    """A person (or srma itself) who makes decisions, as first registered.

    ``name`` is the name the reviewer was registered under and is never
    changed; a rename is a ``rename_reviewer`` event, and the name shown is
    the latest (``srma.review.project.reviewer_names``).
    """

    __tablename__ = "reviewers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class ImportBatch(Base):
    """One imported file: where it came from, its hash and its counts (for PRISMA)."""

    __tablename__ = "imports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    file_name: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(20))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(200))
    search_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    records_read: Mapped[int] = mapped_column(Integer)
    records_stored: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    imported_by: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ImportProblemRow(Base):
    """A record of an imported file that could not be stored (or a note about the file)."""

    __tablename__ = "import_problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"), index=True)
    line: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(10))  # problem or note


class RecordRow(Base):
    """One bibliographic record as read from an export (never changed afterwards)."""

    __tablename__ = "records"
    __table_args__ = (UniqueConstraint("import_id", "source_line"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"), index=True)
    source_line: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSON)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    journal: Mapped[str] = mapped_column(Text)
    volume: Mapped[str] = mapped_column(Text)
    issue: Mapped[str] = mapped_column(Text)
    pages: Mapped[str] = mapped_column(Text)
    doi: Mapped[str] = mapped_column(Text, index=True)
    pmid: Mapped[str] = mapped_column(Text, index=True)
    keywords: Mapped[list[str]] = mapped_column(JSON)
    type: Mapped[str] = mapped_column(Text)
    fields: Mapped[dict[str, object]] = mapped_column(JSON)


class Event(Base):
    """One decision, as it was made: who, when, stage, decision, reason, note.

    ``kind`` is ``screening`` (a reviewer's decision on a record at a stage),
    ``resolution`` (a conflict settled by a third reviewer or by consensus),
    ``duplicate`` (``record_id`` is a duplicate of ``payload["kept"]``),
    ``distinct`` (a pair that looked alike judged to be two references),
    ``undo`` (``refers_to`` names the event taken back), ``unblind``
    (someone was shown blinded decisions; ``payload["command"]`` says how) or
    ``rename_reviewer`` (``reviewer_id`` is now called ``payload["to"]``,
    formerly ``payload["from"]``).  ``hash`` chains the event on the one
    before it (:mod:`srma.store.chain`).
    """

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    stage: Mapped[str | None] = mapped_column(String(20), nullable=True)
    record_id: Mapped[int | None] = mapped_column(ForeignKey("records.id"), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(20), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    refers_to: Mapped[int | None] = mapped_column(ForeignKey("events.id"), nullable=True)
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON, nullable=True)
    hash: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AnalysisRow(Base):
    """The planned analyses of one outcome at one time point, as one run of ``srma analyze``
    gave them: the result as JSON (``OutcomeAnalysis.to_dict``), the data version it came
    from, the run, srma's version and the last event of the log it saw.  A newer run adds
    rows; the latest row of an outcome and time point is the stored result."""

    __tablename__ = "analyses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    outcome: Mapped[str] = mapped_column(Text)
    time_point: Mapped[str] = mapped_column(Text)
    data_version: Mapped[str] = mapped_column(String(64))
    srma_version: Mapped[str] = mapped_column(String(40))
    log_position: Mapped[int] = mapped_column(Integer)
    result: Mapped[dict[str, object]] = mapped_column(JSON)


class AccountRow(Base):
    """A reviewer's sign-in to the browser workspace as of ``created_at``: role and password hash.

    A changed password or role is a new row; the reviewer's latest row is the account in force
    (:mod:`srma.web.accounts`).
    """

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("reviewers.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
