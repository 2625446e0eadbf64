"""The numba code of :mod:`srma.stats.kernel` (imported only from there, lazily).

scipy's C functions are called by symbol name (registered with llvmlite before
anything compiles), so that the compiled code can be cached on disk.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import binding
from numba import njit, prange, types
from numba.extending import get_cython_function_address

#: Rows per chunk of work (one thread's scratch buffers serve a whole chunk).
CHUNK_ROWS = 512


def _external(name: str, symbol: str, arguments: int) -> types.ExternalFunction:
    """A C function of ``scipy.special.cython_special``, callable from compiled code."""
    binding.add_symbol(symbol, get_cython_function_address("scipy.special.cython_special", name))
    # cpdef functions take a trailing ``int __pyx_skip_dispatch``
    return types.ExternalFunction(symbol, types.float64(*[types.float64] * arguments, types.intc))


stdtr = _external("__pyx_fuse_0stdtr", "srma_stdtr", 2)  # stdtr(df, t) = P(T_df <= t)
ndtr = _external("__pyx_fuse_1ndtr", "srma_ndtr", 1)  # P(Z <= z)
chdtrc = _external("chdtrc", "srma_chdtrc", 2)  # chdtrc(df, x) = P(chi²_df > x)

OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}
TINY = np.finfo(float).tiny
EPS4 = 4.0 * np.finfo(float).eps


@njit(inline="always", **OPTIONS)
def weighted(yy, vv, uu, k, tau2, min_v, wide, full):
    """weighted_sums (full) or q_sums: unit, s1, rho_mean, q1, q2, q3, r1, r2, r3.

    The same sums in the same order as srma.stats.tau2, each loop without branches
    (the weights' loop vectorises).
    """
    unit = min_v + tau2
    for j in range(k):
        uu[j] = unit / (vv[j] + tau2)
    s1 = 0.0
    sr = 0.0
    for j in range(k):
        s1 += uu[j]
        sr += uu[j] * yy[j]
    rho_mean = sr / s1
    q1 = 0.0
    q2 = 0.0
    if not full:
        for j in range(k):
            d = yy[j] - rho_mean
            ur = uu[j] * d
            q1 += ur * d
            q2 += ur * ur
        return unit, s1, rho_mean, q1, q2, 0.0, 0.0, 0.0, 0.0
    q3a = 0.0
    q3b = 0.0
    s2 = 0.0
    s3 = 0.0
    for j in range(k):
        u = uu[j]
        d = yy[j] - rho_mean
        ur = u * d
        q1 += ur * d
        q2 += ur * ur
        u2 = u * u
        u2r = ur * u
        s2 += u2
        s3 += u2 * u
        q3a += u2r * ur
        q3b += u2r
    q3 = q3a - (q3b * q3b) / s1
    if not wide:
        return unit, s1, rho_mean, q1, q2, q3, s1 - 1.0, s2 - 1.0, s3 - 1.0
    # _rest: the sums over every study but one of largest weight (u = 1)
    o1 = 0.0
    o2 = 0.0
    o3 = 0.0
    ties = 0
    for j in range(k):
        u = uu[j]
        if u < 1.0:
            o1 += u
            oo = u * u
            o2 += oo
            o3 += oo * u
        elif u == 1.0:
            ties += 1
    t = ties - 1.0
    return unit, s1, rho_mean, q1, q2, q3, o1 + t, o2 + t, o3 + t


@njit(inline="always", **OPTIONS)
def ab(exponent, unit):
    s2 = math.ldexp(1.0, 2 * exponent)
    g = max(s2, unit) if not (math.isnan(s2) or math.isnan(unit)) else math.nan
    return s2 / g, unit / g


@njit(inline="always", **OPTIONS)
def trace_p(r1, r2, s1):
    return (2.0 * r1 + (r1 * r1 - r2)) / s1


@njit(inline="always", **OPTIONS)
def score(kind, yy, vv, uu, k, x, min_v, wide, exponent, target):
    """(value, Newton step) of the REML (kind 0) or generalised Q (kind 1) equation."""
    return value_step(kind, weighted(yy, vv, uu, k, x, min_v, wide, kind == 0), exponent, target)


@njit(inline="always", **OPTIONS)
def value_step(kind, sums, exponent, target):
    """reml_equation (kind 0) or generalised_q_equation (kind 1) from the sums."""
    unit, s1, _, q1, q2, q3, r1, r2, r3 = sums
    a, b = ab(exponent, unit)
    if kind == 0:
        top = r1 * r1 + (3.0 * r2 - 2.0 * r3) + 2.0 * r1 * (r2 - r3) + r2 * (r1 * r1 + r2)
        value = a * q2 - b * trace_p(r1, r2, s1)
        slope = 2.0 * a * q3 - b * (top / (s1 * s1))
    else:
        value = a * q1 - b * target
        slope = a * q2
    return value, unit * (value / slope)


@njit(inline="always", **OPTIONS)
def bisect(lo, hi, tol):
    floor = max(max(lo, 1e14 * tol), TINY)
    if hi > 1e6 * floor:
        return math.sqrt(floor) * math.sqrt(hi)
    return 0.5 * lo + 0.5 * hi


@njit(**OPTIONS)
def solve(kind, yy, vv, uu, k, min_v, wide, exponent, target, start, upper, lower, atol,
          expand):  # fmt: skip
    """srma.stats.roots.solve_decreasing for one row: (root, converged, iterations)."""
    unbracketed = False
    if expand:
        for expansion in range(200):
            f_upper, _ = score(kind, yy, vv, uu, k, upper, min_v, wide, exponent, target)
            if f_upper <= 0:
                break
            if expansion == 199:
                unbracketed = True
                break
            lower = upper
            upper = upper * 4.0 if upper > 0 else 1.0
    x = start if (start >= lower and start < upper) else 0.5 * (lower + upper)
    last_step = upper - lower
    before_last = last_step
    for iteration in range(1, 201):
        f, newton_step = score(kind, yy, vv, uu, k, x, min_v, wide, exponent, target)
        below = f > 0
        above = f <= 0
        if below:
            lower = x
        if above:
            upper = x
        newton = x + newton_step
        step = abs(newton - x)
        tol = 1e-12 * abs(x) + atol
        finite_newton = math.isfinite(newton)
        at_root = finite_newton and step <= tol and (below or above)
        inside = finite_newton and newton > lower and newton < upper and step < 0.5 * before_last
        x_new = newton if (inside or at_root) else bisect(lower, upper, atol)
        before_last = last_step
        last_step = abs(x_new - x)
        valid = math.isfinite(x_new) and math.isfinite(f)
        done = (at_root or last_step <= tol or upper - lower <= tol) and valid
        failed = (not math.isfinite(x_new)) or ((not math.isfinite(f)) and upper - lower <= tol)
        x = x_new
        if done:
            return x_new, not unbracketed, iteration
        if failed:
            return math.nan, False, iteration
    return x, False, 200


@njit(**OPTIONS)
def loglik(yy, vv, uu, k, tau2, min_v, wide, exponent):
    """srma.stats.tau2.restricted_loglik for one row."""
    unit, s1, _, q1, _, _, _, _, _ = weighted(yy, vv, uu, k, tau2, min_v, wide, False)
    log_variance = 0.0
    for j in range(k):
        log_variance += math.log(vv[j] + tau2)
    mantissa, power = math.frexp(unit)
    ypy = math.ldexp(q1 / mantissa, 2 * exponent - power)
    return -0.5 * (log_variance + (math.log(s1) - math.log(unit)) + ypy)


@njit(**OPTIONS)
def equation_root(kind, yy, vv, uu, k, min_v, wide, exponent, target, start, upper, atol,
                  expand, grid, zero):  # fmt: skip
    """srma.stats.tau2.solve_tau2_equation for one row (REML: with the boundary scan).

    ``zero``: the (full) sums at tau² = 0, shared by every equation of the row.
    """
    at_zero, _ = value_step(kind, zero, exponent, target)
    if not math.isfinite(at_zero):
        return math.nan, False, 0
    if at_zero > 0:
        return solve(kind, yy, vv, uu, k, min_v, wide, exponent, target, start,
                     max(upper, 0.0), 0.0, atol, expand)  # fmt: skip
    if kind != 0:
        return 0.0, True, 0
    for j in range(grid.shape[0]):
        point = upper * grid[j]
        value, _ = score(kind, yy, vv, uu, k, point, min_v, wide, exponent, target)
        if value > 0:
            root, converged, iterations = solve(
                kind, yy, vv, uu, k, min_v, wide, exponent, target, point,
                max(upper, 2.0 * point), point, atol, expand,
            )  # fmt: skip
            if loglik(yy, vv, uu, k, root, min_v, wide, exponent) > loglik(
                yy, vv, uu, k, 0.0, min_v, wide, exponent
            ):
                return root, converged, iterations
            return 0.0, True, iterations
    return 0.0, True, 0


@njit(inline="always", **OPTIONS)
def pvalue_t(statistic, df):
    x = abs(statistic)
    if math.isnan(df):
        return 2.0 * ndtr(-x, 0)
    return 2.0 * stdtr(df, -x, 0)


@njit(parallel=True, **OPTIONS)
def kernel(y, v, mask, ordinary, wide_block, block_rows, test_code, interval, grid,
           crit, pi_crit, df_table, q_lower, q_upper, out, weights, converged,
           iterations):  # fmt: skip
    n, width = y.shape
    nan = math.nan
    for chunk in prange((n + CHUNK_ROWS - 1) // CHUNK_ROWS):
        yy = np.empty(width)
        vv = np.empty(width)
        uu = np.empty(width)
        cols = np.empty(width, dtype=np.int64)
        for i in range(chunk * CHUNK_ROWS, min(n, (chunk + 1) * CHUNK_ROWS)):
            block = i // block_rows
            # the present cells of the row, in column order (padding costs nothing)
            k = 0
            for j in range(width):
                if mask[i, j]:
                    cols[k] = j
                    yy[k] = y[i, j]
                    vv[k] = v[i, j]
                    k += 1
            # srma.stats.batch.standardise
            min_v = math.inf
            high = -math.inf
            low = math.inf
            for j in range(k):
                min_v = min(min_v, vv[j])
                high = max(high, yy[j])
                low = min(low, yy[j])
            if k == 0:
                min_v, high, low = 1.0, 0.0, 0.0
            wide = wide_block[block]
            centre = 0.0
            exponent = 0
            if not ordinary[block]:
                centre = 0.5 * high + 0.5 * low
                half_range = 0.5 * high - 0.5 * low
                if half_range > 0:
                    _, exponent = math.frexp(half_range)
                inverse = math.ldexp(1.0, -exponent)
                for j in range(k):
                    yy[j] = (yy[j] - centre) * inverse
            largest = 0.0
            for j in range(k):
                largest = max(largest, abs(yy[j]))
            several = k >= 2
            tau2 = 0.0
            converged[i] = True
            iterations[i] = 0
            rho_sum = 0.0
            for j in range(k):
                rho_sum += yy[j]
            spread = 0.0
            if several:
                rho_bar = rho_sum / k
                for j in range(k):
                    spread += (yy[j] - rho_bar) * (yy[j] - rho_bar)
            uss = math.ldexp(spread, 2 * exponent)
            atol = 0.0
            zero = weighted(yy, vv, uu, k, 0.0, min_v, wide, True)  # the sums at tau² = 0
            if several:
                # _bracket_scale
                max_v = 0.0
                relative = 0.0
                for j in range(k):
                    max_v = max(max_v, vv[j])
                    relative += min_v / vv[j]
                guess = 2.0 * (uss / max(k - 1, 1)) + max_v
                atol = 1e-14 * (min_v * (k / relative))
                # Hedges' start (_moment_estimate at a = 1)
                mean = rho_sum / float(k)
                ypy_h = 0.0
                sum_v = 0.0
                for j in range(k):
                    r = yy[j] - mean
                    ypy_h += r * r
                    sum_v += vv[j]
                ties = k - 1.0
                trace_h = (2.0 * ties + (ties * ties - ties)) / float(k)
                trace_pv = sum_v - sum_v / float(k)
                start = (math.ldexp(ypy_h, 2 * exponent) - trace_pv) / trace_h
                if start < 0.0:
                    start = 0.0
                tau2, ok, steps = equation_root(
                    0, yy, vv, uu, k, min_v, wide, exponent, 0.0, start, guess, atol,
                    True, grid, zero,
                )  # fmt: skip
                converged[i] = ok
                iterations[i] = steps
            # pooled estimate at tau²
            unit, s1, rho_mean, q1, _, _, _, _, _ = weighted(
                yy, vv, uu, k, tau2, min_v, wide, False
            )
            estimate = centre + math.ldexp(rho_mean, exponent)
            variance = unit / s1
            df = df_table[k]
            if test_code != 0:
                kh = math.ldexp(q1 / s1, 2 * exponent) / df
                if q1 <= (EPS4 * largest) * (EPS4 * largest) * s1:
                    kh = 0.0
                if test_code == 2 and not (kh >= variance):
                    kh = variance if not math.isnan(kh) else kh
                if several:
                    variance = kh
            se = math.sqrt(variance)
            statistic = estimate / se
            half = crit[k] * se
            out[0, i] = estimate
            out[1, i] = se
            out[2, i] = statistic
            out[3, i] = pvalue_t(statistic, df)
            out[4, i] = df
            out[5, i] = estimate - half
            out[6, i] = estimate + half
            absent = 100.0 * 0.0 / s1
            for j in range(width):
                weights[i, j] = absent
            for j in range(k):
                weights[i, cols[j]] = 100.0 * uu[j] / s1
            if not several:
                for f in range(7, 21):
                    out[f, i] = nan
                continue
            # Cochran's Q and the typical variance, at tau² = 0
            unit0, s10, _, q10, _, _, r10, r20, _ = zero
            mantissa, power = math.frexp(unit0)
            q = max(math.ldexp(q10 / mantissa, 2 * exponent - power), 0.0)
            q_df = k - 1.0
            typical = unit0 * (q_df / trace_p(r10, r20, s10))
            lower = upper = nan
            if interval:
                for side in range(2):
                    target = q_lower[k] if side == 0 else q_upper[k]
                    bound = uss / target - min_v
                    bound = 0.0 if math.isnan(bound) else max(bound, 0.0)
                    bracket = bound * (1 + 1e-12) + 1e-300
                    beyond = math.isinf(bracket)
                    # the upper bound starts from the lower one (Q decreases in tau²)
                    root, _, _ = equation_root(
                        1, yy, vv, uu, k, min_v, wide, exponent, target,
                        0.0 if side == 0 else lower, 1.0 if beyond else bracket, atol,
                        False, grid, zero,
                    )  # fmt: skip
                    if side == 0:
                        lower = nan if beyond else root
                    else:
                        upper = nan if beyond else root
            pi_half = pi_crit[k] * math.sqrt(se * se + tau2)
            out[7, i] = estimate - pi_half
            out[8, i] = estimate + pi_half
            out[9, i] = tau2
            out[10, i] = lower
            out[11, i] = upper
            out[12, i] = 100.0 * tau2 / (typical + tau2)
            out[13, i] = 100.0 * lower / (typical + lower)
            out[14, i] = 100.0 * upper / (typical + upper)
            out[15, i] = tau2 / typical + 1.0
            out[16, i] = lower / typical + 1.0
            out[17, i] = upper / typical + 1.0
            out[18, i] = q
            out[19, i] = q_df
            out[20, i] = chdtrc(q_df, q, 0) if q > 0 else (1.0 if q == 0 else nan)


@njit(parallel=True, **OPTIONS)
def flags(y, v, mask, block_rows):
    """Per block: whether its effects are "ordinary" and its variances "wide" (standardise)."""
    n, width = y.shape
    blocks = (n + block_rows - 1) // block_rows
    ordinary = np.ones(blocks, dtype=np.bool_)
    wide = np.zeros(blocks, dtype=np.bool_)
    for b in prange(blocks):
        for i in range(b * block_rows, min(n, (b + 1) * block_rows)):
            high = -math.inf
            low = math.inf
            min_v = math.inf
            max_v = 0.0
            for j in range(width):
                max_v = max(max_v, v[i, j])  # absent cells hold v = 1, as in numpy
                if mask[i, j]:
                    min_v = min(min_v, v[i, j])
                    high = max(high, y[i, j])
                    low = min(low, y[i, j])
                if abs(y[i, j]) > 1e50:
                    ordinary[b] = False
            if not math.isfinite(min_v):
                min_v = 1.0
            if max_v > 1e6 * min_v:
                wide[b] = True
            if not math.isfinite(high):
                high, low = 0.0, 0.0
            centre = 0.5 * high + 0.5 * low
            half_range = 0.5 * high - 0.5 * low
            if not (abs(centre) <= 16.0 * half_range or half_range == 0):
                ordinary[b] = False
    return ordinary, wide
