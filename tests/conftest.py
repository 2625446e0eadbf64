"""Shared test helpers: the metafor fixtures written by tests/reference/*.R."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "reference" / "fixtures"


@cache
def load_fixture(name: str) -> Any:
    """A JSON fixture written by one of the R scripts in tests/reference/."""
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return json.load(handle)


#: The project's shared folder (DESIGN.md, seeds, reference facts, fixtures from other
#: tools), which sits beside the repository on every machine and in CI.
SHARED = Path(__file__).resolve().parents[2] / "shared"
assert SHARED.is_dir(), f"the shared folder is missing: expected it at {SHARED}"
