"""Every outcome of a project analysed as its protocol plans, from one replay of the log.

:func:`review_inputs` replays the log once (:func:`srma.review.extract.context.
load_extraction`) and reads, from the same review state, the reconciled
overall risk-of-bias judgements (:func:`srma.review.appraise.export.
reconciled_judgements`) and the GRADE overrides (:mod:`.overrides`).  Per
outcome and time point, :func:`outcome_inputs` exports the reconciled table
(:func:`srma.review.extract.export.export_outcome`: blinded or unresolved
studies listed with their reason, never a number) and computes its data
version (:func:`data_version`); :func:`analyze_project` runs
:func:`.analyze.analyze_outcome` on each and rates it with GRADE (:mod:`.grading`).

The data version is the SHA-256 of a canonical JSON document holding the
export's CSV (every row, the reasons in ``missing`` included; numbers written
with 17 significant digits), the plan's settings (:meth:`.plan.Plan.settings`:
the outcome's table of the protocol, the policy's fields, sensitivity
analyses, subgroups, meta-regressions, ``small_study_min_k``, GRADE's design)
the overall risk-of-bias judgement of each study in the table and the
reviewers' GRADE overrides of the outcome.  A change in any of them (a value
resolved, a judgement reconciled, a threshold edited, a rating overridden)
changes the version, so a stored result is recognised as stale.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from srma import __version__
from srma.errors import InputError
from srma.review.extract.assessment import AssessmentState
from srma.review.extract.context import Extraction, load_extraction
from srma.review.extract.export import export_outcome
from srma.review.project import Project
from srma.review.protocol import Outcome
from srma.review.synthesize.analyze import analyze_outcome
from srma.review.synthesize.grading import rated
from srma.review.synthesize.overrides import Overrides, grade_overrides
from srma.review.synthesize.plan import Plan, plan_for
from srma.review.synthesize.results import OutcomeAnalysis, ReviewAnalysis


@dataclass(frozen=True)
class _ReconciledOnce(AssessmentState):
    """An extraction state whose reconciliation (every item of every outcome; it does not
    depend on the outcome exported) is computed once for all the exports of a run."""

    items: pd.DataFrame | None = None

    def reconciliation(self) -> pd.DataFrame:
        assert self.items is not None
        return self.items

    @classmethod
    def of(cls, state: AssessmentState) -> _ReconciledOnce:
        shared = {f.name: getattr(state, f.name) for f in fields(AssessmentState)}
        return cls(**shared, items=state.reconciliation())


@dataclass(frozen=True)
class ReviewInputs:
    """What the analyses read, replayed once: the extraction, the reconciled overall
    judgements per risk-of-bias scope (None: no judgements, ``rob_note`` says why) and
    the GRADE overrides."""

    project: Project
    extraction: Extraction
    rob: Mapping[str, Mapping[int, str | None]] | None
    rob_note: str
    overrides: Overrides
    log_position: int


@dataclass(frozen=True)
class OutcomeInputs:
    """One outcome at one time point: its plan, export (None: none, ``problem`` says why),
    judgements and data version."""

    plan: Plan
    time_point: str
    export: Any | None
    problem: str
    rob: Mapping[int, str | None] | None
    data_version: str


def _overall_judgements(
    extraction: Extraction, project: Project
) -> tuple[Mapping[str, Mapping[int, str | None]] | None, str]:
    """Each scope's reconciled overall judgements (study id -> judgement or None)."""
    from srma.review.appraise.assessment import OVERALL
    from srma.review.appraise.export import reconciled_judgements
    from srma.review.appraise.forms import ASSESSMENT, rob_form
    from srma.review.appraise.project import RobReview
    from srma.review.extract.assessment import assessment_state

    protocol = project.protocol
    if protocol.risk_of_bias is None:
        return None, "the protocol has no [risk_of_bias], so no study is judged"
    rob = RobReview(
        project,
        extraction.review,
        extraction.studies,
        rob_form(protocol, extraction.studies),
        assessment_state(extraction.review, ASSESSMENT),
        extraction.identity,
    )
    scopes = rob.form.scopes
    found: dict[str, Mapping[int, str | None]] = {}
    for scope in scopes:
        table = reconciled_judgements(rob, scope or None).table
        found[scope] = {
            int(i): (None if pd.isna(o) else str(o))
            for i, o in zip(table["study_id"], table[OVERALL], strict=True)
        }
    return found, ""


def review_inputs(
    session: Session, project: Project, *, until: datetime | None = None
) -> ReviewInputs:
    """Replay the log once (up to ``until``) and read what every outcome's analyses need."""
    extraction = load_extraction(session, project, until=until)
    extraction = replace(extraction, state=_ReconciledOnce.of(extraction.state))
    rob, note = _overall_judgements(extraction, project)
    events = extraction.review.events
    return ReviewInputs(
        project,
        extraction,
        rob,
        note,
        grade_overrides(events),
        max((e.id for e in events), default=0),
    )


def _canonical_csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, lineterminator="\n", float_format="%.17g")


def data_version(
    table: pd.DataFrame | None,
    plan: Plan,
    rob: Mapping[int, str | None] | None,
    overrides: Mapping[str, tuple[int, str, str]] | None = None,
) -> str:
    """SHA-256 of the export's CSV, the plan's settings, the studies' judgements and the
    reviewers' GRADE overrides of the outcome."""
    ids = [] if table is None else sorted({int(i) for i in table["study_id"]})
    document = {
        "table": None if table is None else _canonical_csv(table),
        "plan": plan.settings(),
        "risk_of_bias": None if rob is None else [[i, rob.get(i, "not judged")] for i in ids],
        "grade_overrides": sorted([d, *o] for d, o in (overrides or {}).items()),
    }
    text = json.dumps(document, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rob_scope(inputs: ReviewInputs, outcome: Outcome) -> Mapping[int, str | None] | None:
    if inputs.rob is None:
        return None
    return inputs.rob.get(outcome.name, inputs.rob.get("", {}))


def outcome_inputs(inputs: ReviewInputs) -> Iterator[OutcomeInputs]:
    """Every outcome and time point of the protocol, exported, with its data version."""
    extraction = inputs.extraction
    protocol = inputs.project.protocol
    for outcome in protocol.outcomes:
        plan = plan_for(protocol, outcome)
        rob = _rob_scope(inputs, outcome)
        for time_point in outcome.time_points:
            export, problem = None, ""
            if not len(extraction.studies):
                problem = "no study is included at full text yet"
            else:
                try:
                    export = export_outcome(
                        extraction.form, extraction.state, protocol, outcome.name, time_point
                    )
                except InputError as error:
                    problem = error.reason
            table = None if export is None else export.table
            overrides = inputs.overrides.get((outcome.name, time_point))
            yield OutcomeInputs(
                plan, time_point, export, problem, rob, data_version(table, plan, rob, overrides)
            )


def _unanalysed(item: OutcomeInputs) -> OutcomeAnalysis:
    """An outcome without an export: said in words, every follow-up with the reason."""
    from srma.review.synthesize.analyze import not_run

    outcome = item.plan.outcome
    return OutcomeAnalysis(
        outcome=outcome,
        time_point=item.time_point,
        measure=outcome.measure,
        table=pd.DataFrame(),
        data_version=item.data_version,
        policy=None,
        follow_ups=not_run(item.plan, f"not run: {item.problem}"),
        notes=(f"{outcome.name}: nothing to analyse: {item.problem}",),
        design=item.plan.design,
    )


def analyze_project(
    session: Session, project: Project, inputs: ReviewInputs | None = None
) -> ReviewAnalysis:
    """Every outcome and time point of ``project`` analysed as its protocol plans
    (``inputs``: :func:`review_inputs`, read here when not given)."""
    inputs = inputs or review_inputs(session, project)
    protocol = project.protocol
    analyses = []
    for item in outcome_inputs(inputs):
        if item.export is None:
            analyses.append(rated(_unanalysed(item)))
            continue
        key = (item.plan.outcome.name, item.time_point)
        analyses.append(
            rated(
                analyze_outcome(
                    protocol,
                    item.plan,
                    item.export,
                    data_version=item.data_version,
                    rob=item.rob,
                    rob_note=inputs.rob_note,
                    overrides=inputs.overrides.get(key),
                )
            )
        )
    notes = []
    if not len(inputs.extraction.studies):
        notes.append("no study is included at full text yet: screen the full texts first")
    if protocol.policy is None:
        notes.append("the protocol names no analysis policy ([analysis] policy)")
    return ReviewAnalysis(
        title=protocol.title,
        policy=protocol.policy or "none",
        outcomes=tuple(analyses),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        srma_version=__version__,
        notes=tuple(notes),
    )
