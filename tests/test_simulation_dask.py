"""A simulation study on Dask (distributed.LocalCluster): the numbers of a local run, bitwise,
on one worker and on two, for any grouping of blocks into tasks."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from distributed import LocalCluster

from srma.scale import ResultStore, parse_study, performance, run_study


def small_study():
    return parse_study({
        "study": {"name": "dask", "seed": 99, "repetitions": 600, "block": 200},
        "scenarios": {"k": [5, 10], "tau2": [0.0, 0.1], "effect": [0.0, 0.3],
                      "within": ["chi"]},
        "within": {"chi": {"distribution": "chisq", "df": 3, "scale": 0.05, "shift": 0.005}},
        "methods": {"tau2": ["EE", "DL", "REML", "PM"], "test": ["z", "knha"]},
    })  # fmt: skip


def test_dask_on_one_and_two_workers_gives_the_local_numbers_bitwise(tmp_path: Path) -> None:
    study = small_study()
    run_study(study, tmp_path / "local")
    local = ResultStore(tmp_path / "local", study).read()

    two = run_study(study, tmp_path / "two", scheduler="local", workers=2, blocks_per_task=1)
    assert (two.scheduler, two.tasks, two.computed) == ("local", 24, 24)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        one = run_study(
            study, tmp_path / "one", scheduler=cluster.scheduler_address, blocks_per_task=5
        )
    assert one.tasks == 5 and one.bytes_returned > 0
    for name in ("two", "one"):
        frame = ResultStore(tmp_path / name, study).read()
        pd.testing.assert_frame_equal(local, frame, check_exact=True)
        pd.testing.assert_frame_equal(
            performance(local, study), performance(frame, study), check_exact=True
        )
