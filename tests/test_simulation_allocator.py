"""srma.scale.allocator: glibc's thresholds are raised where the C library is glibc, and a
block's numbers are bitwise the same before and after (in a fresh process, as a worker is)."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

from srma.scale.allocator import keep_freed_memory

FRESH = """
import hashlib, json
from srma.scale import parse_study
from srma.scale.allocator import keep_freed_memory
from srma.scale.run import simulate_block
study = parse_study({"study": {"name": "a", "seed": 7, "repetitions": 400, "block": 200},
    "scenarios": {"k": [5, 30], "tau2": [0.0, 0.2], "within": ["w"]},
    "within": {"w": {"distribution": "chisq", "df": 1, "scale": 0.25}},
    "methods": {"tau2": ["DL", "REML"], "test": ["z", "knha"]}})
def digest():
    return [hashlib.sha256(simulate_block(study, s, b)).hexdigest()
            for s in range(len(study.scenarios)) for b in range(study.blocks)]
before = digest()
changed = keep_freed_memory()
print(json.dumps({"changed": changed, "same": before == digest()}))
"""


def test_a_fresh_process_fits_the_same_blocks_with_raised_thresholds() -> None:
    done = subprocess.run([sys.executable, "-c", FRESH], capture_output=True, text=True,
                          timeout=120, check=True)  # fmt: skip
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["same"]
    assert found["changed"] == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")


def test_nothing_changes_where_the_c_library_is_not_glibc(monkeypatch) -> None:
    monkeypatch.setattr(platform, "libc_ver", lambda: ("musl", "1.2"))
    assert keep_freed_memory() is False
