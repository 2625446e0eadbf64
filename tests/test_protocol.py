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
