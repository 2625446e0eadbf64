"""Finding duplicate records across database exports.

Two stages, as bibliographic deduplication tools do (e.g. ASySD, Hair et al.
2023, BMC Biology 21:189; bib-dedupe): exact matches on DOI or PMID, then
fuzzy matching of normalised titles (rapidfuzz) within blocks of records
that share a publication year (or lack one), confirmed by first author,
journal, volume and pages.  Each pair gets a decision - ``duplicate``,
``review`` or ``distinct`` - with the reason, and duplicates are grouped into
clusters (connected components) that keep every source record.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from srma.review.records import Record

DUPLICATE_TITLE = 95.0
REVIEW_TITLE = 85.0


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", plain.lower())).strip()


def _surname(record: Record) -> str:
    if not record.authors:
        return ""
    first = record.authors[0]
    return normalise(first.split(",")[0] if "," in first else first.split(" ")[-1])


@dataclass(frozen=True)
class PairDecision:
    """Whether two records are the same reference, and why."""

    first: int
    second: int
    decision: str  # duplicate, review, distinct
    reason: str
    title_similarity: float


def _compare(a: Record, b: Record, i: int, j: int) -> PairDecision:
    if a.doi and b.doi and a.doi == b.doi:
        return PairDecision(i, j, "duplicate", "same DOI", 100.0)
    if a.pmid and b.pmid and a.pmid == b.pmid:
        return PairDecision(i, j, "duplicate", "same PMID", 100.0)
    title_a, title_b = normalise(a.title), normalise(b.title)
    if len(title_a) < 10 or len(title_b) < 10:
        return PairDecision(i, j, "distinct", "no title to compare", 0.0)
    similarity = fuzz.token_sort_ratio(title_a, title_b)
    if similarity < REVIEW_TITLE:
        return PairDecision(i, j, "distinct", f"titles differ ({similarity:.0f}%)", similarity)
    conflicts = []
    if a.doi and b.doi and a.doi != b.doi:
        conflicts.append("different DOIs")
    if a.year and b.year and abs(a.year - b.year) > 1:
        conflicts.append(f"years {a.year} and {b.year}")
    first_a, first_b = _surname(a), _surname(b)
    if first_a and first_b and fuzz.ratio(first_a, first_b) < 80:
        conflicts.append("different first authors")
    if a.volume and b.volume and a.volume != b.volume:
        conflicts.append("different volumes")
    if similarity >= DUPLICATE_TITLE and not conflicts:
        evidence = [f"titles {similarity:.0f}% alike"]
        if a.year and a.year == b.year:
            evidence.append("same year")
        if first_a and first_a == first_b:
            evidence.append("same first author")
        return PairDecision(i, j, "duplicate", ", ".join(evidence), similarity)
    reason = f"titles {similarity:.0f}% alike" + (
        f" but {', '.join(conflicts)}" if conflicts else ""
    )
    return PairDecision(i, j, "review", reason, similarity)


@dataclass(frozen=True)
class DedupResult:
    """Pairs compared (except clear non-matches), and clusters of duplicates."""

    pairs: tuple[PairDecision, ...]
    clusters: tuple[tuple[int, ...], ...]  # each cluster: record indices, first kept

    @property
    def duplicates_removed(self) -> int:
        return sum(len(cluster) - 1 for cluster in self.clusters)

    def to_review(self) -> tuple[PairDecision, ...]:
        return tuple(pair for pair in self.pairs if pair.decision == "review")


def find_duplicates(records: Sequence[Record]) -> DedupResult:
    """Compare records within blocks of the same year (records without a year join every block).

    Written here rather than taken from a library because the candidate
    libraries (dedupe, recordlinkage) need training data or bring heavy
    dependencies; this is the blocked pairwise comparison those tools describe.
    """
    blocks: dict[int | None, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        blocks[record.year].append(index)
    undated = blocks.pop(None, [])
    seen: set[tuple[int, int]] = set()
    pairs: list[PairDecision] = []

    def consider(i: int, j: int) -> None:
        key = (min(i, j), max(i, j))
        if i == j or key in seen:
            return
        seen.add(key)
        decision = _compare(records[key[0]], records[key[1]], *key)
        if decision.decision != "distinct":
            pairs.append(decision)

    for year, members in blocks.items():
        neighbours = members + blocks.get(year + 1, []) + undated
        for i in members:
            for j in neighbours:
                consider(i, j)
    for i in undated:
        for j in undated:
            consider(i, j)
    parent = list(range(len(records)))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        if pair.decision == "duplicate":
            a, b = root(pair.first), root(pair.second)
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(len(records)):
        groups[root(index)].append(index)
    clusters = tuple(tuple(sorted(g)) for g in groups.values() if len(g) > 1)
    return DedupResult(pairs=tuple(pairs), clusters=clusters)
