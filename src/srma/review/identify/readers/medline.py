"""PubMed's MEDLINE format (``.nbib``, "Save > PubMed format").

Tags are padded to four columns and followed by ``- `` (``PMID- 1``,
``TI  - ...``); values continue on lines indented by six spaces; a record
starts at ``PMID-`` and ends at a blank line.  ``PMID - 1`` (a space before
the hyphen) is read as ``PMID``; a damaged ``PMID`` (``PMlD- 1``, ``PMD- 1``,
``pmid- 1``) ends the record before it, and the fields up to the next blank
line are reported as a record without its start tag.
"""

from __future__ import annotations

import re

from srma.review.identify.readers.fields import doi, first, values, year
from srma.review.identify.results import Parsed, Record
from srma.review.identify.tagged import TaggedFormat, TaggedRecord, split_tagged, to_parsed

# The field tags of MEDLINE/PubMed (NLM, "MEDLINE/PubMed Data Element (Field) Descriptions").
NLM_TAGS = (
    "AB", "AD", "AID", "AU", "AUID", "BTI", "CI", "CIN", "CN", "COI", "CON", "CP", "CRDT",
    "CRF", "CRI", "CRR", "CTDT", "CTI", "DA", "DCOM", "DEP", "DP", "DRDT", "ECF", "ECI",
    "ED", "EDAT", "EFR", "EIN", "EN", "FAU", "FED", "FIR", "FPS", "FS", "GN", "GR", "GS",
    "IP", "IR", "IRAD", "IS", "ISBN", "JID", "JT", "LA", "LID", "LR", "MH", "MHDA", "MID",
    "OAB", "OABL", "OCI", "OID", "ORI", "OT", "OTO", "OWN", "PB", "PG", "PHST", "PL",
    "PMC", "PMCR", "PMID", "PS", "PST", "PT", "RF", "RIN", "RN", "ROF", "RPF", "RPI", "RRF",
    "RRI", "SB", "SFM", "SI", "SO", "SPIN", "STAT", "TA", "TI", "TT", "UIN", "UOF", "VI",
    "VTI",
)  # fmt: skip

MEDLINE = TaggedFormat(
    tag=re.compile(r"^(?=.{4}-|[A-Z][A-Z0-9]{3}[ \t]+-)([A-Z][A-Z0-9]{0,3})[ \t]*-[ \t]?(.*)$"),
    indent="      ",
    start="PMID",
    end=None,
    # PMID with one letter changed, lost or in another case, a damaged separator, or a
    # short damaged tag before a number alone (``XPMID- 1``: the line break before it
    # became a letter)
    start_like=re.compile(
        r"^[ \t]*(?:(?i:pmid)[^A-Za-z0-9]|.MID[ \t]*-|P.ID[ \t]*-|PM.D[ \t]*-|PMI.[ \t]*-"
        r"|(?:MID|PID|PMD|PMI)[ \t]*-[ \t]*\d|\S{1,6}[ \t]*-?[ \t]*\d{1,9}[ \t]*$)"
    ),
    known=frozenset(NLM_TAGS) - {"PMID"},
    content=frozenset({"TI", "BTI", "AB", "LID", "AID"}),
)


def _record(tagged: TaggedRecord, path: str) -> Record:
    """A ``Record`` from the tags of one MEDLINE record (NLM element names)."""
    tags = tagged.tags
    marked = [v for v in tags.get("LID", []) + tags.get("AID", []) if "[doi]" in v]
    return Record(
        title=first(tags, "TI", "BTI"),
        abstract=first(tags, "AB"),
        authors=values(tags, "FAU") or values(tags, "AU"),
        year=year(first(tags, "DP")),
        journal=first(tags, "JT", "TA"),
        volume=first(tags, "VI"),
        issue=first(tags, "IP"),
        pages=first(tags, "PG"),
        doi=doi(marked[0]) if marked else "",
        pmid=first(tags, "PMID"),
        keywords=values(tags, "MH", "OT"),
        type=first(tags, "PT"),
        source_file=path,
        source_line=tagged.line,
        fields=dict(tags),
    )


def parse_medline(text: str, path: str) -> Parsed:
    """PubMed's MEDLINE format: records start with ``PMID-`` and end at a blank line.

    Authors are the full names (``FAU``) where given, else ``AU``; the DOI is
    the ``LID`` or ``AID`` value marked ``[doi]``; keywords are ``MH`` and ``OT``.
    """
    return to_parsed(split_tagged(text, MEDLINE), path, _record)
