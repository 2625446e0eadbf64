"""What the planned analyses of a review give: per outcome, the data analysed, the policy's
result, every follow-up done or not done with its reason, and the version of the data.

These are the objects the whole-review report and the summary of findings read;
nothing downstream recomputes a statistic.  A follow-up the plan asked for but
the data cannot support is kept, with ``result = None`` and the reason, so a
report can say in words why a section is empty.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    #: GRADE's inputs (the lead builds srma.analysis.grade.GradeInputs from them): the
    #: reconciled overall risk-of-bias judgement of each analysed study (label -> judgement,
    #: None where none is given), participants per arm (summed over the analysed studies),
    #: each study's control-group risk (binary data), the protocol's design and the
    #: reviewers' overrides, {domain: (rating, reason, reviewer)}.
    rob_overall: Mapping[str, str | None] = field(default_factory=dict)
    participants_intervention: int | None = None
    participants_control: int | None = None
    control_risks: tuple[float, ...] = ()
    design: str = ""
    overrides: Mapping[str, tuple[int, str, str]] = field(default_factory=dict)
    #: a network outcome's result (srma.analysis.network.NetworkResult; ``policy`` is None)
    network: Any | None = None

    @property
    def k(self) -> int:
        if self.network is not None:
            return int(self.network.k)
        return 0 if self.policy is None else self.policy.result.k

    @property
    def participants(self) -> int | None:
        """Participants in both arms of the analysed studies (None for effect-size data);
        of every arm, for a network."""
        if self.network is not None:
            sizes = self.network.participants
            return None if sizes is None else round(sum(sizes))
        if self.participants_intervention is None or self.participants_control is None:
            return None
        return self.participants_intervention + self.participants_control

    def follow_up(self, kind: str) -> tuple[FollowUp, ...]:
        """The follow-ups of one kind, in the order they were run."""
        return tuple(f for f in self.follow_ups if f.kind == kind)

    def _first_result(self, kind: str) -> Any | None:
        return next((f.result for f in self.follow_up(kind) if f.done), None)

    @property
    def without_high_risk(self) -> Any | None:
        """The policy's model refitted without the studies at high risk (a MetaResult), or
        None (the follow-up's reason says why)."""
        return self._first_result("exclude_high_risk")

    @property
    def small_study(self) -> Any | None:
        """The tests for small-study effects (a SmallStudyResult), or None (see the reason)."""
        return self._first_result("small_study")

    def summary(self) -> str:
        """The analyses in words: the pooled result, the policy's decisions, every follow-up
        done or not with its reason, the studies without data and why."""
        from srma.formatting import format_estimate_ci, format_number, format_p

        where = self.outcome.name + (f" ({self.time_point})" if self.time_point else "")
        lines = [f"{where}: {self.measure}, k = {self.k}"]
        lines += [f"  note: {note}" for note in self.notes]
        if self.policy is not None:
            result = self.policy.result
            exp = result.back_transformed()
            scale = exp if exp is not None else result.to_dict()
            pooled = format_estimate_ci(scale["estimate"], scale["ci_lower"], scale["ci_upper"])
            i2 = "" if result.i2 is None else f", I² = {format_number(result.i2, 1)}%"
            lines.append(f"  {self.measure} = {pooled}, {format_p(result.pvalue)}{i2}")
            lines.append(f"  policy {self.policy.policy.name}:")
            lines += [f"    - {decision}" for decision in self.policy.decisions]
        if self.network is not None:
            lines += [f"  {line}" for line in self.network.summary().splitlines()]
        for follow_up in self.follow_ups:
            state = "done" if follow_up.done else "not done"
            lines.append(f"  {follow_up.name}: {state}; {follow_up.reason}")
        for study in self.missing:
            lines.append(f"  missing: {study.study}: {study.reason}")
        if self.grade is not None:
            lines.append(f"  GRADE certainty: {self.grade.certainty} ({self.grade.symbols})")
            lines += [
                f"    {rating.domain}: {rating.rating}; {rating.reason}"
                for rating in (*self.grade.domains, *self.grade.upgrades)
            ]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``result`` holds the fields of ``srma meta --json`` for the policy's
        model; ``policy`` its name, decisions, screening I² and warnings; then the follow-ups,
        the studies without data and why, notes and GRADE's inputs."""
        policy = self.policy
        return {
            "outcome": self.outcome.name,
            "time_point": self.time_point,
            "measure": self.measure,
            "k": self.k,
            "data_version": self.data_version,
            "stale": self.stale,
            "result": None if policy is None else policy.result.to_dict(),
            "policy": None
            if policy is None
            else {
                "name": policy.policy.name,
                "description": policy.policy.description,
                "settings": policy.policy.to_dict(),
                "outcome": policy.outcome,
                "screening_i2": policy.screening_i2,
                "decisions": list(policy.decisions),
                "warnings": list(policy.warnings),
            },
            "network": None if self.network is None else self.network.to_dict(),
            "follow_ups": [f.to_dict() for f in self.follow_ups],
            "missing": [m.to_dict() for m in self.missing],
            "notes": list(self.notes),
            "grade_inputs": {
                "design": self.design,
                "direction": self.outcome.direction,
                "risk_of_bias": dict(self.rob_overall),
                "participants": self.participants,
                "participants_intervention": self.participants_intervention,
                "participants_control": self.participants_control,
                "control_risks": list(self.control_risks),
                "assumed_risk": self.outcome.assumed_risk,
                "mid": self.outcome.mid,
                "importance": self.outcome.importance,
                "follow_up": self.outcome.follow_up,
                "indirectness": self.outcome.indirectness,
                "indirectness_reason": self.outcome.indirectness_reason,
                "overrides": {
                    domain: {"rating": rating, "reason": reason, "reviewer": reviewer}
                    for domain, (rating, reason, reviewer) in self.overrides.items()
                },
            },
            "grade": None if self.grade is None else self.grade.to_dict(),
        }


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "policy": self.policy,
            "created": self.created,
            "srma_version": self.srma_version,
            "notes": list(self.notes),
            "outcomes": [o.to_dict() for o in self.outcomes],
        }
