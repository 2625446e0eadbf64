"""A real, fully labelled title/abstract screening data set (see README.md here).

``nagtegaal2019``: the 2,019 records retrieved by the literature search of

    Nagtegaal R, Tummers L, Noordegraaf M, Bekkers V (2019). Nudging healthcare
    professionals towards evidence-based medicine: a systematic scoping review.
    Journal of Behavioral Public Administration 2(2). doi:10.30636/jbpa.22.71

with the authors' title/abstract screening decision and their final (full-text)
inclusion decision for every record, as cleaned by the ASReview project
(github.com/asreview/systematic-review-datasets, ``datasets/Nagtegaal_2019``).
Licence: CC0 1.0 (public domain dedication) per that repository's index; the raw
data are on Harvard Dataverse, doi:10.7910/DVN/WMGPGZ/HY6N2S.
"""

from __future__ import annotations

from importlib import resources

import pandas as pd

SCREENING_DATASETS: dict[str, str] = {"nagtegaal2019": "nagtegaal2019_screening.csv.gz"}

_CITATION = (
    "Nagtegaal R, Tummers L, Noordegraaf M, Bekkers V (2019). Nudging healthcare professionals "
    "towards evidence-based medicine: a systematic scoping review. Journal of Behavioral Public "
    "Administration 2(2). doi:10.30636/jbpa.22.71"
)
_SOURCE = (
    "https://github.com/asreview/systematic-review-datasets (commit 0909240f, "
    "datasets/Nagtegaal_2019/output/Nagtegaal_2019.csv); raw data "
    "doi:10.7910/DVN/WMGPGZ/HY6N2S"
)
_LICENCE = "CC0 1.0 (public domain dedication)"
_DESCRIPTION = (
    "2,019 search results (title, abstract) for a scoping review of nudges aimed at healthcare "
    "professionals, with the title/abstract screening decision (label_abstract_screening: 392 "
    "relevant) and the final inclusion decision (label_included: 101 included)"
)


def load_screening(name: str = "nagtegaal2019") -> pd.DataFrame:
    """A labelled screening data set as a DataFrame.

    Columns: ``record_id`` (the ASReview record number), ``title``, ``abstract``
    (missing abstracts are empty strings), ``label_abstract_screening`` (1 = kept at
    title/abstract screening, 0 = excluded), ``label_included`` (1 = included in the
    review after full-text reading, 0 = not), ``duplicate_record_id`` (the record this
    one duplicates, as flagged by ASReview, else missing). ``attrs`` hold ``name``,
    ``source``, ``description``, ``citation`` and ``licence``.

    Prioritising title/abstract screening is naturally simulated against
    ``label_abstract_screening``; ``label_included`` is the target ASReview's own
    simulation studies use.
    """
    if name not in SCREENING_DATASETS:
        raise KeyError(
            f"no screening data set {name!r}; available: {', '.join(sorted(SCREENING_DATASETS))}"
        )
    filename = SCREENING_DATASETS[name]
    with resources.files(__package__).joinpath(filename).open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", encoding="utf-8")
    frame["title"] = frame["title"].fillna("").astype(str)
    frame["abstract"] = frame["abstract"].fillna("").astype(str)
    frame["duplicate_record_id"] = frame["duplicate_record_id"].astype("Int64")
    frame.attrs.update(
        name=name,
        source=_SOURCE,
        description=_DESCRIPTION,
        citation=_CITATION,
        licence=_LICENCE,
    )
    return frame


def screening_texts(frame: pd.DataFrame) -> list[str]:
    """``title + " " + abstract`` for each record, the text the screening models read."""
    return [
        f"{title} {abstract}".strip()
        for title, abstract in zip(frame["title"], frame["abstract"], strict=True)
    ]
