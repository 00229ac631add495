"""core.data's parts, each on its own: numbers, times, the regular grid, the readers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import columns, numbers, readers, regular, times


@pytest.mark.parametrize(
    ("cell", "decimal", "expected"),
    [("12.5", ".", 12.5), ("12,5", ",", 12.5), ("1,234.5", ".", 1234.5), ("1.234,5", ",", 1234.5),
     ("$1,000", ".", 1000.0), ("(12)", ".", -12.0), ("1 234 567", ".", 1234567.0)],
)
def test_numbers_read_one_cell(cell, decimal, expected):
    values, missing, bad = numbers._to_numbers(pd.Series([cell]), decimal)
    assert values[0] == expected and not missing[0] and not bad[0]


def test_numbers_tell_missing_from_bad():
    values, missing, bad = numbers._to_numbers(pd.Series(["NA", "abc", "3"]), ".")
    assert missing.tolist() == [True, False, False]
    assert bad.tolist() == [False, True, False]
    assert values[2] == 3.0


@pytest.mark.parametrize(
    ("cells", "first"),
    [(["1990Q1", "1990Q2", "1990Q3"], "1990-01-01"), (["2020-W05", "2020-W06", "2020-W07"], "2020-01-27"),
     (["31.01.2020", "01.02.2020", "02.02.2020"], "2020-01-31"), (["Jan 2020", "Feb 2020", "Mar 2020"], "2020-01-01")],
)
def test_times_parse_a_column(cells, first):
    parsed = times._parse_times(pd.Series(cells), None, "when")
    assert parsed is not None and parsed[0] == pd.Timestamp(first)


def test_times_read_years_as_numbers():
    parsed = times._parse_times(pd.Series(["1990", "1991", "1992"]), np.array([1990.0, 1991, 1992]), "year")
    assert list(parsed.year) == [1990, 1991, 1992]


def test_regular_grid_fills_a_gap():
    index = pd.DatetimeIndex(["2020-01-01", "2020-01-02", "2020-01-04", "2020-01-05"])
    notes: list[str] = []
    points, freq, added = regular._regularise(pd.Series([1.0, 2, 4, 5], index=index), notes)
    assert freq == "D" and added.tolist() == [False, False, True, False, False]
    assert regular.season_for(freq) == 7


def test_columns_put_ids_last():
    raw = pd.DataFrame({"id": ["1", "2", "3"], "sales": ["5", "7", "6"]})
    found = {c: numbers._to_numbers(raw[c], ".")[0] for c in raw.columns}
    assert columns._numeric_candidates(raw, found, []) == ["sales", "id"]


def test_readers_detect_the_delimiter():
    assert readers._detect_sep(["a;b", "1;2", "3;4"]) == ";"
