"""``srma effects``, ``meta``, ``subgroup``, ``metareg``, ``sensitivity``, ``bias``, ``policy``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from srma.cli.app import app
from srma.cli.shell import (
    ColumnOption,
    DataArgument,
    JsonOption,
    LabelOption,
    LevelOption,
    ModelOptions,
    PiTypeOption,
    StudyOptions,
    column_options,
    print_json,
    read_table,
    run,
    show,
    stdout,
    with_options,
    wrote,
)


@app.command()
def effects(
    data: DataArgument,
    measure: Annotated[
        str,
        typer.Option(
            help="MD, SMD, SMDH, ROM, RPB, AUCN (means); AUC (auc, n1, n2); pre-post MC, SMCC, "
            "SMCR, ROMC; variability VR, CVR (= LNCVR); NMD (animal studies with a sham group); "
            "RR, OR, RD, PETO, PHI, YUQ, YUY, OR2DN, OR2DL (2x2 tables); PR, PLN, PLO, PAS, "
            "PFT (events, total); IR, IRLN, IRS (events, time); IRR, IRD (events1, time1, "
            "events2, time2); COR, ZCOR; GEN."
        ),
    ],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write a CSV.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON rows.")] = False,
    col: ColumnOption = None,
    add: Annotated[float, typer.Option(help="Continuity correction added to cells.")] = 0.5,
    to: Annotated[str, typer.Option(help="only0, all, if0all or none.")] = "only0",
    drop00: Annotated[
        bool | None, typer.Option("--drop00/--keep00", help="Drop double-zero studies.")
    ] = None,
    correct: Annotated[
        bool, typer.Option("--correct", help="ROM: Lajeunesse's (2015) bias correction.")
    ] = False,
    direction: Annotated[
        str | None, typer.Option(help="NMD: 'lower is better' or 'higher is better'.")
    ] = None,
    shared_control: Annotated[
        str | None, typer.Option(help="'split': divide a shared control group's n.")
    ] = None,
    control_group: Annotated[
        str, typer.Option(help="Column naming each comparison's control group.")
    ] = "control_group",
) -> None:
    """Compute effect sizes (yi) and sampling variances (vi) for every study."""

    def action() -> None:
        from srma.analysis.effect_sizes import effect_sizes

        table = read_table(data)
        out = effect_sizes(
            table, measure, add=add, to=to, drop00=drop00, source=str(data), correct=correct,
            direction=direction, shared_control=shared_control, control_group=control_group,
            **column_options(col),
        )  # fmt: skip
        if output is not None:
            from srma.review.flow.export import to_csv

            to_csv(out, output)
        if as_json:
            records = out.astype(object).where(out.notna(), None).to_dict(orient="records")
            print_json(records)
        elif output is None:
            stdout.print(out.to_string(index=False))
        else:
            wrote(output)

    run(action, data)


@app.command("meta")
@with_options(studies=StudyOptions, model=ModelOptions)
def meta_command(
    studies: StudyOptions,
    model: ModelOptions,
    level: LevelOption = 0.95,
    pi_type: PiTypeOption = "riley",
    weights: Annotated[
        str | None,
        typer.Option(
            help="Column of user weights (metafor's weights=): pool by weighted least squares "
            "at them; method GENQ (generalised Q tau², DerSimonian-Kacker) needs them."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Pool a meta-analysis (common or random effects, Mantel-Haenszel or Peto)."""

    def action() -> None:
        result = studies.read().fit(
            **model.settings(), level=level, pi_type=pi_type, weights=weights
        )
        show(as_json, result)

    run(action, studies.data)


@app.command()
@with_options(studies=StudyOptions, model=ModelOptions)
def subgroup(
    studies: StudyOptions,
    model: ModelOptions,
    by: Annotated[str, typer.Option(help="Column defining the subgroups.")],
    level: LevelOption = 0.95,
    common_tau2: Annotated[
        bool, typer.Option("--common-tau2", help="One tau² for all subgroups.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Pool each subgroup and test for subgroup differences."""

    def action() -> None:
        from srma.analysis.subgroups import subgroup_analysis

        data = studies.read()
        result = subgroup_analysis(
            data.table, by, **model.settings(), level=level, common_tau2=common_tau2,
            **data.arguments(),
        )  # fmt: skip
        show(as_json, result)

    run(action, studies.data)


@app.command()
@with_options(studies=StudyOptions, model=ModelOptions)
def metareg(
    studies: StudyOptions,
    model: ModelOptions,
    mods: Annotated[str, typer.Option(help='Moderators, e.g. "~ dose + factor(route)".')],
    level: LevelOption = 0.95,
    permutations: Annotated[
        int | None, typer.Option(help="Permutation test with this many permutations.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Seed for Monte Carlo permutations.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Mixed-effects meta-regression on one or more moderators."""

    def action() -> None:
        from srma.analysis.metareg import meta_regression

        data = studies.read()
        result = meta_regression(
            data.table, mods, **model.settings(), level=level, permutations=permutations,
            seed=seed, **data.arguments(),
        )  # fmt: skip
        show(as_json, result)

    run(action, studies.data)


@app.command()
@with_options(studies=StudyOptions, model=ModelOptions)
def sensitivity(
    studies: StudyOptions,
    model: ModelOptions,
    level: LevelOption = 0.95,
    order_by: Annotated[
        str | None,
        typer.Option(
            "--order-by",
            "--order",
            help="Column to order the cumulative meta-analysis by (default: the data's order).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Leave-one-out, influence diagnostics, Baujat and cumulative meta-analysis."""

    def action() -> None:
        import pandas as pd

        from srma.analysis.conventions import supports_follow_up
        from srma.analysis.sensitivity import (
            baujat,
            cumulative,
            influence_diagnostics,
            leave_one_out,
        )

        data = studies.read()
        result = data.fit(**model.settings(), level=level)
        out: dict[str, Any] = {
            "result": result.to_dict(),
            "leave_one_out": leave_one_out(result).to_records(),
        }
        if supports_follow_up(result):
            out["influence"] = influence_diagnostics(result).to_records()
        out["baujat"] = baujat(result).to_frame().to_dict(orient="records")
        ordered = cumulative(result, order_by, data=data.table, label=data.label)
        out["cumulative"] = ordered.to_records()
        if as_json:
            print_json(out)
            return
        stdout.print(result.summary(), markup=False, highlight=False)
        for name in ("leave_one_out", "influence", "cumulative"):
            if name in out:
                sys.stdout.write(f"\n{name.replace('_', ' ')}:\n")
                sys.stdout.write(pd.DataFrame(out[name]).to_string(index=False) + "\n")

    run(action, studies.data)


@app.command()
@with_options(studies=StudyOptions, model=ModelOptions)
def bias(
    studies: StudyOptions,
    model: ModelOptions,
    estimator: Annotated[str, typer.Option(help="Trim-and-fill estimator: L0 or R0.")] = "L0",
    side: Annotated[
        str | None, typer.Option(help="Side of the missing studies: left or right.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Egger, Begg, trim-and-fill and fail-safe N (Peters and Harbord with counts)."""

    def action() -> None:
        from srma.analysis.bias import small_study_tests
        from srma.analysis.conventions import count_columns, has_counts

        data = studies.read()
        result = data.fit(**model.settings())
        tests = small_study_tests(
            result,
            counts=data.table if has_counts(data.measure) else None,
            estimator=estimator,
            side=side,
            **count_columns(data.columns),
        )
        show(as_json, tests)

    run(action, studies.data)


@app.command()
def policy(
    data: DataArgument,
    name: Annotated[str, typer.Option("--policy", help="huang2024, hassanein2024 or modern.")],
    label: LabelOption = None,
    as_json: JsonOption = False,
    col: ColumnOption = None,
) -> None:
    """Run the analyses an analysis policy prescribes, with the reasons for each choice."""

    def action() -> None:
        from srma.analysis.policies import apply_policy

        table = read_table(data)
        show(
            as_json, apply_policy(name, table, label=label, source=str(data), **column_options(col))
        )

    run(action, data)
