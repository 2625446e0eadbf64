"""The ``srma`` command: a thin shell over the Python API (parse, call, print).

No statistics here.  Bad input ends with exit status 1 and one line on
standard error (``error: file, row, column: what was wrong``); warnings go to
standard error as ``warning: ...`` lines and never into ``--json`` output.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import pandas as pd
import typer
from rich.console import Console

from srma.errors import InputError, SrmaWarning
from srma.report.jsonable import to_jsonable
from srma.vocabulary import BINARY_MEASURES

app = typer.Typer(
    name="srma",
    help="Systematic reviews and meta-analyses: review projects (import, deduplication, "
    "screening), effect sizes, pooling, figures and reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
stdout = Console()
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")

METHODS = "EE, DL, REML, ML, PM, HE, SJ, HS, EB, PMM, MH or PETO"
TESTS = "z, t, knha or adhoc"


class CommandError(Exception):
    """A problem to report in one line and exit with status 1."""


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or TSV file as a DataFrame, with a one-line error for unreadable files."""
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if not path.is_file():
        raise CommandError(f"{path}: not a file")
    separator = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        return pd.read_csv(path, sep=separator, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path}: the file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CommandError(f"{path}: cannot read it as a table ({error})") from None


def column_options(pairs: list[str] | None) -> dict[str, str]:
    """``["mean1=m1i", "sd1=sd1i"]`` to ``{"mean1": "m1i", "sd1": "sd1i"}``."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        role, separator, column = pair.partition("=")
        if not separator or not role.strip() or not column.strip():
            raise CommandError(f"--col expects ROLE=COLUMN, got {pair!r}")
        mapping[role.strip()] = column.strip()
    return mapping


@contextmanager
def reported_warnings() -> Iterator[None]:
    """Collect srma's warnings during a command and print each on standard error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SrmaWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
    for item in caught:
        if issubclass(item.category, SrmaWarning):
            stderr.print(f"warning: {item.message}", markup=False)


def run(action: Callable[[], T]) -> T:
    """Run a command body; turn expected failures into one line and exit status 1."""
    try:
        with reported_warnings():
            return action()
    except (typer.Exit, typer.Abort):
        raise
    except (InputError, CommandError) as error:
        fail(str(error))
    except OSError as error:  # unreadable input, unwritable output
        where = f"{error.filename}: " if error.filename is not None else ""
        fail(f"{where}{error.strerror or error}")
    except ValueError as error:  # a bad option value caught below the CLI
        fail(str(error))
    except Exception as error:
        if os.environ.get("SRMA_TRACEBACK"):
            raise
        fail(
            f"unexpected {type(error).__name__}: {error} (a bug in srma; set SRMA_TRACEBACK=1 "
            "for the traceback and please report it)"
        )


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line on standard error and exit with status 1."""
    stderr.print(f"error: {' '.join(message.split())}", markup=False)
    raise typer.Exit(code=1)


def print_json(value: Any) -> None:
    """Strict JSON on standard output (undefined numbers as null)."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, allow_nan=False) + "\n")


ColumnOption = Annotated[
    list[str] | None,
    typer.Option("--col", help="Map a role to a column, ROLE=COLUMN (repeatable), e.g. mean1=m1i."),
]


@app.command()
def effects(
    data: Annotated[Path, typer.Argument(help="CSV (or TSV) with one row per study.")],
    measure: Annotated[str, typer.Option(help="MD, SMD, ROM, RR, OR, RD, PETO, COR, ZCOR, GEN.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write a CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
    col: ColumnOption = None,
    add: Annotated[float, typer.Option(help="Continuity correction added to cells.")] = 0.5,
    to: Annotated[str, typer.Option(help="only0, all, if0all or none.")] = "only0",
    drop00: Annotated[
        bool | None, typer.Option("--drop00/--keep00", help="Drop double-zero studies.")
    ] = None,
) -> None:
    """Compute effect sizes (yi) and sampling variances (vi) for every study."""
    from srma.analysis.effect_sizes import effect_sizes

    def action() -> None:
        table = read_table(data)
        if to not in ("only0", "all", "if0all", "none"):
            raise CommandError(f"--to must be only0, all, if0all or none, got {to!r}")
        out = effect_sizes(
            table, measure, add=add, to=to, drop00=drop00, source=str(data), **column_options(col)
        )
        if output is not None:
            out.to_csv(output, index=False)
        if as_json:
            records = out.astype(object).where(out.notna(), None).to_dict(orient="records")
            print_json(records)
        elif output is None:
            stdout.print(out.to_string(index=False))
        else:
            stderr.print(f"wrote {output}")

    run(action)


DataArgument = Annotated[Path, typer.Argument(help="CSV (or TSV) with one row per study.")]
MeasureOption = Annotated[str | None, typer.Option(help="Effect measure for raw data.")]
YiOption = Annotated[str | None, typer.Option("--yi", help="Column of effect sizes.")]
ViOption = Annotated[str | None, typer.Option("--vi", help="Column of sampling variances.")]
SeiOption = Annotated[str | None, typer.Option("--sei", help="Column of standard errors.")]
MethodOption = Annotated[str, typer.Option(help=METHODS)]
TestOption = Annotated[str, typer.Option(help=TESTS)]
LevelOption = Annotated[float, typer.Option(help="Confidence level.")]
PiTypeOption = Annotated[str, typer.Option("--pi-type", help="riley, default or t.")]
LabelOption = Annotated[str | None, typer.Option(help="Column of study labels.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def effect_columns(
    col: list[str] | None, measure: str | None, yi: str | None, vi: str | None, sei: str | None
) -> dict[str, str]:
    """Column roles from ``--col`` and ``--yi/--vi/--sei``; raw data need ``--measure``."""
    columns = column_options(col)
    if measure is None and yi is None:
        raise CommandError("give --measure (raw data) or --yi with --vi or --sei")
    if yi is not None:
        if vi is None and sei is None:
            raise CommandError("--yi needs --vi or --sei")
        columns["yi"] = yi
        columns["vi" if vi is not None else "sei"] = vi if vi is not None else sei
    return columns


def show(as_json: bool, value: Any) -> None:
    """Print ``value.to_dict()`` as JSON, or its summary for people."""
    if as_json:
        print_json(value.to_dict())
    else:
        stdout.print(value.summary(), markup=False, highlight=False)


@app.command("meta")
def meta_command(
    data: DataArgument,
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    level: LevelOption = 0.95,
    pi_type: PiTypeOption = "riley",
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Pool a meta-analysis (common or random effects, Mantel-Haenszel or Peto)."""
    from srma.analysis.meta import meta

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        show(
            as_json,
            meta(
                table,
                measure=measure,
                method=method,
                test=test,
                level=level,
                pi_type=pi_type,
                label=label,
                source=str(data),
                **columns,
            ),
        )

    run(action)


@app.command()
def subgroup(
    data: DataArgument,
    by: Annotated[str, typer.Option(help="Column defining the subgroups.")],
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    level: LevelOption = 0.95,
    common_tau2: Annotated[
        bool, typer.Option("--common-tau2", help="One tau² for all subgroups.")
    ] = False,
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Pool each subgroup and test for subgroup differences."""
    from srma.analysis.subgroups import subgroup_analysis

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        show(
            as_json,
            subgroup_analysis(
                table,
                by,
                measure=measure,
                method=method,
                test=test,
                level=level,
                common_tau2=common_tau2,
                label=label,
                source=str(data),
                **columns,
            ),
        )

    run(action)


@app.command()
def metareg(
    data: DataArgument,
    mods: Annotated[str, typer.Option(help='Moderators, e.g. "~ dose + factor(route)".')],
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    level: LevelOption = 0.95,
    permutations: Annotated[
        int | None, typer.Option(help="Permutation test with this many permutations.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for Monte Carlo permutations.")] = None,
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Mixed-effects meta-regression on one or more moderators."""
    from srma.analysis.metareg import meta_regression

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        show(
            as_json,
            meta_regression(
                table,
                mods,
                measure=measure,
                method=method,
                test=test,
                level=level,
                permutations=permutations,
                seed=seed,
                label=label,
                source=str(data),
                **columns,
            ),
        )

    run(action)


@app.command()
def sensitivity(
    data: DataArgument,
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    level: LevelOption = 0.95,
    order: Annotated[
        str | None, typer.Option(help="Column to order a cumulative meta-analysis by.")
    ] = None,
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Leave-one-out, influence diagnostics, Baujat and (with --order) cumulative analysis."""
    from srma.analysis.meta import meta
    from srma.analysis.sensitivity import (
        baujat,
        cumulative,
        influence_diagnostics,
        leave_one_out,
    )
    from srma.analysis.validation import numeric_column

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        result = meta(
            table,
            measure=measure,
            method=method,
            test=test,
            level=level,
            label=label,
            source=str(data),
            **columns,
        )
        out: dict[str, Any] = {
            "result": result.to_dict(),
            "leave_one_out": leave_one_out(result).to_records(),
        }
        if result.k >= 3:
            out["influence"] = influence_diagnostics(result).to_records()
        out["baujat"] = baujat(result).to_frame().to_dict(orient="records")
        if order is not None:
            if result.omitted:
                raise CommandError("--order needs every study to have yi and vi")
            keys = numeric_column(table, order, source=str(data))
            out["cumulative"] = cumulative(result, order=keys).to_records()
        if as_json:
            print_json(out)
            return
        stdout.print(result.summary(), markup=False, highlight=False)
        for name in ("leave_one_out", "influence", "cumulative"):
            if name in out:
                sys.stdout.write(f"\n{name.replace('_', ' ')}:\n")
                sys.stdout.write(pd.DataFrame(out[name]).to_string(index=False) + "\n")

    run(action)


@app.command()
def bias(
    data: DataArgument,
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    estimator: Annotated[str, typer.Option(help="Trim-and-fill estimator: L0 or R0.")] = "L0",
    side: Annotated[
        str | None, typer.Option(help="Side of the missing studies: left or right.")
    ] = None,
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Egger, Begg, trim-and-fill and fail-safe N (Peters and Harbord with counts)."""
    from srma.analysis.bias import small_study_tests
    from srma.analysis.meta import meta

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        result = meta(
            table,
            measure=measure,
            method=method,
            test=test,
            label=label,
            source=str(data),
            **columns,
        )
        binary = measure is not None and measure.upper() in BINARY_MEASURES
        cells = {
            k: v
            for k, v in columns.items()
            if k in ("events1", "total1", "events2", "total2", "a", "b", "c", "d")
        }
        tests = small_study_tests(
            result, counts=table if binary else None, estimator=estimator, side=side, **cells
        )
        show(as_json, tests)

    run(action)


@app.command()
def policy(
    data: DataArgument,
    name: Annotated[str, typer.Option("--policy", help="huang2024, hassanein2024 or modern.")],
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Run the analyses an analysis policy prescribes, with the reasons for each choice."""
    from srma.analysis.policies import apply_policy

    def action() -> None:
        table = read_table(data)
        show(
            as_json, apply_policy(name, table, label=label, source=str(data), **column_options(col))
        )

    run(action)


OutputOption = Annotated[Path, typer.Option("-o", "--output", help="SVG, PNG or PDF file.")]


@app.command()
def forest(
    data: DataArgument,
    output: OutputOption,
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    level: LevelOption = 0.95,
    label: LabelOption = None,
    favours: Annotated[
        str | None, typer.Option(help='Labels under the axis, "left,right".')
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title above the plot.")] = None,
    by: Annotated[str | None, typer.Option(help="Column defining subgroups.")] = None,
    also_common: Annotated[
        bool, typer.Option("--also-common", help="Add the common-effect diamond.")
    ] = False,
    col: ColumnOption = None,
) -> None:
    """Draw a forest plot (RevMan layout; per-arm columns from raw data; subgroups with --by)."""
    from srma.analysis.meta import meta
    from srma.analysis.subgroups import subgroup_analysis
    from srma.figures.axes import save_figure
    from srma.figures.forest import forest_plot, subgroup_forest

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        result = meta(
            table,
            measure=measure,
            method=method,
            test=test,
            level=level,
            label=label,
            source=str(data),
            **columns,
        )
        sides = None
        if favours is not None:
            parts = [part.strip() for part in favours.split(",")]
            if len(parts) != 2:
                raise CommandError('--favours expects two labels: "left,right"')
            sides = (parts[0], parts[1])
        figure_path(output)
        study = label or next((c for c in ("study", "label", "author") if c in table.columns), None)
        arms = table if measure is not None and study is not None else None
        if by is not None:
            groups = subgroup_analysis(
                table,
                by,
                measure=measure,
                method=method,
                test=test,
                level=level,
                label=label,
                source=str(data),
                **columns,
            )
            figure = subgroup_forest(
                groups,
                favours=sides,
                title=title,
                arms=arms,
                label=study or "study",
                columns=columns,
            )
        else:
            common = None
            if also_common and result.method not in ("EE", "MH", "PETO"):
                common = meta(
                    table,
                    measure=measure,
                    method="EE",
                    level=level,
                    label=label,
                    source=str(data),
                    **columns,
                )
            figure = forest_plot(
                result,
                also=common,
                favours=sides,
                title=title,
                arms=arms,
                label=study or "study",
                columns=columns,
            )
        save_figure(figure, output)
        stderr.print(f"wrote {output}", markup=False)

    run(action)


@app.command()
def funnel(
    data: DataArgument,
    output: OutputOption,
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    contours: Annotated[bool, typer.Option(help="Shade p < 0.10, 0.05, 0.01.")] = False,
    trimfill: Annotated[bool, typer.Option(help="Show trim-and-fill's imputed studies.")] = False,
    egger: Annotated[bool, typer.Option(help="Draw Egger's regression line.")] = False,
    title: Annotated[str | None, typer.Option(help="Title above the plot.")] = None,
    label: LabelOption = None,
    col: ColumnOption = None,
) -> None:
    """Draw a funnel plot, optionally contour-enhanced, with trim-and-fill and Egger's line."""
    from srma.analysis.bias import funnel_contours, small_study_tests
    from srma.analysis.meta import meta
    from srma.figures.axes import save_figure
    from srma.figures.funnel import funnel_plot

    def action() -> None:
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        result = meta(
            table,
            measure=measure,
            method=method,
            test=test,
            label=label,
            source=str(data),
            **columns,
        )
        tests = small_study_tests(result) if (trimfill or egger) else None
        figure_path(output)
        figure = funnel_plot(
            result,
            contours=funnel_contours(result) if contours else None,
            trimfill=tests.trimfill if tests is not None and trimfill else None,
            egger=tests.egger if tests is not None and egger else None,
            title=title,
        )
        save_figure(figure, output)
        stderr.print(f"wrote {output}", markup=False)

    run(action)


@app.command()
def rob(
    judgements: Annotated[Path, typer.Argument(help="CSV: study, one column per domain.")],
    tool: Annotated[str, typer.Option(help="rob1, rob2, robins-i, syrcle or quadas2.")],
    output: OutputOption,
    plot: Annotated[str, typer.Option(help="traffic-light or summary.")] = "traffic-light",
    weighted: Annotated[bool, typer.Option(help="Summary weighted by a Weight column.")] = False,
    palette: Annotated[str, typer.Option(help="cochrane or colourblind.")] = "cochrane",
    label_columns: Annotated[
        str | None, typer.Option(help='Columns forming the study label, e.g. "study,year".')
    ] = None,
    title: Annotated[str | None, typer.Option(help="Title above the plot.")] = None,
) -> None:
    """Draw a risk-of-bias traffic-light plot or summary plot."""
    from srma.figures.axes import save_figure
    from srma.figures.rob import summary_plot, traffic_light
    from srma.review.risk_of_bias import read_rob

    def action() -> None:
        if plot not in ("traffic-light", "summary"):
            raise CommandError(f"--plot must be traffic-light or summary, got {plot!r}")
        figure_path(output)
        if not judgements.exists():
            raise CommandError(f"{judgements}: no such file")
        labels = None if label_columns is None else [c.strip() for c in label_columns.split(",")]
        assessment = read_rob(judgements, tool, label_columns=labels)
        if plot == "summary":
            figure = summary_plot(assessment, weighted=weighted, palette=palette, title=title)
        else:
            figure = traffic_light(assessment, palette=palette, title=title)
        save_figure(figure, output)
        stderr.print(f"wrote {output}", markup=False)

    run(action)


@app.command()
def prisma(
    counts: Annotated[
        Path,
        typer.Argument(
            help="CSV with 'data' and 'n' (PRISMA2020 fields), or a review project folder."
        ),
    ],
    output: OutputOption,
    title: Annotated[str | None, typer.Option(help="Title above the diagram.")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL of the project (see srma init).")
    ] = None,
) -> None:
    """Draw the PRISMA 2020 flow diagram; warn where the counts do not add up."""
    from srma.figures.axes import save_figure
    from srma.figures.prisma import prisma_flow
    from srma.review.prisma import read_prisma

    def action() -> None:
        figure_path(output)
        if not counts.exists():
            raise CommandError(f"{counts}: no such file")
        if counts.is_dir():
            from srma.review.progress import prisma_counts
            from srma.review.project import open_project

            project = open_project(counts, url=db)
            with project.store.transaction() as session:
                numbers = prisma_counts(session, project)
            project.close()
            for note in numbers.notes.values():
                stderr.print(f"warning: {counts}: {note}", markup=False)
        else:
            numbers = read_prisma(counts)
        for problem in numbers.inconsistencies():
            stderr.print(f"warning: {counts}: {problem}", markup=False)
        save_figure(prisma_flow(numbers, title=title), output)
        stderr.print(f"wrote {output}", markup=False)

    run(action)


@app.command()
def report(
    data: DataArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML report to write.")],
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    label: LabelOption = None,
    title: Annotated[str, typer.Option(help="Title of the report.")] = "Meta-analysis report",
    outcome: Annotated[str, typer.Option(help="Name of the outcome.")] = "Outcome",
    docx: Annotated[Path | None, typer.Option(help="Also write a DOCX version.")] = None,
    rob_file: Annotated[
        Path | None, typer.Option("--rob", help="Risk-of-bias judgements (robvis layout).")
    ] = None,
    tool: Annotated[str, typer.Option(help="Risk-of-bias tool of --rob.")] = "rob2",
    prisma_file: Annotated[
        Path | None, typer.Option("--prisma", help="PRISMA counts (data, n).")
    ] = None,
    bias_tests: Annotated[
        bool, typer.Option("--bias/--no-bias", help="Small-study tests and funnel plot.")
    ] = True,
    characteristics: Annotated[
        Path | None,
        typer.Option(help="CSV of study characteristics, shown as a table."),
    ] = None,
    col: ColumnOption = None,
) -> None:
    """Write a self-contained HTML report (and optionally DOCX) of one meta-analysis."""
    from srma.analysis.bias import small_study_tests
    from srma.analysis.meta import meta
    from srma.report.document import Outcome, build_report, write_docx, write_html
    from srma.review.prisma import read_prisma
    from srma.review.risk_of_bias import read_rob

    def action() -> None:
        if output.suffix.lower() not in (".html", ".htm"):
            raise CommandError(f"{output}: the report must end in .html")
        if docx is not None and docx.suffix.lower() != ".docx":
            raise CommandError(f"{docx}: --docx must end in .docx")
        table = read_table(data)
        columns = effect_columns(col, measure, yi, vi, sei)
        result = meta(
            table,
            measure=measure,
            method=method,
            test=test,
            label=label,
            source=str(data),
            **columns,
        )
        study = label or next(
            (c for c in ("study", "label", "author") if c in table.columns), "study"
        )
        tests = small_study_tests(result) if bias_tests and result.k >= 3 else None
        for path in (rob_file, prisma_file, characteristics):
            if path is not None and not path.exists():
                raise CommandError(f"{path}: no such file")
        content = build_report(
            title,
            [
                Outcome(
                    outcome,
                    result,
                    arms=table if measure is not None else None,
                    label=study,
                    small_study=tests,
                )
            ],
            rob=read_rob(rob_file, tool) if rob_file is not None else None,
            prisma=read_prisma(prisma_file) if prisma_file is not None else None,
            characteristics=read_table(characteristics) if characteristics is not None else None,
        )
        write_html(content, output)
        stderr.print(f"wrote {output}", markup=False)
        if docx is not None:
            write_docx(content, docx)
            stderr.print(f"wrote {docx}", markup=False)

    run(action)


def figure_path(path: Path) -> None:
    """Check a figure's file name before drawing it."""
    if path.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise CommandError(f"{path}: a figure must end in .svg, .png or .pdf")
    if not path.parent.exists():
        raise CommandError(f"{path.parent}: no such folder")


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the output.")] = Path("demo-output"),
) -> None:
    """Pool the nine stroke-unit trials of Normand (1999) and write a summary and forest plot."""
    from srma.analysis.meta import meta
    from srma.datasets import load
    from srma.report.summary import write_summary

    def action() -> None:
        data = load("normand1999")
        result = meta(data, measure="MD", method="REML", test="knha", source=data.attrs["source"])
        paths = write_summary(
            result,
            out,
            name="normand1999_length_of_stay",
            title="Specialist stroke-unit care vs routine care: length of stay (days)",
            dataset_citation=data.attrs["citation"],
            favours=("stroke unit", "routine care"),
        )
        stdout.print(result.summary(), markup=False, highlight=False)
        stdout.print(f"\nOutput written to {out.resolve()}:", markup=False)
        for path in paths.values():
            stdout.print(f"  {path}", markup=False)

    run(action)


# the review-project commands register themselves on ``app``
from srma.cli import review as _review_commands  # noqa: E402, F401
from srma.cli import screen as _screen_command  # noqa: E402, F401
from srma.cli import simulate as _simulate_command  # noqa: E402, F401


def main() -> None:
    """Entry point of the ``srma`` console script."""
    app()
