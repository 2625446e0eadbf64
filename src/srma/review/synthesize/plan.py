"""The protocol's plan for one outcome: the policy as it applies to the outcome's measure, the
sensitivity analyses, subgroups, meta-regressions and the small-study threshold.

The outcome's ``measure`` (``[[outcomes]] measure``) is analysed whatever the
policy's default measures are: a policy chooses the model and the follow-ups,
the protocol the measure (the decision is recorded when they differ).  A Peto
odds ratio is pooled by Peto's method where the policy's common-effect model
is Mantel-Haenszel (metafor's ``rma.peto``; Cochrane Handbook 10.4.4.2).

:meth:`Plan.settings` is what the plan contributes to an outcome's data
version: change a threshold or a subgroup and the stored result is stale.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from srma.analysis.policies import AnalysisPolicy
from srma.review.protocol import MetaRegression, Outcome, Protocol, Subgroup

LEAVE_ONE_OUT = "leave-one-out"
EXCLUDE_HIGH_RISK = "exclude high risk of bias"


@dataclass(frozen=True)
class Plan:
    """What the protocol plans for one outcome."""

    outcome: Outcome
    policy: AnalysisPolicy | None
    policy_notes: tuple[str, ...]
    sensitivity: tuple[str, ...]
    subgroups: tuple[Subgroup, ...]
    metaregressions: tuple[MetaRegression, ...]
    small_study_min_k: int
    design: str

    def settings(self) -> dict[str, Any]:
        """Everything the plan fixes, JSON-ready (part of the data version)."""
        return {
            "outcome": asdict(self.outcome),
            "policy": None if self.policy is None else self.policy.to_dict(),
            "sensitivity": list(self.sensitivity),
            "subgroups": [asdict(s) for s in self.subgroups],
            "metaregressions": [asdict(m) for m in self.metaregressions],
            "small_study_min_k": self.small_study_min_k,
            "design": self.design,
        }


def outcome_policy(policy: AnalysisPolicy, outcome: Outcome) -> tuple[AnalysisPolicy, list[str]]:
    """``policy`` with the outcome's measure, and what was changed, in words."""
    notes: list[str] = []
    if outcome.data == "continuous" and policy.continuous_measure != outcome.measure:
        notes.append(
            f"measure {outcome.measure} as the protocol's outcome says (policy "
            f"{policy.name} would use {policy.continuous_measure})"
        )
        policy = replace(policy, continuous_measure=outcome.measure)
    elif outcome.data == "binary" and policy.binary_measure != outcome.measure:
        notes.append(
            f"measure {outcome.measure} as the protocol's outcome says (policy "
            f"{policy.name} would use {policy.binary_measure})"
        )
        policy = replace(policy, binary_measure=outcome.measure)
    if outcome.data == "binary" and outcome.measure == "PETO":
        if policy.common_method_binary != "PETO":
            notes.append("Peto odds ratio: common effect by Peto's method (Handbook 10.4.4.2)")
            policy = replace(policy, common_method_binary="PETO")
    elif outcome.data == "binary" and policy.common_method_binary == "PETO":
        notes.append(
            f"Peto's method pools only Peto odds ratios: {outcome.measure} by Mantel-Haenszel"
        )
        policy = replace(policy, common_method_binary="MH")
    return policy, notes


def plan_for(protocol: Protocol, outcome: Outcome) -> Plan:
    """The protocol's plan for ``outcome``."""
    chosen = protocol.analysis_policy()
    notes: list[str] = []
    if chosen is not None:
        chosen, notes = outcome_policy(chosen, outcome)
    return Plan(
        outcome=outcome,
        policy=chosen,
        policy_notes=tuple(notes),
        sensitivity=protocol.sensitivity,
        subgroups=protocol.subgroups,
        metaregressions=protocol.metaregressions,
        small_study_min_k=protocol.small_study_min_k,
        design=protocol.design,
    )
