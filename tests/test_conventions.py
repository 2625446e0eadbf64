"""Domain conventions the shells share (label column, count columns, follow-up gates)."""

from __future__ import annotations

import pandas as pd

from srma import meta
from srma.analysis.conventions import (
    adds_common_effect,
    count_columns,
    has_counts,
    study_label_column,
    supports_follow_up,
)
from srma.datasets import load


def test_label_column_prefers_the_given_name_then_study_label_author() -> None:
    frame = pd.DataFrame({"author": ["A"], "label": ["L"], "yi": [1.0]})
    assert study_label_column(frame) == "label"
    assert study_label_column(frame, "author") == "author"
    assert study_label_column(pd.DataFrame({"yi": [1.0]})) is None


def test_count_columns_keep_only_two_by_two_cells() -> None:
    roles = {"events1": "e1", "total1": "n1", "yi": "y", "mean1": "m1", "d": "cell_d"}
    assert count_columns(roles) == {"events1": "e1", "total1": "n1", "d": "cell_d"}
    assert has_counts("rr") and has_counts("PETO")
    assert not has_counts("SMD") and not has_counts(None)


def test_common_effect_diamond_and_follow_up_gates_follow_the_result() -> None:
    bcg = load("bcg")
    random = meta(bcg, measure="RR", method="REML")
    assert adds_common_effect(random)
    assert not adds_common_effect(meta(bcg, measure="RR", method="MH"))
    assert not adds_common_effect(meta(bcg, measure="RR", method="EE"))
    assert supports_follow_up(random)
    assert not supports_follow_up(meta(bcg.iloc[:2], measure="RR", method="EE"))
