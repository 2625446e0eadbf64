"""A fuzz campaign against the import: N mutated real exports, each read in a worker process.

Each case takes one real export and one mutation (tests/fuzz/mutations.py),
writes the mutant, and reads it with ``read_records`` in a worker process
that is killed if it takes longer than ``--timeout`` seconds.  Each case is
classified as *correct* (every record outside the damage came back as it
was), *clear error* (an ``InputError`` naming the file), *silent loss*,
*lost, reported*, *traceback*, *hang*, *wrong count* or *mojibake*, and a
Markdown table of the categories by mutation is printed.  Cases that are
neither correct nor a clear error are listed, and their files are kept in
``--keep`` so that they can become regression fixtures.

    PYTHONPATH=src .venv/bin/python tests/fuzz/import_campaign.py --cases 2000 --seed 1

A case is reproduced by ``--seed S --only I`` (case I of seed S).  One case
in ``--huge-every`` (default 250) is instead an export replicated to
100,000 records, to catch a reader that is not linear.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import shutil
import sys
import tempfile
import time
from collections import Counter, defaultdict
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mutations import MUTATIONS, Mutant, long_line, originals, replicate, run

GOOD = ("correct", "clear error")
CATEGORIES = (
    "correct", "clear error", "lost, reported", "silent loss", "wrong count", "mojibake",
    "traceback", "hang",
)  # fmt: skip


def make_case(seed: int, index: int, huge_every: int) -> tuple[int, Mutant, str]:
    """Case ``index`` of campaign ``seed``: the original's index, the mutant, the mutation."""
    rng = random.Random(f"{seed}:{index}")
    corpus = originals()
    which = rng.randrange(len(corpus))
    original = corpus[which]
    if huge_every and index % huge_every == huge_every - 1:
        return which, replicate(original, rng), "100,000 records"
    mutation = rng.choice(MUTATIONS)
    if mutation is long_line:
        return which, long_line(original, rng, size=1_000_000), "very long line"
    mutant = mutation(original, rng)
    kind = mutant.kind.split(" as ")[0]
    return which, mutant, kind + (", bytes flipped" if mutant.kind.endswith("flipped") else "")


def _worker(connection: Connection, folder: str) -> None:
    corpus = originals()
    while True:
        job = connection.recv()
        if job is None:
            return
        which, mutant = job
        path = Path(folder) / f"case{corpus[which].path.suffix}"
        connection.send(run(corpus[which], mutant, path))


class Worker:
    """A process that reads mutants; killed and replaced when a case hangs."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.start()

    def start(self) -> None:
        self.connection, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_worker, args=(child, self.folder))
        self.process.start()

    def read(self, which: int, mutant: Mutant, timeout: float) -> tuple[str, str, float]:
        started = time.perf_counter()
        self.connection.send((which, mutant))
        if self.connection.poll(timeout):
            try:
                category, detail = self.connection.recv()
            except EOFError:  # the worker died (killed for memory, or crashed)
                self.process.join()
                code = self.process.exitcode
                self.start()
                return "traceback", f"the worker died (exit code {code})", timeout
            return category, detail, time.perf_counter() - started
        self.process.kill()
        self.process.join()
        self.start()
        return "hang", f"no answer within {timeout:g} s", timeout

    def stop(self) -> None:
        self.connection.send(None)
        self.process.join(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per case")
    parser.add_argument("--huge-every", type=int, default=250)
    parser.add_argument("--only", type=int, default=None, help="run only case ONLY")
    parser.add_argument("--keep", type=Path, default=None, help="folder for failing mutants")
    args = parser.parse_args()
    indexes = [args.only] if args.only is not None else list(range(args.cases))
    table: dict[str, Counter[str]] = defaultdict(Counter)
    failures = []
    slowest = (0.0, "")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        worker = Worker(folder)
        for index in indexes:
            which, mutant, mutation = make_case(args.seed, index, args.huge_every)
            category, detail, seconds = worker.read(which, mutant, args.timeout)
            name = originals()[which].path.name
            table[mutation][category] += 1
            slowest = max(slowest, (seconds, f"case {index} ({name}, {mutation})"))
            if category not in GOOD:
                failures.append((index, name, mutation, category, detail))
                if args.keep is not None and len(mutant.data) < 10_000_000:  # big: by --only
                    args.keep.mkdir(parents=True, exist_ok=True)
                    target = args.keep / f"seed{args.seed}_case{index}_{name}"
                    target.write_bytes(mutant.data)
        worker.stop()
    shutil.rmtree(folder, ignore_errors=True)
    total = Counter()
    for counts in table.values():
        total.update(counts)
    print(f"{len(indexes):,} cases, seed {args.seed}, timeout {args.timeout:g} s, "
          f"{time.perf_counter() - started:,.0f} s in all; slowest {slowest[0]:.1f} s: "
          f"{slowest[1]}\n")  # fmt: skip
    print("| mutation | cases | " + " | ".join(CATEGORIES) + " |")
    print("|---|---:|" + "---:|" * len(CATEGORIES))
    for mutation in sorted(table):
        counts = table[mutation]
        cells = " | ".join(str(counts[c]) for c in CATEGORIES)
        print(f"| {mutation} | {sum(counts.values())} | {cells} |")
    print(
        f"| **all** | {sum(total.values())} | "
        + " | ".join(str(total[c]) for c in CATEGORIES)
        + " |"
    )
    for index, name, mutation, category, detail in failures:
        print(f"- case {index}: {name}, {mutation}: {category}: {detail}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
