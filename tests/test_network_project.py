"""A network outcome in a review project: ``network = true`` in review.toml, each study's
arms named with their treatments, the reconciled arms exported a row per treatment, and
``srma analyze`` giving ``srma.network_meta``'s result on them (the policy choosing the
model), stored and reported.

The numbers are the first six studies of Hasselblad (1998), smoking cessation (metadat's
dat.hasselblad1998; events = people who quit), typed into the six records of
tests/fixtures' scopus.ris by two extractors, as the pairwise tests use Normand (1999).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import srma
from srma import network_meta
from srma.review.protocol import ProtocolError, validate_protocol
from test_extract_helpers import included_project, labels

PROTOCOL = """
[review]
title = "Smoking cessation (network)"
reviewers_per_record = 2

[question]
population = "smokers"
intervention = "counselling or self-help"
outcome = "abstinence"

[eligibility]
include = ["randomised trials"]

[screening]
exclusion_reasons = ["wrong population"]

[extraction]
arms = ["counselling", "no contact"]

[[outcomes]]
name = "abstinence"
measure = "OR"
direction = "higher is better"
data = "binary"
network = true
arms = ["no_contact", "self_help", "ind_counseling", "grp_counseling"]
time_points = ["end of follow-up"]

[analysis]
policy = "modern"
"""

#: dat.hasselblad1998's first six studies: (study, treatment, events, total); Reid 1974's
#: individual counselling arm is typed as two arms (182 of 357 and 181 of 357), which the
#: export combines back into its 363 of 714.
HASSELBLAD = [
    ("Reid et al. 1974", "no_contact", 75, 731),
    ("Reid et al. 1974", "ind_counseling", 363, 714),
    ("Cottraux et al. 1983", "no_contact", 9, 140),
    ("Cottraux et al. 1983", "self_help", 23, 140),
    ("Cottraux et al. 1983", "ind_counseling", 10, 138),
    ("Slama et al. 1990", "no_contact", 2, 106),
    ("Slama et al. 1990", "ind_counseling", 9, 205),
    ("Jamrozik et al. 1984", "no_contact", 58, 549),
    ("Jamrozik et al. 1984", "ind_counseling", 237, 1561),
    ("Rabkin et al. 1984", "no_contact", 0, 33),
    ("Rabkin et al. 1984", "ind_counseling", 9, 48),
    ("Decker and Evans 1989", "no_contact", 3, 100),
    ("Decker and Evans 1989", "grp_counseling", 31, 98),
]
TIME = "end of follow-up"


def _arm_names(treatment: str) -> list[str]:
    return [f"{treatment} a", f"{treatment} b"] if treatment == "ind_counseling" else [treatment]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    folder = included_project(tmp_path / "network", protocol=PROTOCOL)
    studies = labels(folder)
    source = {s: studies[i] for i, s in enumerate(dict.fromkeys(r[0] for r in HASSELBLAD))}
    rows = []
    for study, treatment, events, total in HASSELBLAD:
        label = source[study]
        names = _arm_names(treatment) if study == "Reid et al. 1974" else [treatment]
        parts = [(182, 357), (181, 357)] if len(names) == 2 else [(events, total)]
        for name, (x, n) in zip(names, parts, strict=True):
            for field, value in (("events", x), ("total", n)):
                rows.append((label, "abstinence", name, TIME, field, value, "dat.hasselblad1998"))
    for label in studies:
        arms = [
            f"{name}={treatment}"
            for study, treatment, *_ in HASSELBLAD
            if source[study] == label
            for name in (_arm_names(treatment) if study == "Reid et al. 1974" else [treatment])
        ]
        srma("extract", "arms", folder, "--study", label,
             *(x for arm in arms for x in ("--arm", arm)), "--reviewer", "Ana")  # fmt: skip
    table = pd.DataFrame(
        rows, columns=["study", "outcome", "arm", "time_point", "field", "value", "source"]
    )
    values = tmp_path / "values.csv"
    table.to_csv(values, index=False)
    for name in ("Ana", "Ben"):
        srma("extract", "import", folder, values, "--reviewer", name)
        srma("extract", "submit", folder, "--all", "--reviewer", name)
    return folder


def _expected(folder: Path) -> pd.DataFrame:
    studies = labels(folder)
    source = {s: studies[i] for i, s in enumerate(dict.fromkeys(r[0] for r in HASSELBLAD))}
    return pd.DataFrame(
        [(source[s], t, x, n) for s, t, x, n in HASSELBLAD],
        columns=["study", "treatment", "events", "total"],
    )


def test_the_export_has_a_row_per_study_and_treatment(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "abstinence.csv"
    said = srma("extract", "export", project, "--outcome", "abstinence", "-o", out)
    assert "srma network" in said and "--treatment treatment --measure OR" in said
    table = pd.read_csv(out, keep_default_na=False)
    assert list(table.columns[:7]) == [
        "study", "study_id", "records", "outcome", "time_point", "treatment", "arms"
    ]  # fmt: skip
    expected = _expected(project)
    got = table[["study", "treatment", "events", "total"]]
    pd.testing.assert_frame_equal(
        got.sort_values(["study", "treatment"]).reset_index(drop=True),
        expected.sort_values(["study", "treatment"]).reset_index(drop=True),
        check_dtype=False,
    )
    combined = table[table["treatment"] == "ind_counseling"]
    reid = combined[combined["arms"] == "ind_counseling a + ind_counseling b"]
    assert len(reid) == 1 and "combined" in reid["multi_arm"].iloc[0]


@pytest.mark.filterwarnings("ignore::srma.errors.SrmaWarning")
def test_analyze_gives_network_meta_on_the_export(project: Path) -> None:
    out = json.loads(srma("analyze", project, "--json"))
    [outcome] = out["outcomes"]
    network = outcome["network"]
    assert outcome["result"] is None and outcome["k"] == 6
    # policy "modern": random effects always (REML with Knapp-Hartung)
    direct = network_meta(
        _expected(project), measure="OR", method=network["method"], test=network["test"],
        reference="no_contact", small_values="bad",
    )  # fmt: skip
    assert network["method"] == "REML" and network["reference"] == "no_contact"
    assert network["tau2"] == pytest.approx(direct.tau2, rel=1e-9, abs=1e-12)
    for row, want in zip(network["estimates"], direct.estimates, strict=True):
        assert row["treatment"] == want.treatment
        assert row["estimate"] == pytest.approx(want.estimate, rel=1e-9)
        assert row["ci_upper"] == pytest.approx(want.ci_upper, rel=1e-9)
    pscores = dict(zip(direct.treatments, direct.pscores, strict=True))
    assert network["pscores"] == pytest.approx(pscores)
    assert network["participants"]["ind_counseling"] == 714 + 138 + 205 + 1561 + 48
    notes = " ".join(outcome["notes"])
    assert "model: random effects" in notes and "GRADE: not rated" in notes
    assert "zero cell" in notes  # Rabkin 1984: no quitters without contact
    assert all(not f["done"] for f in outcome["follow_ups"])
    status = json.loads(srma("analyze", project, "--status", "--json"))
    assert [s["state"] for s in status] == ["current"]


@pytest.mark.filterwarnings("ignore::srma.errors.SrmaWarning")
def test_the_report_shows_the_network(project: Path, tmp_path: Path) -> None:
    srma("analyze", project)
    html = tmp_path / "report.html"
    docx = tmp_path / "report.docx"
    srma("report", project, "-o", html, "--docx", docx, "--jobs", "1")
    text = html.read_text(encoding="utf-8")
    assert "League table" in text and "P-score" in text and "grp_counseling" in text
    assert "Network graph" in text and "Outcomes without any pooled result" not in text
    assert "Rankogram of" in text and "SUCRA" in text and "seeded normal draws" in text
    from docx import Document

    words = "\n".join(p.text for p in Document(str(docx)).paragraphs)
    assert "Network meta-analysis of odds ratio" in words and "League table" in words


@pytest.mark.filterwarnings("ignore::srma.errors.SrmaWarning")
def test_a_study_with_one_treatment_is_listed_with_the_reason(project: Path) -> None:
    decker = labels(project)[5]
    srma("extract", "arms", project, "--study", decker, "--arm", "no_contact=no_contact",
         "--arm", "grp_counseling=no_contact", "--reviewer", "Ana")  # fmt: skip
    [outcome] = json.loads(srma("analyze", project, "--json"))["outcomes"]
    assert outcome["k"] == 5
    [missing] = outcome["missing"]
    assert missing["study"] == decker and "fewer than two treatments" in missing["reason"]
    # grp_counseling is no longer in the network
    assert "grp_counseling" not in outcome["network"]["treatments"]


def _protocol(extra: str) -> str:
    return PROTOCOL.replace("network = true\n", f"network = true\n{extra}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ('arms = ["no_contact"]\n', r"reference first \(at least two\)"),
        ('multi_arm = "split"\n', 'multi_arm must be "combine"'),
    ],
)
def test_bad_network_outcomes_are_named(change: str, message: str) -> None:
    import tomllib

    text = _protocol("").replace(
        'arms = ["no_contact", "self_help", "ind_counseling", "grp_counseling"]\n', change
    )
    if "multi_arm" in change:
        text = _protocol(change)
    with pytest.raises(ProtocolError, match=message):
        validate_protocol(tomllib.loads(text), text, "review.toml")


def test_a_network_outcome_needs_arm_data() -> None:
    import tomllib

    text = PROTOCOL.replace('measure = "OR"', 'measure = "HR"').replace(
        'data = "binary"', 'data = "time-to-event"'
    )
    with pytest.raises(ProtocolError, match="needs data per arm"):
        validate_protocol(tomllib.loads(text), text, "review.toml")


@pytest.mark.filterwarnings("ignore::srma.errors.SrmaWarning")
def test_a_bridge_is_all_direct_under_knapp_hartung() -> None:
    """grp_counseling is reached only by Decker 1989: its comparison has no indirect
    evidence, with or without the Knapp-Hartung factor on the network's covariance."""
    arms = pd.DataFrame(HASSELBLAD, columns=["study", "treatment", "events", "total"])
    for test in ("z", "knha"):
        result = network_meta(arms, measure="OR", method="REML", test=test,
                              reference="no_contact")  # fmt: skip
        [bridge] = [r for r in result.node_split if "grp_counseling" in (r.treatment, r.vs)]
        assert bridge.indirect is None and bridge.proportion_direct == pytest.approx(1.0)
