"""What the planned analyses of a review give: per outcome, the data analysed, the policy's
result, every follow-up done or not done with its reason, and the version of the data.

These are the objects the whole-review report and the summary of findings read;
nothing downstream recomputes a statistic.  A follow-up the plan asked for but
the data cannot support is kept, with ``result = None`` and the reason, so a
report can say in words why a section is empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from srma.analysis.policies import PolicyResult
    from srma.review.protocol import Outcome

#: The kinds of follow-up analysis a plan can ask for.
FOLLOW_UP_KINDS = (
    "leave_one_out",  # result: srma.analysis.sensitivity.RefitTable
    "exclude_high_risk",  # result: srma.analysis.results.MetaResult (the policy's model refitted)
    "subgroup",  # result: srma.analysis.subgroups.SubgroupResult
    "metaregression",  # result: srma.analysis.metareg.MetaRegressionResult
    "small_study",  # result: srma.analysis.bias.SmallStudyResult
)


@dataclass(frozen=True)
class FollowUp:
    """One follow-up analysis of an outcome: its result, or None and why it was not run.

    ``name`` is what a report prints ("subgroup: route of administration");
    ``variable`` the study characteristic a subgroup or meta-regression uses
    (empty otherwise); ``reason`` says why it was run (the plan, the policy) or
    why not ("fewer than 10 studies: Egger's test not run").
    """

    kind: str
    name: str
    result: Any | None
    reason: str
    variable: str = ""

    @property
    def done(self) -> bool:
        return self.result is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "variable": self.variable,
            "done": self.done,
            "reason": self.reason,
            "result": None if self.result is None else self.result.to_dict(),
        }


@dataclass(frozen=True)
class MissingStudy:
    """A study of the review without usable data for an outcome, and why (from the export)."""

    study: str
    study_id: int
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"study": self.study, "study_id": self.study_id, "reason": self.reason}


@dataclass(frozen=True)
class OutcomeAnalysis:
    """The planned analyses of one outcome at one time point.

    ``table`` is the reconciled export analysed (srma's canonical columns, a
    row per study, the study characteristics as columns); ``policy`` is None
    when no study has usable data, with the reason in ``notes``;
    ``data_version`` is a hash of the table and the settings, so a stored
    result can be recognised as stale after the data change.  ``grade`` holds
    the summary-of-findings certainty (:mod:`srma.analysis.grade`) once rated.
    """

    outcome: Outcome
    time_point: str
    measure: str
    table: pd.DataFrame
    data_version: str
    policy: PolicyResult | None
    follow_ups: tuple[FollowUp, ...] = ()
    missing: tuple[MissingStudy, ...] = ()
    notes: tuple[str, ...] = ()
    grade: Any | None = None
    stale: bool = False

    @property
    def k(self) -> int:
        return 0 if self.policy is None else self.policy.result.k

    def follow_up(self, kind: str) -> tuple[FollowUp, ...]:
        """The follow-ups of one kind, in the order they were run."""
        return tuple(f for f in self.follow_ups if f.kind == kind)


@dataclass(frozen=True)
class ReviewAnalysis:
    """Every outcome of a review analysed as its protocol plans, from one data version."""

    title: str
    policy: str
    outcomes: tuple[OutcomeAnalysis, ...]
    created: str  # ISO 8601 UTC time the analyses were run
    srma_version: str
    notes: tuple[str, ...] = field(default=())

    def outcome(self, name: str, time_point: str | None = None) -> OutcomeAnalysis:
        for analysis in self.outcomes:
            if analysis.outcome.name == name and time_point in (None, analysis.time_point):
                return analysis
        raise KeyError(name)
