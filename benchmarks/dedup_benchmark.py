"""Benchmark: deduplication sensitivity and specificity on labelled real exports.

The labelled sets in ``tests/fixtures/dedup/`` are the haematology, respiratory
and stroke searches of Rathbone et al. (2015, Systematic Reviews 4:6; OSF
https://osf.io/dyvnj/) as prepared and re-checked by bib-dedupe (see
``tests/fixtures/dedup/README.md``).  The Ovid PsycINFO and Zotero exports of the
shared fixtures (six papers in both) are a second, small check.  Each record is compared with
:func:`srma.review.identify.dedup.find_duplicates`; the predicted clusters are scored
against the true duplicate groups.

    .venv/bin/python benchmarks/dedup_benchmark.py [--scale] [--show-errors] [--compare]

``--compare`` also runs bib-dedupe (Wagner 2024,
https://github.com/CoLRev-Environment/bib-dedupe: prep, block, match, cluster) on the
same records and prints both tools' rows in one table, scored by the same code.
bib-dedupe is not a dependency of srma and is imported only then; install it with

    .venv/bin/pip install "bib-dedupe>=0.11"

Its ``maybe`` pairs count as its pairs left for review.

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
from collections.abc import Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import pandas as pd

from srma.review.identify.dedup import DedupResult, find_duplicates
from srma.review.identify.records import Record, read_records

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


def score_prediction(
    labelled: LabelledSet,
    clusters: Iterable[Iterable[int]],
    links: Iterable[tuple[int, int]],
    review: Iterable[tuple[int, int]],
    seconds: float = 0.0,
) -> Scores:
    """Score one tool's output, given as record indices, against the true groups.

    ``clusters`` are the groups the tool merges automatically, ``links`` every pair it
    judged a duplicate or left for review, ``review`` the pairs left for review.  Used
    for srma and for bib-dedupe alike.
    """
    truth = _pairs(labelled.groups)
    predicted = _pairs(tuple(tuple(cluster) for cluster in clusters))
    false = predicted - truth
    wrongly = {index for pair in false for index in pair}
    review_pairs = {(min(i, j), max(i, j)) for i, j in review}
    parent = list(range(len(labelled.records)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j in [*links, *predicted]:
        parent[root(i)] = root(j)
    flagged = sum(root(i) == root(j) for i, j in truth)
    return Scores(
        records=len(labelled.records),
        true_pairs=len(truth),
        found_pairs=len(predicted & truth),
        false_pairs=len(false),
        false_merges=len(wrongly),
        review_pairs=len(review_pairs),
        review_true=len(review_pairs & truth),
        flagged_pairs=flagged,
        seconds=seconds,
    )


def score(labelled: LabelledSet, result: DedupResult, seconds: float = 0.0) -> Scores:
    """Score srma's :class:`DedupResult`."""
    return score_prediction(
        labelled,
        result.clusters,
        [(p.first, p.second) for p in result.pairs],
        [(p.first, p.second) for p in result.to_review()],
        seconds,
    )


def run(name: str) -> tuple[LabelledSet, DedupResult, Scores]:
    labelled = load_labelled_set(name)
    start = time.perf_counter()
    result = find_duplicates(labelled.records)
    seconds = time.perf_counter() - start
    return labelled, result, score(labelled, result, seconds)


def bib_dedupe_frame(labelled: LabelledSet) -> pd.DataFrame:
    """The records as bib-dedupe reads them: its CSV columns, one row per Record, in order."""
    return pd.DataFrame(
        {
            "ID": [r.fields["ID"] for r in labelled.records],
            "ENTRYTYPE": [r.type for r in labelled.records],
            "title": [r.title for r in labelled.records],
            "author": [" and ".join(r.authors) for r in labelled.records],
            "year": ["" if r.year is None else str(r.year) for r in labelled.records],
            "journal": [r.journal for r in labelled.records],
            "volume": [r.volume for r in labelled.records],
            "number": [r.issue for r in labelled.records],
            "pages": [r.pages for r in labelled.records],
        }
    )


def run_bib_dedupe(name: str, cpu: int = -1) -> Scores:
    """Run bib-dedupe's prep, block, match and cluster on one labelled set and score it."""
    from bib_dedupe.bib_dedupe import block, cluster, match, prep  # only with --compare

    labelled = load_labelled_set(name)
    frame = bib_dedupe_frame(labelled)
    start = time.perf_counter()
    matched = match(
        block(prep(frame, verbosity_level=0, cpu=cpu), verbosity_level=0, cpu=cpu),
        verbosity_level=0,
        cpu=cpu,
    )
    clusters = cluster(matched, verbosity_level=0)
    seconds = time.perf_counter() - start
    index_of = {record_id: i for i, record_id in enumerate(frame["ID"])}
    pairs = [
        (index_of[a], index_of[b], label)
        for a, b, label in zip(
            matched["ID_1"], matched["ID_2"], matched["duplicate_label"], strict=True
        )
    ]
    return score_prediction(
        labelled,
        [[index_of[record_id] for record_id in group] for group in clusters],
        [(i, j) for i, j, _ in pairs],
        [(i, j) for i, j, label in pairs if label == "maybe"],
        seconds,
    )


def _row(name: str, s: Scores, tool: str | None) -> str:
    return (
        ("" if tool is None else f"| {tool} ")
        + f"| {name} | {s.records} | {s.true_pairs} | {s.found_pairs} | {s.sensitivity:.4f} "
        f"| {s.flagged_sensitivity:.4f} "
        f"| {s.false_pairs} | {s.specificity:.6f} | {s.false_merges} "
        f"| {s.review_pairs} ({s.review_true}) | {s.seconds:.2f} |"
    )


def _total_row(total: list[Scores], tool: str | None) -> str:
    true_pairs = sum(s.true_pairs for s in total)
    found = sum(s.found_pairs for s in total)
    return (
        ("" if tool is None else f"| {tool} ")
        + f"| all | {sum(s.records for s in total)} | {true_pairs} | {found} "
        f"| {found / true_pairs:.4f} | {sum(s.flagged_pairs for s in total) / true_pairs:.4f} "
        f"| {sum(s.false_pairs for s in total)} | - "
        f"| {sum(s.false_merges for s in total)} "
        f"| {sum(s.review_pairs for s in total)} ({sum(s.review_true for s in total)}) "
        f"| {sum(s.seconds for s in total):.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", nargs="*", default=list(DATASETS))
    parser.add_argument("--show-errors", action="store_true", help="print missed and false pairs")
    parser.add_argument(
        "--scale", action="store_true", help="also time all sets plus a re-cased copy of each"
    )
    parser.add_argument(
        "--compare",
        action="store_true",
        help='also run bib-dedupe on the same records (pip install "bib-dedupe>=0.11")',
    )
    parser.add_argument(
        "--cpu", type=int, default=-1, help="processes bib-dedupe may use (default: all)"
    )
    args = parser.parse_args()
    tools = ["srma", "bib-dedupe"] if args.compare else ["srma"]
    if args.compare:
        from importlib.metadata import version  # bib-dedupe only with --compare

        print(f"srma {version('srma')}, bib-dedupe {version('bib-dedupe')}\n")
    header = (
        "| data set | records | true pairs | found | sensitivity | with review | false pairs "
        "| specificity | false merges | review (true dup.) | seconds |"
    )
    print(("| tool " if args.compare else "") + header)
    print("|" + "---|" * (12 if args.compare else 11))
    totals: dict[str, list[Scores]] = {tool: [] for tool in tools}
    for name in args.datasets:
        labelled, result, s = run(name)
        totals["srma"].append(s)
        print(_row(name, s, "srma" if args.compare else None))
        if args.show_errors:
            _show_errors(labelled, result)
        if args.compare:
            s = run_bib_dedupe(name, cpu=args.cpu)
            totals["bib-dedupe"].append(s)
            print(_row(name, s, "bib-dedupe"))
    for tool in tools:
        print(_total_row(totals[tool], tool if args.compare else None))
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
