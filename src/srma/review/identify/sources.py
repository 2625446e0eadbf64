"""The display names of bibliographic databases, for import batches and the PRISMA diagram.

A source is named on import by ``--source``, by the records' ``DB``/``DP``
tags, or by the file name (``pubmed_export.ris``).  :func:`source_display_name`
turns such a key into the database's usual name (``PubMed``, ``Embase``,
``Ovid MEDLINE``); a key that names no known database is kept as it is
(``hand search``).  The import stores the display name, so the PRISMA
diagram shows it; older projects' raw keys are named the same way when shown.
"""

from __future__ import annotations

import re

# (phrases, display name), most specific first: a key names the first
# database one of whose phrases it contains as whole words.
_DATABASES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("ovid medline", "medline ovid", "ovid medline r", "medline r"), "Ovid MEDLINE"),
    (("ovid embase", "embase ovid"), "Ovid Embase"),
    (("ovid psycinfo", "psycinfo ovid", "ovid apa psycinfo"), "Ovid APA PsycInfo"),
    (("ebsco medline", "medline ebsco"), "MEDLINE (EBSCOhost)"),
    (("ebsco cinahl", "cinahl", "cinahl plus", "cinahl complete"), "CINAHL"),
    (("psycinfo", "apa psycinfo", "psyc info", "psycinfo apa"), "APA PsycInfo"),
    (("pubmed", "pub med", "nlm", "pubmed medline", "pmc"), "PubMed"),
    (("medline",), "MEDLINE"),
    (("embase", "embase com", "elsevier embase"), "Embase"),
    (("web of science", "wos", "web of knowledge", "isi web of science", "clarivate"),
     "Web of Science"),
    (("scopus",), "Scopus"),
    (("cochrane central", "central", "cochrane library", "cochrane"),
     "Cochrane CENTRAL"),
    (("ptsdpubs",), "PTSDpubs"),
    (("proquest",), "ProQuest"),
    (("lilacs",), "LILACS"),
    (("google scholar",), "Google Scholar"),
    (("clinicaltrials gov", "clinicaltrials", "clinical trials gov"), "ClinicalTrials.gov"),
    (("ictrp", "who ictrp"), "WHO ICTRP"),
    (("epistemonikos",), "Epistemonikos"),
    (("cnki",), "CNKI"),
    (("ovid",), "Ovid"),
    (("ebsco", "ebscohost"), "EBSCOhost"),
)  # fmt: skip


def _words(text: str) -> str:
    """``text`` lower-cased, with every run of non-letters and non-digits one space."""
    return " " + " ".join(re.findall(r"[^\W_]+", text.lower())) + " "


def source_display_name(key: str) -> str:
    """The display name of a source key: ``"pubmed_zotero"`` -> ``"PubMed"``,
    ``"NLM"`` -> ``"PubMed"``, ``"wos"`` -> ``"Web of Science"``,
    ``"Ovid MEDLINE(R)"`` -> ``"Ovid MEDLINE"``; unknown keys are returned
    stripped (``"hand search"``), and an empty key is ``"unknown"``."""
    words = _words(key)
    for phrases, name in _DATABASES:
        if any(f" {phrase} " in words for phrase in phrases):
            return name
    return key.strip() or "unknown"
