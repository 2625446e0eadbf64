"""The reconciled judgements of a project: robvis's table, figures, forest-plot columns.

A study's judgement of a domain is *reconciled* once every assessor it needs
has submitted it and they agree, or a resolution settles it
(:mod:`srma.review.extract.assessment`).  :func:`reconciled_judgements` gives
them per study (for one outcome at result level) with what keeps a study out
(blinded, or a domain still in discrepancy; counts only, never a value), and
:func:`robvis_table` writes them in the layout robvis reads (McGuinness &
Higgins 2021, Res Synth Methods 12:55-61): ``Study``, a column per domain,
``Overall``:

| tool | robvis template | domain columns | judgements |
|---|---|---|---|
| RoB 2 | ``ROB2`` | ``D1`` .. ``D5`` | Low, Some concerns, High |
| ROBINS-I | ``ROBINS-I`` | ``D1`` .. ``D7`` | Low, Moderate, Serious, Critical, No information |
| QUADAS-2 | ``QUADAS-2`` | ``D1`` .. ``D4`` | Low, Some concerns (QUADAS-2's Unclear), High |
| RoB 1 | ``ROB1`` (generic) | the domains' names, words joined by dots | Low, Unclear, High |
| SYRCLE | ``Generic`` | the items' names, words joined by dots | Low, Unclear, High |

robvis's templates draw only domain judgements, so QUADAS-2's applicability
is not in the table.  ``Overall`` is written when every study has an overall
judgement (RoB 1, QUADAS-2 and SYRCLE have no overall rule, and the assessors
may leave it out for every study).  :func:`rob_assessment` reads the same table
as :func:`srma.review.appraise.risk_of_bias.read_rob` reads a robvis CSV, for
the traffic-light and summary figures and the forest plot's RoB columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from srma.errors import InputError
from srma.review.appraise.assessment import OVERALL
from srma.review.appraise.forms import JUDGEMENT, field_name
from srma.review.appraise.project import RobReview
from srma.review.appraise.risk_of_bias import RobAssessment, read_rob
from srma.review.extract.assessment import AGREED, DISCREPANCY, RESOLVED

#: robvis's template for each tool, and whether its domain columns are D1..Dn.
ROBVIS = {
    "rob2": ("ROB2", True),
    "robins-i": ("ROBINS-I", True),
    "quadas2": ("QUADAS-2", True),
    "rob1": ("ROB1", False),
    "syrcle": ("Generic", False),
}
#: Judgements robvis spells otherwise (its QUADAS-2 template writes "Some concerns").
ROBVIS_SPELLING = {"quadas2": {"Unclear": "Some concerns"}}


@dataclass(frozen=True)
class Reconciled:
    """The reconciled judgements of one scope (an outcome, or ``""`` at study level): a row
    per study ready (``study``, ``study_id``, one column per domain id, ``overall``; None
    where no overall was given), and the studies not ready with why (counts only)."""

    tool: str
    scope: str
    domains: tuple[tuple[str, str], ...]  # (id, name)
    table: pd.DataFrame
    not_ready: tuple[tuple[str, str], ...]


def reconciled_judgements(rob: RobReview, outcome: str | None = None) -> Reconciled:
    """Every study's reconciled judgements for ``outcome`` (at result level)."""
    form, state = rob.form, rob.state
    scope = form.scope(outcome)
    domains = tuple((d.id, d.name) for d in form.domains)
    items = state.reconciliation()
    items = items[items["scope"] == scope]
    ready = items[items["status"].isin((AGREED, RESOLVED))]
    settled = {(int(r.study), r.field): r.value for r in ready.itertuples(index=False)}
    differ = items[items["status"] == DISCREPANCY]
    unsettled = {(int(r.study), r.field) for r in differ.itertuples(index=False)}
    rows, not_ready = [], []
    overall = field_name(OVERALL, JUDGEMENT)
    for study in rob.studies:
        if state.is_blinded(study.id):
            submitted = len(state.submitted.get(study.id, {}))
            not_ready.append(
                (study.label, f"blinded: {submitted} of {state.required} assessors submitted")
            )
            continue
        judged = {d: settled.get((study.id, field_name(d, JUDGEMENT))) for d, _ in domains}
        open_domains = [d for d, value in judged.items() if value is None]
        if (study.id, overall) in unsettled:
            open_domains.append(OVERALL)
        if open_domains:
            not_ready.append((study.label, f"not reconciled: {', '.join(open_domains)}"))
            continue
        rows.append(
            {
                "study": study.label,
                "study_id": study.id,
                **judged,
                OVERALL: settled.get((study.id, overall)),
            }
        )
    columns = ["study", "study_id", *(d for d, _ in domains), OVERALL]
    table = pd.DataFrame(rows, columns=columns).astype(object)
    return Reconciled(form.tool.name, scope, domains, table, tuple(not_ready))


def robvis_name(domain: str) -> str:
    """A domain's name as a robvis generic column: words joined by dots, without the bias
    type in brackets ("Random sequence generation (selection bias)" -> "Random.sequence.
    generation"), which robvis shows with spaces again."""
    words = re.sub(r"\s*\([^)]*\)\s*$", "", domain)
    return ".".join(re.findall(r"[A-Za-z0-9]+", words))


def robvis_table(found: Reconciled, *, complete_only: bool = False) -> pd.DataFrame:
    """The reconciled judgements in robvis's layout (see the module).

    Every study must be ready (else InputError naming each study and why, counts only);
    ``complete_only`` leaves out the studies not ready instead.
    """
    if found.not_ready and not complete_only:
        listed = "; ".join(f"{label}: {why}" for label, why in found.not_ready)
        raise InputError(
            f"{len(found.not_ready)} of {len(found.not_ready) + len(found.table)} studies have "
            f"no reconciled judgements yet ({listed}); submit, compare and resolve them, or "
            "export the others with --complete-only"
        )
    if found.table.empty:
        raise InputError("no study has reconciled judgements yet")
    coded = ROBVIS[found.tool][1]
    spelling = ROBVIS_SPELLING.get(found.tool, {})
    table = found.table
    out = pd.DataFrame({"Study": table["study"]})
    for number, (domain, name) in enumerate(found.domains, start=1):
        column = f"D{number}" if coded else robvis_name(name)
        out[column] = table[domain].map(lambda v: spelling.get(v, v))
    given = table[OVERALL].notna()
    if given.all():
        out["Overall"] = table[OVERALL].map(lambda v: spelling.get(v, v))
    elif given.any():
        missing = ", ".join(table.loc[~given, "study"])
        raise InputError(
            f"an overall judgement is given for some studies only (none for {missing}): "
            "judge it for every study or for none"
        )
    return out.reset_index(drop=True)


def rob_assessment(found: Reconciled, *, complete_only: bool = False) -> RobAssessment:
    """The reconciled judgements as the figures and the forest plot read them."""
    return read_rob(robvis_table(found, complete_only=complete_only), found.tool)
