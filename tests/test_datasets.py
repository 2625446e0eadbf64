"""The shipped data sets: the published values, canonical columns and provenance."""

from __future__ import annotations

import pandas as pd
import pytest

from srma.datasets import available, load

# metadat 1.2-0, write.csv(dat.normand1999): source, n1i, m1i, sd1i, n2i, m2i, sd2i
NORMAND1999 = [
    ("Edinburgh", 155, 55, 47, 156, 75, 64),
    ("Orpington-Mild", 31, 27, 7, 32, 29, 4),
    ("Orpington-Moderate", 75, 64, 17, 71, 119, 29),
    ("Orpington-Severe", 18, 66, 20, 18, 137, 48),
    ("Montreal-Home", 8, 14, 8, 13, 18, 11),
    ("Montreal-Transfer", 57, 19, 7, 52, 18, 4),
    ("Newcastle", 34, 52, 45, 33, 41, 34),
    ("Umea", 110, 21, 16, 183, 31, 27),
    ("Uppsala", 60, 30, 27, 52, 23, 20),
]

# metadat 1.2-0, write.csv(dat.bcg): author, year, tpos, tneg, cpos, cneg, ablat, alloc
BCG = [
    ("Aronson", 1948, 4, 119, 11, 128, 44, "random"),
    ("Ferguson & Simes", 1949, 6, 300, 29, 274, 55, "random"),
    ("Rosenthal et al", 1960, 3, 228, 11, 209, 42, "random"),
    ("Hart & Sutherland", 1977, 62, 13536, 248, 12619, 52, "random"),
    ("Frimodt-Moller et al", 1973, 33, 5036, 47, 5761, 13, "alternate"),
    ("Stein & Aronson", 1953, 180, 1361, 372, 1079, 44, "alternate"),
    ("Vandiviere et al", 1973, 8, 2537, 10, 619, 19, "random"),
    ("TPT Madras", 1980, 505, 87886, 499, 87892, 13, "random"),
    ("Coetzee & Berjak", 1968, 29, 7470, 45, 7232, 27, "random"),
    ("Rosenthal et al", 1961, 17, 1699, 65, 1600, 42, "systematic"),
    ("Comstock et al", 1974, 186, 50448, 141, 27197, 18, "systematic"),
    ("Comstock & Webster", 1969, 5, 2493, 3, 2338, 33, "systematic"),
    ("Comstock et al", 1976, 27, 16886, 29, 17825, 33, "systematic"),
]


def test_available_lists_the_shipped_sets() -> None:
    names = available()
    assert names == sorted(names)
    assert {"normand1999", "bcg"} <= set(names)


@pytest.mark.parametrize("name", ["normand1999", "bcg"])
def test_every_set_carries_its_provenance(name: str) -> None:
    frame = load(name)
    for key in ("source", "citation", "licence", "description"):
        assert isinstance(frame.attrs[key], str) and frame.attrs[key]
    assert name in frame.attrs["source"]
    assert "metadat" in frame.attrs["licence"] and "GPL" in frame.attrs["licence"]
    assert frame.notna().all().all()


def test_normand1999_equals_metadat() -> None:
    frame = load("normand1999")
    assert list(frame.columns) == ["study", "n1", "mean1", "sd1", "n2", "mean2", "sd2"]
    expected = pd.DataFrame(NORMAND1999, columns=list(frame.columns))
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert "Normand" in frame.attrs["citation"] and "18:321-359" in frame.attrs["citation"]


def test_bcg_equals_metadat_with_totals() -> None:
    frame = load("bcg")
    assert {"study", "author", "year", "events1", "total1", "events2", "total2"} <= set(frame)
    assert {"ablat", "alloc"} <= set(frame)
    assert len(frame) == 13
    for row, (author, year, tpos, tneg, cpos, cneg, ablat, alloc) in zip(
        frame.itertuples(), BCG, strict=True
    ):
        assert (row.author, row.year, row.ablat, row.alloc) == (author, year, ablat, alloc)
        assert (row.events1, row.total1) == (tpos, tpos + tneg)
        assert (row.events2, row.total2) == (cpos, cpos + cneg)
        assert row.study == f"{author}, {year}"
    assert frame["study"].is_unique
    assert "Colditz" in frame.attrs["citation"] and "271:698-702" in frame.attrs["citation"]


def test_loading_returns_a_fresh_copy() -> None:
    first = load("bcg")
    first.loc[0, "events1"] = -1
    assert load("bcg").loc[0, "events1"] == 4


def test_unknown_name_says_what_is_available() -> None:
    with pytest.raises(KeyError, match="normand1999"):
        load("no-such-data")
