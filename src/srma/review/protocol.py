"""The review protocol, ``review.toml``: question, eligibility, exclusion reasons, outcomes, plan.

A protocol is read with :mod:`tomllib` and validated here in one pass that
collects every problem, each named by file and line, so a user fixes them all
at once.  Unknown keys are errors (a misspelt ``exlusion_reasons`` must not be
ignored).  The result is a frozen :class:`Protocol`.

Layout (every table but ``[subgroups]``, ``[analysis]``, ``[extraction]`` and
``[risk_of_bias]`` is required)::

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

    [extraction]                      # what to extract (optional; see docs/extraction.md)
    arms = ["MSC", "control"]         # the comparison's groups: experimental, comparator
    multi_arm = "combine"             # a trial with more arms: combine, choose or split

    [[extraction.fields]]             # one per study characteristic
    name = "cell source"
    type = "choice"                   # text, number, choice or date
    choices = ["bone marrow", "adipose tissue", "umbilical cord"]
    required = true                   # must be filled before a study is submitted
                                      # (a number field may give its unit: unit = "days")

    [[outcomes]]
    name = "infarct size"
    measure = "SMD"                   # one of srma.analysis.effect_sizes.MEASURES
    direction = "lower is better"     # or "higher is better"
    primary = true
    data = "continuous"               # continuous, binary, time-to-event or generic
    time_points = ["90 days"]         # a row per study x arm x time point
    arms = ["MSC", "control"]         # default: [extraction] arms
    multi_arm = "combine"             # default: [extraction] multi_arm

    [risk_of_bias]
    tool = "rob2"                     # rob1, rob2, robins-i, syrcle, quadas2
    level = "result"                  # "study" or "result" (per study x outcome)

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
from srma.review.extract.vocabulary import (
    DATA_TYPES,
    DEFAULT_DATA_TYPE,
    EXPORT_COLUMNS,
    FIELD_TYPES,
    MULTI_ARM_RULES,
    ROB_LEVELS,
    column_name,
)
from srma.vocabulary import MEASURES, POLICY_NAMES

DIRECTIONS = ("lower is better", "higher is better")


@dataclass(frozen=True)
class Question:
    """The review question as PICO."""

    population: str
    intervention: str
    comparator: str
    outcome: str


#: The comparison's groups when the protocol names none.
DEFAULT_ARMS = ("intervention", "control")


@dataclass(frozen=True)
class Outcome:
    """An outcome the review extracts, with its effect measure and direction.

    ``data`` is what is extracted for it (continuous, binary, time-to-event,
    generic; None for measures no form collects, COR and ZCOR), at each of
    ``time_points`` (``("",)``: one unnamed time point), for the comparison of
    the two ``arms`` (experimental first); ``multi_arm`` says how a trial with
    more arms enters that comparison.
    """

    name: str
    measure: str
    direction: str
    primary: bool
    data: str | None = None
    time_points: tuple[str, ...] = ("",)
    arms: tuple[str, ...] = DEFAULT_ARMS
    multi_arm: str = "combine"


@dataclass(frozen=True)
class ExtractionField:
    """A study characteristic to extract (``[[extraction.fields]]``)."""

    name: str
    type: str
    choices: tuple[str, ...] = ()
    unit: str = ""
    required: bool = False

    @property
    def column(self) -> str:
        """Its column in exports (:func:`~srma.review.extract.vocabulary.column_name`)."""
        return column_name(self.name)


@dataclass(frozen=True)
class Extraction:
    """What to extract per study: characteristics, the comparison's arms, the multi-arm rule."""

    fields: tuple[ExtractionField, ...] = ()
    arms: tuple[str, ...] = DEFAULT_ARMS
    multi_arm: str = "combine"


@dataclass(frozen=True)
class RiskOfBias:
    """The risk-of-bias tool (a name :func:`srma.review.appraise.risk_of_bias.get_tool`
    knows) and whether it judges each study or each result."""

    tool: str
    level: str


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
    extraction: Extraction = Extraction()
    risk_of_bias: RiskOfBias | None = None

    def outcome(self, name: str) -> Outcome:
        """The outcome called ``name`` (exactly, or else ignoring case)."""
        for outcome in self.outcomes:
            if outcome.name == name:
                return outcome
        for outcome in self.outcomes:
            if outcome.name.lower() == name.strip().lower():
                return outcome
        known = ", ".join(o.name for o in self.outcomes)
        raise InputError(f"unknown outcome {name!r}; the protocol's outcomes are: {known}")


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
    "outcomes": {"name": str, "measure": str, "direction": str, "primary": bool, "data": str,
                 "time_points": list, "arms": list, "multi_arm": str},
    "analysis": {"policy": str, "planned": list},
    "subgroups": {"name": str, "description": str},
    "extraction": {"arms": list, "multi_arm": str, "fields": object},
    "extraction.fields": {"name": str, "type": str, "choices": list, "unit": str,
                          "required": bool},
    "risk_of_bias": {"tool": str, "level": str},
}  # fmt: skip
_REQUIRED = {
    "review": ("title",),
    "question": ("population", "intervention", "outcome"),
    "eligibility": ("include",),
    "screening": ("exclusion_reasons",),
    "outcomes": ("name", "measure", "direction"),
    "subgroups": ("name",),
    "extraction.fields": ("name", "type"),
    "risk_of_bias": ("tool", "level"),
}
_ARRAYS = ("outcomes", "subgroups", "extraction.fields")


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
        if key not in _SCHEMA or "." in key:
            expected = ", ".join(_SCHEMA)
            problems.append((lines.of(key), f"unknown table [{key}]; expected: {expected}"))
    tables: dict[str, dict[str, object]] = {}
    optional = ("analysis", "extraction", "risk_of_bias")
    for key in ("review", "question", "eligibility", "screening", *optional):
        if key in raw:
            tables[key] = _check_table(key, 0, raw[key], lines, problems)
        elif key not in optional:
            problems.append((None, f"missing table [{key}]"))
    arrays: dict[str, list[dict[str, object]]] = {}
    for key in _ARRAYS:
        entries = (
            raw.get(key, []) if "." not in key else tables.get("extraction", {}).get("fields", [])
        )
        if not isinstance(entries, list):
            problems.append((lines.of(key), f"{key} must be written as [[{key}]] tables"))
            entries = []
        arrays[key] = [_check_table(key, i, e, lines, problems) for i, e in enumerate(entries)]
    extraction = _extraction(tables.get("extraction", {}), arrays["extraction.fields"], lines,
                             problems)  # fmt: skip
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
                **_outcome_data(index, table, extraction, lines, problems),
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
    risk_of_bias = _risk_of_bias(tables.get("risk_of_bias"), lines, problems)
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
        extraction=extraction,
        risk_of_bias=risk_of_bias,
    )


def _repeated(values: tuple[str, ...]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _arms(value: object, line: int | None, problems: list[tuple[int | None, str]]) -> bool:
    """Whether ``value`` names the comparison's two groups (reporting why not)."""
    if not _strings(value):
        return False
    arms = tuple(v.strip() for v in value)  # type: ignore[union-attr]
    if len(arms) != 2 or len(set(arms)) != 2:
        problems.append((line, "arms must name the comparison's two groups: "
                               "experimental first, then comparator"))  # fmt: skip
        return False
    return True


def _rule(value: object, line: int | None, problems: list[tuple[int | None, str]]) -> bool:
    if isinstance(value, str) and value not in MULTI_ARM_RULES:
        problems.append((line, f"multi_arm must be one of: {', '.join(MULTI_ARM_RULES)}"))
        return False
    return isinstance(value, str)


def _extraction(
    table: dict[str, object],
    fields: list[dict[str, object]],
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> Extraction:
    """``[extraction]`` and its ``[[extraction.fields]]``, every problem reported."""
    arms = table.get("arms")
    arms_ok = arms is not None and _arms(arms, lines.of("extraction", 0, "arms"), problems)
    rule = table.get("multi_arm")
    rule_ok = rule is not None and _rule(rule, lines.of("extraction", 0, "multi_arm"), problems)
    found = []
    for index, entry in enumerate(fields):
        kind, choices = entry.get("type"), _texts(entry, "choices")
        where = lines.of("extraction.fields", index)
        if isinstance(kind, str) and kind and kind not in FIELD_TYPES:
            problems.append((lines.of("extraction.fields", index, "type"),
                             f"unknown field type {kind!r}; expected one of "
                             f"{', '.join(FIELD_TYPES)}"))  # fmt: skip
        if kind == "choice" and not choices:
            problems.append((where, "a choice field needs its choices"))
        if kind != "choice" and "choices" in entry:
            problems.append((lines.of("extraction.fields", index, "choices"),
                             "choices are given only for a choice field"))  # fmt: skip
        if kind != "number" and entry.get("unit"):
            problems.append((lines.of("extraction.fields", index, "unit"),
                             "a unit is given only for a number field"))  # fmt: skip
        for repeated in _repeated(choices):
            problems.append((lines.of("extraction.fields", index, "choices"),
                             f"choice {repeated!r} is listed twice"))  # fmt: skip
        field = ExtractionField(
            name=str(entry.get("name", "")).strip(), type=str(kind or ""), choices=choices,
            unit=str(entry.get("unit", "")).strip(), required=bool(entry.get("required", False)),
        )  # fmt: skip
        if field.name and field.column in EXPORT_COLUMNS:
            problems.append((lines.of("extraction.fields", index, "name"),
                             f"field name {field.name!r} is taken by a column of the export "
                             "(study, mean1, n1, ...); choose another"))  # fmt: skip
        found.append(field)
    columns = [f.column for f in found if f.name]
    for column in sorted({c for c in columns if columns.count(c) > 1}):
        names = " and ".join(repr(f.name) for f in found if f.column == column)
        problems.append((None, f"fields {names} would share the export column {column!r}"))
    return Extraction(
        fields=tuple(found),
        arms=tuple(v.strip() for v in arms) if arms_ok else DEFAULT_ARMS,  # type: ignore[union-attr]
        multi_arm=str(rule) if rule_ok else "combine",
    )


def _outcome_data(
    index: int,
    table: dict[str, object],
    extraction: Extraction,
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> dict[str, object]:
    """An outcome's extraction keys (data type, time points, arms, multi-arm rule)."""
    measure, data = table.get("measure"), table.get("data")
    found: dict[str, object] = {"arms": extraction.arms, "multi_arm": extraction.multi_arm}
    if isinstance(data, str):
        line = lines.of("outcomes", index, "data")
        if data not in DATA_TYPES:
            problems.append((line, f"unknown data type {data!r}; expected one of "
                                   f"{', '.join(DATA_TYPES)}"))  # fmt: skip
        elif isinstance(measure, str) and measure in MEASURES and measure not in DATA_TYPES[data]:
            problems.append((line, f"{data} data cannot give measure {measure}; they give "
                                   f"{', '.join(DATA_TYPES[data])}"))  # fmt: skip
        else:
            found["data"] = data
    elif isinstance(measure, str):
        found["data"] = DEFAULT_DATA_TYPE.get(measure)
    times = _texts(table, "time_points")
    if times:
        found["time_points"] = times
        for repeated in _repeated(times):
            line = lines.of("outcomes", index, "time_points")
            problems.append((line, f"time point {repeated!r} is listed twice"))
    arms = table.get("arms")
    if arms is not None and _arms(arms, lines.of("outcomes", index, "arms"), problems):
        found["arms"] = tuple(v.strip() for v in arms)  # type: ignore[union-attr]
    rule = table.get("multi_arm")
    if rule is not None and _rule(rule, lines.of("outcomes", index, "multi_arm"), problems):
        found["multi_arm"] = rule
    return found


def _risk_of_bias(
    table: dict[str, object] | None, lines: _Lines, problems: list[tuple[int | None, str]]
) -> RiskOfBias | None:
    """``[risk_of_bias]``: a tool srma knows and the level it judges at."""
    if not table:
        return None
    tool, level = table.get("tool"), table.get("level")
    if isinstance(tool, str) and tool:
        from srma.review.appraise.risk_of_bias import get_tool

        try:
            tool = get_tool(tool).name
        except InputError as error:
            problems.append((lines.of("risk_of_bias", 0, "tool"), error.reason))
    if isinstance(level, str) and level and level not in ROB_LEVELS:
        problems.append((lines.of("risk_of_bias", 0, "level"),
                         f"level must be one of: {', '.join(ROB_LEVELS)}"))  # fmt: skip
    return RiskOfBias(str(tool or ""), str(level or ""))
