"""The CAMARADES study-quality checklist for experimental (animal) stroke studies.

Source: Macleod MR, O'Collins T, Howells DW, Donnan GA. Pooling of animal
experimental data reveals influence of study design and publication bias.
Stroke 2004;35:1203-1208: a ten-item checklist, one point for each item
met, the quality score being the number of items met (maximum 10).  srma
records each item as met, not met or unclear (unclear scores no point), per
study, and reports the score with its maximum (:attr:`Tool.score_level`).
"""

from __future__ import annotations

from srma.review.appraise.tools import STUDY, Domain, Tool

MET, UNCLEAR, NOT_MET = "Met", "Unclear", "Not met"
_SOURCE = "Macleod et al. 2004 (Stroke 35:1203-1208), study quality checklist"

_ITEMS = (
    "Publication in a peer-reviewed journal",
    "Statement of control of temperature",
    "Random allocation to treatment or control",
    "Blinded induction of ischemia",
    "Blinded assessment of outcome",
    "Use of anesthetic without significant intrinsic neuroprotective activity",
    "Animal model (aged, diabetic, or hypertensive)",
    "Sample size calculation",
    "Compliance with animal welfare regulations",
    "Statement of potential conflict of interest",
)

TOOL = Tool(
    name="camarades",
    title="CAMARADES study-quality checklist (experimental stroke)",
    citation=(
        "Macleod MR, O'Collins T, Howells DW, Donnan GA. Pooling of animal experimental data "
        "reveals influence of study design and publication bias. Stroke 2004;35:1203-1208."
    ),
    unit=STUDY,
    levels=(MET, UNCLEAR, NOT_MET),
    score_level=MET,
    synonyms={"yes": MET, "y": MET, "1": MET, "no": NOT_MET, "n": NOT_MET, "0": NOT_MET},
    domains=tuple(Domain(f"D{k}", name, source=_SOURCE) for k, name in enumerate(_ITEMS, start=1)),
)
