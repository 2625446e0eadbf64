"""GRADE: the certainty of the evidence per outcome, and absolute effects for its summary.

``assess_certainty(GradeInputs(outcome, result, ...))`` proposes each of the five
domains by a stated rule with its reference (:mod:`.domains`), applies a
reviewer's :class:`Override` with its reason, rates up where GRADE allows, and
gives a :class:`Certainty` (high, moderate, low, very low) with the absolute
effect per 1,000 of a binary outcome (:func:`absolute_effect`) or the
difference of a continuous one.  docs/grade.md describes every rule.
"""

from __future__ import annotations

from srma.analysis.grade.absolute import AbsoluteEffect, absolute_effect, assumed_comparator_risk
from srma.analysis.grade.certainty import Certainty, GradeInputs, assess_certainty
from srma.analysis.grade.levels import (
    DOMAINS,
    LEVELS,
    UPGRADES,
    DomainRating,
    Override,
    symbols,
)

__all__ = [
    "DOMAINS",
    "LEVELS",
    "UPGRADES",
    "AbsoluteEffect",
    "Certainty",
    "DomainRating",
    "GradeInputs",
    "Override",
    "absolute_effect",
    "assess_certainty",
    "assumed_comparator_risk",
    "symbols",
]
