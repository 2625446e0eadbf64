"""Old import path of ``srma.review.screen.kappa``, kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.screen.kappa import (
    CohenKappa,
    FleissKappa,
    cohen_kappa,
    fleiss_kappa,
)

__all__ = ["CohenKappa", "FleissKappa", "cohen_kappa", "fleiss_kappa"]
