"""Many short centred texts (a risk-of-bias judgement's ``+``, ``-``, ``x``...) drawn as one
collection per distinct text, not one text artist each.

A text artist costs its layout and its glyphs every time a figure is drawn; a
traffic-light plot of 300 studies has 2,400 of them.  Here each distinct
text is turned into its glyphs' outline once (:class:`matplotlib.textpath.TextPath`,
the outline the SVG backend writes for text anyway) and placed where a text
with ``ha="center", va="center"`` puts its glyphs: the pen starts at the left
of the text's box and the baseline lies the box's descent above its bottom
(the box is the text's own extent, at least as tall and deep as ``lp``, as
:class:`matplotlib.text.Text` lays it out).  Every occurrence is then one
offset of one :class:`matplotlib.collections.PathCollection`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from matplotlib.artist import Artist
from matplotlib.backends.backend_agg import RendererAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.path import Path
from matplotlib.textpath import TextPath
from matplotlib.transforms import IdentityTransform, Transform

#: Resolution the layout is computed at, and points per inch.
_LAYOUT_DPI = 720.0
_POINTS = 72.0


class _Pen(RendererAgg):
    """An Agg renderer that draws no text but keeps where a text's glyphs would start."""

    pen: tuple[float, float] | None = None

    def flipy(self) -> bool:  # display coordinates, y up, as paths are
        return False

    def draw_text(self, gc, x, y, s, prop, angle, ismath=False, mtext=None):  # type: ignore[no-untyped-def]
        self.pen = (float(x), float(y))


@lru_cache(maxsize=64)
def centred_glyphs(text: str, fontsize: float, fontweight: str) -> Path:
    """The outline of ``text`` in points, placed as ``ha="center", va="center"`` text is
    placed about its anchor (the origin).

    Where the glyphs start is what :meth:`matplotlib.text.Text.draw` hands a backend's
    ``draw_text``, computed at a resolution fine enough that hinting does not round it.
    """
    prop = FontProperties(size=fontsize, weight=fontweight)
    anchor = Figure(dpi=_LAYOUT_DPI).text(
        0.0, 0.0, text, fontproperties=prop, ha="center", va="center", transform=IdentityTransform()
    )
    renderer = _Pen(1, 1, _LAYOUT_DPI)
    anchor.draw(renderer)
    if renderer.pen is None:
        raise RuntimeError(f"matplotlib drew no text for {text!r}")
    pen = np.array(renderer.pen) * _POINTS / _LAYOUT_DPI
    return TextPath(tuple(pen), text, prop=prop)


def centred_texts(
    x: Sequence[float] | np.ndarray,
    y: Sequence[float] | np.ndarray,
    texts: Sequence[str],
    *,
    transform: Transform,
    fontsize: float,
    fontweight: str = "normal",
    color: str = "black",
    zorder: float = 3,
) -> list[Artist]:
    """One collection per distinct text of ``texts``, each occurrence centred on its
    ``(x, y)`` (in ``transform``'s coordinates), as ``fig.text(x, y, text, ha="center",
    va="center", ...)`` draws it; add the collections with ``add_artist`` or
    ``add_collection``."""
    xy = np.column_stack([np.asarray(x, dtype=float), np.asarray(y, dtype=float)])
    labels = np.asarray(texts, dtype=object)
    found: list[Artist] = []
    for text in dict.fromkeys(texts):
        collection = PathCollection(
            [centred_glyphs(text, float(fontsize), fontweight)],
            sizes=[1.0],  # a marker of "size" 1 is drawn in points
            offsets=xy[labels == text],
            offset_transform=transform,
            facecolors=color,
            edgecolors="none",
            linewidths=0.0,
            zorder=zorder,
        )
        collection.set_transform(IdentityTransform())
        found.append(collection)
    return found
