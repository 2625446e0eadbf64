"""The PRISMA 2020 flow diagram for new systematic reviews.

Boxes and wording follow Page et al. (2021), BMJ 372:n71 (Figure 1, the
template for new reviews): identification via databases and registers, and,
when any such counts are given, via other methods (websites, organisations,
citation searching).  Every number comes from a
:class:`~srma.review.flow.prisma.PrismaCounts`; a count that was not reported is
printed as "NR".  The "previous studies" column of updated reviews is not
drawn.
"""

from __future__ import annotations

import itertools

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from srma.figures.axes import new_figure
from srma.figures.text import literal, no_tex
from srma.review.flow.prisma import OTHER_FIELDS, PrismaCounts

STAGE_COLOUR = "#9DC3E6"
BOX_EDGE = "#333333"
LINE_HEIGHT = 0.22
GAP = 0.45
COLUMN = 4.2
SPACING = 0.5


def _n(value: int | None) -> str:
    return "NR" if value is None else f"{value:,}"


def _list(items: tuple[tuple[str, int | None], ...], indent: str = "   ") -> list[str]:
    return [f"{indent}{name} (n = {_n(n)})" for name, n in items]


def _excluded(total: int | None, reasons: tuple[tuple[str, int | None], ...]) -> list[str]:
    lines = ["Reports excluded:" if reasons else f"Reports excluded (n = {_n(total)})"]
    lines += _list(reasons)
    if not reasons and total:
        lines.append("   reasons not reported")
    return lines


def _rows(counts: PrismaCounts, other: bool) -> list[tuple[str, list[list[str] | None]]]:
    c = counts.get
    identified = ["Records identified from:", f"Databases (n = {_n(c('database_results'))})"]
    identified += _list(counts.database_specific)
    if c("register_results") is not None or counts.register_specific:
        identified.append(f"Registers (n = {_n(c('register_results'))})")
        identified += _list(counts.register_specific)
    removed = [
        "Records removed before screening:",
        f"Duplicate records removed (n = {_n(c('duplicates'))})",
        f"Records marked as ineligible by automation tools (n = {_n(c('excluded_automatic'))})",
        f"Records removed for other reasons (n = {_n(c('excluded_other'))})",
    ]
    included = [
        f"Studies included in review (n = {_n(c('new_studies'))})",
        f"Reports of included studies (n = {_n(c('new_reports'))})",
    ]
    if c("total_studies_ma") is not None:
        included.append(f"Studies included in meta-analysis (n = {_n(c('total_studies_ma'))})")
    rows: list[tuple[str, list[list[str] | None]]] = [
        ("Identification", [identified, removed]),
        (
            "Screening",
            [
                [f"Records screened (n = {_n(c('records_screened'))})"],
                [f"Records excluded (n = {_n(c('records_excluded'))})"],
            ],
        ),
        (
            "Screening",
            [
                [f"Reports sought for retrieval (n = {_n(c('dbr_sought_reports'))})"],
                [f"Reports not retrieved (n = {_n(c('dbr_notretrieved_reports'))})"],
            ],
        ),
        (
            "Screening",
            [
                [f"Reports assessed for eligibility (n = {_n(c('dbr_assessed'))})"],
                _excluded(c("dbr_excluded"), counts.exclusion_reasons),
            ],
        ),
        ("Included", [included, None]),
    ]
    if other:
        sources = [
            "Records identified from:",
            f"Websites (n = {_n(c('website_results'))})",
            f"Organisations (n = {_n(c('organisation_results'))})",
            f"Citation searching (n = {_n(c('citations_results'))})",
        ]
        extra = [
            [sources, None],
            [None, None],
            [
                [f"Reports sought for retrieval (n = {_n(c('other_sought_reports'))})"],
                [f"Reports not retrieved (n = {_n(c('other_notretrieved_reports'))})"],
            ],
            [
                [f"Reports assessed for eligibility (n = {_n(c('other_assessed'))})"],
                _excluded(c("other_excluded"), counts.other_exclusion_reasons),
            ],
            [None, None],
        ]
        rows = [(stage, boxes + more) for (stage, boxes), more in zip(rows, extra, strict=True)]
    return rows


def prisma_flow(counts: PrismaCounts, *, title: str | None = None) -> Figure:
    """Draw the flow diagram; returns the matplotlib figure."""
    other = any(counts.get(name) is not None and counts.get(name) != 0 for name in OTHER_FIELDS)
    rows = _rows(counts, other)
    heights = [max(len(box or []) for box in boxes) * LINE_HEIGHT + 0.35 for _, boxes in rows]
    titled = 0.35 if title else 0.0
    total = sum(heights) + GAP * (len(rows) - 1) + 1.2 + titled
    columns = 4 if other else 2
    xs = [0.9 + i * (COLUMN + SPACING) for i in range(columns)]
    width = xs[-1] + COLUMN + 0.2
    fig = new_figure(width, total)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, total)
    ax.axis("off")
    banners = [("Identification of new studies via databases and registers", xs[0], xs[1])]
    if other:
        banners.append(("Identification of new studies via other methods", xs[2], xs[3]))
    for text, start, end in banners:
        ax.add_patch(
            FancyBboxPatch(
                (start, total - 0.75 - titled),
                end + COLUMN - start,
                0.45,
                boxstyle="round,pad=0.02",
                facecolor="#FFD966",
                edgecolor=BOX_EDGE,
            )
        )
        ax.text(
            (start + end + COLUMN) / 2,
            total - 0.525 - titled,
            text,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
        )
    if title:
        ax.text(0.2, total - 0.2, literal(title), fontsize=12, va="center")

    def arrow(start: tuple[float, float], end: tuple[float, float]) -> None:
        ax.annotate("", xy=end, xytext=start, arrowprops={"arrowstyle": "-|>", "color": BOX_EDGE})

    top = total - 0.95 - titled
    spans: dict[str, list[float]] = {}
    boxes_at: list[list[tuple[float, float] | None]] = []
    for (stage, boxes), height in zip(rows, heights, strict=True):
        bottom = top - height
        placed: list[tuple[float, float] | None] = []
        for column, lines in enumerate(boxes):
            if lines is None:
                placed.append(None)
                continue
            ax.add_patch(
                FancyBboxPatch(
                    (xs[column], bottom),
                    COLUMN,
                    height,
                    boxstyle="square,pad=0",
                    facecolor="white",
                    edgecolor=BOX_EDGE,
                )
            )
            ax.text(
                xs[column] + 0.12,
                top - 0.17,
                "\n".join(literal(line) for line in lines),
                va="top",
                ha="left",
                fontsize=9,
                linespacing=1.45,
            )
            placed.append((top, bottom))
            if column % 2 == 1 and placed[column - 1] is not None:
                middle = bottom + height / 2
                arrow((xs[column - 1] + COLUMN, middle), (xs[column], middle))
        boxes_at.append(placed)
        span = spans.setdefault(stage, [top, bottom])
        span[1] = bottom
        top = bottom - GAP
    for flow in range(0, columns, 2):
        chain = [(i, row[flow]) for i, row in enumerate(boxes_at) if row[flow] is not None]
        for (_, upper), (_, lower) in itertools.pairwise(chain):
            centre = xs[flow] + COLUMN / 2
            arrow((centre, upper[1]), (centre, lower[0]))
        if flow > 0 and chain and boxes_at[-1][0] is not None:
            last = chain[-1][1]
            arrow((xs[flow] + COLUMN / 2, last[1]), (xs[0] + COLUMN, boxes_at[-1][0][0]))
    for stage, (upper, lower) in spans.items():
        ax.add_patch(
            FancyBboxPatch(
                (0.2, lower),
                0.45,
                upper - lower,
                boxstyle="round,pad=0.02",
                facecolor=STAGE_COLOUR,
                edgecolor=BOX_EDGE,
            )
        )
        ax.text(
            0.425,
            (upper + lower) / 2,
            stage,
            rotation=90,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
        )
    return no_tex(fig)
