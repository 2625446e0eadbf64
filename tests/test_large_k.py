"""Very large meta-analyses: the fast refits give the direct refits' numbers, and k = 100,000
runs through forest, bias, report and sensitivity without a k x k array.

The power-series leave-one-out and cumulative fits (srma.stats.influence.subset_fits) are
compared with direct refits of the same subsets (pool() on a batch of masks) field by field;
``series_min_k`` forces either way on the same data.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from srma.stats.influence import (
    SUBSET_FIELDS,
    SubsetFits,
    cumulative_fits,
    leave_one_out_fits,
)

DIRECT = 10**9  # series_min_k that refits every subset directly
#: Fields on the effect's scale, compared relative to the effects' spread (they may be ~0)
LOCATION = ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper", "statistic")


def _data(kind: str, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.1, k)
    if kind == "homogeneous":  # tau² = 0 for most subsets: boundary, grid scans
        return rng.normal(0.3, np.sqrt(v)), v
    if kind == "outlier":  # the subsets without it have a much smaller tau²
        y = rng.normal(0.3, np.sqrt(v + 0.01))
        y[3] += 25.0
        return y, v
    if kind == "wide":  # variances over six orders of magnitude
        v = 10.0 ** rng.uniform(-4.0, 2.0, k)
    return rng.normal(0.3, np.sqrt(v + 0.05)), v


def _same(series: SubsetFits, direct: SubsetFits, rtol: float = 1e-10) -> None:
    assert not direct.direct.size or direct.direct.all()
    for name in (*SUBSET_FIELDS, "sum_w"):
        ours, theirs = getattr(series, name), getattr(direct, name)
        np.testing.assert_array_equal(np.isnan(ours), np.isnan(theirs), err_msg=name)
        finite = np.abs(theirs[np.isfinite(theirs)])
        scale = finite.max(initial=0.0) if name in LOCATION else 0.0
        np.testing.assert_allclose(
            ours, theirs, rtol=rtol, atol=1e-13 * (1.0 + scale), equal_nan=True, err_msg=name
        )


def test_series_refits_equal_direct_refits_at_k_2000() -> None:
    test = "knha"
    y, v = _data("outlier", 2000, seed=1)
    series = leave_one_out_fits(y, v, method="REML", test=test)
    assert not series.direct.any()  # k >= SERIES_MIN_K: every row by series
    _same(series, leave_one_out_fits(y, v, method="REML", test=test, series_min_k=DIRECT))
    order = np.random.default_rng(2).permutation(y.size)
    steps = cumulative_fits(y, v, order, method="DL", test=test, series_min_k=500)
    assert steps.direct[:499].all() and not steps.direct[499:].all()
    _same(steps, cumulative_fits(y, v, order, method="DL", test=test, series_min_k=DIRECT))


METHODS = ["EE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB", "PMM"]


@pytest.mark.parametrize("kind", ["heterogeneous", "homogeneous", "outlier", "wide"])
@pytest.mark.parametrize("method", METHODS)
def test_series_equals_direct_for_every_method(method: str, kind: str) -> None:
    y, v = _data(kind, 200, seed=len(kind))
    settings = {"method": method, "test": "knha", "pi_type": "t"}
    _same(
        leave_one_out_fits(y, v, **settings, series_min_k=0),
        leave_one_out_fits(y, v, **settings, series_min_k=DIRECT),
    )
    order = np.argsort(y)  # ordered by effect: prefixes far from the overall mean
    _same(
        cumulative_fits(y, v, order, **settings, series_min_k=20),
        cumulative_fits(y, v, order, **settings, series_min_k=DIRECT),
    )


def test_rows_the_series_cannot_certify_are_refitted_directly() -> None:
    # Q = k - 1 for all the studies: DL's tau² of the last cumulative step is 0 - 0 over
    # tr P, which rounding decides; the series leaves it to a direct refit
    y, v = _data("heterogeneous", 600, seed=4)
    w = 1.0 / v
    mean = np.sum(w * y) / np.sum(w)
    y = mean + (y - mean) * np.sqrt((y.size - 1) / np.sum(w * (y - mean) ** 2))
    order = np.arange(y.size)
    steps = cumulative_fits(y, v, order, method="DL", series_min_k=20)
    assert steps.direct[:19].all() and steps.direct[-1] and not steps.direct[19:-1].all()
    _same(steps, cumulative_fits(y, v, order, method="DL", series_min_k=DIRECT))
    # effects beyond the series' range: every row is refitted directly
    extreme = leave_one_out_fits(y * 1e40, v, method="REML", series_min_k=0)
    assert extreme.direct.all()


def test_influence_from_series_equals_influence_from_direct_refits() -> None:
    from srma.stats.influence import influence

    y, v = _data("outlier", 300, seed=7)
    for test in ("z", "knha"):
        fast = leave_one_out_fits(y, v, method="REML", test=test, series_min_k=0)
        slow = leave_one_out_fits(y, v, method="REML", test=test, series_min_k=DIRECT)
        a = influence(y, v, method="REML", test=test, deleted=fast)
        b = influence(y, v, method="REML", test=test, deleted=slow)
        for name in ("rstudent", "dffits", "cooks_distance", "covariance_ratio", "dfbetas"):
            np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(a.influential, b.influential)


#: k = 100,000 through the API, in a child process (a hang guard, and its peak memory
#: is its own): a k x k array of booleans alone would take 10 GB.
LARGE = textwrap.dedent(
    """
    import json, resource, sys
    from pathlib import Path
    import numpy as np
    import pandas as pd
    from srma import meta
    from srma.analysis.bias import small_study_tests
    from srma.analysis.sensitivity import cumulative, influence_diagnostics, leave_one_out
    from srma.figures.axes import save_figure
    from srma.figures.forest import forest_plot
    from srma.report.document import Outcome, build_report, write_docx, write_html

    out = Path(sys.argv[1])
    k = 100_000
    rng = np.random.default_rng(11)
    v = rng.uniform(0.01, 0.1, k)
    data = pd.DataFrame({"study": [f"S{i}" for i in range(k)],
                         "yi": rng.normal(0.3, np.sqrt(v + 0.05)), "vi": v})
    result = meta(data, yi="yi", vi="vi", label="study", method="REML")
    save_figure(forest_plot(result), out / "forest.png")
    tests = small_study_tests(result)
    content = build_report("Large", [Outcome("Outcome", result, small_study=tests)])
    write_html(content, out / "report.html")
    write_docx(content, out / "report.docx")
    loo = leave_one_out(result)
    flags = influence_diagnostics(result)
    steps = cumulative(result)
    print(json.dumps({
        "k": result.k,
        "loo": len(loo.labels), "loo_finite": bool(np.isfinite(loo.values["estimate"]).all()),
        "influence": len(flags.labels),
        "steps": len(steps.labels), "last_tau2": steps.values["tau2"][-1],
        "tau2": result.tau2, "egger_k": tests.egger.k,
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))
    """
)


def test_k_100000_runs_through_forest_bias_report_and_sensitivity(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", LARGE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,  # a hang guard, not a timing: this takes seconds
        check=False,
    )
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["k"] == facts["loo"] == facts["influence"] == facts["steps"] == 100_000
    assert facts["loo_finite"]
    assert facts["last_tau2"] == pytest.approx(facts["tau2"], rel=1e-10)  # all studies
    assert facts["egger_k"] == 100_000
    assert facts["peak_mb"] < 3000  # nothing k x k
    for name in ("forest.png", "report.html", "report.docx", "report_outcome1_studies.csv"):
        assert (tmp_path / name).stat().st_size > 0
    rows = (tmp_path / "report_outcome1_studies.csv").read_text().splitlines()
    assert len(rows) == 1 + 100_000 + 1  # header, studies, total
    assert "report_outcome1_studies.csv" in (tmp_path / "report.html").read_text()
