"""The review protocol, ``review.toml``: question, eligibility, exclusion reasons, outcomes, plan.

A protocol is read with :mod:`tomllib` and validated here in one pass that
collects every problem, each named by file and line, so a user fixes them all
at once.  Unknown keys are errors (a misspelt ``exlusion_reasons`` must not be
ignored).  The result is a frozen :class:`Protocol`.

Layout (every table but ``[subgroups]`` and ``[analysis]`` is required)::

    [review]
    title = "..."
    reviewers_per_record = 2          # independent decisions needed per record

    [question]                        # PICO; comparator may be empty
    population = "..."
    intervention = "..."
    comparator = "..."
    outcome = "..."

    [eligibility]
    include = ["..."]                 # inclusion criteria, as text
    exclude = ["..."]

    [screening]
    exclusion_reasons = ["wrong population", "wrong intervention", ...]
    highlight_include = ["infarct", ...]   # terms shown in green while screening
    highlight_exclude = ["review", ...]    # terms shown in red

    [[outcomes]]
    name = "infarct size"
    measure = "SMD"                   # one of srma.analysis.effect_sizes.MEASURES
    direction = "lower is better"     # or "higher is better"
    primary = true

    [analysis]
    policy = "huang2024"              # one of srma.vocabulary.POLICY_NAMES
    planned = ["random-effects meta-analysis", "leave-one-out", "Egger's test"]

    [[subgroups]]
    name = "species"
    description = "..."
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from srma.errors import InputError
from srma.vocabulary import MEASURES, POLICY_NAMES

DIRECTIONS = ("lower is better", "higher is better")


@dataclass(frozen=True)
class Question:
    """The review question as PICO."""

    population: str
    intervention: str
    comparator: str
    outcome: str


@dataclass(frozen=True)
class Outcome:
    """An outcome the review extracts, with its effect measure and direction."""

    name: str
    measure: str
    direction: str
    primary: bool


@dataclass(frozen=True)
class Subgroup:
    """A planned subgroup analysis."""

    name: str
    description: str


@dataclass(frozen=True)
class Protocol:
    """A validated review protocol."""

    title: str
    reviewers_per_record: int
    question: Question
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    exclusion_reasons: tuple[str, ...]
    highlight_include: tuple[str, ...]
    highlight_exclude: tuple[str, ...]
    outcomes: tuple[Outcome, ...]
    policy: str | None
    planned_analyses: tuple[str, ...]
    subgroups: tuple[Subgroup, ...]
    path: str


class ProtocolError(InputError):
    """Every problem found in a protocol, one per line of the message."""

    def __init__(self, path: str, problems: list[tuple[int | None, str]]) -> None:
        self.problems = tuple(problems)
        lines = [
            f"{path}, line {line}: {message}" if line else f"{path}: {message}"
            for line, message in problems
        ]
        first_line = problems[0][0] if problems else None
        super().__init__("\n".join(lines) if lines else "invalid protocol")
        self.file, self.line = path, first_line


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "review": {"title": str, "reviewers_per_record": int},
    "question": {"population": str, "intervention": str, "comparator": str, "outcome": str},
    "eligibility": {"include": list, "exclude": list},
    "screening": {"exclusion_reasons": list, "highlight_include": list, "highlight_exclude": list},
    "outcomes": {"name": str, "measure": str, "direction": str, "primary": bool},
    "analysis": {"policy": str, "planned": list},
    "subgroups": {"name": str, "description": str},
}
_REQUIRED = {
    "review": ("title",),
    "question": ("population", "intervention", "outcome"),
    "eligibility": ("include",),
    "screening": ("exclusion_reasons",),
    "outcomes": ("name", "measure", "direction"),
    "subgroups": ("name",),
}
_ARRAYS = ("outcomes", "subgroups")


class _Lines:
    """Where tables and keys are in the TOML text (tomllib gives values, not positions)."""

    _HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[str, int], int] = {}
        self.keys: dict[tuple[str, int, str], int] = {}
        counts: dict[str, int] = {}
        table, index = "", 0
        for number, line in enumerate(text.splitlines(), start=1):
            header = self._HEADER.match(line)
            if header:
                table = header.group(2)
                if header.group(1) == "[[":
                    index = counts.get(table, -1) + 1
                    counts[table] = index
                else:
                    index = 0
                self.tables.setdefault((table, index), number)
                continue
            key = self._KEY.match(line)
            if key:
                self.keys.setdefault((table, index, key.group(1)), number)

    def of(self, table: str, index: int = 0, key: str | None = None) -> int | None:
        if key is not None and (table, index, key) in self.keys:
            return self.keys[(table, index, key)]
        return self.tables.get((table, index))


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def _check_table(
    name: str,
    index: int,
    table: object,
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> dict[str, object]:
    label = f"[[{name}]] number {index + 1}" if name in _ARRAYS else f"[{name}]"
    if not isinstance(table, dict):
        problems.append((lines.of(name, index), f"{label} must be a table"))
        return {}
    schema = _SCHEMA[name]
    for key, value in table.items():
        line = lines.of(name, index, key)
        if key not in schema:
            known = ", ".join(schema)
            problems.append((line, f"unknown key {key!r} in {label}; expected one of: {known}"))
            continue
        expected = schema[key]
        if expected is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append((line, f"{key} must be a whole number"))
        elif expected is list and not _strings(value):
            problems.append((line, f"{key} must be a list of non-empty strings"))
        elif expected is str and not isinstance(value, str):
            problems.append((line, f"{key} must be a string"))
        elif expected is bool and not isinstance(value, bool):
            problems.append((line, f"{key} must be true or false"))
    for key in _REQUIRED.get(name, ()):
        value = table.get(key)
        if value is None or value == "" or value == []:
            problems.append((lines.of(name, index), f"{label} needs {key!r}"))
    return table


def _texts(table: dict[str, object], key: str) -> tuple[str, ...]:
    value = table.get(key, [])
    return tuple(v.strip() for v in value) if _strings(value) else ()


def read_protocol(path: str | Path) -> Protocol:
    """Read and validate ``review.toml``; raise :class:`ProtocolError` listing every problem."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError("no protocol: the project folder has no review.toml", file=name)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ProtocolError(name, [(line, "the protocol must be UTF-8 text")]) from error
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"at line (\d+)", str(error))
        raise ProtocolError(
            name, [(int(match.group(1)) if match else None, f"not valid TOML: {error}")]
        ) from error
    return validate_protocol(raw, text, name)


def validate_protocol(raw: dict[str, object], text: str, name: str) -> Protocol:
    """Validate parsed TOML ``raw`` (``text`` is used only to find line numbers)."""
    lines = _Lines(text)
    problems: list[tuple[int | None, str]] = []
    for key in raw:
        if key not in _SCHEMA:
            expected = ", ".join(_SCHEMA)
            problems.append((lines.of(key), f"unknown table [{key}]; expected: {expected}"))
    tables: dict[str, dict[str, object]] = {}
    for key in ("review", "question", "eligibility", "screening", "analysis"):
        if key in raw:
            tables[key] = _check_table(key, 0, raw[key], lines, problems)
        elif key != "analysis":
            problems.append((None, f"missing table [{key}]"))
    arrays: dict[str, list[dict[str, object]]] = {}
    for key in _ARRAYS:
        entries = raw.get(key, [])
        if not isinstance(entries, list):
            problems.append((lines.of(key), f"{key} must be written as [[{key}]] tables"))
            entries = []
        arrays[key] = [_check_table(key, i, e, lines, problems) for i, e in enumerate(entries)]
    if not arrays["outcomes"]:
        problems.append((None, "the protocol needs at least one [[outcomes]] table"))
    review = tables.get("review", {})
    per_record = review.get("reviewers_per_record", 2)
    if isinstance(per_record, int) and not isinstance(per_record, bool) and per_record < 1:
        problems.append((lines.of("review", 0, "reviewers_per_record"), "must be at least 1"))
    reasons = _texts(tables.get("screening", {}), "exclusion_reasons")
    repeated = sorted({r for r in reasons if reasons.count(r) > 1})
    if repeated:
        line = lines.of("screening", 0, "exclusion_reasons")
        problems.append((line, f"exclusion reasons repeated: {', '.join(repeated)}"))
    outcomes = []
    for index, table in enumerate(arrays["outcomes"]):
        measure, direction = table.get("measure"), table.get("direction")
        if isinstance(measure, str) and measure and measure not in MEASURES:
            line = lines.of("outcomes", index, "measure")
            known = ", ".join(MEASURES)
            problems.append((line, f"unknown measure {measure!r}; expected one of {known}"))
        if isinstance(direction, str) and direction and direction not in DIRECTIONS:
            line = lines.of("outcomes", index, "direction")
            problems.append((line, f"direction must be one of: {', '.join(DIRECTIONS)}"))
        outcomes.append(
            Outcome(
                name=str(table.get("name", "")),
                measure=str(measure or ""),
                direction=str(direction or ""),
                primary=bool(table.get("primary", False)),
            )
        )
    names = [o.name for o in outcomes]
    for repeated_name in sorted({n for n in names if names.count(n) > 1}):
        problems.append((None, f"outcome {repeated_name!r} is defined twice"))
    analysis = tables.get("analysis", {})
    policy = analysis.get("policy")
    if isinstance(policy, str) and policy not in POLICY_NAMES:
        line = lines.of("analysis", 0, "policy")
        problems.append(
            (line, f"unknown policy {policy!r}; expected one of {', '.join(POLICY_NAMES)}")
        )
    if problems:
        problems.sort(key=lambda item: (item[0] is None, item[0] or 0))
        raise ProtocolError(name, problems)
    question = tables["question"]
    eligibility = tables["eligibility"]
    screening = tables["screening"]
    return Protocol(
        title=str(review["title"]),
        reviewers_per_record=int(per_record),
        question=Question(
            population=str(question["population"]),
            intervention=str(question["intervention"]),
            comparator=str(question.get("comparator", "")),
            outcome=str(question["outcome"]),
        ),
        include=_texts(eligibility, "include"),
        exclude=_texts(eligibility, "exclude"),
        exclusion_reasons=reasons,
        highlight_include=_texts(screening, "highlight_include"),
        highlight_exclude=_texts(screening, "highlight_exclude"),
        outcomes=tuple(outcomes),
        policy=policy if isinstance(policy, str) else None,
        planned_analyses=_texts(analysis, "planned"),
        subgroups=tuple(
            Subgroup(str(t["name"]), str(t.get("description", ""))) for t in arrays["subgroups"]
        ),
        path=name,
    )
