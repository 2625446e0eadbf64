"""The Henmi-Copas interval of a meta-analysis (Henmi & Copas 2010; metafor's ``hc``).

The common-effect estimate, robust to small-study effects, with a standard
error and a confidence interval that allow for heterogeneity (see
:mod:`srma.stats.henmi_copas` for the formulas).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from srma.analysis.results import MetaResult
from srma.analysis.validation import validate_options
from srma.errors import InputError
from srma.stats.batch import as_batch
from srma.stats.henmi_copas import henmi_copas as henmi_copas_arrays
from srma.vocabulary import COUNT_METHODS

__all__ = ["HenmiCopasResult", "henmi_copas"]


@dataclass(frozen=True)
class HenmiCopasResult:
    """The Henmi-Copas estimate (the inverse-variance common-effect mean), its
    standard error and ``level`` interval, and the DerSimonian-Laird tau² they use;
    ``model_*`` are the fitted model's own estimate and interval, for comparison."""

    level: float
    k: int
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    tau2: float
    model_method: str
    model_estimate: float | None
    model_ci_lower: float | None
    model_ci_upper: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        percent = round(100 * self.level)
        return (
            f"Henmi-Copas: estimate = {self.estimate:.4f}, se = {self.se:.4f}, "
            f"{percent}% CI [{self.ci_lower:.4f}, {self.ci_upper:.4f}], tau² (DL) = "
            f"{self.tau2:.4f}; the {self.model_method} model gave {self.model_estimate:.4f} "
            f"[{self.model_ci_lower:.4f}, {self.model_ci_upper:.4f}]"
        )


def henmi_copas(result: MetaResult, level: float | None = None) -> HenmiCopasResult:
    """The Henmi & Copas (2010, Stat Med 29:2969) interval of an inverse-variance ``result``.

    Uses the result's effects and variances only (whatever its method, as
    metafor's ``hc.rma.uni``): the common-effect mean with DerSimonian-Laird's
    tau².  ``level`` defaults to the result's.  Needs at least 2 studies.
    """
    if not isinstance(result, MetaResult):
        raise InputError(f"henmi_copas() needs a result of meta(), got {result.__class__.__name__}")
    if result.method in COUNT_METHODS:
        raise InputError(
            f"henmi_copas() needs inverse-variance effects; this result is pooled by "
            f"{result.method}"
        )
    level = result.level if level is None else level
    validate_options("henmi_copas", level=level)
    k = len(result.yi)
    if k < 2:
        raise InputError(f"the Henmi-Copas interval needs at least 2 studies, got k = {k}")
    fit = henmi_copas_arrays(
        as_batch(np.asarray(result.yi, dtype=float), np.asarray(result.vi, dtype=float)), level
    )
    return HenmiCopasResult(
        level=level,
        k=k,
        estimate=float(fit.estimate[0]),
        se=float(fit.se[0]),
        ci_lower=float(fit.ci_lower[0]),
        ci_upper=float(fit.ci_upper[0]),
        tau2=float(fit.tau2[0]),
        model_method=result.method,
        model_estimate=result.estimate,
        model_ci_lower=result.ci_lower,
        model_ci_upper=result.ci_upper,
    )
