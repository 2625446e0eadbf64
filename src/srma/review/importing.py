"""Old import path of ``srma.review.identify.importing``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.identify.importing import (
    FileImport,
    guess_source,
    import_files,
)

__all__ = ["FileImport", "guess_source", "import_files"]
