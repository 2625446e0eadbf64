"""``srma sof``: the GRADE certainty and summary of findings of one outcome from a study table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from srma.cli.app import app
from srma.cli.shell import (
    CommandError,
    JsonOption,
    LevelOption,
    ModelOptions,
    StudyOptions,
    print_json,
    run,
    stdout,
    with_options,
    wrote,
)

#: Measures a summary of findings reads; HR and IRR come as yi (log ratio) with vi or sei.
SOF_MEASURES = ("MD", "SMD", "ROM", "RR", "OR", "RD", "PETO", "HR", "IRR", "GEN")
EFFECT_ONLY = ("HR", "IRR", "GEN")
OUTPUT_SUFFIXES = (".html", ".docx", ".csv")


def _overrides(pairs: list[str] | None, reviewer: str | None) -> dict[str, Any]:
    """``--override imprecision=-1:"wide CI"`` as Override objects."""
    from srma.analysis.grade import Override

    out = {}
    for pair in pairs or []:
        name, equals, rest = pair.partition("=")
        rating, colon, reason = rest.partition(":")
        if not equals or not colon:
            raise CommandError(f"--override expects DOMAIN=RATING:REASON, got {pair!r}")
        try:
            value = int(rating)
        except ValueError:
            raise CommandError(f"--override {pair!r}: the rating must be a whole number") from None
        if not reviewer:
            raise CommandError("--override needs --reviewer NAME (who made the judgement)")
        out[name.strip()] = Override(value, reason.strip(), reviewer)
    return out


def _check_outputs(paths: list[Path] | None, profile: Path | None) -> None:
    for path in paths or []:
        if path.suffix.lower() not in OUTPUT_SUFFIXES:
            raise CommandError(f"{path}: a summary of findings is written as .html, .docx or .csv")
    if profile is not None and profile.suffix.lower() != ".csv":
        raise CommandError(f"{profile}: the evidence profile is written as .csv")
    for path in [*(paths or []), *([profile] if profile else [])]:
        if not path.parent.exists():
            raise CommandError(f"{path.parent}: no such folder")


def _summary(certainty: Any) -> str:
    lines = [
        f"{certainty.outcome}: {certainty.symbols} {certainty.certainty} "
        f"(start {certainty.start}: {certainty.design})",
        f"effect: {certainty.interpretation}",
    ]
    for rating in (*certainty.domains, *certainty.upgrades):
        lines.append(f"  {rating.rating:+d} {rating.explanation()}")
    lines.extend(f"note: {note}" for note in certainty.footnotes if "comparator risk" in note)
    return "\n".join(lines)


@app.command("sof")
@with_options(studies=StudyOptions, model=ModelOptions)
def sof_command(
    studies: StudyOptions,
    model: ModelOptions,
    level: LevelOption = 0.95,
    outcome: Annotated[str | None, typer.Option(help="Outcome name (default: the file's).")] = None,
    assumed_risk: Annotated[
        float | None,
        typer.Option(help="Assumed comparator risk in (0, 1) (default: the studies' median)."),
    ] = None,
    mid: Annotated[
        float | None,
        typer.Option(help="Minimal important difference on the effect's scale (ratio: 1.25)."),
    ] = None,
    direction: Annotated[
        str, typer.Option(help='"higher is better" or "lower is better".')
    ] = "higher is better",
    design: Annotated[str, typer.Option(help="randomised, observational or preclinical.")] = (
        "randomised"
    ),
    rob: Annotated[
        str | None,
        typer.Option("--rob", help="Column of overall risk of bias (low, some concerns, high)."),
    ] = None,
    participants: Annotated[
        int | None, typer.Option(help="Participants (default: the per-arm sizes' sum).")
    ] = None,
    follow_up: Annotated[str, typer.Option("--follow-up", help="Follow-up, as shown.")] = "",
    importance: Annotated[str, typer.Option(help="critical or important.")] = "",
    override: Annotated[
        list[str] | None,
        typer.Option(help="DOMAIN=RATING:REASON, a reviewer's judgement (repeatable)."),
    ] = None,
    reviewer: Annotated[str | None, typer.Option(help="Who made the overrides.")] = None,
    title: Annotated[str | None, typer.Option(help="Title of the table.")] = None,
    output: Annotated[
        list[Path] | None,
        typer.Option("-o", "--output", help="Write the table: .html, .docx or .csv (repeatable)."),
    ] = None,
    profile: Annotated[
        Path | None, typer.Option(help="Write the evidence profile as .csv.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """GRADE certainty, absolute effects and a summary of findings for one outcome."""

    def action() -> None:
        from srma.analysis.bias import small_study_tests
        from srma.analysis.conventions import count_columns, has_counts, supports_follow_up
        from srma.analysis.grade import GradeInputs, assess_certainty
        from srma.analysis.grade.table import risk_of_bias_column, study_counts, without_high_risk
        from srma.analysis.meta import meta

        measure = None if studies.measure is None else studies.measure.upper()
        if measure is not None and measure not in SOF_MEASURES:
            raise CommandError(
                f"--measure: unknown measure {studies.measure!r}; expected one of "
                f"{', '.join(SOF_MEASURES)}"
            )
        if measure in EFFECT_ONLY and studies.yi is None:
            raise CommandError(
                f"--measure {measure} needs --yi and --vi (or --sei): the log "
                "ratio and its variance per study"
            )
        _check_outputs(output, profile)
        data = studies.read()
        settings = {**model.settings(), "level": level}
        result = data.fit(**settings)
        arguments = data.arguments()

        def refit(table):  # the same model on fewer studies
            return meta(table, **arguments, **settings)

        judgements = None
        restricted = None
        if rob is not None:
            judgements = risk_of_bias_column(data.table, rob, data.label, source=data.source)
            restricted = without_high_risk(data.table, judgements, data.label, refit)
        small = None
        if supports_follow_up(result):
            counts = data.table if has_counts(data.measure) else None
            small = small_study_tests(result, counts=counts, **count_columns(data.columns))
        counted = study_counts(data.table, data.columns, data.label, result)
        certainty = assess_certainty(
            GradeInputs(
                outcome=outcome or studies.data.stem,
                result=result,
                direction=direction,
                design=design,
                risk_of_bias=judgements,
                without_high_risk=restricted,
                small_study=small,
                participants=participants,
                assumed_risk=assumed_risk,
                mid=mid,
                follow_up=follow_up,
                importance=importance,
                overrides=_overrides(override, reviewer),
                **counted,
            )
        )
        if output or profile:
            from srma.report.sof import write_sof_csv, write_sof_docx, write_sof_html

            heading = title or f"Summary of findings: {certainty.outcome}"
            writers = {".html": write_sof_html, ".docx": write_sof_docx}
            for path in output or []:
                suffix = path.suffix.lower()
                if suffix == ".csv":
                    write_sof_csv([certainty], path)
                else:
                    writers[suffix]([certainty], path, title=heading)
                wrote(path)
            if profile is not None:
                write_sof_csv([certainty], profile, profile=True)
                wrote(profile)
        if as_json:
            print_json(
                {
                    "outcome": certainty.outcome,
                    "measure": result.measure,
                    "k": result.k,
                    "grade": certainty.to_dict(),
                }
            )
        else:
            stdout.print(_summary(certainty), markup=False, highlight=False)

    run(action, studies.data)
