"""A living review's analyses re-run for every update, for many projects at once.

An update of a living review ends where the next search is imported: update ``i`` is the
review as it stood just before import ``i + 1`` was stored (its records, decisions,
extracted values, judgements and GRADE overrides as the log held them then), and the last
update is the review now. :func:`update_moments` lists the updates of one project;
:func:`rerun_update` runs every planned analysis of one project at one update
(:func:`srma.review.synthesize.project.analyze_project` on the log up to that moment, with
blinding and submissions as they were then); :func:`living_history` runs every update of
every project as tasks, one task per project and update, and returns one row per project,
update, outcome and time point. The tasks are run by the ``run`` given: the builtin ``map``
here, or :func:`srma.scale.run.map_tasks` on a process pool or Dask, as ``srma
living-history`` does (a batch of projects is a batch of analyses; the review layer does not
import the scale layer, so the command joins them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.review.decision_log import as_utc
from srma.review.project import open_project
from srma.store import ImportBatch

#: The columns of :func:`living_history`, in order.
COLUMNS = (
    "project", "update", "until", "imports", "outcome", "time_point", "measure", "k",
    "method", "test", "estimate", "ci_lower", "ci_upper", "tau2", "i2", "data_version", "note",
)  # fmt: skip

Rows = list[dict[str, object]]
#: Runs ``rerun_update`` over the tasks: ``map``, or :func:`srma.scale.run.map_tasks`.
Runner = Callable[[Callable[["UpdateTask"], Rows], Sequence["UpdateTask"]], Iterable[Rows]]

#: How far before the next import an update ends (the log's times are to the microsecond).
_BEFORE = timedelta(microseconds=1)


@dataclass(frozen=True)
class Update:
    """One update of a project: its number (from 1), the imports it holds and the moment it
    ended (``None``: the last update, the review now)."""

    number: int
    imports: int
    until: datetime | None


def update_moments(session: Session) -> tuple[Update, ...]:
    """Every update of the project in ``session``: one per import, ending just before the
    next import (the last: now). A project without imports has one update, now."""
    stored = session.scalars(select(ImportBatch.imported_at).order_by(ImportBatch.id)).all()
    times = [as_utc(moment) for moment in stored]
    updates = [Update(i + 1, i + 1, times[i + 1] - _BEFORE) for i in range(len(times) - 1)]
    return (*updates, Update(len(times) or 1, len(times), None))


@dataclass(frozen=True)
class UpdateTask:
    """What one task re-runs: a project (folder and database URL) at one update."""

    folder: str
    url: str | None
    update: Update


def rerun_update(task: UpdateTask) -> Rows:
    """Every planned analysis of ``task``'s project as it stood at the end of its update."""
    from srma.review.synthesize.project import analyze_project, review_inputs

    project = open_project(task.folder, url=task.url)
    try:
        with project.store.transaction() as session:
            inputs = review_inputs(session, project, until=task.update.until)
            analysis = analyze_project(session, project, inputs)
    finally:
        project.close()
    until = "now" if task.update.until is None else task.update.until.isoformat()
    rows = []
    for outcome in analysis.outcomes:
        result = None if outcome.policy is None else outcome.policy.result
        rows.append({
            "project": task.folder, "update": task.update.number, "until": until,
            "imports": task.update.imports, "outcome": outcome.outcome.name,
            "time_point": outcome.time_point, "measure": outcome.measure,
            "k": 0 if result is None else result.k,
            "method": None if result is None else result.method,
            "test": None if result is None else result.test,
            "estimate": None if result is None else result.estimate,
            "ci_lower": None if result is None else result.ci_lower,
            "ci_upper": None if result is None else result.ci_upper,
            "tau2": None if result is None else result.tau2,
            "i2": None if result is None else result.i2,
            "data_version": outcome.data_version,
            "note": "; ".join(outcome.notes) if result is None else "",
        })  # fmt: skip
    return rows


def update_tasks(folders: Sequence[str | Path], url: str | None = None) -> list[UpdateTask]:
    """A task for every update of every project in ``folders`` (``url``: one database URL for
    them all, else each folder's own)."""
    tasks = []
    for folder in folders:
        project = open_project(folder, url=url)
        try:
            with project.store.transaction() as session:
                updates = update_moments(session)
        finally:
            project.close()
        tasks += [UpdateTask(str(Path(folder)), url, update) for update in updates]
    return tasks


def living_history(
    folders: Sequence[str | Path],
    *,
    url: str | None = None,
    run: Runner = map,
) -> pd.DataFrame:
    """Every planned analysis of every project in ``folders`` at every update (one row per
    project, update, outcome and time point, in that order; columns :data:`COLUMNS`).

    ``run(rerun_update, tasks)`` yields each task's rows in any order (``map``; or
    ``functools.partial(srma.scale.run.map_tasks, scheduler=..., workers=...)``); the table
    is the same for any of them.
    """
    rows = [row for done in run(rerun_update, update_tasks(folders, url)) for row in done]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    order = {str(Path(folder)): i for i, folder in enumerate(folders)}
    table["_project"] = table["project"].map(order)
    table = table.sort_values(["_project", "update"], kind="stable").drop(columns="_project")
    return table.reset_index(drop=True)
