"""When to stop screening: the consecutive-irrelevant heuristic (no recall guarantee)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from srma.errors import InputError
from srma.review.screen.metrics import binary_order


@dataclass(frozen=True)
class StopAdvice:
    """The outcome of :func:`stopping_heuristic`."""

    stop: bool
    consecutive_irrelevant: int
    threshold: int
    n_screened: int
    n_relevant_found: int
    min_screened: int
    reason: str


def consecutive_irrelevant(labels_in_screening_order: Sequence[int]) -> int:
    """Length of the trailing run of irrelevant (0) decisions.

    ``labels_in_screening_order`` are the decisions made so far, oldest first.
    """
    y = binary_order(labels_in_screening_order)
    relevant_positions = np.flatnonzero(y == 1)
    if relevant_positions.size == 0:
        return int(y.size)
    return int(y.size - 1 - relevant_positions[-1])


def stopping_heuristic(
    labels_in_screening_order: Sequence[int],
    *,
    threshold: int,
    min_screened: int = 0,
    require_relevant: bool = True,
) -> StopAdvice:
    """A data-driven stopping heuristic: stop after ``threshold`` irrelevant decisions in a row.

    Advises stopping when all of these hold:

    * the last ``threshold`` records screened (in prioritised order) were all
      irrelevant (:func:`consecutive_irrelevant` ``>= threshold``);
    * at least ``min_screened`` records have been screened (a user-chosen floor, e.g.
      a fixed share of the search results, so a run of bad luck early on cannot end
      screening);
    * at least one relevant record has been found (unless ``require_relevant`` is
      ``False``).

    ``threshold`` and ``min_screened`` are the user's choice; nothing here
    estimates recall. Heuristics of this kind are widely used with prioritised
    screening, but they give no guarantee about the recall achieved: Callaghan MW,
    Müller-Hansen F (2020). Statistical stopping criteria for automated screening in
    systematic reviews. Systematic Reviews 9:273, doi:10.1186/s13643-020-01521-4,
    show that such rules give inconsistent recall and work savings across data
    sets, and propose instead a stopping criterion based on a hypothesis test of
    having missed a recall target. Boetje J, van de Schoot R (2024). The SAFE
    procedure: a practical stopping heuristic for active learning-based screening
    in systematic reviews and meta-analyses. Systematic Reviews 13,
    doi:10.1186/s13643-024-02502-7, argue that no single rule suffices and combine
    several conservative heuristics; this function implements only the
    consecutive-irrelevant rule with a minimum-screened floor, one ingredient of
    such a procedure.
    """
    if threshold < 1:
        raise InputError(f"threshold must be at least 1, got {threshold}")
    if min_screened < 0:
        raise InputError(f"min_screened must be non-negative, got {min_screened}")
    y = binary_order(labels_in_screening_order)
    run = consecutive_irrelevant(y)
    found = int(y.sum())
    n_screened = int(y.size)
    if run < threshold:
        stop, reason = False, f"{run} consecutive irrelevant decisions, fewer than {threshold}"
    elif n_screened < min_screened:
        stop, reason = False, f"{n_screened} records screened, fewer than {min_screened}"
    elif require_relevant and found == 0:
        stop, reason = False, "no relevant record found yet"
    else:
        stop = True
        reason = (
            f"{run} consecutive irrelevant decisions (threshold {threshold}) after "
            f"{n_screened} records screened, {found} relevant found"
        )
    return StopAdvice(stop, run, threshold, n_screened, found, min_screened, reason)
