"""The Henmi-Copas confidence interval of the pooled effect (Henmi & Copas 2010).

Henmi & Copas (2010, Stat Med 29:2969-2983) keep the common-effect (fixed-effect)
estimate ``beta = sum w_i y_i / sum w_i`` (``w_i = 1/v_i``), which small-study
effects bias less than the random-effects mean, and give it a variance and an
interval that allow for heterogeneity.  With DerSimonian-Laird's ``tau²`` and
``W1 = sum w``, ``Wj = sum w^j / W1`` (j = 2, 3, 4):

* ``Var(beta) = (tau² W2 + 1) / W1`` (the variance of the common-effect mean under
  the random-effects model);
* the pivot ``T = (beta - mu) / se`` is not normal because ``tau²`` is estimated
  from ``Q``; given ``(beta - mu) / sqrt(Var(beta)) = r / sqrt(VR)`` with ``VR = 1 +
  tau² W2``, ``Q`` has mean ``EQ(r)`` and variance ``VQ(r)`` (the moments of a
  quadratic form in normal variables):

  ``EQ(r) = (k - 1) + tau² (W1 - W2) + tau⁴ (r²/VR² - 1/VR)(W3 - W2²)``,

  ``VQ(r) = 2 (k - 1) + 4 tau² (W1 - W2) + 2 tau⁴ (W1 W2 - 2 W3 + W2²)
  + 4 tau⁴ (r²/VR² - 1/VR)(W3 - W2²) + 4 tau⁶ (r²/VR² - 1/VR)(W4 - 2 W2 W3 + W2³)
  + 2 tau⁸ (1/VR² - 2 r²/VR³)(W3 - W2²)²``,

  and is approximated by a gamma distribution with those moments;
* ``|T| > t`` exactly when ``Q < finv(r/t) = (W1/W2 - 1)((r/t)² - 1) + (k - 1)``,
  so ``P(T > t) = int_t^inf G(finv(r/t); sqrt(VR) r) phi(r) dr`` with ``G`` the
  gamma distribution function: the interval is ``beta ± sqrt(VR) t0 se`` where
  ``P(T > t0) = (1 - level)/2``.

The integral is a Gauss-Legendre rule over ``[t, t + 12]`` (``phi`` is below
1e-31 beyond) and ``t0`` is found by bisection, both vectorised over rows:
the numbers agree with metafor's ``hc.rma.uni``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammainc

from srma.stats.batch import Batch, FloatArray, masked_sum

#: Gauss-Legendre nodes of the integral over ``[t, t + INTEGRAL_SPAN]``.
QUADRATURE_NODES = 256
INTEGRAL_SPAN = 12.0
#: Bisection halvings of the bracket ``(0, 2]`` of ``t0`` (down to 2^-60 ~ 1e-18).
BISECTIONS = 60


@dataclass(frozen=True)
class HenmiCopasArrays:
    """The Henmi-Copas estimate, its se and interval, and DerSimonian-Laird's tau², per row."""

    estimate: FloatArray
    se: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    tau2: FloatArray
    t0: FloatArray


def henmi_copas(batch: Batch, level: float = 0.95) -> HenmiCopasArrays:
    """The Henmi & Copas (2010) interval of every row of ``batch`` (see the module)."""
    k = batch.k.astype(np.float64)
    w = np.where(batch.mask, 1.0 / batch.v, 0.0)
    y = np.where(batch.mask, batch.y, 0.0)
    w1 = w.sum(axis=1)
    w2, w3, w4 = ((w**j).sum(axis=1) / w1 for j in (2, 3, 4))
    estimate = (w * y).sum(axis=1) / w1
    q = masked_sum(w * (y - estimate[:, None]) ** 2, batch.mask)
    tau2 = np.maximum(0.0, (q - (k - 1.0)) / (w1 - w2))
    se = np.sqrt((tau2 * w2 + 1.0) / w1)
    vr = 1.0 + tau2 * w2
    sdr = np.sqrt(vr)
    spread = w3 - w2**2

    def gamma_moments(r: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``EQ(r)`` and ``VQ(r)`` for ``r`` shaped ``(batch, nodes)``."""
        t, vr_, d = tau2[:, None], vr[:, None], spread[:, None]
        centred = r**2 / vr_**2 - 1.0 / vr_
        eq = (k - 1.0)[:, None] + t * (w1 - w2)[:, None] + t**2 * centred * d
        vq = (
            2.0 * (k - 1.0)[:, None]
            + 4.0 * t * (w1 - w2)[:, None]
            + 2.0 * t**2 * (w1 * w2 - 2.0 * w3 + w2**2)[:, None]
            + 4.0 * t**2 * centred * d
            + 4.0 * t**3 * centred * (w4 - 2.0 * w2 * w3 + w2**3)[:, None]
            + 2.0 * t**4 * (1.0 / vr_**2 - 2.0 * r**2 / vr_**3) * d**2
        )
        return eq, vq

    nodes, node_weights = np.polynomial.legendre.leggauss(QUADRATURE_NODES)
    offsets = 0.5 * INTEGRAL_SPAN * (nodes + 1.0)
    half_span_weights = 0.5 * INTEGRAL_SPAN * node_weights

    def tail(t: FloatArray) -> FloatArray:
        """``P(T > t)`` per row, for ``t`` shaped ``(batch,)``."""
        r = t[:, None] + offsets[None, :]
        eq, vq = gamma_moments(sdr[:, None] * r)
        shape, scale = eq**2 / vq, vq / eq
        bound = (w1 / w2 - 1.0)[:, None] * ((r / t[:, None]) ** 2 - 1.0) + (k - 1.0)[:, None]
        density = np.exp(-0.5 * r**2) / np.sqrt(2.0 * np.pi)
        return (gammainc(shape, bound / scale) * density) @ half_span_weights

    target = 0.5 * (1.0 - level)
    low = np.zeros_like(w1)
    high = np.full_like(w1, 2.0)
    for _ in range(BISECTIONS):
        middle = 0.5 * (low + high)
        above = tail(middle) > target  # P(T > t) decreases in t
        low = np.where(above, middle, low)
        high = np.where(above, high, middle)
    t0 = 0.5 * (low + high)
    half_width = sdr * t0 * se
    return HenmiCopasArrays(
        estimate=estimate,
        se=se,
        ci_lower=estimate - half_width,
        ci_upper=estimate + half_width,
        tau2=tau2,
        t0=t0,
    )
