"""The flat review modules of srma 0.1 still import, as thin re-exports of the new layout."""

from __future__ import annotations

import importlib

import pytest

MOVED = {
    "srma.review.records": "srma.review.identify.records",
    "srma.review.tagged": "srma.review.identify.tagged",
    "srma.review.importing": "srma.review.identify.importing",
    "srma.review.dedup": "srma.review.identify.dedup",
    "srma.review.merging": "srma.review.identify.merging",
    "srma.review.screening": "srma.review.screen.decisions",
    "srma.review.queue": "srma.review.screen.queue",
    "srma.review.agreement": "srma.review.screen.kappa",
    "srma.review.risk_of_bias": "srma.review.appraise.risk_of_bias",
    "srma.review.prisma": "srma.review.flow.prisma",
    "srma.review.export": "srma.review.flow.export",
}


@pytest.mark.parametrize("old", sorted(MOVED))
def test_moved_module_reexports_the_same_objects(old: str) -> None:
    shim = importlib.import_module(old)
    new = importlib.import_module(MOVED[old])
    assert shim.__all__
    for name in shim.__all__:
        assert getattr(shim, name) is getattr(new, name), name


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("srma.review.progress", "project_status", "srma.review.flow.status"),
        ("srma.review.progress", "prisma_counts", "srma.review.flow.status"),
        ("srma.review.progress", "stage_agreement", "srma.review.screen.agreement"),
        ("srma.review.active_learning", "tfidf_matrix", "srma.review.screen.features"),
        ("srma.review.active_learning", "rank_records", "srma.review.screen.ranking"),
        ("srma.review.active_learning", "wss", "srma.review.screen.metrics"),
        ("srma.review.active_learning", "simulate", "srma.review.screen.simulation"),
        ("srma.review.active_learning", "stopping_heuristic", "srma.review.screen.stopping"),
        ("srma.review.active_learning", "MODELS", "srma.review.screen.models"),
    ],
)
def test_split_module_reexports_each_name(old: str, name: str, new: str) -> None:
    moved = getattr(importlib.import_module(new), name)
    assert getattr(importlib.import_module(old), name) is moved
