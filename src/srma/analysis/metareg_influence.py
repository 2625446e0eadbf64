"""Influence diagnostics of a meta-regression (metafor's ``influence.rma.uni`` with moderators).

:func:`srma.analysis.sensitivity.influence_diagnostics` hands a
:class:`~srma.analysis.metareg.MetaRegressionResult` to
:func:`metareg_influence`; the numerics are
:func:`srma.stats.influence.regression_influence` (the k fits without one
study refitted as one batch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.metareg import MetaRegressionResult
from srma.analysis.results import optional_float
from srma.errors import InputError
from srma.stats.influence import regression_influence

__all__ = ["MetaRegressionInfluence", "metareg_influence"]

#: The per-study diagnostics but DFBETAS, in metafor's order (an intercept-only model's
#: :class:`srma.analysis.sensitivity.InfluenceResult` adds its one ``dfbetas``; a
#: meta-regression's has one per coefficient).
REGRESSION_INFLUENCE_FIELDS = (
    "rstudent",
    "dffits",
    "cooks_distance",
    "covariance_ratio",
    "tau2_deleted",
    "q_deleted",
    "hat",
    "weight",
)


@dataclass(frozen=True)
class MetaRegressionInfluence:
    """Per-study influence diagnostics of a meta-regression (Viechtbauer & Cheung 2010).

    ``dfbetas`` holds one tuple per study with one value per coefficient
    (``names``).  None where the model without the study cannot be fitted
    (its design loses a column, for example the only study of a category).
    """

    labels: tuple[str, ...]
    names: tuple[str, ...]
    method: str
    test: str
    rstudent: tuple[float | None, ...]
    dffits: tuple[float | None, ...]
    cooks_distance: tuple[float | None, ...]
    covariance_ratio: tuple[float | None, ...]
    tau2_deleted: tuple[float | None, ...]
    q_deleted: tuple[float | None, ...]
    hat: tuple[float | None, ...]
    weight: tuple[float | None, ...]
    dfbetas: tuple[tuple[float | None, ...], ...]
    influential: tuple[bool, ...]

    def to_frame(self) -> pd.DataFrame:
        """One row per study: ``study``, the diagnostics, ``dfbetas_<coefficient>`` and
        ``influential``."""
        columns: dict[str, list[Any]] = {"study": list(self.labels)}
        for name in REGRESSION_INFLUENCE_FIELDS:
            columns[name] = list(getattr(self, name))
        for position, coefficient in enumerate(self.names):
            columns[f"dfbetas_{coefficient}"] = [row[position] for row in self.dfbetas]
        columns["influential"] = list(self.influential)
        return pd.DataFrame(columns)

    def to_records(self) -> list[dict[str, Any]]:
        frame = self.to_frame().astype(object)
        return frame.where(frame.notna(), None).to_dict(orient="records")


def metareg_influence(result: MetaRegressionResult) -> MetaRegressionInfluence:
    """Influence diagnostics of each study of a fitted meta-regression.

    Needs at least ``p + 2`` studies (the fit without a study must still have
    residual degrees of freedom).  See
    :func:`srma.stats.influence.regression_influence` for the formulas.
    """
    if not isinstance(result, MetaRegressionResult):
        raise InputError(
            "metareg_influence() needs a result of meta_regression(), got "
            f"{result.__class__.__name__}"
        )
    X = np.asarray(result.X, dtype=float)
    k, p = X.shape
    if k < p + 2:
        raise InputError(
            f"influence diagnostics of a meta-regression with {p} coefficients need at "
            f"least {p + 2} studies, got k = {k}"
        )
    with np.errstate(all="ignore"):
        arrays = regression_influence(
            np.asarray(result.yi, dtype=float),
            np.asarray(result.vi, dtype=float),
            X,
            method=result.method,
            test=result.test,
        )
    values = {
        name: tuple(optional_float(value) for value in getattr(arrays, name))
        for name in REGRESSION_INFLUENCE_FIELDS
    }
    return MetaRegressionInfluence(
        labels=result.labels,
        names=result.names,
        method=result.method,
        test=result.test,
        dfbetas=tuple(tuple(optional_float(x) for x in row) for row in arrays.dfbetas),
        influential=tuple(bool(x) for x in arrays.influential),
        **values,
    )
