"""``srma rob ...``: risk-of-bias figures, and the assessment of a project's studies.

``figure`` draws the traffic-light or summary plot from a robvis CSV or from a
project's reconciled judgements; ``srma rob FILE.csv --tool T -o OUT`` (no
subcommand) is the same as ``srma rob figure FILE.csv ...``.  A project's
assessment mirrors data extraction: a reviewer's form (``form``, an XLSX
workbook or the long CSV form) and its import (``import``, only the changes,
all or nothing), submissions (``submit``), discrepancies and agreement per
domain (``compare``), resolutions (``resolve``, or a consensus workbook),
counts (``status``) and the reconciled judgements in robvis's layout
(``export``).  See docs/risk_of_bias.md.  Thin: every rule lives in
:mod:`srma.review.appraise`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from srma.cli import app, print_json, run, stderr
from srma.cli.assessing import (
    AllStudiesOption,
    CsvOutputOption,
    FormArgument,
    FormOutputOption,
    SubmitStudyOption,
    consensus_option,
    import_or_exit,
    say_imported,
)
from srma.cli.projects import (
    DbOption,
    JsonOption,
    ProjectArgument,
    ReviewerOption,
    project_session,
    say,
)
from srma.cli.shell import CommandError, OutputOption, TitleOption, figure_path, wrote

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srma.review.appraise.project import RobReview
    from srma.review.appraise.risk_of_bias import RobAssessment
    from srma.review.extract.importing import ImportResult
    from srma.review.project import Project

#: The subcommand that ``srma rob FILE ...`` runs (the command's form before projects).
DEFAULT_COMMAND = "figure"


class _FigureByDefault(TyperGroup):
    """A group whose first argument, when it is no subcommand's name, goes to ``figure``."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = [DEFAULT_COMMAND, *args]
        return super().parse_args(ctx, args)


rob_app = typer.Typer(
    name="rob",
    cls=_FigureByDefault,
    help="Risk of bias: traffic-light and summary figures (from a robvis CSV or a project; "
    "srma rob FILE.csv --tool T -o OUT is srma rob figure FILE.csv ...), and a project's "
    "blinded assessment by two assessors: forms, import, compare with kappa per domain, "
    "resolve, export for robvis (docs/risk_of_bias.md).",
    no_args_is_help=True,
)
app.add_typer(rob_app, name="rob")

OutcomeOption = Annotated[
    str | None,
    typer.Option(help="The outcome (risk of bias judged per result; default: the only one)."),
]
ConsensusOption = consensus_option("assessor", "answers and judgements")


def _rob(session: Session, opened: Project) -> RobReview:
    from srma.review.appraise.project import load_rob

    return load_rob(session, opened)


@rob_app.command("figure")
def figure_command(
    source: Annotated[
        Path,
        typer.Argument(
            help="A CSV in robvis's layout (study, one column per domain), or a project folder."
        ),
    ],
    output: OutputOption,
    tool: Annotated[
        str | None,
        typer.Option(help="rob1, rob2, robins-i, syrcle or quadas2 (a project's: its protocol's)."),
    ] = None,
    plot: Annotated[str, typer.Option(help="traffic-light or summary.")] = "traffic-light",
    weighted: Annotated[bool, typer.Option(help="Summary weighted by a Weight column.")] = False,
    palette: Annotated[str, typer.Option(help="cochrane or colourblind.")] = "cochrane",
    label_columns: Annotated[
        str | None, typer.Option(help='Columns forming the study label, e.g. "study,year".')
    ] = None,
    outcome: OutcomeOption = None,
    complete_only: Annotated[
        bool,
        typer.Option(
            "--complete-only", help="A project's studies with reconciled judgements only."
        ),
    ] = False,
    title: TitleOption = None,
    db: DbOption = None,
) -> None:
    """Draw a risk-of-bias traffic-light plot or summary plot (robvis's layouts)."""

    def action() -> None:
        from srma.figures.axes import save_figure
        from srma.figures.rob import summary_plot, traffic_light
        from srma.review.appraise.risk_of_bias import read_rob

        if plot not in ("traffic-light", "summary"):
            raise CommandError(f"--plot must be traffic-light or summary, got {plot!r}")
        figure_path(output)
        if not source.exists():
            raise CommandError(f"{source}: no such file")
        if source.is_dir():
            if weighted or label_columns:
                raise CommandError(
                    "--weighted and --label-columns read a CSV; a project's figure is unweighted"
                )
            assessment = project_assessment(source, db, outcome, tool, complete_only)
        else:
            if tool is None:
                raise CommandError("--tool is needed to read a CSV (rob1, rob2, robins-i, ...)")
            labels = (
                None if label_columns is None else [c.strip() for c in label_columns.split(",")]
            )
            assessment = read_rob(source, tool, label_columns=labels)
        if plot == "summary":
            figure = summary_plot(assessment, weighted=weighted, palette=palette, title=title)
        else:
            figure = traffic_light(assessment, palette=palette, title=title)
        save_figure(figure, output)
        wrote(output)

    run(action)


def project_assessment(
    folder: Path, db: str | None, outcome: str | None, tool: str | None, complete_only: bool
) -> RobAssessment:
    """A project's reconciled judgements for a figure or the forest plot's columns (a warning
    for each study left out)."""
    from srma.review.appraise.export import reconciled_judgements, rob_assessment

    with project_session(folder, db) as (opened, session):
        found = reconciled_judgements(_rob(session, opened), outcome)
    if tool is not None and tool.strip().lower() != found.tool:
        raise CommandError(f"--tool {tool}: the project's protocol names {found.tool}")
    assessment = rob_assessment(found, complete_only=complete_only)
    for label, why in found.not_ready:
        say(f"warning: {label} left out ({why})", console=stderr)
    return assessment


@rob_app.command("status")
def status_command(
    project: ProjectArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """The studies to assess and who has submitted them: counts only, never a judgement."""

    def action() -> None:
        with project_session(project, db) as (opened, session):
            status = _rob(session, opened).status()
        if as_json:
            print_json(status)
            return
        effect = f", effect of {status['effect']}" if status["effect"] else ""
        say(f"{status['tool']}, judged per {status['level']}{effect}")
        for study in status["studies"]:  # type: ignore[union-attr]
            state = "blinded" if study["blinded"] else "open"
            say(
                f"{study['study']} (#{study['study_id']}): {study['submitted']} of "
                f"{study['required']} submitted, {state}"
            )
        for name, counts in status["reviewers"].items():  # type: ignore[union-attr]
            say(
                f"{name}: {counts['submitted']} studies submitted, {counts['assessed']} "
                "assessments with every domain judged"
            )

    run(action)


@rob_app.command("form")
def form_command(
    project: ProjectArgument,
    reviewer: ReviewerOption,
    output: FormOutputOption,
    consensus: ConsensusOption = False,
    db: DbOption = None,
) -> None:
    """Write an assessor's form (XLSX or long CSV) with your earlier answers, nobody else's.

    A row per study (per study x outcome when judged per result), a column per
    signalling question with a list of its answers ("only if ..." where it is
    asked after certain answers), srma's proposal, your judgement, its support
    and an override's reason per domain, and overall.  With --consensus: the
    studies every assessor submitted, to reconcile.
    """
    from srma.review.appraise.project import write_rob_form

    def action() -> None:
        with project_session(project, db) as (opened, session):
            write_rob_form(
                session, _rob(session, opened), output, reviewer=reviewer, consensus=consensus
            )
        say(f"wrote {output}", console=stderr)

    run(action)


@rob_app.command("import")
def import_command(
    project: ProjectArgument,
    file: FormArgument,
    reviewer: ReviewerOption,
    consensus: ConsensusOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a form: only what changed is stored; a file with any problem stores nothing.

    Each row is checked against the tool (answers, proposal, judgement, an
    override's reason); every problem is listed with its sheet and cell (or
    line and column).
    """
    from srma.review.appraise.project import import_rob_form

    def action() -> None:
        def load() -> ImportResult:
            with project_session(project, db) as (opened, session):
                return import_rob_form(
                    session, _rob(session, opened), file, reviewer=reviewer, consensus=consensus
                )

        result = import_or_exit(load, as_json=as_json)
        say_imported(
            result,
            f"{result.file}: {result.values_changed} values changed in "
            f"{len(result.studies_changed)} studies ({result.values_read} cells read); "
            f"{len(result.submitted)} studies submitted",
            as_json=as_json,
        )

    run(action)


@rob_app.command("submit")
def submit_command(
    project: ProjectArgument,
    reviewer: ReviewerOption,
    study: SubmitStudyOption = None,
    all_studies: AllStudiesOption = False,
    db: DbOption = None,
) -> None:
    """Submit studies: your assessment of them is complete (never taken back)."""
    from srma.review.appraise.project import submit_rob

    def action() -> None:
        with project_session(project, db) as (opened, session):
            rob = _rob(session, opened)
            labels = [s.label for s in rob.studies] if all_studies else study or []
            events = submit_rob(session, rob, reviewer=reviewer, labels=labels)
        say(f"{len(events)} studies submitted")

    run(action)


def _kappa_text(name: str, k: dict[str, object], level: float) -> str:
    """``kappa 0.789 (95% CI 0.533 to 1.046)``, or why it is undefined."""
    if k["kappa"] is None:
        problem = str(k["problem"])
        return f"{name} undefined ({problem.split(': ', 1)[-1]})"
    low, high = (round(float(k[b]), 3) + 0.0 for b in ("ci_lower", "ci_upper"))  # no -0.000
    return f"{name} {k['kappa']:.3f} ({100 * level:.0f}% CI {low:.3f} to {high:.3f})"


@rob_app.command("compare")
def compare_command(
    project: ProjectArgument,
    weights: Annotated[
        str, typer.Option(help="Weighted kappa's weights: linear or quadratic.")
    ] = "linear",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Discrepancies per study x domain and agreement per domain (Cohen's and weighted kappa).

    Only studies every assessor submitted are compared; the others show counts only.
    """
    from srma.review.appraise.compare import compare_rob

    def action() -> None:
        if weights not in ("linear", "quadratic"):
            raise CommandError(f"--weights must be linear or quadratic, got {weights!r}")
        with project_session(project, db) as (opened, session):
            result = compare_rob(_rob(session, opened), weighting=weights)  # type: ignore[arg-type]
        found = result.to_dict()
        if as_json:
            print_json(found)
            return
        say(
            f"{result.studies} studies: {result.open_studies} submitted by every assessor, "
            f"{len(result.blinded)} blinded; {len(result.discrepancies)} open discrepancies, "
            f"{len(result.resolved)} resolved, {len(result.answers_differ)} with answers that "
            "differ under agreeing judgements"
        )
        for label, submitted in result.blinded:
            say(f"  blinded: {label} ({submitted} of {result.required} submitted)")
        for d in (*result.discrepancies, *result.resolved, *result.answers_differ):
            where = f"{d.study}" + (f", {d.outcome}" if d.outcome else "")
            judged = "; ".join(
                f"{r}: {j or '(blank)'}" + (f" (proposal {p})" if p else "")
                for r, j, p in d.judgements
            )
            answers = "; ".join(f"{q} " + "/".join(a or "-" for _, a in by) for q, by in d.answers)
            state = f"resolved: {d.resolved} by {d.resolved_by}" if d.resolved else d.status
            say(
                f"  {where}, {d.domain}: {judged}"
                + (f"; answers differ: {answers}" if answers else "")
                + f" [{state}]"
            )
        for pair in found["agreement"]:  # type: ignore[union-attr]
            say(
                f"{pair['reviewer1']} vs {pair['reviewer2']} ({pair['assessments']} "
                f"assessments of {pair['studies']} studies):"
            )
            for d in pair["domains"]:
                if not d["items"]:
                    continue
                say(
                    f"  {d['domain']}: {d['agreed']}/{d['items']} agree; "
                    f"{_kappa_text('kappa', d['kappa'], pair['level'])}; "
                    + _kappa_text(
                        f"{pair['weighting']} weighted kappa", d["weighted_kappa"], pair["level"]
                    )
                )

    run(action)


@rob_app.command("resolve")
def resolve_command(
    project: ProjectArgument,
    study: Annotated[str, typer.Option("--study", help="The study (its label, or #ID).")],
    field: Annotated[
        str,
        typer.Option(
            "--domain",
            help="The domain (D1, ...; its judgement), overall, or a signalling question (2.3).",
        ),
    ],
    value: Annotated[
        str, typer.Option(help='The judgement (or answer) that stands ("" for none).')
    ],
    reviewer: ReviewerOption,
    outcome: OutcomeOption = None,
    reason: Annotated[
        str | None,
        typer.Option(help="Why a judgement differs from the tool's proposal (an override)."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why (recorded).")] = None,
    db: DbOption = None,
) -> None:
    """Settle one judgement (or answer) of a study every assessor submitted."""
    from srma.review.appraise.project import resolve_rob

    def action() -> None:
        with project_session(project, db) as (opened, session):
            event = resolve_rob(
                session,
                _rob(session, opened),
                reviewer=reviewer,
                study=study,
                outcome=outcome,
                field=field,
                value=value,
                reason=reason,
                note=note,
            )
        say(f"resolved (event {event})")

    run(action)


@rob_app.command("export")
def export_command(
    project: ProjectArgument,
    output: CsvOutputOption = None,
    outcome: OutcomeOption = None,
    complete_only: Annotated[
        bool,
        typer.Option(
            "--complete-only",
            help="Leave out the studies without reconciled judgements (else an error).",
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """The reconciled judgements in robvis's layout: Study, D1..Dn (or domain names), Overall."""
    import sys

    from srma.review.appraise.export import ROBVIS, reconciled_judgements, robvis_table
    from srma.review.flow.export import to_csv

    def action() -> None:
        with project_session(project, db) as (opened, session):
            found = reconciled_judgements(_rob(session, opened), outcome)
        table = robvis_table(found, complete_only=complete_only)
        for label, why in found.not_ready:
            say(f"warning: {label} left out ({why})", console=stderr)
        if output is None:
            sys.stdout.write(to_csv(table) or "")
            return
        to_csv(table, output)
        say(
            f"wrote {len(table)} studies to {output}; robvis reads it as tool = "
            f'"{ROBVIS[found.tool][0]}"',
            console=stderr,
        )

    run(action)
