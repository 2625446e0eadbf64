"""The machine line of a benchmark's report: CPU, cores, load average, versions."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path


def machine(*packages: str) -> str:
    """``"<CPU model>, N cores (load average L at start); Python X, numpy Y, ..."`` with the
    installed version of each of ``packages`` (numpy always)."""
    model = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("numpy", *packages))
    return (
        f"{model}, {os.cpu_count()} cores (load average {load:.2f} at start); "
        f"Python {platform.python_version()}, {versions}"
    )
