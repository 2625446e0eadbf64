"""RoB 1, the Cochrane Collaboration's tool for assessing risk of bias (2011): seven domains.

Sources: Higgins JPT, Altman DG, Gøtzsche PC, et al. The Cochrane
Collaboration's tool for assessing risk of bias in randomised trials. BMJ
2011;343:d5928; Higgins JPT, Green S (eds). Cochrane Handbook for Systematic
Reviews of Interventions 5.1.0 (2011), Table 8.5.a, whose "support for
judgement" guidance is each domain's ``prompt``.  The tool the seed review
(Huang et al. 2024, BMC Neurology) used.

RoB 1 has no signalling questions and no algorithm: the assessor judges each
domain Low, Unclear or High risk of bias, and the Handbook (5.1, section 8.7)
leaves any summary across domains to the review's own key domains, so the
tool proposes no overall judgement.  It is judged per study (the Handbook
allows blinding and incomplete-outcome domains to be judged per outcome;
srma records one judgement per study and domain).
"""

from __future__ import annotations

from srma.review.appraise.tools import STUDY, Domain, Tool

LOW, UNCLEAR, HIGH = "Low", "Unclear", "High"
_TABLE = "Cochrane Handbook 5.1.0, Table 8.5.a"

TOOL = Tool(
    name="rob1",
    title="Cochrane risk-of-bias tool (RoB 1)",
    citation=(
        "Higgins JPT, Altman DG, Gøtzsche PC, et al. The Cochrane Collaboration's tool for "
        "assessing risk of bias in randomised trials. BMJ 2011;343:d5928."
    ),
    unit=STUDY,
    levels=(LOW, UNCLEAR, HIGH),
    synonyms={
        "low risk": LOW,
        "unclear risk": UNCLEAR,
        "high risk": HIGH,
        "+": LOW,
        "?": UNCLEAR,
        "-": HIGH,
    },
    domains=(
        Domain(
            "D1",
            "Random sequence generation (selection bias)",
            prompt=(
                "Describe the method used to generate the allocation sequence in sufficient "
                "detail to allow an assessment of whether it should produce comparable groups."
            ),
            source=_TABLE,
        ),
        Domain(
            "D2",
            "Allocation concealment (selection bias)",
            prompt=(
                "Describe the method used to conceal the allocation sequence in sufficient "
                "detail to determine whether intervention allocations could have been foreseen "
                "in advance of, or during, enrolment."
            ),
            source=_TABLE,
        ),
        Domain(
            "D3",
            "Blinding of participants and personnel (performance bias)",
            prompt=(
                "Describe all measures used, if any, to blind study participants and personnel "
                "from knowledge of which intervention a participant received. Provide any "
                "information relating to whether the intended blinding was effective."
            ),
            source=_TABLE,
        ),
        Domain(
            "D4",
            "Blinding of outcome assessment (detection bias)",
            prompt=(
                "Describe all measures used, if any, to blind outcome assessors from knowledge "
                "of which intervention a participant received. Provide any information relating "
                "to whether the intended blinding was effective."
            ),
            source=_TABLE,
        ),
        Domain(
            "D5",
            "Incomplete outcome data (attrition bias)",
            prompt=(
                "Describe the completeness of outcome data for each main outcome, including "
                "attrition and exclusions from the analysis. State whether attrition and "
                "exclusions were reported, the numbers in each intervention group (compared "
                "with total randomized participants), reasons for attrition/exclusions where "
                "reported, and any re-inclusions in analyses performed by the review authors."
            ),
            source=_TABLE,
        ),
        Domain(
            "D6",
            "Selective reporting (reporting bias)",
            prompt=(
                "State how the possibility of selective outcome reporting was examined by the "
                "review authors, and what was found."
            ),
            source=_TABLE,
        ),
        Domain(
            "D7",
            "Other bias",
            prompt=(
                "State any important concerns about bias not addressed in the other domains in "
                "the tool."
            ),
            source=_TABLE,
        ),
    ),
)
