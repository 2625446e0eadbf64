"""A simulation study of meta-analysis methods, read from ``study.toml``.

A study is a grid of data-generating scenarios (every combination of the
values listed under ``[scenarios]``), a list of methods to compare (every
combination under ``[methods]``), a number of repetitions per scenario, a
fixed block size and a seed::

    [study]
    name = "tau² estimators"
    seed = 20261203
    repetitions = 10000
    block = 1000            # repetitions per block: the unit of seeding and of storage
    level = 0.95

    [scenarios]
    data = ["continuous"]   # or "binary" (2x2 tables)
    k = [5, 10, 20]
    tau2 = [0.0, 0.05, 0.2]
    effect = [0.0, 0.5]     # the true mean effect (log OR or log RR for binary data)
    within = ["small"]      # names of [within.NAME] tables below
    bias = [0.0]            # small-study effect: y_i shifted by bias * sqrt(v_i)
                            # (binary: the true effect, by bias * the null standard error)

    [within.small]          # within-study variances
    distribution = "chisq"  # v = shift + scale * chi²(df)
    df = 1
    scale = 0.25
    shift = 0.0

    [methods]
    tau2 = ["EE", "DL", "REML"]   # pooling methods (EE, the tau² estimators, MH, PETO)
    test = ["z", "knha"]
    pi_type = ["riley"]

Within-study distributions: ``fixed`` (``value``: every study has variance
``value``), ``uniform`` (``low``, ``high``), ``chisq`` (``df``, ``scale``,
``shift``) for continuous data; ``sample_size`` (``low``, ``high``: ``n``
per arm uniform on the integers, and for continuous data ``v = 2 / n``, a
mean difference of unit-variance outcomes) for either kind, with
``baseline_risk`` (``low``, ``high``: the control-arm risk, uniform) and
``measure`` (``OR`` or ``RR``) for binary data.

Everything is checked here, once; a bad study raises
:class:`srma.errors.InputError` naming the file and the key.
"""

from __future__ import annotations

import itertools
import json
import math
import tomllib
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from srma.errors import InputError
from srma.vocabulary import (
    PI_TYPES,
    TAU2_METHODS,
    TESTS,
    canonical_method,
)

#: Kinds of simulated data.
DATA_KINDS = ("continuous", "binary")

#: Distributions of within-study variances, with their parameters, and the kinds they serve.
WITHIN_DISTRIBUTIONS = {
    "fixed": (("value",), ("continuous",)),
    "uniform": (("low", "high"), ("continuous",)),
    "chisq": (("df", "scale", "shift"), ("continuous",)),
    "sample_size": (("low", "high"), ("continuous", "binary")),
}

#: Binary effect measures that can be simulated (the true effect is on the log scale).
SIMULATED_BINARY_MEASURES = ("OR", "RR")

#: Pooling methods from 2x2 tables (binary data only).
COUNT_POOLING = ("MH", "PETO")

#: The scenario factors, in the order of the nested loop (outermost first).
SCENARIO_FACTORS = ("data", "k", "tau2", "effect", "within", "bias")


@dataclass(frozen=True)
class Within:
    """How the within-study variances (or sample sizes) of one scenario are drawn."""

    name: str
    distribution: str
    value: float = math.nan
    low: float = math.nan
    high: float = math.nan
    df: float = math.nan
    scale: float = 1.0
    shift: float = 0.0
    baseline_low: float = math.nan
    baseline_high: float = math.nan
    measure: str = "OR"


@dataclass(frozen=True)
class Scenario:
    """One data-generating mechanism: ``k`` studies with true effects ``effect + u_i``,
    ``u_i ~ N(0, tau2)``, within-study variances drawn by ``within``, and a small-study
    shift ``bias * sqrt(v_i)`` (binary data: ``bias`` times the study's standard error under
    no effect, :mod:`srma.scale.generate`)."""

    index: int
    data: str
    k: int
    tau2: float
    effect: float
    within: Within
    bias: float

    def label(self) -> str:
        """A short readable name, e.g. ``k=10, tau2=0.1, effect=0, within=small``."""
        parts = [f"k={self.k}", f"tau2={self.tau2:g}", f"effect={self.effect:g}",
                 f"within={self.within.name}"]  # fmt: skip
        if self.bias:
            parts.append(f"bias={self.bias:g}")
        if self.data != "continuous":
            parts.insert(0, f"{self.data} {self.within.measure}")
        return ", ".join(parts)

    def factors(self) -> dict[str, Any]:
        """The scenario's value of every factor of the grid (within by its name)."""
        return {"data": self.data, "k": self.k, "tau2": self.tau2, "effect": self.effect,
                "within": self.within.name, "bias": self.bias}  # fmt: skip


@dataclass(frozen=True)
class Method:
    """One analysis to compare: a pooling method with a test and a prediction-interval type.

    ``MH`` and ``PETO`` (binary data) pool the 2x2 tables (z test, no prediction interval).
    """

    method: str
    test: str
    pi_type: str

    @property
    def label(self) -> str:
        if self.method in COUNT_POOLING:
            return self.method
        return f"{self.method} {self.test}"


@dataclass(frozen=True)
class Study:
    """A simulation study: scenarios x methods x repetitions, seeded once."""

    name: str
    seed: int
    repetitions: int
    block: int
    level: float
    scenarios: tuple[Scenario, ...]
    methods: tuple[Method, ...]

    @property
    def blocks(self) -> int:
        """Blocks of repetitions per scenario (the last one may be shorter)."""
        return -(-self.repetitions // self.block)

    def block_size(self, block: int) -> int:
        """Repetitions in block ``block`` (0-based)."""
        return min(self.block, self.repetitions - block * self.block)

    def fingerprint(self) -> str:
        """The study as canonical JSON: a results folder belongs to one fingerprint."""
        return json.dumps(asdict(self), sort_keys=True, default=str)


def load_study(path: str | Path) -> Study:
    """Read and check ``study.toml`` (see the module docstring for its layout)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise InputError(f"not valid TOML: {error}", file=str(path)) from None
    try:
        return parse_study(raw)
    except InputError as error:
        raise error.with_file(str(path)) from None


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise InputError(f"[{name}] table is missing")
    return value


def _list(table: dict[str, Any], where: str, key: str, default: list[Any] | None = None) -> list:
    value = table.get(key, default)
    if value is None:
        raise InputError(f"{where} {key}: missing (a list of values)")
    values = value if isinstance(value, list) else [value]
    if not values:
        raise InputError(f"{where} {key}: must list at least one value")
    return values


def _number(value: Any, where: str, *, integer: bool = False, low: float | None = None,
            low_open: bool = False) -> Any:  # fmt: skip
    kind = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kind) or not math.isfinite(value):
        raise InputError(f"{where}: must be {'an integer' if integer else 'a number'}, "
                         f"got {value!r}")  # fmt: skip
    if low is not None and (value <= low if low_open else value < low):
        raise InputError(f"{where}: must be {'>' if low_open else '>='} {low:g}, got {value!r}")
    return value if integer else float(value)


def _within(name: str, table: Any) -> Within:
    where = f"[within.{name}]"
    if not isinstance(table, dict):
        raise InputError(f"{where} table is missing (named in [scenarios] within)")
    distribution = table.get("distribution")
    if distribution not in WITHIN_DISTRIBUTIONS:
        raise InputError(f"{where} distribution: must be one of "
                         f"{', '.join(WITHIN_DISTRIBUTIONS)}, got {distribution!r}")  # fmt: skip
    needed, _ = WITHIN_DISTRIBUTIONS[distribution]
    optional = {"scale": 1.0, "shift": 0.0}
    values: dict[str, Any] = {}
    for key in needed:
        if key not in table and key not in optional:
            raise InputError(f"{where} {key}: missing (distribution {distribution!r} needs "
                             f"{', '.join(needed)})")  # fmt: skip
        values[key] = _number(table.get(key, optional.get(key)), f"{where} {key}", low=0.0)
    if distribution == "fixed" and values["value"] <= 0:
        raise InputError(f"{where} value: must be > 0, got {values['value']!r}")
    if distribution in ("uniform", "sample_size") and not values["low"] <= values["high"]:
        raise InputError(f"{where}: low must be <= high, got {values['low']} and {values['high']}")
    if distribution == "uniform" and values["low"] <= 0:
        raise InputError(f"{where} low: must be > 0 (a variance), got {values['low']!r}")
    if distribution == "sample_size" and (values["low"] < 2 or values["low"] != int(values["low"])
                                          or values["high"] != int(values["high"])):  # fmt: skip
        raise InputError(f"{where}: low and high must be integers >= 2 (patients per arm)")
    if distribution == "chisq" and (values["df"] <= 0 or values["scale"] <= 0):
        raise InputError(f"{where}: df and scale must be > 0")
    if distribution == "chisq" and values["shift"] < 0:
        raise InputError(f"{where} shift: must be >= 0")
    extra = {}
    if "baseline_risk" in table:
        risk = table["baseline_risk"]
        if not (isinstance(risk, list) and len(risk) == 2):
            raise InputError(f"{where} baseline_risk: must be [low, high], got {risk!r}")
        low, high = (_number(r, f"{where} baseline_risk", low=0.0, low_open=True) for r in risk)
        if not low <= high < 1:
            raise InputError(f"{where} baseline_risk: need 0 < low <= high < 1, got {risk!r}")
        extra = {"baseline_low": low, "baseline_high": high}
    measure = str(table.get("measure", "OR")).upper()
    if measure not in SIMULATED_BINARY_MEASURES:
        raise InputError(f"{where} measure: must be one of "
                         f"{', '.join(SIMULATED_BINARY_MEASURES)}, got {measure!r}")  # fmt: skip
    unknown = set(table) - {"distribution", "baseline_risk", "measure", *needed}
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return Within(name=name, distribution=distribution, measure=measure, **values, **extra)


def _scenarios(raw: dict[str, Any]) -> tuple[Scenario, ...]:
    table = _table(raw, "scenarios")
    where = "[scenarios]"
    unknown = set(table) - set(SCENARIO_FACTORS)
    if unknown:
        raise InputError(f"{where}: unknown factor(s) {', '.join(sorted(unknown))}; "
                         f"expected {', '.join(SCENARIO_FACTORS)}")  # fmt: skip
    kinds = _list(table, where, "data", ["continuous"])
    for kind in kinds:
        if kind not in DATA_KINDS:
            raise InputError(f"{where} data: must be one of {', '.join(DATA_KINDS)}, got {kind!r}")
    ks = [_number(k, f"{where} k", integer=True, low=2) for k in _list(table, where, "k")]
    tau2s = [_number(t, f"{where} tau2", low=0.0) for t in _list(table, where, "tau2")]
    effects = [_number(e, f"{where} effect") for e in _list(table, where, "effect", [0.0])]
    biases = [_number(b, f"{where} bias") for b in _list(table, where, "bias", [0.0])]
    within_tables = raw.get("within", {})
    names = _list(table, where, "within")
    withins = [_within(str(name), within_tables.get(name)) for name in names]
    scenarios = []
    for kind, k, tau2, effect, within, bias in itertools.product(
        kinds, ks, tau2s, effects, withins, biases
    ):
        _, serves = WITHIN_DISTRIBUTIONS[within.distribution]
        if kind not in serves:
            raise InputError(f"[within.{within.name}] distribution {within.distribution!r} "
                             f"cannot generate {kind} data")  # fmt: skip
        if kind == "binary" and math.isnan(within.baseline_low):
            raise InputError(f"[within.{within.name}] baseline_risk: binary data need "
                             "baseline_risk = [low, high]")  # fmt: skip
        scenarios.append(Scenario(len(scenarios), kind, k, tau2, effect, within, bias))
    return tuple(scenarios)


def _methods(raw: dict[str, Any], scenarios: tuple[Scenario, ...]) -> tuple[Method, ...]:
    table = _table(raw, "methods")
    where = "[methods]"
    unknown = set(table) - {"tau2", "test", "pi_type"}
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    allowed = ("EE", *TAU2_METHODS, *COUNT_POOLING)
    kinds = {s.data for s in scenarios}
    measures = {s.within.measure for s in scenarios if s.data == "binary"}
    pooling = []
    for name in _list(table, where, "tau2"):
        method = canonical_method(str(name))
        if method not in allowed:
            raise InputError(f"{where} tau2: must be one of {', '.join(allowed)}, got {name!r}")
        if method in COUNT_POOLING and kinds != {"binary"}:
            raise InputError(f"{where} tau2: {method} pools 2x2 tables; it needs binary data "
                             "in every scenario")  # fmt: skip
        if method == "PETO" and measures - {"OR"}:
            raise InputError(f"{where} tau2: PETO pools odds ratios; every [within] table "
                             'of the study needs measure = "OR"')  # fmt: skip
        pooling.append(method)
    tests = [str(t) for t in _list(table, where, "test", ["z"])]
    pi_types = [str(p) for p in _list(table, where, "pi_type", ["riley"])]
    for test in tests:
        if test not in TESTS:
            raise InputError(f"{where} test: must be one of {', '.join(TESTS)}, got {test!r}")
    for pi_type in pi_types:
        if pi_type not in PI_TYPES:
            raise InputError(f"{where} pi_type: must be one of {', '.join(PI_TYPES)}, "
                             f"got {pi_type!r}")  # fmt: skip
    if len(pi_types) > 1:
        raise InputError(f"{where} pi_type: give one prediction-interval type per study")
    methods: list[Method] = []
    for method in dict.fromkeys(pooling):
        if method in COUNT_POOLING:
            methods.append(Method(method, "z", pi_types[0]))
            continue
        for test in dict.fromkeys(tests):
            methods.append(Method(method, test, pi_types[0]))
    return tuple(methods)


def parse_study(raw: dict[str, Any]) -> Study:
    """A :class:`Study` from the parsed TOML (a ``dict``), checked."""
    head = _table(raw, "study")
    unknown = set(raw) - {"study", "scenarios", "within", "methods"}
    if unknown:
        raise InputError(f"unknown table(s) {', '.join(sorted(unknown))}")
    name = str(head.get("name", "simulation study"))
    for key in ("seed", "repetitions"):
        if key not in head:
            raise InputError(f"[study] {key}: missing")
    seed = _number(head["seed"], "[study] seed", integer=True, low=0)
    repetitions = _number(head["repetitions"], "[study] repetitions", integer=True, low=1)
    block = _number(head.get("block", 1000), "[study] block", integer=True, low=1)
    level = _number(head.get("level", 0.95), "[study] level", low=0.0, low_open=True)
    if level >= 1:
        raise InputError(f"[study] level: must be < 1, got {level!r}")
    scenarios = _scenarios(raw)
    methods = _methods(raw, scenarios)
    return Study(name, seed, repetitions, block, level, scenarios, methods)
