"""SYRCLE's risk-of-bias tool for animal studies: ten items and their signalling questions.

Source: Hooijmans CR, Rovers MM, de Vries RBM, Leenaars M, Ritskes-Hoitinga M,
Langendam MW. SYRCLE's risk of bias tool for animal studies. BMC Med Res
Methodol 2014;14:43.  Table 2 gives the ten items (entries), their type of
bias, domain and the question the review authors answer; Table 3 gives the
signalling questions, each answered yes, no or unclear, "included to assist
judgment".  The item judgement is yes (low risk of bias), no (high risk) or
unclear; srma stores it as Low, High or Unclear and reads yes/no as those.

Table 3 prints its signalling questions as unnumbered bullets; srma numbers
them item.position (4.2 is the second question of item 4).  Table 3 adds
that a "no" to one of the relevant signalling questions indicates high risk
of bias for the entry; which questions are relevant is the assessor's call
(item 7 offers two alternative routes to "yes"), so srma proposes no item
judgement: the assessor judges every item, and every signalling question is
optional.  The tool is applied per study; srma sums no score across items.
"""

from __future__ import annotations

from srma.review.appraise.signalling import YES_NO_UNCLEAR, Question
from srma.review.appraise.tools import STUDY, Domain, Tool

LOW, UNCLEAR, HIGH = "Low", "Unclear", "High"
_TABLES = "Hooijmans et al. 2014 (BMC Med Res Methodol 14:43), Tables 2 and 3"


def _item(number: int, name: str, question: str, *signalling: str) -> Domain:
    return Domain(
        f"D{number}",
        name,
        tuple(
            Question(f"{number}.{k}", text, answers=YES_NO_UNCLEAR, required=False)
            for k, text in enumerate(signalling, start=1)
        ),
        prompt=question,
        source=_TABLES,
    )


TOOL = Tool(
    name="syrcle",
    title="SYRCLE's risk-of-bias tool for animal studies",
    citation=(
        "Hooijmans CR, Rovers MM, de Vries RBM, et al. SYRCLE's risk of bias tool for animal "
        "studies. BMC Med Res Methodol 2014;14:43."
    ),
    unit=STUDY,
    levels=(LOW, UNCLEAR, HIGH),
    synonyms={"yes": LOW, "y": LOW, "no": HIGH, "n": HIGH, "low risk": LOW, "high risk": HIGH},
    domains=(
        _item(
            1,
            "Sequence generation (selection bias)",
            "Was the allocation sequence adequately generated and applied?",
            "Did the investigators describe a random component in the sequence generation "
            "process such as: referring to a random number table; using a computer random number "
            "generator?",
        ),
        _item(
            2,
            "Baseline characteristics (selection bias)",
            "Were the groups similar at baseline or were they adjusted for confounders in the "
            "analysis?",
            "Was the distribution of relevant baseline characteristics balanced for the "
            "intervention and control groups?",
            "If relevant, did the investigators adequately adjust for unequal distribution of "
            "some relevant baseline characteristics in the analysis?",
            "Was the timing of disease induction adequate?",
        ),
        _item(
            3,
            "Allocation concealment (selection bias)",
            "Was the allocation adequately concealed?",
            "Could the investigator allocating the animals to intervention or control group not "
            "foresee assignment due to one of the following or an equivalent method: third-party "
            "coding of experimental and control group allocation; sequentially numbered opaque, "
            "sealed envelopes?",
        ),
        _item(
            4,
            "Random housing (performance bias)",
            "Were the animals randomly housed during the experiment?",
            "Did the authors randomly place the cages or animals within the animal room/facility?",
            "Is it unlikely that the outcome or the outcome measurement was influenced by not "
            "randomly housing the animals?",
        ),
        _item(
            5,
            "Blinding (performance bias)",
            "Were the caregivers and/or investigators blinded from knowledge which intervention "
            "each animal received during the experiment?",
            "Was blinding of caregivers and investigators ensured, and was it unlikely that their "
            "blinding could have been broken?",
        ),
        _item(
            6,
            "Random outcome assessment (detection bias)",
            "Were animals selected at random for outcome assessment?",
            "Did the investigators randomly pick an animal during outcome assessment, or did they "
            "use a random component in the sequence generation for outcome assessment?",
        ),
        _item(
            7,
            "Blinding (detection bias)",
            "Was the outcome assessor blinded?",
            "Was blinding of the outcome assessor ensured, and was it unlikely that blinding "
            "could have been broken?",
            "Was the outcome assessor not blinded, but do review authors judge that the outcome "
            "is not likely to be influenced by lack of blinding?",
        ),
        _item(
            8,
            "Incomplete outcome data (attrition bias)",
            "Were incomplete outcome data adequately addressed?",
            "Were all animals included in the analysis?",
            "Were the reasons for missing outcome data unlikely to be related to true outcome?",
            "Were missing outcome data balanced in numbers across intervention groups, with "
            "similar reasons for missing data across groups?",
            "Were missing data imputed using appropriate methods?",
        ),
        _item(
            9,
            "Selective outcome reporting (reporting bias)",
            "Are reports of the study free of selective outcome reporting?",
            "Was the study protocol available and were all of the study's pre-specified primary "
            "and secondary outcomes reported in the current manuscript?",
            "Was the study protocol not available, but was it clear that the published report "
            "included all expected outcomes (i.e. comparing methods and results section)?",
        ),
        _item(
            10,
            "Other (other bias)",
            "Was the study apparently free of other problems that could result in high risk of "
            "bias?",
            "Was the study free of contamination (pooling drugs)?",
            "Was the study free of inappropriate influence of funders?",
            "Was the study free of unit of analysis errors?",
            "Were design-specific risks of bias absent?",
            "Were new animals added to the control and experimental groups to replace drop-outs "
            "from the original population?",
        ),
    ),
)
