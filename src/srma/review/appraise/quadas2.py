"""QUADAS-2: risk of bias and applicability of diagnostic accuracy studies.

Source: Whiting PF, Rutjes AWS, Westwood ME, et al. QUADAS-2: a revised tool
for the quality assessment of diagnostic accuracy studies. Ann Intern Med
2011;155:529-536, Table 1 (four domains; signalling questions answered yes,
no or unclear; risk of bias judged low, high or unclear; concerns about
applicability for the first three domains, judged low, high or unclear).
The paper prints the signalling questions unnumbered; srma numbers them
domain.position in the paper's order (1.1 is the first question of patient
selection).

The rule (Whiting et al. 2011): if all signalling questions of a domain are
answered yes, risk of bias can be judged low; if any is answered no (or
unclear), the potential for bias exists and the review authors judge by the
guidance their review drew up.  So a domain
proposes Low when every answer is yes and proposes nothing otherwise: the
assessor's judgement is then required.  Applicability is always the
assessor's.  The tool is applied per study and gives no overall score.
"""

from __future__ import annotations

from collections.abc import Mapping

from srma.review.appraise.signalling import YES, YES_NO_UNCLEAR, Question
from srma.review.appraise.tools import STUDY, Domain, Tool

LOW, UNCLEAR, HIGH = "Low", "Unclear", "High"
_SOURCE = "Whiting et al. 2011 (Ann Intern Med 155:529-536), Table 1"


def all_yes(answers: Mapping[str, str]) -> str | None:
    """Low when every signalling question is answered yes; None (potential for bias) otherwise."""
    return LOW if all(answer == YES for answer in answers.values()) else None


def _q(number: str, text: str) -> Question:
    return Question(number, text, answers=YES_NO_UNCLEAR)


TOOL = Tool(
    name="quadas2",
    title="QUADAS-2 (quality assessment of diagnostic accuracy studies)",
    citation=(
        "Whiting PF, Rutjes AWS, Westwood ME, et al. QUADAS-2: a revised tool for the quality "
        "assessment of diagnostic accuracy studies. Ann Intern Med 2011;155:529-536."
    ),
    unit=STUDY,
    levels=(LOW, UNCLEAR, HIGH),
    applicability_levels=(LOW, UNCLEAR, HIGH),
    synonyms={"low risk": LOW, "high risk": HIGH, "unclear risk": UNCLEAR},
    domains=(
        Domain(
            "D1",
            "Patient selection",
            (
                _q("1.1", "Was a consecutive or random sample of patients enrolled?"),
                _q("1.2", "Was a case-control design avoided?"),
                _q("1.3", "Did the study avoid inappropriate exclusions?"),
            ),
            prompt="Could the selection of patients have introduced bias?",
            propose=all_yes,
            applicability=(
                "Are there concerns that the included patients do not match the review question?"
            ),
            source=_SOURCE,
        ),
        Domain(
            "D2",
            "Index test",
            (
                _q(
                    "2.1",
                    "Were the index test results interpreted without knowledge of the results of "
                    "the reference standard?",
                ),
                _q("2.2", "If a threshold was used, was it pre-specified?"),
            ),
            prompt="Could the conduct or interpretation of the index test have introduced bias?",
            propose=all_yes,
            applicability=(
                "Are there concerns that the index test, its conduct, or its interpretation "
                "differ from the review question?"
            ),
            source=_SOURCE,
        ),
        Domain(
            "D3",
            "Reference standard",
            (
                _q(
                    "3.1",
                    "Is the reference standard likely to correctly classify the target condition?",
                ),
                _q(
                    "3.2",
                    "Were the reference standard results interpreted without knowledge of the "
                    "results of the index test?",
                ),
            ),
            prompt=(
                "Could the reference standard, its conduct, or its interpretation have introduced "
                "bias?"
            ),
            propose=all_yes,
            applicability=(
                "Are there concerns that the target condition as defined by the reference "
                "standard does not match the review question?"
            ),
            source=_SOURCE,
        ),
        Domain(
            "D4",
            "Flow and timing",
            (
                _q(
                    "4.1",
                    "Was there an appropriate interval between index test(s) and reference "
                    "standard?",
                ),
                _q("4.2", "Did all patients receive a reference standard?"),
                _q("4.3", "Did patients receive the same reference standard?"),
                _q("4.4", "Were all patients included in the analysis?"),
            ),
            prompt="Could the patient flow have introduced bias?",
            propose=all_yes,
            source=_SOURCE,
        ),
    ),
)
