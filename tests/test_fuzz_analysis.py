"""Hostile CSVs through every analysis command, in process (issue 10).

Hypothesis draws a real data set (srma.datasets, tests/fixtures/hostile),
mutates it (extreme magnitudes, NaN, inf, blank and text cells, negative
variances, duplicated, missing and renamed columns, k = 0, 1, 2 and large k,
control characters in labels, quoted newlines, BOMs, semicolons, decimal
commas: tests/fuzz/analysis_campaign.py) and runs one of meta, subgroup,
metareg, sensitivity, bias, policy, forest, funnel or report on it.  Each run
must either succeed with JSON whose estimates are numbers wherever k > 0 (and
tau² null only with a reason), or fail with one ``error:`` line that names the
file, and the row and column where the problem is in a cell; never a
traceback, never a hang, never a DL or REML answer that 50-digit arithmetic
contradicts.  ``SRMA_FUZZ_EXAMPLES`` sets the number of cases (``make fuzz``
runs thousands; the default keeps this file to seconds).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent / "fuzz"))
from analysis_campaign import (
    GOOD,
    HOSTILE,
    Case,
    HypothesisChooser,
    Layout,
    Outcome,
    Table,
    classify,
    data_arguments,
    draw_case,
    render,
    seed_tables,
)

from srma.cli import app

EXAMPLES = int(os.environ.get("SRMA_FUZZ_EXAMPLES", "25"))
#: A case that runs longer than this is a hang (the slowest ordinary case takes a few seconds).
HANG_SECONDS = 120
SEEDS = seed_tables()


class Hang(BaseException):
    """Raised by the alarm: not an Exception, so that no handler in srma swallows it."""


def _alarm(signum: int, frame: object) -> None:
    raise Hang


@st.composite
def cases(draw: st.DrawFn) -> Case:
    return draw_case(HypothesisChooser(draw), SEEDS)


def run_in_process(case: Case, folder: Path) -> tuple[str, str]:
    path = folder / case.file_name
    path.write_bytes(render(case.table, case.shape))
    arguments = [a.replace("{out}", str(folder)) for a in case.arguments]
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(HANG_SECONDS)
    start = time.perf_counter()
    result = None
    try:
        result = CliRunner().invoke(app, [case.command, str(path), *arguments])
        outcome = Outcome(result.exit_code, result.stdout, result.stderr, 0.0)
    except Hang:
        outcome = Outcome(None, "", "", time.perf_counter() - start)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    if result is not None and outcome.exit_code not in (0, 1) and result.exception is not None:
        raise result.exception  # a bug that escaped srma's error handling: show its traceback
    return classify(case, outcome, str(path))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(case=cases())
def test_every_analysis_command_survives_hostile_csvs(case: Case, tmp_path_factory) -> None:
    folder = tmp_path_factory.mktemp("case")
    category, detail = run_in_process(case, folder)
    assert category in GOOD, f"{category}: {detail}\n{case.command} {case.describe()}"


#: The fixtures in tests/fixtures/hostile that are effect tables (the others, raw counts or
#: broken layouts, have their own tests in test_hostile_csv.py).
FIXTURES = [t for t in SEEDS if (HOSTILE / f"{t.name}.csv").exists()]


@pytest.mark.parametrize("table", FIXTURES, ids=lambda t: t.name)
@pytest.mark.parametrize("command", ["meta", "subgroup", "metareg", "sensitivity", "bias"])
def test_the_hostile_fixtures_through_every_command(
    tmp_path: Path, table: Table, command: str
) -> None:
    """The regression inputs themselves, unmutated, through each light command."""
    extra = {"subgroup": ["--by", "g"], "metareg": ["--mods", "~ x"]}.get(command, [])
    case = Case(table, Layout(), command, [*data_arguments(table.kind), *extra, "--json"])
    category, detail = run_in_process(case, tmp_path)
    assert category in GOOD, f"{category}: {detail}"
