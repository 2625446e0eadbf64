"""Real, fully labelled title/abstract screening data sets (see README.md here).

All three come from the ASReview project's cleaned collection
(github.com/asreview/systematic-review-datasets, commit 0909240f), one file each,
with the licence that collection's metadata gives:

* ``nagtegaal2019``: 2,019 records of Nagtegaal R, Tummers L, Noordegraaf M,
  Bekkers V (2019). Nudging healthcare professionals towards evidence-based
  medicine: a systematic scoping review. Journal of Behavioral Public
  Administration 2(2), doi:10.30636/jbpa.22.71. Title/abstract and final labels.
  CC0 1.0.
* ``bannach_brown2019``: 1,993 records of Bannach-Brown A, Przybyła P, Thomas J,
  et al. (2019). Machine learning algorithms for systematic review: reducing
  workload in a preclinical review of animal studies and reducing human screening
  error. Systematic Reviews 8:23, doi:10.1186/s13643-019-0942-7. Final labels.
  CC BY 4.0.
* ``kitchenham2010``: 1,704 records of Kitchenham B, Pretorius R, Budgen D, et al.
  (2010). Systematic literature reviews in software engineering - a tertiary
  study. Information and Software Technology 52(8):792-805,
  doi:10.1016/j.infsof.2010.03.006. Final labels. CC BY 4.0.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd

_COLLECTION = "https://github.com/asreview/systematic-review-datasets (commit 0909240f, "


@dataclass(frozen=True)
class ScreeningSet:
    """One shipped screening set: its file, provenance and label columns."""

    filename: str
    citation: str
    source: str
    licence: str
    description: str
    labels: tuple[str, ...]


SCREENING_DATASETS: dict[str, ScreeningSet] = {
    "nagtegaal2019": ScreeningSet(
        filename="nagtegaal2019_screening.csv.gz",
        citation=(
            "Nagtegaal R, Tummers L, Noordegraaf M, Bekkers V (2019). Nudging healthcare "
            "professionals towards evidence-based medicine: a systematic scoping review. Journal "
            "of Behavioral Public Administration 2(2). doi:10.30636/jbpa.22.71"
        ),
        source=(
            f"{_COLLECTION}datasets/Nagtegaal_2019/output/Nagtegaal_2019.csv); raw data "
            "doi:10.7910/DVN/WMGPGZ/HY6N2S"
        ),
        licence="CC0 1.0 (public domain dedication)",
        description=(
            "2,019 search results (title, abstract) for a scoping review of nudges aimed at "
            "healthcare professionals, with the title/abstract screening decision "
            "(label_abstract_screening: 392 relevant) and the final inclusion decision "
            "(label_included: 101 included)"
        ),
        labels=("label_abstract_screening", "label_included"),
    ),
    "bannach_brown2019": ScreeningSet(
        filename="bannach_brown2019_screening.csv.gz",
        citation=(
            "Bannach-Brown A, Przybyła P, Thomas J, Rice ASC, Ananiadou S, Liao J, Macleod MR "
            "(2019). Machine learning algorithms for systematic review: reducing workload in a "
            "preclinical review of animal studies and reducing human screening error. Systematic "
            "Reviews 8:23. doi:10.1186/s13643-019-0942-7"
        ),
        source=(
            f"{_COLLECTION}datasets/Bannach-Brown_2019/output/Bannach-Brown_2019.csv); raw "
            "data doi:10.5281/zenodo.151190"
        ),
        licence="CC BY 4.0 (Creative Commons Attribution 4.0 International)",
        description=(
            "1,993 search results (title, abstract) for a preclinical systematic review of "
            "animal models of depression, with the final inclusion decision (label_included: "
            "280 included)"
        ),
        labels=("label_included",),
    ),
    "kitchenham2010": ScreeningSet(
        filename="kitchenham2010_screening.csv.gz",
        citation=(
            "Kitchenham B, Pretorius R, Budgen D, Brereton OP, Turner M, Niazi M, Linkman S "
            "(2010). Systematic literature reviews in software engineering - a tertiary study. "
            "Information and Software Technology 52(8):792-805. doi:10.1016/j.infsof.2010.03.006"
        ),
        source=(
            f"{_COLLECTION}datasets/Hall_Wahono_Radjenovic_Kitchenham/output/Kitchenham_2010.csv"
            "); raw data (Yu, Kraft, Menzies 2018) doi:10.5281/zenodo.1162952"
        ),
        licence="CC BY 4.0 (Creative Commons Attribution 4.0 International)",
        description=(
            "1,704 search results (title, abstract) for a tertiary study of systematic reviews "
            "in software engineering, with the final inclusion decision (label_included: 45 "
            "included)"
        ),
        labels=("label_included",),
    ),
}


def load_screening(name: str = "nagtegaal2019") -> pd.DataFrame:
    """A labelled screening data set as a DataFrame.

    Columns: ``record_id`` (the ASReview record number), ``title``, ``abstract``
    (missing abstracts are empty strings), the set's 0/1 label columns (``attrs["labels"]``):
    ``label_included`` (1 = included in the review after full-text reading) in every set,
    and in ``nagtegaal2019`` also ``label_abstract_screening`` (1 = kept at title/abstract
    screening); where the source flags duplicates, ``duplicate_record_id`` (the record this
    one duplicates, else missing). ``attrs`` hold ``name``, ``source``, ``description``,
    ``citation``, ``licence`` and ``labels``.

    ``label_included`` is the target ASReview's own simulation studies use.
    """
    if name not in SCREENING_DATASETS:
        raise KeyError(
            f"no screening data set {name!r}; available: {', '.join(sorted(SCREENING_DATASETS))}"
        )
    info = SCREENING_DATASETS[name]
    with resources.files(__package__).joinpath(info.filename).open("rb") as handle:
        frame = pd.read_csv(handle, compression="gzip", encoding="utf-8")
    frame["title"] = frame["title"].fillna("").astype(str)
    frame["abstract"] = frame["abstract"].fillna("").astype(str)
    if "duplicate_record_id" in frame.columns:
        frame["duplicate_record_id"] = frame["duplicate_record_id"].astype("Int64")
    frame.attrs.update(
        name=name,
        source=info.source,
        description=info.description,
        citation=info.citation,
        licence=info.licence,
        labels=info.labels,
    )
    return frame


def screening_texts(frame: pd.DataFrame) -> list[str]:
    """``title + " " + abstract`` for each record, the text the screening models read."""
    return [
        f"{title} {abstract}".strip()
        for title, abstract in zip(frame["title"], frame["abstract"], strict=True)
    ]
