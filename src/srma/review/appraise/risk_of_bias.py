"""Risk-of-bias judgements: the tools, their domains and judgements, and reading them.

Tables follow robvis's layout (McGuinness & Higgins 2021, Res Synth Methods
12:55-61): one row per study, the study label first, one column per domain,
optionally ``Overall`` and ``Weight``.  Judgements are matched without regard
to case, and the symbols ``+``, ``-``, ``?`` are read as low, high and unclear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from srma.errors import InputError


@dataclass(frozen=True)
class RobTool:
    """A risk-of-bias tool: its domains and its judgements, from least to most concern."""

    name: str
    title: str
    domains: tuple[str, ...]
    judgements: tuple[str, ...]
    citation: str


LOW, SOME, HIGH, CRITICAL, NO_INFO = "Low", "Some concerns", "High", "Critical", "No information"

TOOLS: dict[str, RobTool] = {
    "rob1": RobTool(
        "rob1",
        "Cochrane risk-of-bias tool (RoB 1)",
        (
            "Random sequence generation (selection bias)",
            "Allocation concealment (selection bias)",
            "Blinding of participants and personnel (performance bias)",
            "Blinding of outcome assessment (detection bias)",
            "Incomplete outcome data (attrition bias)",
            "Selective reporting (reporting bias)",
            "Other bias",
        ),
        ("Low", "Unclear", "High", NO_INFO),
        "Higgins JPT, Altman DG, Gøtzsche PC, et al. (2011). BMJ 343:d5928.",
    ),
    "rob2": RobTool(
        "rob2",
        "RoB 2",
        (
            "Bias arising from the randomization process",
            "Bias due to deviations from intended interventions",
            "Bias due to missing outcome data",
            "Bias in measurement of the outcome",
            "Bias in selection of the reported result",
        ),
        (LOW, SOME, HIGH, NO_INFO),
        "Sterne JAC, Savović J, Page MJ, et al. (2019). BMJ 366:l4898.",
    ),
    "robins-i": RobTool(
        "robins-i",
        "ROBINS-I",
        (
            "Bias due to confounding",
            "Bias due to selection of participants",
            "Bias in classification of interventions",
            "Bias due to deviations from intended interventions",
            "Bias due to missing data",
            "Bias in measurement of outcomes",
            "Bias in selection of the reported result",
        ),
        ("Low", "Moderate", "Serious", CRITICAL, NO_INFO),
        "Sterne JAC, Hernán MA, Reeves BC, et al. (2016). BMJ 355:i4919.",
    ),
    "syrcle": RobTool(
        "syrcle",
        "SYRCLE's risk-of-bias tool for animal studies",
        (
            "Sequence generation",
            "Baseline characteristics",
            "Allocation concealment",
            "Random housing",
            "Blinding of caregivers and investigators",
            "Random outcome assessment",
            "Blinding of outcome assessors",
            "Incomplete outcome data",
            "Selective outcome reporting",
            "Other sources of bias",
        ),
        ("Low", "Unclear", "High", NO_INFO),
        "Hooijmans CR, Rovers MM, de Vries RBM, et al. (2014). BMC Med Res Methodol 14:43.",
    ),
    "quadas2": RobTool(
        "quadas2",
        "QUADAS-2",
        ("Patient selection", "Index test", "Reference standard", "Flow and timing"),
        (LOW, SOME, HIGH, NO_INFO),
        "Whiting PF, Rutjes AWS, Westwood ME, et al. (2011). Ann Intern Med 155:529-536.",
    ),
}

_SYNONYMS = {
    "+": "low",
    "low risk": "low",
    "-": "high",
    "high risk": "high",
    "?": "unclear",
    "unclear risk": "unclear",
    "some concern": "some concerns",
    "no info": "no information",
    "ni": "no information",
    "x": "critical",
}


def get_tool(name: str) -> RobTool:
    """A tool by name: rob1, rob2, robins-i, syrcle or quadas2."""
    key = name.lower().replace("_", "-")
    key = {"robinsi": "robins-i", "quadas-2": "quadas2", "rob-2": "rob2", "rob-1": "rob1"}.get(
        key, key
    )
    if key not in TOOLS:
        raise InputError(f"unknown risk-of-bias tool {name!r}; expected {', '.join(TOOLS)}")
    return TOOLS[key]


@dataclass(frozen=True)
class RobAssessment:
    """Judgements of every study on every domain of one tool (and overall, if given)."""

    tool: RobTool
    studies: tuple[str, ...]
    domains: tuple[str, ...]
    judgements: tuple[tuple[str, ...], ...]  # [study][domain], canonical spelling
    overall: tuple[str, ...] | None = None
    weights: tuple[float, ...] | None = None
    source: str | None = None

    def to_frame(self) -> pd.DataFrame:
        frame = pd.DataFrame(list(self.judgements), columns=list(self.domains))
        frame.insert(0, "study", list(self.studies))
        if self.overall is not None:
            frame["Overall"] = list(self.overall)
        return frame

    def subset(self, rows: Sequence[int]) -> RobAssessment:
        """The judgements of the studies at ``rows`` (in that order), unweighted."""
        return replace(
            self,
            studies=tuple(self.studies[i] for i in rows),
            judgements=tuple(self.judgements[i] for i in rows),
            overall=None if self.overall is None else tuple(self.overall[i] for i in rows),
            weights=None,
        )

    def weighted_by(self, labels: Sequence[str], weights: Sequence[float]) -> RobAssessment:
        """The same judgements weighted by, for example, a meta-analysis's study weights.

        Studies are matched by label (``MetaResult.labels`` and ``weights``); a
        study without a weight counts 0, as robvis does for unweighted rows.
        """
        table = dict(zip(labels, weights, strict=True))
        unknown = [study for study in self.studies if study not in table]
        if len(unknown) == len(self.studies):
            raise InputError("no study of the risk-of-bias table is in the analysis")
        return replace(self, weights=tuple(float(table.get(study, 0.0)) for study in self.studies))

    def proportions(self, weighted: bool = False) -> pd.DataFrame:
        """Share of each judgement per domain (rows: domains, columns: judgements), in percent.

        ``weighted=True`` weighs each study by its ``weights`` (for example its
        meta-analysis weight), as robvis's weighted summary plot does.
        """
        if weighted and self.weights is None:
            raise InputError("a weighted summary needs a weight per study")
        weights = pd.Series(self.weights if weighted else [1.0] * len(self.studies))
        columns = list(self.domains) + (["Overall"] if self.overall is not None else [])
        frame = self.to_frame()
        rows = {}
        for column in columns:
            shares = weights.groupby(frame[column].to_numpy()).sum() / weights.sum() * 100.0
            rows[column] = [float(shares.get(level, 0.0)) for level in self.tool.judgements]
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(self.tool.judgements))


#: Column names (any case) read as parts of the study label, never as domains.
LABEL_NAMES = frozenset(
    {
        "study",
        "studies",
        "study id",
        "study_id",
        "studyid",
        "author",
        "authors",
        "first author",
        "year",
        "label",
        "id",
        "trial",
        "name",
    }
)
#: Column names (any case) that are neither label nor domain.
IGNORED_NAMES = frozenset({"weight", "overall", "overall risk of bias", "notes", "comment"})


def _as_written(value: object) -> str:
    """A label cell as the user wrote it: ``2005`` not ``2005.0``, ``NA`` stays ``NA``."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return str(value).strip()


def _canonical(value: object, tool: RobTool, *, source: str | None, row: int, column: str) -> str:
    text = str(value).strip().lower() if pd.notna(value) else ""
    text = _SYNONYMS.get(text, text)
    for judgement in tool.judgements:
        if text == judgement.lower():
            return judgement
    raise InputError(
        f"{value!r} is not a {tool.name} judgement; expected one of {', '.join(tool.judgements)}",
        file=source,
        row=row,
        column=column,
    )


def read_rob(
    data: pd.DataFrame | str | Path,
    tool: str,
    *,
    label_columns: Sequence[str] | None = None,
    source: str | None = None,
) -> RobAssessment:
    """Read judgements in robvis's layout; ``label_columns`` (e.g. study, year) form the labels.

    Without ``label_columns`` the label is the first column together with
    any column named like a label (study, author, year... in any case; see
    ``LABEL_NAMES``), in order; such columns are never read as domains.  Label
    cells are shown as written (``2005``, ``NA``).  A column named ``Overall``
    is the overall judgement and ``Weight`` the study's weight; every other
    column is a domain, in order.  When there are
    as many domains as the tool has, they take the tool's names.
    """
    chosen = get_tool(tool)
    if not isinstance(data, pd.DataFrame):
        source = source or str(data)
        try:
            # as written: a study called "NA" stays "NA", a year 2005 stays "2005"
            data = pd.read_csv(data, dtype=str, keep_default_na=False)
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
            raise InputError(f"cannot read the table: {error}", file=source) from None
    frame = data.reset_index(drop=True)
    if frame.empty:
        raise InputError("the table has no studies", file=source)
    by_name = {str(c).strip().lower(): c for c in frame.columns}
    if label_columns:
        missing = [c for c in label_columns if c not in frame.columns and c.lower() not in by_name]
        if missing:
            raise InputError(f"label column(s) {missing} not found", file=source, column=missing[0])
        label_columns = [c if c in frame.columns else by_name[c.lower()] for c in label_columns]
    else:
        label_columns = [c for c in frame.columns if str(c).strip().lower() in LABEL_NAMES]
        if not label_columns:
            label_columns = [frame.columns[0]]
        elif label_columns[0] != frame.columns[0] and frame.columns[0] not in label_columns:
            label_columns = [frame.columns[0], *label_columns]
    labels = tuple(
        " ".join(_as_written(frame.at[i, c]) for c in label_columns) for i in frame.index
    )
    overall_column = by_name.get("overall")
    weight_column = by_name.get("weight")
    domain_columns = [
        c
        for c in frame.columns
        if c not in label_columns
        and c not in (overall_column, weight_column)
        and str(c).strip().lower() not in IGNORED_NAMES | LABEL_NAMES
    ]
    if not domain_columns:
        raise InputError("no domain columns", file=source)
    judgements = tuple(
        tuple(
            _canonical(frame.at[i, c], chosen, source=source, row=i + 1, column=str(c))
            for c in domain_columns
        )
        for i in frame.index
    )
    overall = None
    if overall_column is not None:
        overall = tuple(
            _canonical(
                frame.at[i, overall_column],
                chosen,
                source=source,
                row=i + 1,
                column=str(overall_column),
            )
            for i in frame.index
        )
    weights = None
    if weight_column is not None:
        values = pd.to_numeric(frame[weight_column], errors="coerce")
        bad = values.isna() | (values < 0)
        if bad.any():
            row = int(bad.to_numpy().nonzero()[0][0])
            raise InputError(
                "a weight must be a number >= 0",
                file=source,
                row=row + 1,
                column=str(weight_column),
            )
        weights = tuple(float(x) for x in values)
    # as many domains as the tool has: the tool's own names (robvis's D1..Dn, or any header)
    domains = (
        chosen.domains
        if len(domain_columns) == len(chosen.domains)
        else tuple(str(c).replace(".", " ").replace("_", " ") for c in domain_columns)
    )
    return RobAssessment(chosen, labels, domains, judgements, overall, weights, source)
