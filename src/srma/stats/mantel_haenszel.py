"""Mantel-Haenszel and Peto pooling of 2x2 tables, many meta-analyses at once.

Cells ``a, b, c, d`` (events and non-events in group 1, then group 2) are
arrays shaped ``(batch, k)`` with a boolean ``mask`` of the tables present.
As in metafor's ``rma.mh`` and ``rma.peto`` (defaults), the pooled estimate
uses the counts as they are (no continuity correction), and Cochran's Q is
computed from per-study effect sizes ``yi, vi`` around the pooled estimate
(those are corrected where needed and passed in, masked where undefined).

References: Mantel & Haenszel (1959) J Natl Cancer Inst 22:719-748; Robins,
Breslow & Greenland (1986) Biometrics 42:311-323 (variance of the MH log odds
ratio); Greenland & Robins (1985) Biometrics 41:55-68 (variances of the MH log
risk ratio and risk difference, Sato's form for the latter: Sato 1989,
Biometrics 45:1323-1324); Breslow & Day (1980) and Tarone (1985) Biometrika
72:91-95 (homogeneity of odds ratios); Yusuf et al. (1985) Prog Cardiovasc Dis
27:335-371 (Peto's method).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2, norm

from srma.stats.batch import BoolArray, FloatArray
from srma.stats.heterogeneity import i2_from_q

#: The tests reported for Mantel-Haenszel odds ratios (NaN for other measures).
ODDS_RATIO_TESTS = (
    "cochran_statistic",
    "cmh_statistic",
    "cmh_pvalue",
    "breslow_day_statistic",
    "tarone_statistic",
    "homogeneity_df",
    "breslow_day_pvalue",
    "tarone_pvalue",
)


@dataclass(frozen=True)
class CountPooledArrays:
    """A batch of Mantel-Haenszel or Peto results (NaN where undefined)."""

    k: np.ndarray  # tables pooled
    estimate: FloatArray  # log scale for OR and RR, Peto's log OR
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    q: FloatArray
    q_df: FloatArray
    q_pvalue: FloatArray
    i2: FloatArray
    h2: FloatArray
    weights: FloatArray  # (batch, k), percent
    cochran_statistic: FloatArray  # OR only, as the remaining four
    cmh_statistic: FloatArray
    cmh_pvalue: FloatArray
    breslow_day_statistic: FloatArray
    tarone_statistic: FloatArray
    homogeneity_df: FloatArray
    breslow_day_pvalue: FloatArray
    tarone_pvalue: FloatArray


def _sum(values: FloatArray, mask: BoolArray) -> FloatArray:
    return np.where(mask, values, 0.0).sum(axis=1)


def _wald(estimate: FloatArray, se: FloatArray, level: float) -> dict[str, FloatArray]:
    crit = norm.isf((1.0 - level) / 2.0)
    statistic = estimate / se
    return {
        "estimate": estimate,
        "se": se,
        "statistic": statistic,
        "pvalue": 2.0 * norm.sf(np.abs(statistic)),
        "ci_lower": estimate - crit * se,
        "ci_upper": estimate + crit * se,
    }


def _heterogeneity(estimate: FloatArray, yi: FloatArray, vi: FloatArray) -> dict[str, FloatArray]:
    """Q = sum (y_i - estimate)² / v_i on k_y - 1 df; I² and H² from Q (metafor's rma.mh)."""
    usable = np.isfinite(yi) & np.isfinite(vi)
    weights = np.where(usable, 1.0 / np.where(usable, vi, 1.0), 0.0)
    residual = np.where(usable, yi - estimate[:, None], 0.0)
    q = np.maximum((weights * residual**2).sum(axis=1), 0.0)
    df = usable.sum(axis=1) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        i2 = np.where(q > df, 100.0 * (q - df) / np.where(q > df, q, 1.0), 0.0)
        h2 = q / df
    several = df >= 1
    return {
        "q": np.where(several, q, np.nan),
        "q_df": np.where(several, df, np.nan),
        "q_pvalue": np.where(several, chi2.sf(q, np.maximum(df, 1.0)), np.nan),
        "i2": np.where(several, i2, np.nan),
        "h2": np.where(several, h2, np.nan),
    }


def mantel_haenszel(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    d: FloatArray,
    mask: BoolArray,
    yi: FloatArray,
    vi: FloatArray,
    measure: str,
    *,
    level: float = 0.95,
    correct: bool = True,
) -> CountPooledArrays:
    """Mantel-Haenszel pooled OR, RR or RD with its variance and tests.

    With ``N = a + b + c + d``, ``n1 = a + b``, ``n2 = c + d``:

    * OR: ``sum(a d / N) / sum(b c / N)``, Robins-Breslow-Greenland variance;
    * RR: ``sum(a n2 / N) / sum(c n1 / N)``, Greenland-Robins variance;
    * RD: ``sum(a n2 / N - c n1 / N) / sum(n1 n2 / N)``, Sato's variance.

    For OR also Cochran's and the Cochran-Mantel-Haenszel test of no
    association (with continuity correction when ``correct``), and the
    Breslow-Day and Tarone tests of homogeneity.
    """
    m = mask
    a, b, c, d = (np.where(m, x, 0.0) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    total = np.where(m, n1 + n2, 1.0)
    nan = np.full(a.shape[0], np.nan)
    extra = dict.fromkeys(ODDS_RATIO_TESTS, nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            r_i, s_i = a * d / total, b * c / total
            p_i, q_i = (a + d) / total, (b + c) / total
            r, s = _sum(r_i, m), _sum(s_i, m)
            defined = (r > 0) & (s > 0)
            estimate = np.where(defined, np.log(r / s), np.nan)
            variance = 0.5 * (
                _sum(p_i * r_i, m) / r**2
                + _sum(p_i * s_i + q_i * r_i, m) / (r * s)
                + _sum(q_i * s_i, m) / s**2
            )
            weights = b * c / total
            extra.update(_odds_ratio_tests(a, b, c, d, total, m, np.exp(estimate), correct))
        elif measure == "RR":
            r, s = _sum(a * n2 / total, m), _sum(c * n1 / total, m)
            defined = (_sum(a, m) > 0) & (_sum(c, m) > 0)
            estimate = np.where(defined, np.log(r / s), np.nan)
            variance = _sum(n1 * n2 * (a + c) / total**2 - a * c / total, m) / (r * s)
            weights = c * n1 / total
        elif measure == "RD":
            denominator = _sum(n1 * n2 / total, m)
            estimate = _sum(a * n2 / total - c * n1 / total, m) / denominator
            variance = (
                estimate
                * _sum(
                    c * (n1 / total) ** 2
                    - a * (n2 / total) ** 2
                    + (n1 / total) * (n2 / total) * (n2 - n1) / 2.0,
                    m,
                )
                + _sum(a * (n2 - c) / total + c * (n1 - a) / total, m) / 2.0
            ) / denominator**2
            weights = n1 * n2 / total
        else:
            raise ValueError(f"Mantel-Haenszel pools OR, RR or RD, not {measure!r}")
        weights = np.where(m, weights, 0.0)
        weights = 100.0 * weights / weights.sum(axis=1, keepdims=True)
    return CountPooledArrays(
        k=m.sum(axis=1),
        **_wald(estimate, np.sqrt(variance), level),
        **_heterogeneity(estimate, yi, vi),
        weights=weights,
        **extra,
    )


def _odds_ratio_tests(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    d: FloatArray,
    total: FloatArray,
    m: BoolArray,
    odds_ratio: FloatArray,
    correct: bool,
) -> dict[str, FloatArray]:
    """Cochran, Cochran-Mantel-Haenszel, Breslow-Day and Tarone statistics.

    ``CMH = (|sum(a - n1 x / N)| - 1/2)² / sum(n1 n2 x y / (N² (N - 1)))`` with
    ``x = a + c`` events and ``y = b + d`` non-events (Cochran's uses ``N³``);
    Breslow-Day compares each ``a`` with its expectation under the common
    odds ratio, and Tarone's correction subtracts ``(sum(a - E))² / sum(V)``.
    """
    n1, n2, xt, yt = a + b, c + d, a + c, b + d
    correction = 0.5 if correct else 0.0
    numerator = (np.abs(_sum(a - n1 / total * xt, m)) - correction) ** 2
    spread = n1 / total * (n2 / total) * xt * yt
    defined = (_sum(xt, m) > 0) & (_sum(yt, m) > 0)
    cochran = np.where(defined, numerator / _sum(spread / total, m), np.nan)
    cmh = np.where(defined, numerator / _sum(spread / (total - 1.0), m), np.nan)

    psi = odds_ratio[:, None]
    at_one = psi == 1.0
    big_a = psi * (n1 + xt) + (n2 - xt)
    root = np.sqrt(big_a**2 - 4.0 * n1 * xt * psi * (psi - 1.0))
    fitted = np.where(
        at_one, n1 * xt / total, (big_a - root) / (2.0 * np.where(at_one, 1.0, psi - 1.0))
    )
    positive = m & (fitted > 0) & (xt > 0) & (yt > 0) & np.isfinite(fitted)
    fitted = np.where(positive, fitted, 1.0)
    inverse = (
        1.0 / fitted + 1.0 / (n1 - fitted) + 1.0 / (xt - fitted) + 1.0 / (fitted - n1 - xt + total)
    )
    residual = np.where(positive, a - fitted, 0.0)
    breslow_day = np.maximum(_sum(residual**2 * inverse, positive), 0.0)
    tarone = np.maximum(
        breslow_day - residual.sum(axis=1) ** 2 / _sum(1.0 / inverse, positive), 0.0
    )
    k_positive = positive.sum(axis=1).astype(float)
    estimated = np.isfinite(odds_ratio)
    df = np.where(estimated & (k_positive > 1), k_positive - 1.0, np.nan)
    return {
        "cochran_statistic": cochran,
        "cmh_statistic": cmh,
        "cmh_pvalue": chi2.sf(cmh, 1),
        "breslow_day_statistic": np.where(estimated, breslow_day, np.nan),
        "tarone_statistic": np.where(estimated, tarone, np.nan),
        "homogeneity_df": df,
        "breslow_day_pvalue": chi2.sf(breslow_day, df),
        "tarone_pvalue": chi2.sf(tarone, df),
    }


def peto(
    a: FloatArray,
    b: FloatArray,
    c: FloatArray,
    d: FloatArray,
    mask: BoolArray,
    yi: FloatArray,
    vi: FloatArray,
    *,
    level: float = 0.95,
) -> CountPooledArrays:
    """Peto's pooled log odds ratio ``sum(a - E) / sum(V)``, ``Var = 1 / sum(V)``.

    ``E = n1 (a + c) / N``, ``V = (a + c)(b + d) n1 n2 / (N² (N - 1))``.  Q is
    ``sum (a - E)² / V - (sum (a - E))² / sum V`` over tables with ``V > 0``,
    on ``k_y - 1`` df (metafor's ``rma.peto``).
    """
    m = mask
    a, b, c, d = (np.where(m, x, 0.0) for x in (a, b, c, d))
    n1, n2 = a + b, c + d
    total = np.where(m, n1 + n2, 2.0)
    expected = (a + c) * n1 / total
    variance = np.where(m, (a + c) * (b + d) * (n1 / total) * (n2 / total) / (total - 1), 0.0)
    sum_v = variance.sum(axis=1)
    observed_minus_expected = np.where(m, a - expected, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        estimate = observed_minus_expected.sum(axis=1) / sum_v
        informative = variance > 0
        q = np.maximum(
            np.where(informative, observed_minus_expected**2 / variance, 0.0).sum(axis=1)
            - observed_minus_expected.sum(axis=1) ** 2 / sum_v,
            0.0,
        )
        heterogeneity = _heterogeneity(estimate, yi, vi)
        df = heterogeneity["q_df"]
        several = informative.sum(axis=1) > 1
        weights = 100.0 * variance / sum_v[:, None]
    nan = np.full(a.shape[0], np.nan)
    return CountPooledArrays(
        k=m.sum(axis=1),
        **_wald(estimate, np.sqrt(1.0 / sum_v), level),
        q=np.where(several, q, np.nan),
        q_df=np.where(several, df, np.nan),
        q_pvalue=np.where(several, chi2.sf(q, np.maximum(df, 1.0)), np.nan),
        i2=np.where(several, i2_from_q(q, df), np.nan),
        h2=np.where(several, q / df, np.nan),
        weights=weights,
        **dict.fromkeys(ODDS_RATIO_TESTS, nan),
    )
