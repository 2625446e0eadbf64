"""Many rows inserted at once, their JSON columns encoded once per row.

An ORM insert of a list of dicts runs every value through its column type's
bind processing, row by row, and builds a parameter dict for each; at 100,000
records that was a third of an import.  :func:`insert_rows` hands the rows to
the database driver's ``executemany`` as they are, in the session's
transaction, with each JSON column's value encoded beforehand, once, with the
encoder the column itself uses (``json.dumps``, SQLAlchemy's default for
SQLite and PostgreSQL), so that the stored text is the text an ORM insert
stores.  PostgreSQL casts each JSON text to ``json`` in the statement, as
SQLAlchemy's own JSON binding does.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from sqlalchemy import JSON, Table
from sqlalchemy.orm import Session


def insert_rows(
    session: Session, table: Table, names: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Insert ``rows`` (each the values of the columns ``names``, in order) into ``table``.

    Only plain values go in: ``None``, numbers, strings, and JSON-encodable
    values for JSON columns (SQL expressions and defaults of omitted columns
    other than the primary key are not applied).
    """
    dialect = session.get_bind().dialect.name
    marker = "?" if dialect == "sqlite" else "%s"
    is_json = [isinstance(table.c[name].type, JSON) for name in names]
    markers = [
        f"{marker}::json" if json_column and dialect == "postgresql" else marker
        for json_column in is_json
    ]
    preparer = session.get_bind().dialect.identifier_preparer
    columns = ", ".join(preparer.quote(name) for name in names)
    sql = f"INSERT INTO {preparer.format_table(table)} ({columns}) VALUES ({', '.join(markers)})"
    json_positions = [index for index, json_column in enumerate(is_json) if json_column]
    dumps = json.dumps
    params = []
    for row in rows:
        values = list(row)
        for index in json_positions:
            values[index] = dumps(values[index])
        params.append(tuple(values))
    if params:
        session.connection().exec_driver_sql(sql, params)
