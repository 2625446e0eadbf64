"""``srma simulate``: replay screening of a fully labelled set with active learning."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from srma.cli import CommandError, app, figure_path, print_json, read_table, run, stderr, stdout


@app.command("simulate")
def simulate_command(
    data: Annotated[
        Path | None, typer.Argument(help="CSV with title, abstract and a 0/1 label column.")
    ] = None,
    dataset: Annotated[
        str | None,
        typer.Option(
            help="A shipped labelled set instead: nagtegaal2019, bannach_brown2019 or "
            "kitchenham2010."
        ),
    ] = None,
    label: Annotated[str, typer.Option(help="The 0/1 label column.")] = "label_included",
    model: Annotated[
        list[str] | None,
        typer.Option(help="svm (the default), logistic and/or naive_bayes (repeatable)."),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed for the prior records.")] = 0,
    batch_size: Annotated[int, typer.Option(help="Retrain after this many records.")] = 1,
    features: Annotated[
        str, typer.Option(help="TF-IDF settings: asreview (ASReview LAB's default) or srma.")
    ] = "asreview",
    plot: Annotated[Path | None, typer.Option(help="Draw the recall curves (.png/.svg).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay title/abstract screening of a labelled set: recall curve, WSS@95, RRF@10."""
    from srma.datasets.screening import load_screening
    from srma.review.screen.simulation import labelled_records, simulate

    def action() -> None:
        if (data is None) == (dataset is None):
            raise CommandError("give either a CSV file or --dataset NAME")
        if plot is not None:
            figure_path(plot)
        if dataset is not None:
            try:
                frame = load_screening(dataset)
            except KeyError as error:
                raise CommandError(str(error).strip("'\"")) from None
            source = f"srma.datasets:{dataset}"
        else:
            frame, source = read_table(data), str(data)
        texts, labels = labelled_records(frame, label, source)
        stderr.print(
            f"simulating screening of {len(texts)} records ({sum(labels)} relevant)",
            markup=False,
        )
        results = [
            simulate(texts, labels, model=name, seed=seed, batch_size=batch_size, features=features)
            for name in model or ["svm"]
        ]
        if plot is not None:
            from srma.figures.axes import save_figure
            from srma.figures.screening import recall_plot

            save_figure(recall_plot(results, title=f"{source}: {label}"), plot)
            stderr.print(f"wrote {plot}", markup=False)
        if as_json:
            print_json([
                {
                    "model": r.model, "features": r.features, "seed": r.seed,
                    "batch_size": r.batch_size,
                    "n_records": r.n_records, "n_relevant": r.n_relevant,
                    "prior_indices": list(r.prior_indices), "wss95": r.wss95,
                    "wss100": r.wss100, "rrf10": r.rrf10,
                    "screened_to_recall": {str(k): v for k, v in r.screened_to_recall.items()},
                    "n_model_fits": r.n_model_fits, "recall_curve": r.recall_curve.tolist(),
                }
                for r in results
            ])  # fmt: skip
            return
        table = Table("model", "WSS@95", "WSS@100", "RRF@10", "screened to 95% recall", "fits")
        for r in results:
            table.add_row(r.model, f"{r.wss95:.3f}", f"{r.wss100:.3f}", f"{r.rrf10:.3f}",
                          str(r.screened_to_recall[0.95]), str(r.n_model_fits))  # fmt: skip
        stdout.print(table)

    run(action)
