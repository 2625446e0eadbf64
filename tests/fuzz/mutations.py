"""Mutated real exports and the import contract, shared by the fuzz test and the campaign.

A *mutant* is an export with one kind of damage: flipped bytes, inserted or
deleted bytes, truncation, a region repeated, the whole file re-encoded
(Latin-1, Windows-1252, UTF-16 with or without BOM; for the single-byte
ones, also with bytes flipped after), NULs, a very long line, mixed line
ends, two records swapped, a line repeated or dropped, or its bytes
replaced by binary junk or a ZIP archive.  Each mutant knows which bytes of the original it damaged.

The oracle parses each original once and locates its records by lines: a
record spans from its first line to the line before the next record (or the
end of the file).  A record whose span does not meet the damaged lines is
*intact*, and must come back with the same title, abstract and DOI.  A
damaged byte also damages the line after it (a damaged line end joins two
lines).

The contract (:func:`classify`): ``read_records`` raises an ``InputError``
naming the file, or returns a result with ``records_read == stored +
problems`` in which every intact record is found.  Damage to a CSV header
may legitimately become an error or change what the columns mean: for such
mutants only the first part is checked.
"""

from __future__ import annotations

import random
import zipfile
from collections import Counter
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from srma.errors import InputError
from srma.review.identify.decoding import decode_export
from srma.review.identify.records import ImportResult, read_records

TESTS = Path(__file__).resolve().parents[1]
SHARED_EXPORTS = TESTS.parents[1] / "shared" / "fixtures" / "exports"
LOCAL_EXPORTS = TESTS / "fixtures" / "exports"
MOJIBAKE = ("\ufffd", "\u00c3", "\u00e2\u0080", "\u00c2")


@dataclass(frozen=True)
class Original:
    """A real export, read once: its records' fields and line spans."""

    path: Path
    data: bytes
    kind: str
    records: tuple[tuple[str, str, str, int, int], ...]
    """``(title, abstract, doi, first line, last line)`` of each stored record."""
    header_lines: tuple[int, ...]
    """Lines before the first record (a table's header, a file header)."""
    read: int
    """``records_read`` of the original."""


@cache
def originals() -> tuple[Original, ...]:
    """The real exports (the shared ones and the local MEDLINE, WoS and BibTeX fixtures)."""
    paths = sorted(p for p in SHARED_EXPORTS.iterdir() if p.name != "LICENSE")
    paths += sorted(p for p in LOCAL_EXPORTS.iterdir() if p.suffix != ".md")
    found = []
    for path in paths:
        data = path.read_bytes()
        result = read_records(path)
        lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
        starts = sorted({r.source_line for r in result.records} | {p.line for p in result.problems})
        ends = {start: end - 1 for start, end in zip(starts, [*starts[1:], lines + 1], strict=True)}
        records = tuple(
            (r.title, r.abstract, r.doi, r.source_line, ends[r.source_line]) for r in result.records
        )
        header = tuple(range(1, starts[0]))
        found.append(Original(path, data, result.format, records, header, result.records_read))
    return tuple(found)


@dataclass(frozen=True)
class Mutant:
    """Damaged bytes, which byte ranges ``[a, b)`` of the original were damaged, and how."""

    data: bytes
    damaged: tuple[tuple[int, int], ...]
    kind: str
    damaged_lines_override: frozenset[int] | None = None
    keeps_every_byte: bool = False
    """Whether every byte of the original is still there (nothing deleted or replaced): then
    at least as many records must be read as from the original."""


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, max(offset, 0)) + 1


def damaged_lines(original: Original, mutant: Mutant) -> frozenset[int]:
    """The lines of the original that the mutation touched, each with the line after it."""
    if mutant.damaged_lines_override is not None:
        return mutant.damaged_lines_override
    lines: set[int] = set()
    for start, end in mutant.damaged:
        first = _line_of(original.data, start)
        last = _line_of(original.data, max(start, end - 1))
        lines.update(range(first, last + 2))
    return frozenset(lines)


def intact(original: Original, mutant: Mutant) -> list[tuple[str, str, str]]:
    """The records of the original whose lines the mutation did not touch."""
    touched = damaged_lines(original, mutant)
    return [
        (title, abstract, doi)
        for title, abstract, doi, first, last in original.records
        if not any(line in touched for line in range(first, last + 1))
    ]


def header_damaged(original: Original, mutant: Mutant) -> bool:
    """Whether a table's header (or a file's lines before its first record) was touched."""
    return bool(damaged_lines(original, mutant) & set(original.header_lines or (1,)))


# --- mutations: each takes the original and a random.Random ------------------------------------


def flip(original: Original, rng: random.Random) -> Mutant:
    data = bytearray(original.data)
    positions = sorted(rng.sample(range(len(data)), k=min(len(data), rng.randint(1, 4))))
    for position in positions:
        data[position] ^= rng.randint(1, 255)
    return Mutant(bytes(data), tuple((p, p + 1) for p in positions), "byte flips")


def insert(original: Original, rng: random.Random) -> Mutant:
    position = rng.randrange(len(original.data) + 1)
    junk = rng.randbytes(rng.randint(1, 64))
    data = original.data[:position] + junk + original.data[position:]
    return Mutant(data, ((position, position),), "insertion", keeps_every_byte=True)


def delete(original: Original, rng: random.Random) -> Mutant:
    start = rng.randrange(len(original.data))
    end = min(len(original.data), start + rng.randint(1, 64))
    return Mutant(original.data[:start] + original.data[end:], ((start, end),), "deletion")


def truncate(original: Original, rng: random.Random) -> Mutant:
    cut = rng.randrange(1, len(original.data))
    return Mutant(original.data[:cut], ((cut, len(original.data)),), "truncation")


def duplicate(original: Original, rng: random.Random) -> Mutant:
    start = rng.randrange(len(original.data))
    end = min(len(original.data), start + rng.randint(1, 2000))
    position = rng.randrange(len(original.data) + 1)
    region = original.data[start:end]
    data = original.data[:position] + region + original.data[position:]
    return Mutant(data, ((position, position),), "region repeated", keeps_every_byte=True)


def reencode(original: Original, rng: random.Random) -> Mutant:
    text = decode_export(original.data, str(original.path)).text
    encoding = rng.choice(["latin-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be"])
    lossy: set[int] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        try:
            line.encode(encoding)
        except UnicodeEncodeError:
            lossy.update((number, number + 1))
    data = text.encode(encoding, errors="replace")
    return Mutant(data, (), f"re-encoded as {encoding}", frozenset(lossy))


def nuls(original: Original, rng: random.Random) -> Mutant:
    position = rng.randrange(len(original.data) + 1)
    data = original.data[:position] + b"\x00" * rng.randint(1, 16) + original.data[position:]
    return Mutant(data, ((position, position),), "NUL bytes", keeps_every_byte=True)


def long_line(original: Original, rng: random.Random, size: int = 200_000) -> Mutant:
    position = rng.randrange(len(original.data) + 1)
    alphabet = rng.choice([b"x", b"{", b"@a{", b'"', b", ", bytes(range(32, 127))])
    line = (alphabet * (size // len(alphabet) + 1))[:size]
    if len(alphabet) > 3:
        line = bytes(rng.choice(alphabet) for _ in range(min(size, 5000))) * (size // 5000)
    data = original.data[:position] + b"\n" + line + b"\n" + original.data[position:]
    return Mutant(data, ((position, position),), "very long line", keeps_every_byte=True)


def line_ends(original: Original, rng: random.Random) -> Mutant:
    data = bytearray()
    changed = []
    for index, byte in enumerate(original.data):
        if byte == 0x0A and rng.random() < 0.3:
            data += rng.choice([b"\r\n", b"\r"])
            changed.append((index, index + 1))
        else:
            data.append(byte)
    damage = tuple(changed) if original.kind in ("csv", "tsv") else ()  # cells keep their \r
    return Mutant(bytes(data), damage, "CR/LF mix", keeps_every_byte=True)


def swap(original: Original, rng: random.Random) -> Mutant:
    if len(original.records) < 2:
        return flip(original, rng)
    lines = original.data.split(b"\n")
    (_, _, _, a1, a2), (_, _, _, b1, b2) = sorted(
        rng.sample(original.records, 2), key=lambda r: r[3]
    )
    if a2 >= b1 or original.kind in ("csv", "tsv", "xlsx"):
        swapped = lines
    else:
        swapped = lines[: a1 - 1] + lines[b1 - 1 : b2] + lines[a2 : b1 - 1] + lines[a1 - 1 : a2]
        swapped += lines[b2:]
    return Mutant(b"\n".join(swapped), (), "records swapped", keeps_every_byte=True)


def repeat_line(original: Original, rng: random.Random) -> Mutant:
    """A line written twice (a duplicated tag, a repeated start or end tag), or dropped."""
    starts = [0] + [i + 1 for i, byte in enumerate(original.data) if byte == 0x0A]
    index = rng.randrange(len(starts))
    start = starts[index]
    end = starts[index + 1] if index + 1 < len(starts) else len(original.data)
    if rng.random() < 0.7:
        data = original.data[:end] + original.data[start:end] + original.data[end:]
        return Mutant(data, ((start, end),), "line repeated or dropped", keeps_every_byte=True)
    return Mutant(
        original.data[:start] + original.data[end:], ((start, end),), "line repeated or dropped"
    )


def reencode_and_flip(original: Original, rng: random.Random) -> Mutant:
    """Re-encoded as Latin-1 or Windows-1252, then bytes flipped."""
    text = decode_export(original.data, str(original.path)).text
    encoding = rng.choice(["latin-1", "cp1252"])
    lossy: set[int] = set()
    for number, line in enumerate(text.split("\n"), start=1):
        if line.encode(encoding, errors="replace") != line.encode(encoding, errors="ignore") or (
            line.encode(encoding, errors="replace").decode(encoding) != line
        ):
            lossy.update((number, number + 1))
    data = bytearray(text.encode(encoding, errors="replace"))
    for position in rng.sample(range(len(data)), k=min(len(data), rng.randint(1, 3))):
        data[position] ^= rng.randint(1, 255)
        line = text.count("\n", 0, position) + 1  # one byte per character in these encodings
        lossy.update((line, line + 1))
    return Mutant(bytes(data), (), f"re-encoded as {encoding}, bytes flipped", frozenset(lossy))


def junk(original: Original, rng: random.Random) -> Mutant:
    if rng.random() < 0.5:
        data = rng.randbytes(rng.randint(16, 4096))
    else:
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(original.path.name, original.data)
        data = buffer.getvalue()
        if rng.random() < 0.5:
            data = data[: rng.randrange(4, len(data))]
    return Mutant(data, ((0, len(original.data)),), "binary or ZIP junk")


MUTATIONS = (flip, insert, delete, truncate, duplicate, reencode, nuls, long_line, line_ends,
             swap, junk, repeat_line, reencode_and_flip)  # fmt: skip


# --- the contract --------------------------------------------------------------------------


def classify(original: Original, mutant: Mutant, path: Path, outcome: object) -> tuple[str, str]:
    """``(category, detail)`` of one import: ``correct``, ``clear error``, ``traceback``,
    ``wrong count``, ``mojibake``, ``lost, reported`` or ``silent loss``."""
    if isinstance(outcome, InputError):
        if str(path) in str(outcome):
            return "clear error", str(outcome)
        return "traceback", f"InputError without the file: {outcome}"
    if isinstance(outcome, BaseException):
        return "traceback", f"{type(outcome).__name__}: {outcome}"
    assert isinstance(outcome, ImportResult)
    result = outcome
    if result.records_read != len(result.records) + len(result.problems):
        return "wrong count", f"{result.records_read} read, {len(result.records)} stored"
    if mutant.keeps_every_byte and result.records_read < original.read:
        detail = f"{result.records_read} read, the original {original.read}, and nothing removed"
        return ("lost, reported" if result.problems else "silent loss"), detail
    if original.kind in ("csv", "tsv") and header_damaged(original, mutant):
        return "correct", "header damaged: only the invariant is checked"
    stored = Counter((r.title, r.abstract, r.doi) for r in result.records)
    missing = Counter(intact(original, mutant)) - stored
    if not missing:
        return "correct", ""
    title, abstract, doi = next(iter(missing))
    near = [
        r for r in result.records
        if (doi and r.doi == doi) or (title and r.title[:20] == title[:20])
    ]  # fmt: skip
    for record in near:
        for got, want in ((record.title, title), (record.abstract, abstract)):
            if got != want and any(m in got and m not in want for m in MOJIBAKE):
                return "mojibake", f"{want[:60]!r} came back as {got[:60]!r}"
    detail = f"{sum(missing.values())} intact record(s) missing, e.g. {title[:60]!r}"
    if result.problems:
        return "lost, reported", detail
    return "silent loss", detail


def run(original: Original, mutant: Mutant, path: Path) -> tuple[str, str]:
    """Write ``mutant`` to ``path``, read it, and classify the outcome."""
    path.write_bytes(mutant.data)
    try:
        outcome: object = read_records(path)
    except Exception as error:  # the contract allows InputError only; classify says so
        outcome = error
    return classify(original, mutant, path, outcome)


def replicate(original: Original, rng: random.Random, records: int = 100_000) -> Mutant:
    """The original's records repeated until the file holds about ``records`` of them (or
    about 400 MB: Scopus's records, with their cited references, are 30 kB each)."""
    copies = max(1, records // max(1, len(original.records)))
    copies = min(copies, max(1, 400_000_000 // len(original.data)))  # at most about 400 MB
    if original.kind in ("csv", "tsv"):
        lines = original.data.split(b"\n")
        body = b"\n".join(lines[1:]).rstrip(b"\n") + b"\n"
        data = lines[0] + b"\n" + body * copies
    else:
        data = (original.data.rstrip(b"\n") + b"\n\n") * copies
    del rng
    return Mutant(data, (), f"{copies:,} copies")
