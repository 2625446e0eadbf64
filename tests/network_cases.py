"""The networks of tests/reference/network.R (metadat's senn2013, hasselblad1998,
dogliotti2014, lopez2019 with metafor's rma.mv fits), and srma's fit of each."""

from __future__ import annotations

import warnings
from typing import Any

import pandas as pd

from conftest import load_fixture
from srma import network_meta
from srma.analysis.network import NetworkResult
from srma.errors import SrmaWarning

#: Each case by name: its data, measure, reference and metafor's fits.
CASES: dict[str, dict[str, Any]] = {
    case["name"]: case for case in load_fixture("network.json")["cases"]
}


def fit_case(name: str, **options: Any) -> NetworkResult:
    """``network_meta`` of the case's arms with its measure and reference (``options``
    override them), srma's warnings about the data silenced."""
    case = CASES[name]
    settings = {"measure": case["measure"], "reference": case["reference"], **options}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return network_meta(pd.DataFrame(case["data"]), **settings)
