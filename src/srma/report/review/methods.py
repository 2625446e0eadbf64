"""The methods of a review written from what was done: searches, deduplication, screening,
extraction, risk of bias and synthesis, each with its reference.

Every count and statistic comes from the :class:`srma.review.flow.overview.ReviewOverview`
read from the project; the model sentences of each outcome are those of
:func:`srma.report.methods.methods_paragraph`.
"""

from __future__ import annotations

from srma.formatting import format_ci, format_count, format_number
from srma.review.flow.overview import ReviewOverview, ScreeningStage

PRISMA = (
    "Page MJ, McKenzie JE, Bossuyt PM, et al. (2021). The PRISMA 2020 statement: an updated "
    "guideline for reporting systematic reviews. BMJ 372:n71."
)
KAPPA = "Cohen J (1960). A coefficient of agreement for nominal scales. Educ Psychol Meas 20:37-46."
HANDBOOK = (
    "Higgins JPT, Thomas J, Chandler J, et al. (eds) (2023). Cochrane Handbook for Systematic "
    "Reviews of Interventions, version 6.4. Cochrane. Chapter 6: choosing effect measures and "
    "computing estimates of effect."
)
STAGE_NAMES = {"title_abstract": "title and abstract", "full_text": "full text"}


def _listed(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{format_count(count)} {one if count == 1 else (many or one + 's')}"


def search_text(overview: ReviewOverview) -> str:
    """Where the records came from, when, and how many; duplicates merged."""
    if not overview.sources:
        return "No records have been imported into the project yet."
    parts = []
    for batch in overview.sources:
        when = f"searched {batch.search_date}" if batch.search_date else "search date not recorded"
        parts.append(
            f"{batch.source} ({batch.file}, {batch.format.upper()}; {when}; imported "
            f"{batch.imported_at[:10]}; {_plural(batch.records_read, 'record')} read, "
            f"{format_count(batch.records_stored)} stored)"
        )
    unique = overview.records - overview.duplicates_merged
    return (
        f"Records were imported from {_plural(len(overview.sources), 'search', 'searches')}: "
        f"{'; '.join(parts)}. Duplicates were identified and merged by srma "
        f"({_plural(overview.duplicates_merged, 'duplicate')} merged), leaving "
        f"{_plural(unique, 'unique record')}."
    )


def _agreement(stage: ScreeningStage) -> str:
    if stage.agreement_problem is not None:
        return f"Agreement between reviewers could not be computed: {stage.agreement_problem}."
    said = []
    for pair in stage.agreement:
        who = f"{pair.reviewer1} and {pair.reviewer2}"
        if pair.kappa is None:
            said.append(f"for {who} Cohen's kappa could not be computed ({pair.problem})")
        else:
            said.append(
                f"{who} agreed on {format_number(100 * (pair.observed_agreement or 0), 1)}% of "
                f"{_plural(pair.records, 'record')}, Cohen's kappa "
                f"{format_number(pair.kappa)} (95% CI {format_ci(pair.ci_lower, pair.ci_upper)})"
            )
    return "Agreement: " + "; ".join(said) + "." if said else ""


def screening_text(overview: ReviewOverview) -> tuple[str, list[str]]:
    """Who screened, how many per record, blinded, agreement (Cohen's kappa)."""
    sentences = []
    refs: list[str] = []
    for stage in overview.screening:
        name = STAGE_NAMES.get(stage.stage, stage.stage)
        if not stage.reviewers:
            sentences.append(f"No record has been screened at {name} yet.")
            continue
        people = _listed(list(stage.reviewers))
        per = stage.reviewers_per_record
        sentences.append(
            f"At {name}, {_plural(stage.records, 'record')} were screened by "
            f"{_plural(len(stage.reviewers), 'reviewer')} ({people}), "
            f"{_plural(per, 'reviewer')} per record"
            + (", each blind to the others' decisions until all had decided" if per > 1 else "")
            + f": {format_count(stage.included)} included, {format_count(stage.excluded)} "
            f"excluded, {format_count(stage.conflicts)} in conflict, "
            f"{format_count(stage.pending)} pending; {_plural(stage.resolved, 'conflict')} "
            "resolved."
        )
        agreement = _agreement(stage)
        if agreement:
            sentences.append(agreement)
            if any(p.kappa is not None for p in stage.agreement):
                refs.append(KAPPA)
    return " ".join(sentences), refs


def extraction_text(overview: ReviewOverview) -> tuple[str, list[str]]:
    """Extractors per study, blinding, discrepancies resolved, conversions used."""
    found = overview.extraction
    if not found.studies:
        return "No study has been included yet, so no data were extracted.", []
    who = _listed(list(found.extractors)) or "no extractor yet"
    text = (
        f"Data of {_plural(found.studies, 'included study', 'included studies')} were extracted "
        f"by {_plural(found.extractors_per_study, 'extractor')} per study ({who})"
        + (
            ", each blind to the others' values until all had submitted; "
            if found.extractors_per_study > 1
            else " (no second extractor); "
        )
        + f"{_plural(found.reconciled, 'study', 'studies')} were submitted by every extractor "
        f"and compared, {_plural(found.discrepancies_resolved, 'discrepancy', 'discrepancies')} "
        f"resolved and {format_count(found.discrepancies_open)} still open."
    )
    refs: list[str] = []
    if found.blinded:
        text += (
            f" {_plural(found.blinded, 'study', 'studies')} not yet submitted by every "
            "extractor are blinded and their data are not reported."
        )
    if found.conversions:
        text += f" Conversions applied: {'; '.join(found.conversions)}."
        refs.append(HANDBOOK)
    else:
        text += " No conversion was needed: every study reported the statistics analysed."
    return text, refs


def rob_text(overview: ReviewOverview) -> tuple[str, list[str]]:
    """The tool, its reference, the assessors and how far the judgements are reconciled."""
    rob = overview.rob
    if rob is None:
        return "The protocol plans no risk-of-bias assessment.", []
    who = _listed(list(rob.assessors)) or "no assessor yet"
    text = (
        f"Risk of bias was assessed with the {rob.tool_title} per {rob.level} by "
        f"{_plural(rob.assessors_per_study, 'assessor')} per study ({who})"
        + (
            ", each blind to the others' judgements until all had submitted; "
            if rob.assessors_per_study > 1
            else " (no second assessor); "
        )
        + f"{_plural(rob.disagreements_resolved, 'disagreement')} resolved."
    )
    if rob.assessment is None:
        text += f" No judgement is reported: {rob.reason}."
    elif rob.not_ready:
        text += (
            f" {_plural(len(rob.not_ready), 'study', 'studies')} not yet reconciled "
            "are left out of the figures."
        )
    return text, [rob.citation]


def synthesis_text(overview: ReviewOverview) -> tuple[str, list[str]]:
    """The analysis policy and what it prescribes (each outcome's models are in its section)."""
    from srma.analysis.policies import get_policy

    if overview.policy is None:
        return (
            "The protocol names no analysis policy; each outcome's methods are given in its "
            "section.",
            [],
        )
    policy = get_policy(overview.policy)
    text = (
        f"Each outcome was analysed as the analysis policy '{policy.name}' prescribes: "
        f"{policy.description}. The model, estimator and tests used for each outcome are "
        "given in its section, with the decisions the policy took on the data."
    )
    if overview.planned_analyses:
        text += f" The protocol planned: {'; '.join(overview.planned_analyses)}."
    return text, [policy.citation]
