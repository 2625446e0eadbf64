"""The network graph's options (node area by participants or studies, edge width by
precision, edges coloured by risk of bias), the node-split forest, the net heat plot
and the comparison-adjusted funnel figure: what each draws, read back from its artists,
against the numbers it was drawn from; bad inputs; the command line."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.colors import to_hex

from network_cases import CASES, fit_case
from srma import network_meta
from srma.analysis.network import NetworkResult
from srma.errors import InputError
from srma.figures.axes import save_figure
from srma.figures.network import MAX_EDGE_POINTS, MIN_EDGE_POINTS, network_graph
from srma.figures.network_edges import (
    ROB_COLOURS,
    direct_precision,
    edge_risk_of_bias,
    study_counts,
)
from srma.figures.network_funnel import adjusted_points, comparison_adjusted_funnel
from srma.figures.network_inconsistency import heat_designs, net_heat_plot, node_split_forest
from srma.figures.rob import PALETTES
from srma.formatting import format_estimate_ci
from srma.stats.network.gls import direct_estimates
from srma.stats.network.inconsistency import net_heat


@pytest.fixture(scope="module", params=["senn2013", "dogliotti2014"])
def result(request: pytest.FixtureRequest) -> NetworkResult:
    return fit_case(request.param)


def _edges(figure) -> LineCollection:
    (edges,) = [c for c in figure.axes[0].collections if isinstance(c, LineCollection)]
    return edges


def _pairs(result: NetworkResult) -> list[tuple[int, int]]:
    _, per_pair = study_counts(result)
    n = len(result.treatments)
    return [(a, b) for a in range(n) for b in range(a + 1, n) if per_pair[a, b]]


def test_edge_width_by_precision_follows_the_direct_estimates(
    result: NetworkResult, tmp_path: Path
) -> None:
    figure = network_graph(result, edge_width="precision")
    direct = direct_estimates(result.contrasts, result.total_covariance, multi_arm="reduced")
    precision = {(a, b): 1 / v for a, b, v in zip(direct.treat1, direct.treat2, direct.variance,
                                                  strict=True)}  # fmt: skip
    expected = np.array([precision[pair] for pair in _pairs(result)])
    np.testing.assert_allclose(
        _edges(figure).get_linewidths(),
        MIN_EDGE_POINTS + (MAX_EDGE_POINTS - MIN_EDGE_POINTS) * expected / expected.max(),
    )
    matrix = direct_precision(result)
    np.testing.assert_allclose(matrix, matrix.T)
    footnote = next(t.get_text() for t in figure.texts if t.get_gid() == "footnote")
    assert footnote.startswith("Edge width: precision of the direct estimate")
    assert save_figure(figure, tmp_path / "graph.svg").read_text().lstrip().startswith("<?xml")


def test_nodes_by_studies_when_the_table_has_no_group_sizes() -> None:
    result = fit_case("lopez2019")
    assert result.participants is None
    figure = network_graph(result)
    per_treatment, _ = study_counts(result)
    labels = [t.get_text() for t in figure.axes[0].texts if t.get_gid() == "treatment"]
    assert labels == [f"{n} ({c})" for n, c in zip(result.treatments, per_treatment, strict=True)]
    footnote = next(t.get_text() for t in figure.texts if t.get_gid() == "footnote")
    assert footnote.endswith("(n): studies including the treatment")


def test_risk_of_bias_edges_take_the_majority_ties_to_the_worse() -> None:
    result = fit_case("senn2013")
    studies = result.contrasts.studies
    names = result.treatments
    placebo, rosi = names.index("placebo"), names.index("rosiglitazone")
    # the six placebo-rosiglitazone studies: 3 low, 3 high (tie: high); the rest unjudged
    _, per_pair = study_counts(result)
    assert per_pair[placebo, rosi] == 6
    arms = {s: set() for s in studies}
    for s, a, b in zip(result.contrasts.study, result.contrasts.treat1, result.contrasts.treat2,
                       strict=True):  # fmt: skip
        arms[studies[s]].update((names[a], names[b]))
    pr = [s for s, members in arms.items() if members == {"placebo", "rosiglitazone"}]
    rob = {s: ("Low" if i < 3 else "high risk") for i, s in enumerate(pr)}
    judged = edge_risk_of_bias(result, rob)
    assert judged[placebo, rosi] == "High"
    rob[pr[3]] = "unclear"  # 3 low, 1 some concerns, 2 high: low
    assert edge_risk_of_bias(result, rob)[placebo, rosi] == "Low"
    for i in range(5):
        rob[pr[i]] = ""  # 5 not judged, 1 high: not judged outright
    assert edge_risk_of_bias(result, rob)[placebo, rosi] == "Not judged"
    mixed = {s: ("low", "some concerns", "high", "")[i % 4] for i, s in enumerate(studies)}
    figure = network_graph(result, risk_of_bias=mixed)
    colours = [to_hex(c) for c in _edges(figure).get_colors()]
    expected = edge_risk_of_bias(result, mixed)
    assert {expected[a, b] for a, b in _pairs(result)} == set(ROB_COLOURS)  # every level drawn
    assert colours == [to_hex(ROB_COLOURS[expected[a, b]]) for a, b in _pairs(result)]
    assert ROB_COLOURS["Low"] == PALETTES["cochrane"]["Low"]
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "Low", "Some concerns", "High", "Not judged",
    ]  # fmt: skip


def test_bad_risk_of_bias_and_edge_width_are_refused() -> None:
    result = fit_case("senn2013")
    study = result.contrasts.studies[0]
    with pytest.raises(
        InputError, match=rf"study '{re.escape(study)}'.*'probably fine' is not recognised"
    ):
        network_graph(result, risk_of_bias={study: "probably fine"})
    with pytest.raises(InputError, match="edge_width must be one of studies, precision"):
        network_graph(result, edge_width="weight")


def test_node_split_forest_draws_each_split_comparison(
    result: NetworkResult, tmp_path: Path
) -> None:
    figure = node_split_forest(result)
    split = [row for row in result.node_split if row.indirect is not None]
    texts = lambda gid: [t.get_text() for t in figure.axes[0].texts if t.get_gid() == gid]  # noqa: E731
    assert texts("comparison") == [f"{r.treatment} vs {r.vs}" for r in split]
    assert len(texts("split-pvalue")) == len(split)
    show = np.exp if result.measure in ("OR", "RR") else float
    expected = []
    for row in split:
        for estimate, se in ((row.direct, row.direct_se), (row.indirect, row.indirect_se),
                             (row.network, row.network_se)):  # fmt: skip
            values = [estimate, estimate - 1.959963984540054 * se,
                      estimate + 1.959963984540054 * se]  # fmt: skip
            expected.append(format_estimate_ci(*(show(v) for v in values)))
    assert texts("estimate") == expected
    for kind in ("direct", "indirect", "network"):
        (line,) = [ln for ln in figure.axes[0].lines if ln.get_gid() == f"split-{kind}"]
        assert len(line.get_xdata()) == len(split)
    left_out = len(result.node_split) - len(split)
    footnote = next(t.get_text() for t in figure.texts if t.get_gid() == "footnote")
    assert f"{left_out} comparisons with direct evidence only not shown" in footnote
    assert figure.axes[0].get_xscale() == ("log" if result.measure == "OR" else "linear")
    assert save_figure(figure, tmp_path / "split.png").read_bytes().startswith(b"\x89PNG")


def test_net_heat_plot_shows_the_designs_with_inconsistency(result: NetworkResult) -> None:
    heat = net_heat(result.contrasts)
    shown = heat_designs(heat)
    assert sorted(shown) == [d for d in range(len(heat.design_names))
                             if abs(heat.q_inconsistency[d]) > 1.5e-8]  # fmt: skip
    figure = net_heat_plot(heat)
    ax = figure.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [heat.design_names[d] for d in shown]
    (image,) = ax.images
    np.testing.assert_allclose(image.get_array(), np.clip(heat.matrix[np.ix_(shown, shown)], -8, 8))
    # the diagonal is each design's inconsistency contribution
    np.testing.assert_allclose(np.diag(heat.matrix)[shown], heat.q_inconsistency[shown])


def test_net_heat_plot_refuses_a_network_without_loops() -> None:
    frame = pd.DataFrame({"study": ["a", "a", "b", "b"], "treatment": ["A", "B", "A", "C"],
                          "yi": [0.0, 0.1, 0.0, 0.3], "sei": [0.1] * 4})  # fmt: skip
    result = network_meta(frame, measure="GEN", method="EE")
    with pytest.raises(ValueError, match="at least two designs contributing to inconsistency"):
        net_heat_plot(net_heat(result.contrasts))
    with pytest.raises(ValueError, match="no comparison has both direct and indirect"):
        node_split_forest(result)


def test_funnel_draws_every_study_pair_in_the_given_order(tmp_path: Path) -> None:
    result = fit_case("senn2013")
    order = list(reversed(result.treatments))
    figure = comparison_adjusted_funnel(result, order=order, egger=True)
    points = adjusted_points(result, order)
    scatters = [c for c in figure.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in scatters) == len(points.adjusted)
    comparisons = list(dict.fromkeys(zip(points.treat1, points.treat2, strict=True)))
    labels = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    names = result.treatments
    assert labels[: len(comparisons)] == [f"{names[a]} vs {names[b]}" for a, b in comparisons]
    assert labels[-1].startswith("Egger's test (p")
    # every point is first-in-order minus later-in-order
    rank = {name: i for i, name in enumerate(order)}
    assert all(rank[names[a]] < rank[names[b]] for a, b in comparisons)
    offsets = np.concatenate([c.get_offsets() for c in scatters])
    np.testing.assert_allclose(np.sort(offsets[:, 1]), np.sort(points.se))
    assert save_figure(figure, tmp_path / "funnel.pdf").read_bytes().startswith(b"%PDF")


def test_funnel_of_odds_ratios_is_on_a_log_axis_centred_at_one() -> None:
    figure = comparison_adjusted_funnel(fit_case("dogliotti2014"))
    assert figure.axes[0].get_xscale() == "log"


@pytest.mark.parametrize(
    ("order", "message"),
    [
        (["placebo", "acarbose", "insulin"], "'insulin', not a treatment of the network"),
        (["placebo", "placebo"], "'placebo' more than once"),
        (["placebo", "acarbose"], "must name every treatment; missing 'benfluorex'"),
    ],
)
def test_a_bad_funnel_order_is_refused(order: list[str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        comparison_adjusted_funnel(fit_case("senn2013"), order=order)


def _cli(*args: str):
    from typer.testing import CliRunner

    from srma.cli import app

    return CliRunner().invoke(app, ["network", *args])


def test_srma_network_draws_the_new_figures(tmp_path: Path) -> None:
    frame = pd.DataFrame(CASES["senn2013"]["data"])
    studies = list(dict.fromkeys(frame["study"]))
    frame["rob"] = frame["study"].map(
        {s: ["low", "high", ""][i % 3] for i, s in enumerate(studies)}
    )
    data = tmp_path / "senn.csv"
    frame.to_csv(data, index=False)
    paths = {name: tmp_path / f"{name}.png" for name in ("graph", "split", "heat", "funnel")}
    order = ",".join(sorted(set(frame["treatment"]), reverse=True))
    run = _cli(str(data), "--measure", "MD", "--reference", "placebo", "--rob", "rob",
               "--edge-width", "precision", "--graph", str(paths["graph"]),
               "--node-split-forest", str(paths["split"]), "--net-heat", str(paths["heat"]),
               "--funnel", str(paths["funnel"]), "--funnel-order", order)  # fmt: skip
    assert run.exit_code == 0, run.output
    for path in paths.values():
        assert path.read_bytes().startswith(b"\x89PNG")
        assert f"wrote {path}" in run.stderr


def test_srma_network_refuses_bad_figure_options(tmp_path: Path) -> None:
    frame = pd.DataFrame(CASES["senn2013"]["data"])
    frame["rob"] = "low"
    frame.loc[1, "rob"] = "high"  # the second arm of the first study disagrees
    data = tmp_path / "senn.csv"
    frame.to_csv(data, index=False)
    graph = str(tmp_path / "g.png")
    run = _cli(str(data), "--measure", "MD", "--rob", "rob", "--graph", graph)
    assert run.exit_code == 1
    assert "two risk-of-bias judgements" in run.output and "row 2" in run.output
    run = _cli(str(data), "--measure", "MD", "--rob", "nope", "--graph", graph)
    assert run.exit_code == 1 and "nope" in run.output
    run = _cli(str(data), "--measure", "MD", "--edge-width", "wide", "--graph", graph)
    assert run.exit_code == 1 and "--edge-width must be studies or precision" in run.output
    run = _cli(str(data), "--measure", "MD", "--funnel", str(tmp_path / "f.png"),
               "--funnel-order", "placebo,insulin")  # fmt: skip
    assert run.exit_code == 1 and "'insulin', not a treatment of the network" in run.output
    assert not (tmp_path / "f.png").exists()
