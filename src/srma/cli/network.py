"""``srma network``: network meta-analysis of arms or contrasts (:func:`srma.network_meta`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srma.cli.app import app
from srma.cli.shell import (
    ColumnOption,
    CommandError,
    DataArgument,
    JsonOption,
    LevelOption,
    column_options,
    figure_path,
    read_table,
    run,
    show,
    wrote,
)

if TYPE_CHECKING:
    from srma.analysis.network import NetworkResult


def _write_figures(result: NetworkResult, figures: list[tuple[str, Path]]) -> None:
    """Draw each asked-for figure of ``result`` and save it at its path."""
    from srma.figures.axes import save_figure
    from srma.figures.network import league_table_figure, network_forest, network_graph

    drawers = {"graph": network_graph, "forest": network_forest, "league": league_table_figure}
    for name, path in figures:
        save_figure(drawers[name](result), path)
        wrote(path)


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
    graph: Annotated[
        Path | None,
        typer.Option(help="Write the network graph (SVG, PNG or PDF by the file's suffix)."),
    ] = None,
    forest: Annotated[
        Path | None,
        typer.Option(help="Write the forest plot against the reference, sorted by P-score."),
    ] = None,
    league: Annotated[Path | None, typer.Option(help="Write the league table as a figure.")] = None,
) -> None:
    """Network meta-analysis: every treatment against every other (consistency model).

    One row per arm with --measure and its columns (--col events=stroke), or one row per
    contrast with --yi, --sei (or --vi) and --treatment2 (a multi-arm study: every pair).
    --graph, --forest and --league also draw the network, the forest plot against the
    reference and the league table.
    """

    def action() -> None:
        from srma.analysis.network import network_meta

        asked = (("graph", graph), ("forest", forest), ("league", league))
        figures = [(name, path) for name, path in asked if path is not None]
        for _, path in figures:
            figure_path(path)
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
        if figures:
            _write_figures(result, figures)

    run(action, data)
