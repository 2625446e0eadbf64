"""``network_meta()``: network meta-analysis of a table of arms or of contrasts.

Two table layouts (one row per arm, or one row per contrast) become the
contrasts of :class:`srma.stats.network.data.ContrastData` (each study's arms
against its baseline arm, with the shared-arm covariance:
:mod:`srma.stats.network.prepare`), and the consistency model is fitted by
:mod:`srma.stats.network.fit`.  The formulas and references are there; docs/network.md
describes the formats and the checks.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from srma.analysis.validation import (
    numeric_columns,
    reject,
    require_columns,
    validate_options,
)
from srma.errors import InputError, SrmaWarning
from srma.formatting import format_estimate_ci, format_number
from srma.stats.batch import FloatArray
from srma.stats.inference import chi2_pvalue, critical_value, two_sided_pvalue
from srma.stats.network.contribution import (
    ContributionMatrix,
    contribution_matrix,
    hat_matrix,
    proportion_direct,
)
from srma.stats.network.data import ContrastData
from srma.stats.network.fit import NetworkFit, fit_network
from srma.stats.network.gls import DirectEstimates, direct_estimates
from srma.stats.network.graph import components, subnetwork
from srma.stats.network.inconsistency import (
    NetHeat,
    NodeSplit,
    design_by_treatment,
    net_heat,
    node_split,
    q_decomposition,
    within_design_tau2,
)
from srma.stats.network.prepare import (
    ArmTable,
    contrasts_from_arms,
    reduce_pairs,
    smd_contrasts_from_arms,
)
from srma.stats.network.ranking import p_scores, rank_probabilities

#: The arm columns each measure reads, one row per arm (``GEN``: an arm-level estimate).
ARM_ROLES: Mapping[str, tuple[str, ...]] = {
    "OR": ("events", "total"),
    "RR": ("events", "total"),
    "RD": ("events", "total"),
    "MD": ("mean", "sd", "n"),
    "SMD": ("mean", "sd", "n"),
    "GEN": ("yi", "sei"),
}
#: Measures whose arm estimate is a ratio's log (reported on the log scale).
LOG_MEASURES = frozenset({"OR", "RR"})
#: The seed of the rank probabilities' normal draws when none is given (fixed, so that a
#: result is reproduced exactly; any other whole number >= 0 may be given).
DEFAULT_RANK_SEED = 20260101
#: The number of normal draws of the rank probabilities when none is given.
DEFAULT_RANK_DRAWS = 10_000


def _option(name: str, value: Any) -> Any:
    return validate_options("network_meta", **{name: value})[name]


@dataclass(frozen=True)
class NetworkEstimate:
    """``treatment`` against ``vs`` (``treatment - vs`` on the analysis scale)."""

    treatment: str
    vs: str
    estimate: float
    se: float
    ci_lower: float
    ci_upper: float
    pvalue: float


@dataclass(frozen=True)
class NodeSplitRow:
    """Direct and indirect evidence on ``treatment - vs`` (a comparison some study makes):
    SIDE by back-calculation (König, Krahn & Binder 2013, Stat Med 32:5414), None where
    there is no indirect evidence."""

    treatment: str
    vs: str
    direct: float
    direct_se: float
    indirect: float | None
    indirect_se: float | None
    network: float
    network_se: float
    proportion_direct: float
    difference: float | None
    difference_se: float | None
    z: float | None
    pvalue: float | None


@dataclass(frozen=True)
class DirectComparison:
    """The direct (pairwise) evidence on ``treatment - vs``, a comparison ``studies``
    studies make: their inverse-variance pool at the fitted model's covariance, a
    multi-arm study's contrast at its own variance (netmeta's ``TE.direct``)."""

    treatment: str
    vs: str
    studies: int
    estimate: float
    se: float


@dataclass(frozen=True)
class DesignByTreatmentTest:
    """The Wald test of the design-by-treatment interaction model's inconsistency
    parameters (Higgins et al. 2012, Res Synth Methods 3:98; Krahn, Binder & König 2013)
    at ``tau2``: 0 under ``model="common"`` (it is then ``q_between``), the interaction
    model's own DerSimonian-Laird tau² under ``"random"`` (netmeta's ``decomp.design``,
    "based on full design-by-treatment interaction random effects model")."""

    model: str
    chi2: float
    df: int
    pvalue: float | None
    tau2: float


@dataclass(frozen=True)
class NetworkResult:
    """A network meta-analysis under the consistency model.

    ``estimates``: every treatment against ``reference``; ``league``: every ordered
    pair, each row ``treatment`` (the league table's row) minus ``vs`` (its column).
    ``basic_estimate`` and ``basic_vcov`` are the basic parameters (every treatment
    but the reference, in ``treatments`` order) and their covariance.  ``q`` is the
    total heterogeneity/inconsistency statistic on ``q_df`` df (netmeta's Q, metafor's
    QE), ``i2 = max(0, (Q - df)/Q)``; ``q_within`` and ``q_between`` its decomposition
    within and between designs under the common-effect model (Krahn, Binder & König
    2013, netmeta's ``decomp.design``).  ``pscores`` ranks the treatments in
    ``treatments`` order (Rücker & Schwarzer 2015; the direction from
    ``small_values``); ``node_split`` splits every comparison some study makes into
    direct and indirect evidence under the fitted model.  ``sucra``, ``mean_ranks`` and
    ``rank_probabilities`` (treatment x rank, 1 = best) come from ``draws`` normal draws
    of the estimates seeded by ``seed``; ``net_heat`` and ``design_by_treatment`` assess
    inconsistency by design; ``direct`` is the direct evidence on every compared pair,
    ``contribution`` the share of each in every network estimate (Papakonstantinou et al.
    2018) and ``proportion_direct`` the proportion of direct evidence in each (the rows of
    ``contribution``).  A disconnected network is analysed by subnetwork: this result is
    the reference's, ``subnetworks`` the others.
    """

    treatments: tuple[str, ...]
    reference: str
    measure: str
    method: str
    test: str
    level: float
    small_values: str
    k: int
    n_contrasts: int
    designs: tuple[str, ...]
    basic_estimate: tuple[float, ...]
    basic_vcov: tuple[tuple[float, ...], ...]
    estimates: tuple[NetworkEstimate, ...]
    league: tuple[NetworkEstimate, ...]
    tau2: float
    q: float
    q_df: int
    #: None on 0 df (a network without heterogeneity or loops to test)
    q_pvalue: float | None
    i2: float
    loglik: float
    df: float | None
    converged: bool
    q_within: float
    q_within_df: int
    q_within_pvalue: float | None
    q_between: float
    q_between_df: int
    q_between_pvalue: float | None
    pscores: tuple[float, ...]
    node_split: tuple[NodeSplitRow, ...]
    seed: int
    draws: int
    #: SUCRA and the mean rank of each treatment (``treatments`` order)
    sucra: tuple[float, ...]
    mean_ranks: tuple[float, ...]
    #: ``rank_probabilities[t][r]``: the share of draws in which treatment t ranks r + 1
    rank_probabilities: tuple[tuple[float, ...], ...]
    design_by_treatment: tuple[DesignByTreatmentTest, ...]
    direct: tuple[DirectComparison, ...]
    #: the proportion of direct evidence in the network estimate of each pair (the rows of
    #: ``contribution``: ``treatments[row_treat1] - treatments[row_treat2]``)
    proportion_direct: tuple[float, ...]
    #: the net heat matrix under the common-effect model (netmeta's ``netheat`` default)
    net_heat: NetHeat = field(repr=False, compare=False)
    #: percent[r, e]: the share of direct comparison e in the network estimate of pair r
    contribution: ContributionMatrix = field(repr=False, compare=False)
    warnings: tuple[str, ...] = ()
    subnetworks: tuple[NetworkResult, ...] = ()
    #: people randomised to each treatment (``treatments`` order), summed over the arms
    #: analysed (``n`` or ``total``); None where the table has no group sizes (GEN, contrasts)
    participants: tuple[float, ...] | None = None
    #: the contrasts analysed (N2's functions read them)
    contrasts: ContrastData = field(default=None, repr=False, compare=False)  # type: ignore[assignment]
    #: V + tau² S, the total covariance of the contrasts under the fitted model
    total_covariance: FloatArray = field(default=None, repr=False, compare=False)  # type: ignore[assignment]

    def estimates_frame(self) -> pd.DataFrame:
        """The estimates against the reference, one row each."""
        return pd.DataFrame([vars(row) for row in self.estimates])

    def league_frame(self, value: str = "estimate") -> pd.DataFrame:
        """The league table: cell (row, column) holds ``value`` of row minus column."""
        table = pd.DataFrame(
            index=list(self.treatments), columns=list(self.treatments), dtype=float
        )
        for row in self.league:
            table.loc[row.treatment, row.vs] = getattr(row, value)
        return table

    def league_display(self, digits: int = 2) -> pd.DataFrame:
        """The league table as read: cell (row, column) is ``estimate [ci_lower, ci_upper]``
        of the row treatment against the column's on the reported scale (exponentiated
        for OR and RR, as :data:`LOG_MEASURES`), the diagonal names the treatment."""
        names = list(self.treatments)
        table = pd.DataFrame(
            np.diag(names).astype(object), index=names, columns=names, dtype=object
        )
        scale = np.exp if self.measure in LOG_MEASURES else float
        for row in self.league:
            values = (float(scale(v)) for v in (row.estimate, row.ci_lower, row.ci_upper))
            table.loc[row.treatment, row.vs] = format_estimate_ci(*values, digits)
        return table

    def _pair(self, first: int, second: int) -> tuple[str, str]:
        return self.treatments[first], self.treatments[second]

    def _named(self, values: Any) -> dict[str, Any]:
        """``values`` (one per treatment, ``treatments`` order) keyed by treatment."""
        return dict(zip(self.treatments, values, strict=True))

    def contribution_frame(self) -> pd.DataFrame:
        """The contribution matrix in long form, its nonzero cells: ``treatment``, ``vs``
        (the network estimate), ``direct_treatment``, ``direct_vs`` (the direct
        comparison) and ``percent``."""
        rows, columns = np.nonzero(self.contribution.percent)
        names = np.asarray(self.treatments, dtype=object)
        return pd.DataFrame(
            {
                "treatment": names[self.contribution.row_treat1[rows]],
                "vs": names[self.contribution.row_treat2[rows]],
                "direct_treatment": names[self.contribution.column_treat1[columns]],
                "direct_vs": names[self.contribution.column_treat2[columns]],
                "percent": self.contribution.percent[rows, columns],
            }
        )

    def rank_frame(self) -> pd.DataFrame:
        """One row per treatment: P-score, SUCRA, mean rank and the probability of each
        rank (columns ``rank_1`` ... ``rank_T``; the rankogram)."""
        frame = pd.DataFrame(
            {
                "treatment": list(self.treatments),
                "pscore": list(self.pscores),
                "sucra": list(self.sucra),
                "mean_rank": list(self.mean_ranks),
            }
        )
        probabilities = np.asarray(self.rank_probabilities)
        for r in range(probabilities.shape[1]):
            frame[f"rank_{r + 1}"] = probabilities[:, r]
        return frame

    def _contribution_dict(self) -> dict[str, Any]:
        """The contribution matrix, its nonzero cells only: ``comparisons`` names the direct
        comparisons (``treatment:vs``); each row gives a pair, the ``columns`` (indices
        into ``comparisons``) that contribute and their ``percent``."""
        matrix = self.contribution
        comparisons = [
            ":".join(self._pair(a, b))
            for a, b in zip(
                matrix.column_treat1.tolist(), matrix.column_treat2.tolist(), strict=True
            )
        ]
        rows = []
        for r, (a, b) in enumerate(
            zip(matrix.row_treat1.tolist(), matrix.row_treat2.tolist(), strict=True)
        ):
            nonzero = np.flatnonzero(matrix.percent[r])
            rows.append(
                {
                    "treatment": self.treatments[a],
                    "vs": self.treatments[b],
                    "columns": nonzero.tolist(),
                    "percent": matrix.percent[r, nonzero].tolist(),
                }
            )
        return {"comparisons": comparisons, "rows": rows}

    def _net_heat_dict(self) -> dict[str, Any]:
        heat = self.net_heat
        return {
            "designs": list(heat.design_names),
            "matrix": heat.matrix.tolist(),
            "q_inconsistency": heat.q_inconsistency.tolist(),
            "q_between_detached": [
                {"design": name, "q": float(q), "df": int(df), "pvalue": _finite(p)}
                for name, q, df, p in zip(
                    heat.design_names,
                    heat.q_between_detached,
                    heat.q_between_detached_df,
                    heat.q_between_detached_pvalue,
                    strict=True,
                )
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """Every reported field as JSON-ready values (the matrices left out but the net
        heat matrix; the contribution matrix as its nonzero shares per pair)."""
        return {
            "treatments": list(self.treatments),
            "reference": self.reference,
            "measure": self.measure,
            "method": self.method,
            "test": self.test,
            "level": self.level,
            "small_values": self.small_values,
            "k": self.k,
            "n_contrasts": self.n_contrasts,
            "designs": list(self.designs),
            "basic_estimate": list(self.basic_estimate),
            "basic_vcov": [list(row) for row in self.basic_vcov],
            "estimates": [vars(row) for row in self.estimates],
            "league": [vars(row) for row in self.league],
            "tau2": self.tau2,
            "q": self.q,
            "q_df": self.q_df,
            "q_pvalue": self.q_pvalue,
            "i2": self.i2,
            "loglik": self.loglik,
            "df": self.df,
            "converged": self.converged,
            "q_within": self.q_within,
            "q_within_df": self.q_within_df,
            "q_within_pvalue": self.q_within_pvalue,
            "q_between": self.q_between,
            "q_between_df": self.q_between_df,
            "q_between_pvalue": self.q_between_pvalue,
            "pscores": dict(zip(self.treatments, self.pscores, strict=True)),
            "node_split": [vars(row) for row in self.node_split],
            "seed": self.seed,
            "draws": self.draws,
            "sucra": self._named(self.sucra),
            "mean_ranks": self._named(self.mean_ranks),
            "rank_probabilities": self._named([list(row) for row in self.rank_probabilities]),
            "design_by_treatment": {
                test.model: {key: value for key, value in vars(test).items() if key != "model"}
                for test in self.design_by_treatment
            },
            "net_heat": self._net_heat_dict(),
            "direct": [vars(row) for row in self.direct],
            "proportion_direct": [
                {"treatment": self.treatments[a], "vs": self.treatments[b], "proportion": p}
                for a, b, p in zip(
                    self.contribution.row_treat1.tolist(),
                    self.contribution.row_treat2.tolist(),
                    self.proportion_direct,
                    strict=True,
                )
            ],
            "contribution": self._contribution_dict(),
            "participants": None
            if self.participants is None
            else dict(zip(self.treatments, self.participants, strict=True)),
            "warnings": list(self.warnings),
            "subnetworks": [sub.to_dict() for sub in self.subnetworks],
        }

    def summary(self) -> str:
        """A plain-text report: the model, estimates against the reference, heterogeneity."""
        scale = " (log scale)" if self.measure in LOG_MEASURES else ""
        percent = round(100 * self.level)
        lines = [
            f"Network meta-analysis ({self.method}, {self.measure}{scale}; k = {self.k} studies, "
            f"{self.n_contrasts} contrasts, {len(self.treatments)} treatments, "
            f"{len(self.designs)} designs)",
            "",
            f"Against {self.reference}:",
        ]
        width = max(len(t) for t in self.treatments)
        for row in self.estimates:
            lines.append(
                f"  {row.treatment:<{width}}  {format_number(row.estimate, 4):>9}  "
                f"[{format_number(row.ci_lower, 4)}, {format_number(row.ci_upper, 4)}] "
                f"{percent}% CI, p {format_number(row.pvalue, 4)}"
            )
        lines += [
            "",
            f"tau² {format_number(self.tau2, 4)}; Q {format_number(self.q, 2)} on {self.q_df} df "
            f"(p {format_number(self.q_pvalue, 4)}); I² {format_number(100 * self.i2, 1)}%",
        ]
        lines.append(
            f"Q within designs {format_number(self.q_within, 2)} on {self.q_within_df} df, "
            f"between designs {format_number(self.q_between, 2)} on {self.q_between_df} df "
            f"(p {format_number(self.q_between_pvalue, 4)})"
        )
        for test in self.design_by_treatment:
            lines.append(
                f"Design-by-treatment interaction ({test.model} effects, tau² "
                f"{format_number(test.tau2, 4)}): chi² {format_number(test.chi2, 2)} on "
                f"{test.df} df (p {format_number(test.pvalue, 4)})"
            )
        order = sorted(range(len(self.treatments)), key=lambda t: -self.pscores[t])
        lines.append(
            "P-scores ("
            + ("smaller" if self.small_values == "good" else "larger")
            + " is better): "
            + ", ".join(f"{self.treatments[t]} {format_number(self.pscores[t], 3)}" for t in order)
        )
        lines.append(
            f"SUCRA ({self.draws} draws, seed {self.seed}): "
            + ", ".join(f"{self.treatments[t]} {format_number(self.sucra[t], 3)}" for t in order)
        )
        lines += [f"Warning: {message}" for message in self.warnings]
        for sub in self.subnetworks:
            lines += ["", "Subnetwork:", sub.summary()]
        return "\n".join(lines)


# --- reading the table -------------------------------------------------------------------


def _labels(frame: pd.DataFrame, column: str, source: str | None) -> list[str]:
    values = frame[column]
    missing = np.flatnonzero(values.isna().to_numpy())
    if missing.size:
        raise InputError("a label is missing", file=source, row=int(missing[0]) + 1, column=column)
    return [str(value).strip() for value in values]


def _spelling_key(name: str) -> str:
    return re.sub(r"[\W_]+", "", name.casefold())


def _spelling_warnings(names: list[str]) -> list[str]:
    """One warning per treatment spelt in several ways (case, spaces, punctuation)."""
    spellings: dict[str, list[str]] = {}
    for name in dict.fromkeys(names):
        spellings.setdefault(_spelling_key(name), []).append(name)
    return [
        f"treatments {' and '.join(repr(s) for s in found)} differ only in case, spaces or "
        "punctuation: are they one treatment? They are analysed as different treatments"
        for found in spellings.values()
        if len(found) > 1
    ]


def _treatment_order(names: list[str], reference: str | None) -> tuple[tuple[str, ...], str]:
    ordered = sorted(set(names))
    if reference is None:
        reference = ordered[0]
    reference = str(reference).strip()
    if reference not in ordered:
        close = [t for t in ordered if _spelling_key(t) == _spelling_key(reference)]
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(
            f"reference treatment {reference!r} is not in the data{hint}; "
            f"the treatments are {', '.join(ordered)}"
        )
    return (reference, *[t for t in ordered if t != reference]), reference


def _codes(values: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    names = tuple(dict.fromkeys(values))
    index = {name: code for code, name in enumerate(names)}
    return np.array([index[v] for v in values], dtype=np.int64), names


def _check_arms(study: list[str], treatment: list[str], source: str | None, column: str) -> None:
    seen: dict[tuple[str, str], int] = {}
    for row, key in enumerate(zip(study, treatment, strict=True)):
        if key in seen:
            raise InputError(
                f"study {key[0]!r} has two arms of treatment {key[1]!r} (rows {seen[key] + 1} "
                f"and {row + 1}): combine them into one arm first",
                file=source, row=row + 1, column=column,
            )  # fmt: skip
        seen[key] = row
    arms = pd.Series(study).value_counts()
    single = [name for name in dict.fromkeys(study) if arms[name] < 2]
    if single:
        row = study.index(single[0])
        raise InputError(
            f"study {single[0]!r} has one arm: a network needs at least two arms per study"
            + (
                f" ({len(single)} such studies: {', '.join(map(repr, single))})"
                if len(single) > 1
                else ""
            ),
            file=source,
            row=row + 1,
            column=column,
        )


def _arm_effects(
    frame: pd.DataFrame,
    measure: str,
    names: dict[str, str],
    study: list[str],
    source: str | None,
    add: float,
    notes: list[str],
) -> tuple[FloatArray, FloatArray, np.ndarray]:
    """Arm estimates, their variances, and the arms kept (see the module docstrings)."""
    data = numeric_columns(frame, names, source=source)

    def check(role: str, bad: np.ndarray, requirement: str) -> None:
        reject(bad, data[role], column=names[role], source=source,
               message=lambda value: f"{requirement}, got {value:g}")  # fmt: skip

    for role, values in data.items():
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise InputError("a value is missing", file=source, row=int(missing[0]) + 1,
                             column=names[role])  # fmt: skip
    keep = np.ones(len(frame), dtype=bool)
    if measure in ("OR", "RR", "RD"):
        x, n = data["events"], data["total"]
        check("events", x < 0, "events must be >= 0")
        check("total", n < 1, "group size must be at least 1")
        check("events", x > n, f"events must not exceed the group size in '{names['total']}'")
        groups = pd.Series(study)
        zero = groups.map(pd.Series((x == 0) | (x == n)).groupby(groups).any()).to_numpy()
        if measure in ("OR", "RR"):
            none = groups.map(pd.Series(x == 0).groupby(groups).all()).to_numpy()
            every = groups.map(pd.Series(x == n).groupby(groups).all()).to_numpy()
            keep = ~(none | every)
            if not keep.all():
                dropped = list(dict.fromkeys(np.asarray(study)[~keep].tolist()))
                notes.append(
                    f"{measure}: left out {len(dropped)} studies with no events (or only events) "
                    f"in every arm: {', '.join(map(repr, dropped))}"
                )
        corrected = np.where(zero, add, 0.0)
        if (zero & keep).any():
            fixed = list(dict.fromkeys(np.asarray(study)[zero & keep].tolist()))
            notes.append(
                f"{measure}: {add:g} added to every cell of every arm of the studies with a zero "
                f"cell: {', '.join(map(repr, fixed))}"
            )
        events, size = x + corrected, n + 2.0 * corrected
        with np.errstate(divide="ignore", invalid="ignore"):
            if measure == "OR":
                return np.log(events / (size - events)), 1 / events + 1 / (size - events), keep
            if measure == "RR":
                return np.log(events / size), 1 / events - 1 / size, keep
            p = events / size
            return p, p * (1 - p) / size, keep
    if measure in ("MD", "SMD"):
        check("sd", data["sd"] <= 0, "standard deviation must be > 0")
        check("n", data["n"] < 2, "group size must be at least 2")
        return data["mean"], data["sd"] ** 2 / data["n"], keep
    if "vi" in data:
        check("vi", data["vi"] <= 0, "variance must be > 0")
        return data["yi"], data["vi"], keep
    check("sei", data["sei"] <= 0, "standard error must be > 0")
    return data["yi"], data["sei"] ** 2, keep


def _contrast_table(
    frame: pd.DataFrame,
    study: list[str],
    first: list[str],
    second: list[str],
    names: dict[str, str],
    order: tuple[str, ...],
    source: str | None,
) -> ContrastData:
    """Contrast-level rows (two-arm studies: one row; multi-arm: every pair) as ContrastData."""
    data = numeric_columns(frame, names, source=source)
    y = data["yi"]
    v = data["vi"] if "vi" in data else data["sei"] ** 2
    spread = names.get("vi", names.get("sei", "vi"))
    reject(~(v > 0), v, column=spread, source=source,
           message=lambda value: f"variance must be > 0, got {value:g}")  # fmt: skip
    for role, values in data.items():
        missing = np.flatnonzero(np.isnan(values))
        if missing.size:
            raise InputError("a value is missing", file=source, row=int(missing[0]) + 1,
                             column=names[role])  # fmt: skip
    position = {name: code for code, name in enumerate(order)}
    t1 = np.array([position[t] for t in first], dtype=np.int64)
    t2 = np.array([position[t] for t in second], dtype=np.int64)
    same = np.flatnonzero(t1 == t2)
    if same.size:
        raise InputError(f"a treatment against itself ({first[same[0]]!r})", file=source,
                         row=int(same[0]) + 1)  # fmt: skip
    study_codes, studies = _codes(study)
    arm_study, arm_treatment, arm_y, arm_v = [], [], [], []
    for code, name in enumerate(studies):
        rows = np.flatnonzero(study_codes == code)
        arms = np.unique(np.concatenate([t1[rows], t2[rows]]))
        pairs = {tuple(sorted(p)) for p in zip(t1[rows].tolist(), t2[rows].tolist(), strict=True)}
        expected = arms.size * (arms.size - 1) // 2
        if len(pairs) != rows.size or len(pairs) != expected:
            raise InputError(
                f"study {name!r} compares {arms.size} treatments in {rows.size} rows: a multi-arm "
                f"study needs each of its {expected} pairs once (as netmeta's pairwise() gives)",
                file=source, row=int(rows[0]) + 1,
            )  # fmt: skip
        reduced = reduce_pairs(t1[rows], t2[rows], y[rows], v[rows])
        scale = float(np.max(v[rows]))
        if np.any(reduced.variances <= 0) or reduced.variance_misfit > 1e-8 * scale:
            implied = ", ".join(
                f"{order[t]} {s:.6g}"
                for t, s in zip(reduced.treatments, reduced.variances, strict=True)
            )
            raise InputError(
                f"study {name!r}: the variances of its pairs are inconsistent (no arm variances "
                f"s_j > 0 with v_jk = s_j + s_k; implied arm variances {implied})",
                file=source, row=int(rows[0]) + 1, column=spread,
            )  # fmt: skip
        arm_study += [code] * arms.size
        arm_treatment += reduced.treatments.tolist()
        arm_y += reduced.effects.tolist()
        arm_v += reduced.variances.tolist()
    table = ArmTable(np.array(arm_study, dtype=np.int64), np.array(arm_treatment, dtype=np.int64))
    return contrasts_from_arms(table, np.array(arm_y), np.array(arm_v), order, studies)


# --- results -------------------------------------------------------------------------


def _pairs(
    fit: NetworkFit, treatments: tuple[str, ...], level: float
) -> tuple[tuple[NetworkEstimate, ...], tuple[NetworkEstimate, ...]]:
    n = len(treatments)
    d = np.zeros(n)
    cov = np.zeros((n, n))
    others = np.arange(n) != fit.reference
    d[others] = fit.beta
    cov[np.ix_(others, others)] = fit.vcov
    diff = d[:, None] - d[None, :]
    var = np.diagonal(cov)[:, None] + np.diagonal(cov)[None, :] - 2 * cov
    se = np.sqrt(np.maximum(var, 0.0))
    df = None if np.isnan(fit.df) else fit.df
    crit = float(np.ravel(critical_value(level, None if df is None else np.array([df])))[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        p = two_sided_pvalue(diff / se, None if df is None else np.full(diff.shape, df))

    def row(i: int, j: int) -> NetworkEstimate:
        return NetworkEstimate(
            treatments[i], treatments[j], float(diff[i, j]), float(se[i, j]),
            float(diff[i, j] - crit * se[i, j]), float(diff[i, j] + crit * se[i, j]),
            float(p[i, j]),
        )  # fmt: skip

    league = tuple(row(i, j) for i in range(n) for j in range(n) if i != j)
    estimates = tuple(row(i, fit.reference) for i in range(n) if i != fit.reference)
    return estimates, league


def _finite(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _node_split_rows(split: NodeSplit, treatments: tuple[str, ...]) -> tuple[NodeSplitRow, ...]:
    return tuple(
        NodeSplitRow(
            treatment=treatments[int(split.treat1[i])],
            vs=treatments[int(split.treat2[i])],
            direct=float(split.direct[i]),
            direct_se=float(split.direct_se[i]),
            indirect=_finite(split.indirect[i]),
            indirect_se=_finite(split.indirect_se[i]),
            network=float(split.network[i]),
            network_se=float(split.network_se[i]),
            proportion_direct=float(split.proportion_direct[i]),
            difference=_finite(split.difference[i]),
            difference_se=_finite(split.difference_se[i]),
            z=_finite(split.z[i]),
            pvalue=_finite(split.pvalue[i]),
        )
        for i in range(split.direct.shape[0])
    )


def _direct_rows(
    direct: DirectEstimates, treatments: tuple[str, ...]
) -> tuple[DirectComparison, ...]:
    return tuple(
        DirectComparison(treatments[a], treatments[b], n, estimate, se)
        for a, b, n, estimate, se in zip(
            direct.treat1.tolist(),
            direct.treat2.tolist(),
            direct.n_studies.tolist(),
            direct.estimate.tolist(),
            np.sqrt(direct.variance).tolist(),
            strict=True,
        )
    )


def _design_by_treatment_tests(data: ContrastData) -> tuple[DesignByTreatmentTest, ...]:
    tests = []
    for model, tau2 in (("common", 0.0), ("random", within_design_tau2(data))):
        found = design_by_treatment(data, tau2)
        tests.append(
            DesignByTreatmentTest(model, found.chi2, found.df, _finite(found.pvalue), tau2)
        )
    return tuple(tests)


def _result(
    data: ContrastData,
    reference: int,
    *,
    measure: str,
    method: str,
    test: str,
    level: float,
    small_values: str,
    seed: int,
    draws: int,
    notes: tuple[str, ...],
    subnetworks: tuple[NetworkResult, ...] = (),
    sizes: Mapping[str, float] | None = None,
) -> NetworkResult:
    fit = fit_network(data, reference, method, test)
    estimates, league = _pairs(fit, data.treatments, level)
    messages = list(notes)
    if not fit.converged:
        messages.append(f"{method}: the estimation of tau² did not converge")
    i2 = max(0.0, (fit.q - fit.q_df) / fit.q) if fit.q_df > 0 and fit.q > 0 else 0.0
    # every treatment against the reference (0 for itself), as the rankings and node-split read it
    basic = np.flatnonzero(np.arange(data.n_treatments) != reference)
    full = np.zeros(data.n_treatments)
    full_vcov = np.zeros((data.n_treatments, data.n_treatments))
    full[basic] = fit.beta
    full_vcov[np.ix_(basic, basic)] = fit.vcov
    good = small_values == "good"
    ranks = p_scores(full, full_vcov, small_values_good=good)
    sampled = rank_probabilities(full, full_vcov, small_values_good=good, seed=seed, draws=draws)
    decomposition = q_decomposition(data)
    # direct and indirect evidence at the model's own variances: a Knapp-Hartung factor
    # scales only the network's, which would make a bridge look less than all direct
    split = node_split(data, full, full_vcov / fit.s2, tau2=fit.tau2)
    pooled = direct_estimates(data, fit.total_covariance, multi_arm="marginal")
    hat = hat_matrix(direct_estimates(data, fit.total_covariance), data.n_treatments)
    return NetworkResult(
        treatments=data.treatments,
        reference=data.treatments[reference],
        measure=measure,
        method=method,
        test=test,
        level=level,
        small_values=small_values,
        k=len(data.studies),
        n_contrasts=data.n_contrasts,
        designs=tuple(data.design_name(c) for c in range(len(data.designs))),
        basic_estimate=tuple(fit.beta.tolist()),
        basic_vcov=tuple(tuple(row) for row in fit.vcov.tolist()),
        estimates=estimates,
        league=league,
        tau2=fit.tau2,
        q=fit.q,
        q_df=fit.q_df,
        q_pvalue=float(chi2_pvalue(fit.q, fit.q_df)) if fit.q_df > 0 else None,
        i2=i2,
        loglik=fit.loglik,
        df=None if np.isnan(fit.df) else fit.df,
        converged=fit.converged,
        q_within=float(decomposition.q_within),
        q_within_df=int(decomposition.q_within_df),
        q_within_pvalue=_finite(decomposition.q_within_pvalue),
        q_between=float(decomposition.q_between),
        q_between_df=int(decomposition.q_between_df),
        q_between_pvalue=_finite(decomposition.q_between_pvalue),
        pscores=tuple(float(x) for x in ranks.p_scores),
        node_split=_node_split_rows(split, data.treatments),
        seed=seed,
        draws=draws,
        sucra=tuple(sampled.sucra.tolist()),
        mean_ranks=tuple(sampled.mean_ranks.tolist()),
        rank_probabilities=tuple(tuple(row) for row in sampled.probabilities.tolist()),
        design_by_treatment=_design_by_treatment_tests(data),
        direct=_direct_rows(pooled, data.treatments),
        proportion_direct=tuple(proportion_direct(hat).tolist()),
        net_heat=net_heat(data),
        contribution=contribution_matrix(hat),
        warnings=tuple(messages),
        subnetworks=subnetworks,
        participants=None if sizes is None else tuple(sizes[t] for t in data.treatments),
        contrasts=data,
        total_covariance=fit.total_covariance,
    )


def network_meta(
    data: pd.DataFrame,
    *,
    study: str = "study",
    treatment: str = "treatment",
    treatment2: str | None = None,
    measure: str = "GEN",
    method: str = "REML",
    reference: str | None = None,
    test: str = "z",
    level: float = 0.95,
    small_values: str = "good",
    add: float = 0.5,
    seed: int = DEFAULT_RANK_SEED,
    draws: int = DEFAULT_RANK_DRAWS,
    source: str | None = None,
    **columns: str,
) -> NetworkResult:
    """Network meta-analysis under the consistency model (netmeta, metafor ``rma.mv``).

    Parameters
    ----------
    data
        One row per arm (``treatment2`` not given) or one row per contrast.
    study, treatment, treatment2
        Columns of the study label and the treatment (of the arm, or ``treatment``
        against ``treatment2`` for a contrast).
    measure
        Arm-level tables: OR, RR, RD from ``events, total``; MD, SMD from ``mean, sd,
        n``; GEN from an arm-level estimate ``yi`` with its standard error ``sei``.
        Contrast-level tables: any label (the contrasts ``yi`` with ``sei`` or ``vi``
        are used as given; a multi-arm study gives all its pairs).  OR and RR are on
        the log scale.
    method
        ``EE`` (common effect), ``DL`` (netmeta's generalised DerSimonian-Laird),
        ``REML`` or ``ML`` (metafor's ``rma.mv`` with ``rho = 1/2``).
    reference
        The treatment the estimates are against (default: the first in sorted order).
    test
        ``z`` or ``knha`` (Knapp-Hartung: t on ``contrasts - (T - 1)`` df).
    level
        Confidence level of the intervals.
    small_values
        Whether small values of the measure are ``good`` or ``bad`` (for rankings).
    add
        Binary arms: added to both cells of every arm of a study with a zero cell.
    seed, draws
        The rank probabilities, SUCRA and mean ranks: ``draws`` normal draws of the
        estimates from a generator seeded by ``seed`` (default
        :data:`DEFAULT_RANK_SEED`, so that the same call gives the same numbers).
    source
        The file the table came from, named in errors.
    **columns
        Column names for the roles above (``events="stroke"``, ``yi="diff"``).

    Raises
    ------
    InputError
        Naming the study, row and column: a missing column or value, a study with one
        arm or two arms of one treatment, a multi-arm contrast study without all its
        pairs or with inconsistent variances, a reference that is not in the data,
        bad counts or standard deviations; an unknown option.
    """
    options = validate_options(
        "network_meta", method=method, test=test, level=level, small_values=small_values,
        add=add, seed=seed, draws=draws,
    )  # fmt: skip
    method, test, level = options["method"], options["test"], options["level"]
    small_values, add = options["small_values"], options["add"]
    frame = data.reset_index(drop=True)
    if len(frame) == 0:
        raise InputError("the table has no rows", file=source)
    notes: list[str] = []
    sizes: dict[str, float] | None = None
    if treatment2 is None:
        measure = _option("measure", measure)
        roles = ARM_ROLES[measure]
        if measure == "GEN" and "vi" in columns:
            roles = ("yi", "vi")
        unknown = sorted(set(columns) - set(roles) - {"vi"})
        if unknown:
            raise InputError(
                f"measure {measure} has no arm column role(s) {', '.join(unknown)}; "
                f"its roles are {', '.join(roles)}"
            )
        names = {role: columns.get(role, role) for role in roles}
        require_columns(frame, [study, treatment, *names.values()], source=source)
        studies_of_rows = _labels(frame, study, source)
        treatment_of_rows = _labels(frame, treatment, source)
        notes += _spelling_warnings(treatment_of_rows)
        _check_arms(studies_of_rows, treatment_of_rows, source, treatment)
        estimate, variance, keep = _arm_effects(
            frame, measure, names, studies_of_rows, source, add, notes
        )
        unusable = np.flatnonzero(keep & ~(np.isfinite(estimate) & (variance > 0)))
        if unusable.size:
            row = int(unusable[0])
            raise InputError(
                f"study {studies_of_rows[row]!r}: the arm of {treatment_of_rows[row]!r} has no "
                f"{measure} estimate with a positive variance (a zero cell with add=0?)",
                file=source, row=row + 1,
            )  # fmt: skip
        kept_studies = [s for s, k in zip(studies_of_rows, keep, strict=True) if k]
        kept_treatments = [t for t, k in zip(treatment_of_rows, keep, strict=True) if k]
        order, reference = _treatment_order(kept_treatments, reference)
        position = {name: code for code, name in enumerate(order)}
        study_codes, studies = _codes(kept_studies)
        arms = ArmTable(
            study_codes, np.array([position[t] for t in kept_treatments], dtype=np.int64)
        )
        size_role = {"MD": "n", "SMD": "n"}.get(measure, "total" if measure != "GEN" else None)
        if size_role is not None:
            group_size = numeric_columns(frame, {size_role: names[size_role]}, source=source)
            sizes = pd.Series(group_size[size_role][keep]).groupby(kept_treatments).sum().to_dict()
        if measure == "SMD":
            mean_sd_n = numeric_columns(frame, names, source=source)
            contrasts = smd_contrasts_from_arms(
                arms, *(mean_sd_n[r][keep] for r in ("mean", "sd", "n")), order, studies
            )
        else:
            contrasts = contrasts_from_arms(arms, estimate[keep], variance[keep], order, studies)
    else:
        measure = _option("measure", measure)
        spread = (
            "vi" if "vi" in columns or ("sei" not in columns and "vi" in frame.columns) else "sei"
        )
        names = {role: columns.get(role, role) for role in ("yi", spread)}
        require_columns(frame, [study, treatment, treatment2, *names.values()], source=source)
        studies_of_rows = _labels(frame, study, source)
        first = _labels(frame, treatment, source)
        second = _labels(frame, treatment2, source)
        notes += _spelling_warnings(first + second)
        order, reference = _treatment_order(first + second, reference)
        contrasts = _contrast_table(frame, studies_of_rows, first, second, names, order, source)
    result = _analyse(contrasts, measure=str(measure).upper(), method=method, test=test,
                      level=level, small_values=small_values, seed=options["seed"],
                      draws=options["draws"], notes=tuple(notes), sizes=sizes)  # fmt: skip
    for message in result.warnings:
        warnings.warn(message, SrmaWarning, stacklevel=2)
    return result


def _analyse(
    data: ContrastData, *, measure: str, method: str, test: str, level: float,
    small_values: str, seed: int, draws: int, notes: tuple[str, ...],
    sizes: Mapping[str, float] | None = None,
) -> NetworkResult:  # fmt: skip
    """The reference's subnetwork, with the other subnetworks (each against its first
    treatment) when the network is disconnected."""
    component = components(data)
    settings = {"measure": measure, "method": method, "test": test, "level": level,
                "small_values": small_values, "seed": seed, "draws": draws,
                "sizes": sizes}  # fmt: skip
    if component.max() == 0:
        return _result(data, 0, notes=notes, **settings)
    parts = [np.flatnonzero(component == c) for c in range(int(component.max()) + 1)]
    listing = "; ".join(", ".join(data.treatments[t] for t in part) for part in parts)
    message = (
        f"the network is disconnected: {len(parts)} subnetworks ({listing}); each is analysed "
        "on its own, against its first treatment (the reference's subnetwork against the reference)"
    )
    others = tuple(
        _result(subnetwork(data, part), 0, notes=(message,), **settings) for part in parts[1:]
    )
    return _result(
        subnetwork(data, parts[0]), 0, notes=(*notes, message), subnetworks=others, **settings
    )
