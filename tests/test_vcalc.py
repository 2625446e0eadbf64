"""``srma.vcalc`` against metafor's vcalc, and the shared-control SMD covariance.

Fixtures: tests/reference/fixtures/vcalc.json from tests/reference/vcalc.R (the
data sets of vcalc's help page: dat.assink2016, dat.ishak2007, dat.kalaian1996,
dat.berkey1998, dat.knapp2017).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srma
from conftest import load_fixture
from srma.errors import InputError
from srma.stats.covariance import smd_shared_control_covariance

FIXTURE = load_fixture("vcalc.json")
CASES = {case["name"]: case for case in FIXTURE["cases"]}


def _rho(value: Any) -> Any:
    """The fixture's rho as srma takes it: numbers, labelled DataFrames, or a mapping of both."""
    if isinstance(value, dict) and "levels" in value:
        return pd.DataFrame(
            np.asarray(value["matrix"]), index=value["levels"], columns=value["levels"]
        )
    if isinstance(value, dict):
        return {key: _rho(inner) for key, inner in value.items()}
    return value


def _call(case: dict[str, Any], **overrides: Any) -> np.ndarray:
    frame = pd.DataFrame(case["data"])
    roles = {name: name for name in case["data"] if name not in ("vi", "cluster")}
    options = {"rho": _rho(case["rho"]), "phi": case["phi"], **roles, **overrides}
    return srma.vcalc(frame, "vi", "cluster", **options)


PD_CASES = [name for name in CASES if name != "knapp_groups"]


@pytest.mark.parametrize("name", PD_CASES)
def test_every_mode_matches_metafor_vcalc(name: str) -> None:
    case = CASES[name]
    V = _call(case)
    reference = np.asarray(case["V"])
    np.testing.assert_allclose(V, reference, rtol=1e-6, atol=1e-12 * np.abs(reference).max())


def test_a_not_positive_definite_cluster_is_named() -> None:
    """Rows sharing both groups of a contrast are perfectly correlated (metafor warns)."""
    case = CASES["knapp_groups"]
    with pytest.raises(InputError, match=r"cluster\(s\) '6', '12', '14'") as error:
        _call(case)
    assert "not positive definite" in str(error.value)
    # on request, the matrix metafor returns with its warning
    np.testing.assert_allclose(_call(case, check_pd=False), np.asarray(case["V"]), atol=1e-15)


def test_pairs_of_rho_may_be_a_tuple_or_a_mapping() -> None:
    case = CASES["assink_type_obs"]
    frame = pd.DataFrame(case["data"])
    as_tuple = srma.vcalc(frame, "vi", "cluster", obs="obs", type="type", rho=(0.7, 0.5))
    np.testing.assert_allclose(as_tuple, np.asarray(case["V"]), atol=1e-15)


# --- the covariance of SMDs sharing a control group ---------------------------------------


def test_one_treatment_group_gives_escalcs_large_sample_smd_variance() -> None:
    data = FIXTURE["smd_variance"]
    for d, n1, n2, vi in zip(data["yi"], data["n1i"], data["n2i"], data["vi"], strict=True):
        assert smd_shared_control_covariance([d], [n1], n2)[0, 0] == pytest.approx(vi, rel=1e-12)


def test_the_shared_control_formula_by_hand() -> None:
    """Two treatments (n = 20, 30) against one control (n = 25): N = 75."""
    V = smd_shared_control_covariance([0.5, 0.8], [20, 30], 25)
    assert V[0, 1] == V[1, 0] == pytest.approx(1 / 25 + 0.5 * 0.8 / 150, rel=1e-15)
    assert V[0, 0] == pytest.approx(1 / 20 + 1 / 25 + 0.25 / 150, rel=1e-15)
    assert V[1, 1] == pytest.approx(1 / 30 + 1 / 25 + 0.64 / 150, rel=1e-15)


def test_the_shared_control_covariance_matches_a_simulation() -> None:
    """Monte Carlo: d_i = (mean_i - mean_c) / s with s pooled over all three groups.

    The second term ``d_i d_j / (2N)`` is a quarter of the covariance here, far more
    than the simulation's standard error, so the check is of the whole formula.
    """
    rng = np.random.default_rng(20090101)
    n, delta, reps = 400, np.array([1.0, 1.5]), 20_000
    control = rng.standard_normal((reps, n))
    treated = rng.standard_normal((reps, 2, n)) + delta[None, :, None]
    groups = np.concatenate([control[:, None], treated], axis=1)
    pooled = np.sqrt(groups.var(axis=2, ddof=1).mean(axis=1))
    d = (treated.mean(axis=2) - control.mean(axis=1)[:, None]) / pooled[:, None]
    simulated = np.cov(d, rowvar=False)
    expected = smd_shared_control_covariance(delta, [n, n], n)
    standard_error = np.sqrt(
        (simulated[0, 0] * simulated[1, 1] + simulated[0, 1] ** 2) / (reps - 1)
    )
    assert abs(simulated[0, 1] - expected[0, 1]) < 4 * standard_error
    without_shared_sd = 1 / n  # what the covariance would be without the d d / 2N term
    assert abs(simulated[0, 1] - without_shared_sd) > 10 * standard_error
    np.testing.assert_allclose(np.diag(simulated), np.diag(expected), rtol=0.05)


# --- properties -------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 5), min_size=2, max_size=6),
    rho=st.floats(0.0, 0.95, allow_subnormal=False),  # rho * sd * sd underflows below
    seed=st.integers(0, 2**16),
)
def test_compound_symmetry_is_a_symmetric_positive_definite_block_matrix(
    sizes: list[int], rho: float, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(len(sizes)), sizes)
    order = rng.permutation(cluster.size)
    frame = pd.DataFrame(
        {
            "vi": rng.uniform(0.01, 1.0, cluster.size),
            "study": cluster[order],
            "esid": np.arange(cluster.size),
        }
    )
    V = srma.vcalc(frame, obs="esid", rho=rho)
    np.testing.assert_allclose(V, V.T)
    np.testing.assert_allclose(np.diag(V), frame["vi"])
    assert np.linalg.eigvalsh(V).min() > 0
    study = frame["study"].to_numpy()
    assert np.all(V[study[:, None] != study[None, :]] == 0)
    within = (study[:, None] == study[None, :]) & ~np.eye(study.size, dtype=bool)
    sd = np.sqrt(frame["vi"].to_numpy())
    np.testing.assert_allclose(V[within], (rho * np.outer(sd, sd))[within], atol=1e-300)


# --- bad input --------------------------------------------------------------------------

FRAME = pd.DataFrame(
    {
        "vi": [0.1, 0.2, 0.15, 0.3],
        "study": ["a", "a", "b", "b"],
        "esid": [1, 2, 3, 4],
        "kind": ["x", "y", "x", "y"],
        "time": [1, 2, 1, 3],
    }
)


def test_a_correlation_beyond_one_is_refused() -> None:
    with pytest.raises(InputError, match=r"must lie in \[-1, 1\]"):
        srma.vcalc(FRAME, obs="esid", rho=1.2)
    matrix = pd.DataFrame([[1, 2.0], [2.0, 1]], index=["x", "y"], columns=["x", "y"])
    with pytest.raises(InputError, match=r"'x' and 'y' is 2\.0"):
        srma.vcalc(FRAME, type="kind", rho=matrix)


def test_a_missing_cluster_names_its_row() -> None:
    frame = FRAME.copy()
    frame.loc[2, "study"] = None
    with pytest.raises(InputError, match="row 3") as error:
        srma.vcalc(frame, obs="esid", rho=0.5, source="es.csv")
    assert "column 'study'" in str(error.value) and "es.csv" in str(error.value)


def test_options_that_need_each_other() -> None:
    with pytest.raises(InputError, match="rho is needed with obs"):
        srma.vcalc(FRAME, obs="esid")
    with pytest.raises(InputError, match="name obs= or type="):
        srma.vcalc(FRAME, rho=0.5)
    with pytest.raises(InputError, match="must be a pair"):
        srma.vcalc(FRAME, obs="esid", type="kind", rho=0.5)
    with pytest.raises(InputError, match="phi"):
        srma.vcalc(FRAME, time1="time")
    with pytest.raises(InputError, match="vcalc\\(\\): phi"):
        srma.vcalc(FRAME, time1="time", phi=1.5)
    with pytest.raises(InputError, match="time2 needs time1"):
        srma.vcalc(FRAME, time2="time", phi=0.5)


def test_correlation_matrices_must_fit_the_levels() -> None:
    only_x = pd.DataFrame([[1.0]], index=["x"], columns=["x"])
    with pytest.raises(InputError, match=r"no row for level\(s\) \['y'\]"):
        srma.vcalc(FRAME, type="kind", rho=only_x)
    lopsided = pd.DataFrame([[1, 0.2], [0.3, 1]], index=["x", "y"], columns=["x", "y"])
    with pytest.raises(InputError, match="symmetric"):
        srma.vcalc(FRAME, type="kind", rho=lopsided)


def test_bad_variances_and_columns_are_named() -> None:
    frame = FRAME.assign(vi=[0.1, -0.2, 0.15, 0.3])
    with pytest.raises(InputError, match="row 2"):
        srma.vcalc(frame, obs="esid", rho=0.5)
    with pytest.raises(InputError, match="'sample' not found"):
        srma.vcalc(FRAME, cluster="sample", obs="esid", rho=0.5)


def test_a_contrast_of_a_group_with_itself_is_refused() -> None:
    frame = FRAME.assign(g1=["t", "t", "c", "t"], g2=["c", "c", "c", "c"])
    with pytest.raises(InputError, match="undefined") as error:
        srma.vcalc(frame, grp1="g1", grp2="g2")
    assert "row 3" in str(error.value)
