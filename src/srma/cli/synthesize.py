"""``srma analyze`` and ``srma grade-override``: a review's planned analyses, stored with the
data version they came from, and reviewers' GRADE overrides as events.

Thin: the analyses live in :mod:`srma.review.synthesize` (docs/synthesis.md).
"""

from __future__ import annotations

from typing import Annotated

import typer

from srma.cli import app, print_json, run
from srma.cli.projects import DbOption, JsonOption, ProjectArgument, project_session, say


@app.command("analyze")
def analyze_command(
    project: ProjectArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
    status: Annotated[
        bool,
        typer.Option(
            "--status",
            help="Say per outcome whether the stored results are current or stale; analyse "
            "nothing.",
        ),
    ] = False,
) -> None:
    """Run every outcome's planned analyses on the reconciled data and store the results.

    The protocol's policy chooses the model and follow-ups; subgroups,
    meta-regressions, leave-one-out, excluding studies at high risk of bias
    and small-study tests follow the plan, each with its reason or why it was
    not run.  One transaction: an interrupted run stores nothing.
    """

    def action() -> None:
        from srma.review.synthesize.project import analyze_project, review_inputs
        from srma.review.synthesize.stored import analysis_status, store_analyses

        with project_session(project, db) as (opened, session):
            inputs = review_inputs(session, opened)
            if status:
                found = analysis_status(session, opened, inputs)
                if as_json:
                    print_json([s.to_dict() for s in found])
                else:
                    for item in found:
                        say(item.sentence())
                return
            analysis = analyze_project(session, opened, inputs)
            number = store_analyses(session, analysis, log_position=inputs.log_position)
        if as_json:
            print_json({"run": number, **analysis.to_dict()})
            return
        say(f"{analysis.title}: policy {analysis.policy}; run {number} stored")
        for note in analysis.notes:
            say(f"note: {note}")
        for outcome in analysis.outcomes:
            for line in outcome.summary().splitlines():
                say(line)

    run(action)


@app.command("grade-override")
def grade_override_command(
    project: ProjectArgument,
    outcome: Annotated[str, typer.Option(help="The outcome, as the protocol names it.")],
    domain: Annotated[
        str,
        typer.Option(
            help="risk_of_bias, inconsistency, indirectness, imprecision, publication_bias, "
            "large_effect or dose_response."
        ),
    ],
    rating: Annotated[
        int,
        typer.Option(
            help="0, -1 or -2 for the five domains that rate down; 0, 1 or 2 for large_effect; "
            "0 or 1 for dose_response."
        ),
    ],
    reason: Annotated[str, typer.Option(help="Why the rating differs from srma's proposal.")],
    reviewer: Annotated[str, typer.Option(help="Your reviewer name.")],
    time_point: Annotated[
        str | None, typer.Option(help="The time point (needed when the outcome has several).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a reviewer's GRADE rating of one domain, with the reason (a new event; a later
    override of the same domain replaces it in the analyses, the log keeps both)."""

    def action() -> None:
        from srma.review.synthesize.overrides import record_override

        with project_session(project, db) as (opened, session):
            event = record_override(
                session,
                opened.protocol,
                reviewer=reviewer,
                outcome=outcome,
                time_point=time_point,
                domain=domain,
                rating=rating,
                reason=reason,
            )
        if as_json:
            print_json({"event": event})
        else:
            say(f"override recorded (event {event})")

    run(action)
