"""srma.analysis.grade imports only srma's lower layers (DESIGN.md: analysis may import stats)."""

from __future__ import annotations

import ast
from pathlib import Path

import srma.analysis.grade

ALLOWED = ("srma.analysis", "srma.stats", "srma.errors", "srma.formatting", "srma.vocabulary")


def test_grade_imports_no_higher_layer() -> None:
    package = Path(srma.analysis.grade.__file__).parent
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith("srma"):
                    assert name.startswith(ALLOWED), f"{path.name} imports {name}"
