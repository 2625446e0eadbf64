"""Old import path of ``srma.review.flow.status`` and ``srma.review.screen.agreement``,
kept for one release.

Import from the new path; this module will be removed in srma 0.3.
"""

from srma.review.flow.status import (
    NOT_RETRIEVED,
    ProjectStatus,
    StageStatus,
    all_record_ids_with_import,
    prisma_counts,
    project_status,
    stage_status,
)
from srma.review.screen.agreement import (
    PairAgreement,
    StageAgreement,
    stage_agreement,
)

__all__ = [
    "NOT_RETRIEVED",
    "PairAgreement",
    "ProjectStatus",
    "StageAgreement",
    "StageStatus",
    "all_record_ids_with_import",
    "prisma_counts",
    "project_status",
    "stage_agreement",
    "stage_status",
]
