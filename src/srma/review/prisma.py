"""Old import path of ``srma.review.flow.prisma``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.flow.prisma import (
    FIELDS,
    LISTS,
    OTHER_FIELDS,
    PrismaCounts,
    read_prisma,
)

__all__ = ["FIELDS", "LISTS", "OTHER_FIELDS", "PrismaCounts", "read_prisma"]
