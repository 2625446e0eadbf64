"""Old import path of ``srma.review.identify.merging``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.identify.merging import (
    DedupRun,
    PairToReview,
    deduplicate,
    judge_pair,
    stored_records,
    undo_merge,
)

__all__ = ["DedupRun", "PairToReview", "deduplicate", "judge_pair", "stored_records", "undo_merge"]
