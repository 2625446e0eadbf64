"""Web of Science plain text ("Plain text file" export).

An ``FN``/``VR`` header, then records from ``PT`` to ``ER``, then ``EF``;
tags are two characters and a space; values continue on lines indented by
three spaces, and some tags (authors, addresses, cited references) put one
value on each line.  A damaged ``PT`` (``PX J``, ``pT J``) ends the record
before it, and its fields up to ``ER`` are reported as a record without its
start tag.
"""

from __future__ import annotations

import re

from srma.review.identify.readers.fields import doi, first, pages, values, year
from srma.review.identify.results import Parsed, Record
from srma.review.identify.tagged import TaggedFormat, TaggedRecord, split_tagged, to_parsed

# Web of Science Core Collection field tags (Clarivate).
CLARIVATE_TAGS = (
    "FN", "VR", "PT", "AU", "AF", "BA", "BF", "CA", "GP", "BE", "TI", "SO", "SE", "BS", "LA",
    "DT", "CT", "CY", "CL", "SP", "HO", "DE", "ID", "AB", "C1", "C3", "RP", "EM", "RI", "OI",
    "FU", "FP", "FX", "CR", "NR", "TC", "Z9", "U1", "U2", "PU", "PI", "PA", "SN", "EI", "BN",
    "J9", "JI", "PD", "PY", "VL", "IS", "PN", "SU", "SI", "MA", "BP", "EP", "AR", "DI", "DL",
    "D2", "EA", "PG", "WC", "WE", "SC", "GA", "PM", "OA", "HC", "HP", "DA", "UT", "ER", "EF",
)  # fmt: skip

WOS = TaggedFormat(
    tag=re.compile(r"^([A-Z][A-Z0-9])(?: (.*))?$"),
    indent="   ",
    start="PT",
    end="ER",
    header=frozenset({"FN", "VR", "EF"}),
    line_lists=frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "C1", "C3", "CR", "RP"}),
    # PT in another case or with a damaged separator, or a damaged tag before a
    # document type letter (J journal, B book, S series, P patent)
    start_like=re.compile(
        r"^[ \t]*(?:(?i:pt)(?![A-Za-z0-9 ])|(?i:pt)[ \t]+[A-Z]?$|.T [JBSP]$|P. [JBSP]$)"
    ),
    content=frozenset({"TI", "AB", "DI"}),
)


def _record(tagged: TaggedRecord, path: str) -> Record:
    """A ``Record`` from the tags of one Web of Science record (Clarivate field tags)."""
    tags = tagged.tags
    return Record(
        title=first(tags, "TI"),
        abstract=first(tags, "AB"),
        authors=values(tags, "AF") or values(tags, "AU"),
        year=year(first(tags, "PY", "EA")),
        journal=first(tags, "SO", "J9", "JI"),
        volume=first(tags, "VL"),
        issue=first(tags, "IS"),
        pages=pages(first(tags, "BP"), first(tags, "EP")) or first(tags, "AR"),
        doi=doi(first(tags, "DI")),
        pmid=first(tags, "PM"),
        keywords=values(tags, "DE", "ID", separator=";"),
        type=first(tags, "DT"),
        source_file=path,
        source_line=tagged.line,
        fields=dict(tags),
    )


def parse_wos(text: str, path: str) -> Parsed:
    """Web of Science plain text: ``FN``/``VR`` header, records from ``PT`` to ``ER``.

    Authors are the full names (``AF``) where given, else ``AU``; keywords are
    the ``; ``-separated ``DE`` and ``ID`` values.
    """
    return to_parsed(split_tagged(text, WOS), path, _record)
