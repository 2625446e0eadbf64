"""Load on the browser workspace: reviewers screening at once, against PostgreSQL.

Starts ``srma serve`` on loopback over a fresh PostgreSQL database holding the 2,019 records of
the shipped Nagtegaal 2019 search (:func:`srma.datasets.load_screening`), signs in
``--reviewers`` accounts and lets each screen titles and abstracts through the pages a browser
uses, for ``--seconds``: ``GET /screen`` shows the next record (ranked by active learning),
the reviewer thinks for a time drawn uniformly from ``--think`` seconds, ``POST /screen``
stores the decision and redirects to the next ``GET /screen``. A lead reloads the dashboard
(counts, agreement, PRISMA) every ``--dashboard-every`` seconds.

Afterwards it checks the log against what the server acknowledged: every decision answered
with a redirect must be in the log exactly once (none lost, none duplicated), and the hash chain
over the log must verify. It reports the latency of each kind of request (median, p95, p99,
max), the decisions per second and the server's CPU time.

There is no peer to run beside it: Covidence and Rayyan are hosted services, and ASReview LAB
has no multi-reviewer server to drive the same way.

    python benchmarks/bench_web_load.py --db postgresql://srma@127.0.0.1:55432/postgres \\
        --reviewers 20 --seconds 120 --think 1,3 --json load.json

``--db`` is the URL of a server whose user may create databases; a database
``srma_load_<pid>`` is made for the run and dropped after it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import rispy
from sqlalchemy import create_engine, text

from machine_info import machine

PASSWORD = "load-test password 42"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
RECORD = re.compile(r'name="record_id" value="(\d+)"')


@dataclass
class Reviewer:
    """One simulated reviewer: the requests it made and the decisions acknowledged to it."""

    name: str
    seed: int
    timings: list[tuple[str, int, float]] = field(default_factory=list)  # kind, status, s
    acknowledged: list[tuple[int, str]] = field(default_factory=list)  # record, decision
    failed: list[str] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database_for_run(admin_url: str) -> tuple[str, str]:
    """A new database on the server of ``admin_url``: (its URL, its name)."""
    name = f"srma_load_{os.getpid()}"
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + "/" + name, name


def drop_database(admin_url: str, name: str) -> None:
    admin = create_engine(admin_url.replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def make_project(folder: Path, url: str, reviewers: list[str]) -> int:
    """A project on ``url`` with the shipped search imported and one account per reviewer
    and a lead; returns the number of records."""
    from srma.datasets.screening import load_screening
    from srma.review.project import open_project
    from srma.web.accounts import add_account

    srma = Path(sys.executable).with_name("srma")
    subprocess.run([srma, "init", folder, "--title", "Load test", "--db", url], check=True,
                   capture_output=True)  # fmt: skip
    data = load_screening("nagtegaal2019")
    export = folder / "search.ris"
    export.write_text(rispy.dumps([
        {"type_of_reference": "JOUR", "title": title or "(no title)", "abstract": abstract}
        for title, abstract in zip(data["title"], data["abstract"], strict=True)
    ]))  # fmt: skip
    subprocess.run([srma, "import", folder, export, "--db", url], check=True,
                   capture_output=True)  # fmt: skip
    project = open_project(folder, url=url)
    with project.store.transaction() as session:
        add_account(session, "Lead", role="lead", password=PASSWORD)
        for name in reviewers:
            add_account(session, name, role="reviewer", password=PASSWORD)
    project.store.dispose()
    return len(data)


async def sign_in(client: httpx.AsyncClient, name: str) -> None:
    page = await client.get("/login")
    token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    reply = await client.post("/login", data={"name": name, "password": PASSWORD,
                                              "csrf_token": token})  # fmt: skip
    if reply.status_code != 303:
        raise RuntimeError(f"{name} could not sign in: {reply.status_code}")


async def timed(reviewer: Reviewer, kind: str, request: Awaitable[httpx.Response]
                ) -> httpx.Response | None:  # fmt: skip
    start = time.perf_counter()
    try:
        reply = await request
    except httpx.HTTPError as error:
        reviewer.failed.append(f"{kind}: {type(error).__name__} {error}")
        return None
    reviewer.timings.append((kind, reply.status_code, time.perf_counter() - start))
    if reply.status_code >= 400:
        reviewer.failed.append(f"{kind}: HTTP {reply.status_code} {reply.text[:200]}")
    return reply


async def screen(base: str, reviewer: Reviewer, until: float, think: tuple[float, float]
                 ) -> None:  # fmt: skip
    """Screen one record after another until ``until`` (time.monotonic) or nothing is left."""
    rng = random.Random(reviewer.seed)
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        await sign_in(client, reviewer.name)
        page = await timed(reviewer, "GET /screen", client.get("/screen"))
        while page is not None and page.status_code == 200 and time.monotonic() < until:
            found = RECORD.search(page.text)
            if found is None:
                return  # nothing left for this reviewer
            record = int(found.group(1))
            token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
            await asyncio.sleep(rng.uniform(*think))
            decision = rng.choices(["include", "exclude", "maybe"], weights=[2, 7, 1])[0]
            form = {"csrf_token": token, "record_id": str(record), "stage": "title_abstract",
                    "decision": decision}  # fmt: skip
            reply = await timed(reviewer, "POST /screen", client.post("/screen", data=form))
            if reply is None or reply.status_code != 303:
                return
            reviewer.acknowledged.append((record, decision))
            page = await timed(reviewer, "GET /screen", client.get(reply.headers["location"]))


async def watch(base: str, lead: Reviewer, until: float, every: float) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60.0) as client:
        await sign_in(client, lead.name)
        while time.monotonic() < until:
            await timed(lead, "GET / (dashboard)", client.get("/"))
            await asyncio.sleep(every)


async def run_load(base: str, reviewers: list[Reviewer], lead: Reviewer, seconds: float,
                   think: tuple[float, float], dashboard_every: float) -> float:  # fmt: skip
    start = time.monotonic()
    until = start + seconds
    await asyncio.gather(
        watch(base, lead, until, dashboard_every),
        *(screen(base, r, until, think) for r in reviewers),
    )
    return time.monotonic() - start


def logged_decisions(url: str, names: set[str]) -> Counter[tuple[str, int, str]]:
    """(reviewer, record, decision) of every screening event by ``names`` in the log."""
    from srma.review.decision_log import load_events
    from srma.store import open_store

    store = open_store(url)
    with store.transaction() as session:
        found = Counter(
            (e.reviewer, int(e.record_id), str(e.decision))
            for e in load_events(session)
            if e.kind == "screening" and e.reviewer in names
        )
    store.dispose()
    return found


def chain_ok(url: str) -> tuple[bool, int]:
    from srma.store import open_store

    store = open_store(url)
    check = store.verify()
    store.dispose()
    return check.intact, check.events


def latency_table(people: list[Reviewer]) -> dict[str, dict[str, float]]:
    by_kind: dict[str, list[float]] = {}
    for person in people:
        for kind, _status, seconds in person.timings:
            by_kind.setdefault(kind, []).append(seconds)
    every = [s for values in by_kind.values() for s in values]
    table = {}
    for kind, values in [*sorted(by_kind.items()), ("all requests", every)]:
        ms = 1e3 * np.asarray(values)
        table[kind] = {
            "n": int(ms.size), "median_ms": float(np.median(ms)),
            "p95_ms": float(np.percentile(ms, 95)), "p99_ms": float(np.percentile(ms, 99)),
            "max_ms": float(ms.max()),
        }  # fmt: skip
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--db",
        default=os.environ.get("SRMA_TEST_POSTGRES_URL"),
        help="PostgreSQL server URL (a user that may create databases)",
    )
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--think", default="1,3", help="think time range in seconds: LOW,HIGH")
    parser.add_argument("--dashboard-every", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    if not args.db or not args.db.startswith("postgresql"):
        parser.error("--db must be a postgresql:// URL (or set SRMA_TEST_POSTGRES_URL)")
    low, high = (float(x) for x in args.think.split(","))
    machine_line = machine("fastapi", "uvicorn", "SQLAlchemy", "psycopg")  # load before the run
    names = [f"Reviewer {i:02d}" for i in range(1, args.reviewers + 1)]
    url, database = database_for_run(args.db)
    folder = Path(tempfile.mkdtemp(prefix="srma-load-"))
    server = None
    try:
        n_records = make_project(folder, url, names)
        port = free_port()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)  # init and import are done
        srma = Path(sys.executable).with_name("srma")
        server = subprocess.Popen([srma, "serve", folder, "--db", url, "--port", str(port)])
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(base + "/login", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        reviewers = [Reviewer(name, seed=i) for i, name in enumerate(names)]
        lead = Reviewer("Lead", seed=-1)
        wall = asyncio.run(run_load(base, reviewers, lead, args.seconds, (low, high),
                                    args.dashboard_every))  # fmt: skip
        server.send_signal(signal.SIGINT)
        server.wait(timeout=60)
        server_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
        acknowledged = Counter((r.name, rec, d) for r in reviewers for rec, d in r.acknowledged)
        logged = logged_decisions(url, set(names))
        lost = acknowledged - logged
        duplicated = logged - acknowledged
        ok, events = chain_ok(url)
        per_record = Counter(rec for r in reviewers for rec, _ in r.acknowledged)
        result = {
            "command": " ".join(sys.argv),
            "machine": machine_line,
            "records": n_records, "reviewers": args.reviewers, "seconds": wall,
            "think_seconds": [low, high],
            "decisions_acknowledged": sum(acknowledged.values()),
            "decisions_in_log": sum(logged.values()),
            "lost": sum(lost.values()), "duplicated": sum(duplicated.values()),
            "decisions_per_second": sum(acknowledged.values()) / wall,
            "records_with_more_than_two_decisions": sum(1 for n in per_record.values() if n > 2),
            "failed_requests": [f for r in [*reviewers, lead] for f in r.failed],
            "hash_chain_ok": ok, "events_in_log": events,
            "server_cpu_seconds": server_cpu.ru_utime + server_cpu.ru_stime
            - before.ru_utime - before.ru_stime,
            "latency": latency_table([*reviewers, lead]),
        }  # fmt: skip
    finally:
        if server is not None and server.poll() is None:
            server.kill()
        shutil.rmtree(folder, ignore_errors=True)
        drop_database(args.db, database)
    print(json.dumps({k: v for k, v in result.items() if k != "latency"}, indent=2))
    print("| request | n | median ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|")
    for kind, row in result["latency"].items():
        print(f"| {kind} | {row['n']} | {row['median_ms']:.1f} | {row['p95_ms']:.1f} | "
              f"{row['p99_ms']:.1f} | {row['max_ms']:.1f} |")  # fmt: skip
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    if result["lost"] or result["duplicated"] or not ok or result["failed_requests"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
