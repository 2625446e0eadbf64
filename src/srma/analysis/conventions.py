"""Conventions every shell (CLI, report, web) shares about a study table and a result.

Which column labels the studies, which columns hold per-arm counts, which
follow-up analyses a result supports, and when a common-effect diamond adds
anything to a forest plot.  These are domain rules, so they live here and not
in a command-line or web module.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from srma.vocabulary import BINARY_MEASURES, COMMON_EFFECT_METHODS

if TYPE_CHECKING:
    import pandas as pd

    from srma.analysis.results import MetaResult

#: Columns that name a study when no ``label`` is given, in order of preference.
LABEL_COLUMNS = ("study", "label", "author")
#: Per-arm columns of continuous data (group 1 the experimental arm) and of binary data.
CONTINUOUS_ARM_COLUMNS = ("mean1", "sd1", "n1", "mean2", "sd2", "n2")
BINARY_ARM_COLUMNS = ("events1", "total1", "events2", "total2")
#: Column roles that hold the cells of 2x2 tables (Peters' and Harbord's tests need them).
COUNT_ROLES = ("events1", "total1", "events2", "total2", "a", "b", "c", "d")
#: Fewest studies for influence diagnostics and the small-study tests.
MIN_STUDIES_FOLLOW_UP = 3


def study_label_column(frame: pd.DataFrame, label: str | None = None) -> str | None:
    """The column naming the studies: ``label`` if given, else the first of LABEL_COLUMNS."""
    if label is not None:
        return label
    return next((column for column in LABEL_COLUMNS if column in frame.columns), None)


def count_columns(columns: Mapping[str, str]) -> dict[str, str]:
    """The roles among ``columns`` that map 2x2-table cells (for Peters' and Harbord's tests)."""
    return {role: column for role, column in columns.items() if role in COUNT_ROLES}


def has_counts(measure: str | None) -> bool:
    """Whether raw data for ``measure`` are 2x2 tables."""
    return measure is not None and measure.upper() in BINARY_MEASURES


def adds_common_effect(result: MetaResult) -> bool:
    """Whether a common-effect diamond beside ``result``'s says anything new (random effects)."""
    return result.method not in COMMON_EFFECT_METHODS


def supports_follow_up(result: MetaResult) -> bool:
    """Whether influence diagnostics and small-study tests can be computed (k >= 3)."""
    return result.k >= MIN_STUDIES_FOLLOW_UP
