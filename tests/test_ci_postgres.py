"""`make test`'s throwaway PostgreSQL server (.ci/postgres.sh, .ci/with-postgres.sh):
stopped when the tests end, passed or failed; a server already running, or a given
URL, is left alone.  Run on a free port of its own, never the suite's server."""

from __future__ import annotations

import glob
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
pytestmark = pytest.mark.skipif(not BINARIES, reason="no PostgreSQL server binaries")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ready(port: int) -> bool:
    check = [f"{BINARIES[-1]}/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)]
    return subprocess.run(check, check=False).returncode == 0


def script(name: str, *args: str, port: int, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "SRMA_TEST_POSTGRES_URL"}
    environment.update(SRMA_TEST_POSTGRES_PORT=str(port), **env)
    command = ["bash", str(ROOT / ".ci" / name), *args]
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_server_started_for_the_tests_is_stopped_when_they_fail() -> None:
    port = free_port()
    inside = f"{BINARIES[-1]}/pg_isready -h 127.0.0.1 -p {port} && echo $SRMA_TEST_POSTGRES_URL"
    run = script("with-postgres.sh", "bash", "-c", inside + "; exit 3", port=port)
    assert run.returncode == 3, run.stderr
    assert f"postgresql://srma@127.0.0.1:{port}/postgres" in run.stdout
    assert "accepting connections" in run.stdout
    assert not ready(port)
    assert not Path(f"/tmp/srma-test-postgres-{port}").exists()
    passed = script("with-postgres.sh", "true", port=port)
    assert passed.returncode == 0 and "stopping the test PostgreSQL server" in passed.stderr
    assert not ready(port)


def test_a_running_server_and_a_given_url_are_left_alone() -> None:
    port = free_port()
    started = script("postgres.sh", port=port)
    assert started.returncode == 0, started.stderr
    try:
        assert script("with-postgres.sh", "false", port=port).returncode == 1
        assert ready(port)
    finally:
        script("postgres.sh", "stop", f"/tmp/srma-test-postgres-{port}", port=port)
    assert not ready(port)
    given = "postgresql://srma@127.0.0.1:1/elsewhere"
    run = script(
        "with-postgres.sh", "bash", "-c", "echo $SRMA_TEST_POSTGRES_URL", port=port,
        SRMA_TEST_POSTGRES_URL=given,
    )  # fmt: skip
    assert run.returncode == 0 and run.stdout.strip() == given
    assert not ready(port)


def test_stop_refuses_a_folder_that_is_no_throwaway_cluster(tmp_path: Path) -> None:
    run = script("postgres.sh", "stop", str(tmp_path), port=free_port())
    assert run.returncode == 2 and "not a throwaway cluster" in run.stderr
    assert tmp_path.exists()


def test_apt_get_waits_for_the_package_lock() -> None:
    for name in ("Makefile", ".ci/postgres.sh"):
        code = [
            line for line in (ROOT / name).read_text().splitlines()
            if not line.lstrip().startswith("#")
        ]  # fmt: skip
        calls = [line for line in code if re.search(r"apt-get|\$\(APT_GET\)", line)]
        assert len(calls) >= 2, name
        for line in calls:
            assert "$(APT_GET)" in line or "apt-get -o DPkg::Lock::Timeout=600" in line, line
    assert "APT_GET := apt-get -o DPkg::Lock::Timeout=600" in (ROOT / "Makefile").read_text()
    assert (ROOT / ".ci" / "run").read_text().rstrip().endswith("make test")
