"""ROBINS-I (2016): risk of bias in non-randomised studies of interventions.

Source: Sterne JAC, Hernán MA, Reeves BC, et al. ROBINS-I: a tool for
assessing risk of bias in non-randomised studies of interventions. BMJ
2016;355:i4919, and its tool template (riskofbias.info), whose signalling
questions, response options and conditions are encoded here (cross-checked
against the template as reproduced in the appendix of Cochrane Database Syst
Rev 2021;4:CD010682).

ROBINS-I judges one result (``unit="result"``).  The 2016 tool has no
algorithm for the domain judgements: they are the assessor's, informed by
the answers, so no domain proposes one.  (ROBINS-I V2, still a draft at
riskofbias.info, adds per-domain algorithms; srma does not encode a draft.)
The overall judgement follows the tool's rule (:func:`overall`).

Conditions are read literally.  The tool routes 1.2 and 1.3 by N/PN and Y/PY
("If N/PN to 1.2, answer questions relating to baseline confounding (1.4 to
1.6); If Y/PY to 1.2, go to question 1.3"); it gives no route after NI to
1.2 or 1.3, so srma then asks neither 1.4-1.6 nor 1.7-1.8.
"""

from __future__ import annotations

from collections.abc import Mapping

from srma.review.appraise.signalling import YES_NO, AnyOf, Question, when
from srma.review.appraise.tools import RESULT, Domain, Tool

LOW, MODERATE, SERIOUS, CRITICAL = "Low", "Moderate", "Serious", "Critical"
NO_INFORMATION = "No information"
LEVELS = (LOW, MODERATE, SERIOUS, CRITICAL)
ASSIGNMENT, ADHERING = "assignment", "adhering"


def overall(judgements: Mapping[str, str], key_domains: frozenset[str]) -> str | None:
    """The overall proposal (Sterne et al. 2016, interpretation of overall judgements).

    * Critical: critical risk of bias in at least one domain;
    * Serious: serious in at least one domain, but not critical in any;
    * No information: no clear indication of serious or critical risk, and a
      lack of information in one or more key domains;
    * Low: low risk of bias in every domain;
    * Moderate: low or moderate in every domain.

    ``key_domains`` are the domain ids the protocol names as key.  No
    information only in domains that are not key leaves the rule without an
    answer (None): the assessor judges.
    """
    values = set(judgements.values())
    if CRITICAL in values:
        return CRITICAL
    if SERIOUS in values:
        return SERIOUS
    missing = {domain for domain, value in judgements.items() if value == NO_INFORMATION}
    if missing & key_domains:
        return NO_INFORMATION
    if missing:
        return None
    return LOW if values == {LOW} else MODERATE


_BASELINE = AnyOf((when("N/PN", "1.2"), when("N/PN", "1.3")))
_BASELINE_TEXT = "If N/PN to 1.2 or to 1.3 (questions relating to baseline confounding only)"
_MISSING = AnyOf((when("N/PN", "5.1"), when("Y/PY", "5.2", "5.3")))
_SELECTED = (
    "Is the reported effect estimate likely to be selected, on the basis of the results, from..."
)

TOOL = Tool(
    name="robins-i",
    title="ROBINS-I (risk of bias in non-randomised studies of interventions)",
    citation=(
        "Sterne JAC, Hernán MA, Reeves BC, et al. ROBINS-I: a tool for assessing risk of bias "
        "in non-randomised studies of interventions. BMJ 2016;355:i4919."
    ),
    unit=RESULT,
    levels=LEVELS,
    other_levels=(NO_INFORMATION,),
    effects=(ASSIGNMENT, ADHERING),
    overall=overall,
    overall_source="Sterne et al. 2016 (BMJ 355:i4919): interpretation of overall judgements",
    synonyms={"ni": NO_INFORMATION, "no info": NO_INFORMATION},
    domains=(
        Domain(
            "D1",
            "Bias due to confounding",
            (
                Question(
                    "1.1",
                    "Is there potential for confounding of the effect of intervention in this "
                    "study?",
                    answers=YES_NO,
                ),
                Question(
                    "1.2",
                    "Was the analysis based on splitting participants' follow up time according "
                    "to intervention received?",
                    condition=when("Y/PY", "1.1"),
                    condition_text="If Y/PY to 1.1",
                ),
                Question(
                    "1.3",
                    "Were intervention discontinuations or switches likely to be related to "
                    "factors that are prognostic for the outcome?",
                    condition=when("Y/PY", "1.2"),
                    condition_text="If Y/PY to 1.2",
                ),
                Question(
                    "1.4",
                    "Did the authors use an appropriate analysis method that controlled for all "
                    "the important confounding domains?",
                    condition=_BASELINE,
                    condition_text=_BASELINE_TEXT,
                ),
                Question(
                    "1.5",
                    "Were confounding domains that were controlled for measured validly and "
                    "reliably by the variables available in this study?",
                    condition=when("Y/PY", "1.4"),
                    condition_text="If Y/PY to 1.4",
                ),
                Question(
                    "1.6",
                    "Did the authors control for any post-intervention variables that could "
                    "have been affected by the intervention?",
                    condition=_BASELINE,
                    condition_text=_BASELINE_TEXT,
                ),
                Question(
                    "1.7",
                    "Did the authors use an appropriate analysis method that controlled for all "
                    "the important confounding domains and for time-varying confounding?",
                    condition=when("Y/PY", "1.3"),
                    condition_text=(
                        "If Y/PY to 1.3 (questions relating to baseline and time-varying "
                        "confounding)"
                    ),
                ),
                Question(
                    "1.8",
                    "Were confounding domains that were controlled for measured validly and "
                    "reliably by the variables available in this study?",
                    condition=when("Y/PY", "1.7"),
                    condition_text="If Y/PY to 1.7",
                ),
            ),
        ),
        Domain(
            "D2",
            "Bias in selection of participants into the study",
            (
                Question(
                    "2.1",
                    "Was selection of participants into the study (or into the analysis) based "
                    "on participant characteristics observed after the start of intervention?",
                ),
                Question(
                    "2.2",
                    "Were the post-intervention variables that influenced selection likely to be "
                    "associated with intervention?",
                    condition=when("Y/PY", "2.1"),
                    condition_text="If Y/PY to 2.1",
                ),
                Question(
                    "2.3",
                    "Were the post-intervention variables that influenced selection likely to be "
                    "influenced by the outcome or a cause of the outcome?",
                    condition=when("Y/PY", "2.2"),
                    condition_text="If Y/PY to 2.2",
                ),
                Question(
                    "2.4",
                    "Do start of follow-up and start of intervention coincide for most "
                    "participants?",
                ),
                Question(
                    "2.5",
                    "Were adjustment techniques used that are likely to correct for the presence "
                    "of selection biases?",
                    condition=AnyOf(
                        (when("Y/PY", "2.2", "2.3", any_of=False), when("N/PN", "2.4"))
                    ),
                    condition_text="If Y/PY to 2.2 and 2.3, or N/PN to 2.4",
                ),
            ),
        ),
        Domain(
            "D3",
            "Bias in classification of interventions",
            (
                Question("3.1", "Were intervention groups clearly defined?"),
                Question(
                    "3.2",
                    "Was the information used to define intervention groups recorded at the "
                    "start of the intervention?",
                ),
                Question(
                    "3.3",
                    "Could classification of intervention status have been affected by "
                    "knowledge of the outcome or risk of the outcome?",
                ),
            ),
        ),
        Domain(
            "D4",
            "Bias due to deviations from intended interventions",
            (
                Question(
                    "4.1",
                    "Were there deviations from the intended intervention beyond what would be "
                    "expected in usual practice?",
                ),
                Question(
                    "4.2",
                    "Were these deviations from intended intervention unbalanced between groups "
                    "and likely to have affected the outcome?",
                    condition=when("Y/PY", "4.1"),
                    condition_text="If Y/PY to 4.1",
                ),
            ),
            effect=ASSIGNMENT,
            prompt=(
                "If your aim for this study is to assess the effect of assignment to "
                "intervention, answer questions 4.1 and 4.2"
            ),
        ),
        Domain(
            "D4",
            "Bias due to deviations from intended interventions",
            (
                Question(
                    "4.3", "Were important co-interventions balanced across intervention groups?"
                ),
                Question(
                    "4.4", "Was the intervention implemented successfully for most participants?"
                ),
                Question(
                    "4.5", "Did study participants adhere to the assigned intervention regimen?"
                ),
                Question(
                    "4.6",
                    "Was an appropriate analysis used to estimate the effect of starting and "
                    "adhering to the intervention?",
                    condition=when("N/PN", "4.3", "4.4", "4.5"),
                    condition_text="If N/PN to 4.3, 4.4 or 4.5",
                ),
            ),
            effect=ADHERING,
            prompt=(
                "If your aim for this study is to assess the effect of starting and adhering to "
                "intervention, answer questions 4.3 to 4.6"
            ),
        ),
        Domain(
            "D5",
            "Bias due to missing data",
            (
                Question(
                    "5.1", "Were outcome data available for all, or nearly all, participants?"
                ),
                Question(
                    "5.2", "Were participants excluded due to missing data on intervention status?"
                ),
                Question(
                    "5.3",
                    "Were participants excluded due to missing data on other variables needed "
                    "for the analysis?",
                ),
                Question(
                    "5.4",
                    "Are the proportion of participants and reasons for missing data similar "
                    "across interventions?",
                    condition=_MISSING,
                    condition_text="If PN/N to 5.1, or Y/PY to 5.2 or 5.3",
                ),
                Question(
                    "5.5",
                    "Is there evidence that results were robust to the presence of missing data?",
                    condition=_MISSING,
                    condition_text="If PN/N to 5.1, or Y/PY to 5.2 or 5.3",
                ),
            ),
        ),
        Domain(
            "D6",
            "Bias in measurement of outcomes",
            (
                Question(
                    "6.1",
                    "Could the outcome measure have been influenced by knowledge of the "
                    "intervention received?",
                ),
                Question(
                    "6.2",
                    "Were outcome assessors aware of the intervention received by study "
                    "participants?",
                ),
                Question(
                    "6.3",
                    "Were the methods of outcome assessment comparable across intervention groups?",
                ),
                Question(
                    "6.4",
                    "Were any systematic errors in measurement of the outcome related to "
                    "intervention received?",
                ),
            ),
        ),
        Domain(
            "D7",
            "Bias in selection of the reported result",
            (
                Question(
                    "7.1", f"{_SELECTED} multiple outcome measurements within the outcome domain?"
                ),
                Question(
                    "7.2",
                    f"{_SELECTED} multiple analyses of the intervention-outcome relationship?",
                ),
                Question("7.3", f"{_SELECTED} different subgroups?"),
            ),
        ),
    ),
)
