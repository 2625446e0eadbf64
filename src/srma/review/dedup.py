"""Old import path of ``srma.review.identify.dedup``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.identify.dedup import (
    BIBLIOGRAPHIC_TITLE,
    CONFIRMED_TITLE,
    DUPLICATE_TITLE,
    MAX_BLOCK,
    REVIEW_TITLE,
    WINDOW,
    DedupResult,
    PairDecision,
    find_duplicates,
    journals_match,
    normalise,
    normalise_doi,
    normalise_pages,
    normalise_title,
)

__all__ = [
    "BIBLIOGRAPHIC_TITLE",
    "CONFIRMED_TITLE",
    "DUPLICATE_TITLE",
    "MAX_BLOCK",
    "REVIEW_TITLE",
    "WINDOW",
    "DedupResult",
    "PairDecision",
    "find_duplicates",
    "journals_match",
    "normalise",
    "normalise_doi",
    "normalise_pages",
    "normalise_title",
]
