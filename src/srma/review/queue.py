"""Old import path of ``srma.review.screen.queue``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.screen.queue import (
    ORDERS,
    FeatureCache,
    Queue,
    reviewer_labels_in_order,
    screening_queue,
)

__all__ = ["ORDERS", "FeatureCache", "Queue", "reviewer_labels_in_order", "screening_queue"]
