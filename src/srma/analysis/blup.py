"""Best linear unbiased predictions of the studies' true effects, and the random effects.

For the random-effects model ``y_i = x_i' beta + u_i + e_i`` (``u_i ~ N(0,
tau²)``, ``e_i ~ N(0, v_i)``) fitted by :func:`srma.meta` or
:func:`srma.meta_regression`, with the shrinkage factor ``lambda_i = tau² /
(tau² + v_i)`` (Raudenbush & Bryk 1985, J Educ Stat 10:75; Robinson 1991,
Stat Sci 6:15):

* :func:`blup`: the true effect ``theta_i = x_i' beta + u_i`` is predicted by
  ``lambda_i y_i + (1 - lambda_i) x_i' beta_hat`` with variance ``lambda_i v_i +
  (1 - lambda_i)² x_i' Var(beta_hat) x_i`` (metafor's ``blup.rma.uni``);
* :func:`ranef`: the random effect ``u_i`` by ``lambda_i (y_i - x_i' beta_hat)``
  with variance ``lambda_i v_i + lambda_i² x_i' Var(beta_hat) x_i`` (metafor's
  ``ranef.rma.uni``); 0 with variance 0 under a common-effect model.

Intervals are ``pred ± crit se`` with the critical value of the model's test
(normal for ``z``, t with the model's df for ``t``, ``knha`` and ``adhoc``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.meta import MetaResult
from srma.analysis.metareg import MetaRegressionResult
from srma.analysis.results import refuse_user_weights
from srma.analysis.validation import validate_options
from srma.errors import InputError
from srma.stats.batch import FloatArray
from srma.stats.inference import critical_value
from srma.vocabulary import COMMON_EFFECT_METHODS, COUNT_METHODS

__all__ = ["StudyPredictions", "blup", "ranef"]


@dataclass(frozen=True)
class StudyPredictions:
    """One prediction per study: ``kind`` ``"blup"`` (true effects) or ``"ranef"``
    (random effects), with standard errors and ``level`` prediction intervals."""

    kind: str
    level: float
    labels: tuple[str, ...]
    pred: tuple[float, ...]
    se: tuple[float, ...]
    pi_lower: tuple[float, ...]
    pi_upper: tuple[float, ...]

    def to_frame(self) -> pd.DataFrame:
        """Columns ``label, pred, se, pi_lower, pi_upper``."""
        return pd.DataFrame(
            {
                "label": list(self.labels),
                "pred": self.pred,
                "se": self.se,
                "pi_lower": self.pi_lower,
                "pi_upper": self.pi_upper,
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "level": self.level,
            "labels": list(self.labels),
            "pred": list(self.pred),
            "se": list(self.se),
            "pi_lower": list(self.pi_lower),
            "pi_upper": list(self.pi_upper),
        }


@dataclass(frozen=True)
class _Model:
    """What the predictions need from a fitted model."""

    y: FloatArray
    v: FloatArray
    X: FloatArray
    beta: FloatArray
    vcov: FloatArray
    tau2: float
    common: bool
    crit: float


def _model(result: Any, level: float | None, function: str) -> tuple[_Model, float]:
    if level is not None:
        validate_options(function, level=level)
    if isinstance(result, MetaResult):
        if result.method in COUNT_METHODS:
            raise InputError(
                f"BLUPs need an inverse-variance model; this result is pooled by {result.method}"
            )
        # as metafor: "not available for models with non-standard weights"
        refuse_user_weights(result, f"{function}()")
        if result.estimate is None or result.se is None:
            raise InputError("BLUPs need a pooled estimate; this result has none")
        k = len(result.yi)
        X = np.ones((k, 1))
        beta = np.array([result.estimate])
        vcov = np.array([[result.se**2]])
    elif isinstance(result, MetaRegressionResult):
        X = np.asarray(result.X, dtype=float)
        beta = np.asarray(result.estimate, dtype=float)
        vcov = np.asarray(result.vcov, dtype=float)
    else:
        raise InputError(
            f"BLUPs need a result of meta() or meta_regression(), got {result.__class__.__name__}"
        )
    if len(result.yi) < 2:
        raise InputError(f"BLUPs need at least 2 studies, got k = {len(result.yi)}")
    level = result.level if level is None else float(level)
    if not 0.0 < level < 1.0:
        raise InputError(f"level must be between 0 and 1, got {level!r}")
    df = np.array([np.nan if result.df is None else result.df])
    model = _Model(
        y=np.asarray(result.yi, dtype=float),
        v=np.asarray(result.vi, dtype=float),
        X=X,
        beta=beta,
        vcov=vcov,
        tau2=float(result.tau2 or 0.0),
        common=result.method in COMMON_EFFECT_METHODS,
        crit=float(critical_value(level, df)[0]),
    )
    return model, level


def _predictions(
    result: Any, kind: str, pred: FloatArray, variance: FloatArray, model: _Model, level: float
) -> StudyPredictions:
    se = np.sqrt(variance)
    return StudyPredictions(
        kind=kind,
        level=level,
        labels=tuple(result.labels),
        pred=tuple(map(float, pred)),
        se=tuple(map(float, se)),
        pi_lower=tuple(map(float, pred - model.crit * se)),
        pi_upper=tuple(map(float, pred + model.crit * se)),
    )


def blup(result: MetaResult | MetaRegressionResult, level: float | None = None) -> StudyPredictions:
    """Best linear unbiased predictions of each study's true effect (metafor's ``blup``).

    ``lambda_i y_i + (1 - lambda_i) x_i' beta`` with ``lambda_i = tau² / (tau² + v_i)``;
    variance ``lambda_i v_i + (1 - lambda_i)² x_i' Var(beta) x_i`` (see the module).
    ``level`` defaults to the result's.  Under a common-effect model (tau² = 0)
    every prediction is the fitted value ``x_i' beta``.
    """
    model, level = _model(result, level, "blup")
    shrink = model.tau2 / (model.tau2 + model.v)
    fitted = model.X @ model.beta
    leverage = np.einsum("ki,ij,kj->k", model.X, model.vcov, model.X)
    pred = shrink * model.y + (1.0 - shrink) * fitted
    variance = shrink * model.v + (1.0 - shrink) ** 2 * leverage
    return _predictions(result, "blup", pred, variance, model, level)


def ranef(
    result: MetaResult | MetaRegressionResult, level: float | None = None
) -> StudyPredictions:
    """Predicted random effects ``u_i = lambda_i (y_i - x_i' beta)`` (metafor's ``ranef``).

    Variance ``lambda_i v_i + lambda_i² x_i' Var(beta) x_i``; 0 (with variance 0)
    under a common-effect model, which has no random effects.
    """
    model, level = _model(result, level, "ranef")
    k = model.y.size
    if model.common:
        return _predictions(result, "ranef", np.zeros(k), np.zeros(k), model, level)
    shrink = model.tau2 / (model.tau2 + model.v)
    leverage = np.einsum("ki,ij,kj->k", model.X, model.vcov, model.X)
    pred = shrink * (model.y - model.X @ model.beta)
    variance = shrink * model.v + shrink**2 * leverage
    return _predictions(result, "ranef", pred, variance, model, level)
