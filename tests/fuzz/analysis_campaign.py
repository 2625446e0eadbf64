"""Hostile CSVs through every analysis command: a campaign, and what the fuzz tests share.

Run as a script, it writes ``--cases`` hostile CSVs (real data sets mutated:
extreme magnitudes from 1e-320 to 1e308, NaN, inf, blank and text cells,
negative variances and SEs, duplicated, missing and renamed columns, k = 0,
1, 2 and large k, control and bidirectional characters in labels, quoted
newlines, byte-order marks, semicolons, decimal commas...) and runs the real
``srma`` command on each in a subprocess with a time limit, classifying every
run (:data:`CATEGORIES`)::

    PYTHONPATH=src python tests/fuzz/analysis_campaign.py --cases 1600 --seed 1 --jobs 2

Every run that is not ``correct`` or ``clear error`` is kept, with its input
and output, under ``--keep`` (default ``fuzz-findings/``), and the table of
categories is printed as Markdown.  ``tests/test_fuzz_analysis.py`` draws the
same cases through hypothesis (:class:`HypothesisChooser`) and runs them in
process.  Meta-analyses with k <= 12 by DL or REML are checked against 50-digit
arithmetic (mpmath): DL's closed form, and for REML that the root srma reports
solves the restricted likelihood equation.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

HERE = Path(__file__).resolve().parent
HOSTILE = HERE.parent / "fixtures" / "hostile"

#: How runs are classified; the first two are what srma must do.
CATEGORIES = (
    "correct",
    "clear error",
    "error without file, row or column",
    "traceback",
    "hang",
    "null or non-finite result",
    "converged but wrong",
    "other failure",
)
GOOD = ("correct", "clear error")
#: A run slower than this is listed (it is a hang only past ``--timeout``).
SLOW_SECONDS = 20.0


# --- choices: random for the campaign, hypothesis for the tests -------------------------------


class Chooser(Protocol):
    """Where the random choices come from."""

    def integer(self, low: int, high: int) -> int: ...

    def choice(self, options: Sequence[Any]) -> Any: ...

    def uniform(self, low: float, high: float) -> float: ...


class RandomChooser:
    """Choices from a seeded :class:`random.Random` (the campaign)."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)

    def integer(self, low: int, high: int) -> int:
        return self.random.randint(low, high)

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.random.randrange(len(options))]

    def uniform(self, low: float, high: float) -> float:
        return self.random.uniform(low, high)


class HypothesisChooser:
    """Choices drawn from hypothesis strategies (the tests: shrinkable, reproducible)."""

    def __init__(self, draw: Callable[[Any], Any]) -> None:
        from hypothesis import strategies as st

        self.draw = draw
        self.st = st

    def integer(self, low: int, high: int) -> int:
        return self.draw(self.st.integers(low, high))

    def choice(self, options: Sequence[Any]) -> Any:
        return options[self.draw(self.st.integers(0, len(options) - 1))]

    def uniform(self, low: float, high: float) -> float:
        return self.draw(self.st.floats(low, high, allow_nan=False, allow_infinity=False))


# --- seed tables: real data -------------------------------------------------------------------


@dataclass
class Table:
    """A study table as text cells, and what it holds (``kind``)."""

    name: str
    kind: str  # "MD" or "OR" (raw per-arm data), "yi/vi" or "yi/sei"
    header: list[str]
    rows: list[list[str]]

    def column(self, name: str) -> int | None:
        return self.header.index(name) if name in self.header else None

    def copy(self) -> Table:
        return replace(self, header=list(self.header), rows=[list(r) for r in self.rows])


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def _from_frame(name: str, kind: str, frame: Any) -> Table:
    return Table(
        name,
        kind,
        [str(c) for c in frame.columns],
        [[_cell(v) for v in row] for row in frame.itertuples(index=False)],
    )


def seed_tables() -> list[Table]:
    """The real data sets shipped with srma, as raw data and as effects, and the hostile
    fixtures; each with a subgroup column ``g`` and a moderator ``x``."""
    from srma import effect_sizes
    from srma.datasets import load

    tables = []
    normand = load("normand1999")
    normand["g"] = ["early" if i < 5 else "late" for i in range(len(normand))]
    normand["x"] = [float(i) for i in range(len(normand))]
    bcg = load("bcg")
    bcg["g"] = bcg["alloc"]
    bcg["x"] = bcg["ablat"].astype(float)
    tables.append(_from_frame("normand1999", "MD", normand))
    tables.append(_from_frame("bcg", "OR", bcg.drop(columns=["author", "alloc", "ablat"])))
    for name, frame, measure in (("normand1999", normand, "MD"), ("bcg", bcg, "OR")):
        effects = effect_sizes(frame, measure)
        vi = effects[["study", "yi", "vi", "g", "x"]]
        tables.append(_from_frame(f"{name}_yi_vi", "yi/vi", vi))
        sei = vi.assign(sei=vi["vi"] ** 0.5).drop(columns="vi")
        tables.append(_from_frame(f"{name}_yi_sei", "yi/sei", sei))
    for path in sorted(HOSTILE.glob("*.csv")):
        header, *rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
        if "yi" not in header or any(len(row) != len(header) for row in rows):
            continue  # raw counts, or a fixture of a broken layout
        rows = [[*row, "a" if i % 3 else "b", str(i)] for i, row in enumerate(rows)]
        kind = "yi/sei" if "sei" in header else "yi/vi"
        tables.append(Table(path.stem, kind, [*header, "g", "x"], rows))
    return tables


# --- mutations ----------------------------------------------------------------------------------

NUMERIC_ROLES = {
    "MD": ("n1", "mean1", "sd1", "n2", "mean2", "sd2", "x"),
    "OR": ("events1", "total1", "events2", "total2", "x", "year"),
    "yi/vi": ("yi", "vi", "x"),
    "yi/sei": ("yi", "sei", "x"),
}
SPREAD_ROLES = {"MD": ("sd1", "sd2", "n1"), "OR": ("total1", "events2"),
                "yi/vi": ("vi",), "yi/sei": ("sei",)}  # fmt: skip
SPECIAL_CELLS = ("NaN", "nan", "inf", "-inf", "Infinity", "", " ", "NA", "null", "abc", "1,5",
                 "0", "-0", "1e999", "-1e999", "0x10", " 3 ", "1e-400", "5e-324", "١٢")  # fmt: skip
NASTY_LABELS = (
    "\x1b[31mred\x1b[0m", "\u202eevil\u202c", "名前", "\U0001f600", "a\tb", "NA", "null",
    "N/A", "  padded", "=cmd|' /C calc'!A0", "<script>alert(1)</script>", "a\nb", "a\r\nb",
    "", "\x00nul", "\x07bell", '"quoted"', "semi;colon", "comma, here", "\u200b", "é" * 200,
)  # fmt: skip


def _numeric_column(table: Table, c: Chooser, spread_only: bool = False) -> int | None:
    roles = SPREAD_ROLES[table.kind] if spread_only else NUMERIC_ROLES[table.kind]
    present = [table.column(name) for name in roles if table.column(name) is not None]
    return c.choice(present) if present else None


def _row(table: Table, c: Chooser) -> int | None:
    return c.integer(0, len(table.rows) - 1) if table.rows else None


def _extreme(c: Chooser) -> str:
    exponent = c.integer(-320, 308)
    mantissa = c.choice(("1", "2.5", "9.99", "1.7976931348623157", "4.9"))
    return f"{c.choice(('', '-', ''))}{mantissa}e{exponent}"


def extreme_cell(table: Table, c: Chooser) -> str:
    column, row = _numeric_column(table, c), _row(table, c)
    if column is None or row is None:
        return "extreme cell (none)"
    table.rows[row][column] = _extreme(c)
    return f"extreme {table.header[column]}[{row + 1}] = {table.rows[row][column]}"


def scale_column(table: Table, c: Chooser) -> str:
    column = _numeric_column(table, c)
    if column is None:
        return "scale column (none)"
    factor = 10.0 ** c.integer(-320, 308)
    for row in table.rows:
        with contextlib.suppress(ValueError):  # a text cell stays text
            row[column] = repr(float(row[column]) * factor)
    return f"scale {table.header[column]} by {factor:g}"


def special_cell(table: Table, c: Chooser) -> str:
    column, row = c.integer(0, len(table.header) - 1), _row(table, c)
    if row is None:
        return "special cell (none)"
    table.rows[row][column] = c.choice(SPECIAL_CELLS)
    return f"special {table.header[column]}[{row + 1}] = {table.rows[row][column]!r}"


def negative_spread(table: Table, c: Chooser) -> str:
    column, row = _numeric_column(table, c, spread_only=True), _row(table, c)
    if column is None or row is None:
        return "negative (none)"
    cell = table.rows[row][column].strip()
    table.rows[row][column] = cell[1:] if cell.startswith("-") else "-" + (cell or "1")
    return f"negative {table.header[column]}[{row + 1}]"


def duplicate_column(table: Table, c: Chooser) -> str:
    column = c.integer(0, len(table.header) - 1)
    table.header.append(table.header[column])
    for row in table.rows:
        row.append(row[column] if c.integer(0, 1) else "")
    return f"duplicate column {table.header[column]}"


def drop_column(table: Table, c: Chooser) -> str:
    if len(table.header) <= 1:
        return "drop column (none)"
    column = c.integer(0, len(table.header) - 1)
    name = table.header.pop(column)
    for row in table.rows:
        row.pop(column)
    return f"drop column {name}"


def rename_column(table: Table, c: Chooser) -> str:
    column = c.integer(0, len(table.header) - 1)
    old = table.header[column]
    table.header[column] = c.choice((old.upper(), f" {old}", f"{old} ", "", "yі", old + "\u200b"))
    return f"rename column {old!r} to {table.header[column]!r}"


def few_rows(table: Table, c: Chooser) -> str:
    k = c.choice((0, 1, 2, 2, 3))
    table.rows = table.rows[:k]
    return f"k = {k}"


def many_rows(table: Table, c: Chooser) -> str:
    if not table.rows:
        return "many rows (none)"
    k = c.choice((50, 200, 1000, 3000))
    base = table.rows
    table.rows = [list(base[i % len(base)]) for i in range(k)]
    label = table.column("study")
    for i, row in enumerate(table.rows):
        if label is not None:
            row[label] = f"{row[label]} #{i}"
    return f"k = {k} (repeated)"


def nasty_label(table: Table, c: Chooser) -> str:
    column, row = table.column("study"), _row(table, c)
    if column is None or row is None:
        return "label (none)"
    table.rows[row][column] = c.choice(NASTY_LABELS)
    return f"label[{row + 1}] = {table.rows[row][column]!r}"


def swap_columns(table: Table, c: Chooser) -> str:
    a, b = c.integer(0, len(table.header) - 1), c.integer(0, len(table.header) - 1)
    for row in table.rows:
        row[a], row[b] = row[b], row[a]
    return f"swap values of {table.header[a]} and {table.header[b]}"


def groups(table: Table, c: Chooser) -> str:
    column = table.column("g")
    if column is None:
        return "groups (none)"
    how = c.choice(("one", "each", "blank", "unicode"))
    for i, row in enumerate(table.rows):
        row[column] = {"one": "a", "each": f"g{i}", "blank": "" if i % 2 else "a",
                       "unicode": c.choice(("α", "\x1b[2J", "a\nb", " a"))}[how]  # fmt: skip
    return f"groups: {how}"


def moderator(table: Table, c: Chooser) -> str:
    column = table.column("x")
    if column is None:
        return "moderator (none)"
    how = c.choice(("constant", "text", "huge offset", "tiny", "huge"))
    for i, row in enumerate(table.rows):
        row[column] = {"constant": "1", "text": c.choice(("low", "high")),
                       "huge offset": repr(1e20 + i), "tiny": repr(i * 1e-300),
                       "huge": repr(i * 1e300)}[how]  # fmt: skip
    return f"moderator: {how}"


def shuffle_rows(table: Table, c: Chooser) -> str:
    for i in range(len(table.rows) - 1, 0, -1):
        j = c.integer(0, i)
        table.rows[i], table.rows[j] = table.rows[j], table.rows[i]
    return "shuffle"


def ragged_row(table: Table, c: Chooser) -> str:
    row = _row(table, c)
    if row is None:
        return "ragged (none)"
    if c.integer(0, 1):
        table.rows[row] = table.rows[row][: c.integer(0, len(table.header) - 1)]
    else:
        table.rows[row] = table.rows[row] + ["extra"] * c.integer(1, 3)
    return f"ragged row {row + 1}"


MUTATIONS: tuple[Callable[[Table, Chooser], str], ...] = (
    extreme_cell, extreme_cell, extreme_cell, scale_column, scale_column, special_cell,
    special_cell, negative_spread, duplicate_column, drop_column, rename_column, few_rows,
    many_rows, nasty_label, nasty_label, swap_columns, groups, moderator, shuffle_rows,
    ragged_row,
)  # fmt: skip


@dataclass
class Layout:
    """How a table is written: separator, decimal comma, byte-order mark, line ends, suffix."""

    separator: str = ","
    decimal_comma: bool = False
    bom: bool = False
    newline: str = "\n"
    suffix: str = ".csv"

    def describe(self) -> str:
        parts = [f"sep {self.separator!r}", self.suffix]
        parts += ["decimal comma"] * self.decimal_comma + ["BOM"] * self.bom
        return ", ".join(parts + (["CRLF"] if self.newline == "\r\n" else []))


def layout(c: Chooser) -> Layout:
    shape = c.choice(("plain",) * 6 + ("semicolon", "decimal", "bom", "crlf", "tsv", "tab-csv"))
    return {
        "plain": Layout(),
        "semicolon": Layout(separator=";"),
        "decimal": Layout(separator=";", decimal_comma=True),
        "bom": Layout(bom=True),
        "crlf": Layout(newline="\r\n"),
        "tsv": Layout(separator="\t", suffix=".tsv"),
        "tab-csv": Layout(separator="\t"),
    }[shape]


_NUMBER = re.compile(r"^-?\d+\.\d+(e-?\d+)?$")


def render(table: Table, shape: Layout) -> bytes:
    """The table as the bytes of a CSV file."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=shape.separator, lineterminator=shape.newline)
    writer.writerow(table.header)
    for row in table.rows:
        if shape.decimal_comma:
            row = [cell.replace(".", ",") if _NUMBER.match(cell) else cell for cell in row]
        writer.writerow(row)
    text = out.getvalue()
    return (b"\xef\xbb\xbf" if shape.bom else b"") + text.encode("utf-8", "surrogatepass")


# --- commands -----------------------------------------------------------------------------------

METHODS = ("REML", "DL", "PM", "EE", "ML", "HE", "SJ", "HS", "PMM", "EB")
TESTS = ("z", "z", "knha", "t", "adhoc")
LIGHT = ("meta", "meta", "meta", "subgroup", "metareg", "sensitivity", "bias")
FIGURES = ("forest", "funnel", "report")
#: Figures and reports only for tables this small (drawing 3,000 studies is another test's job).
FIGURE_K = 40


@dataclass
class Case:
    """One hostile CSV and one command to run on it."""

    table: Table
    shape: Layout
    command: str
    arguments: list[str]
    mutations: list[str] = field(default_factory=list)

    @property
    def file_name(self) -> str:
        return f"{self.table.name}{self.shape.suffix}"

    def describe(self) -> str:
        return f"{self.file_name} [{self.shape.describe()}; {'; '.join(self.mutations)}]"


def data_arguments(kind: str) -> list[str]:
    return {"MD": ["--measure", "MD"], "OR": ["--measure", "OR"],
            "yi/vi": ["--yi", "yi", "--vi", "vi"],
            "yi/sei": ["--yi", "yi", "--sei", "sei"]}[kind]  # fmt: skip


def command_for(table: Table, c: Chooser) -> tuple[str, list[str]]:
    """A command and its options (the data file comes first, then these; ``{out}`` a folder)."""
    raw = table.kind in ("MD", "OR")
    commands = LIGHT * 3 + (("policy",) if raw else ())
    if len(table.rows) <= FIGURE_K:
        commands += FIGURES  # about one run in eight: they are the slowest to start
    command = c.choice(commands)
    if command == "policy":
        return command, ["--policy", c.choice(("huang2024", "hassanein2024", "modern")), "--json"]
    methods = METHODS + (("MH", "PETO") if table.kind == "OR" else ())
    model = ["--method", c.choice(methods), "--test", c.choice(TESTS)]
    data = data_arguments(table.kind)
    if command in FIGURES:
        output = {"forest": "forest.svg", "funnel": "funnel.svg", "report": "report.html"}
        return command, [*data, *model, "-o", "{out}/" + output[command]]
    extra = {
        "subgroup": ["--by", "g"] + (["--common-tau2"] if c.integer(0, 1) else []),
        "metareg": ["--mods", c.choice(("~ x", "~ factor(g)", "~ x + factor(g)"))],
    }.get(command, [])
    if command == "metareg" and model[1] in ("MH", "PETO"):
        model[1] = "REML"
    return command, [*data, *model, *extra, "--json"]


def draw_case(c: Chooser, seeds: Sequence[Table], most: int = 4) -> Case:
    """A seed table, up to ``most`` mutations, a layout and a command."""
    table = c.choice(seeds).copy()
    chosen = [c.choice(MUTATIONS) for _ in range(c.choice((*range(most + 1), 1, 2)))]
    # a ragged row last: the others assume rows as long as the header
    chosen.sort(key=lambda mutation: mutation is ragged_row)
    mutations = [mutation(table, c) for mutation in chosen]
    shape = layout(c)
    command, arguments = command_for(table, c)
    return Case(table, shape, command, arguments, mutations)


# --- classification -----------------------------------------------------------------------------

#: Words of an error about one cell: such a message must name its row and column.
CELL_WORDS = (
    "expected a number", "expected a finite number", "must be > 0", "is too small",
    "is out of range", "must be >= 0", "must be a whole number",
)  # fmt: skip


@dataclass(frozen=True)
class Outcome:
    """What one run did."""

    exit_code: int | None  # None: it ran out of time
    stdout: str
    stderr: str
    seconds: float


def _dicts(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value] + [d for item in value.values() for d in _dicts(item)]
    if isinstance(value, list):
        return [d for item in value for d in _dicts(item)]
    return []


def _result_problem(payload: Any) -> str | None:
    """What is wrong with a command's JSON: a null estimate with k > 0, k inconsistent..."""
    for d in _dicts(payload):
        if {"estimate", "se", "k", "method"} <= d.keys() and isinstance(d["k"], int):
            k = d["k"]
            if k > 0 and (d["estimate"] is None or d["se"] is None):
                return f"null estimate with k = {k}"
            for name in ("labels", "yi", "vi", "weights"):
                if isinstance(d.get(name), list) and len(d[name]) != k:
                    return f"k = {k} but {len(d[name])} {name}"
            random_effects = d["method"] not in ("EE", "MH", "PETO")
            if k >= 2 and random_effects and d.get("tau2") is None and not d.get("warnings"):
                return f"tau² null with k = {k} and no warning"
        coefficients = d.get("coefficients")
        if isinstance(coefficients, list) and any(r.get("estimate") is None for r in coefficients):
            return "a null coefficient"
    return None


def classify(case: Case, outcome: Outcome, path: str) -> tuple[str, str]:
    """``(category, detail)`` of one run (:data:`CATEGORIES`)."""
    output = outcome.stdout + outcome.stderr
    if outcome.exit_code is None:
        return "hang", f"no answer in {outcome.seconds:.0f} s"
    if "Traceback" in output or "unexpected " in outcome.stderr:
        line = next((x for x in outcome.stderr.splitlines() if "unexpected" in x), "")
        return "traceback", line or output[-300:]
    if "\x1b" in output:
        return "other failure", "an escape character reached the terminal"
    if outcome.exit_code == 0:
        if case.arguments[-1] != "--json":
            return "correct", "written"
        try:
            payload = json.loads(outcome.stdout)
        except json.JSONDecodeError as error:
            return "null or non-finite result", f"not JSON: {error}"
        problem = _result_problem(payload)
        if problem:
            return "null or non-finite result", problem
        wrong = reference_problem(case, payload)
        if wrong:
            return "converged but wrong", wrong
        return "correct", ""
    errors = [x for x in outcome.stderr.splitlines() if x.startswith("error:")]
    if outcome.exit_code != 1 or len(errors) != 1:
        return "other failure", f"exit {outcome.exit_code}: {outcome.stderr[-300:]!r}"
    message = errors[0]
    if path not in message and Path(path).name not in message:
        return "error without file, row or column", message
    cell = any(word in message for word in CELL_WORDS)
    if cell and not ("row " in message and "column " in message):
        return "error without file, row or column", message
    return "clear error", message


# --- the exact reference (mpmath) ---------------------------------------------------------------


def reference_problem(case: Case, payload: Any) -> str | None:
    """For ``meta`` by DL or REML with k <= 12: disagreement with 50-digit arithmetic."""
    if case.command != "meta" or not isinstance(payload, dict):
        return None
    method, k = payload.get("method"), payload.get("k")
    if method not in ("DL", "REML") or not isinstance(k, int) or not 2 <= k <= 12:
        return None
    import mpmath

    with mpmath.workdps(50):
        y = [mpmath.mpf(v) for v in payload["yi"]]
        v = [mpmath.mpf(x) for x in payload["vi"]]
        tau2 = payload["tau2"]

        def weights(t: Any) -> list[Any]:
            return [1 / (vi + t) for vi in v]

        def mean(t: Any) -> Any:
            w = weights(t)
            return mpmath.fsum(a * b for a, b in zip(w, y, strict=True)) / mpmath.fsum(w)

        def trace_p(w: list[Any]) -> Any:
            pairs = mpmath.fsum(w[i] * w[j] for i in range(k) for j in range(i + 1, k))
            return 2 * pairs / mpmath.fsum(w)

        def reml(t: Any) -> Any:
            w, mu = weights(t), mean(t)
            return mpmath.fsum(a * a * (b - mu) ** 2 for a, b in zip(w, y, strict=True)) - trace_p(
                w
            )

        if method == "DL":
            w0, mu0 = weights(0), mean(0)
            q = mpmath.fsum(a * (b - mu0) ** 2 for a, b in zip(w0, y, strict=True))
            exact = max(mpmath.mpf(0), (q - (k - 1)) / trace_p(w0))
            harmonic = k / mpmath.fsum(w0)
            if abs(tau2 - exact) > 1e-6 * exact + 1e-9 * harmonic:
                return f"DL tau² {tau2!r}, exact {float(exact)!r}"
        elif tau2 == 0:
            # rising at 0 by more than rounding (relative to tr P): a positive root was missed
            if reml(mpmath.mpf(0)) > 1e-9 * trace_p(weights(mpmath.mpf(0))):
                return "REML tau² 0, but the restricted likelihood rises at 0"
        else:
            t = mpmath.mpf(tau2)
            below, above = reml(t * (1 - mpmath.mpf(1e-6))), reml(t * (1 + mpmath.mpf(1e-6)))
            if not (below >= 0 >= above):
                return f"REML tau² {tau2!r} does not solve the REML equation"
        mu = mean(mpmath.mpf(tau2))
        scale = abs(mu) + max(abs(a - mu) for a in y) + mpmath.sqrt(min(v))
        if abs(payload["estimate"] - mu) > 1e-6 * scale:
            return f"estimate {payload['estimate']!r}, exact {float(mu)!r}"
    return None


# --- the campaign -------------------------------------------------------------------------------


def srma_command() -> list[str]:
    """The installed ``srma`` console script beside this Python (it honours PYTHONPATH)."""
    script = Path(sys.executable).with_name("srma")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from srma.cli import main; main()"]


@dataclass
class Run:
    """A case being run: its files, and the child process running ``srma`` on it."""

    seed: int
    case: Case
    path: Path
    arguments: list[str]
    start: float
    process: subprocess.Popen[bytes] | None = None  # --exec
    pid: int | None = None  # forked

    def start_exec(self) -> None:
        self.process = subprocess.Popen(
            [*srma_command(), self.case.command, str(self.path), *self.arguments],
            stdout=(self.path.parent / "stdout").open("wb"),
            stderr=(self.path.parent / "stderr").open("wb"),
            env={**os.environ, "COLUMNS": "200"},
        )

    def start_fork(self) -> None:
        """``srma`` in a child process forked from this one, which imported it once.

        The child is the real command line (``srma.cli.main``, its own process,
        standard output and error to files, its exit status), without the second
        of imports that would otherwise dominate a campaign of thousands of runs.
        """
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            self.pid = pid
            return
        code = 1
        try:
            for fd, name in ((1, "stdout"), (2, "stderr")):
                target = os.open(self.path.parent / name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
                os.dup2(target, fd)
            sys.argv = ["srma", self.case.command, str(self.path), *self.arguments]
            from srma.cli import main

            try:
                main()
                code = 0
            except SystemExit as stop:
                code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
            except BaseException:  # escaped srma's own handling: show it as srma would not
                import traceback

                traceback.print_exc()
                code = 1
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)

    def poll(self) -> int | None:
        """The exit status, or None while it runs."""
        if self.process is not None:
            return self.process.poll()
        assert self.pid is not None
        done, status = os.waitpid(self.pid, os.WNOHANG)
        return os.waitstatus_to_exitcode(status) if done else None

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
        elif self.pid is not None:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)

    def outcome(self, code: int | None) -> Outcome:
        read = lambda name: (self.path.parent / name).read_bytes().decode("utf-8", "replace")  # noqa: E731
        return Outcome(code, read("stdout"), read("stderr"), time.perf_counter() - self.start)


def prepare(seed: int, seeds: Sequence[Table], work: Path) -> Run:
    case = draw_case(RandomChooser(seed), seeds)
    folder = work / f"case{seed}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / case.file_name
    path.write_bytes(render(case.table, case.shape))
    arguments = [a.replace("{out}", str(folder)) for a in case.arguments]
    return Run(seed, case, path, arguments, time.perf_counter())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=200, help="number of runs")
    parser.add_argument("--seed", type=int, default=0, help="seed of the first case")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per run")
    parser.add_argument("--jobs", type=int, default=2, help="runs side by side")
    parser.add_argument("--exec", action="store_true",
                        help="start the srma console script for every run (default: fork "
                             "srma, imported once, for every run)")  # fmt: skip
    parser.add_argument("--keep", type=Path, default=Path("fuzz-findings"),
                        help="folder for the inputs and outputs of bad runs")  # fmt: skip
    parser.add_argument("--work", type=Path, default=None, help="scratch folder")
    options = parser.parse_args(argv)
    import tempfile

    if not options.exec:  # what the commands import when they run, imported once
        import srma.analysis.bias
        import srma.analysis.policies
        import srma.analysis.sensitivity
        import srma.cli
        import srma.figures.forest
        import srma.report.document  # noqa: F401
    seeds = seed_tables()
    work = options.work or Path(tempfile.mkdtemp(prefix="srma-fuzz-"))
    counts: Counter[str] = Counter()
    by_command: Counter[tuple[str, str]] = Counter()
    slowest = 0.0
    pending = list(range(options.seed, options.seed + options.cases))[::-1]
    running: list[Run] = []
    finished = 0
    while pending or running:
        while pending and len(running) < options.jobs:
            run = prepare(pending.pop(), seeds, work)
            run.start_exec() if options.exec else run.start_fork()
            running.append(run)
        time.sleep(0.02)
        for run in list(running):
            code = run.poll()
            late = time.perf_counter() - run.start > options.timeout
            if code is None and not late:
                continue
            if code is None:
                run.kill()
            running.remove(run)
            outcome = run.outcome(code)
            category, detail = classify(run.case, outcome, str(run.path))
            finished += 1
            counts[category] += 1
            by_command[(run.case.command, category)] += 1
            slowest = max(slowest, outcome.seconds)
            case = run.case
            if category not in GOOD:
                keep = options.keep / run.path.parent.name
                keep.mkdir(parents=True, exist_ok=True)
                (keep / run.path.name).write_bytes(run.path.read_bytes())
                (keep / "run.txt").write_text(
                    f"srma {case.command} {run.path.name} {' '.join(case.arguments)}\n"
                    f"{case.describe()}\n{category}: {detail}\n\n--- stdout\n{outcome.stdout}"
                    f"\n--- stderr\n{outcome.stderr}\n",
                    encoding="utf-8",
                )
                print(f"[{run.seed}] {category}: {case.command} {case.describe()}: {detail}",
                      flush=True)  # fmt: skip
            elif outcome.seconds > SLOW_SECONDS:
                print(f"[{run.seed}] slow ({outcome.seconds:.0f} s), {category}: "
                      f"{case.command} {case.describe()}", flush=True)  # fmt: skip
            elif finished % 100 == 0:
                print(f"[{finished}] {dict(counts)}", flush=True)
    commands = sorted({command for command, _ in by_command})
    print(f"\n{options.cases} runs, seeds {options.seed}..{options.seed + options.cases - 1}, "
          f"slowest {slowest:.1f} s\n")  # fmt: skip
    print("| category | " + " | ".join(commands) + " | all |")
    print("|---|" + "---:|" * (len(commands) + 1))
    for category in CATEGORIES:
        cells = [str(by_command[(command, category)]) for command in commands]
        print(f"| {category} | " + " | ".join(cells) + f" | {counts[category]} |")
    return 0 if all(counts[c] == 0 for c in CATEGORIES if c not in GOOD) else 1


if __name__ == "__main__":
    sys.exit(main())
