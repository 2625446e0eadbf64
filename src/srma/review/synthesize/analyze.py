"""The planned analyses of one outcome at one time point, on its reconciled export.

:func:`analyze_outcome` takes the export of one outcome
(:func:`srma.review.extract.export.export_outcome`: a row per study, the
studies without usable data kept with the reason in ``missing``), the
protocol's plan (:mod:`.plan`) and the reconciled overall risk-of-bias
judgement of each study, and runs, in this order:

1. the policy (:func:`srma.analysis.policies.apply_policy`) on the studies with
   usable data: measure, model and the decisions with their reasons;
2. leave-one-out (:func:`srma.analysis.sensitivity.leave_one_out`) where the
   protocol's ``sensitivity`` or the policy asks for it and k >= 3;
3. the policy's model refitted without the studies whose overall judgement is
   high risk of bias (:data:`HIGH_RISK`; Cochrane Handbook 7.6.2, 8.8.3), run
   whenever judgements exist, as GRADE's risk-of-bias domain reads it;
4. each ``[[subgroups]]`` (:func:`srma.analysis.subgroups.subgroup_analysis`,
   the policy's model within each subgroup) on its extracted characteristic;
5. each ``[[metaregressions]]`` (:func:`srma.analysis.metareg.meta_regression`)
   with the policy's random-effects estimator and test: residual heterogeneity
   is expected (Cochrane Handbook 10.11.4), and a characteristic that is a
   choice or text enters as a factor;
6. tests for small-study effects (:func:`srma.analysis.bias.small_study_tests`)
   where the policy asks for them and k >= ``small_study_min_k`` (default 10,
   Cochrane Handbook 13.3.5.4).

Nothing is dropped silently: a follow-up the data cannot support is kept with
``result = None`` and the reason in words (k = 0 or 1, one subgroup level,
every study at high risk, a characteristic not extracted...), and an error of
an analysis (an :class:`~srma.errors.InputError`) becomes that reason.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.bias import small_study_tests
from srma.analysis.meta import meta
from srma.analysis.metareg import meta_regression
from srma.analysis.policies import PolicyResult, apply_policy
from srma.analysis.results import MetaResult
from srma.analysis.sensitivity import leave_one_out
from srma.analysis.subgroups import subgroup_analysis
from srma.errors import InputError, SrmaWarning
from srma.review.protocol import Protocol
from srma.review.synthesize.plan import EXCLUDE_HIGH_RISK, LEAVE_ONE_OUT, Plan
from srma.review.synthesize.results import FollowUp, MissingStudy, OutcomeAnalysis
from srma.vocabulary import COMMON_EFFECT_METHODS, METHOD_NAMES

#: Overall judgements taken as high risk of bias: RoB 2, RoB 1, SYRCLE and QUADAS-2's
#: "High", ROBINS-I's "Serious" and "Critical" (Sterne et al. 2016, BMJ 355:i4919).
HIGH_RISK = frozenset({"High", "Serious", "Critical"})
#: Fewest studies per moderator below which a meta-regression is flagged (Handbook 10.11.4).
METAREG_STUDIES_PER_MODERATOR = 10


def _quiet(action: Callable[[], Any]) -> tuple[Any, tuple[str, ...]]:
    """Run ``action`` collecting srma's warnings (they become notes, never printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SrmaWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        value = action()
    found = tuple(
        dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, SrmaWarning))
    )
    return value, found


def _fitted(kind: str, name: str, variable: str, fit: Callable[[], Any], reason: str) -> FollowUp:
    """The follow-up ``fit`` gives (its warnings kept quiet), or why it could not run."""
    try:
        value, _ = _quiet(fit)
    except InputError as error:
        return FollowUp(kind, name, None, f"not run: {error.reason}", variable)
    return FollowUp(kind, name, value, reason, variable)


def _listed(labels: list[str], limit: int = 10) -> str:
    shown = ", ".join(labels[:limit])
    return shown + (f" and {len(labels) - limit} more" if len(labels) > limit else "")


def _blank(values: pd.Series) -> np.ndarray:
    return (values.isna() | (values.astype(str).str.strip() == "")).to_numpy()


def _is_random(result: MetaResult) -> bool:
    return result.method not in COMMON_EFFECT_METHODS


def _refit(result: MetaResult, data: pd.DataFrame, policy: PolicyResult) -> MetaResult:
    """The policy's model (measure, method, test, level, interval) on other rows."""
    refitted = meta(
        data,
        measure=result.measure,
        method=result.method,
        test=result.test,
        level=result.level,
        pi_type=result.pi_type,
        label="study",
    )
    if not policy.policy.prediction_interval and refitted.pi_lower is not None:
        refitted = replace(refitted, pi_lower=None, pi_upper=None)
    return refitted


def _leave_one_out(plan: Plan, policy: PolicyResult) -> FollowUp:
    name = "leave-one-out"
    chosen, result = policy.policy, policy.result
    by_policy = chosen.leave_one_out == "always" or (
        chosen.leave_one_out == "if_random" and _is_random(result)
    )
    planned = LEAVE_ONE_OUT in plan.sensitivity
    if not (by_policy or planned):
        return FollowUp(
            "leave_one_out",
            name,
            None,
            f"not planned: [analysis] sensitivity does not list it and policy "
            f"{chosen.name} does not ask for it here",
        )
    why = "planned ([analysis] sensitivity)" if planned else f"policy {chosen.name} asks for it"
    if result.k < 3:
        return FollowUp(
            "leave_one_out",
            name,
            None,
            f"{why}; not run: k = {result.k}, leave-one-out needs 3 studies",
        )
    table = policy.leave_one_out if policy.leave_one_out is not None else leave_one_out(result)
    return FollowUp("leave_one_out", name, table, f"{why}; k = {result.k}")


def _without_high_risk(
    plan: Plan,
    policy: PolicyResult,
    usable: pd.DataFrame,
    rob: Mapping[int, str | None] | None,
    rob_note: str,
) -> FollowUp:
    name = "excluding studies at high risk of bias"
    why = (
        "planned ([analysis] sensitivity)"
        if EXCLUDE_HIGH_RISK in plan.sensitivity
        else "for GRADE's risk-of-bias domain (not in [analysis] sensitivity)"
    )
    if rob is None:
        return FollowUp("exclude_high_risk", name, None, f"{why}; not run: {rob_note}")
    ids = usable["study_id"].astype(int).to_numpy()
    overall = [rob.get(int(i)) for i in ids]
    judged = np.array([i in rob for i in ids])
    high = np.array([o in HIGH_RISK for o in overall])
    labels = usable["study"].astype(str).to_numpy()
    if not judged.any():
        return FollowUp(
            "exclude_high_risk",
            name,
            None,
            f"{why}; not run: none of the {len(ids)} studies has a reconciled "
            "risk-of-bias judgement yet",
        )
    unknown = [
        str(label)
        for label, j, o in zip(labels, judged, overall, strict=True)
        if not j or o is None
    ]
    kept_note = (
        f"; {len(unknown)} without an overall judgement kept: {_listed(unknown)}" if unknown else ""
    )
    if high.all():
        return FollowUp(
            "exclude_high_risk",
            name,
            None,
            f"{why}; not run: all {len(ids)} studies at high risk of bias, none left",
        )
    if not high.any():
        return FollowUp(
            "exclude_high_risk",
            name,
            None,
            f"{why}; not run: no study at high risk of bias, the analysis is the "
            f"main one{kept_note}",
        )
    try:
        refitted, _ = _quiet(lambda: _refit(policy.result, usable[~high], policy))
    except InputError as error:
        return FollowUp("exclude_high_risk", name, None, f"{why}; not run: {error.reason}")
    excluded = [str(label) for label in labels[high]]
    return FollowUp(
        "exclude_high_risk",
        name,
        refitted,
        f"{why}; {len(excluded)} of {len(ids)} studies at high risk excluded: "
        f"{_listed(excluded)}{kept_note}",
    )


def _characteristic(
    protocol_fields: Mapping[str, tuple[str, str]], field: str, usable: pd.DataFrame
) -> tuple[str | None, str, str]:
    """(column, type, problem) of an extracted characteristic."""
    if field not in protocol_fields:
        known = ", ".join(protocol_fields) or "none"
        return None, "", f"no [[extraction.fields]] entry is called {field!r} (the fields: {known})"
    column, kind = protocol_fields[field]
    if column not in usable:
        return None, kind, f"the export has no column {column!r}"
    return column, kind, ""


def _subgroups(
    plan: Plan, policy: PolicyResult, usable: pd.DataFrame, fields: Mapping[str, tuple[str, str]]
) -> list[FollowUp]:
    found = []
    result = policy.result
    for subgroup in plan.subgroups:
        name = f"subgroup: {subgroup.name}"
        column, _, problem = _characteristic(fields, subgroup.field, usable)
        if column is None:
            found.append(FollowUp("subgroup", name, None, f"not run: {problem}", subgroup.field))
            continue
        blank = _blank(usable[column])
        omitted = usable.loc[blank, "study"].astype(str).tolist()
        data = usable[~blank]
        levels = list(dict.fromkeys(data[column].astype(str)))
        omitted_note = (
            f"; {len(omitted)} without a value for {subgroup.field} left out: {_listed(omitted)}"
            if omitted
            else ""
        )
        if len(levels) < 2:
            what = (
                f"one level ({levels[0]}) among the {len(data)} studies with a value"
                if levels
                else "no study has a value"
            )
            found.append(
                FollowUp(
                    "subgroup",
                    name,
                    None,
                    f"not run: {what}, nothing to compare{omitted_note}",
                    subgroup.field,
                )
            )
            continue
        found.append(
            _fitted(
                "subgroup",
                name,
                subgroup.field,
                lambda data=data, column=column: subgroup_analysis(
                    data,
                    column,
                    measure=result.measure,
                    method=result.method,
                    test=result.test,
                    level=result.level,
                    label="study",
                ),
                f"planned ([[subgroups]]); {len(levels)} subgroups of "
                f"{len(data)} studies, {METHOD_NAMES[result.method]} within "
                f"each{omitted_note}",
            )
        )
    return found


def _metaregressions(
    plan: Plan, policy: PolicyResult, usable: pd.DataFrame, fields: Mapping[str, tuple[str, str]]
) -> list[FollowUp]:
    found = []
    chosen, result = policy.policy, policy.result
    for regression in plan.metaregressions:
        name = f"meta-regression: {regression.name}"
        variable = " + ".join(regression.moderators)
        terms, blank, problems = [], np.zeros(len(usable), dtype=bool), []
        for moderator in regression.moderators:
            column, kind, problem = _characteristic(fields, moderator, usable)
            if column is None:
                problems.append(problem)
                continue
            blank |= _blank(usable[column])
            terms.append(column if kind == "number" else f"factor({column})")
        if problems:
            found.append(
                FollowUp("metaregression", name, None, f"not run: {'; '.join(problems)}", variable)
            )
            continue
        omitted = usable.loc[blank, "study"].astype(str).tolist()
        data = usable[~blank]
        notes = [
            f"planned ([[metaregressions]]); {len(data)} studies, "
            f"{METHOD_NAMES[chosen.random_method]} (Handbook 10.11.4)"
        ]
        if omitted:
            notes.append(f"{len(omitted)} without a value left out: {_listed(omitted)}")
        if len(data) < METAREG_STUDIES_PER_MODERATOR * len(terms):
            notes.append(
                f"fewer than {METAREG_STUDIES_PER_MODERATOR} studies per moderator: "
                "interpret with caution (Handbook 10.11.4)"
            )
        if len(data) < len(terms) + 2:
            found.append(
                FollowUp(
                    "metaregression",
                    name,
                    None,
                    f"not run: {len(data)} studies with values for "
                    f"{len(terms)} moderators; a meta-regression needs at least "
                    f"{len(terms) + 2}",
                    variable,
                )
            )
            continue
        formula = "~ " + " + ".join(terms)
        found.append(
            _fitted(
                "metaregression",
                name,
                variable,
                lambda data=data, formula=formula: meta_regression(
                    data,
                    formula,
                    measure=result.measure,
                    method=chosen.random_method,
                    test=chosen.test,
                    level=result.level,
                    label="study",
                ),
                "; ".join(notes),
            )
        )
    return found


def _small_study(plan: Plan, policy: PolicyResult, usable: pd.DataFrame) -> FollowUp:
    name = "tests for small-study effects"
    chosen, result = plan.policy, policy.result
    assert chosen is not None
    if not chosen.small_study_tests:
        return FollowUp("small_study", name, None, f"not part of policy {chosen.name}")
    if result.k < plan.small_study_min_k:
        return FollowUp(
            "small_study",
            name,
            None,
            f"not run: k = {result.k}, fewer than {plan.small_study_min_k} studies "
            "(small_study_min_k; Cochrane Handbook 13.3.5.4)",
        )
    binary = policy.outcome == "binary"
    tests = policy.small_study
    if tests is None:
        try:
            tests, _ = _quiet(lambda: small_study_tests(result, counts=usable if binary else None))
        except InputError as error:
            return FollowUp("small_study", name, None, f"not run: {error.reason}")
    return FollowUp(
        "small_study",
        name,
        tests,
        f"policy {chosen.name} asks for them; k = {result.k} >= {plan.small_study_min_k}",
    )


def not_run(plan: Plan, reason: str) -> tuple[FollowUp, ...]:
    """Every planned follow-up, not run for ``reason``."""
    found = [FollowUp("leave_one_out", "leave-one-out", None, reason)]
    found.append(
        FollowUp("exclude_high_risk", "excluding studies at high risk of bias", None, reason)
    )
    found += [
        FollowUp("subgroup", f"subgroup: {s.name}", None, reason, s.field) for s in plan.subgroups
    ]
    found += [
        FollowUp(
            "metaregression", f"meta-regression: {m.name}", None, reason, " + ".join(m.moderators)
        )
        for m in plan.metaregressions
    ]
    found.append(FollowUp("small_study", "tests for small-study effects", None, reason))
    return tuple(found)


def _participants(usable: pd.DataFrame, data: str) -> tuple[int | None, int | None, tuple]:
    """Participants per arm and each study's control-group risk (binary)."""
    if data == "continuous":
        return int(usable["n1"].sum()), int(usable["n2"].sum()), ()
    if data == "binary":
        events, total = usable["events2"].astype(float), usable["total2"].astype(float)
        risks = tuple(float(r) for r in (events / total).to_numpy())
        return int(usable["total1"].sum()), int(usable["total2"].sum()), risks
    return None, None, ()


def analyze_outcome(
    protocol: Protocol,
    plan: Plan,
    export: Any,
    *,
    data_version: str,
    rob: Mapping[int, str | None] | None,
    rob_note: str = "",
    overrides: Mapping[str, tuple[int, str, str]] | None = None,
) -> OutcomeAnalysis:
    """The planned analyses of one outcome's export (an ``ExportTable``).

    ``rob`` maps study ids to their reconciled overall judgement (None: not
    given); ``rob`` None means no judgements at all, ``rob_note`` says why.
    """
    outcome = plan.outcome
    if outcome.network:
        from srma.review.synthesize.network import analyze_network_outcome

        return analyze_network_outcome(
            plan, export, data_version=data_version, rob=rob, overrides=overrides
        )
    table: pd.DataFrame = export.table
    blank = table["missing"].fillna("").astype(str) != ""
    missing = tuple(
        MissingStudy(str(r.study), int(r.study_id), str(r.missing))
        for r in table[blank].itertuples(index=False)
    )
    usable = table[~blank].reset_index(drop=True)
    common: dict[str, Any] = {
        "outcome": outcome,
        "time_point": export.time_point,
        "measure": outcome.measure,
        "table": table,
        "data_version": data_version,
        "missing": missing,
        "design": plan.design,
        "overrides": dict(overrides or {}),
    }
    where = f"{outcome.name}" + (f" at {export.time_point}" if export.time_point else "")
    if usable.empty:
        why = (
            f"no study has usable data for {where}: each of the {len(table)} studies is "
            "listed under missing with its reason"
            if len(table)
            else f"no study of the review has a row for {where} (no included study)"
        )
        return OutcomeAnalysis(
            policy=None, notes=(why,), follow_ups=not_run(plan, "not run: no usable data"), **common
        )
    if plan.policy is None:
        why = "the protocol names no analysis policy ([analysis] policy): nothing was pooled"
        return OutcomeAnalysis(
            policy=None,
            notes=(why,),
            follow_ups=not_run(plan, "not run: no analysis policy"),
            **common,
        )
    k = len(usable)
    notes: list[str] = []
    if missing:
        notes.append(f"{len(missing)} of {len(table)} studies without usable data (see missing)")
    applied = plan.policy
    if applied.small_study_tests and k < plan.small_study_min_k:
        applied = replace(applied, small_study_tests=False)
    try:
        policy, caught = _quiet(lambda: apply_policy(applied, usable, label="study"))
    except InputError as error:
        why = f"policy {plan.policy.name} cannot be applied to {where}: {error.reason}"
        return OutcomeAnalysis(
            policy=None,
            notes=(*notes, why),
            follow_ups=not_run(plan, "not run: the policy could not be applied"),
            **common,
        )
    if policy.result.estimate is None:
        why = f"policy {plan.policy.name} gives no estimate for {where}: " + (
            "; ".join((*policy.warnings, *caught)) or "the estimate is undefined"
        )
        return OutcomeAnalysis(
            policy=None,
            notes=(*notes, why),
            follow_ups=not_run(plan, "not run: the policy could not be applied"),
            **common,
        )
    policy = replace(
        policy,
        policy=plan.policy,
        decisions=(*plan.policy_notes, *policy.decisions),
        warnings=tuple(dict.fromkeys((*policy.warnings, *caught))),
    )
    if policy.result.k == 1:
        notes.append(
            "one study: the pooled result is that study's own; heterogeneity, "
            "leave-one-out and small-study tests are undefined"
        )
    fields = {f.name: (f.column, f.type) for f in protocol.extraction.fields}
    follow_ups = [
        _leave_one_out(plan, policy),
        _without_high_risk(plan, policy, usable, rob, rob_note),
        *_subgroups(plan, policy, usable, fields),
        *_metaregressions(plan, policy, usable, fields),
        _small_study(plan, policy, usable),
    ]
    intervention, control, risks = _participants(usable, outcome.data or "")
    overall = (
        {}
        if rob is None
        else {str(r.study): rob.get(int(r.study_id)) for r in usable.itertuples(index=False)}
    )
    return OutcomeAnalysis(
        policy=policy,
        follow_ups=tuple(follow_ups),
        notes=tuple(notes),
        rob_overall=overall,
        participants_intervention=intervention,
        participants_control=control,
        control_risks=risks,
        **common,
    )
