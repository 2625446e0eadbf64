"""RoB 2, the revised Cochrane risk-of-bias tool for randomized trials: questions and algorithms.

Sources: Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for
assessing risk of bias in randomised trials. BMJ 2019;366:l4898; and the full
guidance, Higgins JPT, Savović J, Page MJ, Sterne JAC (eds). Revised Cochrane
risk-of-bias tool for randomized trials (RoB 2), 22 August 2019
(riskofbias.info), whose signalling questions, response options and
"Algorithm for suggested judgement" flowcharts are encoded here.  The rules
were cross-checked against the tabulation in Syst Rev 2021;10:171, Table 2
(domain 1) and docs/risk_of_bias.md lists each rule.

The tool judges one numerical result of a trial (``unit="result"``); the
protocol names the effect of interest: assignment to intervention (the
"intention-to-treat" effect) or adhering to intervention (the "per-protocol"
effect), which selects the variant of domain 2.

Every algorithm below receives answers already checked by
:func:`srma.review.appraise.signalling.read_answers`: each question holds its
code, and ``NA`` where it is not asked.  Answers the flowchart does not reach
(1.1 when 1.2 is N/PN) do not change the proposal.
"""

from __future__ import annotations

from collections.abc import Mapping

from srma.review.appraise.signalling import NA, NI, PN, PY, AnyOf, N, Question, Y, when
from srma.review.appraise.tools import RESULT, Domain, Tool

LOW, SOME, HIGH = "Low", "Some concerns", "High"
LEVELS = (LOW, SOME, HIGH)
ASSIGNMENT, ADHERING = "assignment", "adhering"

_YES = frozenset({Y, PY})
_NO = frozenset({N, PN})
_YES_NI = _YES | {NI}
_NO_NI = _NO | {NI}
_WITHOUT_NI = (Y, PY, PN, N)

GUIDANCE = "Higgins et al. 2019, RoB 2 full guidance (22 August 2019)"


def _worst(*judgements: str) -> str:
    return max(judgements, key=LEVELS.index)


def randomization(a: Mapping[str, str]) -> str:
    """Domain 1 flowchart (guidance, "Algorithm for suggested judgement of risk of bias arising
    from the randomization process"): start at 1.2 (concealment).

    * 1.2 Y/PY, 1.1 Y/PY/NI, 1.3 N/PN/NI: Low; 1.3 Y/PY: Some concerns.
    * 1.2 Y/PY, 1.1 N/PN: Some concerns.
    * 1.2 NI, 1.3 N/PN/NI: Some concerns; 1.3 Y/PY: High.
    * 1.2 N/PN: High.
    """
    if a["1.2"] in _YES:
        if a["1.1"] in _NO:
            return SOME
        return LOW if a["1.3"] in _NO_NI else SOME
    if a["1.2"] == NI:
        return SOME if a["1.3"] in _NO_NI else HIGH
    return HIGH


def deviations_assignment(a: Mapping[str, str]) -> str:
    """Domain 2, effect of assignment (guidance flowchart, two parts, the worse one wins).

    Part 1 (2.1-2.5): 2.1 and 2.2 both N/PN: Low; otherwise 2.3 N/PN: Low;
    2.3 NI: Some concerns; 2.3 Y/PY then 2.4 N/PN: Some concerns; 2.4
    Y/PY/NI then 2.5 Y/PY: Some concerns, 2.5 N/PN/NI: High.
    Part 2 (2.6-2.7): 2.6 Y/PY: Low; 2.6 N/PN/NI then 2.7 N/PN: Some
    concerns, 2.7 Y/PY/NI: High.
    Domain: Low if both parts are Low, High if either is High, else Some concerns.
    """
    return _worst(_assignment_part1(a), _assignment_part2(a))


def _assignment_part1(a: Mapping[str, str]) -> str:
    if (a["2.1"] in _NO and a["2.2"] in _NO) or a["2.3"] in _NO:
        return LOW
    if a["2.3"] == NI or a["2.4"] in _NO:
        return SOME
    return SOME if a["2.5"] in _YES else HIGH


def _assignment_part2(a: Mapping[str, str]) -> str:
    if a["2.6"] in _YES:
        return LOW
    return SOME if a["2.7"] in _NO else HIGH


def deviations_adhering(a: Mapping[str, str]) -> str:
    """Domain 2, effect of adhering (guidance flowchart).

    2.1 and 2.2 both N/PN go to 2.4/2.5; either Y/PY/NI goes to 2.3, where
    NA/Y/PY goes to 2.4/2.5 and N/PN/NI to 2.6.  At 2.4/2.5 both NA/N/PN:
    Low; either Y/PY/NI goes to 2.6.  2.6 Y/PY: Some concerns; N/PN/NI: High.
    """
    aware = not (a["2.1"] in _NO and a["2.2"] in _NO)
    if aware and a["2.3"] in _NO_NI:
        return SOME if a["2.6"] in _YES else HIGH
    if a["2.4"] in _NO | {NA} and a["2.5"] in _NO | {NA}:
        return LOW
    return SOME if a["2.6"] in _YES else HIGH


def missing_data(a: Mapping[str, str]) -> str:
    """Domain 3 flowchart: 3.1 Y/PY: Low; else 3.2 Y/PY: Low; 3.2 N/PN then 3.3 N/PN: Low;
    3.3 Y/PY/NI then 3.4 N/PN: Some concerns, 3.4 Y/PY/NI: High."""
    if a["3.1"] in _YES or a["3.2"] in _YES or a["3.3"] in _NO:
        return LOW
    return SOME if a["3.4"] in _NO else HIGH


def measurement(a: Mapping[str, str]) -> str:
    """Domain 4 flowchart: 4.1 Y/PY or 4.2 Y/PY: High.  4.2 N/PN: 4.3 N/PN Low; 4.3 Y/PY/NI
    then 4.4 N/PN Low; 4.4 Y/PY/NI then 4.5 N/PN Some concerns, 4.5 Y/PY/NI High.  4.2 NI:
    the same path with Some concerns in place of Low."""
    if a["4.1"] in _YES or a["4.2"] in _YES:
        return HIGH
    unblinded = LOW if a["4.2"] in _NO else SOME
    if a["4.3"] in _NO or a["4.4"] in _NO:
        return unblinded
    return SOME if a["4.5"] in _NO else HIGH


def reported_result(a: Mapping[str, str]) -> str:
    """Domain 5 flowchart: 5.2 or 5.3 Y/PY: High; at least one NI but neither Y/PY: Some
    concerns; both N/PN: 5.1 Y/PY Low, 5.1 N/PN/NI Some concerns."""
    if a["5.2"] in _YES or a["5.3"] in _YES:
        return HIGH
    if NI in (a["5.2"], a["5.3"]):
        return SOME
    return LOW if a["5.1"] in _YES else SOME


def overall(judgements: Mapping[str, str], key_domains: frozenset[str] = frozenset()) -> str:
    """Overall proposal (Sterne et al. 2019, "Reaching an overall risk-of-bias judgement"):
    Low if every domain is Low, High if any is High, Some concerns otherwise.

    The same source lets the assessor judge High when several domains have
    some concerns "in a way that substantially lowers confidence in the
    result"; that is the assessor's override (with its reason), not the
    algorithm's.  ``key_domains`` is unused: RoB 2 weighs every domain.
    """
    return _worst(*judgements.values())


def _q(number: str, text: str, **kwargs: object) -> Question:
    return Question(number, text, **kwargs)  # type: ignore[arg-type]


_AWARE = (
    _q("2.1", "Were participants aware of their assigned intervention during the trial?"),
    _q(
        "2.2",
        "Were carers and people delivering the interventions aware of participants' assigned "
        "intervention during the trial?",
    ),
)

_SELECTED = (
    "Is the numerical result being assessed likely to have been selected, on the basis of the "
    "results, from..."
)

TOOL = Tool(
    name="rob2",
    title="RoB 2 (revised Cochrane risk-of-bias tool for randomized trials)",
    citation=(
        "Sterne JAC, Savović J, Page MJ, et al. RoB 2: a revised tool for assessing risk of bias "
        "in randomised trials. BMJ 2019;366:l4898. Higgins JPT, Savović J, Page MJ, Sterne JAC "
        "(eds). Revised Cochrane risk-of-bias tool for randomized trials (RoB 2), full guidance, "
        "22 August 2019."
    ),
    unit=RESULT,
    levels=LEVELS,
    effects=(ASSIGNMENT, ADHERING),
    overall=overall,
    overall_source="Sterne et al. 2019 (BMJ 366:l4898): reaching an overall judgement",
    synonyms={"low risk": LOW, "some concern": SOME, "high risk": HIGH, "+": LOW, "-": HIGH},
    domains=(
        Domain(
            "D1",
            "Bias arising from the randomization process",
            (
                _q("1.1", "Was the allocation sequence random?"),
                _q(
                    "1.2",
                    "Was the allocation sequence concealed until participants were enrolled "
                    "and assigned to interventions?",
                ),
                _q(
                    "1.3",
                    "Did baseline differences between intervention groups suggest a problem "
                    "with the randomization process?",
                ),
            ),
            propose=randomization,
            source=f"{GUIDANCE}, domain 1 algorithm",
        ),
        Domain(
            "D2",
            "Bias due to deviations from intended interventions",
            (
                *_AWARE,
                _q(
                    "2.3",
                    "Were there deviations from the intended intervention that arose because "
                    "of the trial context?",
                    condition=when("Y/PY/NI", "2.1", "2.2"),
                    condition_text="If Y/PY/NI to 2.1 or 2.2",
                ),
                _q(
                    "2.4",
                    "Were these deviations likely to have affected the outcome?",
                    condition=when("Y/PY", "2.3"),
                    condition_text="If Y/PY to 2.3",
                ),
                _q(
                    "2.5",
                    "Were these deviations from intended intervention balanced between groups?",
                    condition=when("Y/PY/NI", "2.4"),
                    condition_text="If Y/PY/NI to 2.4",
                ),
                _q(
                    "2.6",
                    "Was an appropriate analysis used to estimate the effect of assignment to "
                    "intervention?",
                ),
                _q(
                    "2.7",
                    "Was there potential for a substantial impact (on the result) of the "
                    "failure to analyse participants in the group to which they were "
                    "randomized?",
                    condition=when("N/PN/NI", "2.6"),
                    condition_text="If N/PN/NI to 2.6",
                ),
            ),
            effect=ASSIGNMENT,
            propose=deviations_assignment,
            source=f"{GUIDANCE}, domain 2 (effect of assignment) algorithm",
        ),
        Domain(
            "D2",
            "Bias due to deviations from intended interventions",
            (
                *_AWARE,
                _q(
                    "2.3",
                    "Were important non-protocol interventions balanced across intervention "
                    "groups?",
                    condition=when("Y/PY/NI", "2.1", "2.2"),
                    condition_text="If Y/PY/NI to 2.1 or 2.2",
                    na_allowed=True,
                ),
                _q(
                    "2.4",
                    "Were there failures in implementing the intervention that could have "
                    "affected the outcome?",
                    na_allowed=True,
                ),
                _q(
                    "2.5",
                    "Was there non-adherence to the assigned intervention regimen that could "
                    "have affected participants' outcomes?",
                    na_allowed=True,
                ),
                _q(
                    "2.6",
                    "Was an appropriate analysis used to estimate the effect of adhering to the "
                    "intervention?",
                    condition=AnyOf((when("N/PN/NI", "2.3"), when("Y/PY/NI", "2.4", "2.5"))),
                    condition_text="If N/PN/NI to 2.3, or Y/PY/NI to 2.4 or 2.5",
                ),
            ),
            effect=ADHERING,
            propose=deviations_adhering,
            source=f"{GUIDANCE}, domain 2 (effect of adhering) algorithm",
        ),
        Domain(
            "D3",
            "Bias due to missing outcome data",
            (
                _q(
                    "3.1",
                    "Were data for this outcome available for all, or nearly all, "
                    "participants randomized?",
                ),
                _q(
                    "3.2",
                    "Is there evidence that the result was not biased by missing outcome data?",
                    answers=_WITHOUT_NI,
                    condition=when("N/PN/NI", "3.1"),
                    condition_text="If N/PN/NI to 3.1",
                ),
                _q(
                    "3.3",
                    "Could missingness in the outcome depend on its true value?",
                    condition=when("N/PN", "3.2"),
                    condition_text="If N/PN to 3.2",
                ),
                _q(
                    "3.4",
                    "Is it likely that missingness in the outcome depended on its true value?",
                    condition=when("Y/PY/NI", "3.3"),
                    condition_text="If Y/PY/NI to 3.3",
                ),
            ),
            propose=missing_data,
            source=f"{GUIDANCE}, domain 3 algorithm",
        ),
        Domain(
            "D4",
            "Bias in measurement of the outcome",
            (
                _q("4.1", "Was the method of measuring the outcome inappropriate?"),
                _q(
                    "4.2",
                    "Could measurement or ascertainment of the outcome have differed between "
                    "intervention groups?",
                ),
                _q(
                    "4.3",
                    "Were outcome assessors aware of the intervention received by study "
                    "participants?",
                    condition=when("N/PN/NI", "4.1", "4.2", any_of=False),
                    condition_text="If N/PN/NI to 4.1 and 4.2",
                ),
                _q(
                    "4.4",
                    "Could assessment of the outcome have been influenced by knowledge of "
                    "intervention received?",
                    condition=when("Y/PY/NI", "4.3"),
                    condition_text="If Y/PY/NI to 4.3",
                ),
                _q(
                    "4.5",
                    "Is it likely that assessment of the outcome was influenced by knowledge of "
                    "intervention received?",
                    condition=when("Y/PY/NI", "4.4"),
                    condition_text="If Y/PY/NI to 4.4",
                ),
            ),
            propose=measurement,
            source=f"{GUIDANCE}, domain 4 algorithm",
        ),
        Domain(
            "D5",
            "Bias in selection of the reported result",
            (
                _q(
                    "5.1",
                    "Were the data that produced this result analysed in accordance with a "
                    "pre-specified analysis plan that was finalized before unblinded outcome "
                    "data were available for analysis?",
                ),
                _q(
                    "5.2",
                    f"{_SELECTED} multiple eligible outcome measurements (e.g. scales, "
                    "definitions, time points) within the outcome domain?",
                ),
                _q("5.3", f"{_SELECTED} multiple eligible analyses of the data?"),
            ),
            propose=reported_result,
            source=f"{GUIDANCE}, domain 5 algorithm",
        ),
    ),
)
