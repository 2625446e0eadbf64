"""``srma meta-mv``: multilevel and multivariate meta-analysis (:func:`srma.meta_mv`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srma.cli.app import app
from srma.cli.shell import (
    CommandError,
    DataArgument,
    JsonOption,
    LabelOption,
    LevelOption,
    print_json,
    read_table,
    run,
    show,
    stdout,
)

if TYPE_CHECKING:
    import numpy as np

RandomOption = Annotated[
    list[str],
    typer.Option(
        "--random",
        help='Random effects, e.g. "~ 1 | study/effect" or "~ outcome | study" (repeatable).',
    ),
]


def read_covariance(path: Path, k: int) -> np.ndarray:
    """A k x k sampling covariance matrix from a CSV of numbers (a header row is allowed)."""
    import numpy as np
    import pandas as pd

    if not path.is_file():
        raise CommandError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, header=None, dtype=str, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as error:
        raise CommandError(f"{path}: cannot read it as a table ({error})") from None
    header = 1 if pd.to_numeric(raw.iloc[0], errors="coerce").isna().all() else 0
    cells = raw.iloc[header:]
    values = cells.apply(pd.to_numeric, errors="coerce")
    bad = np.argwhere(values.isna().to_numpy())
    if bad.size:
        row, column = bad[0]
        raise CommandError(
            f"{path}: line {row + header + 1}, column {column + 1}: expected a number, got "
            f"{cells.iat[row, column]!r}"
        )
    matrix = values.to_numpy(dtype=float)
    if matrix.shape != (k, k):
        raise CommandError(
            f"{path}: V has {matrix.shape[0]} rows and {matrix.shape[1]} columns, but the data "
            f"have {k} rows: it must be {k} x {k}"
        )
    return matrix


@app.command("meta-mv")
def meta_mv_command(
    data: DataArgument,
    random: RandomOption,
    yi: Annotated[str, typer.Option("--yi", help="Column of effect sizes.")] = "yi",
    vi: Annotated[
        str | None, typer.Option("--vi", help="Column of sampling variances (default vi).")
    ] = None,
    v_file: Annotated[
        Path | None,
        typer.Option(
            "--V-file", help="CSV of the k x k sampling covariance matrix (rows as data)."
        ),
    ] = None,
    mods: Annotated[str | None, typer.Option(help='Moderators, e.g. "~ x + factor(g)".')] = None,
    method: Annotated[str, typer.Option(help="REML or ML.")] = "REML",
    struct: Annotated[
        list[str] | None,
        typer.Option(help="CS, HCS, UN, AR, HAR, ID or DIAG per 'inner | outer' term."),
    ] = None,
    rho: Annotated[float | None, typer.Option(help="Fix the correlation rho.")] = None,
    test: Annotated[str, typer.Option(help="z or t.")] = "z",
    level: LevelOption = 0.95,
    profile_ci: Annotated[
        bool,
        typer.Option(
            "--profile-ci/--no-profile-ci",
            help="Profile-likelihood CIs of the variance components (the slow part of a "
            "large fit).",
        ),
    ] = True,
    label: LabelOption = None,
    robust_by: Annotated[
        str | None,
        typer.Option(
            "--robust",
            help="Column of clusters (e.g. study): add cluster-robust tests of the "
            "coefficients (CR2 with Satterthwaite df unless --adjust says otherwise).",
        ),
    ] = None,
    adjust: Annotated[
        str, typer.Option(help="With --robust: CR0, CR1, CR1p, CR1S or CR2.")
    ] = "CR2",
    as_json: JsonOption = False,
) -> None:
    """Fit a multilevel (three-level) or multivariate meta-analysis (metafor's rma.mv).

    With --robust, the output adds cluster-robust inference (srma.robust); --json then
    prints {"model": ..., "robust": ...}.
    """

    def action() -> None:
        from srma.analysis.multilevel import meta_mv
        from srma.analysis.validation import validate_options

        validate_options("robust", adjust=adjust)  # also without --robust: no option ignored

        if vi is not None and v_file is not None:
            raise CommandError("give --vi or --V-file, not both")
        table = read_table(data)
        covariance = read_covariance(v_file, len(table)) if v_file is not None else (vi or "vi")
        chosen = "CS" if not struct else struct[0] if len(struct) == 1 else struct
        result = meta_mv(
            table, yi, covariance, random=random, mods=mods, method=method, struct=chosen,
            rho=rho, test=test, level=level, profile_ci=profile_ci, label=label, source=str(data),
        )  # fmt: skip
        if robust_by is None:
            show(as_json, result)
            return
        from srma.analysis.robust import robust

        if robust_by not in table.columns:
            raise CommandError(f"{data}: --robust names no column: {robust_by!r}")
        kept = table.iloc[list(result.rows)].reset_index(drop=True)
        sandwich = robust(result, robust_by, adjust=adjust, data=kept, source=str(data))
        if as_json:
            print_json({"model": result.to_dict(), "robust": sandwich.to_dict()})
        else:
            stdout.print(f"{result.summary()}\n\n{sandwich.summary()}", markup=False)

    run(action, data)
