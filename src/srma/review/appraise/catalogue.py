"""The tools srma knows, by name: RoB 1, RoB 2, ROBINS-I, QUADAS-2, SYRCLE and CAMARADES."""

from __future__ import annotations

from srma.errors import InputError
from srma.review.appraise import camarades, quadas2, rob1, rob2, robins_i, syrcle
from srma.review.appraise.tools import Tool

TOOLS: dict[str, Tool] = {
    tool.name: tool
    for tool in (
        rob1.TOOL,
        rob2.TOOL,
        robins_i.TOOL,
        quadas2.TOOL,
        syrcle.TOOL,
        camarades.TOOL,
    )
}

_ALIASES = {
    "rob-1": "rob1",
    "rob-2": "rob2",
    "robinsi": "robins-i",
    "robins_i": "robins-i",
    "quadas-2": "quadas2",
}


def tool(name: str | Tool) -> Tool:
    """A tool by name (rob1, rob2, robins-i, quadas2, syrcle, camarades; any case)."""
    if isinstance(name, Tool):
        return name
    key = str(name).strip().lower()
    key = _ALIASES.get(key, key)
    if key not in TOOLS:
        raise InputError(f"unknown appraisal tool {name!r}; expected {', '.join(TOOLS)}")
    return TOOLS[key]
