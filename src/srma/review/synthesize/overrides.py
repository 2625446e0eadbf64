"""GRADE overrides: a reviewer's rating of a certainty domain, with the reason, as events.

A reviewer who disagrees with a proposed GRADE rating records an override
(``srma grade-override``): an event of kind :data:`OVERRIDE_KIND` whose payload
holds the outcome, the time point, the domain, the rating and the reason, and
whose reviewer is named.  The log is append-only, so a changed mind is a new
override; :func:`grade_overrides` replays them into the latest rating per
outcome, time point and domain.

Ratings follow GRADE (Guyatt et al. 2011, J Clin Epidemiol 64:383-394; the
GRADE Handbook 5.2 and 5.3): the five domains that rate down take 0 (no
serious concern), -1 (serious) or -2 (very serious); a large effect rates up
by +1 or +2 and a dose-response gradient by +1 (0: none).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import LoggedEvent
from srma.review.extract.values import clean_text
from srma.review.project import reviewer_id
from srma.review.protocol import Protocol
from srma.store import Event

#: The kind of a GRADE override event.
OVERRIDE_KIND = "grade_override"
#: GRADE's domains and the ratings each takes (the names the lead's GRADE module reads).
GRADE_DOMAINS: Mapping[str, tuple[int, ...]] = {
    "risk_of_bias": (0, -1, -2),
    "inconsistency": (0, -1, -2),
    "indirectness": (0, -1, -2),
    "imprecision": (0, -1, -2),
    "publication_bias": (0, -1, -2),
    "large_effect": (0, 1, 2),
    "dose_response": (0, 1),
}

#: {(outcome, time point): {domain: (rating, reason, reviewer)}}
Overrides = dict[tuple[str, str], dict[str, tuple[int, str, str]]]


@dataclass(frozen=True)
class Override:
    """One override as recorded."""

    outcome: str
    time_point: str
    domain: str
    rating: int
    reason: str
    reviewer: str
    event: int

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def check_override(domain: str, rating: int, reason: str) -> tuple[str, int, str]:
    """The override's domain, rating and reason, checked (InputError saying what is wrong)."""
    name = domain.strip().lower().replace(" ", "_").replace("-", "_")
    if name not in GRADE_DOMAINS:
        raise InputError(
            f"unknown GRADE domain {domain!r}; expected one of: {', '.join(GRADE_DOMAINS)}"
        )
    allowed = GRADE_DOMAINS[name]
    if rating not in allowed:
        shown = ", ".join(f"{r:+d}" if r else "0" for r in allowed)
        raise InputError(f"{name} takes the ratings {shown}, not {rating}")
    text = clean_text(reason).strip() if reason else ""
    if not text:
        raise InputError("an override needs its reason (--reason)")
    return name, rating, text


def record_override(
    session: Session,
    protocol: Protocol,
    *,
    reviewer: str,
    outcome: str,
    time_point: str | None,
    domain: str,
    rating: int,
    reason: str,
) -> int:
    """Write a GRADE override event for an outcome and time point of ``protocol`` (the time
    point may be left out when the outcome has one); return its id."""
    name, rating, text = check_override(domain, rating, reason)
    found = protocol.outcome(outcome)
    outcome = found.name
    if time_point is None:
        if len(found.time_points) > 1:
            raise InputError(
                f"{outcome} has several time points: give --time-point "
                f"({', '.join(found.time_points)})"
            )
        time_point = found.time_points[0]
    elif time_point not in found.time_points:
        raise InputError(
            f"unknown time point {time_point!r} for {outcome}; expected one of: "
            f"{', '.join(found.time_points)}"
        )
    event = Event(
        reviewer_id=reviewer_id(session, reviewer),
        kind=OVERRIDE_KIND,
        reason=text,
        payload={
            "outcome": outcome,
            "time_point": time_point,
            "domain": name,
            "rating": rating,
            "reason": text,
        },
    )
    session.add(event)
    session.flush()
    return event.id


def override_events(events: Iterable[LoggedEvent]) -> tuple[Override, ...]:
    """Every override of the log, oldest first."""
    found = []
    for e in events:
        if e.kind != OVERRIDE_KIND or not e.payload:
            continue
        p = e.payload
        found.append(
            Override(
                str(p["outcome"]),
                str(p["time_point"]),
                str(p["domain"]),
                int(p["rating"]),
                str(p["reason"]),
                e.reviewer,
                e.id,
            )  # type: ignore[arg-type]
        )
    return tuple(found)


def grade_overrides(events: Iterable[LoggedEvent]) -> Overrides:
    """The latest override per outcome, time point and domain:
    ``{(outcome, time_point): {domain: (rating, reason, reviewer)}}``."""
    found: Overrides = {}
    for o in override_events(events):
        found.setdefault((o.outcome, o.time_point), {})[o.domain] = (o.rating, o.reason, o.reviewer)
    return found
