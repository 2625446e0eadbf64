"""Exporting a project's records with their screening outcome (CSV, or RIS for reference managers).

A row per unique record (merged duplicates are listed under the record they
were merged into): its bibliographic fields, the outcome at title and
abstract and at full text, each reviewer's latest decision and reason, and
any resolution, all replayed from the decision log.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import rispy
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import (
    STAGES,
    duplicate_links,
    kept_record,
    latest_decisions,
    load_events,
    records_at_stage,
    resolutions,
    stage_outcomes,
)
from srma.review.project import Project
from srma.store import ImportBatch, RecordRow

OUTCOMES = ("include", "exclude", "conflict", "pending", "not reached")


def screening_table(session: Session, project: Project) -> pd.DataFrame:
    """Every unique record with its outcome and decisions at each stage."""
    events = load_events(session)
    rows = session.execute(
        select(RecordRow, ImportBatch.source).join(ImportBatch).order_by(RecordRow.id)
    ).all()
    ids = [row.id for row, _ in rows]
    required = project.protocol.reviewers_per_record
    links = duplicate_links(events)
    merged: dict[int, list[int]] = {}
    for record in links:
        merged.setdefault(kept_record(links, record), []).append(record)
    columns: dict[str, dict[int, object]] = {}
    for stage in STAGES:
        eligible = records_at_stage(events, ids, stage=stage, required=required)
        outcome = stage_outcomes(events, eligible, stage=stage, required=required)
        decided = latest_decisions(events, stage)
        settled = resolutions(events, stage)
        columns[f"{stage}_outcome"] = {r: outcome.get(r, "not reached") for r in ids}
        columns[f"{stage}_decisions"] = {
            r: "; ".join(
                f"{name}: {e.decision}" + (f" ({e.reason})" if e.reason else "")
                for name, e in sorted(decided.get(r, {}).items())
            )
            for r in ids
        }
        columns[f"{stage}_resolution"] = {
            r: (f"{settled[r].decision} by {settled[r].reviewer}" if r in settled else "")
            for r in ids
        }
    table = []
    for row, source in rows:
        if row.id in links:
            continue
        entry: dict[str, object] = {
            "record_id": row.id,
            "title": row.title,
            "authors": "; ".join(row.authors),
            "year": row.year,
            "journal": row.journal,
            "volume": row.volume,
            "issue": row.issue,
            "pages": row.pages,
            "doi": row.doi,
            "pmid": row.pmid,
            "abstract": row.abstract,
            "source": source,
            "merged_duplicates": "; ".join(str(d) for d in sorted(merged.get(row.id, []))),
        }
        for name, values in columns.items():
            entry[name] = values[row.id]
        table.append(entry)
    return pd.DataFrame(table)


def select_outcome(table: pd.DataFrame, stage: str, outcomes: Sequence[str]) -> pd.DataFrame:
    """The rows whose outcome at ``stage`` is one of ``outcomes``."""
    unknown = sorted(set(outcomes) - set(OUTCOMES))
    if unknown:
        raise InputError(f"unknown outcome {unknown}; expected some of {', '.join(OUTCOMES)}")
    return table[table[f"{stage}_outcome"].isin(outcomes)]


def _without_empty(reference: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in reference.items() if value not in ("", [], None)}


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """CSV (``.csv``) or RIS (``.ris``; outcome and decisions go into notes)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table.to_csv(path, index=False)
    elif suffix == ".ris":
        references = [
            _without_empty(
                {
                    "type_of_reference": "JOUR",
                    "title": row["title"],
                    "authors": [a for a in str(row["authors"]).split("; ") if a],
                    "year": "" if pd.isna(row["year"]) else str(int(row["year"])),
                    "secondary_title": row["journal"],
                    "volume": row["volume"],
                    "number": row["issue"],
                    "start_page": row["pages"],
                    "doi": row["doi"],
                    "abstract": row["abstract"],
                    "id": str(row["record_id"]),
                    "notes": [
                        f"{stage}: {row[f'{stage}_outcome']}"
                        + (f" ({row[f'{stage}_decisions']})" if row[f"{stage}_decisions"] else "")
                        for stage in STAGES
                    ],
                }
            )
            for _, row in table.iterrows()
        ]
        path.write_text(rispy.dumps(references), encoding="utf-8")
    else:
        raise InputError(f"{path}: export to .csv or .ris")
    return path
