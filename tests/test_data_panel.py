"""Many series in one file (issue 13, item 2), the default value column (item 3) and the
frequency override (item 6), at the data level: tiny tables written here, checked value by value."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.data import (
    Panel,
    TooFewRowsError,
    find_id_columns,
    load_panel,
    read_csv,
    to_panel,
    to_series,
)
from core.errors import ConfigError, InputError

DAYS = pd.date_range("2024-01-01", periods=40, freq="D")


def long_file() -> bytes:
    """3 stores of unequal length (A 40 days, B 30, C 5) and a date repeated inside B."""
    rows = [f"{d:%Y-%m-%d},A,{100 + i}" for i, d in enumerate(DAYS)]
    rows += [f"{d:%Y-%m-%d},B,{200 + 2 * i}" for i, d in enumerate(DAYS[10:])]
    rows.insert(45, f"{DAYS[12]:%Y-%m-%d},B,999")  # B on 2024-01-13 twice: 204 and 999
    rows += [f"{d:%Y-%m-%d},C,{7 + i}" for i, d in enumerate(DAYS[:5])]
    return ("date,store,sales\n" + "\n".join(rows)).encode()


def test_the_id_column_of_a_long_file_is_found():
    table = read_csv(long_file())
    assert find_id_columns(table) == ["store"]


def test_a_long_file_becomes_a_panel_with_notes_for_what_was_done():
    panel = to_panel(read_csv(long_file()))
    assert isinstance(panel, Panel)
    assert list(panel) == ["A", "B"] and panel.id_cols == ("store",) and panel.target == "sales"
    assert panel.dropped == {"C": "5 usable point(s); at least 10 are needed"}
    np.testing.assert_array_equal(panel["A"].values, 100 + np.arange(40))
    b = panel["B"].values
    assert len(b) == 30 and b[2] == (204 + 999) / 2 and b[3] == 206
    assert panel["B"].time[0] == pd.Timestamp("2024-01-11") and panel.freq == "D"
    notes = " ".join(panel.notes)
    assert "1 series left out: 'C' (5 usable point(s); at least 10 are needed)" in notes
    assert "Series 'B': 1 duplicate time(s) were found; values at the same time were averaged" in notes
    assert "different lengths (from 30 points for 'B' to 40 for 'A')" in notes
    frame = panel.to_frame()
    assert list(frame.columns) == ["store", "time", "value"] and len(frame) == 70
    assert frame.iloc[40].tolist()[:1] == ["B"]


def test_to_series_says_when_it_averages_several_series_and_keeps_one_when_asked():
    table = read_csv(long_file())
    averaged = to_series(table)
    assert averaged.notes[0].startswith("Column 'store' holds 3 series ('A', 'B', 'C'); their "
                                        "values were averaged at each time into one series.")
    one = to_series(table, series="B")
    assert len(one) == 30 and one.values[0] == 200 and one.name == "sales (B)"
    with pytest.raises(InputError, match=r"no series 'Z' in column 'store'\. Its series are 'A', 'B', 'C'"):
        to_series(table, series="Z")
    with pytest.raises(TooFewRowsError, match=r"Column 'sales' of series 'C' gives only 5 usable"):
        to_series(table, series="C")


def test_two_id_columns_and_a_numeric_store_number():
    rows = [f"{d:%Y-%m-%d},{store},{product},{store * 10 + i}"
            for i, d in enumerate(DAYS[:12]) for store in (1, 2) for product in ("x", "y")]
    table = read_csv(("day,store,product,units\n" + "\n".join(rows)).encode())
    assert find_id_columns(table) == ["product", "store"] or find_id_columns(table) == ["store", "product"]
    panel = to_panel(table)
    assert len(panel) == 4 and panel.target == "units"
    key = next(k for k in panel if panel.ids[k] == tuple(
        "1" if c == "store" else "x" for c in panel.id_cols))
    np.testing.assert_array_equal(panel[key].values, 10 + np.arange(12))
    assert set(panel.to_frame().columns) == {"store", "product", "time", "value"}


def test_a_table_without_repeated_times_has_no_ids():
    text = "date,price,sales\n" + "\n".join(f"{d:%Y-%m-%d},{i % 3},{i}" for i, d in enumerate(DAYS))
    assert find_id_columns(read_csv(text.encode())) == []


def test_a_wide_file_is_a_panel_of_its_columns(tmp_path):
    text = "date,north,south\n" + "\n".join(f"{d:%Y-%m-%d},{i},{2 * i + 1}" for i, d in enumerate(DAYS))
    path = tmp_path / "wide.csv"
    path.write_text(text)
    panel = load_panel(path)
    assert list(panel) == ["north", "south"] and panel.id_cols == () and panel.id_names == ("series",)
    assert panel["south"].values[3] == 7
    assert list(panel.to_frame().columns) == ["series", "time", "value"]
    assert list(load_panel(path, columns=["south"])) == ["south"]


def test_a_wide_panel_leaves_input_looking_columns_out():
    text = "date,north,temperature,south\n" + "\n".join(
        f"{d:%Y-%m-%d},{i},{i % 9},{2 * i + 1}" for i, d in enumerate(DAYS))
    assert list(to_panel(read_csv(text.encode()))) == ["north", "south"]


def test_an_id_with_too_few_points_everywhere_is_refused_in_plain_words():
    rows = [f"{d:%Y-%m-%d},{s},{i}" for s in "PQ" for i, d in enumerate(DAYS[:5])]
    with pytest.raises(TooFewRowsError, match=r"None of the 2 series.*'P' \(5 usable point\(s\)"):
        to_panel(read_csv(("date,shop,sales\n" + "\n".join(rows)).encode()))


def test_unknown_id_column_names_the_columns():
    with pytest.raises(InputError, match=r"no column named 'region' for the series id.*'store'"):
        to_panel(read_csv(long_file()), id_cols="region")


# ----------------------------------------------------------------------------- default target


@pytest.mark.parametrize(
    ("header", "first", "asks"),
    [
        ("date,temperature,demand", "demand", None),
        ("date,price,promo,units_sold", "units_sold", None),
        ("date,temp,load", "load", None),
        ("date,north,south", "north", "Columns 'north', 'south' could each be the one to forecast"),
        ("date,temp,rain", "temp", "Every column of numbers ('temp', 'rain') looks like an input"),
    ],
)
def test_the_default_value_column_is_not_an_input_when_a_better_one_exists(header, first, asks):
    width = header.count(",")
    text = header + "\n" + "\n".join(
        f"{d:%Y-%m-%d}," + ",".join(str((i * (k + 3)) % 17 + k) for k in range(width))
        for i, d in enumerate(DAYS))
    table = read_csv(text.encode())
    assert table.numeric_candidates[0] == first
    assert to_series(table).name == first
    if asks is None:
        assert table.target_question is None
    else:
        assert asks in table.target_question
        assert table.target_question in to_series(table).notes
        assert table.target_question not in to_series(table, target=first).notes


# ----------------------------------------------------------------------------- frequency


def daily(values) -> bytes:
    days = pd.date_range("2024-01-01", periods=len(values), freq="D")  # a Monday
    return ("date,value\n" + "\n".join(f"{d:%Y-%m-%d},{v}" for d, v in zip(days, values, strict=True))).encode()


def test_a_chosen_frequency_averages_onto_its_grid():
    table = read_csv(daily(range(70)))
    weekly = to_series(table, freq="W-MON")
    assert weekly.freq == "W-MON" and weekly.season == 52 and len(weekly) == 10
    np.testing.assert_array_equal(weekly.values, 3 + 7 * np.arange(10))
    assert any("With the frequency set to weekly, 60 value(s) shared a week" in n for n in weekly.notes)
    monthly = to_series(read_csv(daily(range(366))), freq="monthly")  # 2024: a leap year
    assert monthly.freq == "MS" and len(monthly) == 12
    assert monthly.values[0] == 15 and monthly.values[1] == 31 + 14


def test_a_frequency_finer_than_the_data_or_unknown_is_refused():
    table = read_csv(daily(range(30)))
    with pytest.raises(ConfigError, match=r"With the frequency set to hourly, .* would be empty"):
        to_series(table, freq="h")
    with pytest.raises(ConfigError, match=r"Unknown frequency 'fortnightly'\. Use one of h"):
        to_series(table, freq="fortnightly")
    assert to_series(table, freq="D").values.tolist() == list(range(30))


def test_a_panel_takes_the_chosen_frequency_too():
    days = pd.date_range("2024-01-01", periods=84, freq="D")
    rows = [f"{d:%Y-%m-%d},{s},{i}" for s in "PQ" for i, d in enumerate(days)]
    panel = to_panel(read_csv(("date,shop,sales\n" + "\n".join(rows)).encode()), freq="W-MON")
    assert panel.freq == "W-MON" and len(panel["P"]) == 12 and panel["Q"].values[1] == 10
