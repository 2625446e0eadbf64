"""Deduplicate 100,000 records: CPU seconds and peak memory, srma beside bib-dedupe.

The records are the three labelled Rathbone searches of ``tests/fixtures/dedup``
(4,695 real records, 680 true duplicate groups), repeated until there are
``--records`` of them.  Copy 0 is the sets as they are; every further copy ``c`` is
made a new search of new papers, while its own duplicates stay duplicates:

* every title word of four letters or more is replaced by another word of the
  sets' title vocabulary, by one permutation of that vocabulary drawn for copy
  ``c`` (words that mark errata, comments or notes, such as ``erratum`` or
  ``review``, are kept); capitals are kept;
* every author name part of three letters or more is replaced the same way, by a
  permutation of the author vocabulary;
* the first number of each page range gets the copy number in front (``123-9``
  becomes ``7123-9`` in copy 7, which still reads as ``7123-7129``).

Years, volumes, issues and journals are kept, as real searches repeat them.  The
true groups of copy ``c`` are those of the sets, moved to the copy's records; no
two copies share a true duplicate.  Records past ``--records`` are cut off, with
their part of the groups.

Each tool runs in a fresh child process that reads the records from a pickle
(srma) or a CSV (bib-dedupe), so that neither pays for the other's imports or
the building of the records.  The child reports the CPU seconds of the
deduplication alone (user + system, ``resource.getrusage``, its own and those
of processes it started) and its peak resident memory, imports and records
included: ``VmHWM`` of ``/proc/self/status``, the high-water mark of the
child's own memory (``ru_maxrss`` would carry over the parent's size, which
Linux keeps across ``exec``).  bib-dedupe runs with ``cpu=1``, one process, so
that its CPU seconds are comparable.  srma runs on ``--records``; both tools on
the first ``--subset`` of them::

    nice -n 19 .venv/bin/python benchmarks/bench_dedup_100k.py --records 100000 --subset 20000

``--no-peer`` leaves bib-dedupe out.
"""

from __future__ import annotations

import argparse
import json
import pickle
import platform
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dedup_benchmark import (
    DATASETS,
    LabelledSet,
    Scores,
    bib_dedupe_frame,
    load_labelled_set,
    score_prediction,
)
from srma.review.identify.records import Record

_WORD = re.compile(r"[A-Za-z]+")
_KEEP = re.compile(
    r"^(errat|corrig|correct|retract|comment|reply|respon|review|refs?$|reference|letter|"
    r"editorial|abstract|author|transl|publish|article|notice|english|french|german|spanish|"
    r"italian|chinese|japanese|russian|portuguese|polish|dutch|korean|turkish|czech|"
    r"hungarian|romanian|danish|swedish|norwegian|finnish|greek|hebrew|persian)"
)


def _vocabulary(texts: list[str], shortest: int) -> list[str]:
    words = {w.lower() for text in texts for w in _WORD.findall(text) if len(w) >= shortest}
    return sorted(w for w in words if not _KEEP.match(w))


def _mapper(vocabulary: list[str], copy: int, salt: int, shortest: int):
    shuffled = list(vocabulary)
    random.Random(copy * 1000 + salt).shuffle(shuffled)
    mapping = dict(zip(vocabulary, shuffled, strict=True))

    def one(match: re.Match[str]) -> str:
        word = match.group(0)
        new = mapping.get(word.lower())
        if new is None or len(word) < shortest:
            return word
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new.capitalize() if word[0].isupper() else new

    return lambda text: _WORD.sub(one, text)


def _pages(pages: str, copy: int) -> str:
    return ",".join(re.sub(r"\d+", lambda m: f"{copy}{m.group(0)}", part, count=1)
                    for part in pages.split(","))  # fmt: skip


def build(records: int) -> LabelledSet:
    """``records`` records: the labelled sets, then new copies of them (module docstring)."""
    sets = [load_labelled_set(name) for name in DATASETS]
    base = [r for s in sets for r in s.records]
    groups: list[tuple[int, ...]] = []
    offset = 0
    for s in sets:
        groups.extend(tuple(offset + i for i in group) for group in s.groups)
        offset += len(s.records)
    titles = _vocabulary([r.title for r in base], 4)
    names = _vocabulary([a for r in base for a in r.authors], 3)
    out: list[Record] = []
    all_groups: list[tuple[int, ...]] = []
    copy = 0
    while len(out) < records:
        start = len(out)
        if copy == 0:
            out.extend(replace(r, fields={"ID": str(n)}) for n, r in enumerate(base))
        else:
            title = _mapper(titles, copy, 1, 4)
            author = _mapper(names, copy, 2, 3)
            out.extend(
                replace(
                    r,
                    title=title(r.title),
                    authors=tuple(author(a) for a in r.authors),
                    pages=_pages(r.pages, copy),
                    fields={"ID": str(start + n)},
                )
                for n, r in enumerate(base)
            )
        all_groups.extend(tuple(start + i for i in group) for group in groups)
        copy += 1
    del out[records:]
    kept = (tuple(i for i in g if i < records) for g in all_groups)
    return LabelledSet(f"{records} records", tuple(out), tuple(g for g in kept if len(g) > 1))


_SRMA_CHILD = """
import pickle, resource, sys, json
records = pickle.load(open(sys.argv[1], "rb"))
from srma.review.identify.dedup import find_duplicates
def peak_kib():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
before_rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
start = cpu()
result = find_duplicates(records)
seconds = cpu() - start
json.dump({
    "cpu": seconds, "peak_kib": peak_kib(),
    "rss_before": before_rss, "candidates": result.candidates,
    "clusters": [list(c) for c in result.clusters],
    "pairs": [[p.first, p.second, p.decision] for p in result.pairs],
}, open(sys.argv[2], "w"))
"""

_BIB_CHILD = """
import resource, sys, json
import pandas as pd
from bib_dedupe.bib_dedupe import block, cluster, match, prep
frame = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
def peak_kib():
    status = open("/proc/self/status").read()
    return int(status.split("VmHWM:")[1].split()[0])
def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
before_rss = int(open("/proc/self/statm").read().split()[1]) * resource.getpagesize()
start = cpu()
matched = match(block(prep(frame, verbosity_level=0, cpu=1), verbosity_level=0, cpu=1),
                verbosity_level=0, cpu=1)
groups = cluster(matched, verbosity_level=0)
seconds = cpu() - start
index = {record_id: i for i, record_id in enumerate(frame["ID"])}
json.dump({
    "cpu": seconds, "peak_kib": peak_kib(),
    "rss_before": before_rss, "candidates": None,
    "clusters": [[index[i] for i in g] for g in groups],
    "pairs": [[index[a], index[b], label] for a, b, label in
              zip(matched["ID_1"], matched["ID_2"], matched["duplicate_label"])],
}, open(sys.argv[2], "w"))
"""


def _child(script: str, data: Path, folder: Path) -> dict:
    out = folder / "result.json"
    subprocess.run([sys.executable, "-c", script, str(data), str(out)], check=True)
    return json.loads(out.read_text())


def run_srma(labelled: LabelledSet, folder: Path) -> dict:
    data = folder / "records.pickle"
    data.write_bytes(pickle.dumps(list(labelled.records), protocol=pickle.HIGHEST_PROTOCOL))
    return _child(_SRMA_CHILD, data, folder)


def run_bib_dedupe(labelled: LabelledSet, folder: Path) -> dict:
    data = folder / "records.csv"
    bib_dedupe_frame(labelled).to_csv(data, index=False)
    return _child(_BIB_CHILD, data, folder)


def scores(labelled: LabelledSet, out: dict, review_label: str) -> Scores:
    return score_prediction(
        labelled,
        out["clusters"],
        [(i, j) for i, j, _ in out["pairs"]],
        [(i, j) for i, j, label in out["pairs"] if label == review_label],
        out["cpu"],
    )


def _row(tool: str, labelled: LabelledSet, out: dict, s: Scores) -> str:
    return (
        f"| {tool} | {len(labelled.records):,} | {out['cpu']:.1f} | {out['peak_kib'] / 1024:.0f} "
        f"| {out['rss_before'] / 2**20:.0f} | {s.true_pairs:,} | {s.sensitivity:.4f} "
        f"| {s.flagged_sensitivity:.4f} | {s.false_pairs} | {s.false_merges} "
        f"| {s.review_pairs:,} ({s.review_true:,}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--subset", type=int, default=20_000, help="records for both tools")
    parser.add_argument("--no-peer", action="store_true", help="leave bib-dedupe out")
    parser.add_argument("--save", type=Path, help="write srma's clusters and pairs here (JSON)")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {platform.machine()}, {platform.processor()}")
    print(
        "\n| tool | records | CPU s | peak RSS MiB | RSS before MiB | true pairs | sensitivity "
        "| with review | false pairs | false merges | review (true dup.) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        labelled = build(args.records)
        out = run_srma(labelled, folder)
        print(_row("srma", labelled, out, scores(labelled, out, "review")), flush=True)
        if args.save:
            args.save.write_text(json.dumps({"clusters": out["clusters"], "pairs": out["pairs"]}))
        if args.subset:
            subset = build(args.subset)
            if args.subset != args.records:
                small = run_srma(subset, folder)
                print(_row("srma", subset, small, scores(subset, small, "review")), flush=True)
        if args.subset and not args.no_peer:
            peer = run_bib_dedupe(subset, folder)
            print(_row("bib-dedupe", subset, peer, scores(subset, peer, "maybe")), flush=True)
    print(f"\nsrma candidate pairs at {args.records:,}: {out['candidates']:,}")


if __name__ == "__main__":
    main()
