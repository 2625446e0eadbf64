"""Numbers quoted in a row's note, checked against the row: the direction of the effect.

Parsing is conservative: only text inside quotation marks (``'...'``,
``"..."``, ``‘...’``, ``“...”``) is read, and in it only the row's own
measure followed by a number (``SMD=0.45``, ``RR 0.68``, ``MD: -0.95``),
optionally followed by ``CI`` and two numbers in brackets separated by a
comma, a semicolon or ``to`` (``95% CI (1.11, 0.21)``, ``95% CI [-1.39;
-0.52]``).  Anything else in a note is prose and is not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from srma.analysis.audit.reported import Reported, overlap, parse_reported
from srma.analysis.audit.results import Finding, finding_for
from srma.analysis.audit.table import PublishedRow

_QUOTED = re.compile(r"(?<!\w)'([^']+)'(?!\w)|\"([^\"]+)\"|‘([^’]+)’|“([^”]+)”")
_NUMBER = r"[+\-\u2212]?(?:\d+(?:\.\d*)?|\.\d+)"
_CI = re.compile(
    rf"[\s,;]*(?:\d+(?:\.\d+)?\s*%\s*)?CI\s*[:=]?\s*[\(\[]\s*(?P<lower>{_NUMBER})\s*"
    rf"(?:,|;|\bto\b)\s*(?P<upper>{_NUMBER})\s*[\)\]]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Quoted:
    """A result quoted in a note: ``text`` as quoted (``estimate_text`` its first part), the
    estimate and, if quoted, the CI."""

    text: str
    estimate_text: str
    estimate: Reported
    lower: Reported | None
    upper: Reported | None


def quoted_results(note: str, measure: str) -> list[Quoted]:
    """Every ``MEASURE = number [CI (a, b)]`` inside quotation marks in ``note``."""
    found = []
    pattern = re.compile(rf"(?<!\w){re.escape(measure)}\s*[=:]?\s*(?P<estimate>{_NUMBER})(?!\d)",
                         re.IGNORECASE)  # fmt: skip
    for match in _QUOTED.finditer(note):
        segment = next(group for group in match.groups() if group is not None)
        for result in pattern.finditer(segment):
            interval = _CI.match(segment, result.end())
            lower = upper = None
            end = result.end()
            if interval:
                lower, upper = (parse_reported(interval[name]) for name in ("lower", "upper"))
                end = interval.end()
            text = segment[result.start() : end].strip()
            estimate = parse_reported(result["estimate"])
            found.append(Quoted(text, result[0].strip(), estimate, lower, upper))
    return found


def _side(value: float, null: float) -> int:
    return (value > null) - (value < null)


def check_note(row: PublishedRow) -> list[Finding]:
    """``text_direction``, ``text_value`` and ``text_ci_order`` for the results the note quotes."""
    if row.note is None or row.measure is None:
        return []
    estimate, lower, upper = row.get("estimate"), row.get("ci_lower"), row.get("ci_upper")
    null = 1.0 if row.ratio else 0.0
    findings = []
    for quoted in quoted_results(row.note, row.measure):
        if estimate is not None:
            text_side, row_side = _side(quoted.estimate.value, null), _side(estimate.value, null)
            if text_side and row_side and text_side != row_side:
                findings.append(finding_for(
                    row, "text_direction", quoted.estimate_text, estimate.value,
                    f"the note quotes '{quoted.text}', on the other side of {null:g} from the "
                    f"estimate {estimate.text} in the row (recomputed: the row's estimate)",
                ))  # fmt: skip
            elif not overlap(quoted.estimate.low, quoted.estimate.high, estimate.low,
                             estimate.high):  # fmt: skip
                findings.append(finding_for(
                    row, "text_value", quoted.estimate_text, estimate.value,
                    f"the note quotes {quoted.estimate.text}, the row prints {estimate.text} "
                    "(recomputed: the row's estimate)",
                ))  # fmt: skip
        if quoted.lower is None or quoted.upper is None:
            continue
        interval = f"({quoted.lower.text}, {quoted.upper.text})"
        if quoted.lower.low > quoted.upper.high:
            findings.append(finding_for(row, "text_ci_order", interval, None,
                                        f"the note quotes '{quoted.text}': the lower bound is "
                                        "above the upper bound"))  # fmt: skip
        if lower is not None and upper is not None:
            differ = [
                f"{name} {given.text} vs {own.text}"
                for name, given, own in (("lower", quoted.lower, lower),
                                         ("upper", quoted.upper, upper))
                if not overlap(given.low, given.high, own.low, own.high)
            ]  # fmt: skip
            if differ:
                findings.append(finding_for(
                    row, "text_value", interval, None,
                    f"the note quotes the CI {interval}, the row prints ({lower.text}, "
                    f"{upper.text}): {', '.join(differ)}",
                ))  # fmt: skip
    return findings
