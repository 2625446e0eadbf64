"""Reviewers deciding at once through a real `srma serve` on PostgreSQL: every decision the
server acknowledged is in the log exactly once, and the hash chain verifies. This runs the
load benchmark (benchmarks/bench_web_load.py) briefly and checks what it counted, not its
timings."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import _postgres_admin_url

ROOT = Path(__file__).resolve().parents[1]


def test_concurrent_reviewers_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    server = _postgres_admin_url().replace("postgresql+psycopg://", "postgresql://", 1)
    done = subprocess.run(
        [sys.executable, ROOT / "benchmarks" / "bench_web_load.py", "--db", server,
         "--reviewers", "6", "--seconds", "6", "--think", "0,0.05", "--dashboard-every", "1",
         "--json", out],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(out.read_text())
    assert result["failed_requests"] == []
    assert result["decisions_acknowledged"] > 6  # each reviewer decided, several times
    assert result["decisions_in_log"] == result["decisions_acknowledged"]
    assert (result["lost"], result["duplicated"]) == (0, 0)
    assert result["hash_chain_ok"]
    assert result["events_in_log"] == result["decisions_acknowledged"]
    assert result["latency"]["GET / (dashboard)"]["n"] >= 1
