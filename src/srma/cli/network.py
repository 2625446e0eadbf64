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
from srma.errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from matplotlib.figure import Figure

    from srma.analysis.network import NetworkResult


def _risk_of_bias(frame: pd.DataFrame, study: str, column: str, source: str) -> dict[str, object]:
    """Each study's judgement from ``column`` (one value per study; an empty cell is not
    judged); two different judgements for one study are refused, naming the rows."""
    import pandas as pd

    from srma.analysis.validation import require_columns

    require_columns(frame, [study, column], source=source)
    judgements: dict[str, object] = {}
    first_row: dict[str, int] = {}
    for row, (label, value) in enumerate(zip(frame[study], frame[column], strict=True)):
        name = str(label).strip()
        text = "" if pd.isna(value) else str(value).strip()
        if name in judgements and judgements[name] != text:
            raise InputError(
                f"study {name!r} has two risk-of-bias judgements, {judgements[name]!r} (row "
                f"{first_row[name] + 1}) and {text!r}: give each study one",
                file=source, row=row + 1, column=column,
            )  # fmt: skip
        judgements.setdefault(name, text)
        first_row.setdefault(name, row)
    return judgements


def _write_figures(
    result: NetworkResult,
    figures: list[tuple[str, Path]],
    *,
    edge_width: str = "studies",
    risk_of_bias: dict[str, object] | None = None,
    order: list[str] | None = None,
) -> None:
    """Draw each asked-for figure of ``result`` and save it at its path."""
    from srma.figures.axes import save_figure
    from srma.figures.network import league_table_figure, network_forest, network_graph
    from srma.figures.network_funnel import comparison_adjusted_funnel
    from srma.figures.network_inconsistency import net_heat_plot, node_split_forest
    from srma.figures.network_ranking import rankogram

    drawers: dict[str, Callable[[NetworkResult], Figure]] = {
        "graph": lambda r: network_graph(r, edge_width=edge_width, risk_of_bias=risk_of_bias),
        "forest": network_forest,
        "league": league_table_figure,
        "node_split_forest": node_split_forest,
        "net_heat": lambda r: net_heat_plot(r.net_heat),
        "funnel": lambda r: comparison_adjusted_funnel(r, order=order, egger=True),
        "rankogram": lambda r: rankogram(
            r.treatments, r.rank_probabilities, sucra=r.sucra, draws=r.draws,
            small_values_good=r.small_values == "good",
        ),
    }  # fmt: skip
    for name, path in figures:
        try:
            figure = drawers[name](result)
        except ValueError as error:
            raise CommandError(f"{path}: {error}") from None
        save_figure(figure, path)
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
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of the normal draws behind SUCRA and the rank probabilities."),
    ] = None,
    draws: Annotated[
        int | None, typer.Option(help="Number of those draws (default 10,000).")
    ] = None,
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
    league_csv: Annotated[
        Path | None,
        typer.Option(
            "--league-csv",
            help="Write the league table as CSV: each cell 'estimate [lower, upper]' of the "
            "row treatment against the column's, on the reported scale.",
        ),
    ] = None,
    rankogram: Annotated[
        Path | None,
        typer.Option(help="Write the rankogram: each treatment's probability of every rank."),
    ] = None,
    node_split_forest: Annotated[
        Path | None,
        typer.Option(
            "--node-split-forest",
            help="Write the direct, indirect and network estimate of each split comparison.",
        ),
    ] = None,
    net_heat: Annotated[
        Path | None,
        typer.Option("--net-heat", help="Write the net heat plot (Krahn et al. 2013)."),
    ] = None,
    funnel: Annotated[
        Path | None,
        typer.Option(help="Write the comparison-adjusted funnel plot, with Egger's test."),
    ] = None,
    funnel_order: Annotated[
        str | None,
        typer.Option(
            "--funnel-order",
            help="Every treatment, comma-separated, in the funnel's order (e.g. oldest to "
            "newest: each point is then old minus new); default: sorted.",
        ),
    ] = None,
    edge_width: Annotated[
        str,
        typer.Option("--edge-width", help="Graph edges by studies or by precision."),
    ] = "studies",
    rob: Annotated[
        str | None,
        typer.Option(
            "--rob",
            help="Column of each study's overall risk of bias (low, some concerns, high; "
            "empty: not judged), colouring the graph's edges.",
        ),
    ] = None,
) -> None:
    """Network meta-analysis: every treatment against every other (consistency model).

    One row per arm with --measure and its columns (--col events=stroke), or one row per
    contrast with --yi, --sei (or --vi) and --treatment2 (a multi-arm study: every pair).
    --graph, --forest and --league also draw the network, the forest plot against the
    reference and the league table (--league-csv writes it as a table); --node-split-forest,
    --net-heat, --funnel and --rankogram the node-split forest, the net heat plot, the
    comparison-adjusted funnel plot and the rankogram (--seed and --draws set its draws).
    """

    def action() -> None:
        from srma.analysis.network import network_meta

        asked = (
            ("graph", graph), ("forest", forest), ("league", league),
            ("node_split_forest", node_split_forest), ("net_heat", net_heat), ("funnel", funnel),
            ("rankogram", rankogram),
        )  # fmt: skip
        if edge_width not in ("studies", "precision"):
            raise CommandError(f"--edge-width must be studies or precision, got {edge_width!r}")
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
        if draws is not None and draws < 1:
            raise CommandError(f"--draws must be a positive number of draws, got {draws}")
        if league_csv is not None and league_csv.suffix.lower() != ".csv":
            raise CommandError(f"--league-csv {league_csv}: give a file ending in .csv")
        if league_csv is not None and not league_csv.parent.exists():
            raise CommandError(f"{league_csv.parent}: no such folder")
        options = {} if measure is None else {"measure": measure}
        options |= {k: v for k, v in (("seed", seed), ("draws", draws)) if v is not None}
        table = read_table(data)
        judgements = None if rob is None else _risk_of_bias(table, study, rob, str(data))
        order = None if funnel_order is None else [t.strip() for t in funnel_order.split(",")]
        result = network_meta(
            table, study=study, treatment=treatment, treatment2=treatment2,
            method=method, reference=reference, test=test, level=level,
            small_values=small_values, add=add, source=str(data), **options, **columns,
        )  # fmt: skip
        show(as_json, result)
        if league_csv is not None:
            result.league_display().to_csv(league_csv, index_label="")
            wrote(league_csv)
        if figures:
            _write_figures(
                result, figures, edge_width=edge_width, risk_of_bias=judgements, order=order
            )

    run(action, data)
