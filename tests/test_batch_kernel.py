"""The compiled batch kernel (srma.stats.kernel) against the numpy path, field by field.

The numpy path (srma.stats.pooling.pool) is the reference, itself checked against
metafor in tests/test_pooling_reference.py; the kernel must give the same numbers
to 1e-12 (relative) on every field, with the same NaN pattern, the same
convergence flags and the same iteration counts.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srma.stats import kernel, pooling
from srma.stats.batch import as_batch
from srma.stats.pooling import PooledArrays, pool_in_blocks

RELATIVE = 1e-12


def assert_same(y: np.ndarray, v: np.ndarray, **options: object) -> PooledArrays:
    """Both engines on ``(y, v)``: every field equal to ``RELATIVE``, NaN where the other is."""
    reference = pool_in_blocks(as_batch(y, v), method="REML", engine="numpy", **options)
    compiled = pool_in_blocks(as_batch(y, v), method="REML", engine="compiled", **options)
    for item in fields(PooledArrays):
        a = np.asarray(getattr(reference, item.name), dtype=float)
        b = np.asarray(getattr(compiled, item.name), dtype=float)
        assert a.shape == b.shape, item.name
        np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=item.name)
        finite = np.isfinite(a) & np.isfinite(b)
        np.testing.assert_array_equal(a[~finite & ~np.isnan(a)], b[~finite & ~np.isnan(b)])
        # values that are 0 up to rounding (an estimate at 0, tau² at the boundary) are
        # compared on the scale of the field in the batch
        scale = np.max(np.abs(a[finite]), initial=0.0)
        np.testing.assert_allclose(
            b[finite], a[finite], rtol=RELATIVE, atol=1e-14 * scale, err_msg=item.name
        )
    return compiled


def simulate(n: int, k: int, seed: int, tau2_high: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.chisquare(3, size=(n, k)) / 20 + 0.005
    tau2 = rng.uniform(0.0, tau2_high, size=(n, 1))
    return rng.normal(0.3, np.sqrt(v + tau2)), v


@pytest.mark.parametrize("test", ["z", "t", "knha", "adhoc"])
@pytest.mark.parametrize("pi_type", ["riley", "t", "default"])
def test_every_test_and_prediction_interval(test: str, pi_type: str) -> None:
    y, v = simulate(3000, 10, seed=1)
    fit = assert_same(y, v, test=test, pi_type=pi_type, level=0.95)
    assert fit.converged.all()
    assert (fit.tau2 == 0).any() and (fit.tau2 > 0).any()  # both sides of the boundary


@pytest.mark.parametrize("level", [0.5, 0.9, 0.999999])
@pytest.mark.parametrize("interval", [True, False])
def test_levels_and_without_the_interval(level: float, interval: bool) -> None:
    y, v = simulate(2000, 6, seed=2)
    fit = assert_same(y, v, test="knha", level=level, tau2_interval=interval)
    assert np.isnan(fit.tau2_ci_lower).all() != interval


def test_ragged_rows_k_0_1_2_and_padding() -> None:
    y, v = simulate(4000, 12, seed=3)
    rng = np.random.default_rng(4)
    k = rng.integers(0, 13, size=4000)
    absent = np.arange(12)[None, :] >= k[:, None]
    y[absent] = np.nan
    v[rng.permuted(absent, axis=1)] = np.nan  # absent cells anywhere in the row
    fit = assert_same(y, v, test="knha")
    assert {0, 1, 2} <= set(fit.k.tolist())
    assert np.isnan(fit.tau2[fit.k < 2]).all()


def test_homogeneous_rows_and_equal_effects() -> None:
    rng = np.random.default_rng(5)
    v = rng.uniform(0.01, 0.1, size=(500, 5))
    y = np.repeat(rng.normal(size=(500, 1)), 5, axis=1)  # the studies agree exactly
    y[:250] += rng.normal(0, 1e-3, size=(250, 5))  # tau² at the boundary
    fit = assert_same(y, v, test="knha")
    assert (fit.tau2 == 0).all() and (fit.se[250:] == 0).all()


def test_k_equal_2() -> None:
    y, v = simulate(3000, 2, seed=6, tau2_high=2.0)
    assert_same(y, v, test="knha", pi_type="riley")


@pytest.mark.parametrize("scale", [1e-120, 1e-8, 1e8, 1e120])
def test_huge_and_tiny_variances(scale: float) -> None:
    y, v = simulate(1000, 8, seed=7)
    assert_same(y * np.sqrt(scale), v * scale, test="knha")


def test_variances_spanning_many_orders_in_a_row() -> None:
    rng = np.random.default_rng(8)
    v = 10.0 ** rng.uniform(-9, 9, size=(1000, 7))  # "wide": the rest sums directly
    y = rng.normal(0, np.sqrt(v + rng.uniform(0, 1, size=(1000, 1))))
    assert_same(y, v, test="adhoc")


def test_effects_far_from_0_are_standardised() -> None:
    y, v = simulate(1000, 5, seed=9)
    assert_same(y + 1e60, v, test="knha")  # not "ordinary": centred and scaled
    assert_same(y * 1e-3 + 1e4, v * 1e-6, test="knha")  # far from 0 for its spread


def test_block_choices_are_taken_per_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """standardise() decides "ordinary" and "wide" per block of BLOCK_ROWS rows, as the kernel."""
    monkeypatch.setattr(pooling, "BLOCK_ROWS", 64)
    y, v = simulate(300, 6, seed=10)
    y[70] += 1e55  # block 1 is not ordinary
    v[200, 0] = 1e-7  # block 3 is wide
    assert_same(y, v, test="knha", workers=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    k=st.integers(1, 9),
    seed=st.integers(0, 2**32 - 1),
    log_v=st.floats(-6, 6),
    tau2=st.floats(0.0, 5.0),
    missing=st.floats(0.0, 0.5),
    test=st.sampled_from(["z", "t", "knha", "adhoc"]),
)
def test_random_batches(
    k: int, seed: int, log_v: float, tau2: float, missing: float, test: str
) -> None:
    rng = np.random.default_rng(seed)
    v = 10.0**log_v * rng.uniform(0.2, 5.0, size=(40, k))
    y = rng.normal(rng.normal(), np.sqrt(v + tau2 * 10.0**log_v))
    y[rng.random((40, k)) < missing] = np.nan
    assert_same(y, v, test=test)


def test_auto_uses_numpy_for_small_batches_and_without_numba(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    y, v = simulate(50, 4, seed=11)
    calls = []
    monkeypatch.setattr(kernel, "fit_batch", lambda *a, **k: calls.append(1))
    pool_in_blocks(as_batch(y, v), engine="auto")
    assert calls == []  # below COMPILED_MIN_ROWS
    monkeypatch.setattr(pooling, "COMPILED_MIN_ROWS", 10)

    def missing() -> None:
        raise ImportError("No module named 'numba'")

    monkeypatch.setattr(kernel, "load", missing)
    reference = pool_in_blocks(as_batch(y, v), engine="numpy")
    fallback = pool_in_blocks(as_batch(y, v), engine="auto")
    np.testing.assert_array_equal(fallback.tau2, reference.tau2)
    with pytest.raises(RuntimeError, match="needs numba"):
        pool_in_blocks(as_batch(y, v), engine="compiled")
    monkeypatch.setenv(pooling.ENGINE_VARIABLE, "compiled")
    with pytest.raises(RuntimeError, match="needs numba"):
        pool_in_blocks(as_batch(y, v))
    assert calls == []


def test_other_methods_and_bad_engine() -> None:
    y, v = simulate(50, 4, seed=12)
    dl = pool_in_blocks(as_batch(y, v), method="DL", engine="compiled")  # numpy: not covered
    np.testing.assert_array_equal(
        dl.tau2, pool_in_blocks(as_batch(y, v), method="DL", engine="numpy").tau2
    )
    with pytest.raises(ValueError, match="unknown engine"):
        pool_in_blocks(as_batch(y, v), engine="fortran")


def test_numba_is_not_imported_by_srma_or_a_small_batch() -> None:
    probe = (
        "import sys, numpy as np, srma\n"
        "srma.meta_batch(np.ones((3, 4)) + np.arange(4), np.full((3, 4), 0.1), test='knha')\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_meta_batch_passes_its_engine_on_and_refuses_an_unknown_one() -> None:
    from srma import meta_batch
    from srma.errors import InputError

    rng = np.random.default_rng(11)
    y, v = rng.normal(size=(40, 7)), rng.uniform(0.01, 0.2, (40, 7))
    reference = meta_batch(y, v, engine="numpy").arrays
    compiled = meta_batch(y, v, engine="compiled").arrays
    for name in ("estimate", "se", "tau2", "ci_lower", "ci_upper", "tau2_ci_lower"):
        np.testing.assert_allclose(getattr(compiled, name), getattr(reference, name),
                                   rtol=1e-12, atol=0)  # fmt: skip
    with pytest.raises(InputError, match="unknown engine 'gpu'"):
        meta_batch(y, v, engine="gpu")
