"""RIS exports (Embase, Scopus, Web of Science, Ovid, ProQuest, PubMed via EndNote or Zotero,
Rayyan).

The dialects differ in small ways: a byte-order mark, numbered lines between
records (Ovid), values that continue on the next line (Rayyan's keywords,
long abstracts), tags with empty values, and the separator between tag and
value.  The RIS specification writes ``TY  - JOUR`` (two spaces, a hyphen, a
space); some tools write ``TY - JOUR``, ``TY- JOUR``, ``TY\\t-\\tJOUR`` or
``TY  -JOUR``.  The separators a file's ``TY`` lines use are the ones its
other tags are read with, so that a file written with ``TY - `` is read
whole, while a text line such as ``UK-based`` is not taken for a tag in a
file that never writes tags that way.  Tags are upper case, as the
specification has them: ``Ty  - JOUR`` is a damaged start tag, and its
record is reported, not read.

Tags are named with rispy's mapping (``rispy.TAG_KEY_MAPPING``), so that the
dialects agree on what a title or an author is.
"""

from __future__ import annotations

import re

import rispy

from srma.review.identify.readers.fields import at_line_starts, doi, first, pages, year
from srma.review.identify.results import Parsed, Record
from srma.review.identify.tagged import TaggedFormat, TaggedRecord, split_tagged, to_parsed

# The separator of each TY line: what stands between the tag and the hyphen.
_TY_SEPARATOR = re.compile(r"\n\ufeff?[ \t]*TY([ \t]*)-([ \t]?)")
_TYPES = "|".join(sorted(rispy.TYPE_OF_REFERENCE_MAPPING, key=len, reverse=True))
# A damaged TY line: TY in another case or with a damaged separator, or a short
# damaged tag before a reference type (``TZ  - JOUR``, ``TY  = JOUR``).
_START_LIKE = re.compile(
    rf"^[ \t]*(?:[Tt][Yy][ \t]*[-\u2013\u2014]|TY[^A-Za-z0-9]"
    rf"|\S{{1,4}}[ \t]*\S?[ \t]*(?:{_TYPES})[ \t]*$)"
)
_CONTENT = frozenset({"TI", "T1", "AB", "N2", "DO", "T2", "JO", "JF"})


def ty_separators(text: str) -> tuple[set[str], bool]:
    """The runs of spaces or tabs before the hyphen of ``text``'s ``TY`` lines, and whether
    one has nothing before the hyphen nor after it (``TY-JOUR``); :func:`ris_format` reads
    a file with what every part of it gives."""
    before: set[str] = set()
    bare_after = False
    for _line, match in at_line_starts(_TY_SEPARATOR, text):
        before.add(match.group(1))
        bare_after = bare_after or (match.group(1) == "" and match.group(2) == "")
    return before, bare_after


def ris_format(text: str) -> TaggedFormat:
    """The RIS dialect of ``text``: tags are read with the separators its ``TY`` lines use.

    Before the hyphen the standard two spaces are always accepted, with every
    other run of spaces or tabs that a ``TY`` line of the file has; after it,
    any spaces or tabs.  A file whose ``TY`` lines have nothing before the
    hyphen (``TY- JOUR``) is read with ``XX- value`` tags, which need a space
    or tab after the hyphen unless a ``TY`` line has none (``TY-JOUR``).
    """
    return ris_dialect(*ty_separators(text))


def ris_dialect(separators_before: set[str], bare_after: bool) -> TaggedFormat:
    """The RIS format read with the separators of :func:`ty_separators` (and two spaces)."""
    before = {"  ", *separators_before}
    spaced = sorted((re.escape(b) for b in before if b), key=len, reverse=True)
    alternatives = [f"{b}-" for b in spaced]
    if "" in before:
        alternatives.append("-" if bare_after else r"-(?=[ \t]|$)")
    separators = "|".join(alternatives)
    # a bare ``ER`` (no hyphen) ends a record too: the lookbehind accepts it for ER alone
    tag = re.compile(rf"^[ \t]*([A-Z][A-Z0-9])(?:(?:{separators})[ \t]*(.*)|(?<=ER)[ \t]*$)")
    return TaggedFormat(
        tag=tag,
        indent=None,
        start="TY",
        end="ER",
        line_lists=frozenset(rispy.LIST_TYPE_TAGS),
        start_like=_START_LIKE,
        known=frozenset(rispy.TAG_KEY_MAPPING) - {"TY"},
        content=_CONTENT,
        note_stray_text=False,
    )


def ris_record(tagged: TaggedRecord, path: str) -> Record:
    """A ``Record`` from the tags of one RIS record, named as rispy names them."""
    named: dict[str, list[str]] = {}
    for tag, values in tagged.tags.items():
        name = rispy.TAG_KEY_MAPPING.get(tag, tag)
        if name in named:
            named[name] = named[name] + values
        else:
            named[name] = values  # the tagged record's own list: it is not used afterwards
    authors = tuple(
        a.strip() for a in named.get("authors", []) + named.get("first_authors", []) if a.strip()
    )
    keywords = tuple(k.strip() for k in named.get("keywords", []) if k.strip())
    pmid = first(named, "pubmed_id")
    accession = first(named, "accession_number")
    if not pmid and accession.isdigit() and len(accession) <= 9:
        pmid = accession
    return Record(
        title=first(named, "title", "primary_title", "translated_title"),
        abstract=first(named, "abstract", "notes_abstract"),
        authors=authors,
        year=year(first(named, "year", "publication_year", "date")),
        journal=first(
            named,
            "secondary_title",
            "journal_name",
            "alternate_title3",
            "alternate_title1",
            "alternate_title2",
        ),
        volume=first(named, "volume"),
        issue=first(named, "number"),
        pages=pages(first(named, "start_page"), first(named, "end_page")),
        doi=doi(first(named, "doi") or " ".join(named.get("urls", []))),
        pmid=pmid,
        keywords=keywords,
        type=first(named, "type_of_reference"),
        source_file=path,
        source_line=tagged.line,
        fields=dict(named),
    )


def parse_ris(text: str, path: str) -> Parsed:
    """Split RIS text into records; each starts with ``TY`` and ends with ``ER``.

    A record whose ``ER`` is missing ends where the next ``TY`` (or the file)
    does.  Records with no title, abstract or DOI are reported, not stored;
    so are records whose ``TY`` is damaged (at the damaged line) and records
    holding a NUL byte.
    """
    return to_parsed(split_tagged(text, ris_format(text)), path, ris_record)
