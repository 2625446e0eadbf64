"""The appraisal tools as data, the checks on one assessment, and the overall rules."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pytest

from conftest import SHARED
from srma import InputError
from srma.review.appraise.assessment import assess, propose
from srma.review.appraise.catalogue import TOOLS, tool
from srma.review.appraise.risk_of_bias import TOOLS as FIGURE_TOOLS
from srma.review.appraise.risk_of_bias import read_rob
from srma.review.appraise.signalling import NA, canonical_answer

HUANG = SHARED / "reference" / "huang2024_rob.csv"

ROB2_LOW = {
    "1.1": "Y", "1.2": "Y", "1.3": "N", "2.1": "N", "2.2": "N", "2.6": "Y", "3.1": "Y",
    "4.1": "N", "4.2": "N", "4.3": "N", "5.1": "Y", "5.2": "N", "5.3": "N",
}  # fmt: skip
ROBINS_LOW = {
    "1.1": "N", "2.1": "N", "2.4": "Y", "3.1": "Y", "3.2": "Y", "3.3": "N", "4.1": "N",
    "5.1": "Y", "5.2": "N", "5.3": "N", "6.1": "N", "6.2": "N", "6.3": "Y", "6.4": "N",
    "7.1": "N", "7.2": "N", "7.3": "N",
}  # fmt: skip
ROBINS_DOMAINS = [f"D{k}" for k in range(1, 8)]
LOW_ALL = dict.fromkeys(ROBINS_DOMAINS, "Low")
QUADAS_YES = dict.fromkeys(
    ["1.1", "1.2", "1.3", "2.1", "2.2", "3.1", "3.2", "4.1", "4.2", "4.3", "4.4"], "yes"
)
QUADAS_APPLICABILITY = {"D1": "low", "D2": "low", "D3": "low"}


def test_catalogue_and_units() -> None:
    assert set(TOOLS) == {"rob1", "rob2", "robins-i", "quadas2", "syrcle", "camarades"}
    assert tool("RoB-2") is TOOLS["rob2"] and tool("ROBINS_I") is TOOLS["robins-i"]
    with pytest.raises(InputError, match="unknown appraisal tool 'amstar'"):
        tool("amstar")
    units = {name: t.unit for name, t in TOOLS.items()}
    assert units == {
        "rob1": "study",
        "rob2": "result",
        "robins-i": "result",
        "quadas2": "study",
        "syrcle": "study",
        "camarades": "study",
    }


@pytest.mark.parametrize("name", sorted(TOOLS))
def test_numbering_and_conditions(name: str) -> None:
    """Questions are numbered domain.position; a condition reads only earlier questions of
    its own domain; levels are distinct and ordered from least to most concern."""
    chosen = TOOLS[name]
    assert len(set(chosen.judgements)) == len(chosen.judgements)
    for effect in chosen.effects or (None,):
        domains = chosen.domains_for(effect)
        assert [d.id for d in domains] == [f"D{k}" for k in range(1, len(domains) + 1)]
        for domain in domains:
            number = domain.id[1:]
            seen: list[str] = []
            for question in domain.questions:
                first, _, rest = question.id.partition(".")
                assert first == number and rest.isdigit(), question.id
                if question.condition is not None:
                    assert set(question.condition.questions()) <= set(seen), question.id
                    assert question.condition_text
                    cited = re.findall(r"\b\d+\.\d+\b", question.condition_text)
                    assert set(cited) == set(question.condition.questions()), question.id
                assert NA not in question.answers
                seen.append(question.id)
            # numbers run 1, 2, ... except ROBINS-I's domain 4 variants (4.1-4.2 and 4.3-4.6)
            positions = [int(q.id.split(".")[1]) for q in domain.questions] or [1]
            assert positions == list(range(positions[0], positions[0] + len(positions)))


def test_question_counts_as_in_the_sources() -> None:
    def counts(name: str, effect: str | None = None) -> list[int]:
        return [len(d.questions) for d in TOOLS[name].domains_for(effect)]

    assert counts("rob2", "assignment") == [3, 7, 4, 5, 3]
    assert counts("rob2", "adhering") == [3, 6, 4, 5, 3]
    assert counts("robins-i", "assignment") == [8, 5, 3, 2, 5, 4, 3]
    assert counts("robins-i", "adhering") == [8, 5, 3, 4, 5, 4, 3]
    assert counts("quadas2") == [3, 2, 2, 4]
    assert counts("syrcle") == [1, 3, 1, 2, 1, 1, 2, 4, 2, 5]
    assert counts("rob1") == [0] * 7 and counts("camarades") == [0] * 10
    assert [d.applicability is not None for d in TOOLS["quadas2"].domains] == [1, 1, 1, 0]
    assert TOOLS["rob2"].levels == ("Low", "Some concerns", "High")
    assert TOOLS["robins-i"].levels == ("Low", "Moderate", "Serious", "Critical")
    assert TOOLS["robins-i"].other_levels == ("No information",)
    assert TOOLS["camarades"].levels == ("Met", "Unclear", "Not met")


def test_same_domains_as_the_figure_tables() -> None:
    """The robvis-style tables of ``srma rob`` name the same domains in the same order."""
    for name in ("robins-i", "quadas2", "syrcle"):
        assert len(FIGURE_TOOLS[name].domains) == len(TOOLS[name].domains_for(
            TOOLS[name].effects[0] if TOOLS[name].effects else None
        ))  # fmt: skip
    assert [d.name for d in TOOLS["rob1"].domains] == list(FIGURE_TOOLS["rob1"].domains)
    assert [d.name for d in TOOLS["rob2"].domains_for("assignment")] == list(
        FIGURE_TOOLS["rob2"].domains
    )


def test_rob2_wording_and_conditions() -> None:
    d2 = {q.id: q for q in TOOLS["rob2"].domains_for("assignment")[1].questions}
    assert d2["2.4"].wording == (
        "2.4 If Y/PY to 2.3: Were these deviations likely to have affected the outcome?"
    )
    adhering = {q.id: q for q in TOOLS["rob2"].domains_for("adhering")[1].questions}
    assert adhering["2.3"].wording.startswith(
        "2.3 [If applicable:] If Y/PY/NI to 2.1 or 2.2: Were important non-protocol"
    )
    d3 = {q.id: q for q in TOOLS["rob2"].domains_for("assignment")[2].questions}
    assert d3["3.2"].answers == ("Y", "PY", "PN", "N")  # no NI for 3.2


def test_answers_read_in_words_and_codes() -> None:
    assert canonical_answer("Probably yes", ("Y", "PY", "PN", "N", "NI")) == "PY"
    assert canonical_answer(" no information ", ("Y", "PY", "PN", "N", "NI")) == "NI"
    assert canonical_answer("yes", ("Yes", "No", "Unclear")) == "Yes"
    assert canonical_answer("N", ("Yes", "No", "Unclear")) == "No"
    assert canonical_answer("", ("Y",)) is None
    words = {
        q: {"Y": "Yes", "N": "no", "PY": "probably yes"}.get(a, a) for q, a in ROB2_LOW.items()
    }
    assert assess("rob2", words, effect="assignment").overall == "Low"


def test_huang_2024_rob1_judgements_as_assessments() -> None:
    """The seed's RoB 1 table (nine trials) read into assessments: the judgements stand as
    given (RoB 1 proposes nothing) and agree with the figure table's reading."""
    table = read_rob(HUANG, "rob1", label_columns=["study", "year"])
    assessments = [
        assess("rob1", judgements=dict(zip([f"D{k}" for k in range(1, 8)], row, strict=True)))
        for row in table.judgements
    ]
    assert [[d.judgement for d in a.domains] for a in assessments] == [
        list(row) for row in table.judgements
    ]
    assert all(d.proposal is None for a in assessments for d in a.domains)
    assert sum(a.judgement("D2") == "Unclear" for a in assessments) == 3
    assert sum(a.judgement("D4") == "Unclear" for a in assessments) == 5
    assert all(a.judgement("D7") == "Unclear" for a in assessments)
    raw = pd.read_csv(HUANG)
    by_name = assess("rob1", judgements={
        d.name: v for d, v in zip(TOOLS["rob1"].domains, raw.iloc[0, 2:], strict=True)
    })  # fmt: skip
    assert by_name.judgement("D7") == "Unclear"
    assert by_name.overall is None and by_name.overrides == ()


def test_overrides_need_reasons_and_reasons_need_overrides() -> None:
    some = dict(ROB2_LOW, **{"5.1": "N"})  # D5 some concerns, overall some concerns
    with pytest.raises(InputError, match=r"rob2 overall: the judgement 'High' overrides"):
        assess("rob2", some, effect="assignment", judgements={"overall": "High"})
    result = assess(
        "rob2",
        some,
        effect="assignment",
        judgements={"overall": "high", "D3": "Some concerns"},
        reasons={"overall": "several domains with some concerns", "D3": "imputed outcomes"},
    )
    assert result.overall_proposal == "Some concerns"  # from the domains as judged
    assert result.overall == "High"
    assert [(o.domain, o.proposal, o.judgement, o.reason) for o in result.overrides] == [
        ("D3", "Low", "Some concerns", "imputed outcomes"),
        ("overall", "Some concerns", "High", "several domains with some concerns"),
    ]
    # the same, overriding only the overall
    result = assess(
        "rob2",
        some,
        effect="assignment",
        judgements={"overall": "High"},
        reasons={"overall": "several domains with some concerns"},
    )
    (override,) = result.overrides
    assert (override.domain, override.proposal, override.judgement) == (
        "overall",
        "Some concerns",
        "High",
    )
    assert override.reason == "several domains with some concerns"
    with pytest.raises(InputError, match="a reason is recorded only for an override"):
        assess("rob2", ROB2_LOW, effect="assignment", reasons={"D1": "fine"})
    with pytest.raises(InputError, match="overrides the proposed 'Low'; an override needs"):
        assess(
            "rob2", ROB2_LOW, effect="assignment", judgements={"D1": "High"}, reasons={"D1": " "}
        )
    with pytest.raises(InputError, match="'Medium' is not a judgement"):
        assess("rob2", ROB2_LOW, effect="assignment", judgements={"D1": "Medium"})
    with pytest.raises(InputError, match="unknown domain 'D9'"):
        assess("rob2", ROB2_LOW, effect="assignment", judgements={"D9": "Low"})


def test_bad_answers_name_the_question() -> None:
    cases = [
        ({"9.1": "Y"}, r"unknown signalling question '9\.1'"),
        ({"1.1": "Maybe"}, r"question 1\.1 is answered 'Maybe'; expected Y/PY/PN/N/NI"),
        ({"3.1": "N", "3.2": "NI"}, r"question 3\.2 is answered 'NI'; expected Y/PY/PN/N"),
        ({"2.1": "Y"}, r"question 2\.3 is not answered, and it is asked \(if Y/PY/NI to 2\.1"),
        ({"2.4": "Y"}, r"question 2\.4 is answered 'Y', but it is asked only if Y/PY to 2\.3"),
        ({"1.3": "NA"}, r"question 1\.3 is answered NA, but it is asked"),
    ]
    for change, message in cases:
        with pytest.raises(InputError, match=message):
            assess("rob2", ROB2_LOW | change, effect="assignment")
    missing = dict(ROB2_LOW)
    del missing["5.3"]
    with pytest.raises(InputError, match=r"rob2 D5 .*question 5\.3 is not answered"):
        assess("rob2", missing, effect="assignment")
    with pytest.raises(InputError, match="needs the effect of interest"):
        assess("rob2", ROB2_LOW)
    with pytest.raises(InputError, match="no effect of interest"):
        assess("rob1", effect="assignment", judgements={})


def test_rob2_adhering_if_applicable_questions() -> None:
    """2.3-2.5 of the adhering variant may be answered NA when asked; 2.6 follows."""
    others = {k: v for k, v in ROB2_LOW.items() if not k.startswith("2.")}
    base = {"2.1": "Y", "2.2": "N", "2.3": "NA", "2.4": "NA", "2.5": "N"}
    assert propose("rob2", "D2", base, effect="adhering") == "Low"
    assert assess("rob2", others | base, effect="adhering").answer("2.6") == NA
    with pytest.raises(InputError, match=r"question 2\.6 is not answered"):
        assess("rob2", others | base | {"2.5": "PY"}, effect="adhering")
    with pytest.raises(InputError, match="depends on the effect of interest"):
        propose("rob2", "D2", base)
    with pytest.raises(InputError, match=r"unknown signalling question '1\.1'"):
        propose("rob2", "D2", base | {"1.1": "Y"}, effect="adhering")
    assert propose("rob2", "D2", base | {"2.5": "PY", "2.6": "Y"}, effect="adhering") == (
        "Some concerns"
    )
    with pytest.raises(InputError, match=r"question 2\.4 is not answered"):
        propose("rob2", "D2", {"2.1": "N", "2.2": "N", "2.5": "N"}, effect="adhering")


def test_robins_i_routing_and_judgements() -> None:
    result = assess("robins-i", ROBINS_LOW, effect="assignment", judgements=dict.fromkeys(
        ROBINS_DOMAINS, "Low"))  # fmt: skip
    assert result.overall == "Low" and result.unit == "result"
    assert [result.answer(q) for q in ("1.2", "1.3", "1.4", "1.7", "2.2", "2.5", "4.2")] == [NA] * 7
    with pytest.raises(InputError, match="leaves this judgement to the assessor"):
        assess("robins-i", ROBINS_LOW, effect="assignment", judgements={"D1": "Low"})
    with pytest.raises(InputError, match=r"question 1\.1 is answered 'NI'; expected Y/PY/PN/N"):
        assess("robins-i", ROBINS_LOW | {"1.1": "NI"}, effect="assignment")
    baseline = ROBINS_LOW | {"1.1": "Y", "1.2": "N", "1.4": "Y", "1.5": "PY", "1.6": "N"}
    d1 = {k: v for k, v in baseline.items() if k.startswith("1.")}
    assert propose("robins-i", "D1", d1) is None  # the assessor's judgement
    with pytest.raises(InputError, match=r"question 1\.7 is answered 'Y', but it is asked only"):
        assess("robins-i", baseline | {"1.7": "Y"}, effect="assignment", judgements=LOW_ALL)
    varying = ROBINS_LOW | {"1.1": "Y", "1.2": "Y", "1.3": "Y", "1.7": "N"}
    with pytest.raises(InputError, match=r"question 1\.4 is answered"):
        assess("robins-i", varying | {"1.4": "Y"}, effect="assignment", judgements=LOW_ALL)
    # NI to 1.2 routes nowhere: neither 1.3-1.6 nor 1.7-1.8 is asked
    assert propose("robins-i", "D1", {"1.1": "Y", "1.2": "NI"}) is None
    with pytest.raises(InputError, match=r"question 1\.4 is answered 'Y', but it is asked only"):
        propose("robins-i", "D1", {"1.1": "Y", "1.2": "NI", "1.4": "Y"})
    # selection: 2.5 "If Y/PY to 2.2 and 2.3, or N/PN to 2.4"
    late = ROBINS_LOW | {"2.4": "N"}
    with pytest.raises(InputError, match=r"question 2\.5 is not answered"):
        assess("robins-i", late, effect="assignment", judgements=LOW_ALL)
    selected = ROBINS_LOW | {"2.1": "Y", "2.2": "Y", "2.3": "N"}
    with pytest.raises(InputError, match=r"question 2\.5 is answered"):
        assess("robins-i", selected | {"2.5": "Y"}, effect="assignment", judgements=LOW_ALL)
    adhering = {k: v for k, v in ROBINS_LOW.items() if k != "4.1"} | {
        "4.3": "Y", "4.4": "N", "4.5": "Y", "4.6": "PY"
    }  # fmt: skip
    result = assess("robins-i", adhering, effect="adhering", judgements=dict.fromkeys(
        ROBINS_DOMAINS, "Moderate"))  # fmt: skip
    assert result.answer("4.6") == "PY" and result.overall == "Moderate"


def _robins_expected(levels: tuple[str, ...], key: set[int]) -> str | None:
    """Sterne et al. 2016's overall criteria, each written as its own test."""
    rules = {
        "Low": all(v == "Low" for v in levels),
        "Moderate": all(v in ("Low", "Moderate") for v in levels)
        and not all(v == "Low" for v in levels),
        "Serious": "Serious" in levels and "Critical" not in levels,
        "Critical": "Critical" in levels,
        "No information": not ({"Serious", "Critical"} & set(levels))
        and any(levels[i] == "No information" for i in key),
    }
    hits = [name for name, hit in rules.items() if hit]
    assert len(hits) <= 1, (levels, hits)
    return hits[0] if hits else None


@pytest.mark.parametrize("key", [set(range(7)), {0, 1, 4}])
def test_robins_i_overall_every_combination(key: set[int]) -> None:
    rule = TOOLS["robins-i"].overall
    assert rule is not None
    keys = frozenset(ROBINS_DOMAINS[i] for i in key)
    levels = (*TOOLS["robins-i"].levels, "No information")
    undecided = 0
    for combination in itertools.product(levels, repeat=7):
        want = _robins_expected(combination, key)
        got = rule(dict(zip(ROBINS_DOMAINS, combination, strict=True)), keys)
        assert got == want, combination
        undecided += want is None
    assert (undecided == 0) == (len(key) == 7)


def test_robins_i_overall_through_assess() -> None:
    judged = dict.fromkeys(ROBINS_DOMAINS, "Low") | {"D3": "No information", "D5": "Moderate"}
    result = assess("robins-i", ROBINS_LOW, effect="assignment", judgements=judged)
    assert result.overall == "No information"
    with pytest.raises(InputError, match="no overall judgement when information is missing only"):
        assess("robins-i", ROBINS_LOW, effect="assignment", judgements=judged, key_domains=["D1"])
    result = assess(
        "robins-i",
        ROBINS_LOW,
        effect="assignment",
        judgements=judged | {"overall": "Moderate"},
        key_domains=["D1"],
    )
    assert result.overall_proposal is None and result.overall == "Moderate"
    with pytest.raises(InputError, match="unknown key domain 'D8'"):
        assess("robins-i", ROBINS_LOW, effect="assignment", judgements=judged, key_domains=["D8"])


def test_quadas2_proposal_and_applicability() -> None:
    result = assess("quadas2", QUADAS_YES, applicability=QUADAS_APPLICABILITY)
    assert [d.proposal for d in result.domains] == ["Low"] * 4
    assert [d.applicability for d in result.domains] == ["Low", "Low", "Low", None]
    flagged = QUADAS_YES | {"1.2": "No"}
    d1 = {k: v for k, v in QUADAS_YES.items() if k.startswith("1.")}
    assert propose("quadas2", "D1", d1) == "Low"
    assert propose("quadas2", "D1", d1 | {"1.2": "No"}) is None
    assert propose("quadas2", "D1", d1 | {"1.3": "unclear"}) is None
    with pytest.raises(InputError, match="D1 \\(Patient selection\\): no judgement given"):
        assess("quadas2", flagged, applicability=QUADAS_APPLICABILITY)
    result = assess(
        "quadas2", flagged, judgements={"D1": "High"}, applicability=QUADAS_APPLICABILITY
    )
    assert result.domains[0].judgement == "High" and result.overrides == ()
    with pytest.raises(InputError, match="applicability are not judged"):
        assess("quadas2", QUADAS_YES, applicability={"D1": "low", "D2": "low"})
    with pytest.raises(InputError, match="applicability is judged only for D1, D2, D3"):
        assess("quadas2", QUADAS_YES, applicability=QUADAS_APPLICABILITY | {"D4": "low"})
    with pytest.raises(InputError, match="applicability is judged only for no domain"):
        assess(
            "rob1", judgements={f"D{k}": "Low" for k in range(1, 8)}, applicability={"D1": "low"}
        )


def test_syrcle_items_and_optional_signalling_questions() -> None:
    judged = {f"D{k}": ("yes" if k < 6 else "unclear") for k in range(1, 11)} | {"D10": "no"}
    result = assess("syrcle", {"4.1": "Yes", "7.2": "No"}, judgements=judged)
    assert [d.judgement for d in result.domains][:6] == ["Low"] * 5 + ["Unclear"]
    assert result.judgement("D10") == "High"
    assert result.answer("4.1") == "Yes" and result.answer("4.2") == NA
    assert all(d.proposal is None for d in result.domains)
    assert TOOLS["syrcle"].domains[3].prompt == (
        "Were the animals randomly housed during the experiment?"
    )
    with pytest.raises(InputError, match=r"question 4\.1 is answered 'Probably yes'"):
        assess("syrcle", {"4.1": "Probably yes"}, judgements=judged)


def test_camarades_score() -> None:
    judged = {f"D{k}": "met" for k in (1, 3, 5, 8)} | {f"D{k}": "not met" for k in (2, 4, 6)}
    judged |= {"D7": "no", "D9": "yes", "D10": "unclear"}
    result = assess("camarades", judgements=judged)
    assert (result.score, result.score_max) == (5, 10)
    with pytest.raises(InputError, match="gives a score, not an overall judgement"):
        assess("camarades", judgements=judged | {"overall": "Met"})
    with pytest.raises(InputError, match=r"D6 .*no judgement given"):
        assess("camarades", judgements={k: v for k, v in judged.items() if k != "D6"})


def test_assessment_is_a_frozen_value_with_a_json_form() -> None:
    result = assess("rob2", ROB2_LOW, effect="assignment")
    with pytest.raises(AttributeError):
        result.overall = "High"  # type: ignore[misc]
    data = json.loads(json.dumps(result.to_dict()))
    assert data["answers"]["2.3"] == NA and data["overall"] == "Low"
    assert data["domains"][0] == {
        "id": "D1",
        "name": "Bias arising from the randomization process",
        "proposal": "Low",
        "judgement": "Low",
        "reason": None,
        "applicability": None,
    }
    assert data["effect"] == "assignment" and data["unit"] == "result"


def test_docs_list_every_question_as_worded_and_run_their_example() -> None:
    text = (Path(__file__).resolve().parents[1] / "docs" / "risk_of_bias.md").read_text(
        encoding="utf-8"
    )
    for chosen in TOOLS.values():
        for domain in chosen.domains:
            for question in domain.questions:
                assert question.wording in text, question.wording
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, object] = {}
    exec(example, namespace)  # the page's example runs and says what it shows
    result = namespace["result"]
    assert result.domains[4].proposal == "Some concerns"  # type: ignore[attr-defined]
    assert result.overall_proposal == "Some concerns"  # type: ignore[attr-defined]
    assert result.overall == "High"  # type: ignore[attr-defined]
