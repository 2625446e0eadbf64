"""Forest plots in RevMan 5's layout, drawn from result objects.

Columns, left to right: study; per-arm data (mean, SD and total, or events and
total) when the data are given; weight; effect and CI as text; the plot
(squares sized by weight, diamonds for pooled results, a bar for the
prediction interval); risk-of-bias dots when an assessment is given.  Under
each total: the heterogeneity line (tau², Chi², df, P, I²) and the test for
the overall effect; subgroup forests add each subgroup's block and the test
for subgroup differences.  Leave-one-out and cumulative analyses have their
own forest (:func:`refit_forest`).

Nothing is recomputed: per-study intervals and weights come from
``MetaResult.to_frame()``, pooled numbers from the result fields.  Ratio
measures are drawn on a log axis in natural units.  The figure grows with the
rows and the longest label, so nothing is clipped.

A forest of more than ``max_rows`` studies (default :data:`MAX_ROWS`) cannot
be read row by row, and its text alone would take minutes to draw: it is
drawn *condensed*.  Each run of study rows becomes one band of fixed total
height (:data:`CONDENSED_INCHES`) in which every study is still drawn, its
interval a thin line and its estimate a dot, in the data's order; the
labels, per-arm cells and per-study numbers are left out (a note under the
plot says so, and ``srma meta --json`` or the report's CSV holds them), and
the totals, heterogeneity and tests are drawn as usual.  Per-study lines and
squares are one collection each, and the risk-of-bias dots and their symbols
one collection per judgement and per symbol (:mod:`srma.figures.symbols`),
never one artist per study, so a figure's cost grows with its text, not with k.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Polygon
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import IdentityTransform

from srma.analysis.conventions import BINARY_ARM_COLUMNS, CONTINUOUS_ARM_COLUMNS
from srma.analysis.results import MetaResult
from srma.analysis.sensitivity import RefitTable
from srma.analysis.subgroups import SubgroupResult
from srma.figures.axes import new_figure, ratio_axis
from srma.figures.limits import MAX_ROWS
from srma.figures.rob import PALETTES, SYMBOLS
from srma.figures.symbols import centred_texts
from srma.figures.text import literal, no_tex
from srma.formatting import format_count, format_estimate_ci, format_number, format_p
from srma.review.appraise.risk_of_bias import RobAssessment
from srma.vocabulary import MEASURE_NAMES

ROW_INCHES = 0.26
CHAR_INCHES = 0.072
FONT_SIZE = 9
DATA_COLUMN = 0.62
WEIGHT_COLUMN = 0.7
ESTIMATE_COLUMN = 1.85
PLOT_WIDTH = 3.0
ROB_COLUMN = 0.26
SQUARE = "#1f4e79"
PI_COLOUR = "#b22222"
SHORT_MODEL = {"EE": "common effect", "MH": "common effect, M-H", "PETO": "common effect, Peto"}
#: Height of all the study bands of a condensed forest together, in inches.
CONDENSED_INCHES = 8.0
#: Colour of the intervals in a condensed band (the estimates are drawn in SQUARE).
BAND_INTERVAL = "#9fb6cd"
#: Area of an estimate's dot in a condensed band, in points².
BAND_DOT = 1.5


@dataclass
class Row:
    """One line of a forest plot."""

    label: str = ""
    kind: str = "study"  # study, total, header, note, blank
    cells: tuple[str, ...] = ()
    weight: str = ""
    text: str = ""
    point: tuple[float, float, float] | None = None  # estimate, lower, upper (display scale)
    size: float = 0.0  # weight in percent, for the square
    diamond: bool = False
    rob: tuple[str, ...] | None = None
    colour: str | None = None
    extras: dict[str, object] = field(default_factory=dict)


def _display(result: MetaResult):
    return np.exp if result.is_ratio else (lambda values: np.asarray(values, dtype=float))


def _interval_text(estimate: float, lower: float, upper: float) -> str:
    return format_estimate_ci(estimate, lower, upper)


def axis_title(result: MetaResult) -> str:
    """The x-axis title: ``Mean difference (95% CI)``, ``Risk ratio (log scale)``."""
    measure = MEASURE_NAMES.get(result.measure or "", "Effect")
    if result.is_ratio:
        return f"{measure} (log scale)"
    return f"{measure} ({round(100 * result.level)}% CI)"


def _model(result: MetaResult) -> str:
    return SHORT_MODEL.get(result.method, f"random effects, {result.method}")


def _arm_cells(
    arms: pd.DataFrame | None, label: str, columns: Mapping[str, str]
) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]], str | None]:
    """Per-arm header and cells by study label, for continuous or binary data."""
    if arms is None:
        return (), {}, None
    names = {
        role: columns.get(role, role) for role in (*CONTINUOUS_ARM_COLUMNS, *BINARY_ARM_COLUMNS)
    }
    if all(names[r] in arms.columns for r in CONTINUOUS_ARM_COLUMNS):
        roles, header, kind = (
            ("mean1", "sd1", "n1", "mean2", "sd2", "n2"),
            ("Mean", "SD", "Total", "Mean", "SD", "Total"),
            "continuous",
        )
    elif all(names[r] in arms.columns for r in ("events1", "total1", "events2", "total2")):
        roles, header, kind = (
            ("events1", "total1", "events2", "total2"),
            ("Events", "Total", "Events", "Total"),
            "binary",
        )
    else:
        return (), {}, None
    if label not in arms.columns:
        return (), {}, None

    def text(value: object) -> str:
        return f"{value:g}" if isinstance(value, int | float) else str(value)

    # column by column (``tolist`` gives Python scalars, as a row of a mixed table holds)
    columns_text = [[text(value) for value in arms[names[r]].tolist()] for r in roles]
    studies = [str(name) for name in arms[label].tolist()]
    return header, dict(zip(studies, zip(*columns_text, strict=True), strict=True)), kind


def _study_rows(
    result: MetaResult,
    *,
    weights: Mapping[str, float] | None = None,
    cells: Mapping[str, tuple[str, ...]] | None = None,
    rob: RobAssessment | None = None,
    labelled: bool = True,
) -> list[Row]:
    """One row per study; without ``labelled`` (a condensed forest) only the band row."""
    show = _display(result)
    table = result.to_frame()
    if not labelled:
        return [_band(show(table[["yi", "ci_lower", "ci_upper"]].to_numpy(dtype=float)))]
    judgements = {}
    if rob is not None:
        for study, row, overall in zip(
            rob.studies, rob.judgements, rob.overall or [None] * len(rob.studies), strict=True
        ):
            judgements[study] = tuple(row) + ((overall,) if overall is not None else ())
    rows = []
    for record in table.itertuples():
        weight = weights.get(record.label, record.weight) if weights else record.weight
        estimate = show(np.array([record.yi, record.ci_lower, record.ci_upper]))
        finite = bool(np.all(np.isfinite(estimate)))
        rows.append(
            Row(
                label=str(record.label),
                cells=(cells or {}).get(str(record.label), ()),
                weight=f"{format_number(weight, 1)}%" if finite else "",
                text=_interval_text(*estimate) if finite else "Not estimable",
                point=tuple(estimate) if finite else None,
                size=float(weight) if finite else 0.0,
                rob=judgements.get(str(record.label)),
            )
        )
    return rows


def _total_rows(result: MetaResult, label: str, *, weight: str = "100.0%") -> list[Row]:
    show = _display(result)
    pooled = show(np.array([result.estimate, result.ci_lower, result.ci_upper]))
    rows = [
        Row(
            label=f"{label} ({_model(result)})",
            kind="total",
            weight=weight,
            text=_interval_text(*pooled),
            point=tuple(pooled),
            diamond=True,
        )
    ]
    if result.pi_lower is not None:
        pi = show(np.array([result.pi_lower, result.pi_upper]))
        rows.append(
            Row(
                label="Prediction interval",
                kind="total",
                colour=PI_COLOUR,
                text=f"[{format_number(pi[0])}, {format_number(pi[1])}]",
                point=(float("nan"), float(pi[0]), float(pi[1])),
            )
        )
    parts = []
    if result.tau2 is not None and result.method not in SHORT_MODEL:  # random effects only
        parts.append(f"Tau² = {format_number(result.tau2, 4)}")
    if result.q is not None:
        parts.append(
            f"Chi² = {format_number(result.q)}, df = {format_count(result.q_df)} "
            f"({format_p(result.q_pvalue)}); I² = {format_number(result.i2, 0)}%"
        )
    if parts:
        rows.append(Row(label="Heterogeneity: " + "; ".join(parts), kind="note"))
    statistic = "Z" if result.df is None else f"t({format_count(result.df)})"
    rows.append(
        Row(
            label=f"Test for overall effect: {statistic} = "
            f"{format_number(abs(result.statistic))} "
            f"({format_p(result.pvalue)})",
            kind="note",
        )
    )
    return rows


def _band(points: np.ndarray) -> Row:
    """A run of studies of a condensed forest as one row: ``points`` (estimate, lower, upper
    on the display scale), one per study; a study that is not estimable is left out of the
    drawing but keeps its place."""
    finite = np.isfinite(points).all(axis=1)
    count = points.shape[0]
    return Row(
        label=f"{format_count(count)} {'study' if count == 1 else 'studies'}",
        kind="band",
        extras={
            "points": points[finite],
            "positions": np.flatnonzero(finite),
            "count": count,
        },
    )


def _labelled(studies: int, max_rows: int | None) -> bool:
    """Whether a forest of ``studies`` rows is drawn row by row (else condensed)."""
    return max_rows is None or studies <= max_rows


def _condensed_note(studies: int, max_rows: int | None) -> Row:
    return Row(
        label=f"{format_count(studies)} studies exceed max_rows = {format_count(max_rows)}: "
        "each is one line (interval) and dot (estimate), in the data's order, unlabelled",
        kind="note",
    )


def _height(row: Row, studies: int) -> float:
    """A row's height in inches: a band takes its share of :data:`CONDENSED_INCHES`."""
    if row.kind == "band":
        return max(ROW_INCHES, CONDENSED_INCHES * int(row.extras["count"]) / max(studies, 1))  # type: ignore[call-overload]
    return ROW_INCHES


def _draw(
    rows: Sequence[Row],
    result: MetaResult,
    *,
    data_header: tuple[str, ...] = (),
    arm_names: tuple[str, str] = ("Group 1", "Group 2"),
    rob: RobAssessment | None = None,
    favours: tuple[str, str] | None = None,
    title: str | None = None,
    estimate_header: str | None = None,
    weight_header: str = "Weight",
    plot_width: float = PLOT_WIDTH,
) -> Figure:
    if favours:  # wide enough for both labels side by side
        needed = 0.9 * CHAR_INCHES * sum(len(f"Favours {side}") for side in favours) + 0.3
        plot_width = max(plot_width, needed)
    bands = [r for r in rows if r.kind == "band"]
    banded = sum(int(r.extras["count"]) for r in bands)  # type: ignore[call-overload]
    table_labels = [r.label for r in rows if r.kind in ("study", "total", "header", "band")]
    label_width = max(2.4, CHAR_INCHES * max(len("Study"), *(len(t) for t in table_labels)))
    data_width = DATA_COLUMN * len(data_header)
    rob_count = (
        len(rob.domains) + (1 if rob is not None and rob.overall is not None else 0)
        if rob is not None
        else 0
    )
    x_data = 0.15 + label_width + 0.1
    x_weight = x_data + data_width
    x_text = x_weight + WEIGHT_COLUMN
    x_plot = x_text + ESTIMATE_COLUMN + 0.1
    x_rob = x_plot + plot_width + 0.25
    width = x_rob + ROB_COLUMN * rob_count + 0.3
    note_width = max(
        (CHAR_INCHES * 0.9 * len(r.label) for r in rows if r.kind == "note"), default=0.0
    )
    width = max(width, 0.3 + note_width)
    bottom = 0.75 + (0.22 if favours else 0.0)
    header = 0.75 if data_header else 0.5
    # each row's top and centre, in inches below the top of the plot
    heights = np.array([_height(r, banded) for r in rows])
    tops = np.concatenate([[0.0], np.cumsum(heights)[:-1]])
    centres = tops + heights / 2.0
    plot_height = float(heights.sum())
    height = bottom + plot_height + header + (0.35 if title else 0.0)
    fig = new_figure(width, height)

    def y_at(depth: float) -> float:
        """Figure coordinate of a point ``depth`` inches below the top of the plot."""
        return (bottom + plot_height - depth) / height

    def put(x: float, depth: float, text: str, **kwargs) -> None:
        fig.text(
            x / width,
            y_at(depth),
            literal(text),
            fontsize=kwargs.pop("size", FONT_SIZE),
            va="center",
            **kwargs,
        )

    ax = fig.add_axes((x_plot / width, bottom / height, plot_width / width, plot_height / height))
    ax.set_ylim(plot_height, 0)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    # the axis spans studies, diamonds and the null line; a prediction interval widens it
    # by at most a quarter of that span on each side, beyond which it ends in an arrow (its
    # limits are printed in the estimate column)
    null = 1.0 if result.is_ratio else 0.0
    to_axis = np.log if result.is_ratio else (lambda value: value)
    from_axis = np.exp if result.is_ratio else (lambda value: value)
    drawn = [r.point for r in rows if r.point is not None and np.isfinite(r.point[0])]
    drawn += [r.extras["points"] for r in bands]  # type: ignore[misc]
    values = np.concatenate(
        [np.ravel(np.asarray(p, dtype=float)) for p in drawn] + [np.array([null])]
    )
    values = to_axis(values[np.isfinite(values)])
    low, high = float(values.min()), float(values.max())
    span = (high - low) or 1.0
    intervals = [
        (float(to_axis(r.point[1])), float(to_axis(r.point[2])))
        for r in rows
        if r.point is not None and np.isnan(r.point[0]) and np.all(np.isfinite(r.point[1:]))
    ]
    low = min([low] + [max(lower, low - 0.25 * span) for lower, _ in intervals])
    high = max([high] + [min(upper, high + 0.25 * span) for _, upper in intervals])
    pad = 0.05 * (high - low)
    x_min, x_max = float(from_axis(low - pad)), float(from_axis(high + pad))
    if result.is_ratio:
        ratio_axis(ax)
    else:
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10]))
    ax.set_xlim(x_min, x_max)
    ax.axvline(null, color="grey", linewidth=0.8)
    max_size = max((r.size for r in rows if r.kind == "study"), default=1.0) or 1.0
    # every study's interval and square: one collection each, whatever k
    segments: list[tuple[tuple[float, float], tuple[float, float]]] = []
    squares: list[tuple[float, float, float]] = []  # x, y, size
    dots: list[tuple[float, float, str]] = []  # x (inches), depth (inches), judgement
    for index, row in enumerate(rows):
        y = float(centres[index])
        weight = "bold" if row.kind in ("total", "header") else "normal"
        colour = row.colour or "black"
        if row.kind == "note":
            put(0.15, y, row.label, size=FONT_SIZE - 1)
            continue
        put(0.15, y, row.label, fontweight=weight, color=colour)
        if row.kind == "band":
            _draw_band(ax, row, float(tops[index]), float(heights[index]))
            continue
        for column, cell in enumerate(row.cells):
            put(x_data + DATA_COLUMN * (column + 1) - 0.08, y, cell, ha="right")
        put(x_weight + WEIGHT_COLUMN - 0.1, y, row.weight, ha="right", fontweight=weight)
        put(x_text, y, row.text, fontweight=weight, color=colour)
        if row.point is not None:
            estimate, lower, upper = row.point
            if row.diamond:
                half = 0.38 * ROW_INCHES
                ax.add_patch(
                    Polygon(
                        [(lower, y), (estimate, y - half), (upper, y), (estimate, y + half)],
                        closed=True,
                        facecolor="black",
                    )
                )
            elif np.isnan(estimate):  # a prediction interval, with arrows where it is cut
                ax.hlines(y, max(lower, x_min), min(upper, x_max), color=colour, linewidth=2.0)
                cut = [(x_min, "<")] if lower < x_min else []
                cut += [(x_max, ">")] if upper > x_max else []
                for edge, marker in cut:
                    ax.plot([edge], [y], marker=marker, color=colour, markersize=5, clip_on=False)
            else:
                segments.append(((lower, y), (upper, y)))
                # area grows with weight
                squares.append((estimate, y, 8.0 + 150.0 * row.size / max_size))
        for column, judgement in enumerate(row.rob or ()):
            dots.append((x_rob + ROB_COLUMN * (column + 0.5), y, judgement))
    if dots:  # risk-of-bias dots and their symbols: one collection per colour and symbol
        _draw_rob_dots(fig, dots, width, y_at)
    if segments:
        ax.add_collection(LineCollection(segments, colors="black", linewidths=1.0))
        x, y, size = np.array(squares).T
        ax.scatter(x, y, s=size, marker="s", color=SQUARE, zorder=3)
    first = -0.4 * ROW_INCHES  # the header line, above the first row
    put(0.15, first, "Study", fontweight="bold")
    for column, name in enumerate(data_header):
        put(x_data + DATA_COLUMN * (column + 1) - 0.08, first, name, ha="right", fontweight="bold")
    if data_header:
        half = len(data_header) // 2
        for arm, name in enumerate(arm_names):
            centre = x_data + DATA_COLUMN * half * (arm + 0.5)
            put(centre, first - 0.9 * ROW_INCHES, name, ha="center", fontweight="bold")
    put(x_weight + WEIGHT_COLUMN - 0.1, first, weight_header, ha="right", fontweight="bold")
    measure = MEASURE_NAMES.get(result.measure or "", "Effect")
    put(
        x_text,
        first,
        estimate_header or f"{measure} [{round(100 * result.level)}% CI]",
        fontweight="bold",
    )
    if rob is not None:
        names = [f"D{i + 1}" for i in range(len(rob.domains))]
        names += ["All"] if rob.overall is not None else []
        for column, name in enumerate(names):
            put(
                x_rob + ROB_COLUMN * (column + 0.5),
                first,
                name,
                ha="center",
                fontweight="bold",
                size=FONT_SIZE - 1,
            )
    ax.tick_params(axis="x", labelsize=FONT_SIZE - 1)
    if favours:  # under the tick labels, each on its side of the plot
        fig.text(
            x_plot / width, 0.4 / height, literal(f"Favours {favours[0]}"), fontsize=FONT_SIZE - 1
        )
        fig.text(
            (x_plot + plot_width) / width,
            0.4 / height,
            literal(f"Favours {favours[1]}"),
            fontsize=FONT_SIZE - 1,
            ha="right",
        )
    fig.text(
        (x_plot + plot_width / 2) / width,
        0.17 / height,
        literal(axis_title(result)),
        fontsize=FONT_SIZE - 1,
        ha="center",
        va="center",
    )
    if title:
        fig.text(
            0.15 / width, 1.0 - 0.22 / height, literal(title), fontsize=FONT_SIZE + 2, va="center"
        )
    return no_tex(fig)


def _draw_rob_dots(
    fig: Figure,
    dots: Sequence[tuple[float, float, str]],
    width: float,
    y_at: Callable[[float], float],
) -> None:
    """Risk-of-bias judgements as dots 0.2 inch across, coloured as in
    :data:`srma.figures.rob.PALETTES` ("cochrane"), each with its symbol at 8 pt: one
    collection per judgement and one per symbol, whatever the number of studies."""
    palette = PALETTES["cochrane"]
    x = np.array([dot[0] for dot in dots]) / width
    y = np.array([y_at(dot[1]) for dot in dots])
    judgements = [dot[2] for dot in dots]
    labels = np.array(judgements, dtype=object)
    radius = 72.0 * 0.2 / 2  # points
    for judgement in dict.fromkeys(judgements):
        chosen = labels == judgement
        fig.add_artist(
            PathCollection(
                [Path.unit_circle()],
                sizes=[radius**2],  # a path of size s is scaled by sqrt(s) points
                offsets=np.column_stack([x[chosen], y[chosen]]),
                offset_transform=fig.transFigure,
                transform=IdentityTransform(),
                facecolors=palette[judgement],
                edgecolors="#555555",
                linewidths=0.4,
                zorder=1,
            )
        )
    for symbols in centred_texts(
        x,
        y,
        [SYMBOLS[j] for j in judgements],
        transform=fig.transFigure,
        fontsize=FONT_SIZE - 1,
        zorder=3,
    ):
        fig.add_artist(symbols)


def _draw_band(ax, row: Row, top: float, height: float) -> None:
    """A condensed run of studies: one line per interval and one dot per estimate, evenly
    spaced from ``top`` down over ``height`` inches.

    The intervals are one line broken by NaN (one artist, one path, whatever the number of
    studies) and the dots one collection; in a vector file (SVG, PDF) both are one image.
    """
    points = np.asarray(row.extras["points"], dtype=float)
    if not points.size:
        return
    count = int(row.extras["count"])  # type: ignore[call-overload]
    pitch = height / count  # inches per study
    y = top + pitch * (np.asarray(row.extras["positions"]) + 0.5)
    line = float(np.clip(0.8 * 72.0 * pitch, 0.1, 1.0))  # points; thinner than the pitch
    gap = np.full(y.size, np.nan)
    xs = np.column_stack([points[:, 1], points[:, 2], gap]).ravel()
    ys = np.column_stack([y, y, gap]).ravel()
    ax.add_line(Line2D(xs, ys, color=BAND_INTERVAL, linewidth=line, rasterized=True))
    # the dots stay visible over the intervals: a fixed size, whatever the pitch
    ax.scatter(
        points[:, 0], y, s=BAND_DOT, marker="o", color=SQUARE, linewidths=0, zorder=3,
        rasterized=True,
    )  # fmt: skip


def forest_plot(
    result: MetaResult,
    *,
    favours: tuple[str, str] | None = None,
    title: str | None = None,
    arms: pd.DataFrame | None = None,
    label: str = "study",
    arm_names: tuple[str, str] = ("Experimental", "Control"),
    rob: RobAssessment | None = None,
    columns: Mapping[str, str] | None = None,
    also: MetaResult | None = None,
    plot_width: float = PLOT_WIDTH,
    max_rows: int | None = MAX_ROWS,
) -> Figure:
    """Draw the forest plot of one meta-analysis.

    ``arms`` (the per-arm table, matched to studies by its ``label`` column)
    adds RevMan's data columns; ``rob`` (matched by study label) adds one
    coloured dot per risk-of-bias domain; ``also`` (the same studies under
    another model, say common effect beside random effects) adds its diamond
    under the first, as R's meta draws both.  ``plot_width`` (inches) is the
    width of the graphical column; a narrower one gives a narrower figure with
    the same font sizes (the DOCX report uses it to fit the page).  More than
    ``max_rows`` studies (None: no limit) are drawn condensed, without the
    per-arm and risk-of-bias columns (see the module's docstring).
    """
    labelled = _labelled(len(result.labels), max_rows)
    if not labelled:
        arms = rob = None
    header, cells, _ = _arm_cells(arms, label, columns or {})
    rows = _study_rows(result, cells=cells, rob=rob, labelled=labelled)
    rows.append(Row(kind="blank"))
    rows.extend(_total_rows(result, "Total"))
    if also is not None:
        rows.append(Row(kind="blank"))
        rows.extend(_total_rows(also, "Total", weight=""))
    if rob is not None:
        rows.append(Row(kind="blank"))
        rows.extend(
            Row(label=f"D{i + 1}: {name}", kind="note") for i, name in enumerate(rob.domains)
        )
    if not labelled:
        rows.append(_condensed_note(len(result.labels), max_rows))
    return _draw(
        rows,
        result,
        data_header=header,
        arm_names=arm_names,
        rob=rob,
        favours=favours,
        title=title,
        plot_width=plot_width,
    )


def subgroup_forest(
    result: SubgroupResult,
    *,
    favours: tuple[str, str] | None = None,
    title: str | None = None,
    arms: pd.DataFrame | None = None,
    label: str = "study",
    arm_names: tuple[str, str] = ("Experimental", "Control"),
    columns: Mapping[str, str] | None = None,
    max_rows: int | None = MAX_ROWS,
) -> Figure:
    """A forest plot with one block per subgroup, its subtotal, and the overall result.

    More than ``max_rows`` studies in all are drawn condensed, one band per subgroup.
    """
    studies = sum(len(subgroup.labels) for subgroup in result.subgroups)
    labelled = _labelled(studies, max_rows)
    header, cells, _ = _arm_cells(arms if labelled else None, label, columns or {})
    overall = dict(zip(result.overall.labels, result.overall.weights, strict=True))
    rows: list[Row] = []
    for group, subgroup in zip(result.groups, result.subgroups, strict=True):
        rows.append(Row(label=f"{result.variable}: {group}", kind="header"))
        rows.extend(_study_rows(subgroup, weights=overall, cells=cells, labelled=labelled))
        share = sum(overall.get(name, 0.0) for name in subgroup.labels)
        rows.extend(_total_rows(subgroup, "Subtotal", weight=f"{format_number(share, 1)}%"))
        rows.append(Row(kind="blank"))
    rows.extend(_total_rows(result.overall, "Total"))
    statistic = "Chi²" if result.test_between == "chi2" else "F"
    df = (
        format_count(result.df_between)
        if result.df_between_denominator is None
        else f"{format_count(result.df_between)}, {format_count(result.df_between_denominator)}"
    )
    rows.append(
        Row(
            label=f"Test for subgroup differences: {statistic} = "
            f"{format_number(result.q_between)}, "
            f"df = {df} ({format_p(result.pvalue_between)})",
            kind="note",
        )
    )
    if not labelled:
        rows.append(_condensed_note(studies, max_rows))
    return _draw(
        rows, result.overall, data_header=header, arm_names=arm_names, favours=favours, title=title
    )


def refit_forest(
    table: RefitTable,
    result: MetaResult,
    *,
    title: str | None = None,
    max_rows: int | None = MAX_ROWS,
) -> Figure:
    """Leave-one-out or cumulative results, one row each, above the full analysis.

    More than ``max_rows`` refits are drawn condensed (one band).
    """
    show = _display(result)
    verb = "Omitting" if table.key == "omitted" else "Adding"
    labelled = _labelled(len(table.labels), max_rows)
    rows = []
    if not labelled:
        points = show(
            np.column_stack(
                [
                    np.array(table.values[n], dtype=float)
                    for n in ("estimate", "ci_lower", "ci_upper")
                ]
            )
        )
        rows.append(_band(points))
    for record in table.to_records() if labelled else ():
        values = [record[name] for name in ("estimate", "ci_lower", "ci_upper")]
        if any(value is None for value in values):
            rows.append(Row(label=f"{verb} {record[table.key]}", text="Not estimable"))
            continue
        estimate = show(np.array(values, dtype=float))
        i2 = record["i2"]
        rows.append(
            Row(
                label=f"{verb} {record[table.key]}",
                text=_interval_text(*estimate),
                weight="" if i2 is None else f"{format_number(i2, 0)}%",
                point=tuple(estimate),
                size=1.0,
            )
        )
    rows.append(Row(kind="blank"))
    rows.extend(_total_rows(result, "All studies", weight=""))
    if not labelled:
        rows.append(_condensed_note(len(table.labels), max_rows))
    return _draw(rows, result, title=title, weight_header="I²")
