"""Leave-one-out, influence, cumulative, Baujat and GOSH agree with metafor.

Fixtures: tests/reference/fixtures/sensitivity.json from
tests/reference/sensitivity.R (metafor's leave1out, influence, cumul, baujat
and gosh on dat.bcg, dat.normand1999 and dat.raudenbush1985).  One deliberate
difference: for a one-study subset (the first cumulative step, GOSH singletons)
metafor prints Q = 0 and I² = 0; srma reports heterogeneity as undefined (NaN).
metafor's gosh() also takes H² = Q/df for DL fits (below 1 when Q < df), where
its rma() and srma use H² = tau²/s² + 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma.stats.batch import as_batch
from srma.stats.influence import (
    baujat,
    cumulative_batch,
    gosh,
    influence,
    leave_one_out_batch,
    leave_one_out_fits,
    subsets_batch,
)
from srma.stats.pooling import pool

FIXTURE = load_fixture("sensitivity.json")
CASES = FIXTURE["cases"]


def _close(ours: np.ndarray, reference: list, name: str) -> None:
    expected = np.array([np.nan if x is None else x for x in reference], dtype=float)
    np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-10, err_msg=name)


def _fits(case: dict):
    y, v = np.array(case["yi"]), np.array(case["vi"])
    method, test = case["method"], case["test"]
    full = pool(as_batch(y, v), method=method, test=test, tau2_interval=False)
    deleted = pool(leave_one_out_batch(y, v), method=method, test=test, tau2_interval=False)
    return y, v, full, deleted


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}")
def test_leave_one_out_matches_metafor(case: dict) -> None:
    _, _, _, deleted = _fits(case)
    for field, reference in case["leave1out"].items():
        if reference:  # metafor leaves tau² out of EE fits
            _close(getattr(deleted, field), reference, field)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}")
def test_influence_matches_metafor(case: dict) -> None:
    y, v, full, _ = _fits(case)
    deleted = leave_one_out_fits(y, v, method=case["method"], test=case["test"])
    result = influence(y, v, method=case["method"], test=case["test"], full=full, deleted=deleted)
    for field, reference in case["influence"].items():
        if field == "influential":
            assert list(result.influential) == reference
        else:
            _close(getattr(result, field), reference, field)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}")
def test_cumulative_and_baujat_match_metafor(case: dict) -> None:
    y, v, full, deleted = _fits(case)
    order = np.array(case["cumulative"]["order"])
    cumulative = pool(
        cumulative_batch(y[order], v[order]),
        method=case["method"],
        test=case["test"],
        tau2_interval=False,
    )
    for field, reference in case["cumulative"].items():
        if field == "order" or not reference:  # metafor leaves tau² out of EE fits
            continue
        ours = getattr(cumulative, field)
        if field in ("q", "tau2", "i2"):
            assert np.isnan(ours[0])  # one study: heterogeneity undefined
            _close(ours[1:], reference[1:], field)
        else:
            _close(ours, reference, field)
    coordinates = baujat(y, v, full, deleted, case["method"])
    _close(coordinates.heterogeneity_contribution, case["baujat"]["x"], "baujat x")
    _close(coordinates.influence_on_result, case["baujat"]["y"], "baujat y")


@pytest.mark.parametrize("index", [0, 1])
def test_gosh_matches_metafor(index: int) -> None:
    reference = FIXTURE["gosh"][index]
    y, v = np.array(reference["yi"]), np.array(reference["vi"])
    included = np.array(reference["included"], dtype=bool)
    codes = (included * (1 << np.arange(y.size))).sum(axis=1)
    fits = pool(subsets_batch(y, v, codes), method=reference["method"], tau2_interval=False)
    several = included.sum(axis=1) > 1
    _close(fits.estimate, reference["estimate"], "estimate")
    for field in ("q", "i2", "h2", "tau2"):
        if not reference[field]:
            continue
        expected = np.array(reference[field], dtype=float)
        if field == "h2" and reference["method"] == "DL":
            # metafor's gosh() takes H² = Q/df for DL fits, which drops below 1
            # when Q < df; its rma() (and srma throughout) uses tau²/s² + 1 >= 1.
            expected = np.maximum(expected, 1.0)
        _close(getattr(fits, field)[several], expected[several], field)


def test_gosh_enumerates_every_subset_and_samples_beyond() -> None:
    rng = np.random.default_rng(3)
    y, v = rng.normal(size=6), rng.uniform(0.05, 0.2, size=6)
    every = gosh(y, v, method="DL")
    assert every.exact and every.included.shape == (63, 6)
    assert len({row.tobytes() for row in every.included}) == 63
    sampled = gosh(y, v, method="DL", max_subsets=20, seed=1)
    assert not sampled.exact and sampled.included.shape == (20, 6)
    assert sampled.included.any(axis=1).all()
    again = gosh(y, v, method="DL", max_subsets=20, seed=1)
    np.testing.assert_array_equal(sampled.estimate, again.estimate)


@pytest.mark.parametrize("index", [0, 1])
def test_gosh_closed_forms_match_metafor_and_the_engine(index: int) -> None:
    """gosh() for EE and DL uses closed forms; same numbers as metafor and as pool()."""
    reference = FIXTURE["gosh"][index]
    y, v = np.array(reference["yi"]), np.array(reference["vi"])
    fits = gosh(y, v, method=reference["method"])
    included = np.array(reference["included"], dtype=bool)
    codes = (included * (1 << np.arange(y.size))).sum(axis=1)
    np.testing.assert_array_equal(fits.included[codes - 1], included)  # subset code c: row c-1
    _close(fits.estimate[codes - 1], reference["estimate"], "estimate")
    engine = pool(
        subsets_batch(y, v, np.arange(1, 2**y.size)),
        method=reference["method"],
        tau2_interval=False,
    )
    for field in ("estimate", "tau2", "q", "i2", "h2"):
        np.testing.assert_allclose(
            getattr(fits, field), getattr(engine, field), rtol=1e-9, atol=1e-12, err_msg=field
        )
