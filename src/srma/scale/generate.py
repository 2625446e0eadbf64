"""Data of one block of repetitions of one scenario, from that block's own seed.

Seeds form one :class:`numpy.random.SeedSequence` spawn tree: the study's
seed is the root, scenario ``s`` its child ``s`` and block ``b`` of that
scenario the grandchild ``(s, b)``, i.e. ``SeedSequence(seed,
spawn_key=(s, b))``, the very sequence ``SeedSequence(seed).spawn(S)[s]
.spawn(B)[b]`` gives.  A block's data depend on the seed, the scenario and
the block's size only: never on how blocks are grouped into tasks, on the
number of workers or on the scheduler.

Continuous data (the normal-normal random-effects model): study ``i`` of
repetition ``r`` has a true effect ``theta_i = effect + tau u_i`` and an
observed effect ``y_i = theta_i + bias sqrt(v_i) + sqrt(v_i) e_i``, ``u_i,
e_i ~ N(0, 1)`` independent, ``v_i`` drawn from the scenario's within-study
distribution and treated as known.  ``bias`` is a small-study effect of the
form Egger's test looks for (the mean effect grows linearly in the standard
error; Egger et al. 1997, BMJ 315:629).

Binary data: ``n`` patients per arm (uniform on the integers ``low..high``),
a control risk ``p0`` (uniform on ``baseline_risk``), and the treatment risk
``p1 = expit(logit(p0) + theta_i)`` for the odds ratio, ``p1 = min(1, p0
exp(theta_i))`` for the risk ratio; events ``a ~ Bin(n, p1)``, ``c ~ Bin(n,
p0)``.  The tables are the 2x2 cells ``a, b = n - a, c, d = n - c``.  A small-study effect
shifts the true effect to ``theta_i + bias s_i``, where ``s_i`` is the study's standard
error of the log odds or risk ratio under no effect, known from its size and control risk
before any event is drawn: ``s_i^2 = 2 / (n p0 (1 - p0))`` (OR), ``2 (1 - p0) / (n p0)``
(RR), the large-sample variances of Woolf and of Katz et al. (1978, Biometrics 34:469) at
``p1 = p0``.  Smaller studies get larger effects, the asymmetry Egger's test looks for, and
the shift does not depend on the events, whose variance it would otherwise bias.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from srma.scale.study import Scenario, Study
from srma.stats.batch import FloatArray


def block_seed(study: Study, scenario: int, block: int) -> np.random.SeedSequence:
    """The seed of block ``block`` of scenario ``scenario``: the ``(scenario, block)``
    node of the study's spawn tree."""
    return np.random.SeedSequence(study.seed, spawn_key=(scenario, block))


@dataclass(frozen=True)
class BlockData:
    """The simulated meta-analyses of one block, one row per repetition.

    ``y``, ``v`` shaped ``(n, k)``; for binary data ``y, v`` are NaN where a
    table has no effect size, and ``tables`` holds the cells ``(a, b, c, d)``.
    """

    y: FloatArray
    v: FloatArray
    tables: tuple[FloatArray, FloatArray, FloatArray, FloatArray] | None = None


def within_variances(scenario: Scenario, rng: np.random.Generator, n: int) -> FloatArray:
    """Within-study variances ``(n, k)`` of continuous data, by the scenario's distribution."""
    within, shape = scenario.within, (n, scenario.k)
    if within.distribution == "fixed":
        return np.full(shape, within.value)
    if within.distribution == "uniform":
        return rng.uniform(within.low, within.high, size=shape)
    if within.distribution == "chisq":
        return within.shift + within.scale * rng.chisquare(within.df, size=shape)
    # sample_size: a mean difference of outcomes with unit variance, n per arm
    per_arm = rng.integers(int(within.low), int(within.high) + 1, size=shape)
    return 2.0 / per_arm


def generate_block(study: Study, scenario: Scenario, block: int) -> BlockData:
    """The data of block ``block`` (0-based) of ``scenario``, from its own seed."""
    rng = np.random.default_rng(block_seed(study, scenario.index, block))
    n, k = study.block_size(block), scenario.k
    if scenario.data == "continuous":
        v = within_variances(scenario, rng, n)
        theta = scenario.effect + np.sqrt(scenario.tau2) * rng.standard_normal((n, k))
        y = theta + scenario.bias * np.sqrt(v) + np.sqrt(v) * rng.standard_normal((n, k))
        return BlockData(y=y, v=v)
    return _binary_block(scenario, rng, n)


def _binary_block(scenario: Scenario, rng: np.random.Generator, n: int) -> BlockData:
    from srma.stats.effects import binary_effect

    within, shape = scenario.within, (n, scenario.k)
    per_arm = rng.integers(int(within.low), int(within.high) + 1, size=shape)
    p0 = rng.uniform(within.baseline_low, within.baseline_high, size=shape)
    theta = scenario.effect + np.sqrt(scenario.tau2) * rng.standard_normal(shape)
    odds_ratio = within.measure == "OR"
    if scenario.bias:
        null_variance = (2 / (per_arm * p0 * (1 - p0)) if odds_ratio
                         else 2 * (1 - p0) / (per_arm * p0))  # fmt: skip
        theta = theta + scenario.bias * np.sqrt(null_variance)
    p1 = expit(logit(p0) + theta) if odds_ratio else np.minimum(1.0, p0 * np.exp(theta))
    a = rng.binomial(per_arm, p1).astype(np.float64)
    c = rng.binomial(per_arm, p0).astype(np.float64)
    b, d = per_arm - a, per_arm - c
    # escalc's defaults: double-zero tables dropped, 1/2 added to tables with a zero cell
    y, v = binary_effect(within.measure, a, b, c, d, add=0.5, to="only0", drop00=True)
    return BlockData(y=np.asarray(y), v=np.asarray(v), tables=(a, b, c, d))
