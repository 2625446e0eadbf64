"""The PRISMA 2020 flow diagram for new studies identified via databases and registers.

Boxes and wording follow Page et al. (2021), BMJ 372:n71 (Figure 1, the
template for new reviews).  Every number comes from a
:class:`~srma.review.prisma.PrismaCounts`; a count that was not reported is
printed as "NR".  The "other methods" and "previous studies" columns of the
template are not drawn yet.
"""

from __future__ import annotations

import itertools

from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from srma.figures.axes import new_figure
from srma.review.prisma import PrismaCounts

STAGE_COLOUR = "#9DC3E6"
BOX_EDGE = "#333333"


def _n(value: int | None) -> str:
    return "NR" if value is None else f"{value:,}"


def _list(items: tuple[tuple[str, int | None], ...], indent: str = "   ") -> list[str]:
    return [f"{indent}{name} (n = {_n(n)})" for name, n in items]


def prisma_flow(counts: PrismaCounts, *, title: str | None = None) -> Figure:
    """Draw the flow diagram; returns the matplotlib figure."""
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
    excluded_reports = [
        "Reports excluded:"
        if counts.exclusion_reasons
        else f"Reports excluded (n = {_n(c('dbr_excluded'))})"
    ]
    excluded_reports += _list(counts.exclusion_reasons)
    if not counts.exclusion_reasons and c("dbr_excluded"):
        excluded_reports.append("   reasons not reported")
    included = [
        f"Studies included in review (n = {_n(c('new_studies'))})",
        f"Reports of included studies (n = {_n(c('new_reports'))})",
    ]
    if c("total_studies_ma") is not None:
        included.append(f"Studies included in meta-analysis (n = {_n(c('total_studies_ma'))})")

    rows = [
        ("Identification", identified, removed),
        (
            "Screening",
            [f"Records screened (n = {_n(c('records_screened'))})"],
            [f"Records excluded (n = {_n(c('records_excluded'))})"],
        ),
        (
            "Screening",
            [f"Reports sought for retrieval (n = {_n(c('dbr_sought_reports'))})"],
            [f"Reports not retrieved (n = {_n(c('dbr_notretrieved_reports'))})"],
        ),
        (
            "Screening",
            [f"Reports assessed for eligibility (n = {_n(c('dbr_assessed'))})"],
            excluded_reports,
        ),
        ("Included", included, None),
    ]
    line_height = 0.22
    heights = [max(len(left), len(right or [])) * line_height + 0.35 for _, left, right in rows]
    gap = 0.45
    total = sum(heights) + gap * (len(rows) - 1) + 1.2 + (0.35 if title else 0.0)
    width = 10.0
    fig = new_figure(width, total)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, total)
    ax.axis("off")
    ax.add_patch(
        FancyBboxPatch(
            (0.9, total - 0.75 - (0.35 if title else 0.0)),
            width - 1.1,
            0.45,
            boxstyle="round,pad=0.02",
            facecolor="#FFD966",
            edgecolor=BOX_EDGE,
        )
    )
    ax.text(
        width / 2 + 0.35,
        total - 0.525 - (0.35 if title else 0.0),
        "Identification of new studies via databases and registers",
        ha="center",
        va="center",
        fontsize=10,
        fontweight="bold",
    )
    if title:
        ax.text(0.2, total - 0.2, title, fontsize=12, va="center")
    left_x, left_w, right_x, right_w = 0.9, 4.3, 5.7, 4.1
    top = total - 0.95 - (0.35 if title else 0.0)
    centres = []
    stage_spans: dict[str, list[float]] = {}
    for (stage, left, right), height in zip(rows, heights, strict=True):
        bottom = top - height
        ax.add_patch(
            FancyBboxPatch(
                (left_x, bottom),
                left_w,
                height,
                boxstyle="square,pad=0",
                facecolor="white",
                edgecolor=BOX_EDGE,
            )
        )
        ax.text(
            left_x + 0.12,
            top - 0.17,
            "\n".join(left),
            va="top",
            ha="left",
            fontsize=9,
            linespacing=1.45,
        )
        if right:
            ax.add_patch(
                FancyBboxPatch(
                    (right_x, bottom),
                    right_w,
                    height,
                    boxstyle="square,pad=0",
                    facecolor="white",
                    edgecolor=BOX_EDGE,
                )
            )
            ax.text(
                right_x + 0.12,
                top - 0.17,
                "\n".join(right),
                va="top",
                ha="left",
                fontsize=9,
                linespacing=1.45,
            )
            ax.annotate(
                "",
                xy=(right_x, bottom + height / 2),
                xytext=(left_x + left_w, bottom + height / 2),
                arrowprops={"arrowstyle": "-|>", "color": BOX_EDGE},
            )
        centres.append((top, bottom))
        span = stage_spans.setdefault(stage, [top, bottom])
        span[1] = bottom
        top = bottom - gap
    for (_, upper_bottom), (lower_top, _) in itertools.pairwise(centres):
        ax.annotate(
            "",
            xy=(left_x + left_w / 2, lower_top),
            xytext=(left_x + left_w / 2, upper_bottom),
            arrowprops={"arrowstyle": "-|>", "color": BOX_EDGE},
        )
    for stage, (upper, lower) in stage_spans.items():
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
    return fig
