"""A form's row is checked as the tool judges it: check_row agrees with assess() on every
set of answers (hypothesis), and names the cell of every problem."""

from __future__ import annotations

from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srma.errors import InputError
from srma.review.appraise.assessment import assess
from srma.review.appraise.catalogue import tool as find_tool
from srma.review.appraise.forms import (
    JUDGEMENT,
    PROPOSAL,
    RobForm,
    domain_fields,
    field_name,
    overall_fields,
)
from srma.review.appraise.rows import Cell, check_row
from srma.review.appraise.signalling import NA
from srma.review.extract.studies import Arm, Studies, Study

STUDIES = Studies(MappingProxyType({1: Study(1, "Trial 2001", (1,), (Arm("a", "a"),))}))
EFFECTS = {"rob2": "assignment", "robins-i": "adhering"}


def form_of(name: str) -> RobForm:
    tool = find_tool(name)
    effect = EFFECTS.get(name)
    fields = [f for d in tool.domains_for(effect) for f in domain_fields(tool, d)]
    return RobForm(tool, effect, "study", ("",), (*fields, *overall_fields(tool)), STUDIES, (1,))


def answers(data: st.DataObject, form: RobForm) -> dict[str, str | None]:
    """Answers in the order the tool asks its questions: mostly as its conditions allow
    (an answer where a question is asked, blank or NA where not), one in 30 a mistake (a
    blank or NA where asked, an answer where not); a domain's first question is answered."""
    found: dict[str, str | None] = {}
    for domain in form.domains:
        read: dict[str, str] = {}
        for number, question in enumerate(domain.questions):
            asked = question.asked(read)
            mistake = number > 0 and data.draw(st.integers(0, 29)) == 0
            options = list(question.answers) if asked != mistake else [None, NA]
            found[question.id] = data.draw(st.sampled_from(options))
            read[question.id] = found[question.id] or NA
    return found


def where(name: str) -> str:
    return f"cell {name}"


@pytest.mark.parametrize("name", ["rob2", "quadas2", "syrcle", "robins-i"])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_check_row_agrees_with_assess(name: str, data: st.DataObject) -> None:
    """A row passes exactly when assess() accepts its answers and judgements (RoB 2's left
    to its algorithm), and then stores assess()'s answers, proposals and judgements;
    otherwise every problem names one of the row's cells."""
    form = form_of(name)
    tool = form.tool
    given_answers = answers(data, form)
    concerns = {d.id: "Low" for d in form.domains if d.applicability}
    # RoB 2 proposes every judgement: none given; the others' judgements are the assessor's
    # (QUADAS-2 proposes Low only when every answer is yes): Low throughout
    judgements = {} if name == "rob2" else {d.id: tool.levels[0] for d in form.domains}
    cells = {k: Cell(v, where(k)) for k, v in given_answers.items()}
    cells |= {field_name(d, "applicability"): Cell(v, where(d)) for d, v in concerns.items()}
    cells |= {field_name(d, JUDGEMENT): Cell(v, where(d)) for d, v in judgements.items()}
    result = check_row(form, cells, fallback="row 2")
    try:
        expected = assess(
            tool,
            {k: v for k, v in given_answers.items() if v is not None},
            effect=form.effect,
            judgements=judgements,
            applicability=concerns,
        )
    except InputError:
        assert result.problems
        known = {c.where for c in cells.values()} | {f"row 2 ({f.name})" for f in form.fields}
        assert all(p.where in known for p in result.problems)
        return
    assert result.problems == ()
    for domain in expected.domains:
        assert result.values[field_name(domain.id, JUDGEMENT)][0] == domain.judgement
        if domain.proposal is not None:
            assert result.values[field_name(domain.id, PROPOSAL)][0] == domain.proposal
    for question, code in expected.answers:
        assert result.values[question][0] == code


def test_a_blank_domain_is_not_assessed_and_keeps_the_overall_back() -> None:
    form = form_of("rob2")
    first = {k: Cell(v, where(k)) for k, v in {"1.1": "Y", "1.2": "Y", "1.3": "N"}.items()}
    result = check_row(form, first, fallback="row 2")
    assert result.problems == ()
    assert result.values["D1 judgement"] == ("Low", None)
    assert result.values["D2 judgement"] == (None, None)
    assert result.values["overall judgement"] == (None, None)
    early = check_row(form, {**first, "overall judgement": Cell("Low", "cell X")}, fallback="r")
    assert [p.where for p in early.problems] == ["cell X"]
    assert "once every domain is judged (D2, D3, D4, D5 not assessed yet)" in early.problems[0][1]


def test_answers_read_as_the_source_words_them() -> None:
    form = form_of("rob2")
    words = {"1.1": "Yes", "1.2": "probably yes", "1.3": "no information"}
    result = check_row(form, {k: Cell(v, k) for k, v in words.items()}, fallback="r")
    assert result.values["1.2"] == ("PY", "probably yes")
    assert result.values["D1 proposal"] == ("Low", None)
    wrong = check_row(form, {**{k: Cell(v, k) for k, v in words.items()}, "1.1": Cell("NA", "A")},
                      fallback="r")  # fmt: skip
    assert wrong.problems[0] == ("A", "'NA' is not an answer to 1.1; expected Y/PY/PN/N/NI")
