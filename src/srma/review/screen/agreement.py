"""Agreement of a project's reviewers per stage, replayed from the decision log.

The statistics themselves (Cohen's kappa with its CI, PABAK, Fleiss' kappa)
are in :mod:`srma.review.screen.kappa`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import combinations

from srma.errors import InputError
from srma.review.decision_log import LoggedEvent, stage_name
from srma.review.project import SYSTEM_REVIEWER
from srma.review.screen.kappa import CohenKappa, FleissKappa, cohen_kappa, fleiss_kappa
from srma.review.state import ReviewState, replay


@dataclass(frozen=True)
class PairAgreement:
    """Cohen's kappa of two reviewers on the records both decided."""

    reviewer1: str
    reviewer2: str
    kappa: CohenKappa | None
    problem: str | None


@dataclass(frozen=True)
class StageAgreement:
    """Agreement of the reviewers at one stage (latest decisions, before resolution)."""

    stage: str
    reviewers: tuple[str, ...]
    pairs: tuple[PairAgreement, ...]
    fleiss: FleissKappa | None
    fleiss_problem: str | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def stage_agreement(
    events: Sequence[LoggedEvent], record_ids: Sequence[int], *, stage: str, required: int
) -> StageAgreement:
    """:func:`agreement_of` the state replayed from ``events``."""
    return agreement_of(replay(events, record_ids, required=required), stage)


def agreement_of(state: ReviewState, stage: str) -> StageAgreement:
    """Percent agreement, Cohen's kappa with its CI and PABAK for every pair of reviewers;
    Fleiss' kappa on the records every reviewer decided when there are three or more.

    Categories are the decisions used at the stage (include, exclude, maybe),
    so PABAK is ``2 p_o - 1`` when only include and exclude were used.  Only
    records every reviewer they need has decided count (the others are
    blinded).
    """
    stage = stage_name(stage)
    decided = {
        r: {e.reviewer: e for e in entry.decisions if e.reviewer != SYSTEM_REVIEWER}
        for r, entry in state.at(stage).items()
        if entry.decisions and not state.is_blinded(r, stage)
    }
    reviewers = tuple(sorted({name for d in decided.values() for name in d}))
    if len(reviewers) < 2:
        raise InputError(f"agreement needs two reviewers; at {stage} there are {len(reviewers)}")
    categories = sorted({str(e.decision) for d in decided.values() for e in d.values()})
    pairs = []
    for first, second in combinations(reviewers, 2):
        shared = sorted(r for r, d in decided.items() if first in d and second in d)
        if not shared:
            pairs.append(PairAgreement(first, second, None, "no record decided by both"))
            continue
        try:
            kappa = cohen_kappa(
                [decided[r][first].decision for r in shared],
                [decided[r][second].decision for r in shared],
                categories=categories,
            )
            pairs.append(PairAgreement(first, second, kappa, None))
        except InputError as error:
            pairs.append(PairAgreement(first, second, None, error.reason))
    fleiss, fleiss_problem = None, None
    if len(reviewers) >= 3:
        complete = sorted(r for r, d in decided.items() if len(d) == len(reviewers))
        try:
            fleiss = fleiss_kappa(
                [[decided[r][name].decision for name in reviewers] for r in complete]
            )
        except InputError as error:
            fleiss_problem = error.reason
    return StageAgreement(stage, reviewers, tuple(pairs), fleiss, fleiss_problem)
