"""The networks of tests/reference/network_numerics.R as srma's ContrastData."""

from __future__ import annotations

from typing import Any

import numpy as np

from conftest import load_fixture
from srma.stats.network.data import ContrastData

FIXTURE = load_fixture("network_numerics.json")
CASES: list[dict[str, Any]] = FIXTURE["cases"]
#: (case, model) pairs: the common-effect fit and the REML fit of each network.
MODELS = [(case, model) for case in CASES for model in ("common", "reml")]
MODEL_IDS = [f"{case['name']}-{model}" for case, model in MODELS]


def contrast_data(case: dict[str, Any]) -> ContrastData:
    """The contrasts, as the R script built them (each study against its first arm)."""
    return ContrastData(
        treatments=tuple(case["treatments"]),
        studies=tuple(case["studies"]),
        study=np.asarray(case["study"], dtype=np.int64),
        treat1=np.asarray(case["treat1"], dtype=np.int64),
        treat2=np.asarray(case["treat2"], dtype=np.int64),
        y=np.asarray(case["y"], dtype=np.float64),
        V=np.asarray(case["V"], dtype=np.float64),
    )


def model_tau2(case: dict[str, Any], model: str) -> float:
    """0 for the common-effect model, metafor's REML tau² otherwise."""
    return 0.0 if model == "common" else float(case["reml"]["tau2"])


def fixture_array(values: list[Any]) -> np.ndarray:
    """A fixture list as floats, R's NA (written "NA") as NaN."""
    return np.array([np.nan if v in ("NA", "NaN", None) else v for v in values], dtype=float)
