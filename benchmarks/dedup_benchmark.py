"""Benchmark: deduplication sensitivity and specificity on labelled real exports.

The labelled sets in ``tests/fixtures/dedup/`` are the haematology, respiratory
and stroke searches of Rathbone et al. (2015, Systematic Reviews 4:6; OSF
https://osf.io/dyvnj/) as prepared and re-checked by bib-dedupe (see
``tests/fixtures/dedup/README.md``).  The Ovid PsycINFO and Zotero exports of the
shared fixtures (six papers in both) are a second, small check.  Each record is compared with
:func:`srma.review.dedup.find_duplicates`; the predicted clusters are scored
against the true duplicate groups.

    .venv/bin/python benchmarks/dedup_benchmark.py [--scale] [--show-errors]

Pairs are scored after transitive closure: every two records in the same
predicted cluster count as one predicted duplicate pair, and every two records
in the same true group as one true pair.  Sensitivity = true pairs found / true
pairs; specificity = 1 - false pairs / all non-duplicate pairs; a *false merge*
is a record put into a cluster with a record that is not its duplicate.
"""

from __future__ import annotations

import argparse
import gzip
import time
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import pandas as pd

from srma.review.dedup import DedupResult, find_duplicates
from srma.review.records import Record, read_records

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "dedup"
DATASETS = ("haematology", "respiratory", "stroke")
EXPORTS = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "exports"


@dataclass(frozen=True)
class LabelledSet:
    """Records of one search, with the true duplicate groups (record indices)."""

    name: str
    records: tuple[Record, ...]
    groups: tuple[tuple[int, ...], ...]


def _text(value: object) -> str:
    return "" if value is None or pd.isna(value) else str(value).strip()


def load_labelled_set(name: str, folder: Path = FIXTURES) -> LabelledSet:
    """Read ``<name>_records.csv.gz`` and ``<name>_true_groups.csv.gz`` into Records."""
    with gzip.open(folder / f"{name}_records.csv.gz", "rt", encoding="utf-8") as handle:
        frame = pd.read_csv(handle, dtype=str, keep_default_na=False)
    with gzip.open(folder / f"{name}_true_groups.csv.gz", "rt", encoding="utf-8") as handle:
        truth = pd.read_csv(handle, dtype=str, keep_default_na=False)
    records: list[Record] = []
    index_of: dict[str, int] = {}
    for row_number, row in enumerate(frame.to_dict(orient="records")):
        year = _text(row.get("year"))
        authors = tuple(a.strip() for a in _text(row.get("author")).split(" and ") if a.strip())
        index_of[_text(row["ID"])] = len(records)
        records.append(
            Record(
                title=_text(row.get("title")),
                abstract="",
                authors=authors,
                year=int(float(year)) if year else None,
                journal=_text(row.get("journal")),
                volume=_text(row.get("volume")),
                issue=_text(row.get("number")),
                pages=_text(row.get("pages")),
                doi=_text(row.get("doi")),
                pmid="",
                keywords=(),
                type=_text(row.get("ENTRYTYPE")),
                source_file=f"{name}_records.csv.gz",
                source_line=row_number + 2,
                fields={"ID": _text(row["ID"])},
            )
        )
    groups = tuple(
        tuple(sorted(index_of[i] for i in ids.split(";")))
        for ids in truth["merged_ids"]
        if ";" in ids
    )
    return LabelledSet(name, tuple(records), groups)


@dataclass(frozen=True)
class Scores:
    """How the predicted clusters agree with the true groups."""

    records: int
    true_pairs: int
    found_pairs: int
    false_pairs: int
    false_merges: int  # records placed in a cluster with a record that is not their duplicate
    review_pairs: int
    review_true: int  # review pairs that are true duplicates
    flagged_pairs: int  # true pairs joined by duplicate or review pairs (closure)
    seconds: float

    @property
    def sensitivity(self) -> float:
        return self.found_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def flagged_sensitivity(self) -> float:
        """True pairs found, or linked through pairs left for review."""
        return self.flagged_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def specificity(self) -> float:
        negatives = self.records * (self.records - 1) // 2 - self.true_pairs
        return 1.0 - self.false_pairs / negatives if negatives else 1.0


def _pairs(groups: tuple[tuple[int, ...], ...]) -> set[tuple[int, int]]:
    return {pair for group in groups for pair in combinations(sorted(group), 2)}


def score(labelled: LabelledSet, result: DedupResult, seconds: float = 0.0) -> Scores:
    truth = _pairs(labelled.groups)
    predicted = _pairs(result.clusters)
    false = predicted - truth
    wrongly = {index for pair in false for index in pair}
    review = result.to_review()
    parent = list(range(len(labelled.records)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in result.pairs:
        parent[root(pair.first)] = root(pair.second)
    flagged = sum(root(i) == root(j) for i, j in truth)
    return Scores(
        records=len(labelled.records),
        true_pairs=len(truth),
        found_pairs=len(predicted & truth),
        false_pairs=len(false),
        false_merges=len(wrongly),
        review_pairs=len(review),
        review_true=sum((p.first, p.second) in truth for p in review),
        flagged_pairs=flagged,
        seconds=seconds,
    )


def run(name: str) -> tuple[LabelledSet, DedupResult, Scores]:
    labelled = load_labelled_set(name)
    start = time.perf_counter()
    result = find_duplicates(labelled.records)
    seconds = time.perf_counter() - start
    return labelled, result, score(labelled, result, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--show-errors", action="store_true", help="print missed and false pairs")
    parser.add_argument(
        "--scale", action="store_true", help="also time all sets plus a re-cased copy of each"
    )
    args = parser.parse_args()
    header = (
        "| data set | records | true pairs | found | sensitivity | with review | false pairs "
        "| specificity | false merges | review (true dup.) | seconds |"
    )
    print(header)
    print("|" + "---|" * 11)
    total = []
    for name in args.datasets:
        labelled, result, s = run(name)
        total.append(s)
        print(
            f"| {name} | {s.records} | {s.true_pairs} | {s.found_pairs} | {s.sensitivity:.4f} "
            f"| {s.flagged_sensitivity:.4f} "
            f"| {s.false_pairs} | {s.specificity:.6f} | {s.false_merges} "
            f"| {s.review_pairs} ({s.review_true}) | {s.seconds:.2f} |"
        )
        if args.show_errors:
            _show_errors(labelled, result)
    true_pairs = sum(s.true_pairs for s in total)
    found = sum(s.found_pairs for s in total)
    print(
        f"| all | {sum(s.records for s in total)} | {true_pairs} | {found} "
        f"| {found / true_pairs:.4f} | {sum(s.flagged_pairs for s in total) / true_pairs:.4f} "
        f"| {sum(s.false_pairs for s in total)} | - "
        f"| {sum(s.false_merges for s in total)} "
        f"| {sum(s.review_pairs for s in total)} ({sum(s.review_true for s in total)}) "
        f"| {sum(s.seconds for s in total):.2f} |"
    )
    psycinfo = read_records(EXPORTS / "ovid_psycinfo.ris").records
    zotero = read_records(EXPORTS / "ovid_zotero.ris").records
    for label, records in (
        ("with DOIs", psycinfo + zotero),
        ("DOIs and PMIDs removed", tuple(replace(r, doi="", pmid="") for r in psycinfo + zotero)),
    ):
        result = find_duplicates(records)
        right = result.clusters == tuple((i, i + len(psycinfo)) for i in range(len(psycinfo)))
        print(
            f"\nOvid PsycINFO + Zotero ({len(psycinfo)} + {len(zotero)} records, {label}): "
            f"{len(result.clusters)} clusters, {'all' if right else 'NOT all'} the true pairs, "
            f"{len(result.to_review())} to review"
        )
    if args.scale:
        records = [r for name in DATASETS for r in load_labelled_set(name).records]
        copies = [replace(r, title=r.title.upper().replace(" ", "  ") + ".") for r in records]
        start = time.perf_counter()
        result = find_duplicates(records + copies)
        seconds = time.perf_counter() - start
        print(
            f"\n{len(records) + len(copies)} records (each set plus an upper-cased copy): "
            f"{seconds:.2f} s, {result.candidates} candidate pairs, "
            f"{len(result.clusters)} clusters, {result.duplicates_removed} removed"
        )


def _show_errors(labelled: LabelledSet, result: DedupResult) -> None:
    truth = _pairs(labelled.groups)
    predicted = _pairs(result.clusters)
    decisions = {(p.first, p.second): p for p in result.pairs}

    def line(i: int) -> str:
        r = labelled.records[i]
        first = r.authors[0] if r.authors else ""
        where = f"{r.year} | {r.journal[:30]} {r.volume} {r.pages}"
        return f"    {i}: {r.title[:90]!r} | {first} | {where}"

    for label, pairs in (("MISSED", truth - predicted), ("FALSE", predicted - truth)):
        for i, j in sorted(pairs):
            pair = decisions.get((i, j))
            print(f"  {label} {i}-{j}: {pair.decision + ' ' + pair.reason if pair else '-'}")
            print(line(i))
            print(line(j))


if __name__ == "__main__":
    main()
