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
    mid = 0.5                         # optional GRADE inputs: minimal important difference,
    assumed_risk = 0.2                #   control-group risk (0 < r < 1, binary outcomes),
    importance = "critical"           #   critical, important or not important,
    follow_up = "90 days"             #   follow-up as text,
    indirectness = -1                 #   0, -1 or -2, with
    indirectness_reason = "..."       #   the reason (needed when not 0)
    # network = true                  # a network outcome: arms lists its treatments,
                                      #   the reference first (docs/network.md)

    [risk_of_bias]
    tool = "rob2"                     # rob1, rob2, robins-i, syrcle, quadas2
    level = "result"                  # "study" or "result" (per study x outcome)

    [analysis]
    policy = "huang2024"              # one of srma.vocabulary.POLICY_NAMES, or "custom"
    planned = ["random-effects meta-analysis", "leave-one-out", "Egger's test"]
    sensitivity = ["leave-one-out", "exclude high risk of bias"]   # SENSITIVITY_ANALYSES
    small_study_min_k = 10            # fewest studies for small-study tests (Handbook 13.3.5.4)

    [analysis.custom]                 # policy = "custom": AnalysisPolicy's fields
    i2_threshold = 50                 # random effects when I² >= 50%; leave out: never by I²
    always_random = false
    random_method = "REML"            # a tau² estimator (srma.vocabulary.TAU2_METHODS)
    common_method_continuous = "EE"   # EE; for binary data also MH or PETO
    common_method_binary = "MH"
    test = "knha"                     # srma.vocabulary.TESTS
    leave_one_out = "if_random"       # never, if_random, always
    small_study_tests = true
    prediction_interval = true
    measures = {continuous = "SMD", binary = "RR"}

    [[subgroups]]
    name = "species"
    description = "..."
    field = "species"                 # an [[extraction.fields]] name (default: the name)

    [[metaregressions]]
    name = "dose"                     # default: the moderators joined by " + "
    moderators = ["dose"]             # [[extraction.fields]] names

    [grade]
    design = "randomised"             # randomised, observational or preclinical

The outcome's ``measure`` is the measure analysed whatever the policy would
choose; a policy chooses the model and the follow-ups (:mod:`srma.review.synthesize`).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

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
from srma.vocabulary import MEASURES, POLICY_NAMES, TAU2_METHODS, TESTS

if TYPE_CHECKING:
    from srma.analysis.policies import AnalysisPolicy

DIRECTIONS = ("lower is better", "higher is better")
#: The sensitivity analyses ``[analysis] sensitivity`` may plan.
SENSITIVITY_ANALYSES = ("leave-one-out", "exclude high risk of bias")
#: Default fewest studies for tests for small-study effects: Cochrane Handbook 13.3.5.4
#: (tests "should be used only when there are at least 10 studies").
SMALL_STUDY_MIN_K = 10
#: GRADE: the body of evidence's study design (``[grade] design``) and outcome importance.
GRADE_DESIGNS = ("randomised", "observational", "preclinical")
IMPORTANCE = ("critical", "important", "not important")
#: The policy name that reads ``[analysis.custom]``.
CUSTOM_POLICY = "custom"


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
    mid: float | None = None
    assumed_risk: float | None = None
    importance: str = ""
    follow_up: str = ""
    indirectness: int = 0
    indirectness_reason: str = ""
    #: a network outcome: ``arms`` are its treatments (the reference first), every study's
    #: arms are analysed together by :func:`srma.network_meta` (docs/network.md)
    network: bool = False


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
    """A planned subgroup analysis by an extracted characteristic, ``field``."""

    name: str
    description: str
    field: str = ""


@dataclass(frozen=True)
class MetaRegression:
    """A planned meta-regression on extracted characteristics (``moderators``)."""

    name: str
    moderators: tuple[str, ...]
    description: str = ""


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
    sensitivity: tuple[str, ...] = ()
    small_study_min_k: int = SMALL_STUDY_MIN_K
    custom_policy: Mapping[str, object] | None = None
    metaregressions: tuple[MetaRegression, ...] = ()
    design: str = ""

    def analysis_policy(self) -> AnalysisPolicy | None:
        """The policy the protocol names (shipped, or written in ``[analysis.custom]``)."""
        from srma.analysis.policies import custom_policy, get_policy

        if self.policy is None:
            return None
        if self.policy == CUSTOM_POLICY:
            return custom_policy(**dict(self.custom_policy or {}))
        return get_policy(self.policy)

    def field(self, name: str) -> ExtractionField | None:
        """The ``[[extraction.fields]]`` entry called ``name``, if any."""
        return next((f for f in self.extraction.fields if f.name == name), None)

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
                 "time_points": list, "arms": list, "multi_arm": str, "mid": float,
                 "assumed_risk": float, "importance": str, "follow_up": str,
                 "indirectness": int, "indirectness_reason": str, "network": bool},
    "analysis": {"policy": str, "planned": list, "sensitivity": list, "small_study_min_k": int,
                 "custom": object},
    "analysis.custom": {"i2_threshold": float, "always_random": bool, "random_method": str,
                        "common_method_continuous": str, "common_method_binary": str,
                        "test": str, "leave_one_out": str, "small_study_tests": bool,
                        "prediction_interval": bool, "measures": object},
    "subgroups": {"name": str, "description": str, "field": str},
    "metaregressions": {"name": str, "moderators": list, "description": str},
    "grade": {"design": str},
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
    "metaregressions": ("moderators",),
}
_ARRAYS = ("outcomes", "subgroups", "metaregressions", "extraction.fields")


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
        elif expected is float and (isinstance(value, bool) or not isinstance(value, int | float)):
            problems.append((line, f"{key} must be a number"))
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
    optional = ("analysis", "extraction", "risk_of_bias", "grade")
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
                **_grade_inputs(index, table, lines, problems),
            )
        )
    names = [o.name for o in outcomes]
    for repeated_name in sorted({n for n in names if names.count(n) > 1}):
        problems.append((None, f"outcome {repeated_name!r} is defined twice"))
    analysis = tables.get("analysis", {})
    policy = analysis.get("policy")
    if isinstance(policy, str) and policy not in (*POLICY_NAMES, CUSTOM_POLICY):
        line = lines.of("analysis", 0, "policy")
        known = ", ".join((*POLICY_NAMES, CUSTOM_POLICY))
        problems.append((line, f"unknown policy {policy!r}; expected one of {known}"))
    plan = _analysis_plan(analysis, policy, lines, problems)
    subgroups = _subgroups(arrays["subgroups"], extraction, lines, problems)
    metaregressions = _metaregressions(arrays["metaregressions"], extraction, lines, problems)
    design = tables.get("grade", {}).get("design", "")
    if isinstance(design, str) and design and design not in GRADE_DESIGNS:
        problems.append((lines.of("grade", 0, "design"),
                         f"design must be one of: {', '.join(GRADE_DESIGNS)}"))  # fmt: skip
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
        subgroups=subgroups,
        path=name,
        extraction=extraction,
        risk_of_bias=risk_of_bias,
        metaregressions=metaregressions,
        design=str(design or ""),
        **plan,
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
    if table.get("network") is True:
        found.update(_network_outcome(index, table, found, lines, problems))
        return found
    if arms is not None and _arms(arms, lines.of("outcomes", index, "arms"), problems):
        found["arms"] = tuple(v.strip() for v in arms)  # type: ignore[union-attr]
    rule = table.get("multi_arm")
    if rule is not None and _rule(rule, lines.of("outcomes", index, "multi_arm"), problems):
        found["multi_arm"] = rule
    return found


#: The measures a network outcome may use: arm-level data (srma.network_meta's arm tables).
NETWORK_MEASURES: dict[str, tuple[str, ...]] = {
    "continuous": ("MD", "SMD"),
    "binary": ("OR", "RR", "RD"),
}


def _network_outcome(
    index: int,
    table: dict[str, object],
    found: dict[str, object],
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> dict[str, object]:
    """A network outcome's keys: ``arms`` lists its treatments (the reference first, at
    least two), the data are per arm (continuous or binary) and a study's arms of one
    treatment are combined (``multi_arm = "combine"``)."""
    line = lines.of("outcomes", index, "network")
    arms, data, measure = table.get("arms"), found.get("data"), table.get("measure")
    treatments = tuple(v.strip() for v in arms) if _strings(arms) else ()  # type: ignore[union-attr]
    if len(treatments) < 2 or len(set(treatments)) != len(treatments) or "" in treatments:
        problems.append((lines.of("outcomes", index, "arms") or line,
                         "a network outcome's arms list its treatments, each once, the "
                         "reference first (at least two)"))  # fmt: skip
    if data not in NETWORK_MEASURES:
        problems.append((line, "a network outcome needs data per arm: data = \"continuous\" "
                               "or \"binary\""))  # fmt: skip
    elif measure not in NETWORK_MEASURES[str(data)]:
        allowed = ", ".join(NETWORK_MEASURES[str(data)])
        problems.append((line, f"a network outcome of {data} data uses one of {allowed}, "
                               f"not {measure}"))  # fmt: skip
    rule = table.get("multi_arm", "combine")
    if rule != "combine":
        problems.append((lines.of("outcomes", index, "multi_arm") or line,
                         'a network outcome keeps every arm: multi_arm must be "combine" '
                         "(arms of one treatment in a study are combined)"))  # fmt: skip
    return {"arms": treatments or found["arms"], "multi_arm": "combine", "network": True}


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


def _analysis_plan(
    analysis: dict[str, object],
    policy: object,
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> dict[str, object]:
    """``[analysis]``'s sensitivity analyses, ``small_study_min_k`` and ``[analysis.custom]``."""
    sensitivity = _texts(analysis, "sensitivity")
    for name in sensitivity:
        if name not in SENSITIVITY_ANALYSES:
            problems.append(
                (
                    lines.of("analysis", 0, "sensitivity"),
                    f"unknown sensitivity analysis {name!r}; expected: "
                    f"{', '.join(SENSITIVITY_ANALYSES)}",
                )
            )
    min_k = analysis.get("small_study_min_k", SMALL_STUDY_MIN_K)
    if isinstance(min_k, int) and not isinstance(min_k, bool) and min_k < 3:
        problems.append(
            (
                lines.of("analysis", 0, "small_study_min_k"),
                "small_study_min_k must be at least 3 (the tests need 3 studies)",
            )
        )
    custom = analysis.get("custom")
    found: dict[str, object] | None = None
    if custom is not None:
        found = dict(_check_table("analysis.custom", 0, custom, lines, problems))
        if policy != CUSTOM_POLICY:
            problems.append(
                (
                    lines.of("analysis.custom"),
                    '[analysis.custom] is read only with policy = "custom"',
                )
            )
        _check_custom(found, lines, problems)
    elif policy == CUSTOM_POLICY:
        problems.append(
            (
                lines.of("analysis", 0, "policy"),
                'policy = "custom" needs an [analysis.custom] table',
            )
        )
    return {
        "sensitivity": tuple(n for n in sensitivity if n in SENSITIVITY_ANALYSES),
        "small_study_min_k": min_k if isinstance(min_k, int) else SMALL_STUDY_MIN_K,
        "custom_policy": found if policy == CUSTOM_POLICY else None,
    }


#: The measures ``[analysis.custom] measures`` may give per data type.
_CUSTOM_MEASURES = {"continuous": DATA_TYPES["continuous"], "binary": DATA_TYPES["binary"]}
_CHOICES = {
    "random_method": tuple(TAU2_METHODS),
    "common_method_continuous": ("EE",),
    "common_method_binary": ("EE", "MH", "PETO"),
    "test": TESTS,
    "leave_one_out": ("never", "if_random", "always"),
}


def _check_custom(
    table: dict[str, object], lines: _Lines, problems: list[tuple[int | None, str]]
) -> None:
    """The values of ``[analysis.custom]`` (their types are checked by the schema)."""
    for key, allowed in _CHOICES.items():
        value = table.get(key)
        if isinstance(value, str) and value not in allowed:
            problems.append(
                (lines.of("analysis.custom", 0, key), f"{key} must be one of: {', '.join(allowed)}")
            )
    threshold = table.get("i2_threshold")
    number = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if number and not 0 <= threshold <= 100:  # type: ignore[operator]
        problems.append(
            (
                lines.of("analysis.custom", 0, "i2_threshold"),
                "i2_threshold is a percentage, from 0 to 100",
            )
        )
    measures = table.pop("measures", None)
    if measures is None:
        return
    line = lines.of("analysis.custom", 0, "measures")
    if not isinstance(measures, dict):
        problems.append((line, 'measures must be a table: {continuous = "SMD", binary = "RR"}'))
        return
    for kind, measure in measures.items():
        if kind not in _CUSTOM_MEASURES:
            problems.append(
                (line, f"measures: unknown data type {kind!r}; expected continuous, binary")
            )
        elif measure not in _CUSTOM_MEASURES[kind]:
            problems.append(
                (
                    line,
                    f"measures: {kind} data give "
                    f"{', '.join(_CUSTOM_MEASURES[kind])}, not {measure!r}",
                )
            )
        else:
            table[f"{kind}_measure"] = measure


def _field_names(extraction: Extraction) -> str:
    return ", ".join(f.name for f in extraction.fields) or "none"


def _subgroups(
    entries: list[dict[str, object]],
    extraction: Extraction,
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> tuple[Subgroup, ...]:
    """``[[subgroups]]``; an explicit ``field`` must name an ``[[extraction.fields]]`` entry
    (a subgroup without one, named after no field, is reported by the analysis)."""
    names = {f.name for f in extraction.fields}
    found = []
    for index, table in enumerate(entries):
        name = str(table.get("name", "")).strip()
        field = table.get("field")
        if isinstance(field, str) and field.strip() not in names:
            problems.append(
                (
                    lines.of("subgroups", index, "field"),
                    f"no [[extraction.fields]] entry is called {field!r}; the fields "
                    f"are: {_field_names(extraction)}",
                )
            )
        chosen = field.strip() if isinstance(field, str) else name
        found.append(Subgroup(name, str(table.get("description", "")), chosen))
    return tuple(found)


def _metaregressions(
    entries: list[dict[str, object]],
    extraction: Extraction,
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> tuple[MetaRegression, ...]:
    """``[[metaregressions]]``: each moderator an ``[[extraction.fields]]`` name."""
    names = {f.name for f in extraction.fields}
    found = []
    for index, table in enumerate(entries):
        moderators = _texts(table, "moderators")
        for moderator in moderators:
            if moderator not in names:
                problems.append(
                    (
                        lines.of("metaregressions", index, "moderators"),
                        f"moderator {moderator!r} is not an [[extraction.fields]] "
                        f"name; the fields are: {_field_names(extraction)}",
                    )
                )
        for repeated in _repeated(moderators):
            problems.append(
                (
                    lines.of("metaregressions", index, "moderators"),
                    f"moderator {repeated!r} is listed twice",
                )
            )
        name = str(table.get("name", "")).strip() or " + ".join(moderators)
        found.append(MetaRegression(name, moderators, str(table.get("description", ""))))
    return tuple(found)


def _grade_inputs(
    index: int,
    table: dict[str, object],
    lines: _Lines,
    problems: list[tuple[int | None, str]],
) -> dict[str, object]:
    """An outcome's GRADE inputs: ``mid``, ``assumed_risk``, ``importance``, ``follow_up``,
    ``indirectness`` and its reason (types checked by the schema)."""
    found: dict[str, object] = {}

    def where(key: str) -> int | None:
        return lines.of("outcomes", index, key)

    mid = table.get("mid")
    if isinstance(mid, int | float) and not isinstance(mid, bool):
        if mid <= 0:
            problems.append((where("mid"), "mid (minimal important difference) must be above 0"))
        found["mid"] = float(mid)
    risk = table.get("assumed_risk")
    if isinstance(risk, int | float) and not isinstance(risk, bool):
        if not 0 < risk < 1:
            problems.append((where("assumed_risk"), "assumed_risk is a risk: above 0, below 1"))
        found["assumed_risk"] = float(risk)
    importance = table.get("importance")
    if isinstance(importance, str):
        if importance not in IMPORTANCE:
            problems.append(
                (where("importance"), f"importance must be one of: {', '.join(IMPORTANCE)}")
            )
        found["importance"] = importance
    if isinstance(table.get("follow_up"), str):
        found["follow_up"] = str(table["follow_up"]).strip()
    level = table.get("indirectness", 0)
    reason = str(table.get("indirectness_reason", "")).strip()
    if isinstance(level, int) and not isinstance(level, bool):
        if level not in (0, -1, -2):
            problems.append((where("indirectness"), "indirectness must be 0, -1 or -2"))
        elif level and not reason:
            problems.append(
                (where("indirectness"), "indirectness below 0 needs its indirectness_reason")
            )
        found["indirectness"] = level
    found["indirectness_reason"] = reason
    return found
