"""Every public analysis function rejects a bad value of every option, naming it.

Options are declared once (``srma.analysis.validation.OPTION_CONSTRAINTS``);
this test reads each function's signature, finds every parameter that is a
declared option, feeds it values its constraint must reject (wrong type, out
of range, not one of the choices, NaN...) with every other argument valid,
and checks that an :class:`InputError` names the function, the option and
the value.  A new option in a public function that nobody validates makes
this test fail.
"""

from __future__ import annotations

import inspect
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import srma
from srma.analysis import sensitivity
from srma.analysis.blup import blup, ranef
from srma.analysis.henmi_copas import henmi_copas
from srma.analysis.meta import tau2_confint
from srma.analysis.permutation import permutation_test
from srma.analysis.validation import (
    OPTION_CONSTRAINTS,
    Boolean,
    Constraint,
    Number,
    OneOf,
    Optional,
)
from srma.errors import InputError

YI = [0.1, 0.5, 0.3, 0.2, -0.1, 0.4]
VI = [0.04, 0.02, 0.05, 0.03, 0.06, 0.02]
FRAME = pd.DataFrame({"yi": YI, "vi": VI, "dose": [1, 2, 3, 4, 5, 6], "group": list("aabbab")})
COUNTS = pd.DataFrame(
    {
        "events1": [4, 6, 3, 8, 5, 7],
        "total1": [50, 60, 40, 70, 55, 65],
        "events2": [8, 9, 6, 12, 9, 10],
        "total2": [50, 60, 40, 70, 55, 65],
    }
)


#: A network of three treatments (a loop and a repeated pair), one row per arm.
NETWORK = pd.DataFrame(
    {
        "study": ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"],
        "treatment": ["a", "b", "b", "c", "a", "c", "a", "b"],
        "yi": [0.1, 0.4, 0.3, 0.9, 0.0, 0.7, 0.2, 0.3],
        "sei": [0.2, 0.25, 0.3, 0.2, 0.15, 0.3, 0.2, 0.2],
    }
)


def _result() -> srma.MetaResult:
    return srma.meta(YI, VI, method="DL")


#: Each public analysis function, called with valid arguments plus ``options``.
CALLS: dict[str, Callable[..., Any]] = {
    "meta": lambda **o: srma.meta(FRAME, **o),
    "meta_batch": lambda **o: srma.meta_batch([YI, YI], [VI, VI], **o),
    "meta_regression": lambda **o: srma.meta_regression(FRAME, "~ dose", **o),
    "subgroup_analysis": lambda **o: srma.subgroup_analysis(FRAME, "group", **o),
    "effect_sizes": lambda **o: srma.effect_sizes(COUNTS, o.pop("measure", "OR"), **o),
    "small_study_tests": lambda **o: srma.small_study_tests(_result(), **o),
    "egger_test": lambda **o: srma.egger_test(_result(), **o),
    "trim_and_fill": lambda **o: srma.trim_and_fill(_result(), **o),
    "fail_safe_n": lambda **o: srma.fail_safe_n(_result(), **o),
    "peters_test": lambda **o: srma.peters_test(COUNTS, **o),
    "harbord_test": lambda **o: srma.harbord_test(COUNTS, **o),
    "gosh": lambda **o: sensitivity.gosh(_result(), **o),
    "cumulative": lambda **o: sensitivity.cumulative(_result(), **o),
    "robust": lambda **o: srma.robust(_result(), ["a", "a", "b", "b", "c", "c"], **o),
    "vcalc": lambda **o: srma.vcalc(FRAME.assign(study=list("aabbcc")), obs="dose", rho=0.5, **o),
    "blup": lambda **o: blup(_result(), **o),
    "ranef": lambda **o: ranef(_result(), **o),
    "henmi_copas": lambda **o: henmi_copas(_result(), **o),
    "tau2_confint": lambda **o: tau2_confint(srma.meta(YI, VI, method="REML"), **o),
    "permutation_test": lambda **o: permutation_test(_result(), **o),
    "meta_mv": lambda **o: srma.meta_mv(FRAME, random="~ 1 | group", **o),
    "network_meta": lambda **o: srma.network_meta(NETWORK, **{"measure": "GEN", **o}),
}
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "meta": srma.meta,
    "meta_batch": srma.meta_batch,
    "meta_regression": srma.meta_regression,
    "subgroup_analysis": srma.subgroup_analysis,
    "effect_sizes": srma.effect_sizes,
    "small_study_tests": srma.small_study_tests,
    "egger_test": srma.egger_test,
    "trim_and_fill": srma.trim_and_fill,
    "fail_safe_n": srma.fail_safe_n,
    "peters_test": srma.peters_test,
    "harbord_test": srma.harbord_test,
    "gosh": sensitivity.gosh,
    "cumulative": sensitivity.cumulative,
    "robust": srma.robust,
    "vcalc": srma.vcalc,
    "blup": blup,
    "ranef": ranef,
    "henmi_copas": henmi_copas,
    "tau2_confint": tau2_confint,
    "permutation_test": permutation_test,
    "meta_mv": srma.meta_mv,
    "network_meta": srma.network_meta,
}
#: Parameters that only share an option's name: vcalc's ``type=`` names a column and its
#: ``rho=`` may be a matrix or a pair (vcalc checks them itself, tests/test_vcalc.py).
NOT_OPTIONS = {"vcalc": ("type", "rho")}
#: Public analysis functions that take no option at all (only a result).
WITHOUT_OPTIONS = (
    sensitivity.leave_one_out,
    sensitivity.influence_diagnostics,
    sensitivity.baujat,
)


def invalid_values(constraint: Constraint) -> list[Any]:
    """Values the constraint must reject."""
    if isinstance(constraint, Optional):
        return invalid_values(constraint.inner)
    if isinstance(constraint, OneOf):
        return ["no-such-choice", 3, ""]
    if isinstance(constraint, Boolean):
        return ["yes", 1]
    if isinstance(constraint, Number):
        values: list[Any] = [math.nan, math.inf, "0.5"]
        if constraint.low > -math.inf:
            values.append(constraint.low - 1)
            if constraint.low_open:
                values.append(constraint.low)
        if constraint.high < math.inf:
            values.append(constraint.high + 1)
            if constraint.high_open:
                values.append(constraint.high)
        if constraint.integer:
            values.append(constraint.low + 1.5)
        return values
    raise AssertionError(f"no invalid values known for {constraint!r}")


def _cases() -> list[tuple[str, str, Any]]:
    cases = []
    for name, function in FUNCTIONS.items():
        options = [
            p
            for p in inspect.signature(function).parameters
            if p in OPTION_CONSTRAINTS and p not in NOT_OPTIONS.get(name, ())
        ]
        assert options, f"{name} declares no option"
        for option in options:
            for value in invalid_values(OPTION_CONSTRAINTS[option]):
                cases.append((name, option, value))
    # narrower per-function constraints: MH and Peto need 2x2 tables
    cases += [("meta_batch", "method", "MH"), ("meta_regression", "method", "PETO")]
    cases += [("effect_sizes", "measure", "HR")]  # a label, not something computed
    # network_meta: its own methods and tests; a seed must be given (the default is fixed)
    cases += [("network_meta", "method", "PM"), ("network_meta", "test", "t")]
    cases += [("network_meta", "seed", None), ("network_meta", "measure", "SMD2")]
    return cases


@pytest.mark.parametrize(
    ("function", "option", "value"), _cases(), ids=lambda x: repr(x) if not callable(x) else ""
)
def test_every_public_function_names_the_bad_option(function: str, option: str, value: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError) as error:
            CALLS[function](**{option: value})
    message = str(error.value)
    assert message.startswith(f"{function}(): "), message
    assert option in message, message
    assert repr(value) in message, message


@pytest.mark.parametrize("function", list(FUNCTIONS))
def test_the_valid_baseline_call_runs(function: str) -> None:
    """The calls above fail because of the bad option, not because of the rest."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert CALLS[function]() is not None


def test_functions_without_options_take_only_a_result() -> None:
    for function in WITHOUT_OPTIONS:
        extra = [p for p in inspect.signature(function).parameters if p in OPTION_CONSTRAINTS]
        assert extra == [], function.__name__


def test_options_are_returned_in_canonical_form() -> None:
    from srma.analysis.validation import validate_options

    assert validate_options("meta", method="fe", measure="rr") == {"method": "EE", "measure": "RR"}
    assert validate_options("gosh", max_subsets=10.0)["max_subsets"] == 10
    assert np.isclose(srma.meta(YI, VI, method="reml").estimate, srma.meta(YI, VI).estimate)
