"""Property-based checks of the pooling engine (hypothesis).

Whatever finite data come in: no crash, the CI contains the estimate,
0 <= I² <= 100, tau² >= 0, the order of studies does not matter, and a batch
gives the same numbers as its members pooled one by one.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from srma import meta, meta_batch

METHODS = ["EE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB", "PMM"]
TESTS = ["z", "t", "knha", "adhoc"]

# Eight orders of magnitude of variance and of effect size, far beyond real data.  Wider
# ranges still run (see docs/statistics.md), but variances 1e12 apart make
# sum w - sum w²/sum w lose digits to cancellation (in metafor too), so batch and
# single fits could differ beyond the tolerances checked here.
effects = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)
variances = st.floats(min_value=1e-4, max_value=1e4, allow_nan=False, allow_infinity=False)


@st.composite
def studies(draw: st.DrawFn, min_k: int = 1, max_k: int = 25) -> tuple[np.ndarray, np.ndarray]:
    k = draw(st.integers(min_value=min_k, max_value=max_k))
    yi = draw(arrays(np.float64, k, elements=effects))
    vi = draw(arrays(np.float64, k, elements=variances))
    return yi, vi


@settings(max_examples=150, deadline=None)
@given(data=studies(), method=st.sampled_from(METHODS), test=st.sampled_from(TESTS))
def test_pooled_result_is_coherent(
    data: tuple[np.ndarray, np.ndarray], method: str, test: str
) -> None:
    yi, vi = data
    result = meta(yi, vi, method=method, test=test)
    assert result.k == yi.size
    assert result.converged
    assert result.ci_lower <= result.estimate <= result.ci_upper
    slack = 1e-9 * (1.0 + np.max(np.abs(yi)))
    assert min(yi) - slack <= result.estimate <= max(yi) + slack
    # Knapp-Hartung scales the variance by sum w r²/(k-1), which is 0 when the
    # studies agree exactly (metafor does the same); srma warns about it.
    assert result.se > 0 or (test == "knha" and result.k > 1)
    assert sum(result.weights) == pytest.approx(100.0)
    if yi.size == 1:
        assert result.q is None and result.i2 is None and result.tau2 is None
        return
    assert 0.0 <= result.i2 <= 100.0
    # H² = tau²/s² + 1 under random effects; Q/df (which may be < 1) under EE.
    assert result.h2 >= (0.0 if method == "EE" else 1.0 - 1e-12)
    assert 0.0 <= result.q_pvalue <= 1.0
    if method != "EE":
        assert result.tau2 >= 0.0
        assert result.tau2_ci_lower <= result.tau2_ci_upper
        assert result.pi_lower <= result.ci_lower + 1e-12
        assert result.pi_upper >= result.ci_upper - 1e-12


@settings(max_examples=100, deadline=None)
@given(data=studies(min_k=2), method=st.sampled_from(METHODS), seed=st.integers(0, 2**32 - 1))
def test_order_of_studies_does_not_matter(
    data: tuple[np.ndarray, np.ndarray], method: str, seed: int
) -> None:
    yi, vi = data
    order = np.random.default_rng(seed).permutation(yi.size)
    first = meta(yi, vi, method=method, test="knha")
    second = meta(yi[order], vi[order], method=method, test="knha")
    for field in ("estimate", "se", "tau2", "i2", "q", "ci_lower", "pi_upper"):
        a, b = getattr(first, field), getattr(second, field)
        if a is None:
            assert b is None
        else:
            assert b == pytest.approx(a, rel=1e-7, abs=1e-10)


@settings(max_examples=40, deadline=None)
@given(
    members=st.lists(studies(max_k=12), min_size=1, max_size=8),
    method=st.sampled_from(METHODS),
    test=st.sampled_from(TESTS),
)
def test_batch_equals_members_one_by_one(
    members: list[tuple[np.ndarray, np.ndarray]], method: str, test: str
) -> None:
    width = max(yi.size for yi, _ in members)
    Y = np.full((len(members), width), np.nan)
    V = np.full((len(members), width), np.nan)
    for row, (yi, vi) in enumerate(members):
        Y[row, : yi.size] = yi
        V[row, : vi.size] = vi
    batch = meta_batch(Y, V, method=method, test=test)
    for row, (yi, vi) in enumerate(members):
        single = meta(yi, vi, method=method, test=test)
        # Sums run in another order in a padded batch; rounding noise scales with the data:
        # |y| for effects, y² for tau², y²/v for Q, and I² or p-values inherit Q's noise.
        y_scale = 1.0 + float(np.max(np.abs(yi)))
        noise = {"tau2": y_scale**2, "q": y_scale**2 / float(np.min(vi))}
        for field in ("estimate", "se", "pvalue", "ci_lower", "ci_upper", "tau2", "i2", "q"):
            expected = getattr(single, field)
            got = getattr(batch, field)[row]
            if expected is None:
                assert np.isnan(got)
            elif field in ("i2", "pvalue"):
                assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)
            else:
                tolerance = 1e-12 * noise.get(field, y_scale)
                assert got == pytest.approx(expected, rel=1e-9, abs=tolerance)


def test_batch_result_exports() -> None:
    batch = meta_batch([[0.1, 0.3, np.nan], [0.2, 0.5, 0.4]], [[0.1, 0.2, np.nan], [0.1, 0.1, 0.2]])
    frame = batch.to_frame()
    assert list(frame["k"]) == [2, 3] and "tau" in frame
    payload = batch.to_dict()
    assert payload["method"] == "REML" and len(payload["weights"]) == 2
    assert np.allclose(payload["tau"], np.sqrt(payload["tau2"]))
