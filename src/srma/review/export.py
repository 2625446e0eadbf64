"""Old import path of ``srma.review.flow.export``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.flow.export import (
    OUTCOMES,
    screening_table,
    select_outcome,
    write_table,
)

__all__ = ["OUTCOMES", "screening_table", "select_outcome", "write_table"]
