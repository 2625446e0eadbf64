"""Old import path of ``srma.review.identify.tagged``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.identify.tagged import (
    TaggedFormat,
    TaggedRecord,
    TaggedSplit,
    split_tagged,
    text_lines,
)

__all__ = ["TaggedFormat", "TaggedRecord", "TaggedSplit", "split_tagged", "text_lines"]
