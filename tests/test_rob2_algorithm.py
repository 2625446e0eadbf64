"""RoB 2's algorithms against every combination of answers, domain by domain.

The expected judgements come from an encoding written here from the RoB 2
full guidance (Higgins et al., 22 August 2019), independent of srma's code:
each domain's signalling questions with their response options and printed
conditions ("2.4 If Y/PY to 2.3"), and the domain's flowchart rewritten as a
table of disjoint rules (each a conjunction of answer sets) in the style of
the tabulation in Syst Rev 2021;10:171, Table 2.  Every combination of
answers (each question: its options, NA, or no answer) is fed to
``srma.review.appraise.assessment.propose``: combinations the printed
conditions allow must give the one rule's judgement; the others must raise an
InputError naming the first question at fault.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

import pytest

from srma import InputError
from srma.review.appraise.assessment import assess, propose

Y, PY, PN, N, NI, NA = "Y", "PY", "PN", "N", "NI", "NA"
LOW, SOME, HIGH = "Low", "Some concerns", "High"
YP, NP = {Y, PY}, {N, PN}
YPNI, NPNI = YP | {NI}, NP | {NI}
FIVE = (Y, PY, PN, N, NI)

Answers = dict[str, str]
# (question, options as printed, asked(answers so far) from the printed condition, [If applicable])
Spec = tuple[str, tuple[str, ...], Callable[[Answers], bool], bool]


def always(_: Answers) -> bool:
    return True


SPECS: dict[tuple[str, str | None], list[Spec]] = {
    ("D1", None): [
        ("1.1", FIVE, always, False),
        ("1.2", FIVE, always, False),
        ("1.3", FIVE, always, False),
    ],
    ("D2", "assignment"): [
        ("2.1", FIVE, always, False),
        ("2.2", FIVE, always, False),
        # 2.3 If Y/PY/NI to 2.1 or 2.2
        ("2.3", FIVE, lambda a: a["2.1"] in YPNI or a["2.2"] in YPNI, False),
        # 2.4 If Y/PY to 2.3
        ("2.4", FIVE, lambda a: a["2.3"] in YP, False),
        # 2.5 If Y/PY/NI to 2.4
        ("2.5", FIVE, lambda a: a["2.4"] in YPNI, False),
        ("2.6", FIVE, always, False),
        # 2.7 If N/PN/NI to 2.6
        ("2.7", FIVE, lambda a: a["2.6"] in NPNI, False),
    ],
    ("D2", "adhering"): [
        ("2.1", FIVE, always, False),
        ("2.2", FIVE, always, False),
        # 2.3 [If applicable:] If Y/PY/NI to 2.1 or 2.2
        ("2.3", FIVE, lambda a: a["2.1"] in YPNI or a["2.2"] in YPNI, True),
        ("2.4", FIVE, always, True),  # [If applicable:]
        ("2.5", FIVE, always, True),  # [If applicable:]
        # 2.6 If N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5
        ("2.6", FIVE, lambda a: a["2.3"] in NPNI or a["2.4"] in YPNI or a["2.5"] in YPNI, False),
    ],
    ("D3", None): [
        ("3.1", FIVE, always, False),
        # 3.2 If N/PN/NI to 3.1; response options NA/Y/PY/PN/N (no NI)
        ("3.2", (Y, PY, PN, N), lambda a: a["3.1"] in NPNI, False),
        # 3.3 If N/PN to 3.2
        ("3.3", FIVE, lambda a: a["3.2"] in NP, False),
        # 3.4 If Y/PY/NI to 3.3
        ("3.4", FIVE, lambda a: a["3.3"] in YPNI, False),
    ],
    ("D4", None): [
        ("4.1", FIVE, always, False),
        ("4.2", FIVE, always, False),
        # 4.3 If N/PN/NI to 4.1 and 4.2
        ("4.3", FIVE, lambda a: a["4.1"] in NPNI and a["4.2"] in NPNI, False),
        # 4.4 If Y/PY/NI to 4.3
        ("4.4", FIVE, lambda a: a["4.3"] in YPNI, False),
        # 4.5 If Y/PY/NI to 4.4
        ("4.5", FIVE, lambda a: a["4.4"] in YPNI, False),
    ],
    ("D5", None): [
        ("5.1", FIVE, always, False),
        ("5.2", FIVE, always, False),
        ("5.3", FIVE, always, False),
    ],
}

Rule = tuple[dict[str, set[str]], str]


def rules(*fragments: list[dict[str, set[str]]], then: str) -> list[Rule]:
    """Every conjunction of one alternative from each fragment, with its judgement."""
    return [
        ({k: v for part in choice for k, v in part.items()}, then)
        for choice in itertools.product(*fragments)
    ]


AWARE = [{"2.1": YPNI}, {"2.1": NP, "2.2": YPNI}]  # "Either Y/PY/NI"
UNAWARE = [{"2.1": NP, "2.2": NP}]  # "Both N/PN"

# Domain 1 flowchart: 1.2 first (allocation concealed?), then 1.1, then 1.3.
D1 = [
    ({"1.2": YP, "1.1": YPNI, "1.3": NPNI}, LOW),
    ({"1.2": YP, "1.1": YPNI, "1.3": YP}, SOME),
    ({"1.2": YP, "1.1": NP}, SOME),
    ({"1.2": {NI}, "1.3": NPNI}, SOME),
    ({"1.2": {NI}, "1.3": YP}, HIGH),
    ({"1.2": NP}, HIGH),
]
# Domain 2 (assignment), part 1: questions 2.1-2.5; part 2: 2.6-2.7.
D2A_PART1 = [
    *rules(UNAWARE, then=LOW),
    *rules(AWARE, [{"2.3": NP}], then=LOW),
    *rules(AWARE, [{"2.3": {NI}}], then=SOME),
    *rules(AWARE, [{"2.3": YP, "2.4": NP}], then=SOME),
    *rules(AWARE, [{"2.3": YP, "2.4": YPNI, "2.5": YP}], then=SOME),
    *rules(AWARE, [{"2.3": YP, "2.4": YPNI, "2.5": NPNI}], then=HIGH),
]
D2A_PART2 = [
    ({"2.6": YP}, LOW),
    ({"2.6": NPNI, "2.7": NP}, SOME),
    ({"2.6": NPNI, "2.7": YPNI}, HIGH),
]
# "Criteria for the domain": low if both parts low, high if either is high.
D2A_DOMAIN = {
    (LOW, LOW): LOW,
    (LOW, SOME): SOME,
    (SOME, LOW): SOME,
    (SOME, SOME): SOME,
    (LOW, HIGH): HIGH,
    (SOME, HIGH): HIGH,
    (HIGH, LOW): HIGH,
    (HIGH, SOME): HIGH,
    (HIGH, HIGH): HIGH,
}
# Domain 2 (adhering): both unaware, or aware and 2.3 NA/Y/PY, lead to 2.4/2.5.
TO_24 = [*UNAWARE, *({**a, "2.3": {NA, Y, PY}} for a in AWARE)]
LOW_24 = [{"2.4": {NA, N, PN}, "2.5": {NA, N, PN}}]  # "Both NA/N/PN"
EITHER_24 = [{"2.4": YPNI}, {"2.4": {NA, N, PN}, "2.5": YPNI}]  # "Either Y/PY/NI"
D2B = [
    *rules(TO_24, LOW_24, then=LOW),
    *rules(TO_24, EITHER_24, [{"2.6": YP}], then=SOME),
    *rules(TO_24, EITHER_24, [{"2.6": NPNI}], then=HIGH),
    *rules(AWARE, [{"2.3": NPNI, "2.6": YP}], then=SOME),
    *rules(AWARE, [{"2.3": NPNI, "2.6": NPNI}], then=HIGH),
]
D3 = [
    ({"3.1": YP}, LOW),
    ({"3.1": NPNI, "3.2": YP}, LOW),
    ({"3.1": NPNI, "3.2": NP, "3.3": NP}, LOW),
    ({"3.1": NPNI, "3.2": NP, "3.3": YPNI, "3.4": NP}, SOME),
    ({"3.1": NPNI, "3.2": NP, "3.3": YPNI, "3.4": YPNI}, HIGH),
]
D4 = [
    ({"4.1": YP}, HIGH),
    ({"4.1": NPNI, "4.2": YP}, HIGH),
]
for branch, best in ((NP, LOW), ({NI}, SOME)):  # 4.2 N/PN, and 4.2 NI
    D4 += [
        ({"4.1": NPNI, "4.2": branch, "4.3": NP}, best),
        ({"4.1": NPNI, "4.2": branch, "4.3": YPNI, "4.4": NP}, best),
        ({"4.1": NPNI, "4.2": branch, "4.3": YPNI, "4.4": YPNI, "4.5": NP}, SOME),
        ({"4.1": NPNI, "4.2": branch, "4.3": YPNI, "4.4": YPNI, "4.5": YPNI}, HIGH),
    ]
D5 = [
    ({"5.2": YP}, HIGH),  # "Either Y/PY"
    ({"5.2": NPNI, "5.3": YP}, HIGH),
    ({"5.2": {NI}, "5.3": NPNI}, SOME),  # "At least one NI, but neither Y/PY"
    ({"5.2": NP, "5.3": {NI}}, SOME),
    ({"5.2": NP, "5.3": NP, "5.1": YP}, LOW),  # "Both N/PN"
    ({"5.2": NP, "5.3": NP, "5.1": NPNI}, SOME),
]


def matching(table: list[Rule], answers: Answers) -> list[str]:
    return [then for when, then in table if all(answers[q] in s for q, s in when.items())]


def one(table: list[Rule], answers: Answers) -> str:
    found = matching(table, answers)
    assert len(found) == 1, (answers, found)
    return found[0]


def expected(key: tuple[str, str | None], answers: Answers) -> str:
    if key == ("D1", None):
        return one(D1, answers)
    if key == ("D2", "assignment"):
        return D2A_DOMAIN[(one(D2A_PART1, answers), one(D2A_PART2, answers))]
    if key == ("D2", "adhering"):
        return one(D2B, answers)
    return one({"D3": D3, "D4": D4, "D5": D5}[key[0]], answers)


def valid_combinations(specs: list[Spec]) -> Iterator[Answers]:
    """Every answer set the printed conditions allow (NA where a question is not asked)."""

    def grow(i: int, so_far: Answers) -> Iterator[Answers]:
        if i == len(specs):
            yield dict(so_far)
            return
        question, options, asked, if_applicable = specs[i]
        choices = (*options, NA) if if_applicable else options
        for choice in choices if asked(so_far) else (NA,):
            so_far[question] = choice
            yield from grow(i + 1, so_far)
        del so_far[question]

    return grow(0, {})


def first_fault(specs: list[Spec], given: dict[str, str | None]) -> str | None:
    """The first question whose answer the printed conditions do not allow (None: all fine)."""
    so_far: Answers = {}
    for question, options, asked, if_applicable in specs:
        value = given[question]
        if asked(so_far):
            allowed = set(options) | ({NA} if if_applicable else set())
            if value not in allowed:
                return question
        elif value not in (None, NA):
            return question
        so_far[question] = NA if value is None else value
    return None


@pytest.mark.parametrize("key", list(SPECS), ids=lambda k: f"{k[0]}-{k[1] or 'all'}")
def test_every_valid_combination_gets_the_flowchart_judgement(key) -> None:
    domain, effect = key
    table = {"D1": D1, "D3": D3, "D4": D4, "D5": D5}.get(domain)
    used: set[int] = set()
    count = 0
    for answers in valid_combinations(SPECS[key]):
        count += 1
        assert propose("rob2", domain, answers, effect=effect or "assignment") == expected(
            key, answers
        ), answers
        if table is not None:
            used.update(
                i
                for i, (when, _) in enumerate(table)
                if all(answers[q] in s for q, s in when.items())
            )
        # a question not asked may equally be left out
        shorter = {q: a for q, a in answers.items() if a != NA}
        if key != ("D2", "adhering"):  # there NA is a substantive answer to 2.3-2.5
            assert propose("rob2", domain, shorter, effect=effect or "assignment") == expected(
                key, answers
            )
    assert count > 0
    if table is not None:
        assert used == set(range(len(table))), "a rule of the table is never reached"


@pytest.mark.parametrize("key", list(SPECS), ids=lambda k: f"{k[0]}-{k[1] or 'all'}")
def test_every_combination_with_na_and_blanks_is_judged_or_refused(key) -> None:
    """Each question: any option, NA or no answer; exhaustive over the product."""
    domain, effect = key
    specs = SPECS[key]
    names = [s[0] for s in specs]
    refused = judged = 0
    for values in itertools.product(*[(*s[1], NA, None) for s in specs]):
        given = dict(zip(names, values, strict=True))
        fault = first_fault(specs, given)
        answers = {q: a for q, a in given.items() if a is not None}
        if fault is None:
            judged += 1
            full = {q: (NA if a is None else a) for q, a in given.items()}
            assert propose("rob2", domain, answers, effect=effect or "assignment") == expected(
                key, full
            )
        else:
            refused += 1
            try:
                propose("rob2", domain, answers, effect=effect or "assignment")
            except InputError as error:
                assert f"question {fault} " in str(error), (given, str(error))
            else:
                raise AssertionError(f"{given} was accepted; {fault} is at fault")
    assert judged > 0 and refused > 0


def test_overall_every_combination_of_domain_judgements() -> None:
    """Low if all domains are low; high if any is high; some concerns otherwise."""
    base = {
        "1.1": Y, "1.2": Y, "1.3": N, "2.1": N, "2.2": N, "2.6": Y, "3.1": Y,
        "4.1": N, "4.2": N, "4.3": N, "5.1": Y, "5.2": N, "5.3": N,
    }  # fmt: skip
    domains = ["D1", "D2", "D3", "D4", "D5"]
    # one answer set per domain and judgement (found from the flowcharts above)
    per = {
        "D1": {LOW: {}, SOME: {"1.1": N}, HIGH: {"1.2": N}},
        "D2": {LOW: {}, SOME: {"2.6": N, "2.7": N}, HIGH: {"2.6": N, "2.7": Y}},
        "D3": {LOW: {}, SOME: {"3.1": N, "3.2": N, "3.3": Y, "3.4": N},
               HIGH: {"3.1": N, "3.2": N, "3.3": Y, "3.4": Y}},
        "D4": {LOW: {}, SOME: {"4.2": NI}, HIGH: {"4.1": Y, "4.3": NA}},
        "D5": {LOW: {}, SOME: {"5.1": N}, HIGH: {"5.2": Y}},
    }  # fmt: skip
    for levels in itertools.product((LOW, SOME, HIGH), repeat=5):
        answers = dict(base)
        for domain, level in zip(domains, levels, strict=True):
            answers.update(per[domain][level])
        result = assess("rob2", answers, effect="assignment")
        assert [d.judgement for d in result.domains] == list(levels)
        want = HIGH if HIGH in levels else LOW if set(levels) == {LOW} else SOME
        assert result.overall_proposal == want
        assert result.overall == want
        assert result.overrides == ()
