"""Old import path of the ``srma.review.screen`` modules (features, models, ranking, metrics,
simulation, stopping), kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.screen.features import (
    tfidf_matrix,
)
from srma.review.screen.metrics import (
    RECALL_LEVELS,
    n_screened_for_recall,
    recall_curve,
    rrf,
    wss,
)
from srma.review.screen.models import (
    MODELS,
    NB_ALPHA,
    ModelName,
)
from srma.review.screen.ranking import (
    FALLBACK_REASON,
    Ranking,
    rank_records,
)
from srma.review.screen.simulation import (
    Simulation,
    labelled_records,
    simulate,
)
from srma.review.screen.stopping import (
    StopAdvice,
    consecutive_irrelevant,
    stopping_heuristic,
)

__all__ = [
    "FALLBACK_REASON",
    "MODELS",
    "NB_ALPHA",
    "RECALL_LEVELS",
    "ModelName",
    "Ranking",
    "Simulation",
    "StopAdvice",
    "consecutive_irrelevant",
    "labelled_records",
    "n_screened_for_recall",
    "rank_records",
    "recall_curve",
    "rrf",
    "simulate",
    "stopping_heuristic",
    "tfidf_matrix",
    "wss",
]
