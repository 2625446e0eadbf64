"""Comparing the assessors: discrepancies per study x domain, agreement per domain.

Only studies that every assessor they need has submitted are compared
(before that, counts only: how many submitted).  On those:

* **discrepancies**: every study (x outcome) x domain where the judgement (or
  QUADAS-2's applicability) differs between the assessors who submitted it
  (or is given by one of them only), open or resolved (the judgement that
  stands after ``srma rob resolve`` or a consensus workbook), and those whose
  judgements agree while answers differ; each with every assessor's judgement,
  proposal and differing answers;
* **agreement** for each pair of assessors, per domain and overall, over the
  assessments both submitted: percent agreement, Cohen's kappa over all the
  tool's judgements and weighted kappa over its ordered levels (least to
  most concern; items judged outside them, ROBINS-I's "No information", are
  left out of the weighted kappa and counted), each with its CI
  (:func:`srma.review.appraise.agreement.domain_agreement`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from itertools import combinations

import pandas as pd

from srma.review.appraise.agreement import DomainKappa, domain_agreement
from srma.review.appraise.assessment import OVERALL
from srma.review.appraise.forms import ANSWER, COMPARED, JUDGEMENT, PROPOSAL, field_name
from srma.review.appraise.project import RobReview
from srma.review.extract.assessment import DISCREPANCY
from srma.review.screen.kappa import Weighting


@dataclass(frozen=True)
class RobDiscrepancy:
    """A study (x outcome) x domain the assessors differ on: each one's judgement and
    proposal, each differing answer (question, then each one's answer), the ``status``
    (:data:`OPEN`: the judgement, or QUADAS-2's applicability, differs; :data:`SETTLED`: a
    resolution settled it; :data:`ANSWERS`: the judgements agree, answers differ) and
    the resolved judgement with who resolved it."""

    study: str
    study_id: int
    outcome: str
    domain: str
    name: str
    judgements: tuple[tuple[str, str | None, str | None], ...]  # reviewer, judgement, proposal
    answers: tuple[tuple[str, tuple[tuple[str, str | None], ...]], ...]
    status: str
    resolved: str | None = None
    resolved_by: str | None = None

    def to_dict(self) -> dict[str, object]:
        found = asdict(self)
        found["judgements"] = [
            {"reviewer": r, "judgement": j, "proposal": p} for r, j, p in self.judgements
        ]
        found["answers"] = [
            {"question": q, "values": [{"reviewer": r, "answer": a} for r, a in by]}
            for q, by in self.answers
        ]
        return found


def _kappa(k: DomainKappa) -> dict[str, object]:
    return {
        "n": k.n,
        "kappa": k.kappa,
        "se": k.se,
        "ci_lower": k.ci_lower,
        "ci_upper": k.ci_upper,
        "problem": k.problem,
    }


@dataclass(frozen=True)
class DomainAgreementRow:
    """Two assessors' agreement on one domain (or overall): items both judged, items agreed,
    Cohen's kappa (every judgement) and weighted kappa (ordered levels only; ``excluded``
    items judged outside them)."""

    domain: str
    name: str
    items: int
    agreed: int
    percent: float | None
    kappa: DomainKappa
    weighted: DomainKappa
    excluded: int

    def to_dict(self) -> dict[str, object]:
        return {
            "domain": self.domain,
            "name": self.name,
            "items": self.items,
            "agreed": self.agreed,
            "percent": self.percent,
            "kappa": _kappa(self.kappa),
            "weighted_kappa": _kappa(self.weighted),
            "weighted_excluded": self.excluded,
        }


@dataclass(frozen=True)
class RobPairAgreement:
    """Agreement of two assessors on the assessments both submitted."""

    reviewer1: str
    reviewer2: str
    studies: int
    assessments: int
    weighting: str
    level: float
    domains: tuple[DomainAgreementRow, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "reviewer1": self.reviewer1,
            "reviewer2": self.reviewer2,
            "studies": self.studies,
            "assessments": self.assessments,
            "weighting": self.weighting,
            "level": self.level,
            "domains": [d.to_dict() for d in self.domains],
        }


@dataclass(frozen=True)
class RobComparison:
    """What ``srma rob compare`` shows: counts, blinded studies (counts only), the
    discrepancies (open, resolved) and agreement per pair of assessors."""

    tool: str
    levels: tuple[str, ...]
    studies: int
    open_studies: int
    required: int
    blinded: tuple[tuple[str, int], ...]
    submitted_by: dict[str, int]
    discrepancies: tuple[RobDiscrepancy, ...]
    resolved: tuple[RobDiscrepancy, ...]
    answers_differ: tuple[RobDiscrepancy, ...]
    agreement: tuple[RobPairAgreement, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "tool": self.tool,
            "levels": list(self.levels),
            "studies": self.studies,
            "open_studies": self.open_studies,
            "required": self.required,
            "blinded": [
                {"study": s, "submitted": n, "required": self.required} for s, n in self.blinded
            ],
            "submitted_by": dict(self.submitted_by),
            "discrepancies": [d.to_dict() for d in self.discrepancies],
            "resolved": [d.to_dict() for d in self.resolved],
            "answers_differ": [d.to_dict() for d in self.answers_differ],
            "agreement": [a.to_dict() for a in self.agreement],
        }


def _domains(rob: RobReview) -> list[tuple[str, str]]:
    found = [(d.id, d.name) for d in rob.form.domains]
    if rob.form.field(field_name(OVERALL, JUDGEMENT)) is not None:
        found.append((OVERALL, "Overall"))
    return found


#: What a listed study x domain is: its judgement differs and is open, or was resolved, or
#: the judgements agree and only answers differ.
OPEN, SETTLED, ANSWERS = "open", "resolved", "answers differ"


def _discrepancies(
    rob: RobReview, given: pd.DataFrame, items: pd.DataFrame
) -> dict[str, list[RobDiscrepancy]]:
    form, state = rob.form, rob.state
    compared = {f.name: f for f in form.fields if f.kind in COMPARED}
    items = items[items["field"].isin(list(compared))]
    listed = items[items["status"] != "agreed"].copy()
    listed["domain"] = [compared[f].domain for f in listed["field"]]
    values = {
        (int(r.study), r.scope, r.field, r.reviewer): r.value for r in given.itertuples(index=False)
    }
    settled = {
        (int(r.study), r.scope, r.field): (r.value, r.reviewer)
        for r in state.resolutions.itertuples(index=False)
    }
    names = dict(_domains(rob))
    found: dict[str, list[RobDiscrepancy]] = {OPEN: [], SETTLED: [], ANSWERS: []}
    for (study, scope, domain), part in listed.groupby(["study", "scope", "domain"], sort=False):
        study = int(study)
        reviewers = sorted(state.submitted[study])
        judgement = field_name(domain, JUDGEMENT)
        judged = part[part["field"].map(lambda f: compared[f].kind != ANSWER)]
        if (judged["status"] == DISCREPANCY).any():
            status, standing, by = OPEN, None, None
        elif len(judged):
            status = SETTLED
            standing, by = settled.get((study, scope, judgement), (None, None))
        else:
            status, standing, by = ANSWERS, None, None
        found[status].append(
            RobDiscrepancy(
                form.studies.by_id[study].label,
                study,
                scope,
                domain,
                names[domain],
                tuple(
                    (
                        r,
                        values.get((study, scope, judgement, r)),
                        values.get((study, scope, field_name(domain, PROPOSAL), r)),
                    )
                    for r in reviewers
                ),
                tuple(
                    (f, tuple((r, values.get((study, scope, f, r))) for r in reviewers))
                    for f in part["field"]
                    if compared[f].kind == ANSWER
                ),
                status,
                standing,
                by,
            )
        )
    return found


def _pair(
    rob: RobReview,
    given: pd.DataFrame,
    first: str,
    second: str,
    studies: list[int],
    *,
    weighting: Weighting,
    level: float,
) -> RobPairAgreement:
    tool = rob.form.tool
    domains = _domains(rob)
    fields = [field_name(d, JUDGEMENT) for d, _ in domains]
    mine = given[given["study"].isin(studies) & given["field"].isin(fields)]
    wide = mine.pivot(index=["study", "scope", "field"], columns="reviewer", values="value")
    for name in (first, second):
        if name not in wide:
            wide[name] = None
    wide = wide[wide[first].notna() & wide[second].notna()].reset_index()
    ones, twos, ordered1, ordered2 = {}, {}, {}, {}
    for (domain, _), field in zip(domains, fields, strict=True):
        part = wide[wide["field"] == field]
        ones[domain], twos[domain] = list(part[first]), list(part[second])
        keep = part[part[first].isin(tool.levels) & part[second].isin(tool.levels)]
        ordered1[domain], ordered2[domain] = list(keep[first]), list(keep[second])
    plain = domain_agreement(ones, twos, levels=tool.judgements, level=level)
    weighted = domain_agreement(
        ordered1, ordered2, levels=tool.levels, weighting=weighting, level=level
    )
    rows = []
    for (domain, name), k, w in zip(domains, plain.domains, weighted.domains, strict=True):
        agreed = sum(a == b for a, b in zip(ones[domain], twos[domain], strict=True))
        n = len(ones[domain])
        rows.append(
            DomainAgreementRow(
                domain,
                name,
                n,
                agreed,
                100.0 * agreed / n if n else None,
                k,
                w,
                n - len(ordered1[domain]),
            )
        )
    assessments = len(wide[["study", "scope"]].drop_duplicates())
    return RobPairAgreement(first, second, len(studies), assessments, weighting, level, tuple(rows))


def compare_rob(
    rob: RobReview, *, weighting: Weighting = "linear", level: float = 0.95
) -> RobComparison:
    """Discrepancies and agreement of the assessors (open studies only; see the module)."""
    state, studies = rob.state, rob.studies
    blinded = tuple(
        (s.label, len(state.submitted.get(s.id, {}))) for s in studies if state.is_blinded(s.id)
    )
    counts: dict[str, int] = {}
    for by in state.submitted.values():
        for name in by:
            counts[name] = counts.get(name, 0) + 1
    open_ids = [s for s in state.open_studies() if studies.get(s) is not None]
    pairs = pd.DataFrame(
        [(s, r) for s in open_ids for r in state.submitted[s]], columns=["study", "reviewer"]
    )
    given = state.values.merge(pairs, on=["study", "reviewer"], how="inner")
    items = state.reconciliation()
    listed = _discrepancies(rob, given, items[items["study"].isin(open_ids)])
    reviewers = sorted({r for s in open_ids for r in state.submitted[s]})
    agreement = []
    for first, second in combinations(reviewers, 2):
        shared = [s for s in open_ids if {first, second} <= set(state.submitted[s])]
        if shared:
            agreement.append(
                _pair(rob, given, first, second, shared, weighting=weighting, level=level)
            )
    order = {s.id: i for i, s in enumerate(studies)}
    domain_order = {d: i for i, (d, _) in enumerate(_domains(rob))}

    def sort(d: RobDiscrepancy) -> tuple[int, str, int]:
        return order[d.study_id], d.outcome, domain_order[d.domain]

    return RobComparison(
        rob.form.tool.name,
        rob.form.tool.levels,
        len(studies),
        len(open_ids),
        state.required,
        blinded,
        counts,
        tuple(sorted(listed[OPEN], key=sort)),
        tuple(sorted(listed[SETTLED], key=sort)),
        tuple(sorted(listed[ANSWERS], key=sort)),
        tuple(agreement),
    )
