"""The section of a network outcome: the network, the model, every treatment against the
reference with its P-score, the league table, heterogeneity and inconsistency, and the
split of direct and indirect evidence.

Every number is a field of the :class:`srma.analysis.network.NetworkResult` the
:class:`~srma.review.synthesize.results.OutcomeAnalysis` holds; odds and risk
ratios are shown back-transformed (``exp``), as the figures show them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial

import numpy as np
import pandas as pd

from srma.analysis.network import LOG_MEASURES, NetworkResult
from srma.figures.network import network_forest, network_graph
from srma.figures.network_funnel import comparison_adjusted_funnel
from srma.figures.network_inconsistency import heat_designs, net_heat_plot, node_split_forest
from srma.figures.network_ranking import rankogram
from srma.formatting import (
    format_ci,
    format_count,
    format_number,
    format_p,
    format_p_value,
)
from srma.report.review.blocks import Heading, Picture, Report, Table, Text
from srma.vocabulary import MEASURE_NAMES

#: What the methods paragraph cites, by what it says.
REFERENCES = {
    "graph": "Rücker G (2012). Network meta-analysis, electrical networks and graph theory. "
    "Res Synth Methods 3:312-324.",
    "multi-arm": "Salanti G, Higgins JPT, Ades AE, Ioannidis JPA (2008). Evaluation of "
    "networks of randomized trials. Stat Methods Med Res 17:279-301.",
    "design": "Krahn U, Binder H, König J (2013). A graphical tool for locating inconsistency "
    "in network meta-analyses. BMC Med Res Methodol 13:35.",
    "split": "König J, Krahn U, Binder H (2013). Visualizing the flow of evidence in network "
    "meta-analysis and characterizing mixed treatment comparisons. Stat Med 32:5414-5429.",
    "pscore": "Rücker G, Schwarzer G (2015). Ranking treatments in frequentist network "
    "meta-analysis works without resampling methods. BMC Med Res Methodol 15:58.",
    "sucra": "Salanti G, Ades AE, Ioannidis JPA (2011). Graphical methods and numerical "
    "summaries for presenting results from multiple-treatment meta-analysis: an overview and "
    "tutorial. J Clin Epidemiol 64:163-171.",
}
#: Cited where the comparison-adjusted funnel plot is shown.
FUNNEL_REFERENCE = (
    "Chaimani A, Salanti G (2012). Using network meta-analysis to evaluate the existence of "
    "small-study effects in a network of interventions. Res Synth Methods 3:161-176."
)
_MODELS = {
    "EE": "a common-effect model",
    "DL": "a random-effects model with tau² by the generalised DerSimonian-Laird estimator "
    "(netmeta's)",
    "REML": "a random-effects model with tau² by restricted maximum likelihood",
    "ML": "a random-effects model with tau² by maximum likelihood",
}


def _shown(result: NetworkResult, values: list[float]) -> list[float]:
    return [float(np.exp(v)) for v in values] if result.measure in LOG_MEASURES else values


def methods_text(result: NetworkResult) -> str:
    """The model in words, with what it rests on."""
    test = (
        " with Knapp-Hartung-adjusted tests and intervals (t on the residual df)"
        if result.test == "knha"
        else ""
    )
    better = "Smaller" if result.small_values == "good" else "Larger"
    return (
        f"Every treatment was compared with every other by {_MODELS[result.method]}{test}, "
        "the consistency model of a network meta-analysis, multi-arm studies with the "
        "covariance of their shared arm (Salanti 2008; Rücker 2012). Heterogeneity and "
        "inconsistency: Q and its decomposition within and between designs (Krahn 2013); "
        "direct and indirect evidence were split by back-calculation (König 2013). "
        f"Treatments were ranked by P-scores (Rücker 2015) and by SUCRA from "
        f"{format_count(result.draws)} seeded normal draws of the estimates (seed "
        f"{result.seed}; Salanti 2011); {better.lower()} values are better."
    )


def _estimates_table(result: NetworkResult) -> pd.DataFrame:
    score = dict(zip(result.treatments, result.pscores, strict=True))
    rows = sorted(result.estimates, key=lambda row: -score[row.treatment])
    percent = round(100 * result.level)
    estimate, lower, upper = (
        _shown(result, [getattr(r, c) for r in rows]) for c in ("estimate", "ci_lower", "ci_upper")
    )
    return pd.DataFrame(
        {
            "Treatment": [r.treatment for r in rows],
            f"vs {result.reference}": [format_number(v, 2) for v in estimate],
            f"{percent}% CI": [format_ci(a, b) for a, b in zip(lower, upper, strict=True)],
            "p": [format_p_value(r.pvalue) for r in rows],
            "P-score": [format_number(score[r.treatment], 3) for r in rows],
        }
    )


def _ranking_table(result: NetworkResult) -> pd.DataFrame:
    frame = result.rank_frame().sort_values("sucra", ascending=False, kind="stable")
    return pd.DataFrame(
        {
            "Treatment": frame["treatment"].tolist(),
            "P-score": [format_number(v, 3) for v in frame["pscore"]],
            "SUCRA": [format_number(v, 3) for v in frame["sucra"]],
            "Mean rank": [format_number(v, 2) for v in frame["mean_rank"]],
            "P(best)": [format_number(v, 3) for v in frame["rank_1"]],
        }
    )


def _league_table(result: NetworkResult) -> pd.DataFrame:
    display = result.league_display()
    return display.reset_index(names="")


def _node_split_table(result: NetworkResult) -> pd.DataFrame | None:
    rows = [r for r in result.node_split if r.indirect is not None]
    if not rows:
        return None
    ratio = result.measure in LOG_MEASURES
    show = np.exp if ratio else (lambda v: v)
    return pd.DataFrame(
        {
            "Comparison": [f"{r.treatment} vs {r.vs}" for r in rows],
            "Direct": [format_number(float(show(r.direct)), 2) for r in rows],
            "Indirect": [format_number(float(show(r.indirect)), 2) for r in rows],
            "Network": [format_number(float(show(r.network)), 2) for r in rows],
            "Direct share": [format_number(r.proportion_direct, 2) for r in rows],
            ("Ratio" if ratio else "Difference") + " direct/indirect": [
                format_number(float(show(r.difference)), 2) for r in rows
            ],
            "p": [format_p_value(r.pvalue) for r in rows],
        }
    )


def _heterogeneity(result: NetworkResult) -> str:
    text = (
        f"Q = {format_number(result.q, 2)} on {result.q_df} df "
        f"({format_p(result.q_pvalue)}), I² = {format_number(100 * result.i2, 1)}%"
    )
    if result.method != "EE":
        text += f"; tau² = {format_number(result.tau2, 4)}"
    return (
        f"Heterogeneity and inconsistency: {text}. Within designs Q = "
        f"{format_number(result.q_within, 2)} on {result.q_within_df} df; between designs "
        f"(inconsistency) Q = {format_number(result.q_between, 2)} on {result.q_between_df} df"
        + ("" if result.q_between_pvalue is None else f" ({format_p(result.q_between_pvalue)})")
        + "."
    )


def _pictures_of_inconsistency(
    report: Report, result: NetworkResult, title: str, order: Sequence[str]
) -> None:
    """The node-split forest, the net heat plot and the comparison-adjusted funnel plot,
    each where the network has something to show (said otherwise)."""
    if any(row.indirect is not None for row in result.node_split):
        report.add(
            Picture(
                partial(node_split_forest, result),
                f"Node-splitting of {title}: direct, indirect and network estimates.",
            )
        )
    heat = result.net_heat
    if len(heat_designs(heat)) >= 2:
        report.add(
            Picture(
                partial(net_heat_plot, heat),
                f"Net heat plot of {title} (Krahn 2013): red, less inconsistency in the row's "
                "design once the column's is detached; blue, more.",
            )
        )
    else:
        report.add(
            Text(
                "No net heat plot: fewer than two designs contribute to inconsistency.",
                note=True,
            )
        )
    shown = [t for t in order if t in result.treatments]
    report.cite(FUNNEL_REFERENCE)
    report.add(
        Picture(
            partial(comparison_adjusted_funnel, result, order=shown, egger=True),
            f"Comparison-adjusted funnel plot of {title} (Chaimani 2012): each study's "
            "comparison, in the order of the protocol's treatments, centred at its direct "
            "estimate.",
        )
    )


def network_section(
    report: Report,
    result: NetworkResult,
    title: str,
    tag: str,
    *,
    order: Sequence[str] = (),
    risk_of_bias: Mapping[str, str | None] | None = None,
) -> None:
    """Add a network outcome's results to ``report`` (after its heading and notes):
    ``order`` orders the treatments of the comparison-adjusted funnel (the protocol's;
    default the result's), ``risk_of_bias`` each study's overall judgement (label ->
    judgement, None where not judged) colours the network graph's edges."""
    judged = {s: j for s, j in (risk_of_bias or {}).items() if j is not None}
    people = None if result.participants is None else round(sum(result.participants))
    measure = MEASURE_NAMES.get(result.measure, result.measure)
    measure = measure[:1].lower() + measure[1:] if measure[1:2].islower() else measure
    report.add(
        Text(
            f"Network meta-analysis of {measure}: {format_count(result.k)} studies, "
            f"{len(result.treatments)} treatments, {len(result.designs)} designs"
            + ("" if people is None else f", {format_count(people)} participants")
            + f"; reference {result.reference}."
        )
    )
    report.cite(*REFERENCES.values())
    report.add(Text(methods_text(result)))
    if judged:
        report.add(
            Picture(
                partial(network_graph, result, risk_of_bias=judged),
                f"Network graph of {title}, each comparison coloured by the overall risk of "
                "bias of most of its studies.",
            )
        )
    else:
        report.add(Picture(partial(network_graph, result), f"Network graph of {title}."))
    report.add(Heading("Every treatment against the reference", level=3))
    report.add(
        Table(
            _estimates_table(result),
            f"{title}: each treatment against {result.reference}, best P-score first.",
            f"{tag}_estimates",
        )
    )
    report.add(
        Picture(
            partial(network_forest, result),
            f"Forest plot of {title}: every treatment against {result.reference}, with P-scores.",
        )
    )
    report.add(Heading("Ranking", level=3))
    report.add(
        Table(
            _ranking_table(result),
            f"{title}: P-score, SUCRA and mean rank of each treatment, best SUCRA first.",
            f"{tag}_ranking",
        )
    )
    report.add(
        Picture(
            partial(
                rankogram, result.treatments, result.rank_probabilities, sucra=result.sucra,
                draws=result.draws, small_values_good=result.small_values == "good",
            ),
            f"Rankogram of {title}: the probability of each rank (bars) and of that rank or "
            "better (line).",
        )
    )  # fmt: skip
    report.add(Heading("League table", level=3))
    report.add(
        Table(
            _league_table(result),
            f"League table of {title}: each cell is the row's treatment against the column's.",
            f"{tag}_league",
        )
    )
    report.add(Heading("Heterogeneity and inconsistency", level=3))
    report.add(Text(_heterogeneity(result)))
    split = _node_split_table(result)
    if split is None:
        report.add(Text("No comparison has both direct and indirect evidence: nothing to split."))
    else:
        report.add(
            Table(
                split,
                f"{title}: direct and indirect evidence of each comparison (node-splitting).",
                f"{tag}_node_split",
            )
        )
    _pictures_of_inconsistency(report, result, title, order or result.treatments)
    for sub in result.subnetworks:
        report.add(Heading(f"Subnetwork of {sub.reference}", level=3))
        network_section(
            report, sub, f"{title}, subnetwork of {sub.reference}", f"{tag}_sub",
            order=order, risk_of_bias=risk_of_bias,
        )  # fmt: skip
