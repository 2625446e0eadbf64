"""What the network graph counts and colours: studies per treatment and comparison, the
precision of each comparison's direct estimate, and each comparison's risk of bias.

Drawn by :func:`srma.figures.network.network_graph`; the counts come from the contrasts
the result analysed, the precisions from its fitted covariance.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import combinations

import numpy as np

from srma.analysis.network import NetworkResult
from srma.errors import InputError
from srma.figures.rob import PALETTES
from srma.stats.network.gls import direct_estimates

#: Risk-of-bias levels of an edge, best first, and the level of a study without a judgement.
ROB_LEVELS = ("Low", "Some concerns", "High")
NOT_JUDGED = "Not judged"
#: robvis's (Cochrane) colours, as the risk-of-bias figures draw them; grey for not judged.
ROB_COLOURS = {
    **{level: PALETTES["cochrane"][level] for level in ROB_LEVELS},
    NOT_JUDGED: "#9e9e9e",
}
_ROB_SPELLINGS = {
    **dict.fromkeys(("low", "low risk", "+"), "Low"),
    **dict.fromkeys(
        ("some concerns", "some concern", "unclear", "unclear risk", "moderate", "?"),
        "Some concerns",
    ),
    **dict.fromkeys(("high", "high risk", "serious", "critical"), "High"),
    **dict.fromkeys(("", "not judged", "no information", "ni", "nan"), NOT_JUDGED),
}


def _study_arms(result: NetworkResult) -> dict[int, set[int]]:
    """Each analysed study's arms, as positions in ``result.treatments``, by study code."""
    data = result.contrasts
    position = {name: index for index, name in enumerate(result.treatments)}
    arms: dict[int, set[int]] = {}
    for study, first, second in zip(data.study, data.treat1, data.treat2, strict=True):
        names = (data.treatments[first], data.treatments[second])
        arms.setdefault(int(study), set()).update(
            position[name] for name in names if name in position
        )
    return arms


def study_counts(result: NetworkResult) -> tuple[np.ndarray, np.ndarray]:
    """Studies including each treatment (length T) and making each comparison (T x T).

    A study's arms are the treatments of its contrasts; a study with arms ``A, B, C``
    makes the comparisons ``A:B``, ``A:C`` and ``B:C``, and counts once for each.  Only
    the studies analysed count (a study left out, e.g. with no events in any arm, does not).
    Treatments follow ``result.treatments``; the matrix is symmetric with a zero diagonal.
    """
    count = len(result.treatments)
    per_treatment = np.zeros(count, dtype=int)
    per_pair = np.zeros((count, count), dtype=int)
    for members in _study_arms(result).values():
        for index in members:
            per_treatment[index] += 1
        for a, b in combinations(sorted(members), 2):
            per_pair[a, b] += 1
            per_pair[b, a] += 1
    return per_treatment, per_pair


def direct_precision(result: NetworkResult) -> np.ndarray:
    """``1 / var(direct estimate)`` of each comparison some study makes (T x T, symmetric,
    0 where no study makes it), at the fitted model's covariance ``V + tau² S`` with
    multi-arm studies by their reduced weights (Rücker & Schwarzer 2014:
    :func:`srma.stats.network.gls.direct_estimates` with ``multi_arm="reduced"``, whose
    precisions add up to the network's information)."""
    direct = direct_estimates(result.contrasts, result.total_covariance, multi_arm="reduced")
    position = {name: index for index, name in enumerate(result.treatments)}
    names = result.contrasts.treatments
    precision = np.zeros((len(result.treatments),) * 2)
    first = [position[names[t]] for t in direct.treat1]
    second = [position[names[t]] for t in direct.treat2]
    precision[first, second] = precision[second, first] = 1.0 / direct.variance
    return precision


def risk_of_bias_levels(risk_of_bias: Mapping[str, object]) -> dict[str, str]:
    """Each study's overall judgement in one of :data:`ROB_LEVELS` or :data:`NOT_JUDGED`.

    Accepted spellings (any case): ``low`` (``low risk``, ``+``); ``some concerns``
    (``unclear``, ``unclear risk``, ``moderate``, ``?``); ``high`` (``high risk``,
    ``serious``, ``critical``); an empty or missing value, ``not judged``, ``no
    information`` or ``NI`` is not judged.  Anything else raises :class:`InputError`
    naming the study and the value.
    """
    levels: dict[str, str] = {}
    for study, value in risk_of_bias.items():
        text = "" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        key = str(text).strip().casefold()
        if key not in _ROB_SPELLINGS:
            raise InputError(
                f"study {study!r}: risk-of-bias judgement {value!r} is not recognised; "
                "expected low, some concerns (unclear, moderate), high (serious, critical) "
                "or empty (not judged)"
            )
        levels[str(study)] = _ROB_SPELLINGS[key]
    return levels


def edge_risk_of_bias(result: NetworkResult, risk_of_bias: Mapping[str, object]) -> np.ndarray:
    """The judgement of each comparison (T x T, object array; ``""`` where no study makes it)
    by majority: the level most of the studies making the comparison have; a tie goes to
    the worse of the tied judged levels (high over some concerns over low), and
    "not judged" wins only outright (more studies than any judged level).  A study the
    mapping does not name is not judged."""
    levels = risk_of_bias_levels(risk_of_bias)
    studies = result.contrasts.studies
    count = len(result.treatments)
    tally = np.zeros((count, count, len(ROB_LEVELS) + 1), dtype=int)
    rank = {level: index for index, level in enumerate((*ROB_LEVELS, NOT_JUDGED))}
    for code, members in _study_arms(result).items():
        level = rank[levels.get(studies[code], NOT_JUDGED)]
        for a, b in combinations(sorted(members), 2):
            tally[a, b, level] += 1
            tally[b, a, level] += 1
    judged = tally[:, :, : len(ROB_LEVELS)]
    # the last maximum of the judged levels is the worst of the tied ones
    worst_tied = len(ROB_LEVELS) - 1 - np.argmax(judged[:, :, ::-1], axis=2)
    most = judged.max(axis=2)
    choice = np.where(tally[:, :, -1] > most, len(ROB_LEVELS), worst_tied)
    names = np.array([*ROB_LEVELS, NOT_JUDGED], dtype=object)
    return np.where(tally.sum(axis=2) > 0, names[choice], "")
