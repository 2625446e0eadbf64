"""What every ``srma`` command shares: options declared once, reading a table and fitting it,
errors mapped to one line, JSON output.

Imports here are light (Typer and rich only): a command imports pandas, numpy,
the analyses or the database when it runs, so ``srma --help`` starts quickly.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

from srma import vocabulary
from srma.errors import InputError, SrmaWarning
from srma.text_safety import printable
from srma.vocabulary import TAU2_METHODS

if TYPE_CHECKING:
    import pandas as pd

    from srma.analysis.results import MetaResult

stdout = Console()
stderr = Console(stderr=True, highlight=False, soft_wrap=True)

T = TypeVar("T")


def _listed(names: Iterable[str]) -> str:
    """``a, b or c``."""
    *first, last = names
    return f"{', '.join(first)} or {last}" if first else last


METHODS = _listed(["EE", *TAU2_METHODS, "MH", "PETO"])
TESTS = _listed(vocabulary.TESTS)
PI_TYPES = _listed(vocabulary.PI_TYPES)


class CommandError(Exception):
    """A problem to report in one line and exit with status 1."""


# ---------------------------------------------------------------------- options, declared once

DataArgument = Annotated[Path, typer.Argument(help="CSV (or TSV) with one row per study.")]
MeasureOption = Annotated[str | None, typer.Option(help="Effect measure for raw data.")]
YiOption = Annotated[str | None, typer.Option("--yi", help="Column of effect sizes.")]
ViOption = Annotated[str | None, typer.Option("--vi", help="Column of sampling variances.")]
SeiOption = Annotated[str | None, typer.Option("--sei", help="Column of standard errors.")]
MethodOption = Annotated[str, typer.Option(help=METHODS)]
TestOption = Annotated[str, typer.Option(help=TESTS)]
LevelOption = Annotated[float, typer.Option(help="Confidence level.")]
PiTypeOption = Annotated[str, typer.Option("--pi-type", help=PI_TYPES)]
LabelOption = Annotated[str | None, typer.Option(help="Column of study labels.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ColumnOption = Annotated[
    list[str] | None,
    typer.Option("--col", help="Map a role to a column, ROLE=COLUMN (repeatable), e.g. mean1=m1i."),
]
OutputOption = Annotated[Path, typer.Option("-o", "--output", help="SVG, PNG or PDF file.")]
TitleOption = Annotated[str | None, typer.Option(help="Title above the plot.")]


# ---------------------------------------------------------------------- reading and fitting


def read_table(path: Path) -> pd.DataFrame:
    """A CSV or TSV file as a DataFrame, with a one-line error for unreadable files."""
    import pandas as pd

    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if not path.is_file():
        raise CommandError(f"{path}: not a file")
    separator = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    try:
        frame = pd.read_csv(path, sep=separator, skipinitialspace=True)
        text_columns = [
            name
            for name in frame.columns
            if not pd.api.types.is_numeric_dtype(frame[name]) or frame[name].isna().all()
        ]
        if text_columns:
            # labels as written: a study called NA or null is not a missing value
            # (numeric columns keep pandas' missing-value words and blank cells)
            text = pd.read_csv(
                path,
                sep=separator,
                skipinitialspace=True,
                usecols=text_columns,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
            )
            for name in text_columns:
                frame[name] = text[name]
    except pd.errors.EmptyDataError:
        raise CommandError(f"{path}: the file is empty") from None
    except pd.errors.ParserError as error:
        fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(error))
        if fields:
            expected, line, saw = fields.groups()
            raise CommandError(
                f"{path}: line {line} (row {int(line) - 1}) has {saw} fields but the header "
                f"has {expected}"
            ) from None
        raise CommandError(f"{path}: cannot read it as a table ({error})") from None
    except UnicodeDecodeError as error:
        raise CommandError(f"{path}: cannot read it as a table ({error})") from None
    if len(frame.columns) == 1 and separator == ",":
        header = str(frame.columns[0])
        for name, other in (("semicolons", ";"), ("tabs", "\t")):
            if other in header:
                raise CommandError(
                    f"{path}: the header is one column, {header!r}: the file seems to be "
                    f"separated by {name}; srma reads comma-separated .csv files and "
                    "tab-separated .tsv files"
                )
    return frame


def column_options(pairs: list[str] | None) -> dict[str, str]:
    """``["mean1=m1i", "sd1=sd1i"]`` to ``{"mean1": "m1i", "sd1": "sd1i"}``."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        role, separator, column = pair.partition("=")
        if not separator or not role.strip() or not column.strip():
            raise CommandError(f"--col expects ROLE=COLUMN, got {pair!r}")
        mapping[role.strip()] = column.strip()
    return mapping


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


@dataclass(frozen=True)
class EffectData:
    """A study table read from a file with its column roles: what every analysis command fits."""

    table: pd.DataFrame
    columns: dict[str, str]
    measure: str | None
    label: str | None
    source: str

    def arguments(self) -> dict[str, Any]:
        """Keyword arguments naming the data for ``meta()``, ``subgroup_analysis()`` and kin."""
        return {"measure": self.measure, "label": self.label, "source": self.source,
                **self.columns}  # fmt: skip

    def fit(self, **settings: Any) -> MetaResult:
        """``meta()`` of these data with ``settings`` (method, test, level...)."""
        from srma.analysis.meta import meta

        return meta(self.table, **self.arguments(), **settings)


def effect_data(
    data: Path,
    *,
    measure: str | None,
    yi: str | None,
    vi: str | None,
    sei: str | None,
    col: list[str] | None,
    label: str | None,
) -> EffectData:
    """Read ``data`` and map its columns (``--col``, ``--yi/--vi/--sei``) for an analysis."""
    table = read_table(data)
    columns = effect_columns(col, measure, yi, vi, sei)
    return EffectData(table, columns, measure, label, str(data))


@dataclass(frozen=True)
class StudyOptions:
    """The options naming a study table and its columns, shared by every analysis command."""

    data: DataArgument
    measure: MeasureOption = None
    yi: YiOption = None
    vi: ViOption = None
    sei: SeiOption = None
    label: LabelOption = None
    col: ColumnOption = None

    def read(self) -> EffectData:
        """The table read and its columns mapped (:func:`effect_data`)."""
        return effect_data(self.data, measure=self.measure, yi=self.yi, vi=self.vi,
                           sei=self.sei, col=self.col, label=self.label)  # fmt: skip


@dataclass(frozen=True)
class ModelOptions:
    """The options choosing the model: tau² estimator (or MH, Peto) and the test."""

    method: MethodOption = "REML"
    test: TestOption = "z"

    def settings(self) -> dict[str, Any]:
        """``method`` and ``test`` as keyword arguments of an analysis."""
        return {"method": self.method, "test": self.test}


def _parameters(group: type) -> list[inspect.Parameter]:
    hints = inspect.get_annotations(group, eval_str=True)
    return [
        inspect.Parameter(
            field.name,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            default=inspect.Parameter.empty if field.default is MISSING else field.default,
            annotation=hints[field.name],
        )
        for field in fields(group)
    ]


def with_options(**groups: type) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Give a command the options of each group, declared once, as one value per group.

    ``@with_options(studies=StudyOptions, model=ModelOptions)`` on ``def meta(studies,
    model, as_json: JsonOption = False)`` makes Typer see ``DATA --measure --yi --vi
    --sei --label --col --method --test --level --json``, and calls the command with
    ``studies=StudyOptions(...)`` and ``model=ModelOptions(...)``.  A group's
    positional argument (``data``) comes first.  Typer has no option groups of its
    own, so the command's signature is assembled here.
    """

    def decorate(command: Callable[..., T]) -> Callable[..., T]:
        own = [p for name, p in inspect.signature(command, eval_str=True).parameters.items()
               if name not in groups]  # fmt: skip
        shared = {name: _parameters(group) for name, group in groups.items()}
        flat = [p for parameters in shared.values() for p in parameters]
        arguments = [p for p in flat if p.default is inspect.Parameter.empty]
        options = [p for p in flat if p.default is not inspect.Parameter.empty]
        required_own = [p for p in own if p.default is inspect.Parameter.empty]
        optional_own = [p for p in own if p.default is not inspect.Parameter.empty]
        parameters = [*arguments, *required_own, *options, *optional_own]

        @functools.wraps(command)
        def wrapper(**values: Any) -> T:
            for name, group in groups.items():
                values[name] = group(**{p.name: values.pop(p.name) for p in shared[name]})
            return command(**values)

        wrapper.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper

    return decorate


def figure_path(path: Path) -> None:
    """Check a figure's file name before drawing it."""
    if path.suffix.lower() not in (".svg", ".png", ".pdf"):
        raise CommandError(f"{path}: a figure must end in .svg, .png or .pdf")
    if not path.parent.exists():
        raise CommandError(f"{path.parent}: no such folder")


# ---------------------------------------------------------------------- output and errors


@contextmanager
def reported_warnings() -> Iterator[None]:
    """Collect srma's warnings during a command and print each on standard error."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SrmaWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        yield
    for item in caught:
        if issubclass(item.category, SrmaWarning):
            stderr.print(f"warning: {terminal_line(str(item.message))}", markup=False)


def run(action: Callable[[], T], data: Path | None = None) -> T:
    """Run a command body; turn expected failures into one line and exit status 1.

    This is the one place where errors become messages: bad input
    (:class:`~srma.errors.InputError`), a :class:`CommandError`, an unreadable
    or unwritable file, a bad option value, and, as a last resort, a bug.  A
    command that reads a table passes it as ``data``: an error about the data
    that names no file then names that one.
    """
    try:
        with reported_warnings():
            return action()
    except (typer.Exit, typer.Abort):
        raise
    except (InputError, CommandError) as error:
        fail(_cli_message(error, data))
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


def option_flag(option: str) -> str:
    """The command-line spelling of an analysis option: ``pi_type`` is ``--pi-type``.

    Typer derives every flag from its parameter's name this way, and the
    commands name their parameters as the analyses name their options
    (tests/test_hostile_csv.py checks this for every command).
    """
    return "--" + option.replace("_", "-")


def _cli_message(error: Exception, data: Path | None = None) -> str:
    """The error's message; a bad option value names the option as typed (``--test``), and
    an error about the data that names no file names ``data``."""
    # an OptionError comes from srma.analysis.validation, so that module is loaded by then
    validation = sys.modules.get("srma.analysis.validation")
    if validation is not None and isinstance(error, validation.OptionError):
        return error.for_flag(option_flag(error.option))
    if isinstance(error, InputError) and error.file is None and data is not None:
        return str(error.with_file(str(data)))
    return str(error)


def terminal_line(text: str) -> str:
    """``text`` as one line that cannot act on the terminal (data may hold ESC sequences)."""
    return " ".join(printable(text, newlines=False, tabs=False).split())


def fail(message: str) -> NoReturn:
    """Print one ``error:`` line on standard error and exit with status 1."""
    stderr.print(f"error: {terminal_line(message)}", markup=False)
    raise typer.Exit(code=1)


def print_json(value: Any) -> None:
    """Strict JSON on standard output (undefined numbers as null)."""
    from srma.report.jsonable import to_jsonable

    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, allow_nan=False) + "\n")


def show(as_json: bool, value: Any) -> None:
    """Print ``value.to_dict()`` as JSON, or its summary for people."""
    if as_json:
        print_json(value.to_dict())
    else:
        stdout.print(value.summary(), markup=False, highlight=False)


def wrote(path: Path) -> None:
    """Tell the user (on standard error) that a file was written."""
    stderr.print(f"wrote {path}", markup=False)


FavoursOption = Annotated[str | None, typer.Option(help='Labels under the axis, "left,right".')]


def favours_labels(text: str | None) -> tuple[str, str] | None:
    """``--favours "stroke unit,routine care"`` as a pair of labels."""
    if text is None:
        return None
    parts = [part.strip() for part in text.split(",")]
    if len(parts) != 2 or not all(parts):
        raise CommandError('--favours expects two labels: "left,right"')
    return parts[0], parts[1]
