"""A network outcome of a review analysed as its protocol plans: every treatment compared
with every other by :func:`srma.network_meta` on the reconciled arms.

The export (:func:`srma.review.extract.export.export_outcome` with ``network =
true``) has a row per study and treatment; a study without usable data keeps a
row with the reason, listed under ``missing``.  The protocol's policy chooses the
model as it does for a pairwise outcome, mapped onto the network models
(docs/network.md, "In a project"):

* the common-effect model first (inverse variance: a network has no
  Mantel-Haenszel or Peto form here, netmeta's default too); its Q and I² are
  those of every network model, as the between-study variance does not enter Q;
* random effects when the policy always pools so or when I² reaches its
  threshold, by its tau² estimator where the network has it (DL, REML, ML;
  REML otherwise), with Knapp-Hartung when the policy tests so;
* the reference is the first treatment of the outcome's ``arms`` that has data
  (said when it is not the first listed); smaller values are better when the
  outcome's direction says lower is better.

Follow-ups of pairwise outcomes (leave-one-out, subgroups, meta-regression,
small-study tests, the refit without high risk of bias) are listed as not run,
with the reason, and GRADE is not rated (:mod:`.grading` says why).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import pandas as pd

from srma.errors import InputError, SrmaWarning
from srma.review.synthesize.plan import Plan
from srma.review.synthesize.results import MissingStudy, OutcomeAnalysis

#: The tau² estimators of a network model; another policy estimator falls back to REML.
NETWORK_TAU2 = ("DL", "REML", "ML")
#: Why the follow-ups of a pairwise outcome are not run for a network.
NOT_FOR_NETWORKS = "not run: a network outcome (the follow-ups are those of pairwise outcomes)"


def _missing(table: pd.DataFrame) -> tuple[MissingStudy, ...]:
    blank = table["missing"].fillna("").astype(str) != ""
    rows = table[blank].drop_duplicates("study_id")
    return tuple(
        MissingStudy(str(r.study), int(r.study_id), str(r.missing))
        for r in rows.itertuples(index=False)
    )


def _fit(usable: pd.DataFrame, settings: Mapping[str, Any]) -> tuple[Any, tuple[str, ...]]:
    """``network_meta`` of the usable rows, with the warnings it gave (kept, not shown)."""
    from srma.analysis.network import network_meta

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SrmaWarning)
        result = network_meta(usable, study="study", treatment="treatment", **settings)
    said = tuple(str(w.message) for w in caught if issubclass(w.category, SrmaWarning))
    return result, said


def _model(plan: Plan, i2: float) -> tuple[str, str, list[str]]:
    """The method and test the policy gives for a network of this I², and why in words."""
    policy = plan.policy
    assert policy is not None
    percent = 100.0 * i2
    reasons: list[str] = []
    threshold = policy.i2_threshold
    random = policy.always_random or (threshold is not None and percent >= threshold)
    if policy.always_random:
        reasons.append(f"random effects: policy {policy.name} always pools by random effects")
    elif threshold is not None:
        side = ">=" if random else "<"
        model = "random effects" if random else "common effect"
        reasons.append(
            f"{model}: I² of the network {percent:.1f}% {side} {threshold:g}% "
            f"(policy {policy.name})"
        )
    else:
        reasons.append(f"common effect: policy {policy.name} pools by a common-effect model")
    if not random:
        common = policy.common_method_binary if plan.outcome.data == "binary" else "EE"
        if common != "EE":
            reasons.append(
                f"common effect by inverse variance (the policy's {common} has no network form)"
            )
        return "EE", "z", reasons
    method = policy.random_method
    if method not in NETWORK_TAU2:
        reasons.append(f"tau² by REML (the policy's {method} has no network form)")
        method = "REML"
    else:
        reasons.append(f"tau² by {method}")
    test = "knha" if policy.test == "knha" else "z"
    if policy.test not in ("knha", "z"):
        reasons.append(f"z test (the policy's {policy.test} has no network form)")
    elif test == "knha":
        reasons.append("Knapp-Hartung test and intervals")
    return method, test, reasons


def analyze_network_outcome(
    plan: Plan,
    export: Any,
    *,
    data_version: str,
    rob: Mapping[int, str | None] | None,
    overrides: Mapping[str, tuple[int, str, str]] | None = None,
) -> OutcomeAnalysis:
    """The network meta-analysis of one network outcome's export (an ``ExportTable``)."""
    outcome = plan.outcome
    table: pd.DataFrame = export.table
    missing = _missing(table)
    usable = table[table["missing"].fillna("").astype(str) == ""].reset_index(drop=True)
    from srma.review.synthesize.analyze import not_run

    follow_ups = not_run(plan, NOT_FOR_NETWORKS)
    common: dict[str, Any] = {
        "outcome": outcome,
        "time_point": export.time_point,
        "measure": outcome.measure,
        "table": table,
        "data_version": data_version,
        "missing": missing,
        "design": plan.design,
        "overrides": dict(overrides or {}),
        "policy": None,
        "follow_ups": follow_ups,
    }
    where = outcome.name + (f" at {export.time_point}" if export.time_point else "")
    notes: list[str] = []
    if missing:
        notes.append(f"{len(missing)} studies without usable data (see missing)")
    if usable.empty:
        why = f"no study has usable data for the network of {where}"
        return OutcomeAnalysis(notes=(*notes, why), **common)
    if plan.policy is None:
        why = "the protocol names no analysis policy ([analysis] policy): nothing was pooled"
        return OutcomeAnalysis(notes=(*notes, why), **common)
    present = set(usable["treatment"].astype(str))
    reference = next(t for t in outcome.arms if t in present)
    if reference != outcome.arms[0]:
        notes.append(
            f"reference {reference}: no study with usable data has {outcome.arms[0]}, the "
            "first treatment of the outcome's arms"
        )
    settings: dict[str, Any] = {
        "measure": outcome.measure,
        "reference": reference,
        "small_values": "good" if outcome.direction == "lower is better" else "bad",
    }
    try:
        common_effect, said = _fit(usable, {**settings, "method": "EE"})
        method, test, decisions = _model(plan, common_effect.i2)
        result = common_effect
        if method != "EE":
            result, said = _fit(usable, {**settings, "method": method, "test": test})
    except InputError as error:
        why = f"the network of {where} cannot be analysed: {error.reason}"
        return OutcomeAnalysis(notes=(*notes, why), **common)
    notes += [f"model: {d}" for d in decisions]
    notes += [f"network: {message}" for message in dict.fromkeys(said)]
    overall = (
        {}
        if rob is None
        else {str(r.study): rob.get(int(r.study_id)) for r in usable.itertuples(index=False)}
    )
    return OutcomeAnalysis(notes=tuple(notes), network=result, rob_overall=overall, **common)
