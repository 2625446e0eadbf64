"""srma's flagship review: mesenchymal stem cells (MSC) in acute ischaemic stroke.

:func:`build_msc_stroke` builds a review project from the files shipped in
``srma.datasets.msc_stroke`` (their sources and licences are in its
``README.md``), through srma's own public road, never by writing the store:

* the protocol ``review.toml``, after the Methods of Huang et al. (2024), BMC
  Neurology, doi:10.1186/s12883-024-03542-1 (the *seed*);
* two imports: the seed's nine included reports (its references 18-26, as RIS)
  and two MultiStem trials that the seed did not include, taken from
  ``msc_trials_found.csv`` (TREASURE, published after the seed's search, and
  MASTERS);
* screening decisions at both stages: the seed's nine inclusions recorded as
  reviewer ``Huang 2024 (published)``, the two later trials as reviewer
  ``msc_trials_found.csv`` (one reviewer per record: the protocol's
  ``reviewers_per_record = 1``, so nothing pretends to be a second, blinded
  reviewer);
* the two MultiStem trials' arms named as the source names them;
* one extraction long form, imported and submitted as ``msc_trials_found.csv``:
  each value is a row of that table (its row number and citation in ``source``,
  its ``value_status`` and original time point in ``comment``), mapped to the
  protocol's outcomes by ``outcome_map.csv``; a study without numbers for an
  outcome has none;
* one RoB 1 long form, imported and submitted as ``Huang 2024 (published)``:
  the seed's Fig. 3 judgements (``huang2024_rob.csv``).

The seed's PRISMA counts cannot be re-screened from records srma does not hold
(2,659 screened records); :func:`seed_prisma` returns them as reported, from
the copy the build keeps in the project folder (``sources/``), after checking
them against the project's own count of the seed's included studies.
"""

from __future__ import annotations

import csv
import io
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd

from srma.errors import InputError
from srma.review.flow.prisma import PrismaCounts, read_prisma
from srma.review.project import PROTOCOL_FILE, Project, add_reviewer, init_project

PACKAGE = "srma.datasets.msc_stroke"
#: The reviewer whose events are the seed's published decisions and judgements.
SEED = "Huang 2024 (published)"
#: The reviewer whose events are values taken from the table of sourced trial results.
TABLE = "msc_trials_found.csv"
SEED_RECORDS = "huang2024_references.ris"
LATER_RECORDS = "later_trials.ris"
#: The shipped files the build copies into ``PROJECT/sources``.
SOURCE_FILES = (
    SEED_RECORDS,
    LATER_RECORDS,
    "studies.csv",
    TABLE,
    "outcome_map.csv",
    "huang2024_rob.csv",
    "huang2024_prisma.csv",
)
SOURCES = "sources"
#: RoB 1 domains (srma's ids) and the columns of ``huang2024_rob.csv`` holding them.
ROB_COLUMNS = {
    "D1": "random_sequence_generation",
    "D2": "allocation_concealment",
    "D3": "blinding_participants_personnel",
    "D4": "blinding_outcome_assessment",
    "D5": "incomplete_outcome_data",
    "D6": "selective_reporting",
    "D7": "other_bias",
}
ROB_SOURCE = "Huang et al. 2024, Fig. 3 (risk of bias summary), via huang2024_rob.csv"
#: Characteristics and the column of ``msc_trials_found.csv`` each is read from.
CHARACTERISTICS = {"trial": "trial", "cell product": "cell_product",
                   "in seed meta-analyses": "in_seed_MAs"}  # fmt: skip


def shipped(name: str) -> str:
    """The text of one shipped file of ``srma.datasets.msc_stroke``."""
    return resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")


def shipped_table(name: str) -> pd.DataFrame:
    """A shipped CSV, every cell as text ("" where blank)."""
    return pd.read_csv(io.StringIO(shipped(name)), dtype=str, keep_default_na=False)


def trial_rows() -> pd.DataFrame:
    """``msc_trials_found.csv`` with ``row``: its 1-based data row (line number - 1)."""
    table = shipped_table(TABLE)
    table.insert(0, "row", range(1, len(table) + 1))
    return table


@dataclass(frozen=True)
class StudyLink:
    """One shipped study: its project study id and label, and where it comes from."""

    study_id: int
    label: str
    seed_reference: str
    rob_study: str
    rob_year: str
    trial: str

    @property
    def in_seed(self) -> bool:
        return bool(self.seed_reference)


def study_links(session, project: Project) -> list[StudyLink]:  # type: ignore[no-untyped-def]
    """The shipped ``studies.csv`` joined to the project's studies (by import and position)."""
    from srma.review.extract.context import load_extraction
    from srma.review.flow.status import all_record_ids_with_import

    records = all_record_ids_with_import(session)
    batches = sorted({batch for _, batch in records})
    by_batch = {b: [r for r, batch in records if batch == b] for b in batches}
    files = dict(zip((SEED_RECORDS, LATER_RECORDS), batches, strict=True))
    studies = load_extraction(session, project).studies
    links = []
    for row in shipped_table("studies.csv").itertuples(index=False):
        record = by_batch[files[row.records_file]][int(row.position) - 1]
        study = studies.by_id[record]
        links.append(
            StudyLink(
                record, study.label, row.seed_reference, row.rob_study, row.rob_year, row.msc_trial
            )
        )
    return links


def _longform(header: list[str], rows: list[list[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _comment(row: pd.Series) -> str:
    parts = [
        f"value_status: {row['value_status']}",
        f"time point in the source: {row['timepoint']}",
        f"arm in the source: {row['arm']}",
    ]
    if row["notes"]:
        parts.append(f"notes: {row['notes']}")
    return "; ".join(parts)


def _source(row: pd.Series) -> str:
    return f"{TABLE} row {row['row']}: {row['source_citation']}"


def extraction_longform(links: list[StudyLink]) -> str:
    """The long CSV form of every value taken from ``msc_trials_found.csv``."""
    rows = trial_rows()
    mapping = shipped_table("outcome_map.csv")
    used = mapping[mapping["why_not_used"] == ""]
    by_trial = {link.trial: link for link in links if link.trial}
    lines: list[list[object]] = []
    for link in links:
        if not link.trial:
            continue
        first = rows[rows["trial"] == link.trial].iloc[0]
        for field, column in CHARACTERISTICS.items():
            lines.append([link.label, "", "", "", field, first[column],
                          f"{TABLE} row {first['row']}, column {column}", ""])  # fmt: skip
    for entry in used.itertuples(index=False):
        row = rows.iloc[int(entry.row) - 1]
        link = by_trial.get(row["trial"])
        if link is None:
            raise InputError(
                f"row {entry.row} is trial {row['trial']!r}, not a shipped study",
                file="outcome_map.csv",
            )
        arm = arm_name(link, entry.group)
        for field in ("total", "events"):
            lines.append([link.label, entry.outcome, arm, entry.time_point, field, row[field],
                          _source(row), _comment(row)])  # fmt: skip
    header = ["study", "outcome", "arm", "time_point", "field", "value", "source", "comment"]
    return _longform(header, lines)


#: Arms named as their source names them (MultiStem trials); others keep the groups' names.
NAMED_ARMS = {"TREASURE": ("MultiStem", "placebo"), "MASTERS": ("MultiStem", "placebo")}


def _named_arms(link: StudyLink) -> tuple[str, str] | None:
    return next((arms for name, arms in NAMED_ARMS.items() if link.trial.startswith(name)), None)


def arm_name(link: StudyLink, group: str) -> str:
    """The study's arm of ``group`` (MSC or control)."""
    named = _named_arms(link)
    if named is None:
        return group
    return named[0] if group == "MSC" else named[1]


def rob_longform(links: list[StudyLink]) -> str:
    """The long CSV RoB 1 form of the seed's judgements (Fig. 3), one line per domain."""
    table = shipped_table("huang2024_rob.csv")
    lines: list[list[object]] = []
    for link in links:
        if not link.in_seed:
            continue
        found = table[(table["study"] == link.rob_study) & (table["year"] == link.rob_year)]
        if len(found) != 1:
            raise InputError(
                f"expected one row for {link.rob_study} {link.rob_year}, found {len(found)}",
                file="huang2024_rob.csv",
            )
        judged = found.iloc[0]
        for domain, column in ROB_COLUMNS.items():
            lines.append([link.label, f"{domain} judgement", judged[column].capitalize()])
            lines.append([link.label, f"{domain} support", ROB_SOURCE])
    return _longform(["study", "field", "value"], lines)


def build_msc_stroke(folder: str | Path, *, url: str | None = None) -> Project:
    """Build the flagship review in ``folder`` (which must not hold a project yet) and
    return the opened project (the caller closes it)."""
    folder = Path(folder)
    if (folder / PROTOCOL_FILE).exists():
        raise InputError("already holds a project; give a new folder", file=str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / PROTOCOL_FILE).write_text(shipped(PROTOCOL_FILE), encoding="utf-8")
    project = init_project(folder, title="", url=url)
    try:
        _build(project, folder / SOURCES)
    except BaseException:
        project.close()
        raise
    return project


def _build(project: Project, sources: Path) -> None:
    from srma.review.appraise.project import import_rob_form, load_rob, submit_rob
    from srma.review.extract.context import load_extraction
    from srma.review.extract.importing import import_form, submit
    from srma.review.extract.studies import Arm, set_arms
    from srma.review.flow.status import all_record_ids_with_import
    from srma.review.identify.importing import import_files
    from srma.review.screen.decisions import decide

    sources.mkdir(parents=True, exist_ok=True)
    for name in SOURCE_FILES:
        with resources.as_file(resources.files(PACKAGE).joinpath(name)) as path:
            shutil.copyfile(path, sources / name)
    import_files(project, [sources / SEED_RECORDS], source="Huang 2024 reference list",
                 imported_by="srma demo")  # fmt: skip
    import_files(project, [sources / LATER_RECORDS], source=TABLE, imported_by="srma demo")
    with project.store.transaction() as session:
        for name in (SEED, TABLE):
            add_reviewer(session, name)
        records = all_record_ids_with_import(session)
        first_batch = min(batch for _, batch in records)
        for stage in ("title_abstract", "full_text"):
            for record, batch in records:
                who = SEED if batch == first_batch else TABLE
                decide(session, project, reviewer=who, record_id=record, stage=stage,
                       decision="include")  # fmt: skip
    with project.store.transaction() as session:
        links = study_links(session, project)
        extraction = load_extraction(session, project)
        for link in links:
            named = _named_arms(link)
            if named is not None:
                arms = [Arm(named[0], "MSC"), Arm(named[1], "control")]
                set_arms(session, project, {}, study=extraction.studies.by_id[link.study_id],
                         arms=arms, chosen=[], reviewer=TABLE)  # fmt: skip
    form = sources / "extraction_msc_trials_found.csv"
    form.write_text(extraction_longform(links), encoding="utf-8")
    with project.store.transaction() as session:
        import_form(session, load_extraction(session, project), form, reviewer=TABLE)
    with project.store.transaction() as session:
        submit(session, load_extraction(session, project), reviewer=TABLE,
               labels=[link.label for link in links])  # fmt: skip
    judgements = sources / "rob1_huang2024.csv"
    judgements.write_text(rob_longform(links), encoding="utf-8")
    with project.store.transaction() as session:
        import_rob_form(session, load_rob(session, project), judgements, reviewer=SEED)
    with project.store.transaction() as session:
        submit_rob(session, load_rob(session, project), reviewer=SEED,
                   labels=[link.label for link in links if link.in_seed])  # fmt: skip


def seed_prisma(session, project: Project) -> PrismaCounts:  # type: ignore[no-untyped-def]
    """The seed's PRISMA 2020 counts as it reports them (``sources/huang2024_prisma.csv``),
    with their source; refused unless the project holds the seed's included studies, each
    included at full text (``new_studies``)."""
    from srma.review.state import load_state

    path = project.folder / SOURCES / "huang2024_prisma.csv"
    reported = read_prisma(path, source=f"{path} (Huang et al. 2024, Fig. 1, as reported)")
    state = load_state(session, project)
    seed = [link for link in study_links(session, project) if link.in_seed]
    included = [s for s in seed if state.at("full_text")[s.study_id].outcome == "include"]
    if len(included) != reported.get("new_studies"):
        raise InputError(
            f"the project includes {len(included)} of the seed's studies, the seed reports "
            f"{reported.get('new_studies')}",
            file=str(path),
        )
    return reported


def review_prisma(session, project: Project) -> PrismaCounts:  # type: ignore[no-untyped-def]
    """The review's PRISMA 2020 counts: the seed's as reported (databases), and the trials
    added from ``msc_trials_found.csv`` as identified via other methods, counted from the
    project's own screening; totals add both."""
    from srma.review.state import load_state

    seed = seed_prisma(session, project)
    state = load_state(session, project)
    later = [link for link in study_links(session, project) if not link.in_seed]
    assessed = len(later)
    included = sum(state.at("full_text")[s.study_id].outcome == "include" for s in later)
    counts = dict(seed.counts)
    counts.update(
        other_sought_reports=assessed,
        other_notretrieved_reports=0,
        other_assessed=assessed,
        other_excluded=assessed - included,
        new_studies=(seed.get("new_studies") or 0) + included,
        total_studies=(seed.get("total_studies") or 0) + included,
    )
    counts["total_studies_ma"] = None
    notes = dict(seed.notes)
    notes["other_sought_reports"] = f"trials from {TABLE} not in the seed, screened in the project"
    source = f"{seed.source}; project {project.folder}"
    return PrismaCounts(counts=counts, notes=notes, source=source)


@dataclass(frozen=True)
class OutcomeExport:
    """One outcome at one time point: srma's export, with each arm's source and status."""

    outcome: str
    time_point: str
    measure: str
    table: pd.DataFrame

    @property
    def analysable(self) -> pd.DataFrame:
        return self.table[self.table["missing"].fillna("") == ""]

    def without_values(self) -> list[tuple[str, str]]:
        """(study, why) of every study with no values here."""
        rows = self.table[self.table["missing"].fillna("") != ""]
        return [(r.study, r.reason) for r in rows.itertuples(index=False)]


def _reasons(links: list[StudyLink]) -> dict[tuple[str, str], list[str]]:
    """(study label, outcome) -> why the rows of ``msc_trials_found.csv`` about it are not used."""
    rows = trial_rows()
    mapping = shipped_table("outcome_map.csv")
    by_trial = {link.trial: link.label for link in links if link.trial}
    found: dict[tuple[str, str], list[str]] = {}
    for entry in mapping[mapping["why_not_used"] != ""].itertuples(index=False):
        row = rows.iloc[int(entry.row) - 1]
        key = (by_trial[row["trial"]], entry.outcome)
        found.setdefault(key, []).append(f"{TABLE} row {entry.row}: {entry.why_not_used}")
    return found


def outcome_exports(session, project: Project) -> list[OutcomeExport]:  # type: ignore[no-untyped-def]
    """Every outcome and time point of the protocol, exported as ``srma extract export``
    does, with ``source1``, ``status1``, ``source2``, ``status2`` (each arm's citation and
    comment, from the stored values) and ``reason``: why a study has no values."""
    from srma.review.extract.context import load_extraction
    from srma.review.extract.export import export_outcome

    extraction = load_extraction(session, project)
    links = study_links(session, project)
    seed = {link.label for link in links if link.in_seed}
    reasons = _reasons(links)
    values = extraction.state.values
    events = values[values["field"] == "events"]
    found = []
    for outcome in project.protocol.outcomes:
        for time in outcome.time_points:
            table = export_outcome(
                extraction.form, extraction.state, project.protocol, outcome.name, time
            ).table.copy()
            mine = events[(events["scope"] == outcome.name) & (events["time"] == time)]
            given = {(int(r.study), r.arm): (r.source, r.comment) for r in mine.itertuples()}
            for side in ("1", "2"):
                arm = table.get(f"arm{side}", pd.Series([""] * len(table)))
                pairs = [given.get((int(s), str(a)), ("", "")) for s, a in
                         zip(table["study_id"], arm.fillna(""), strict=True)]  # fmt: skip
                table[f"source{side}"] = [p[0] for p in pairs]
                table[f"status{side}"] = [p[1] for p in pairs]
            table["reason"] = [
                "" if not str(missing or "")
                else "; ".join(reasons.get((study, outcome.name), [])
                               or [_no_numbers(outcome.name, study in seed)])
                for study, missing in zip(table["study"], table["missing"], strict=True)
            ]  # fmt: skip
            found.append(OutcomeExport(outcome.name, time, outcome.measure, table))
    return found


def _no_numbers(outcome: str, in_seed: bool) -> str:
    if in_seed:
        return (
            f"no per-arm numbers for {outcome} in the shipped files (Huang et al. 2024 "
            "print no per-study numbers; its supplementary figures are not shipped)"
        )
    return f"no per-arm numbers for {outcome} in {TABLE}"
