"""review.toml: the template is valid; every problem is reported with its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srma.errors import InputError
from srma.review.project import PROTOCOL_TEMPLATE
from srma.review.protocol import ProtocolError, read_protocol


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "review.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_template_is_a_valid_protocol(tmp_path: Path) -> None:
    protocol = read_protocol(write(tmp_path, PROTOCOL_TEMPLATE.format(title="Stroke units")))
    assert protocol.title == "Stroke units"
    assert protocol.reviewers_per_record == 2
    assert protocol.question.comparator == "placebo or no treatment"
    assert "full text not available" in protocol.exclusion_reasons
    assert protocol.outcomes[0].measure == "SMD" and protocol.outcomes[0].primary
    assert protocol.policy == "modern"


def test_every_problem_is_reported_with_its_line(tmp_path: Path) -> None:
    text = PROTOCOL_TEMPLATE.format(title="T")
    text = text.replace('measure = "SMD"', 'measure = "HR"')
    text = text.replace('policy = "modern"', 'policy = "mine"\nmetod = "REML"')
    text = text.replace("reviewers_per_record = 2", "reviewers_per_record = 0")
    path = write(tmp_path, text)
    lines = text.splitlines()
    with pytest.raises(ProtocolError) as caught:
        read_protocol(path)
    found = {message.split(";")[0]: line for line, message in caught.value.problems}
    assert lines[found["unknown measure 'HR'"] - 1].strip() == 'measure = "HR"'
    assert lines[found["unknown policy 'mine'"] - 1].strip() == 'policy = "mine"'
    assert lines[found["unknown key 'metod' in [analysis]"] - 1].startswith("metod")
    assert lines[found["must be at least 1"] - 1].startswith("reviewers_per_record")
    assert str(path) in str(caught.value)


def test_missing_tables_and_repeated_reasons(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[review]\ntitle = "T"\n[screening]\nexclusion_reasons = ["a", "a"]\n[extra]\nx = 1\n',
    )
    with pytest.raises(ProtocolError) as caught:
        read_protocol(path)
    messages = [message for _, message in caught.value.problems]
    assert "missing table [question]" in messages
    assert "missing table [eligibility]" in messages
    assert "the protocol needs at least one [[outcomes]] table" in messages
    assert (4, "exclusion reasons repeated: a") in caught.value.problems
    assert any(line == 5 and "unknown table [extra]" in m for line, m in caught.value.problems)


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[review]\ntitle = "T"\nreviewers_per_record = \n')
    with pytest.raises(ProtocolError, match="line 3"):
        read_protocol(path)


def test_wrong_types_and_encodings(tmp_path: Path) -> None:
    text = PROTOCOL_TEMPLATE.format(title="T").replace(
        'include = ["randomised', 'include = [1, "randomised'
    )
    with pytest.raises(ProtocolError, match="list of non-empty strings"):
        read_protocol(write(tmp_path, text))
    latin = tmp_path / "latin" / "review.toml"
    latin.parent.mkdir()
    latin.write_bytes('[review]\ntitle = "Méta"\n'.encode("latin-1"))
    with pytest.raises(ProtocolError, match="line 2: the protocol must be UTF-8"):
        read_protocol(latin)
    with pytest.raises(InputError, match=r"no review\.toml"):
        read_protocol(tmp_path / "nowhere" / "review.toml")


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_any_text_is_a_protocol_or_a_clear_error(tmp_path_factory, text: str) -> None:
    path = tmp_path_factory.mktemp("protocol") / "review.toml"
    path.write_text(text, encoding="utf-8")
    try:
        read_protocol(path)
    except ProtocolError as error:
        assert error.problems
        assert str(path) in str(error)


def test_the_vocabulary_names_every_shipped_policy() -> None:
    from srma.analysis.policies import POLICIES
    from srma.vocabulary import POLICY_NAMES

    assert tuple(POLICIES) == POLICY_NAMES


def _with_plan(plan: str, outcome_keys: str = "") -> str:
    text = PROTOCOL_TEMPLATE.format(title="T")
    text = text.replace(
        'time_points = ["90 days", "1 year"]\n',
        'time_points = ["90 days", "1 year"]\n' + outcome_keys,
        1,
    )
    start, end = text.index("[analysis]"), text.index("[[subgroups]]")
    return text[:start] + plan + "\n" + text[end:]


def test_the_analysis_plan_and_grade_inputs_are_read(tmp_path: Path) -> None:
    plan = (
        '[analysis]\npolicy = "custom"\nsensitivity = ["leave-one-out", "exclude high risk of '
        'bias"]\nsmall_study_min_k = 12\n\n[analysis.custom]\ni2_threshold = 40\n'
        'random_method = "PM"\ntest = "knha"\nleave_one_out = "always"\n'
        'measures = {continuous = "MD", binary = "OR"}\n\n'
        '[[metaregressions]]\nmoderators = ["dose", "route"]\n\n[grade]\ndesign = "randomised"\n'
    )
    keys = (
        'mid = 2\nimportance = "critical"\nfollow_up = "90 days"\nindirectness = -1\n'
        'indirectness_reason = "older patients than the question\'s"\n'
    )
    protocol = read_protocol(write(tmp_path, _with_plan(plan, keys)))
    assert protocol.sensitivity == ("leave-one-out", "exclude high risk of bias")
    assert protocol.small_study_min_k == 12 and protocol.design == "randomised"
    policy = protocol.analysis_policy()
    assert (policy.name, policy.i2_threshold, policy.random_method, policy.test) == (
        "custom",
        40.0,
        "PM",
        "knha",
    )
    assert (policy.continuous_measure, policy.binary_measure) == ("MD", "OR")
    assert "I² >= 40%" in policy.description
    [regression] = protocol.metaregressions
    assert regression.moderators == ("dose", "route") and regression.name == "dose + route"
    assert protocol.subgroups[0].field == "cell source"  # its name, by default
    nihss = protocol.outcomes[0]
    assert (nihss.mid, nihss.importance, nihss.follow_up, nihss.indirectness) == (
        2.0,
        "critical",
        "90 days",
        -1,
    )
    # the template itself: a shipped policy, defaults
    template = read_protocol(write(tmp_path, PROTOCOL_TEMPLATE.format(title="T")))
    assert template.small_study_min_k == 10 and template.analysis_policy().name == "modern"


def test_every_analysis_plan_problem_is_named_by_line(tmp_path: Path) -> None:
    plan = (
        '[analysis]\npolicy = "custom"\nsensitivity = ["trim and fill"]\nsmall_study_min_k = 2\n\n'
        '[analysis.custom]\ni2_threshold = 140\nrandom_method = "XX"\nspeed = 1\n'
        'measures = {continuous = "RR"}\n\n'
        '[[metaregressions]]\nmoderators = ["shoe size"]\n\n[grade]\ndesign = "anecdotal"\n'
    )
    keys = 'assumed_risk = 1.5\nimportance = "vital"\nindirectness = -1\nmid = "big"\n'
    text = _with_plan(plan, keys)
    lines = text.splitlines()
    with pytest.raises(ProtocolError) as caught:
        read_protocol(write(tmp_path, text))
    found = {message.split(";")[0].split(":")[0]: line for line, message in caught.value.problems}
    expected = {
        "unknown sensitivity analysis 'trim and fill'": "sensitivity =",
        "small_study_min_k must be at least 3 (the tests need 3 studies)": "small_study_min_k",
        "i2_threshold is a percentage, from 0 to 100": "i2_threshold",
        "random_method must be one of": "random_method",
        "unknown key 'speed' in [analysis.custom]": "speed",
        "measures": "measures",
        "moderator 'shoe size' is not an [[extraction.fields]] name": "moderators",
        "design must be one of": "design",
        "assumed_risk is a risk": "assumed_risk",
        "importance must be one of": "importance",
        "indirectness below 0 needs its indirectness_reason": "indirectness",
        "mid must be a number": "mid",
    }
    for message, start in expected.items():
        assert message in found, (message, found)
        assert lines[found[message] - 1].startswith(start), message


def test_a_custom_policy_needs_its_table_and_a_subgroup_field_must_exist(tmp_path: Path) -> None:
    text = _with_plan('[analysis]\npolicy = "custom"\n').replace(
        'name = "cell source"', 'name = "cells"\nfield = "cell type"'
    )
    with pytest.raises(ProtocolError) as caught:
        read_protocol(write(tmp_path, text))
    messages = [message for _, message in caught.value.problems]
    assert 'policy = "custom" needs an [analysis.custom] table' in messages
    assert any(
        m.startswith("no [[extraction.fields]] entry is called 'cell type'") for m in messages
    )
