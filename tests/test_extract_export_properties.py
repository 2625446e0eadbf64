"""The export, vectorised over studies, against a plain reference written study by study.

The reference below reads each study's reconciled items one study at a time, converts
each arm with scalar calls (Cochrane Handbook 6.5.2.2 for SE and CI, Luo 2018 / Wan 2014
/ Shi 2020 for quantiles, 6.5.2.10 for combined arms, 23.3.4 for a split shared group,
6.3.2 and 6.8.2 for hazard ratios) and applies the protocol's multi-arm rule in words as
the module's docstring states it.  Hypothesis draws whole reviews: default and named arms
(one to three per group, chosen arms), blinded studies, discrepancies left open or
resolved, blank, partial and inconsistent values, every dispersion, n analysed or only
n randomised, final values mixed with changes, time-to-event and generic estimates, and
study characteristics; every outcome's export must equal the reference's table (texts
exactly, numbers to 1e-12).
"""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from srma.review.extract.assessment import DISCREPANCY, assessment_state
from srma.review.extract.export import export_outcome
from srma.review.extract.forms import DATA_FIELDS, DISPERSIONS, extraction_form
from srma.review.extract.studies import VERSUS, studies_of
from srma.review.extract.values import row_problems
from srma.review.state import replay
from srma.stats.conversions import combine_groups, mean_sd_from_quantiles, sd_from_ci, sd_from_se
from srma.stats.effects import from_confidence_interval
from test_extract_export import Log, protocol

OUTCOMES = {"score": "12 weeks", "deaths": "", "survival": "", "generic": ""}
NAN = float("nan")

# --- the reference: one study at a time --------------------------------------------------


def _number(values: dict[str, str], name: str) -> float:
    return float(values[name]) if name in values else NAN


def _continuous_arm(v: dict[str, str]) -> tuple[tuple[float, ...], str, bool]:
    """(mean, sd, n), the conversion's note and whether a mean or median is reported."""
    n = _number(v, "n_analysed") if "n_analysed" in v else _number(v, "n_randomised")
    kind = v.get("dispersion")
    mean, sd, note = NAN, NAN, ""
    if kind == "SD":
        mean, sd = _number(v, "mean"), _number(v, "sd")
    elif kind == "SE":
        mean, sd, note = _number(v, "mean"), float(sd_from_se(_number(v, "se"), n)), "SD from SE"
    elif kind in ("95% CI", "90% CI", "99% CI"):
        level = float(kind.split("%")[0]) / 100
        mean = _number(v, "mean")
        sd = float(sd_from_ci(_number(v, "ci_lower"), _number(v, "ci_upper"), n, level=level))
        note = f"SD from {kind} (t, n - 1 df)"
    elif kind in ("IQR", "range", "IQR and range"):
        reported = {
            "IQR": ("q1", "q3"),
            "range": ("minimum", "maximum"),
            "IQR and range": ("q1", "q3", "minimum", "maximum"),
        }[kind]
        m, s = mean_sd_from_quantiles(
            n, _number(v, "median"), **{name: _number(v, name) for name in reported}
        )
        mean, sd = float(m), float(s)
        note = {
            "IQR": "mean and SD from median and IQR (Luo 2018; Wan 2014)",
            "range": "mean and SD from median and range (Luo 2018; Wan 2014)",
            "IQR and range": "mean and SD from median, IQR and range (Luo 2018; Shi 2020)",
        }[kind]
    if "n_analysed" not in v and "n_randomised" in v:
        randomised = "n randomised (n analysed not reported)"
        note = f"{note}; {randomised}" if note else randomised
    return (mean, sd, n), note, "mean" in v or "median" in v


def _estimate(v: dict[str, str], data: str) -> tuple[tuple[float, ...], str, bool]:
    """(yi, sei), the note and whether an estimate results."""
    centre = "hr" if data == "time-to-event" else "estimate"
    yi, sei, note = NAN, NAN, ""
    if all(name in v for name in (centre, "ci_lower", "ci_upper")):
        level = float(v.get("ci_level", "95%").rstrip("%")) / 100
        y, variance = from_confidence_interval(
            _number(v, centre),
            _number(v, "ci_lower"),
            _number(v, "ci_upper"),
            level=level,
            log=data == "time-to-event",
        )
        yi, sei = float(y), math.sqrt(float(variance))
        what = "log HR and its SE" if data == "time-to-event" else "SE"
        note = f"{what} from the {level:.0%} CI"
    if data == "generic" and "estimate" in v and "se" in v:
        yi, sei, note = _number(v, "estimate"), _number(v, "se"), ""
    if data == "time-to-event" and math.isnan(yi) and "o_minus_e" in v and "variance" in v:
        yi = _number(v, "o_minus_e") / _number(v, "variance")
        sei = 1 / math.sqrt(_number(v, "variance"))
        note = "log HR = (O - E) / V, SE = 1 / sqrt(V) (Peto)"
    return (yi, sei), note, not math.isnan(yi)


def _arm(data: str, v: dict[str, str]) -> tuple[str, tuple[float, ...], str, bool]:
    """(first problem, values, note, reported) of one arm's (or comparison's) values."""
    names = [f.name for f in DATA_FIELDS[data]]
    problems = row_problems(data, names, [{n: v.get(n) for n in names}])
    problem = f"{problems[0][1]}: {problems[0][2]}" if problems else ""
    if data == "continuous":
        return (problem, *_continuous_arm(v))
    if data == "binary":
        return problem, (_number(v, "events"), _number(v, "total")), "", "events" in v
    return (problem, *_estimate(v, data))


def _combine(data: str, arms: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Arms of one group as one, in the study's order: events and totals summed, or
    n, mean and SD pooled (Handbook 6.5.2.10)."""
    total = arms[0]
    for more in arms[1:]:
        if data == "binary":
            total = (total[0] + more[0], total[1] + more[1])
        else:
            n, m, s = combine_groups(total[2], total[0], total[1], more[2], more[0], more[1])
            total = (float(m), float(s), float(n))
    return total


def _where(items: pd.DataFrame) -> str:
    return ", ".join(
        f"{f} ({a})" if a else f for f, a in zip(items["field"], items["arm"], strict=True)
    )


def _study_rows(study, outcome, data, state, items) -> list[dict]:  # type: ignore[no-untyped-def]
    """The rows (label, arm1, arm2, values, value_type, conversions, multi_arm, missing,
    unresolved) of one study, worked out from its own items only."""
    blank = {"arm1": "", "arm2": "", "values": (), "value_type": "", "conversions": ""}
    row = {"label": study.label, **blank, "multi_arm": "", "missing": "", "unresolved": ""}
    if state.is_blinded(study.id):
        submitted = len(state.submitted.get(study.id, {}))
        text = f"blinded: {submitted} of {state.required} extractors submitted"
        return [{**row, "missing": text}]
    mine = items[items["study"] == study.id]
    cells = mine[(mine["scope"] == outcome.name) & (mine["time"] == OUTCOMES[outcome.name])]
    traits = mine[mine["scope"] == ""]
    open_cells = cells[cells["status"] == DISCREPANCY]
    row["unresolved"] = _where(pd.concat([open_cells, traits[traits["status"] == DISCREPANCY]]))
    if len(open_cells):
        return [{**row, "missing": f"unresolved discrepancy: {_where(open_cells)}"}]
    agreed = cells[cells["status"] != DISCREPANCY]
    per_arm = data in ("continuous", "binary")
    layout = (
        [(a.name, a.group) for a in study.arms_in(outcome.arms)]
        if per_arm
        else [(c, "") for c in study.comparisons(outcome.arms)]
    )
    arms = []
    for name, group in layout:
        here = agreed[agreed["arm"] == name]
        values = dict(zip(here["field"], here["value"], strict=True))
        problem, numbers, note, reported = _arm(data, values)
        arms.append((name, group, problem, numbers, note, reported, values.get("value_type")))
    notes = "; ".join(f"{a[0]}: {a[4]}" for a in arms if a[4])
    for name, _, problem, *_ in arms:
        if problem:
            where = f" ({name})" if per_arm else ""
            return [{**row, "missing": f"values do not fit together{where}: {problem}"}]
    if not per_arm:
        return _estimate_row(row, study, outcome, arms)
    absent = [a[0] for a in arms if not a[5]]
    if len(absent) == len(arms):
        return [{**row, "missing": "not reported"}]
    if absent:
        return [{**row, "missing": f"not reported for {', '.join(absent)}"}]
    types = sorted({a[6] for a in arms if a[6] is not None}) if data == "continuous" else []
    if len(types) > 1:
        mixed = "; ".join(f"{a[0]}: {a[6]}" for a in arms)
        return [{**row, "missing": f"final values and changes from baseline mixed: {mixed}"}]
    row["value_type"] = types[0] if types else ""
    first, second = outcome.arms
    group = {g: [a for a in arms if a[1] == g] for g in (first, second)}
    named = {g: [a[0] for a in group[g]] for g in group}
    if len(group[first]) == 1 and len(group[second]) == 1:
        values = group[first][0][3] + group[second][0][3]
        pair = {"arm1": named[first][0], "arm2": named[second][0]}
        return [{**row, **pair, "values": values, "conversions": notes}]
    if outcome.multi_arm == "choose":
        picked = {}
        for g in (first, second):
            chosen = [a for a in group[g] if a[0] in study.chosen] or group[g]
            picked[g] = chosen[0]
        said = [
            f"chose {picked[g][0]} of {', '.join(named[g])}" for g in group if len(group[g]) > 1
        ]
        return [
            {
                **row,
                "arm1": picked[first][0],
                "arm2": picked[second][0],
                "values": picked[first][3] + picked[second][3],
                "conversions": "; ".join(f"{a[0]}: {a[4]}" for a in picked.values() if a[4]),
                "multi_arm": "; ".join(said),
            }
        ]
    merged = {g: _combine(data, [a[3] for a in group[g]]) for g in group}
    if outcome.multi_arm == "combine":
        said = [
            f"combined {' + '.join(named[g])} (Handbook 6.5.2.10)"
            for g in group
            if len(group[g]) > 1
        ]
        return [
            {
                **row,
                "arm1": " + ".join(named[first]),
                "arm2": " + ".join(named[second]),
                "values": merged[first] + merged[second],
                "conversions": notes,
                "multi_arm": "; ".join(said),
            }
        ]
    many, shared = (first, second) if len(group[first]) >= len(group[second]) else (second, first)
    k = len(group[many])
    if data == "binary":
        share = (merged[shared][0] / k, merged[shared][1] / k)
    else:
        share = (merged[shared][0], merged[shared][1], merged[shared][2] / k)
    said = f"split {' + '.join(named[shared])} between {k} comparisons (n divided by {k}; "
    said += "Handbook 23.3.4)"
    if len(group[shared]) > 1:
        said = f"combined {' + '.join(named[shared])}; {said}"
    rows = []
    for arm in group[many]:
        ends = {many: (arm[0], arm[3]), shared: (" + ".join(named[shared]), share)}
        rows.append(
            {
                **row,
                "label": f"{study.label} ({arm[0]})",
                "arm1": ends[first][0],
                "arm2": ends[second][0],
                "values": ends[first][1] + ends[second][1],
                "conversions": notes,
                "multi_arm": said,
            }
        )
    return rows


def _estimate_row(row, study, outcome, comparisons) -> list[dict]:  # type: ignore[no-untyped-def]
    reported = [c for c in comparisons if c[5]]
    if not reported:
        return [{**row, "missing": "not reported"}]
    chosen, said = reported[0], ""
    if len(reported) > 1:
        if outcome.multi_arm != "choose":
            return [
                {
                    **row,
                    "missing": f"{len(reported)} comparisons: estimates cannot be combined or "
                    'split; set multi_arm = "choose" and name the arms with `srma extract arms '
                    "--choose`",
                }
            ]
        named = [c for c in reported if set(c[0].split(VERSUS)) & set(study.chosen)]
        chosen = (named or reported)[0]
        said = f"chose {chosen[0]} of {', '.join(c[0] for c in reported)}"
    arm1, arm2 = chosen[0].split(VERSUS)
    return [
        {**row, "arm1": arm1, "arm2": arm2, "values": chosen[3], "conversions": chosen[4],
         "multi_arm": said}
    ]  # fmt: skip


def reference_export(form, state, chosen, name: str, items: pd.DataFrame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """The export of outcome ``name``, study by study (``items``: the reconciliation)."""
    outcome = chosen.outcome(name)
    data = outcome.data
    numbers = {
        "continuous": ["mean1", "sd1", "n1", "mean2", "sd2", "n2"],
        "binary": ["events1", "total1", "events2", "total2"],
    }.get(data, ["yi", "sei"])
    records = []
    for study in (form.studies.by_id[i] for i in form.ids):
        for row in _study_rows(study, outcome, data, state, items):
            values = row["values"] or (NAN,) * len(numbers)
            records.append(
                {
                    "study": row["label"],
                    "study_id": study.id,
                    "records": "; ".join(map(str, study.records)),
                    "outcome": name,
                    "time_point": OUTCOMES[name],
                    "arm1": row["arm1"],
                    "arm2": row["arm2"],
                    **dict(zip(numbers, map(float, values), strict=True)),
                    **({"value_type": row["value_type"]} if data == "continuous" else {}),
                    "conversions": row["conversions"],
                    "multi_arm": row["multi_arm"],
                    "missing": row["missing"],
                    "unresolved": row["unresolved"],
                }
            )
    frame = pd.DataFrame(records)
    traits = items[(items["scope"] == "") & (items["status"] != DISCREPANCY)]
    for field in chosen.extraction.fields:
        given = traits[traits["field"] == field.name]
        by_study = dict(zip(given["study"], given["value"], strict=True))
        found = [by_study.get(s) for s in frame["study_id"]]
        if field.type == "number":
            frame[field.column] = pd.to_numeric(pd.Series(found, dtype=object))
        else:
            frame[field.column] = pd.Series(["" if v is None else v for v in found], dtype=object)
    for column in ("n1", "n2", "events1", "total1", "events2", "total2"):
        if column in frame and (frame[column].dropna() % 1 == 0).all():
            frame[column] = frame[column].astype("Int64")
    return frame


# --- random reviews -----------------------------------------------------------------------


#: What can be wrong with an arm's values (each makes the row a problem).
FAULTS = ("no n", "n analysed > n randomised", "a number missing", "an extra number",
          "no value type", "no dispersion")  # fmt: skip


def _fault(draw) -> str:  # type: ignore[no-untyped-def]
    """Mostly nothing; now and then one of :data:`FAULTS`."""
    return draw(st.sampled_from(FAULTS)) if draw(st.integers(0, 7)) == 0 else ""


@st.composite
def continuous_values(draw) -> dict:  # type: ignore[no-untyped-def]
    if draw(st.integers(0, 14)) == 0:
        return {}
    fault = _fault(draw)
    n = draw(st.sampled_from([12, 25, 40]))
    values: dict = {} if fault == "no n" else {"n_randomised": n}
    analysed = draw(st.sampled_from(["same", "fewer", "not reported"]))
    if fault == "n analysed > n randomised":
        values["n_analysed"] = n + 3
    elif analysed != "not reported" and fault != "no n":
        values["n_analysed"] = n if analysed == "same" else n - 2
    if fault != "no value type":
        values["value_type"] = draw(st.sampled_from(["final value"] * 7 + ["change from baseline"]))
    kind = draw(st.sampled_from([*DISPERSIONS, "SD"]))
    centre = draw(st.sampled_from([8, 12.5, 20]))
    spread = draw(st.sampled_from([1.5, 3, 4.25]))
    numbers: dict
    if kind in ("SD", "SE"):
        numbers = {"mean": centre, kind.lower(): spread}
    elif kind.endswith("CI"):
        numbers = {"mean": centre, "ci_lower": centre - spread, "ci_upper": centre + spread}
    else:
        numbers = {"median": centre}
        if "IQR" in kind:
            numbers.update({"q1": centre - spread, "q3": centre + spread * 1.5})
        if "range" in kind:
            numbers.update({"minimum": centre - 4 * spread, "maximum": centre + 5 * spread})
    if fault == "a number missing":
        numbers.pop(draw(st.sampled_from(sorted(numbers))))
    elif fault == "an extra number":
        extra = [n for n in ("sd", "se", "q1", "maximum") if n not in numbers]
        numbers[draw(st.sampled_from(extra))] = 4
    if fault != "no dispersion":
        values["dispersion"] = kind
    return {**values, **numbers}


@st.composite
def binary_values(draw) -> dict:  # type: ignore[no-untyped-def]
    if draw(st.integers(0, 14)) == 0:
        return {}
    total = draw(st.sampled_from([20, 33]))
    values: dict = {"total": total, "events": draw(st.sampled_from([0, 3, 7]))}
    if draw(st.booleans()):
        values["n_randomised"] = total + draw(st.sampled_from([0, 2]))
    fault = _fault(draw)
    if fault == "no n":
        del values["total"]
    elif fault == "a number missing":
        del values["events"]
    elif fault == "an extra number":
        values["events"] = 40
    elif fault == "n analysed > n randomised":
        values["n_randomised"] = total - 1
    return values


@st.composite
def estimate_values(draw, data: str) -> dict:  # type: ignore[no-untyped-def]
    how = draw(st.sampled_from(["blank", "ci", "ci", "other", "broken"]))
    centre = "hr" if data == "time-to-event" else "estimate"
    level = draw(st.sampled_from([None, "95%", "90%", "99%"]))
    values: dict = {} if level is None else {"ci_level": level}
    if how == "ci":
        values.update({centre: 0.8, "ci_lower": 0.5, "ci_upper": 1.2})
    elif how == "other":
        values.update(
            {"o_minus_e": -3.5, "variance": 8.25}
            if data == "time-to-event"
            else {"estimate": -0.4, "se": 0.15}
        )
    elif how == "broken":
        values.update({centre: 1.5, "ci_lower": 0.5, "ci_upper": 1.2})
    return values


VALUES = {
    "score": continuous_values(),
    "deaths": binary_values(),
    "survival": estimate_values("time-to-event"),
    "generic": estimate_values("generic"),
}
ARM_NAMES = {"MSC": ("low", "high", "mid"), "control": ("placebo", "usual care")}


@st.composite
def reviews(draw) -> tuple[Log, str]:  # type: ignore[no-untyped-def]
    """A review of 2 to 8 studies as a log, and the protocol's multi-arm rule."""
    count = draw(st.integers(2, 8))
    log = Log(count)
    for study in range(1, count + 1):
        groups = {"MSC": ("MSC",), "control": ("control",)}
        if draw(st.integers(0, 2)):
            groups = {
                g: tuple(draw(st.lists(st.sampled_from(names), min_size=1, unique=True)))
                for g, names in ARM_NAMES.items()
            }
            arms = [[name, g] for g, names in groups.items() for name in names]
            picked = [draw(st.sampled_from(names)) for names in groups.values()]
            chosen = draw(st.sampled_from([[], picked, picked[:1]]))
            log.add("Ana", "study_arms", study, payload={"arms": arms, "chosen": chosen})
        rows: dict = {}
        for outcome, time in OUTCOMES.items():
            if outcome in ("score", "deaths"):
                places = [name for names in groups.values() for name in names]
            else:
                places = [f"{a}{VERSUS}{b}" for a in groups["MSC"] for b in groups["control"]]
            for place in places:
                values = draw(VALUES[outcome])
                if values:
                    rows[(outcome, place, time)] = values
        traits = {"cell source": draw(st.sampled_from([None, "bone marrow", "umbilical cord"]))}
        traits["dose"] = draw(st.sampled_from([None, 5, 10.5]))
        traits = {k: v for k, v in traits.items() if v is not None}
        if traits:
            rows[("", "", "")] = traits
        other = {key: dict(fields) for key, fields in rows.items()}
        if rows and draw(st.integers(0, 3)) == 0:  # Ben reads one value differently
            key = draw(st.sampled_from(sorted(rows)))
            field = draw(st.sampled_from(sorted(rows[key])))
            other[key][field] = "7" if str(rows[key][field]) != "7" else "8"
            if draw(st.booleans()):  # and the discrepancy is resolved, Ben's value standing
                scope, arm, time = key
                value = {"scope": scope, "arm": arm, "time": time, "field": field}
                resolution = {**value, "value": str(other[key][field])}
                _submit(log, study, rows, other, _submitted(draw))
                log.add("Cy", "extraction_resolve", study, payload={"values": [resolution]})
                continue
        _submit(log, study, rows, other, _submitted(draw))
    return log, draw(st.sampled_from(["combine", "choose", "split"]))


def _submitted(draw) -> str:  # type: ignore[no-untyped-def]
    """Who submitted the study: mostly both extractors (open), else one or none (blinded)."""
    return {0: "none", 1: "one"}.get(draw(st.integers(0, 7)), "both")


def _submit(log: Log, study: int, ana: dict, ben: dict, submitted: str) -> None:
    log.values(study, ana, reviewers=("Ana",), submit=submitted != "none")
    log.values(study, ben, reviewers=("Ben",), submit=submitted == "both")


def _cases(table: pd.DataFrame) -> set[str]:
    """The cases one export shows: why rows are missing, multi-arm rules, conversions."""
    found = {
        f"{c}: {text.split()[0].rstrip(':')}"
        for c in ("missing", "multi_arm")
        for text in table[c]
        if text
    }
    found.update(p for p in CONVERSIONS if table["conversions"].str.contains(p, regex=False).any())
    return found | ({"unresolved"} if table["unresolved"].ne("").any() else set())


CONVERSIONS = (
    "SD from SE",
    "SD from 95% CI",
    "SD from 90% CI",
    "SD from 99% CI",
    "median and IQR",
    "median and range",
    "median, IQR and range",
    "n randomised",
    "Peto",
    "log HR and its SE from the 90% CI",
    "SE from the 99% CI",
)


def test_the_export_equals_the_study_by_study_reference() -> None:
    seen: set[str] = set()

    @settings(max_examples=40, deadline=None, database=None, derandomize=True)
    @given(reviews())
    def compare(review: tuple[Log, str]) -> None:
        log, rule = review
        state = replay(log.events, list(range(1, log.records + 1)), required=2)
        chosen = protocol(rule)
        people = {r: ([f"Author{r}, A."], 2000 + r) for r in range(1, log.records + 1)}
        form = extraction_form(chosen, studies_of(state, people, chosen))
        extraction = assessment_state(state)
        items = extraction.reconciliation()
        for name in OUTCOMES:
            table = export_outcome(form, extraction, chosen, name).table
            expected = reference_export(form, extraction, chosen, name, items)
            # text columns are str or object as pandas infers them; numbers' dtypes must match
            pd.testing.assert_frame_equal(
                table, expected, check_dtype=False, check_exact=False, rtol=1e-12, atol=0
            )
            numbers = expected.select_dtypes("number").columns
            assert list(table.select_dtypes("number").columns) == list(numbers)
            assert (table[numbers].dtypes == expected[numbers].dtypes).all()
            seen.update(_cases(expected))

    compare()
    # the reviews drawn reached every case the export tells apart
    missing = {f"missing: {word}" for word in ("blinded", "unresolved", "values", "not", "final")}
    multi_arm = {f"multi_arm: {word}" for word in ("combined", "chose", "split")}
    expected = {*missing, *multi_arm, *CONVERSIONS, "unresolved"}
    assert seen >= expected, (sorted(expected - seen), sorted(seen))
