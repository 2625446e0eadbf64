"""Agreement of two assessors per domain: Cohen's kappa or weighted kappa, with CIs.

For every domain the two assessors' judgements of the same studies (or
results) form a ``q x q`` table over the tool's ordered levels; all domains'
tables are computed at once by :func:`srma.review.screen.kappa.kappa_tables`
(the formulas, the Fleiss, Cohen & Everitt 1969 variance and the weights are
documented there).  Weighted kappa reads the levels in their order of
concern (Low < Some concerns < High), so linear and quadratic weights give
partial credit to judgements one level apart.  A domain where kappa is
undefined (both assessors used one level throughout) gets no kappa and says
why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from srma.errors import InputError
from srma.review.appraise.assessment import OVERALL, Assessment
from srma.review.appraise.catalogue import tool as find_tool
from srma.review.screen.kappa import Weighting, agreement_weights, kappa_tables


@dataclass(frozen=True)
class DomainKappa:
    """Agreement on one domain; ``kappa`` and its CI are None where kappa is undefined."""

    domain: str
    n: int
    table: tuple[tuple[int, ...], ...]  # [assessor 1][assessor 2], levels in order
    observed_agreement: float
    expected_agreement: float
    kappa: float | None
    se: float | None
    ci_lower: float | None
    ci_upper: float | None
    problem: str | None = None


@dataclass(frozen=True)
class DomainAgreement:
    """Agreement of two assessors on every domain, with the settings that produced it."""

    levels: tuple[str, ...]
    weighting: str
    level: float
    domains: tuple[DomainKappa, ...]

    def to_dict(self) -> dict[str, object]:
        return {
            "levels": list(self.levels),
            "weighting": self.weighting,
            "level": self.level,
            "domains": [vars(d) | {"table": [list(r) for r in d.table]} for d in self.domains],
        }


def domain_agreement(
    assessor1: Mapping[str, Sequence[str]],
    assessor2: Mapping[str, Sequence[str]],
    *,
    levels: Sequence[str],
    weighting: Weighting = "unweighted",
    level: float = 0.95,
) -> DomainAgreement:
    """Kappa per domain from each assessor's judgements (domain -> one judgement per item).

    Both mappings name the same domains and, per domain, judge the same items
    in the same order; every judgement must be one of ``levels`` (given from
    least to most concern).
    """
    order = tuple(str(x) for x in levels)
    if set(assessor1) != set(assessor2):
        missing = sorted(set(assessor1) ^ set(assessor2))
        raise InputError(f"the assessors judged different domains: {missing[0]!r} is not in both")
    if not assessor1:
        raise InputError("no domains to compare")
    index = {name: i for i, name in enumerate(order)}
    names = list(assessor1)
    q = len(order)
    tables = np.zeros((len(names), q, q))
    for d, name in enumerate(names):
        first, second = list(assessor1[name]), list(assessor2[name])
        if len(first) != len(second):
            raise InputError(
                f"domain {name!r}: the assessors judged {len(first)} and {len(second)} items"
            )
        for row, value in enumerate((*first, *second)):
            if str(value) not in index:
                item = row % len(first) + 1 if first else row + 1
                raise InputError(
                    f"domain {name!r}, item {item}: {value!r} is not a level; expected "
                    f"{', '.join(order)}",
                    row=item,
                    column=name,
                )
        np.add.at(tables[d], ([index[str(x)] for x in first], [index[str(x)] for x in second]), 1)
    result = kappa_tables(tables, agreement_weights(q, weighting))
    crit = norm.isf((1.0 - level) / 2.0)
    domains = []
    for d, name in enumerate(names):
        defined = bool(result.defined[d])
        kappa, se = float(result.kappa[d]), float(result.se[d])
        domains.append(
            DomainKappa(
                domain=name,
                n=int(result.n[d]),
                table=tuple(tuple(int(x) for x in r) for r in tables[d]),
                observed_agreement=float(result.observed_agreement[d]),
                expected_agreement=float(result.expected_agreement[d]),
                kappa=kappa if defined else None,
                se=se if defined else None,
                ci_lower=kappa - crit * se if defined else None,
                ci_upper=kappa + crit * se if defined else None,
                problem=None
                if defined
                else (
                    "no items"
                    if result.n[d] == 0
                    else "kappa is undefined: both assessors used a single level throughout"
                ),
            )
        )
    return DomainAgreement(order, weighting, level, tuple(domains))


def assessment_agreement(
    first: Sequence[Assessment],
    second: Sequence[Assessment],
    *,
    weighting: Weighting = "unweighted",
    level: float = 0.95,
) -> DomainAgreement:
    """Kappa per domain (and overall, where both give one) of two assessors' assessments.

    ``first[i]`` and ``second[i]`` assess the same study or result with the
    same tool; the levels are the tool's ordered levels (judgements outside
    them, such as ROBINS-I's "No information", cannot be weighted and raise).
    """
    if len(first) != len(second):
        raise InputError(f"the assessors assessed {len(first)} and {len(second)} items")
    if not first:
        raise InputError("no assessments to compare")
    tools = {a.tool for a in (*first, *second)}
    if len(tools) != 1:
        raise InputError(f"the assessments use different tools: {', '.join(sorted(tools))}")
    chosen = find_tool(tools.pop())
    ids = [d.id for d in first[0].domains]
    for a in (*first, *second):
        if [d.id for d in a.domains] != ids:
            raise InputError("the assessments judge different domains (another effect?)")
    by_domain1 = {i: [a.judgement(i) for a in first] for i in ids}
    by_domain2 = {i: [a.judgement(i) for a in second] for i in ids}
    if all(a.overall is not None for a in (*first, *second)):
        by_domain1[OVERALL] = [str(a.overall) for a in first]
        by_domain2[OVERALL] = [str(a.overall) for a in second]
    return domain_agreement(
        by_domain1, by_domain2, levels=chosen.levels, weighting=weighting, level=level
    )
