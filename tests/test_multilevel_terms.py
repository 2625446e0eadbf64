"""Random-effects formulas of srma.meta_mv: parsing, nested groupings, fixed values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from srma.analysis.multilevel_terms import (
    check_structure,
    fixed_values,
    grouping,
    parse_random,
    structures,
)
from srma.errors import InputError


def test_nested_intercepts_parse_outermost_first() -> None:
    formula = parse_random("~ 1 | district/school")
    assert formula.inner is None
    assert formula.outer == ("district", "school")
    assert formula.columns == ("district", "school")


def test_inner_outer_term_parses() -> None:
    formula = parse_random("~outcome|trial")
    assert (formula.inner, formula.outer) == ("outcome", ("trial",))
    assert formula.columns == ("outcome", "trial")


@pytest.mark.parametrize(
    "text", ["1 | study", "~ 1 |", "~ | study", "~ 1 + x | study", "~ a | b/c", "~ 1 | a//b", ""]
)
def test_a_formula_that_does_not_parse_is_refused(text: str) -> None:
    with pytest.raises(InputError, match=r"does not parse|one outer column"):
        parse_random(text)


def test_a_formula_that_is_not_text_is_refused() -> None:
    with pytest.raises(InputError, match="must be text"):
        parse_random(3)  # type: ignore[arg-type]


@given(st.text(alphabet="~|/ 1abc+:*()", max_size=12))
def test_parsing_either_succeeds_or_says_what_to_write(text: str) -> None:
    try:
        formula = parse_random(text)
    except InputError as error:
        assert "~ 1 | study" in str(error) or "one outer column" in str(error)
    else:
        assert formula.outer and all(formula.outer)


def test_grouping_codes_the_interaction_in_sorted_order() -> None:
    frame = pd.DataFrame({"a": [2, 2, 10, 10, 1], "b": [1, 2, 1, 1, 1]})
    outer = grouping(frame, ["a"])
    assert outer.levels == ("1", "2", "10")  # numbers sorted as numbers, as R sorts them
    np.testing.assert_array_equal(outer.codes, [1, 1, 2, 2, 0])
    nested = grouping(frame, ["a", "b"])
    assert nested.name == "a/b"
    assert nested.levels == ("1/1", "2/1", "2/2", "10/1")
    np.testing.assert_array_equal(nested.codes, [1, 2, 3, 3, 0])


def test_grouping_reads_whole_floats_as_their_integer_levels() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 2.0]})
    assert grouping(frame, ["a"]).levels == ("1", "2")


def test_confounded_levels_are_refused() -> None:
    frame = pd.DataFrame({"study": [1, 2, 3], "effect": [1, 1, 1]})
    formula = parse_random("~ 1 | study/effect")
    groups = [grouping(frame, ["study"]), grouping(frame, ["study", "effect"])]
    with pytest.raises(InputError, match="confounded"):
        check_structure(formula, groups, None)


def test_a_factor_with_one_level_is_refused() -> None:
    frame = pd.DataFrame({"study": [1, 1, 1]})
    formula = parse_random("~ 1 | study")
    with pytest.raises(InputError, match="one level"):
        check_structure(formula, [grouping(frame, ["study"])], None)


def test_one_struct_serves_every_term_and_a_wrong_count_is_refused() -> None:
    assert structures("UN", 2) == ("UN", "UN")
    assert structures(["CS", "AR"], 2) == ("CS", "AR")
    assert structures("CS", 0) == ()
    with pytest.raises(InputError, match="3 structures given for 2"):
        structures(["CS", "AR", "UN"], 2)


def test_fixed_values_follow_metafor() -> None:
    assert fixed_values(None, ["tau2"], "tau2") == {}
    assert fixed_values(0.5, ["rho"], "rho") == {"rho": 0.5}
    assert fixed_values(0.1, ["tau2_1", "tau2_2"], "tau2") == {"tau2_1": 0.1, "tau2_2": 0.1}
    assert fixed_values([None, 0.2], ["tau2_1", "tau2_2"], "tau2") == {"tau2_2": 0.2}
    with pytest.raises(InputError, match="2 values given for 3 parameters"):
        fixed_values([0.1, 0.2], ["tau2_1", "tau2_2", "tau2_3"], "tau2")
