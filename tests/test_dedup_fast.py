"""The fast deduplication path gives exactly what the plain, pair-by-pair one gives.

``find_duplicates`` normalises each distinct value once, scores titles in batches
(rapidfuzz ``cpdist``), codes candidate pairs as integers and skips the full
comparison of pairs that cannot be duplicates.  Here a straightforward
reference - the record-by-record, pair-by-pair code the speed-ups replaced -
is run on random record sets made to hold near-duplicates, and both must agree
on every pair, reason, similarity and cluster.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED
from srma.review.identify.dedup import (
    MAX_BLOCK,
    WINDOW,
    DedupResult,
    _blocking_keys,
    _cluster,
    _compare_prepared,
    _Prepared,
    _title_similarities,
    _title_similarity,
    find_duplicates,
    normalise,
)
from srma.review.identify.importing import import_files
from srma.review.identify.merging import dedup_records, stored_records
from srma.review.identify.records import Record
from srma.review.project import init_project

WORDS = (
    "effect", "aspirin", "stroke", "prevention", "randomised", "randomized", "trial",
    "patients", "with", "acute", "ischaemic", "ischemic", "heart", "failure", "the", "of",
    "and", "in", "a", "Erratum", "Correction:", "Comment", "on", "Reply", "[Review]",
    "[Spanish]", "<i>in", "vivo</i>", "caf\xe9", "na\xefve", "\xc5ngstr\xf6m", "&amp;",
    "meta-analysis", "outcomes", "children", "adults", "versus", "placebo",
)  # fmt: skip
AUTHORS = ("Smith, J", "Smith, John", "J. Smith", "M\u00fcller, K", "Muller, K.", "Li, X", "")
JOURNALS = ("N Engl J Med", "New England Journal of Medicine", "Lancet", "The Lancet", "BMJ", "")
PAGES = ("123-9", "123-129", "S33", "e1234", "233-8, 230-5", "01-Jun", "", "12")


@st.composite
def record_sets(draw: st.DrawFn) -> list[Record]:
    """Records drawn from small pools, many of them variants of each other."""
    base = draw(st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=14), min_size=1))
    records = []
    for _ in range(draw(st.integers(1, 40))):
        words = list(draw(st.sampled_from(base)))
        variant = draw(st.sampled_from(("same", "upper", "cut", "drop", "swap")))
        if variant == "upper":
            words = [w.upper() for w in words]
        elif variant == "cut":
            words = words[: max(1, len(words) * 2 // 3)]
        elif variant == "drop" and len(words) > 2:
            del words[draw(st.integers(0, len(words) - 1))]
        elif variant == "swap" and len(words) > 2:
            words[0], words[-1] = words[-1], words[0]
        authors = draw(st.lists(st.sampled_from(AUTHORS), max_size=3))
        records.append(
            Record(
                title=" ".join(words),
                abstract="",
                authors=tuple(a for a in authors if a),
                year=draw(st.sampled_from((2019, 2020, 2021, 2023, None))),
                journal=draw(st.sampled_from(JOURNALS)),
                volume=draw(st.sampled_from(("12", "012", "13", "", "12(3)"))),
                issue="",
                pages=draw(st.sampled_from(PAGES)),
                doi=draw(st.sampled_from(("", "", "10.1000/abc", "doi:10.1000/ABC", "10.1/x"))),
                pmid=draw(st.sampled_from(("", "", "", "123", "0123"))),
                keywords=(),
                type="",
                source_file="random",
                source_line=len(records) + 1,
            )
        )
    return records


def reference_candidates(prepared: Sequence[_Prepared]) -> list[tuple[int, int]]:
    """Candidate pairs as tuples in a set, as the code before the integer coding made them."""
    blocks: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for index, p in enumerate(prepared):
        for key in _blocking_keys(p):
            blocks[key].append(index)
    pairs: set[tuple[int, int]] = set()
    for members in blocks.values():
        if len(members) < 2:
            continue
        if len(members) <= MAX_BLOCK:
            pairs.update((a, b) for n, a in enumerate(members) for b in members[n + 1 :] if a != b)
        else:
            ordered = sorted(members, key=lambda k: prepared[k].title)
            for n, a in enumerate(ordered):
                for b in ordered[n + 1 : n + 1 + WINDOW]:
                    if a != b:
                        pairs.add((min(a, b), max(a, b)))
    ordered = sorted(range(len(prepared)), key=lambda k: prepared[k].title)
    for n, a in enumerate(ordered):
        for b in ordered[n + 1 : n + 1 + 3]:
            pairs.add((min(a, b), max(a, b)))
    return sorted(pairs)


def reference_find_duplicates(records: Sequence[Record]) -> DedupResult:
    """Each record prepared on its own, every candidate pair compared in full, one by one."""
    prepared = [_Prepared.of(record) for record in records]
    candidates = reference_candidates(prepared)
    decisions = [_compare_prepared(prepared[i], prepared[j], i, j) for i, j in candidates]
    pairs, clusters = _cluster(len(records), [d for d in decisions if d.decision != "distinct"])
    return DedupResult(pairs=tuple(pairs), clusters=clusters, candidates=len(candidates))


@settings(max_examples=150, deadline=None)
@given(record_sets())
def test_the_fast_path_equals_the_pair_by_pair_reference(records: list[Record]) -> None:
    fast, reference = find_duplicates(records), reference_find_duplicates(records)
    assert fast == reference
    assert fast.candidates == reference.candidates


def test_large_blocks_are_windowed_the_same_way() -> None:
    """More than MAX_BLOCK records with one first author and year: the windowed branch."""
    records = [
        Record(
            title=f"Aspirin for stroke prevention trial number {n % 37} of {n % 11}",
            abstract="", authors=("Smith, J",), year=2020, journal="Lancet", volume=str(n % 5),
            issue="", pages=f"{n % 7}-9", doi="", pmid="", keywords=(), type="",
            source_file="large", source_line=n,
        )
        for n in range(3 * MAX_BLOCK)
    ]  # fmt: skip
    fast, reference = find_duplicates(records), reference_find_duplicates(records)
    assert fast.candidates > 3 * MAX_BLOCK and fast == reference


def _reference_normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", plain.lower())).strip()


@given(st.text() | st.text(st.characters(max_codepoint=127)))
def test_normalise_equals_its_unicode_definition(text: str) -> None:
    assert normalise(text) == _reference_normalise(text)


TITLES = st.lists(st.sampled_from(WORDS), max_size=16).map(" ".join) | st.text(max_size=80)


@given(st.lists(st.tuples(TITLES, TITLES), max_size=20))
def test_batched_title_similarity_equals_one_pair_at_a_time(pairs: list[tuple[str, str]]) -> None:
    """Each pair, and the first title cut off inside the two joined (a cut-off title)."""
    titles = [title for pair in pairs for title in pair]
    titles += [(a + " " + b)[: len(a) + 20] for a, b in pairs] + [a + " " + b for a, b in pairs]
    prepared = [_Prepared.of(_titled(title)) for title in titles]
    half = len(titles) // 2
    first = [2 * k for k in range(len(pairs))] + list(range(half, half + len(pairs)))
    second = [2 * k + 1 for k in range(len(pairs))] + list(range(half + len(pairs), len(titles)))
    expected = [
        _title_similarity(prepared[i], prepared[j]) for i, j in zip(first, second, strict=True)
    ]
    assert _title_similarities(prepared, first, second) == expected


def _titled(title: str) -> Record:
    return Record(title, "", (), None, "", "", "", "", "", "", (), "", "t", 1)


def test_only_the_columns_dedup_reads_give_the_same_result(
    tmp_path: Path, database_url: str
) -> None:
    project = init_project(tmp_path / "review", title="Dedup columns", url=database_url)
    exports = SHARED / "fixtures" / "exports"
    import_files(project, [exports / "ovid_psycinfo.ris", exports / "ovid_zotero.ris"])
    import_files(project, [exports / "embase.ris", exports / "pubmed_zotero.ris"])
    with project.store.transaction() as session:
        ids, full = stored_records(session)
        light_ids, light = dedup_records(session)
    project.close()
    assert light_ids == ids and len(ids) == 24
    assert find_duplicates(light) == find_duplicates(full)
    assert find_duplicates(light).clusters  # the exports hold duplicates
