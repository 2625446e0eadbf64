"""Everything an extraction command reads, replayed once: the review state, the studies,
the form and the assessment state (one object, so views cannot disagree)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.extract.assessment import AssessmentState, assessment_state, project_identity
from srma.review.extract.forms import FormSpec, extraction_form
from srma.review.extract.studies import Studies, load_studies
from srma.review.project import Project
from srma.review.state import ReviewState, load_state


@dataclass(frozen=True)
class Extraction:
    """A project's extraction as the log says it is now."""

    project: Project
    review: ReviewState
    studies: Studies
    form: FormSpec
    state: AssessmentState
    identity: str

    def status(self) -> dict[str, object]:
        """Counts only, never a value: per study its records, arms and how many extractors
        submitted it; per reviewer the studies submitted and the values entered."""
        values = self.state.values[self.state.values["value"].notna()]
        entered = values.groupby("reviewer").size().to_dict()
        submitted: dict[str, int] = {}
        for by in self.state.submitted.values():
            for name in by:
                submitted[name] = submitted.get(name, 0) + 1
        return {
            "studies": [
                {
                    "study": s.label,
                    "study_id": s.id,
                    "records": list(s.records),
                    "arms": [[a.name, a.group] for a in s.arms],
                    "submitted": len(self.state.submitted.get(s.id, {})),
                    "required": self.state.required,
                    "blinded": self.state.is_blinded(s.id),
                }
                for s in self.studies
            ],
            "reviewers": {
                name: {"submitted": submitted.get(name, 0), "values": int(entered.get(name, 0))}
                for name in sorted(set(entered) | set(submitted))
            },
        }


def load_extraction(
    session: Session, project: Project, *, until: datetime | None = None
) -> Extraction:
    """Replay the log once for an extraction command (or the analyses of the review as it was
    at ``until``: :func:`srma.review.state.load_state` with ``as_then``)."""
    review = load_state(session, project, until=until, as_then=until is not None)
    studies = load_studies(session, project, review)
    form = extraction_form(project.protocol, studies)
    return Extraction(
        project, review, studies, form, assessment_state(review), project_identity(session)
    )


class _Assessing(Protocol):
    """An assessment of a review's studies (an :class:`Extraction`, or risk of bias)."""

    @property
    def studies(self) -> Studies: ...


def require_studies(extraction: _Assessing) -> None:
    """Refuse to work on a review without included studies."""
    if not len(extraction.studies):
        raise InputError(
            "no study is included at full text yet: screen the full texts first (srma screen "
            "PROJECT --stage ft)"
        )
