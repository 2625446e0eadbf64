"""A short written summary of one meta-analysis: JSON, Markdown and a forest plot.

Every number printed here is read from the :class:`MetaResult`; nothing is
computed or typed by hand.
"""

from __future__ import annotations

import json
import re
from importlib import metadata
from pathlib import Path
from typing import Any

from srma.analysis.results import METHOD_NAMES, TEST_NAMES, MetaResult
from srma.figures.axes import save_figure
from srma.figures.forest import MEASURE_NAMES, forest_plot
from srma.figures.text import safe_text
from srma.formatting import format_count, format_number, format_p
from srma.report.jsonable import to_jsonable


def _version() -> str | None:
    try:
        return metadata.version("srma")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        return None


def _measure(result: MetaResult) -> str:
    """``"mean difference (MD)"``, or the bare code where srma has no name for it."""
    if result.measure is None:
        return "effect"
    name = MEASURE_NAMES.get(result.measure)
    return f"{name.lower()} ({result.measure})" if name else result.measure


def default_title(result: MetaResult) -> str:
    """A title naming what was pooled, for summaries written without one."""
    measure = _measure(result)
    return f"Meta-analysis of {result.k} studies: {measure}"


_MARKDOWN = re.compile(r"([\\<>|\[\]])")


def _md(text: object) -> str:
    """Text from data as Markdown shows it literally: no HTML, no link, one table cell.

    Unwritable characters are replaced (:func:`~srma.figures.text.safe_text`),
    ``\\ < > | [ ]`` are backslash-escaped (CommonMark prints them as written)
    and line breaks become spaces.
    """
    return _MARKDOWN.sub(r"\\\1", re.sub(r"[\r\n]+", " ", safe_text(text)))


def _number(value: float | None, digits: int = 2) -> str:
    return "not defined" if value is None else format_number(value, digits)


def markdown_summary(
    result: MetaResult, *, title: str | None = None, dataset_citation: str | None = None
) -> str:
    """The analysis in a few sentences and a table, as Markdown."""
    title = title or default_title(result)
    percent = round(100 * result.level)
    scale = result.back_transformed()
    shown = (
        scale
        if scale is not None
        else {
            name: getattr(result, name)
            for name in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
        }
    )
    measure = _measure(result)
    lines = [f"# {_md(title)}", ""]
    if dataset_citation:
        lines += [f"Data: {_md(dataset_citation)}", ""]
    if result.source:
        source = safe_text(result.source).replace("`", "'")  # a backtick would end the code span
        lines += [f"Source: `{source}`", ""]
    lines += [
        f"- Model: {METHOD_NAMES.get(result.method, result.method)}; "
        f"{TEST_NAMES.get(result.test, result.test)}; {percent}% intervals.",
        f"- Studies: k = {result.k}"
        + (
            f" (omitted for missing data: {', '.join(map(_md, result.omitted))})"
            if result.omitted
            else ""
        )
        + ".",
        f"- Pooled {measure}: {_number(shown['estimate'])} "
        f"({percent}% CI {_number(shown['ci_lower'])} to {_number(shown['ci_upper'])}), "
        f"{format_p(result.pvalue)}.",
    ]
    if shown["pi_lower"] is not None:
        lines.append(
            f"- {percent}% prediction interval: {_number(shown['pi_lower'])} to "
            f"{_number(shown['pi_upper'])}."
        )
    if result.q is not None:
        tau2 = (
            ""
            if result.tau2 is None
            else (
                f"; tau² = {_number(result.tau2, 4)} ({percent}% CI "
                f"{_number(result.tau2_ci_lower, 4)} to {_number(result.tau2_ci_upper, 4)})"
            )
        )
        lines.append(
            f"- Heterogeneity: Q = {_number(result.q)} on {format_count(result.q_df)} df "
            f"({format_p(result.q_pvalue)}); I² = {_number(result.i2, 1)}%{tau2}."
        )
    if scale is not None:
        lines.append(
            f"- {result.measure} values are back-transformed from the log scale "
            "(the JSON file holds the log-scale values and an `exp` block)."
        )
    lines += [
        "",
        "| Study | Estimate | CI lower | CI upper | Weight (%) |",
        "|---|---|---|---|---|",
    ]
    table = result.to_frame()
    transform = (lambda value: float(result.natural_scale(value))) if scale is not None else float
    for row in table.itertuples():
        lines.append(
            f"| {_md(row.label)} | {format_number(transform(row.yi))} | "
            f"{format_number(transform(row.ci_lower))} | "
            f"{format_number(transform(row.ci_upper))} | {format_number(row.weight, 1)} |"
        )
    for warning in result.warnings:
        lines.append(f"\nWarning: {_md(warning)}")
    return "\n".join(lines) + "\n"


def write_summary(
    result: MetaResult,
    directory: str | Path,
    *,
    name: str,
    dataset_citation: str | None = None,
    title: str | None = None,
    favours: tuple[str, str] | None = None,
) -> dict[str, Path]:
    """Write ``name.json``, ``name.md``, ``name_forest.svg`` and ``name_forest.png``.

    The JSON file holds ``result.to_dict()`` under ``"result"`` and where it came
    from under ``"provenance"`` (data source, data set citation, srma version,
    the other files written).  Returns the paths by kind: ``json``,
    ``markdown``, ``forest_svg``, ``forest_png``.
    """
    title = title or default_title(result)
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out / f"{name}.json",
        "markdown": out / f"{name}.md",
        "forest_svg": out / f"{name}_forest.svg",
        "forest_png": out / f"{name}_forest.png",
    }
    document: dict[str, Any] = {
        "title": title,
        "dataset": dataset_citation,
        "provenance": {
            "software": "srma",
            "version": _version(),
            "data_source": result.source,
            "dataset_citation": dataset_citation,
            "files": {kind: path.name for kind, path in paths.items()},
        },
        "result": result.to_dict(),
    }
    paths["json"].write_text(
        json.dumps(to_jsonable(document), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    paths["markdown"].write_text(
        markdown_summary(result, title=title, dataset_citation=dataset_citation), encoding="utf-8"
    )
    figure = forest_plot(result, favours=favours, title=title)
    save_figure(figure, paths["forest_svg"])
    save_figure(figure, paths["forest_png"])
    return paths
