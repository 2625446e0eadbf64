"""A living review's analyses re-run at every update (srma.review.synthesize.history, srma
living-history): update 1 is the review as it stood just before the next search was imported,
and it equals the analysis run at that time; the last update is the review now; the table is
the same here, on a process pool and on Dask, for several projects at once."""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

from conftest import srma
from srma.review.project import open_project
from srma.review.synthesize.history import living_history, update_moments
from srma.scale.run import map_tasks
from test_analyze_project import prepared
from test_extract_helpers import resolve_misread

END = "ER  - "  # the RIS end tag, with its space
LATER_SEARCH = f"""TY  - JOUR
TI  - BCG revaccination in adolescents: a randomised trial
AB  - Adolescents were randomised to BCG revaccination or placebo.
PY  - 2019
{END}
"""


def _analysed(project: Path) -> dict:
    """What `srma analyze --json` gives for the tuberculosis outcome now."""
    found = json.loads(srma("analyze", project, "--json"))
    (outcome,) = [o for o in found["outcomes"] if o["outcome"] == "tuberculosis"]
    return outcome


@pytest.fixture
def living(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, dict, dict]:
    """The example analysed, then a later search imported and Hart 1977's misread number
    resolved, then analysed again: (project, first analysis, second analysis)."""
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    project = prepared(tmp_path)
    first = _analysed(project)
    later = tmp_path / "update_2019.ris"
    later.write_text(LATER_SEARCH)
    srma("import", project, later, "--source", "PubMed")
    resolve_misread(project)
    return project, first, _analysed(project)


def _row(table: pd.DataFrame, project: Path, update: int) -> pd.Series:
    rows = table[(table["project"] == str(project)) & (table["update"] == update)
                 & (table["outcome"] == "tuberculosis")]  # fmt: skip
    assert len(rows) == 1
    return rows.iloc[0]


def test_each_update_is_the_review_as_it_stood_then(living: tuple[Path, dict, dict]) -> None:
    project, first, second = living
    opened = open_project(project)
    with opened.store.transaction() as session:
        updates = update_moments(session)
    opened.close()
    assert [(u.number, u.imports) for u in updates] == [(1, 1), (2, 2)]
    assert updates[0].until is not None and updates[1].until is None
    table = living_history([project])
    for update, then in ((1, first), (2, second)):
        row = _row(table, project, update)
        result = then["result"]
        assert row["data_version"] == then["data_version"]
        assert row["k"] == result["k"]
        for field in ("estimate", "ci_lower", "ci_upper", "tau2", "i2"):
            assert row[field] == pytest.approx(result[field], rel=1e-12), field
    assert _row(table, project, 1)["estimate"] != _row(table, project, 2)["estimate"]


def test_the_same_table_here_on_a_pool_and_on_dask_for_many_projects(
    living: tuple[Path, dict, dict], tmp_path: Path
) -> None:
    project, _first, _second = living
    other = tmp_path / "copy"
    shutil.copytree(project, other)  # a second project (its own SQLite database)
    here = living_history([project, other])
    pooled = living_history([project, other], run=partial(map_tasks, workers=2))
    pd.testing.assert_frame_equal(here, pooled, check_exact=True)
    on_dask = living_history([project, other], run=partial(map_tasks, scheduler="local", workers=2))
    pd.testing.assert_frame_equal(here, on_dask, check_exact=True)
    assert list(here["project"].unique()) == [str(project), str(other)]
    ours = here[here["project"] == str(project)].drop(columns="project").reset_index(drop=True)
    copied = here[here["project"] == str(other)].drop(columns="project").reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, copied, check_exact=True)


def test_the_command_writes_the_table(living: tuple[Path, dict, dict], tmp_path: Path) -> None:
    project, first, _second = living
    out = tmp_path / "history.csv"
    srma("living-history", project, "-o", out)
    table = pd.read_csv(out)
    assert list(table["update"].unique()) == [1, 2]
    assert _row(table, project, 1)["data_version"] == first["data_version"]
    assert "write the history to a .csv" in srma("living-history", project, "-o",
                                                 tmp_path / "h.txt", code=1)  # fmt: skip
