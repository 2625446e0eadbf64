"""write_summary: JSON, Markdown and the forest plot, every number from the result."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from srma import meta
from srma.datasets import load
from srma.report.jsonable import to_jsonable
from srma.report.summary import markdown_summary, write_summary

NORMAND = load("normand1999")


def test_writes_four_files_named_after_the_analysis(tmp_path: Path) -> None:
    result = meta(NORMAND, measure="MD", method="REML", test="knha", source="normand.csv")
    paths = write_summary(
        result, tmp_path / "out", name="stroke", dataset_citation=NORMAND.attrs["citation"]
    )
    assert {k: p.name for k, p in paths.items()} == {
        "json": "stroke.json",
        "markdown": "stroke.md",
        "forest_svg": "stroke_forest.svg",
        "forest_png": "stroke_forest.png",
    }
    assert all(p.parent == tmp_path / "out" and p.stat().st_size > 0 for p in paths.values())
    assert paths["forest_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Edinburgh" in paths["forest_svg"].read_text()


def test_json_is_the_result_plus_provenance(tmp_path: Path) -> None:
    result = meta(NORMAND, measure="MD", method="REML", test="knha", source="normand.csv")
    citation = NORMAND.attrs["citation"]
    paths = write_summary(result, tmp_path, name="s", dataset_citation=citation, title="T")
    text = paths["json"].read_text()
    document = json.loads(text)
    assert document["result"] == json.loads(json.dumps(to_jsonable(result.to_dict())))
    assert document["result"]["estimate"] == result.estimate
    assert document["title"] == "T"
    provenance = document["provenance"]
    assert provenance["software"] == "srma"
    assert provenance["data_source"] == "normand.csv"
    assert provenance["dataset_citation"] == citation
    assert provenance["files"]["forest_svg"] == "s_forest.svg"


def test_undefined_values_are_null_never_nan(tmp_path: Path) -> None:
    result = meta(load("bcg"), measure="RR", method="MH")
    paths = write_summary(result, tmp_path, name="bcg", dataset_citation=None)
    text = paths["json"].read_text()
    assert "NaN" not in text and "Infinity" not in text
    document = json.loads(text)
    assert document["result"]["tau2"] is None and document["result"]["pi_lower"] is None
    assert document["result"]["exp"]["estimate"] == pytest.approx(math.exp(result.estimate))


def test_markdown_numbers_come_from_the_result() -> None:
    result = meta(NORMAND, measure="MD", method="REML", test="knha")
    text = markdown_summary(result, dataset_citation=NORMAND.attrs["citation"])
    assert text.startswith("# Meta-analysis of 9 studies: mean difference (MD)")
    assert NORMAND.attrs["citation"] in text
    assert "restricted maximum-likelihood" in text and "Hartung-Knapp" in text
    assert f"{result.estimate:.2f} (95% CI {result.ci_lower:.2f} to {result.ci_upper:.2f})" in text
    assert f"{result.pi_lower:.2f} to {result.pi_upper:.2f}" in text
    assert f"Q = {result.q:.2f} on {result.q_df:.0f} df" in text
    assert f"I² = {result.i2:.1f}%" in text and f"tau² = {result.tau2:.4f}" in text
    frame = result.to_frame()
    for row in frame.itertuples():
        assert (
            f"| {row.label} | {row.yi:.2f} | {row.ci_lower:.2f} | {row.ci_upper:.2f} | "
            f"{row.weight:.1f} |" in text
        )


def test_ratio_markdown_is_back_transformed() -> None:
    result = meta(load("bcg"), measure="OR", method="DL")
    text = markdown_summary(result, title="BCG")
    exp = result.back_transformed()
    assert f"{exp['estimate']:.2f} (95% CI {exp['ci_lower']:.2f} to {exp['ci_upper']:.2f})" in text
    assert "odds ratio (OR)" in text and "back-transformed" in text
    first = result.to_frame().iloc[0]
    assert f"| {first.label} | {math.exp(first.yi):.2f} |" in text
