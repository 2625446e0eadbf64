"""Sensitivity analyses of a MetaResult: the engine's metafor-checked numbers, labelled."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma import InputError, meta
from srma.analysis.sensitivity import (
    baujat,
    cumulative,
    gosh,
    influence_diagnostics,
    leave_one_out,
)

CASE = next(
    c
    for c in load_fixture("sensitivity.json")["cases"]
    if c["dataset"] == "bcg_RR" and c["method"] == "REML" and c["test"] == "knha"
)


def _result():
    labels = [f"Trial {i + 1}" for i in range(len(CASE["yi"]))]
    return meta(CASE["yi"], CASE["vi"], method="REML", test="knha", labels=labels)


def test_leave_one_out_records_name_the_omitted_study() -> None:
    table = leave_one_out(_result())
    records = table.to_records()
    assert [r["omitted"] for r in records] == list(_result().labels)
    np.testing.assert_allclose(
        [r["estimate"] for r in records], CASE["leave1out"]["estimate"], rtol=1e-6
    )
    np.testing.assert_allclose(
        [r["tau2"] for r in records], CASE["leave1out"]["tau2"], rtol=1e-6, atol=1e-10
    )
    assert set(table.to_frame().columns) >= {"omitted", "estimate", "ci_lower", "i2", "q"}


def test_influence_and_baujat() -> None:
    diagnostics = influence_diagnostics(_result())
    np.testing.assert_allclose(
        diagnostics.cooks_distance, CASE["influence"]["cooks_distance"], rtol=1e-6
    )
    assert list(diagnostics.influential) == CASE["influence"]["influential"]
    assert diagnostics.to_records()[0]["study"] == "Trial 1"
    coordinates = baujat(_result())
    np.testing.assert_allclose(coordinates.influence_on_result, CASE["baujat"]["y"], rtol=1e-6)


def test_cumulative_orders_by_a_key() -> None:
    result = _result()
    order = np.array(CASE["cumulative"]["order"])
    keys = np.empty(len(order))
    keys[order] = np.arange(len(order))  # study order[0] first, and so on
    table = cumulative(result, order=keys)
    assert table.labels[0] == result.labels[order[0]]
    np.testing.assert_allclose(
        table.to_frame()["estimate"], CASE["cumulative"]["estimate"], rtol=1e-6
    )
    assert table.to_records()[0]["q"] is None  # one study: heterogeneity undefined
    with pytest.raises(InputError, match="one value per study"):
        cumulative(result, order=[1, 2])


def test_gosh_frame() -> None:
    result = gosh(_result())
    assert result.exact and result.subsets == 2 ** len(CASE["yi"]) - 1
    frame = result.to_frame()
    assert list(frame.columns[: len(CASE["yi"])]) == list(_result().labels)
    assert np.isfinite(frame["estimate"]).all()


def test_too_few_studies() -> None:
    single = meta([0.2], [0.1])
    with pytest.raises(InputError):
        leave_one_out(single)
    with pytest.raises(InputError):
        influence_diagnostics(meta([0.2, 0.3], [0.1, 0.2]))
