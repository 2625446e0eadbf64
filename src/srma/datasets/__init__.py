"""Real data sets shipped with srma, each with its source and licence (see README.md here)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd


@dataclass(frozen=True)
class DatasetInfo:
    """Where a shipped data set comes from."""

    name: str
    description: str
    citation: str
    licence: str


_LICENCE = (
    "Published trial summary data from the cited paper, as distributed in the R package "
    "metadat (licence GPL-2 | GPL-3, i.e. GPL >= 2); cite the original paper."
)

DATASETS: dict[str, DatasetInfo] = {
    "normand1999": DatasetInfo(
        name="normand1999",
        description=(
            "Length of hospital stay (days) in nine trials of specialist stroke-unit care "
            "(group 1) versus routine management (group 2)"
        ),
        citation=(
            "Normand SLT (1999). Meta-analysis: formulating, evaluating, combining, and "
            "reporting. Statistics in Medicine 18:321-359."
        ),
        licence=_LICENCE,
    ),
    "bcg": DatasetInfo(
        name="bcg",
        description=(
            "Tuberculosis cases in thirteen trials of the BCG vaccine (group 1 vaccinated, "
            "group 2 not), with absolute latitude and allocation method"
        ),
        citation=(
            "Colditz GA, Brewer TF, Berkey CS, et al. (1994). Efficacy of BCG vaccine in the "
            "prevention of tuberculosis: meta-analysis of the published literature. "
            "JAMA 271:698-702."
        ),
        licence=_LICENCE,
    ),
}


def available() -> list[str]:
    """Names of the shipped data sets."""
    return sorted(DATASETS)


def load(name: str) -> pd.DataFrame:
    """A shipped data set as a DataFrame; ``attrs`` hold its description, citation, licence."""
    if name not in DATASETS:
        raise KeyError(f"no data set {name!r}; available: {', '.join(available())}")
    info = DATASETS[name]
    with resources.files(__package__).joinpath(f"{name}.csv").open(encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    frame.attrs.update(
        name=name,
        source=f"srma.datasets:{name}.csv",
        description=info.description,
        citation=info.citation,
        licence=info.licence,
    )
    return frame


# labelled screening data (title/abstract decisions), for active-learning simulations
from srma.datasets.screening import load_screening  # noqa: E402

__all__ = ["DATASETS", "DatasetInfo", "available", "load", "load_screening"]
