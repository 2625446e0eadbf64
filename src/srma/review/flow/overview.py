"""What a whole-review report needs to know about how the review was done, read from a project.

:func:`review_overview` reads the protocol (question, eligibility, outcomes,
plan), the import batches (source, file, search date, counts), duplicates
merged, each screening stage (counts, reviewers, Cohen's kappa per pair of
reviewers from :mod:`srma.review.screen.agreement`), the PRISMA 2020 counts
(:func:`srma.review.flow.status.prisma_counts`), the extraction (extractors
per study, discrepancies resolved, the conversions the export applied) and
the risk-of-bias assessment (tool, assessors, reconciled judgements), and
the study characteristics the extractors agreed on or a resolution settled.

Only reconciled values are read: a study still blinded (not every extractor
or assessor it needs has submitted) contributes counts, never a value, so
nothing here can show one reviewer's data to another.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.appraise.risk_of_bias import RobAssessment
from srma.review.extract.assessment import DISCREPANCY, RESOLVED, AssessmentState
from srma.review.flow.prisma import PrismaCounts
from srma.review.flow.status import prisma_counts_of, status_of, status_of_stage
from srma.review.identify.sources import source_display_name
from srma.review.project import SYSTEM_REVIEWER, Project
from srma.review.protocol import Outcome, Question
from srma.review.state import ReviewState


@dataclass(frozen=True)
class SourceSearch:
    """One import batch: where the records came from and how many were read and stored."""

    source: str
    file: str
    format: str
    search_date: str | None
    imported_at: str
    records_read: int
    records_stored: int


@dataclass(frozen=True)
class PairKappa:
    """Cohen's kappa of two reviewers at one stage (``kappa`` None: ``problem`` says why)."""

    reviewer1: str
    reviewer2: str
    records: int
    observed_agreement: float | None
    kappa: float | None
    ci_lower: float | None
    ci_upper: float | None
    problem: str | None


@dataclass(frozen=True)
class ScreeningStage:
    """Counts, reviewers and agreement of one screening stage."""

    stage: str
    records: int
    included: int
    excluded: int
    conflicts: int
    resolved: int
    pending: int
    reviewers: tuple[str, ...]
    reviewers_per_record: int
    agreement: tuple[PairKappa, ...]
    agreement_problem: str | None  # why agreement could not be computed at all


@dataclass(frozen=True)
class ExtractionOverview:
    """How data were extracted: by how many, how far reconciled, which conversions applied."""

    extractors: tuple[str, ...]
    extractors_per_study: int
    studies: int
    reconciled: int  # studies every extractor they need has submitted
    blinded: int
    discrepancies_resolved: int
    discrepancies_open: int
    conversions: tuple[str, ...]  # each distinct conversion the export applied


@dataclass(frozen=True)
class RobOverview:
    """The risk-of-bias assessment: tool, assessors and the reconciled judgements."""

    tool: str
    tool_title: str
    citation: str
    level: str
    assessors: tuple[str, ...]
    assessors_per_study: int
    assessment: RobAssessment | None  # None: ``reason`` says why
    not_ready: tuple[tuple[str, str], ...]  # (study, why it is not in ``assessment``)
    disagreements_resolved: int
    reason: str | None = None


@dataclass(frozen=True, eq=False)
class ReviewOverview:
    """What the methods, the PRISMA diagram and the study tables of a review report need."""

    title: str
    question: Question
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    outcomes: tuple[Outcome, ...]
    policy: str | None
    planned_analyses: tuple[str, ...]
    subgroups: tuple[str, ...]
    sources: tuple[SourceSearch, ...]
    records: int
    duplicates_merged: int
    screening: tuple[ScreeningStage, ...]
    prisma: PrismaCounts
    extraction: ExtractionOverview
    rob: RobOverview | None
    #: a row per reconciled study: ``study`` and one column per extraction field
    characteristics: pd.DataFrame
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        rob = None
        if self.rob is not None:
            rob = {k: v for k, v in asdict(self.rob).items() if k != "assessment"}
            rob["assessment"] = (
                None
                if self.rob.assessment is None
                else self.rob.assessment.to_frame().to_dict("records")
            )
        return {
            "title": self.title,
            "question": asdict(self.question),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "outcomes": [asdict(o) for o in self.outcomes],
            "policy": self.policy,
            "planned_analyses": list(self.planned_analyses),
            "subgroups": list(self.subgroups),
            "sources": [asdict(s) for s in self.sources],
            "records": self.records,
            "duplicates_merged": self.duplicates_merged,
            "screening": [asdict(s) for s in self.screening],
            "prisma": dict(self.prisma.counts),
            "extraction": asdict(self.extraction),
            "rob": rob,
            "characteristics": self.characteristics.to_dict("records"),
            "notes": list(self.notes),
        }


def screening_stage(state: ReviewState, stage: str) -> ScreeningStage:
    """Counts, reviewers and Cohen's kappa of each pair of reviewers at one stage."""
    from srma.review.screen.agreement import agreement_of

    status = status_of_stage(state, stage)

    pairs: tuple[PairKappa, ...] = ()
    problem = None
    try:
        found = agreement_of(state, status.stage)
    except InputError as error:
        problem = error.reason
    else:
        pairs = tuple(
            PairKappa(
                p.reviewer1,
                p.reviewer2,
                0 if p.kappa is None else p.kappa.n,
                None if p.kappa is None else p.kappa.observed_agreement,
                None if p.kappa is None else p.kappa.kappa,
                None if p.kappa is None else p.kappa.ci_lower,
                None if p.kappa is None else p.kappa.ci_upper,
                p.problem,
            )
            for p in found.pairs
        )
    return ScreeningStage(
        stage=status.stage,
        records=status.records,
        included=status.included,
        excluded=status.excluded,
        conflicts=status.conflicts,
        resolved=status.resolved,
        pending=status.pending,
        reviewers=tuple(n for n in status.decisions_by_reviewer if n != SYSTEM_REVIEWER),
        reviewers_per_record=state.required,
        agreement=pairs,
        agreement_problem=problem,
    )


def _assessors(state: AssessmentState) -> tuple[str, ...]:
    return tuple(sorted({name for by in state.submitted.values() for name in by}))


def _counts(state: AssessmentState) -> tuple[int, int]:
    """(items resolved, items still in discrepancy) of the open studies."""
    items = state.reconciliation()
    return int((items["status"] == RESOLVED).sum()), int((items["status"] == DISCREPANCY).sum())


def _characteristics(extraction: Any, protocol: Any) -> pd.DataFrame:
    """The reconciled study characteristics: agreed or resolved values of the open studies."""
    fields = protocol.extraction.fields
    items = extraction.state.reconciliation()
    settled = items[(items["scope"] == "") & (items["status"] != DISCREPANCY)]
    values = {(int(r.study), r.field): r.value for r in settled.itertuples(index=False)}
    rows = []
    for study_id in extraction.state.open_studies():
        row: dict[str, object] = {"study": extraction.studies.by_id[study_id].label}
        for spec in fields:
            row[spec.name] = values.get((study_id, spec.name))  # as the extractors wrote it
        rows.append(row)
    frame = pd.DataFrame(rows, columns=["study", *(f.name for f in fields)])
    return frame.sort_values("study", key=lambda s: s.str.lower(), ignore_index=True)


def _conversions(
    extraction: Any, protocol: Any, exported: Sequence[pd.DataFrame] | None
) -> tuple[str, ...]:
    """Every conversion the exports made (their ``conversions`` column), once each, in order;
    ``exported`` are the tables already exported (else every outcome is exported here)."""
    from srma.review.extract.export import export_outcome

    if exported is None:
        exported = [
            export_outcome(extraction.form, extraction.state, protocol, outcome.name, time).table
            for outcome in protocol.outcomes
            if outcome.data is not None
            for time in outcome.time_points
        ]
    found: dict[str, None] = {}
    for table in exported:
        for text in table.get("conversions", ()):
            for part in str(text).split(";"):
                if part.strip():
                    found[part.strip()] = None
    return tuple(found)


def _rob(session: Session, project: Project) -> RobOverview | None:
    from srma.review.appraise.export import reconciled_judgements, rob_assessment
    from srma.review.appraise.project import load_rob

    planned = project.protocol.risk_of_bias
    if planned is None:
        return None
    rob = load_rob(session, project)
    found = reconciled_judgements(rob)
    tool = rob.form.tool
    assessment, reason = None, None
    if found.table.empty:
        reason = "no study's risk of bias has been reconciled yet"
        if not len(rob.studies):
            reason = "no study is included yet"
    else:
        assessment = rob_assessment(found, complete_only=True)  # not_ready says who is out
    resolved, _ = _counts(rob.state)
    return RobOverview(
        tool=tool.name,
        tool_title=tool.title,
        citation=tool.citation,
        level=planned.level,
        assessors=_assessors(rob.state),
        assessors_per_study=rob.state.required,
        assessment=assessment,
        not_ready=found.not_ready,
        disagreements_resolved=resolved,
        reason=reason,
    )


def review_overview(
    session: Session, project: Project, *, exported: Sequence[pd.DataFrame] | None = None
) -> ReviewOverview:
    """Everything the report's methods, PRISMA diagram and study tables say, from the project.

    ``exported``: the outcomes' tables already exported (each ``OutcomeAnalysis.table`` of
    :func:`srma.review.synthesize.project.analyze_project`), read for the conversions made
    instead of exporting every outcome again.
    """
    from srma.review.extract.context import load_extraction

    protocol = project.protocol
    extraction = load_extraction(session, project)
    state = extraction.review
    status = status_of(state)
    sources = tuple(
        SourceSearch(
            source=source_display_name(str(b["source"])),
            file=str(b["file"]),
            format=str(b["format"]),
            search_date=None if b["search_date"] is None else str(b["search_date"]),
            imported_at=str(b["imported_at"]),
            records_read=int(b["records_read"]),  # type: ignore[call-overload]
            records_stored=int(b["records_stored"]),  # type: ignore[call-overload]
        )
        for b in status.imports
    )
    screening = tuple(screening_stage(state, s.stage) for s in status.stages)
    resolved, still_open = _counts(extraction.state)
    studies = len(extraction.studies)
    reconciled = len(extraction.state.open_studies())
    extracted = ExtractionOverview(
        extractors=_assessors(extraction.state),
        extractors_per_study=extraction.state.required,
        studies=studies,
        reconciled=reconciled,
        blinded=sum(1 for s in extraction.studies if extraction.state.is_blinded(s.id)),
        discrepancies_resolved=resolved,
        discrepancies_open=still_open,
        conversions=_conversions(extraction, protocol, exported) if studies else (),
    )
    notes = []
    if studies > reconciled:
        notes.append(
            f"{studies - reconciled} of {studies} studies are not yet submitted by every "
            "extractor they need: their data are blinded and not reported"
        )
    return ReviewOverview(
        title=protocol.title,
        question=protocol.question,
        include=protocol.include,
        exclude=protocol.exclude,
        outcomes=protocol.outcomes,
        policy=protocol.policy,
        planned_analyses=protocol.planned_analyses,
        subgroups=tuple(s.name for s in protocol.subgroups),
        sources=sources,
        records=status.records,
        duplicates_merged=status.duplicates_merged,
        screening=screening,
        prisma=prisma_counts_of(state, source=f"project {project.folder}"),
        extraction=extracted,
        rob=_rob(session, project),
        characteristics=_characteristics(extraction, protocol),
        notes=tuple(notes),
    )
