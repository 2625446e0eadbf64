"""``srma network``: network meta-analysis of arms or contrasts (:func:`srma.network_meta`)."""

from __future__ import annotations

from typing import Annotated

import typer

from srma.cli.app import app
from srma.cli.shell import (
    ColumnOption,
    CommandError,
    DataArgument,
    JsonOption,
    LevelOption,
    column_options,
    read_table,
    run,
    show,
)


@app.command("network")
def network_command(
    data: DataArgument,
    study: Annotated[str, typer.Option(help="Column of study labels.")] = "study",
    treatment: Annotated[str, typer.Option(help="Column of the (first) treatment.")] = "treatment",
    treatment2: Annotated[
        str | None,
        typer.Option(help="Column of the second treatment: one row per contrast (with --yi)."),
    ] = None,
    measure: Annotated[
        str | None,
        typer.Option(
            help="One row per arm: OR, RR, RD (events, total), MD, SMD (mean, sd, n), "
            "GEN (yi, sei)."
        ),
    ] = None,
    yi: Annotated[
        str | None, typer.Option("--yi", help="Column of contrasts (or arm estimates).")
    ] = None,
    sei: Annotated[str | None, typer.Option("--sei", help="Column of standard errors.")] = None,
    vi: Annotated[str | None, typer.Option("--vi", help="Column of sampling variances.")] = None,
    col: ColumnOption = None,
    method: Annotated[str, typer.Option(help="EE, DL, REML or ML.")] = "REML",
    reference: Annotated[
        str | None, typer.Option(help="Reference treatment (default: the first, sorted).")
    ] = None,
    test: Annotated[str, typer.Option(help="z or knha (Knapp-Hartung).")] = "z",
    level: LevelOption = 0.95,
    small_values: Annotated[
        str, typer.Option("--small-values", help="Small values are good or bad.")
    ] = "good",
    add: Annotated[
        float, typer.Option(help="Binary arms: added to the cells of a study with a zero cell.")
    ] = 0.5,
    as_json: JsonOption = False,
) -> None:
    """Network meta-analysis: every treatment against every other (consistency model).

    One row per arm with --measure and its columns (--col events=stroke), or one row per
    contrast with --yi, --sei (or --vi) and --treatment2 (a multi-arm study: every pair).
    """

    def action() -> None:
        from srma.analysis.network import network_meta

        columns = column_options(col)
        if treatment2 is not None and yi is None:
            raise CommandError("--treatment2 (one row per contrast) needs --yi with --sei or --vi")
        if treatment2 is None and measure is None:
            raise CommandError("give --measure (one row per arm) or --treatment2 with --yi")
        if sei is not None and vi is not None:
            raise CommandError("give --sei or --vi, not both")
        if yi is not None:
            columns["yi"] = yi
        if sei is not None or vi is not None:
            columns["sei" if sei is not None else "vi"] = sei if sei is not None else vi
        options = {} if measure is None else {"measure": measure}
        result = network_meta(
            read_table(data), study=study, treatment=treatment, treatment2=treatment2,
            method=method, reference=reference, test=test, level=level,
            small_values=small_values, add=add, source=str(data), **options, **columns,
        )  # fmt: skip
        show(as_json, result)

    run(action, data)
