"""Finding duplicate records across database exports.

Stages, as bibliographic deduplication tools do (ASySD, Hair et al. 2023,
BMC Biology 21:189; bib-dedupe, Wagner 2024):

1. **Normalise** every distinct value once per run: DOIs (``https://doi.org/``, ``doi:``, case),
   titles (HTML and LaTeX markup, bracketed language or review notes such as
   ``[Spanish]`` or ``[Review] [16 refs]``, brackets around translated titles,
   accents, punctuation, case), the first author's name parts, page ranges
   (``123-9`` is ``123-129``), volumes and journal names (abbreviations such as
   ``N Engl J Med`` agree with ``New England Journal of Medicine``).
2. **Block**: only records that share a key are compared - the DOI, the PMID,
   the first or last three title words, the year and first page, or the first
   author and year.  Large blocks are compared within a sliding window of the
   records sorted by title, so 100,000 records take seconds, not hours.
3. **Compare** each candidate pair: the same DOI or PMID is a duplicate;
   otherwise titles are compared with rapidfuzz (all pairs in one batch) and
   confirmed or contradicted by year, first author, volume, first page, journal
   and DOI.  Each pair gets a decision - ``duplicate``, ``review`` or
   ``distinct`` - with the reason; a pair that cannot be more than distinct is
   told by its cheapest tests and not compared further.
4. **Cluster**: duplicates are joined into clusters (connected components,
   strongest pairs first) that keep every source record; two records whose
   pair needs review are never put into one cluster, whatever pairs link them.

The thresholds and their measured effect are in ``docs/deduplication.md``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from rapidfuzz import fuzz
from rapidfuzz.process import cpdist

from srma.review.identify.records import Record

DUPLICATE_TITLE = 95.0  # this alike, no conflict, two fields agree (author, pages or volume)
REVIEW_TITLE = 85.0  # this alike: review, unless two fields (three if >= 95%) disagree
CONFIRMED_TITLE = 85.0  # this alike, with first author, year and first page all agreeing
BIBLIOGRAPHIC_TITLE = 50.0  # this alike, with author, year, volume and page range agreeing
MAX_BLOCK = 60  # blocks larger than this are compared within a sliding window
WINDOW = 12

_TAGS = re.compile(r"<[^>]{0,200}>")
_LATEX = re.compile(r"\\[a-zA-Z]+\s*|[{}$]")
_BRACKET = re.compile(r"\[[^\[\]]*\]")
_NOTE = re.compile(
    r"\b(review|refs?|references|english|french|german|spanish|italian|chinese|japanese|"
    r"russian|portuguese|polish|dutch|korean|turkish|czech|hungarian|romanian|danish|"
    r"swedish|norwegian|finnish|greek|hebrew|persian|abstract|erratum|comment|letter|"
    r"see comments?|author transl|published erratum|editorial|article in|with \d+)\b"
)
_ERRATUM = re.compile(r"(erratum|errata|corrigendum|published erratum|notice of retraction)\b")
# "Correction of scoliosis" is an article; "Correction: ..." and "Correction to ..." are not
_CORRECTION = re.compile(r"\W*(correction|retraction|retracted)\s*(:|-|to\b|notice\b|$)")
_CORRECTION_NOTE = re.compile(
    r"\(\W*vol\W*\d+[^()]*\bpg\b"  # Web of Science: "(vol 360, pg 542, 2009)"
    r"|\(\s*[a-z][^()]*\(\d{4}\)\s*\d+"  # Embase: "(New England Journal (2009) 360"
)
_COMMENT = re.compile(r"(comments? on|reply|in reply|response to|authors? reply)\b")
_DOI_URL = re.compile(r"^(https?://)?(dx\.)?doi\.org/")
_DOI_PREFIX = re.compile(r"^doi:\s*")
_DOI = re.compile(r"10\.\d{4,9}/\S+")
_WHOLE_BRACKET = re.compile(r"\[([^\[\]]+)\]\.?(.*)")
_SPACES = re.compile(r"\s+")
_RE_COLON = re.compile(r"\W*re\s*:")
_PAGE_END = re.compile(r"[,;+\[]")
_PAGE_PARTS = re.compile(r"[,;+]")
_THREE_LETTERS = re.compile(r"[a-z]{3}")
_DASHES = re.compile(r"\s*-+\s*")
_PP = re.compile(r"^pp?\.?\s*")
_LETTERS_FIRST = re.compile(r"^[a-z]+")
_DIGITS = re.compile(r"\d+")
_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
_STOP = frozenset({"of", "the", "and", "for", "in", "on", "a", "an", "to", "de", "la", "&"})


def normalise(text: str) -> str:
    """Lower case, accents removed, punctuation to spaces, spaces collapsed.

    Each run of other characters becomes one space, so no two spaces are left to
    collapse; ASCII text has no accents to decompose and skips that step.
    """
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALPHANUMERIC.sub(" ", text.lower()).strip()


def normalise_doi(doi: str) -> str:
    """``https://doi.org/10.1/AB.`` and ``doi:10.1/ab`` are both ``10.1/ab``."""
    text = doi.strip().lower()
    text = _DOI_PREFIX.sub("", _DOI_URL.sub("", text))
    match = _DOI.search(text)
    return match.group(0).rstrip(".,;") if match else ""


def _strip_markup(title: str) -> str:
    text = html.unescape(title)
    text = _TAGS.sub(" ", text)
    return _LATEX.sub("", text)


def normalise_title(title: str) -> str:
    """A title without markup, bracketed notes ([Spanish], [Review]) or brackets round it."""
    return _normalise_stripped(_strip_markup(title))


def _normalise_stripped(stripped: str) -> str:
    text = stripped.strip()
    whole = _WHOLE_BRACKET.fullmatch(text)
    if whole:  # "[Translated title]. [Spanish]": keep the translation
        text = whole.group(1) + " " + whole.group(2)

    def note(match: re.Match[str]) -> str:
        inner = normalise(match.group(0))
        dropped = not inner or _NOTE.search(inner) or len(inner.split()) <= 3
        return " " if dropped else match.group(0)

    text = _BRACKET.sub(note, text)
    return normalise(text)


def _kind(title: str) -> str:
    """``erratum``, ``comment`` or ``article``, from how the title starts or what it carries."""
    return _kind_stripped(_strip_markup(title))


def _kind_stripped(stripped: str) -> str:
    raw = _SPACES.sub(" ", _BRACKET.sub(" ", stripped)).strip().lower()
    plain = normalise(raw)
    if _ERRATUM.match(plain) or _CORRECTION.match(raw) or _CORRECTION_NOTE.search(raw):
        return "erratum"
    if _COMMENT.match(plain) or _RE_COLON.match(raw):
        return "comment"
    return "article"


def _name_parts(author: str) -> frozenset[str]:
    """Name parts of one author long enough to be a surname (not initials)."""
    return frozenset(part for part in normalise(author).split() if len(part) > 2)


def _surname(first: str) -> str:
    return normalise(first.split(",")[0] if "," in first else first.split(" ")[-1])


def normalise_pages(pages: str) -> tuple[str, str]:
    """First and last page; ``123-9`` is ``("123", "129")``, ``S33``, ``e1234`` keep letters.

    Dates that spreadsheets made of page ranges (``01-Jun``) give no pages.
    """
    text = pages.strip().lower().replace("\u2013", "-").replace("\u2014", "-")
    text = _PAGE_END.split(text, maxsplit=1)[0]
    if _THREE_LETTERS.search(text):
        return "", ""
    parts = [_PP.sub("", p.strip()) for p in _DASHES.split(text)]
    parts = [p for p in parts if p]
    if not parts:
        return "", ""
    first = parts[0]
    last = parts[-1] if len(parts) > 1 else first
    if first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return first.lstrip("0") or first, last.lstrip("0") or last


def _start_pages(pages: str) -> frozenset[str]:
    """Every first page, digits only: ``"233-8, 230-5"`` and ``S233`` give ``233`` ..."""
    starts = set()
    for part in _PAGE_PARTS.split(pages.lower()):
        first, _ = normalise_pages(part)
        digits = _LETTERS_FIRST.sub("", first)
        if digits.isdigit():
            starts.add(digits.lstrip("0") or "0")
    return frozenset(starts)


def _numbers(text: str) -> frozenset[str]:
    return frozenset(n.lstrip("0") or "0" for n in _DIGITS.findall(text))


def _journal_tokens(journal: str) -> tuple[str, ...]:
    return tuple(t for t in normalise(journal).split() if t not in _STOP)


def journals_match(a: str, b: str) -> bool:
    """Same journal, allowing abbreviations (``N Engl J Med``) and cut-off names."""
    return _tokens_match(_journal_tokens(a), _journal_tokens(b))


def _tokens_match(ta: tuple[str, ...], tb: tuple[str, ...]) -> bool:
    """:func:`journals_match` of two journals' words (without stop words)."""
    if not ta or not tb:
        return False
    if ta == tb or fuzz.ratio(" ".join(ta), " ".join(tb)) >= 90:
        return True
    short, long = sorted((ta, tb), key=len)
    if len(short) > len(long) or len(short) < min(2, len(long)):
        return False
    # every word of one is the start of the next words of the other, in order
    position = 0
    for word in short:
        while position < len(long) and not (
            long[position].startswith(word) or word.startswith(long[position])
        ):
            position += 1
        if position == len(long):
            return False
        position += 1
    return True


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The normalised fields of one record, computed once."""

    title: str
    words: tuple[str, ...]
    sorted_title: str  # the title's words in order, as fuzz.token_sort_ratio sorts them
    kind: str
    doi: str
    pmid: str
    year: int | None
    surname: str
    author_parts: frozenset[str]
    volume: frozenset[str]
    first_page: str
    last_page: str
    start_pages: frozenset[str]
    journal: tuple[str, ...]  # the journal's words, stop words left out

    @classmethod
    def of(cls, record: Record) -> _Prepared:
        return _Preparer()(record)


def _title_fields(title: str) -> tuple[str, tuple[str, ...], str, str]:
    stripped = _strip_markup(title)
    normalised = _normalise_stripped(stripped)
    words = tuple(normalised.split())
    return normalised, words, " ".join(sorted(words)), _kind_stripped(stripped)


def _author_fields(first: str) -> tuple[str, frozenset[str]]:
    return _surname(first), _name_parts(first)


def _page_fields(pages: str) -> tuple[str, str, frozenset[str]]:
    return (*normalise_pages(pages), _start_pages(pages))


_T = TypeVar("_T")


def _memoised(function: Callable[[str], _T]) -> Callable[[str], _T]:
    """``function``, computed once for each distinct value it is given."""
    cache: dict[str, _T] = {}

    def once(value: str) -> _T:
        try:
            return cache[value]
        except KeyError:
            result = cache[value] = function(value)
            return result

    return once


class _Preparer:
    """Prepares records, normalising each distinct value of a field once.

    Records of one search repeat journals, first authors, volumes and often titles
    (the same paper from several databases), so each distinct string is normalised
    once per run, not once per record or per pair.
    """

    def __init__(self) -> None:
        self.title = _memoised(_title_fields)
        self.author = _memoised(_author_fields)
        self.pages = _memoised(_page_fields)
        self.volume = _memoised(_numbers)
        self.journal = _memoised(_journal_tokens)
        self.doi = _memoised(normalise_doi)

    def __call__(self, record: Record) -> _Prepared:
        title, words, sorted_title, kind = self.title(record.title)
        surname, parts = self.author(record.authors[0]) if record.authors else ("", frozenset())
        first, last, starts = self.pages(record.pages)
        return _Prepared(
            title=title,
            words=words,
            sorted_title=sorted_title,
            kind=kind,
            doi=self.doi(record.doi),
            pmid=record.pmid.strip().lstrip("0"),
            year=record.year,
            surname=surname,
            author_parts=parts,
            volume=self.volume(record.volume),
            first_page=first,
            last_page=last,
            start_pages=starts,
            journal=self.journal(record.journal),
        )


@dataclass(frozen=True)
class PairDecision:
    """Whether two records are the same reference, and why."""

    first: int
    second: int
    decision: str  # duplicate, review, distinct
    reason: str
    title_similarity: float


def _title_similarity(a: _Prepared, b: _Prepared) -> float:
    """The better of ratio and token-sort ratio; a cut-off title may score by partial ratio."""
    score = max(fuzz.ratio(a.title, b.title), fuzz.token_sort_ratio(a.title, b.title))
    short, long = sorted((a.title, b.title), key=len)
    if len(short) >= 40 and len(short) >= 0.6 * len(long) and long.startswith(short[:20]):
        score = max(score, fuzz.partial_ratio(short, long) - 2.0)  # a cut-off title
    return float(score)


def _title_similarities(
    prepared: Sequence[_Prepared], first: list[int], second: list[int]
) -> list[float]:
    """:func:`_title_similarity` of each pair of records, by rapidfuzz in batches (``cpdist``).

    ``token_sort_ratio`` is ``ratio`` of the titles with their words sorted; the
    sorted titles are made once per record (``sorted_title``), not once per pair.
    """
    if not first:
        return []
    firsts = [prepared[i].title for i in first]
    seconds = [prepared[j].title for j in second]
    score = np.maximum(
        cpdist(firsts, seconds, scorer=fuzz.ratio, dtype=np.float64, workers=1),
        cpdist(
            [prepared[i].sorted_title for i in first],
            [prepared[j].sorted_title for j in second],
            scorer=fuzz.ratio,
            dtype=np.float64,
            workers=1,
        ),
    )
    length_a = np.fromiter(map(len, firsts), dtype=np.int64, count=len(firsts))
    length_b = np.fromiter(map(len, seconds), dtype=np.int64, count=len(seconds))
    short_length = np.minimum(length_a, length_b)
    long_length = np.maximum(length_a, length_b)
    cut, shorts, longs = [], [], []
    for k in np.flatnonzero((short_length >= 40) & (short_length >= 0.6 * long_length)).tolist():
        short, long = sorted((firsts[k], seconds[k]), key=len)
        if long.startswith(short[:20]):
            cut.append(k)
            shorts.append(short)
            longs.append(long)
    if cut:
        partial = cpdist(shorts, longs, scorer=fuzz.partial_ratio, dtype=np.float64, workers=1)
        score[cut] = np.maximum(score[cut], partial - 2.0)
    return score.tolist()


def _authors_agree(a: _Prepared, b: _Prepared) -> bool | None:
    if not a.author_parts or not b.author_parts:
        return None
    if a.author_parts & b.author_parts:
        return True
    return fuzz.ratio(a.surname, b.surname) >= 80


def _same_page(a: _Prepared, b: _Prepared) -> bool:
    return bool(a.start_pages & b.start_pages) or (
        bool(a.first_page) and a.first_page == b.first_page
    )


_LEAST_TITLE = min(REVIEW_TITLE, CONFIRMED_TITLE, DUPLICATE_TITLE)


def _may_not_be_distinct(a: _Prepared, b: _Prepared, similarity: float) -> bool:
    """False only for pairs :func:`_compare_prepared` finds distinct, by its cheapest tests.

    A pair with neither the same DOI nor PMID, whose titles are less alike
    than ``REVIEW_TITLE``, ``CONFIRMED_TITLE`` and ``DUPLICATE_TITLE``, is a
    duplicate only through the bibliographic match and left for review only
    when nothing conflicts; both need the same year, first author, volume and
    first page.  So a pair lacking any of those is distinct, and is not
    compared further.
    """
    if (a.doi and a.doi == b.doi) or (a.pmid and a.pmid == b.pmid):
        return True
    if len(a.title) < 10 or len(b.title) < 10:
        return False
    if similarity >= _LEAST_TITLE:
        return True
    return (
        a.year is not None
        and a.year == b.year
        and bool(a.volume & b.volume)
        and _same_page(a, b)
        and bool(_authors_agree(a, b))
    )


def _compare_prepared(
    a: _Prepared, b: _Prepared, i: int, j: int, similarity: float | None = None
) -> PairDecision:
    """Decide one pair; ``similarity``, when given, is :func:`_title_similarity` of the two."""
    if a.doi and a.doi == b.doi:
        return PairDecision(i, j, "duplicate", "same DOI", 100.0)
    if a.pmid and a.pmid == b.pmid:
        return PairDecision(i, j, "duplicate", "same PMID", 100.0)
    if len(a.title) < 10 or len(b.title) < 10:
        return PairDecision(i, j, "distinct", "no title to compare", 0.0)
    if similarity is None:
        similarity = _title_similarity(a, b)
    same_year = a.year is not None and a.year == b.year
    authors = _authors_agree(a, b)
    same_volume = bool(a.volume & b.volume)
    same_page = _same_page(a, b)
    same_range = same_page and a.last_page == b.last_page and a.first_page != a.last_page
    same_journal = _tokens_match(a.journal, b.journal)
    conflicts = []
    if a.kind != b.kind:
        conflicts.append(f"{a.kind} and {b.kind}")
    if a.doi and b.doi:
        conflicts.append("different DOIs")
    if a.year and b.year and abs(a.year - b.year) > 1:
        conflicts.append(f"years {a.year} and {b.year}")
    if authors is False:
        conflicts.append("different first authors")
    if a.volume and b.volume and not same_volume:
        conflicts.append("different volumes")
    if a.start_pages and b.start_pages and not same_page and a.last_page != b.last_page:
        conflicts.append("different pages")
    evidence = []
    if same_year:
        evidence.append("same year")
    if authors:
        evidence.append("same first author")
    if same_volume:
        evidence.append("same volume")
    if same_page:
        evidence.append("same pages")
    if same_journal:
        evidence.append("same journal")
    alike = f"titles {similarity:.0f}% alike"
    if not conflicts:
        confirmed = len(evidence) >= 2 and (authors or same_page or same_volume)
        if similarity >= DUPLICATE_TITLE and confirmed:
            return PairDecision(i, j, "duplicate", ", ".join([alike, *evidence]), similarity)
        if similarity >= CONFIRMED_TITLE and authors and same_year and same_page:
            return PairDecision(i, j, "duplicate", ", ".join([alike, *evidence]), similarity)
        full_match = authors and same_year and same_volume and same_range
        if similarity >= BIBLIOGRAPHIC_TITLE and full_match:
            return PairDecision(i, j, "duplicate", ", ".join([*evidence, alike]), similarity)
    hard = [c for c in conflicts if c.startswith(("years", "different")) and "DOI" not in c]
    if len(hard) >= 3 or (len(hard) == 2 and similarity < DUPLICATE_TITLE):
        reason = f"{alike} but {', '.join(conflicts)}"
        return PairDecision(i, j, "distinct", reason, similarity)
    if similarity >= REVIEW_TITLE:
        reason = alike + (f" but {', '.join(conflicts)}" if conflicts else "")
        if not conflicts and not evidence:
            reason += " with nothing else to confirm"
        return PairDecision(i, j, "review", reason, similarity)
    if not conflicts and authors and same_year and same_volume and same_page:
        return PairDecision(i, j, "review", ", ".join([*evidence, f"but {alike}"]), similarity)
    return PairDecision(i, j, "distinct", f"titles differ ({similarity:.0f}%)", similarity)


def _compare(a: Record, b: Record, i: int, j: int) -> PairDecision:
    """Decide one pair of records (exposed for tests and for reviewing one pair)."""
    return _compare_prepared(_Prepared.of(a), _Prepared.of(b), i, j)


@dataclass(frozen=True)
class DedupResult:
    """Pairs compared (except clear non-matches), and clusters of duplicates."""

    pairs: tuple[PairDecision, ...]
    clusters: tuple[tuple[int, ...], ...]  # each cluster: record indices, first kept
    candidates: int = field(default=0, compare=False)  # pairs compared after blocking

    @property
    def duplicates_removed(self) -> int:
        return sum(len(cluster) - 1 for cluster in self.clusters)

    def to_review(self) -> tuple[PairDecision, ...]:
        return tuple(pair for pair in self.pairs if pair.decision == "review")


def _blocking_keys(p: _Prepared) -> Iterable[tuple[object, ...]]:
    if p.doi:
        yield ("doi", p.doi)
    if p.pmid:
        yield ("pmid", p.pmid)
    content = [w for w in p.words if w not in _STOP]
    if len(content) >= 2:
        yield ("start", *content[:3])
        yield ("end", *content[-3:])
    if p.first_page:
        yield ("page", p.year, p.first_page)
    for part in sorted(p.author_parts):
        yield ("author", part, p.year)


def _window(ordered: np.ndarray, width: int, n: int) -> np.ndarray:
    """Pairs (as ``first * n + second``) of each record with the next ``width`` in ``ordered``."""
    codes = []
    for step in range(1, min(width, len(ordered) - 1) + 1):
        a, b = ordered[:-step], ordered[step:]
        codes.append(np.minimum(a, b) * n + np.maximum(a, b))
    return np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)


def _candidate_pairs(prepared: Sequence[_Prepared]) -> tuple[list[int], list[int]]:
    """Pairs of records that share a blocking key or are neighbours by title, in order.

    Each pair ``(first, second)``, ``first < second``, is coded as the number
    ``first * n + second``, so that the pairs of all blocks are joined and put in
    order by one ``numpy.unique``.
    """
    n = len(prepared)
    blocks: dict[tuple[object, ...], list[int]] = defaultdict(list)
    for index, p in enumerate(prepared):
        for key in _blocking_keys(p):
            blocks[key].append(index)
    by_title = np.array(sorted(range(n), key=lambda k: prepared[k].title), dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[by_title] = np.arange(n)
    codes: list[int] = []
    windows = []
    for members in blocks.values():  # each record is in a block once, in index order
        if len(members) < 2:
            continue
        if len(members) <= MAX_BLOCK:
            codes.extend(a * n + b for k, a in enumerate(members) for b in members[k + 1 :])
        else:  # sorted neighbourhood within a large block
            block = np.array(members, dtype=np.int64)
            windows.append(_window(block[np.argsort(rank[block], kind="stable")], WINDOW, n))
    # sorted neighbourhood over all titles, for pairs whose keys all differ
    windows.append(_window(by_title, 3, n))
    pairs = np.unique(np.concatenate([np.array(codes, dtype=np.int64), *windows]))
    first, second = pairs // n, pairs % n
    distinct = first != second
    return first[distinct].tolist(), second[distinct].tolist()


_STRENGTH = {"same DOI": 2, "same PMID": 1}


def _cluster(
    n: int, pairs: list[PairDecision]
) -> tuple[list[PairDecision], tuple[tuple[int, ...], ...]]:
    """Join duplicates, strongest first, never into a cluster that holds a review pair."""
    parent = list(range(n))
    members: dict[int, set[int]] = {i: {i} for i in range(n)}
    blocked: dict[int, set[int]] = defaultdict(set)  # record -> records it must not join
    for pair in pairs:
        if pair.decision == "review":
            blocked[pair.first].add(pair.second)
            blocked[pair.second].add(pair.first)

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    order = sorted(
        range(len(pairs)),
        key=lambda k: (-_STRENGTH.get(pairs[k].reason, 0), -pairs[k].title_similarity, k),
    )
    result = list(pairs)
    for k in order:
        pair = pairs[k]
        if pair.decision != "duplicate":
            continue
        a, b = root(pair.first), root(pair.second)
        if a == b:
            continue
        small, large = sorted((members[a], members[b]), key=len)
        if any(blocked[x] & large for x in small):
            result[k] = PairDecision(
                pair.first,
                pair.second,
                "review",
                pair.reason + ", but would join records whose pair needs review",
                pair.title_similarity,
            )
            continue
        keep, drop = min(a, b), max(a, b)
        parent[drop] = keep
        members[keep] |= members.pop(drop)
    groups: dict[int, list[int]] = defaultdict(list)
    for index in range(n):
        groups[root(index)].append(index)
    clusters = tuple(sorted(tuple(sorted(g)) for g in groups.values() if len(g) > 1))
    return result, clusters


def find_duplicates(records: Sequence[Record]) -> DedupResult:
    """Exact DOI/PMID matches, then blocked fuzzy matching; pairs, reasons and clusters.

    Written here rather than taken from a library because the candidate
    libraries (dedupe, recordlinkage) need training data or bring heavy
    dependencies; this is the blocked pairwise comparison that ASySD and
    bib-dedupe describe.  ``pairs`` holds every pair judged ``duplicate`` or
    ``review`` (pairs found distinct are not kept), ordered by record index.
    """
    prepare = _Preparer()
    prepared = [prepare(record) for record in records]
    firsts, seconds = _candidate_pairs(prepared)
    similarities = _title_similarities(prepared, firsts, seconds)
    pairs = []
    for i, j, similarity in zip(firsts, seconds, similarities, strict=True):
        a, b = prepared[i], prepared[j]
        if _may_not_be_distinct(a, b, similarity):
            decision = _compare_prepared(a, b, i, j, similarity)
            if decision.decision != "distinct":
                pairs.append(decision)
    pairs, clusters = _cluster(len(records), pairs)
    return DedupResult(pairs=tuple(pairs), clusters=clusters, candidates=len(firsts))
