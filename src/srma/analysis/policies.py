"""Analysis policies: named rule sets that choose the model and the follow-up analyses.

A policy turns what reviewers write in their methods section ("if I² >= 50%
we used a random-effects model and a sensitivity analysis, otherwise a
fixed-effect model") into code, and records each decision with the number
that triggered it, so a report can say what was done and why.

Shipped policies:

* ``huang2024``: Huang et al. (2024), BMC Neurology, the seed meta-analysis
  (Stata 15): SMD for continuous and RR for binary outcomes; I² >= 50%:
  random effects (DerSimonian-Laird, Stata's ``metan`` default) with
  leave-one-out sensitivity analysis, otherwise a common-effect model
  (inverse variance; Mantel-Haenszel for RR, ``metan``'s default); Egger's test.
* ``hassanein2024``: Hassanein et al. (2024), Frontiers in Stroke (R, meta):
  common-effect model, MD for continuous and RR for binary outcomes
  (inverse variance, and Mantel-Haenszel for RR as ``meta::metabin`` does).
* ``modern``: random effects with REML and the Hartung-Knapp-Sidik-Jonkman
  test, prediction interval always shown (Cochrane Handbook 10.10.4; IntHout
  et al. 2014, BMC Med Res Methodol 14:25), SMD/RR, leave-one-out and
  small-study tests where there are enough studies.

A review may write its own (``policy = "custom"`` with ``[analysis.custom]`` in
``review.toml``): :func:`custom_policy` builds it from those fields and
describes it in words from them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from srma.analysis.bias import SmallStudyResult, small_study_tests
from srma.analysis.meta import meta
from srma.analysis.results import MetaResult
from srma.analysis.sensitivity import RefitTable, leave_one_out
from srma.errors import InputError, SrmaWarning
from srma.vocabulary import METHOD_NAMES, TEST_NAMES, USER_WEIGHT_METHODS


@dataclass(frozen=True)
class AnalysisPolicy:
    """A rule set choosing the measure, the model and the follow-up analyses."""

    name: str
    description: str
    citation: str
    continuous_measure: str = "SMD"
    binary_measure: str = "RR"
    i2_threshold: float | None = None  # random effects when I² >= threshold; None: fixed rule
    random_method: str = "REML"
    common_method_continuous: str = "EE"
    common_method_binary: str = "EE"
    always_random: bool = False
    test: str = "z"
    leave_one_out: str = "never"  # "never", "if_random", "always"
    small_study_tests: bool = False
    prediction_interval: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


POLICIES: dict[str, AnalysisPolicy] = {
    "huang2024": AnalysisPolicy(
        name="huang2024",
        description=(
            "I² >= 50%: random effects (DerSimonian-Laird) and leave-one-out sensitivity "
            "analysis; otherwise common effect; Egger's test; SMD for continuous, RR for "
            "binary outcomes"
        ),
        citation=(
            "Huang H, Zhang J, Lin J, Shi S (2024). Efficacy and safety of mesenchymal stem "
            "cells in patients with acute ischemic stroke: a meta-analysis. BMC Neurology."
        ),
        continuous_measure="SMD",
        binary_measure="RR",
        i2_threshold=50.0,
        random_method="DL",
        common_method_continuous="EE",
        common_method_binary="MH",
        leave_one_out="if_random",
        small_study_tests=True,
    ),
    "hassanein2024": AnalysisPolicy(
        name="hassanein2024",
        description="common effect; MD for continuous, RR for binary outcomes",
        citation=(
            "Hassanein ME, Fayad J, Shabana JA, et al. (2024). Efficacy and safety of "
            "intravenous mesenchymal stem cells for ischemic stroke patients, a systematic "
            "review and meta-analysis. Frontiers in Stroke 2:1339331."
        ),
        continuous_measure="MD",
        binary_measure="RR",
        common_method_continuous="EE",
        common_method_binary="MH",
    ),
    "modern": AnalysisPolicy(
        name="modern",
        description=(
            "random effects with REML and the Hartung-Knapp-Sidik-Jonkman test, prediction "
            "interval always shown; SMD for continuous, RR for binary outcomes; leave-one-out "
            "and small-study tests"
        ),
        citation=(
            "Cochrane Handbook for Systematic Reviews of Interventions, version 6.4, "
            "chapter 10; IntHout J, Ioannidis JPA, Borm GF (2014). BMC Med Res Methodol 14:25."
        ),
        always_random=True,
        random_method="REML",
        test="knha",
        leave_one_out="always",
        small_study_tests=True,
        prediction_interval=True,
    ),
}


#: The fields of a policy a protocol may set (``[analysis.custom]``).
CUSTOM_FIELDS = (
    "continuous_measure",
    "binary_measure",
    "i2_threshold",
    "random_method",
    "common_method_continuous",
    "common_method_binary",
    "always_random",
    "test",
    "leave_one_out",
    "small_study_tests",
    "prediction_interval",
)


def custom_policy(**settings: Any) -> AnalysisPolicy:
    """A policy written in a protocol: ``settings`` are :data:`CUSTOM_FIELDS` (others keep
    :class:`AnalysisPolicy`'s defaults); its description says in words what it does."""
    unknown = sorted(set(settings) - set(CUSTOM_FIELDS))
    if unknown:
        raise InputError(
            f"unknown policy settings: {', '.join(unknown)}; expected: {', '.join(CUSTOM_FIELDS)}"
        )
    if settings.get("i2_threshold") is not None:
        settings["i2_threshold"] = float(settings["i2_threshold"])
    base = AnalysisPolicy(name="custom", description="", citation="")
    chosen = replace(base, **settings)
    if chosen.random_method in USER_WEIGHT_METHODS:
        raise InputError(
            f"random_method {chosen.random_method} needs user weights, which a policy does not "
            "take; choose a tau² method of srma.vocabulary.TAU2_METHODS"
        )
    random = METHOD_NAMES[chosen.random_method]
    if chosen.always_random:
        model = f"always {random}"
    elif chosen.i2_threshold is not None:
        model = f"I² >= {chosen.i2_threshold:g}%: {random}, otherwise common effect"
    else:
        model = "common effect always"
    parts = [
        model,
        TEST_NAMES[chosen.test],
        f"leave-one-out {chosen.leave_one_out.replace('_', ' ')}",
        "small-study tests" if chosen.small_study_tests else "no small-study tests",
        "prediction interval shown" if chosen.prediction_interval else "no prediction interval",
        f"{chosen.continuous_measure} for continuous, {chosen.binary_measure} for binary outcomes",
    ]
    return replace(
        chosen,
        description="; ".join(parts),
        citation="the review's protocol ([analysis.custom] in review.toml)",
    )


def get_policy(name: str) -> AnalysisPolicy:
    """A shipped policy by name."""
    try:
        return POLICIES[name]
    except KeyError:
        raise InputError(
            f"unknown analysis policy {name!r}; available: {', '.join(POLICIES)}"
        ) from None


@dataclass(frozen=True)
class PolicyResult:
    """What a policy decided, why, and the analyses it ran."""

    policy: AnalysisPolicy
    outcome: str  # "continuous", "binary" or "generic" (effect sizes yi with sei or vi)
    measure: str
    screening_i2: float | None
    decisions: tuple[str, ...]
    result: MetaResult
    leave_one_out: RefitTable | None = None
    small_study: SmallStudyResult | None = None
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.to_dict(),
            "outcome": self.outcome,
            "measure": self.measure,
            "screening_i2": self.screening_i2,
            "decisions": list(self.decisions),
            "result": self.result.to_dict(),
            "leave_one_out": None
            if self.leave_one_out is None
            else self.leave_one_out.to_records(),
            "small_study": None if self.small_study is None else self.small_study.to_dict(),
            "warnings": list(self.warnings),
        }

    def summary(self) -> str:
        lines = [f"Policy {self.policy.name}: {self.policy.description}"]
        lines.extend(f"- {decision}" for decision in self.decisions)
        lines.append(self.result.summary())
        if self.small_study is not None:
            lines.append(self.small_study.summary())
        return "\n".join(lines)


def _outcome(data: pd.DataFrame, columns: dict[str, str], source: str | None) -> str:
    def present(role: str) -> bool:
        return columns.get(role, role) in data.columns

    if present("mean1"):
        return "continuous"
    if present("events1") or present("a"):
        return "binary"
    if present("yi") and (present("sei") or present("vi")):
        return "generic"
    has = ", ".join(map(str, data.columns)) or "no columns"
    raise InputError(
        "a policy needs per-arm data: mean1, sd1, n1, mean2, sd2, n2 (continuous) or "
        "events1, total1, events2, total2 (binary), or effect sizes yi with sei or vi "
        f"(generic); the table has {has}",
        file=source,
    )


def apply_policy(
    policy: AnalysisPolicy | str,
    data: pd.DataFrame,
    *,
    label: str | None = None,
    source: str | None = None,
    **columns: str,
) -> PolicyResult:
    """Run the analyses a policy prescribes on per-arm data (or on effect sizes, ``yi`` with
    ``sei`` or ``vi``: measure GEN, the common-effect model inverse variance), recording every
    decision."""
    chosen = get_policy(policy) if isinstance(policy, str) else policy
    outcome = _outcome(data, columns, source)
    measure = {"continuous": chosen.continuous_measure, "binary": chosen.binary_measure}.get(
        outcome, "GEN"
    )
    common = chosen.common_method_binary if outcome == "binary" else chosen.common_method_continuous
    decisions = [
        f"{outcome} outcome: measure {measure}"
        if outcome != "generic"
        else "generic outcome: the effect sizes as given (yi and their standard errors)"
    ]
    with warnings.catch_warnings(record=True) as recorded:
        warnings.simplefilter("always", SrmaWarning)
        screening = meta(
            data, measure=measure, method=common, label=label, source=source, **columns
        )
        screening_i2 = screening.i2
        if chosen.always_random:
            random = True
            decisions.append(f"random effects always ({METHOD_NAMES[chosen.random_method]})")
        elif chosen.i2_threshold is None:
            random = False
            decisions.append(f"common effect always ({METHOD_NAMES[common]})")
        elif screening_i2 is None:
            random = False
            decisions.append("I² undefined (one study): common effect")
        else:
            random = screening_i2 >= chosen.i2_threshold
            comparison = ">=" if random else "<"
            model = METHOD_NAMES[chosen.random_method if random else common]
            decisions.append(
                f"I² = {screening_i2:.1f}% {comparison} {chosen.i2_threshold:g}%: {model}"
            )
        if random:
            result = meta(
                data,
                measure=measure,
                method=chosen.random_method,
                test=chosen.test,
                label=label,
                source=source,
                **columns,
            )
        else:
            result = screening
        if not chosen.prediction_interval and result.pi_lower is not None:
            result = replace(result, pi_lower=None, pi_upper=None)
            decisions.append("prediction interval not reported (not part of this policy)")
        elif chosen.prediction_interval:
            decisions.append("prediction interval shown")
        loo = None
        wanted = chosen.leave_one_out == "always" or (
            chosen.leave_one_out == "if_random" and random
        )
        if wanted and result.k >= 3:
            loo = leave_one_out(result)
            decisions.append("leave-one-out sensitivity analysis")
        elif wanted:
            decisions.append("leave-one-out skipped: fewer than 3 studies")
        bias = None
        if chosen.small_study_tests:
            bias = small_study_tests(
                result,
                counts=data if outcome == "binary" else None,
                **{
                    k: v
                    for k, v in columns.items()
                    if k in ("events1", "total1", "events2", "total2", "a", "b", "c", "d")
                },
            )
            decisions.append("tests for small-study effects (Egger's test and others)")
    caught = list(
        dict.fromkeys(
            str(item.message) for item in recorded if issubclass(item.category, SrmaWarning)
        )
    )
    for message in caught:
        warnings.warn(message, SrmaWarning, stacklevel=2)
    return PolicyResult(
        policy=chosen,
        outcome=outcome,
        measure=measure,
        screening_i2=screening_i2,
        decisions=tuple(decisions),
        result=result,
        leave_one_out=loo,
        small_study=bias,
        warnings=tuple(caught),
    )
