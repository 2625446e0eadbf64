"""Network meta-analysis figures (srma.figures.network) on dat.senn2013 and dat.dogliotti2014
from tests/reference/fixtures/network.json: what each figure draws, read back from its
artists, against the result it was drawn from, and each rendered to PNG."""

from __future__ import annotations

import json
import warnings
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.figure import Figure

from network_cases import CASES, fit_case
from srma import SrmaWarning, network_meta
from srma.analysis.network import NetworkResult
from srma.figures.axes import save_figure
from srma.figures.network import (
    MAX_EDGE_POINTS,
    MIN_EDGE_POINTS,
    league_table_figure,
    network_forest,
    network_graph,
    study_counts,
)
from srma.formatting import format_estimate_ci, format_number


@pytest.fixture(scope="module", params=["senn2013", "dogliotti2014"])
def result(request: pytest.FixtureRequest) -> NetworkResult:
    return fit_case(request.param)


def _texts(figure: Figure, gid: str) -> list[str]:
    return [text.get_text() for ax in figure.axes for text in ax.texts if text.get_gid() == gid]


def _arms_by_study(name: str, analysed: tuple[str, ...] | None = None) -> dict[str, set[str]]:
    """Each study's arms from the fixture's table, only the ``analysed`` studies if given."""
    arms: dict[str, set[str]] = {}
    for row in CASES[name]["data"]:
        if analysed is None or row["study"] in analysed:
            arms.setdefault(row["study"], set()).add(row["treatment"])
    return arms


@pytest.mark.parametrize("name", ["senn2013", "dogliotti2014"])
def test_study_counts_count_every_pair_of_a_studys_arms(name: str) -> None:
    result = fit_case(name)
    per_treatment, per_pair = study_counts(result)
    arms = _arms_by_study(name, result.contrasts.studies)
    names = list(result.treatments)
    expected_pair = np.zeros((len(names), len(names)), dtype=int)
    for members in arms.values():
        for a, b in combinations(sorted(names.index(m) for m in members), 2):
            expected_pair[a, b] += 1
            expected_pair[b, a] += 1
    expected_treatment = [sum(t in members for members in arms.values()) for t in names]
    np.testing.assert_array_equal(per_pair, expected_pair)
    np.testing.assert_array_equal(per_treatment, expected_treatment)


def test_a_study_left_out_of_the_analysis_is_not_counted() -> None:
    result = fit_case("dogliotti2014")  # WASPO 2007 (no events in either arm) is left out
    assert "WASPO, 2007" not in result.contrasts.studies
    everything = _arms_by_study("dogliotti2014")
    assert everything["WASPO, 2007"] == {"Aspirin", "VKAs"}
    _, per_pair = study_counts(result)
    aspirin, vkas = result.treatments.index("Aspirin"), result.treatments.index("VKAs")
    in_table = sum({"Aspirin", "VKAs"} <= members for members in everything.values())
    assert per_pair[aspirin, vkas] == in_table - 1


def test_senn2013_has_a_three_arm_study_counted_for_each_of_its_pairs() -> None:
    three = [members for members in _arms_by_study("senn2013").values() if len(members) == 3]
    assert three  # Willms 1999: acarbose, metformin, placebo
    _, per_pair = study_counts(fit_case("senn2013"))
    assert per_pair.sum() // 2 == sum(
        len(m) * (len(m) - 1) // 2 for m in _arms_by_study("senn2013").values()
    )


def test_network_graph_draws_an_edge_per_compared_pair_sized_by_studies(
    result: NetworkResult, tmp_path: Path
) -> None:
    figure = network_graph(result, title="Network")
    _, per_pair = study_counts(result)
    labels = _texts(figure, "treatment")
    assert result.participants is not None  # both tables have group sizes
    assert labels == [
        f"{name} ({n:,.0f})" for name, n in zip(result.treatments, result.participants, strict=True)
    ]
    (edges,) = [c for c in figure.axes[0].collections if isinstance(c, LineCollection)]
    counts = [
        per_pair[a, b]
        for a in range(len(per_pair))
        for b in range(a + 1, len(per_pair))
        if per_pair[a, b]
    ]
    assert len(edges.get_segments()) == len(counts)
    assert _texts(figure, "edge-count") == [str(n) for n in counts]
    widths = np.asarray(edges.get_linewidths())
    assert widths.max() == pytest.approx(MAX_EDGE_POINTS)
    np.testing.assert_allclose(
        widths,
        MIN_EDGE_POINTS + (MAX_EDGE_POINTS - MIN_EDGE_POINTS) * np.array(counts) / max(counts),
    )
    (nodes,) = [c for c in figure.axes[0].collections if isinstance(c, PathCollection)]
    sizes = nodes.get_sizes()
    participants = np.asarray(result.participants)
    assert np.argmax(sizes) == np.argmax(participants)
    assert list(np.argsort(sizes, kind="stable")) == list(np.argsort(participants, kind="stable"))
    (footnote,) = [text.get_text() for text in figure.texts if text.get_gid() == "footnote"]
    assert footnote.endswith("(n): participants")
    # every label lies outside the unit circle the nodes sit on
    for text in figure.axes[0].texts:
        if text.get_gid() == "treatment":
            assert np.hypot(*text.get_position()) > 1.0
    assert save_figure(figure, tmp_path / "graph.png").stat().st_size > 0


def test_network_forest_sorts_by_pscore_and_prints_every_estimate(
    result: NetworkResult, tmp_path: Path
) -> None:
    figure = network_forest(result)
    score = dict(zip(result.treatments, result.pscores, strict=True))
    ordered = sorted((row for row in result.estimates), key=lambda row: -score[row.treatment])
    assert _texts(figure, "treatment") == [row.treatment for row in ordered]
    assert result.reference not in _texts(figure, "treatment")
    assert _texts(figure, "pscore") == [format_number(score[row.treatment], 3) for row in ordered]
    ratio = result.measure in ("OR", "RR")
    show = np.exp if ratio else float
    assert _texts(figure, "estimate") == [
        format_estimate_ci(show(row.estimate), show(row.ci_lower), show(row.ci_upper))
        for row in ordered
    ]
    ax = figure.axes[0]
    assert ax.get_xscale() == ("log" if ratio else "linear")
    label = ax.get_xlabel()
    assert f"vs {result.reference}" in label
    assert "smaller values are better" in label
    assert save_figure(figure, tmp_path / "forest.png").stat().st_size > 0


def test_network_forest_states_larger_values_better() -> None:
    figure = network_forest(fit_case("dogliotti2014", small_values="bad"))
    assert "larger values are better" in figure.axes[0].get_xlabel()
    scores = [float(text) for text in _texts(figure, "pscore")]
    assert scores == sorted(scores, reverse=True)


def test_league_table_figure_holds_every_ordered_pair_row_minus_column(
    result: NetworkResult, tmp_path: Path
) -> None:
    figure = league_table_figure(result)
    count = len(result.treatments)
    assert _texts(figure, "treatment") == list(result.treatments)
    cells = _texts(figure, "cell")
    assert len(cells) == count * (count - 1) == len(result.league)
    show = np.exp if result.measure in ("OR", "RR") else float
    expected = {
        (row.treatment, row.vs): format_estimate_ci(
            show(row.estimate), show(row.ci_lower), show(row.ci_upper)
        )
        for row in result.league
    }
    order = [(a, b) for a in result.treatments for b in result.treatments if a != b]
    assert cells == [expected[pair] for pair in order]
    assert any("row minus column" in text.get_text() for text in figure.texts)
    assert save_figure(figure, tmp_path / "league.png").stat().st_size > 0


def test_figures_draw_dollar_signs_in_names_literally() -> None:
    case = CASES["senn2013"]
    frame = pd.DataFrame(case["data"]).replace({"treatment": {"metformin": "US$ 5 drug $x$"}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = network_meta(frame, measure="MD", reference="placebo")
    for figure in (network_graph(result), network_forest(result), league_table_figure(result)):
        figure.canvas.draw()
        assert any(r"US\$ 5 drug \$x\$" in text for text in _texts(figure, "treatment"))


def test_srma_network_writes_the_figures_by_suffix(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    data = tmp_path / "senn.csv"
    pd.DataFrame(CASES["senn2013"]["data"]).to_csv(data, index=False)
    paths = {
        "graph": tmp_path / "g.png",
        "forest": tmp_path / "f.svg",
        "league": tmp_path / "l.pdf",
    }
    options = [part for name, path in paths.items() for part in (f"--{name}", str(path))]
    result = CliRunner().invoke(
        app, ["network", str(data), "--measure", "MD", "--reference", "placebo", "--json", *options]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["reference"] == "placebo"  # the figures leave stdout alone
    assert paths["graph"].read_bytes().startswith(b"\x89PNG")
    svg = paths["forest"].read_text()
    assert svg.lstrip().startswith("<?xml") and "rosiglitazone" in svg
    assert paths["league"].read_bytes().startswith(b"%PDF")
    for path in paths.values():
        assert f"wrote {path}" in result.stderr


def test_srma_network_refuses_a_figure_name_before_fitting(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    data = tmp_path / "senn.csv"
    pd.DataFrame(CASES["senn2013"]["data"]).to_csv(data, index=False)
    result = CliRunner().invoke(
        app, ["network", str(data), "--measure", "MD", "--league", str(tmp_path / "l.jpg")]
    )
    assert result.exit_code == 1
    assert "l.jpg: a figure must end in .svg, .png or .pdf" in result.output
    assert not (tmp_path / "l.jpg").exists()
