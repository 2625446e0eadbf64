"""The words of data extraction, declared once: data types, field types, multi-arm rules.

Pure data (no imports beyond the standard library), so the protocol reader,
the forms, the import and the export all take them from here.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from typing import Final

from srma.analysis.conventions import BINARY_ARM_COLUMNS, CONTINUOUS_ARM_COLUMNS

#: The kinds of outcome data a form collects, and the effect measures each can feed.
DATA_TYPES: Final = MappingProxyType(
    {
        "continuous": ("MD", "SMD", "ROM"),
        "binary": ("RR", "OR", "RD", "PETO"),
        "time-to-event": ("GEN",),
        "generic": ("GEN",),
    }
)

#: The data type an outcome gets when the protocol does not say, by its measure.
DEFAULT_DATA_TYPE: Final = MappingProxyType(
    {
        "MD": "continuous",
        "SMD": "continuous",
        "ROM": "continuous",
        "RR": "binary",
        "OR": "binary",
        "RD": "binary",
        "PETO": "binary",
        "GEN": "generic",
    }
)

#: Data types measured per arm (a row per study x arm x time point); the others are
#: estimates of a comparison (a row per study x comparison x time point).
PER_ARM: Final = frozenset({"continuous", "binary"})

#: Types of a study characteristic (``[[extraction.fields]]``).
FIELD_TYPES: Final = ("text", "number", "choice", "date")

#: How a trial with more arms than the comparison has groups enters it (Cochrane
#: Handbook 6.5.2.10 and 23.3.4): combine the arms of a group into one, choose one
#: arm per group, or split a shared group between the comparisons.
MULTI_ARM_RULES: Final = ("combine", "choose", "split")

#: Risk-of-bias assessments are made per study or per result (study x outcome).
ROB_LEVELS: Final = ("study", "result")

#: Columns of ``srma extract export`` before the numbers (which study, outcome, arms) and
#: after them (how the numbers were found); between them the data type's statistics.
EXPORT_ID_COLUMNS: Final = ("study", "study_id", "records", "outcome", "time_point", "arm1", "arm2")
EXPORT_NOTE_COLUMNS: Final = ("value_type", "conversions", "multi_arm", "missing", "unresolved")
#: Columns of ``srma extract export`` that a study characteristic may not be called.
EXPORT_COLUMNS: Final = frozenset(
    {
        *EXPORT_ID_COLUMNS,
        *CONTINUOUS_ARM_COLUMNS,
        *BINARY_ARM_COLUMNS,
        "yi",
        "sei",
        *EXPORT_NOTE_COLUMNS,
    }
)


def column_name(name: str) -> str:
    """A characteristic's column in exports: lower case, runs of other characters as ``_``.

    ``"Time from onset"`` -> ``time_from_onset``, ``"follow-up"`` -> ``follow_up``, so a
    column can be named in ``srma metareg --mods "~ time_from_onset"``.
    """
    slug = re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")
    return f"x_{slug}" if slug[:1].isdigit() else slug
