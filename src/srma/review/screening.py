"""Old import path of ``srma.review.screen.decisions``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.screen.decisions import (
    RESOLUTION_METHODS,
    BlindedView,
    Conflict,
    all_record_ids,
    blinded_view,
    conflicts,
    decide,
    resolve,
    to_screen,
)

__all__ = [
    "RESOLUTION_METHODS",
    "BlindedView",
    "Conflict",
    "all_record_ids",
    "blinded_view",
    "conflicts",
    "decide",
    "resolve",
    "to_screen",
]
