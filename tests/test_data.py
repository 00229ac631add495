"""core.data: tiny CSVs written here, read back, checked value by value."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from core import data
from core.data import (
    BinaryFileError,
    ColumnNotFoundError,
    ConstantSeriesError,
    DateColumnError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    HeaderOnlyError,
    MalformedFileError,
    NonNumericError,
    TooFewRowsError,
    WideTableError,
    describe,
    load_series,
    read_csv,
    readers,
    season_for,
    to_series,
)
from core.errors import ConfigError, InputError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"


def monthly(values, sep=",", header=("date", "value"), start="2020-01") -> str:
    months = pd.period_range(start, periods=len(values), freq="M")
    lines = [sep.join(header)] + [f"{m}{sep}{v}" for m, v in zip(months, values, strict=True)]
    return "\n".join(lines) + "\n"


TWELVE = [str(i) for i in range(1, 13)]


# ----------------------------------------------------------------------------- how files are written

READ_CASES = [
    # id, bytes, sep, decimal, encoding, expected first values
    ("utf8-comma", monthly(TWELVE).encode(), ",", ".", "utf-8", [1, 2, 3]),
    ("utf8-bom", monthly(TWELVE).encode("utf-8-sig"), ",", ".", "utf-8-sig", [1, 2, 3]),
    ("utf16-bom", monthly(TWELVE).encode("utf-16"), ",", ".", "utf-16", [1, 2, 3]),
    ("utf16-le-no-bom", monthly(TWELVE).encode("utf-16-le"), ",", ".", "utf-16-le", [1, 2, 3]),
    (
        "latin1",
        monthly(TWELVE, header=("mois", "température")).encode("latin-1"),
        ",", ".", "latin-1", [1, 2, 3],
    ),
    ("semicolon", monthly(TWELVE, sep=";").encode(), ";", ".", "utf-8", [1, 2, 3]),
    ("tab", monthly(TWELVE, sep="\t").encode(), "\t", ".", "utf-8", [1, 2, 3]),
    ("pipe", monthly(TWELVE, sep="|").encode(), "|", ".", "utf-8", [1, 2, 3]),
    (
        "decimal-comma",
        monthly([f"{i},5" for i in range(12)], sep=";").encode(),
        ";", ",", "utf-8", [0.5, 1.5, 2.5],
    ),
    (
        "decimal-comma-thousands-dot",
        monthly([f"1.234,{i}" for i in range(1, 13)], sep=";").encode(),
        ";", ",", "utf-8", [1234.1, 1234.2, 1234.3],
    ),
    (
        "quoted-decimal-comma",
        monthly([f'"{i},25"' for i in range(12)]).encode(),
        ",", ",", "utf-8", [0.25, 1.25, 2.25],
    ),
    (
        "thousands-comma-quoted",
        monthly([f'"1,2{i:02d}.5"' for i in range(12)]).encode(),
        ",", ".", "utf-8", [1200.5, 1201.5, 1202.5],
    ),
    (
        "currency-percent-spaces",
        monthly(["$ 10", " 11 % ", "€12", "(13)", "1 000", "15", "16", "17", "18", "19", "20",
                 "21"], sep=";").encode(),
        ";", ".", "utf-8", [10, 11, 12, -13, 1000],
    ),
    ("crlf", monthly(TWELVE).replace("\n", "\r\n").encode(), ",", ".", "utf-8", [1, 2, 3]),
    (
        "trailing-delimiters",
        monthly([f"{v}," for v in TWELVE], header=("date", "value,")).encode(),
        ",", ".", "utf-8", [1, 2, 3],
    ),
]


@pytest.mark.parametrize(
    ("raw", "sep", "decimal", "encoding", "first"),
    [case[1:] for case in READ_CASES],
    ids=[case[0] for case in READ_CASES],
)
def test_read_csv_detects_how_the_file_is_written(raw, sep, decimal, encoding, first):
    table = read_csv(raw)
    assert (table.sep, table.decimal, table.encoding) == (sep, decimal, encoding)
    assert len(table.frame.columns) == 2
    series = to_series(table)
    np.testing.assert_allclose(series.values[: len(first)], first)
    assert series.freq == "MS"
    assert series.time[0] == pd.Timestamp("2020-01-01")


def test_latin1_is_reported_in_notes_and_names_survive():
    table = read_csv(monthly(TWELVE, header=("Monat", "Größe")).encode("latin-1"))
    assert table.numeric_candidates == ["Größe"]
    assert any("Latin-1" in note for note in table.notes)


def test_decimal_comma_is_reported():
    table = read_csv(monthly([f"{i},5" for i in range(12)], sep=";").encode())
    assert any("decimal comma" in note for note in table.notes)


def test_ambiguous_thousands_with_semicolon_reads_as_decimal_comma_and_says_so():
    table = read_csv(monthly([f"1,{i:03d}" for i in range(100, 112)], sep=";").encode())
    assert table.decimal == ","
    assert any("could be read two ways" in note for note in table.notes)
    np.testing.assert_allclose(to_series(table).values[:2], [1.1, 1.101])


@pytest.mark.parametrize(
    ("kwargs", "values"),
    [
        ({"sep": ";"}, [1.5, 2.5]),
        ({"sep": ";", "decimal": ","}, [1.5, 2.5]),
        ({"sep": "semicolon", "decimal": ","}, [1.5, 2.5]),
        ({"sep": ";", "decimal": "."}, None),  # "1,5" with a decimal point is not a number
    ],
)
def test_overrides_win_over_detection(kwargs, values):
    raw = monthly([f"{i},5" for i in range(1, 13)], sep=";").encode()
    table = read_csv(raw, **kwargs)
    assert table.sep == ";"
    if values is None:
        with pytest.raises(NonNumericError, match="decimal mark"):
            to_series(table, target="value")
    else:
        np.testing.assert_allclose(to_series(table).values[:2], values)


def test_tab_alias_and_encoding_override():
    raw = monthly(TWELVE, sep="\t", header=("date", "café")).encode("latin-1")
    table = read_csv(raw, sep="\\t", encoding="latin-1")
    assert table.sep == "\t" and table.encoding == "latin-1"
    assert table.numeric_candidates == ["café"]
    assert not any("Latin-1" in note for note in table.notes)  # chosen, not guessed


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"sep": "ab"}, ["delimiter", "'ab'"]),
        ({"sep": ""}, ["delimiter"]),
        ({"decimal": ";"}, ["decimal mark", "';'"]),
        ({"sep": ",", "decimal": ","}, ["cannot both be"]),
        ({"encoding": "klingon"}, ["Unknown text encoding", "klingon"]),
    ],
)
def test_bad_overrides_are_config_errors(kwargs, words):
    with pytest.raises(ConfigError) as caught:
        read_csv(monthly(TWELVE).encode(), **kwargs)
    for word in words:
        assert word in str(caught.value)


def test_wrong_encoding_override_says_what_to_do():
    raw = monthly(TWELVE, header=("date", "température")).encode("latin-1")
    with pytest.raises(EncodingError, match="not valid utf-8.*latin-1"):
        read_csv(raw, encoding="utf-8")


# ----------------------------------------------------------------------------- sources


def test_reads_path_str_bytes_and_file_objects(tmp_path):
    text = monthly(TWELVE)
    path = tmp_path / "sales.csv"
    path.write_text(text)

    class Upload(io.BytesIO):  # Streamlit's UploadedFile: a BytesIO with a name
        name = "sales.csv"

    class Readable:
        def read(self, size=-1):
            return text.encode()

    for source in (path, str(path), text.encode(), bytearray(text.encode()), Upload(text.encode()),
                   Readable(), io.StringIO(text)):
        series = load_series(source)
        np.testing.assert_allclose(series.values, np.arange(1, 13))


def test_missing_path_and_folder_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="No file found at .*nope.csv"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(InputError, match="is a folder"):
        read_csv(tmp_path)


def test_unreadable_source_type():
    with pytest.raises(InputError, match="Cannot read data from a int"):
        read_csv(42)


def test_size_and_row_limits(tmp_path):
    raw = monthly([str(i) for i in range(100)]).encode()
    with pytest.raises(FileTooLargeError, match=r"is 1.\d kB; the limit is 100 bytes.*Keep only"):
        read_csv(raw, max_bytes=100)
    path = tmp_path / "big.csv"
    path.write_bytes(raw)
    with pytest.raises(FileTooLargeError, match="'big.csv'"):
        read_csv(path, max_bytes=100)
    with pytest.raises(FileTooLargeError, match="has 100 rows; the limit is 50"):
        read_csv(raw, max_rows=50)


# ----------------------------------------------------------------------------- time columns

TIME_CASES = [
    ("iso-dates", ["2021-03-01", "2021-03-02", "2021-03-03"], "D", "2021-03-01"),
    ("month-strings", ["1949-01", "1949-02", "1949-03"], "MS", "1949-01-01"),
    ("m/d/yyyy", ["1/1/1981", "1/2/1981", "1/3/1981"], "D", "1981-01-01"),
    ("d.m.yyyy", ["13.01.2020", "14.01.2020", "15.01.2020"], "D", "2020-01-13"),
    ("plain-years", ["1749", "1750", "1751"], "YS", "1749-01-01"),
    ("year-floats", ["1700.0", "1701.0", "1702.0"], "YS", "1700-01-01"),
    ("quarters", ["1990Q1", "1990Q2", "1990Q3"], "QS-JAN", "1990-01-01"),
    ("quarters-dash", ["1990-Q3", "1990-Q4", "1991-Q1"], "QS-JAN", "1990-07-01"),
    ("month-names", ["Jan 2020", "Feb 2020", "Mar 2020"], "MS", "2020-01-01"),
    ("yyyymm", ["202001", "202002", "202003"], "MS", "2020-01-01"),
    ("hours", ["2020-01-01 00:00", "2020-01-01 01:00", "2020-01-01 02:00"], "h", "2020-01-01"),
    ("sundays", ["2024-01-07", "2024-01-14", "2024-01-21"], "W-SUN", "2024-01-07"),
    ("iso-with-zone", ["2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z", "2020-01-03T00:00:00Z"],
     "D", "2020-01-01"),
]


@pytest.mark.parametrize(
    ("cells", "freq", "start"),
    [case[1:] for case in TIME_CASES],
    ids=[case[0] for case in TIME_CASES],
)
def test_time_column_formats(cells, freq, start):
    extra = _more_cells(cells, 10)
    lines = ["when,amount"] + [f"{c},{i * 1.5 + (i % 3)}" for i, c in enumerate(cells + extra)]
    table = read_csv("\n".join(lines).encode())
    assert table.date_candidates == ["when"]
    assert table.numeric_candidates == ["amount"]
    series = to_series(table)
    assert series.freq == freq
    assert series.time[0] == pd.Timestamp(start)
    assert len(series) == 13
    assert series.notes == ()
    assert isinstance(series.time, pd.DatetimeIndex) and series.time.freq is not None


def _more_cells(cells: list[str], n: int) -> list[str]:
    """Continue a column of time cells by n more, written the same way as the examples."""
    first = cells[0]
    if first.endswith(".0"):
        return [f"{int(float(cells[-1])) + k}.0" for k in range(1, n + 1)]
    if first.isdigit() and len(first) == 4:
        return [str(int(cells[-1]) + k) for k in range(1, n + 1)]
    if first.isdigit() and len(first) == 6:
        months = pd.period_range(pd.Period(f"{cells[-1][:4]}-{cells[-1][4:]}", "M") + 1, periods=n)
        return [m.strftime("%Y%m") for m in months]
    if "Q" in first:
        quarters = pd.period_range(pd.Period(cells[-1].replace("-", ""), "Q") + 1, periods=n)
        sep = "-" if "-Q" in first else ""
        return [f"{q.year}{sep}Q{q.quarter}" for q in quarters]
    if first[:3].isalpha():
        months = pd.period_range(pd.Period(cells[-1], "M") + 1, periods=n)
        return [m.strftime("%b %Y") for m in months]
    if "/" in first:
        days = pd.date_range(pd.Timestamp(cells[-1]) + pd.Timedelta(days=1), periods=n)
        return [f"{d.month}/{d.day}/{d.year}" for d in days]
    if first.count(".") == 2:
        days = pd.date_range(pd.to_datetime(cells[-1], format="%d.%m.%Y"), periods=n + 1)[1:]
        return [d.strftime("%d.%m.%Y") for d in days]
    if first.endswith("Z"):
        days = pd.date_range(cells[-1][:10], periods=n + 1)[1:]
        return [d.strftime("%Y-%m-%dT%H:%M:%SZ") for d in days]
    if ":" in first:
        hours = pd.date_range(cells[-1], periods=n + 1, freq="h")[1:]
        return [h.strftime("%Y-%m-%d %H:%M") for h in hours]
    if len(first) == 7:
        months = pd.period_range(pd.Period(cells[-1], "M") + 1, periods=n)
        return [m.strftime("%Y-%m") for m in months]
    step = pd.Timestamp(cells[1]) - pd.Timestamp(cells[0])
    stamps = [pd.Timestamp(cells[-1]) + step * k for k in range(1, n + 1)]
    return [s.strftime("%Y-%m-%d") for s in stamps]


def test_day_first_dates_are_recognised_when_days_exceed_twelve():
    days = pd.date_range("2020-01-01", periods=20)
    text = "datum;wert\n" + "\n".join(f"{d:%d/%m/%Y};{i}" for i, d in enumerate(days))
    series = load_series(text.encode())
    assert series.time[0] == pd.Timestamp("2020-01-01") and series.freq == "D"
    np.testing.assert_allclose(series.values, np.arange(20))


def test_month_end_dates_are_aligned_to_month_starts_with_a_note():
    ends = pd.date_range("2020-01-31", periods=12, freq="ME")
    text = "date,value\n" + "\n".join(f"{d.date()},{i}" for i, d in enumerate(ends))
    series = load_series(text.encode())
    assert series.freq == "MS" and series.time[0] == pd.Timestamp("2020-01-01")
    assert "12 time(s) were moved to the first day of their month." in series.notes


def test_business_days():
    days = pd.bdate_range("2020-01-01", periods=30)
    text = "date,close\n" + "\n".join(f"{d.date()},{i}" for i, d in enumerate(days))
    series = load_series(text.encode())
    assert series.freq == "B" and series.season == 5 and len(series) == 30


def test_no_time_column_uses_row_order():
    series = load_series(("reading\n" + "\n".join(str(i * i) for i in range(12))).encode())
    assert isinstance(series.time, pd.RangeIndex) and series.freq is None and series.season == 1
    assert series.date_col is None
    assert any("file order" in note for note in series.notes)


def test_irregular_times_are_kept_in_order_without_filling():
    stamps = pd.to_datetime(["2020-01-01", "2020-01-04", "2020-01-05", "2020-01-17", "2020-02-03",
                             "2020-02-11", "2020-03-30", "2020-04-02", "2020-06-01", "2020-06-09",
                             "2020-07-01", "2020-09-14"])
    text = "date,value\n" + "\n".join(f"{d.date()},{i}" for i, d in enumerate(stamps))
    series = load_series(text.encode())
    assert series.freq is None and series.season == 1 and len(series) == 12 and series.filled == 0
    assert any("irregular" in note for note in series.notes)


def test_headerless_file_gets_numbered_columns():
    text = "\n".join(f"2020-{m:02d},{m}" for m in range(1, 13))
    table = read_csv(text.encode())
    assert list(table.frame.columns) == ["column_1", "column_2"]
    assert to_series(table).values[0] == 1  # the first line is data, not lost
    assert any("numbered" in note for note in table.notes)


def test_lines_before_the_header_are_skipped():
    text = "Source: statistics office\nUnits: tonnes\n\n" + monthly(TWELVE)
    table = read_csv(text.encode())
    assert list(table.frame.columns) == ["date", "value"]
    assert any("Skipped 2 line(s)" in note for note in table.notes)


# ----------------------------------------------------------------------------- choosing columns


def test_target_pick_skips_id_and_time_columns():
    rows = [f"{i},{1990 + i},{i * 7 % 5},x{i}" for i in range(1, 13)]
    table = read_csv(("id,year,sales,label\n" + "\n".join(rows)).encode())
    assert table.date_candidates == ["year"]
    assert table.numeric_candidates == ["sales", "id"]
    series = to_series(table)
    assert (series.name, series.date_col, series.freq) == ("sales", "year", "YS")


def test_unnamed_counter_column_is_not_the_target():
    rows = [f"{i},2020-{i + 1:02d},{(i * 5) % 7}" for i in range(12)]
    table = read_csv((",month,sales\n" + "\n".join(rows)).encode())
    assert table.numeric_candidates == ["sales", "column_1"]


def test_column_names_match_ignoring_case_and_spaces():
    series = load_series(monthly(TWELVE, header=("Date", " Value ")).encode(), target="value",
                         date_col="DATE")
    assert (series.name, series.date_col) == ("Value", "Date")  # names are read stripped


def test_target_and_time_column_can_be_chosen():
    rows = [f"2020-{m:02d},2021-{m:02d},{m},{m * m}" for m in range(1, 13)]
    table = read_csv(("start,end,a,b\n" + "\n".join(rows)).encode())
    series = to_series(table, target="b", date_col="end")
    assert series.time[0] == pd.Timestamp("2021-01-01") and series.values[2] == 9


# ----------------------------------------------------------------------------- cleaning


def test_duplicates_are_averaged_with_a_note():
    days = ["2020-01-01", "2020-01-02", "2020-01-02", "2020-01-02"] + [
        f"2020-01-{d:02d}" for d in range(3, 12)
    ]
    values = [1, 2, 4, 9] + list(range(3, 12))
    text = "date,value\n" + "\n".join(f"{d},{v}" for d, v in zip(days, values, strict=True))
    series = load_series(text.encode())
    assert series.values[1] == 5  # mean of 2, 4, 9
    assert len(series) == 11
    assert "2 duplicate time(s) were found; values at the same time were averaged." in series.notes


def test_unsorted_rows_are_sorted():
    order = [3, 1, 2] + list(range(4, 13))
    text = "date,value\n" + "\n".join(f"2020-{m:02d},{m}" for m in order)
    series = load_series(text.encode())
    np.testing.assert_allclose(series.values, np.arange(1, 13))
    assert any("sorted by time" in note for note in series.notes)


GAPPY = monthly(["1", "NA", "3", "4", "", "-"] + [str(i) for i in range(7, 15)])
GAPPY_GRID = "date,value\n" + "\n".join(
    f"2020-01-{d:02d},{d}" for d in (1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12, 14)
)


@pytest.mark.parametrize(
    ("text", "missing", "values", "filled", "note"),
    [
        (GAPPY, "interpolate", [1, 2, 3, 4, 5, 6, 7], 3, "3 missing value(s) were filled by linear"),
        (GAPPY, "ffill", [1, 1, 3, 4, 4, 4, 7], 3, "previous value"),
        (GAPPY, "zero", [1, 0, 3, 4, 0, 0, 7], 3, "set to 0"),
        (GAPPY, "drop", [1, 3, 4, 7, 8, 9, 10], 0, "dropped"),
        (GAPPY_GRID, "interpolate", [1, 2, 3, 4, 5, 6], 2,
         "2 gap(s) in the daily time grid were filled"),
        (GAPPY_GRID, "zero", [1, 2, 3, 0, 5, 6], 2, "set to 0"),
    ],
)
def test_missing_value_policies(text, missing, values, filled, note):
    series = load_series(text.encode(), missing=missing)
    np.testing.assert_allclose(series.values[: len(values)], values)
    assert series.filled == filled and series.missing == missing
    assert any(note in n for n in series.notes), series.notes
    assert np.all(np.isfinite(series.values))


def test_drop_policy_leaves_holes_in_time():
    series = load_series(GAPPY.encode(), missing="drop")
    assert len(series) == 11 and series.time[1] == pd.Timestamp("2020-03-01")


def test_missing_values_at_the_ends_are_dropped():
    values = ["", "NA"] + [str(i) for i in range(3, 14)] + ["n/a"]
    series = load_series(monthly(values).encode())
    assert series.time[0] == pd.Timestamp("2020-03-01") and len(series) == 11
    assert any("2 at the start and 1 at the end" in note for note in series.notes)


def test_a_few_unreadable_values_become_missing_with_their_lines():
    values = [str(i) for i in range(1, 31)]
    values[4] = "?5"
    series = load_series(monthly(values).encode())
    assert series.values[4] == 5  # interpolated between 4 and 6
    assert any("'?5'" in note and "line(s) 6" in note for note in series.notes)


def test_unreadable_times_are_left_out_with_a_note():
    text = monthly(TWELVE) + "someday,99\n"
    series = load_series(text.encode())
    assert len(series) == 12 and 99 not in series.values
    assert any("'someday'" in note for note in series.notes)


# ----------------------------------------------------------------------------- wide tables

MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def test_wide_monthly_table_is_reshaped():
    header = "Year," + ",".join(MONTH_NAMES) + ",Total"
    rows = [f"{y}," + ",".join(str(100 * (y - 2000) + m) for m in range(1, 13)) + ",0"
            for y in (2002, 2000, 2001)]
    table = read_csv((header + "\n" + "\n".join(rows)).encode())
    assert list(table.frame.columns) == ["month", "value"]
    assert any(note.startswith("Wide table reshaped") and "'Total'" in note for note in table.notes)
    series = to_series(table)
    assert series.freq == "MS" and len(series) == 36
    np.testing.assert_allclose(series.values[:3], [1, 2, 3])
    np.testing.assert_allclose(series.values[12:14], [101, 102])
    assert series.time[-1] == pd.Timestamp("2002-12-01")


def test_wide_quarterly_table_with_full_month_names_style():
    header = "year;Q1;Q2;Q3;Q4"
    rows = [f"{y};" + ";".join(f"{y - 1990},{q}" for q in range(1, 5)) for y in (1990, 1991, 1992)]
    series = load_series((header + "\n" + "\n".join(rows)).encode())
    assert series.freq == "QS-JAN" and series.season == 4
    np.testing.assert_allclose(series.values[:5], [0.1, 0.2, 0.3, 0.4, 1.1])


WIDE_BAD = [
    ("partial-months", "Year,Jan,Feb,Mar\n" + "\n".join(f"{y},1,2,3" for y in range(2000, 2012)),
     ["one column per month", "'Jan', 'Feb', 'Mar'", "Apr", "missing", "date and value"]),
    ("no-year", ",".join(MONTH_NAMES) + "\n" + ",".join(["1"] * 12),
     ["no year column", "Add a column of years"]),
    ("repeated-years",
     "region,year," + ",".join(MONTH_NAMES) + "\n"
     + "\n".join(f"{r},2000," + ",".join(["1"] * 12) for r in ("north", "south")),
     ["more than one row", "2000", "several series"]),
]


@pytest.mark.parametrize(("text", "words"), [c[1:] for c in WIDE_BAD], ids=[c[0] for c in WIDE_BAD])
def test_wide_tables_that_cannot_be_reshaped_are_refused(text, words):
    with pytest.raises(WideTableError) as caught:
        load_series(text.encode())
    for word in words:
        assert word in str(caught.value)


# ----------------------------------------------------------------------------- bad input

BAD_INPUTS = [
    ("empty", b"", {}, EmptyFileError, ["empty"]),
    ("blank-lines", b"\n  \n\r\n", {}, EmptyFileError, ["empty"]),
    ("binary", bytes(range(256)) * 8, {}, BinaryFileError, ["not look like a text file"]),
    ("xlsx", b"PK\x03\x04" + bytes(200), {}, BinaryFileError, ["Excel", "damaged", "export the sheet as CSV"]),
    ("pdf", b"%PDF-1.7\n" + bytes(50), {}, BinaryFileError, ["PDF"]),
    ("zeros", bytes(1000), {}, EmptyFileError, ["empty"]),
    ("header-only", b"date,value\n", {}, HeaderOnlyError, ["'date', 'value'", "no data rows"]),
    ("header-only-crlf", b"date;value\r\n\r\n", {}, HeaderOnlyError, ["no data rows"]),
    ("unknown-target", monthly(TWELVE).encode(), {"target": "sales"}, ColumnNotFoundError,
     ["'sales'", "'date', 'value'"]),
    ("unknown-date-col", monthly(TWELVE).encode(), {"date_col": "when"}, ColumnNotFoundError,
     ["'when'", "time", "'date', 'value'"]),
    ("same-column", monthly(TWELVE).encode(), {"target": "value", "date_col": "value"},
     InputError, ["both 'value'"]),
    ("non-numeric-target", monthly([f"n{i}" for i in range(12)]).encode(), {"target": "value"},
     NonNumericError, ["'value'", "12 of 12", "'n0'", "line(s) 2, 3"]),
    ("no-numeric-column", monthly([f"n{i}" for i in range(12)]).encode(), {}, NonNumericError,
     ["No column of numbers", "'date', 'value'", "'n0'"]),
    ("all-missing", monthly(["NA"] * 12).encode(), {"target": "value"}, NonNumericError,
     ["empty", "12 values are missing"]),
    ("constant", monthly(["5"] * 12).encode(), {}, ConstantSeriesError, ["Every value", "5"]),
    ("too-few", monthly(["1", "2", "3", "4", "5"]).encode(), {}, TooFewRowsError,
     ["only 5", "at least 10"]),
    ("too-few-after-missing", monthly(["1", "2", "3"] + ["NA"] * 9 + ["4"]).encode(),
     {"missing": "drop"}, TooFewRowsError, ["only 4"]),
    ("ragged", ("date,value\n" + "\n".join(f"2020-{m:02d},1,{m}00" for m in range(1, 13))).encode(),
     {}, MalformedFileError, ["more values than the header's 2", "line 2 has 3", "quotes"]),
    ("bad-date-col", ("when,value\n" + "\n".join(f"w{m},{m}" for m in range(1, 13))).encode(),
     {"date_col": "when"}, DateColumnError, ["'when'", "'w1'", "2024-01-31"]),
    ("unclosed-quote-huge-field", b'date,value\n2020-01,"' + b"x" * 200_000 + b"\n", {},
     MalformedFileError, ["unclosed quote"]),
    ("bad-missing-policy", monthly(TWELVE).encode(), {"missing": "guess"}, ConfigError,
     ["'guess'", "interpolate"]),
]


@pytest.mark.parametrize(
    ("raw", "kwargs", "error", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_bad_input_raises_typed_error_with_useful_words(raw, kwargs, error, words):
    with pytest.raises(error) as caught:
        load_series(raw, **kwargs)
    message = str(caught.value)
    for word in words:
        assert word in message, message
    assert "Traceback" not in message


def test_errors_are_input_errors():
    for name in data.__all__:
        thing = getattr(data, name)
        if isinstance(thing, type) and issubclass(thing, Exception):
            assert issubclass(thing, InputError), name


# ----------------------------------------------------------------------------- results


@pytest.mark.parametrize(
    ("freq", "season"),
    [("MS", 12), ("ME", 12), ("QS-JAN", 4), ("QS", 4), ("W-SUN", 52), ("W-MON", 52), ("D", 7),
     ("B", 5), ("YS", 1), ("YS-JAN", 1), ("h", 24), ("2h", 12), ("30min", 48), ("min", 60),
     ("2D", 1), ("7h", 1), (None, 1), ("nonsense", 1)],
)
def test_season_for(freq, season):
    assert season_for(freq) == season


def test_series_contract():
    series = load_series(monthly(TWELVE).encode())
    assert series.values.dtype == np.float64 and len(series) == 12
    assert series.time.freq == "MS" and series.season == 12
    with pytest.raises(ValueError):
        series.values[0] = 99.0  # shared between callers: read-only
    frame = series.to_frame()
    assert list(frame.columns) == ["time", "value"]
    assert frame["time"].iloc[0] == pd.Timestamp("2020-01-01") and frame["value"].iloc[-1] == 12


def test_describe():
    facts = describe(load_series(GAPPY.encode()))
    assert facts["length"] == 14 and facts["freq"] == "MS" and facts["frequency"] == "monthly"
    assert facts["start"] == pd.Timestamp("2020-01-01") and facts["end"] == pd.Timestamp("2021-02-01")
    assert (facts["min"], facts["max"], facts["mean"]) == (1.0, 14.0, 7.5)
    assert facts["missing_filled"] == 3 and facts["season"] == 12


def test_frame_has_numbers_as_floats_and_other_columns_as_text():
    table = read_csv(monthly([f"{i},5" for i in range(12)], sep=";").encode())
    assert table.frame["value"].dtype == np.float64
    assert table.frame["date"].iloc[0] == "2020-01"


# ----------------------------------------------------------------------------- bundled samples

SAMPLE_FILES = [
    ("air_passengers.csv", "passengers", "month", "MS", 144, 112.0, 432.0),
    ("australian_beer.csv", "megalitres", "quarter", "QS-JAN", 211, 284.0, 410.0),
    ("lynx.csv", "trappings", "year", "YS", 114, 269.0, 3396.0),
    ("synthetic.csv", "sales", "week", "W-SUN", 416, None, None),
]


@pytest.mark.parametrize(("name", "target", "date_col", "freq", "length", "first", "last"),
                         SAMPLE_FILES)
def test_sample_data_loads_with_no_options(name, target, date_col, freq, length, first, last):
    series = load_series(SAMPLES / name)
    assert (series.name, series.date_col, series.freq, len(series)) == (target, date_col, freq,
                                                                         length)
    if first is not None:
        assert (series.values[0], series.values[-1]) == (first, last)
        assert series.filled == 0


def test_synthetic_sample_is_reproducible(tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_synthetic", SAMPLES / "make_synthetic.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "synthetic.csv"
    module.make_synthetic().to_csv(path, index=False)
    assert path.read_bytes() == (SAMPLES / "synthetic.csv").read_bytes()
    series = load_series(path)
    assert series.filled == module.MISSING and series.season == 52


# ----------------------------------------------------------------------------- more real-world spellings

MORE_TIMES = [
    ("utc-offsets-keep-wall-clock",
     [f"2020-03-{d:02d}T00:00:00{'+01:00' if d < 8 else '+02:00'}" for d in range(1, 15)],
     "D", "2020-03-01"),
    ("zulu", [f"2020-03-{d:02d} 00:00:00Z" for d in range(1, 15)], "D", "2020-03-01"),
    ("iso-weeks", [f"2020-W{w:02d}" for w in range(1, 15)], "W-MON", "2019-12-30"),
    ("r-decimal-months", [f"{1949 + i / 12:.3f}" for i in range(14)], "MS", "1949-01-01"),
    ("r-decimal-quarters", [f"{1990 + i / 4}" for i in range(14)], "QS-JAN", "1990-01-01"),
    ("quarters-colon", [f"{1990 + i // 4}:Q{i % 4 + 1}" for i in range(14)], "QS-JAN",
     "1990-01-01"),
    ("quarters-first", [f"Q{i % 4 + 1} {1990 + i // 4}" for i in range(14)], "QS-JAN",
     "1990-01-01"),
    ("yyyymmdd", [f"202001{d:02d}" for d in range(1, 15)], "D", "2020-01-01"),
]


@pytest.mark.parametrize(("cells", "freq", "start"), [c[1:] for c in MORE_TIMES],
                         ids=[c[0] for c in MORE_TIMES])
def test_more_time_spellings(cells, freq, start):
    text = "time,reading\n" + "\n".join(f"{c},{i * 1.5 + i % 3}" for i, c in enumerate(cells))
    table = read_csv(text.encode())
    assert table.date_candidates == ["time"] and table.numeric_candidates == ["reading"]
    series = to_series(table)
    assert (series.freq, series.time[0], len(series)) == (freq, pd.Timestamp(start), 14)
    np.testing.assert_allclose(series.values[:3], [0, 2.5, 5])


def test_r_export_with_row_names_and_decimal_years():
    text = '"","time","value"\n' + "\n".join(
        f'"{i + 1}",{1949 + i / 12:.3f},{100 + i * (i % 5)}' for i in range(30)
    )
    series = load_series(text.encode())
    assert (series.name, series.date_col, series.freq) == ("value", "time", "MS")


def test_excel_sep_line_names_the_delimiter():
    text = "sep=;\nDate;Value\n" + "\n".join(f"2020-{m:02d}-01;{m},5" for m in range(1, 13))
    table = read_csv(text.encode())
    assert (table.sep, table.decimal, list(table.frame.columns)) == (";", ",", ["Date", "Value"])


def test_a_few_off_grid_times_are_snapped_to_the_step():
    days = list(pd.date_range("2020-01-01", periods=20))
    days[5] = days[5] + pd.Timedelta(hours=9)  # one reading taken late in the day
    text = "when,value\n" + "\n".join(f"{d:%Y-%m-%d %H:%M},{i}" for i, d in enumerate(days))
    series = load_series(text.encode())
    assert series.freq == "D" and len(series) == 20 and series.time[5] == pd.Timestamp("2020-01-06")
    assert any("1 time(s) were moved to the nearest step" in note for note in series.notes)


def test_unexpected_failures_become_plain_input_errors(monkeypatch):
    def broken(*args):
        raise ValueError("boom")

    monkeypatch.setattr(readers, "_detect_decimal", broken)
    with pytest.raises(data.UnreadableFileError, match=r"could not be read \(ValueError: boom\)"):
        read_csv(monthly(TWELVE).encode())


def test_gaps_and_missing_values_are_counted_apart():
    months = [m for m in pd.period_range("2020-01", periods=16, freq="M") if str(m) != "2020-05"]
    cells = [str(i) for i in range(1, 16)]
    cells[2] = "NA"
    cells[-1] = ""  # trailing: dropped, not invented
    text = "month,value\n" + "\n".join(f"{m},{c}" for m, c in zip(months, cells, strict=True))
    series = load_series(text.encode())
    assert series.filled == 2 and len(series) == 15
    assert ("1 missing value(s) and 1 gap(s) in the monthly time grid were filled by linear "
            "interpolation.") in series.notes
    assert "Missing values 1 at the end of the series were dropped (nothing to fill from)." in (
        series.notes
    )


def test_first_numeric_column_is_the_default_target_even_if_it_counts_up():
    text = "date,temp,rain\n" + "\n".join(f"2020-{m:02d},{m},{m * 2}" for m in range(1, 13))
    table = read_csv(text.encode())
    assert table.numeric_candidates == ["temp", "rain"]


def test_spaces_around_quoted_names_and_cells():
    text = ' "Date" , "Sales (USD)" \n' + "\n".join(
        f'2020-{m:02d}, "1,{m:03d}.5"' for m in range(1, 13)
    )
    series = load_series(text.encode())
    assert (series.name, series.date_col) == ("Sales (USD)", "Date")
    assert series.values[0] == 1001.5


def test_old_mac_line_endings():
    text = "date,value\r" + "\r".join(f"2020-{m:02d},{m}" for m in range(1, 13))
    np.testing.assert_allclose(load_series(text.encode()).values, np.arange(1, 13))


MONTH_ABBREVIATIONS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                       "Dec"]


@pytest.mark.parametrize(
    ("header", "period", "freq"),
    [
        ("Year,Month,Sales", lambda i: str(i % 12 + 1), "MS"),
        ("year,month,sales", lambda i: MONTH_ABBREVIATIONS[i % 12], "MS"),
        ("Year,Quarter,Sales", lambda i: f"Q{i % 4 + 1}", "QS-JAN"),
        ("Jahr,Quartal,Umsatz", lambda i: str(i % 4 + 1), "QS-JAN"),
    ],
)
def test_year_and_month_or_quarter_columns_are_combined(header, period, freq):
    per_year = 12 if freq == "MS" else 4
    rows = [f"{2000 + i // per_year},{period(i)},{i * 3 % 7}" for i in range(30)]
    table = read_csv((header + "\n" + "\n".join(rows)).encode())
    assert table.date_candidates[0] == "date"
    assert table.numeric_candidates == [header.split(",")[2]]
    series = to_series(table)
    assert (series.freq, series.date_col, len(series)) == (freq, "date", 30)
    np.testing.assert_allclose(series.values[:3], [0, 3, 6])
    assert any("were combined into one date column 'date'" in note for note in series.notes)


def test_windows_1252_euro_signs_are_read_as_currency():
    text = monthly([f"{i},50 €" for i in range(1, 13)], sep=";", header=("Monat", "Preis"))
    table = read_csv(text.encode("cp1252"))
    assert table.encoding == "latin-1" and table.decimal == ","
    np.testing.assert_allclose(to_series(table).values[:2], [1.5, 2.5])


@pytest.mark.parametrize(
    ("fmt", "periods"),
    [("%d/%m/%Y", 12), ("%d/%m/%Y", 36), ("%m/%d/%Y", 12), ("%m/%d/%Y", 36), ("%d.%m.%Y", 12)],
)
def test_ambiguous_day_month_order_prefers_the_monthly_reading(fmt, periods):
    months = pd.date_range("2020-01-01", periods=periods, freq="MS")
    text = "date;value\n" + "\n".join(f"{m.strftime(fmt)};{i}" for i, m in enumerate(months))
    series = load_series(text.encode())
    assert series.freq == "MS" and len(series) == periods
    assert series.time[-1] == months[-1]


def test_date_and_time_of_day_columns_are_combined():
    stamps = pd.date_range("2020-03-01", periods=48, freq="h")
    text = "Date,Time,Load\n" + "\n".join(
        f"{t:%Y-%m-%d},{t:%H:%M},{i % 5}" for i, t in enumerate(stamps)
    )
    table = read_csv(text.encode())
    assert table.date_candidates[0] == "datetime" and "Time" not in table.date_candidates
    series = to_series(table)
    assert (series.freq, series.season, len(series)) == ("h", 24, 48)
    assert series.time[-1] == stamps[-1]


def test_statistics_office_layout_with_notes_year_and_period_codes():
    lines = ["Series Id:           LNS14000000Q", "", "Seasonally Adjusted",
             "Series title:        (Seas) Unemployment Rate", "", "Series id,Year,Period,Value,"]
    lines += [f"LNS14000000Q,{1959 + i // 4},Q0{i % 4 + 1},{5 + i % 3}.{i % 10}" for i in range(36)]
    lines.insert(10, "LNS14000000Q,1960,Q05,99.5")  # a yearly average row: not a quarter
    series = load_series("\n".join(lines).encode())
    assert (series.freq, series.date_col, series.name) == ("QS-JAN", "date", "Value")
    assert len(series) == 36 and series.time[-1] == pd.Timestamp("1967-10-01")
    assert 99.5 not in series.values
    assert any("1 row(s) had no time and were left out" in note for note in series.notes)


def test_many_repeated_times_suggest_several_series():
    rows = [f"2020-{m:02d},{region},{m * k}" for m in range(1, 13)
            for k, region in ((1, "north"), (3, "south"))]
    series = load_series(("month,region,sales\n" + "\n".join(rows)).encode())
    assert series.values[0] == 2  # mean of 1 and 3
    assert any("may hold several series" in note for note in series.notes)


def test_r_row_names_without_a_header_cell():
    text = '"month","sales"\n' + "\n".join(f'"{i + 1}","2020-{i + 1:02d}",{i * 7 % 5}'
                                         for i in range(12))
    table = read_csv(text.encode())
    assert list(table.frame.columns) == ["row_name", "month", "sales"]
    assert table.numeric_candidates[0] == "sales"
    assert to_series(table).freq == "MS"


@pytest.mark.parametrize(
    ("text", "error", "words"),
    [
        ("a,b,c\n1,2,3\n", TooFewRowsError, ["only 1 data row(s)"]),
        (",".join(str(i) for i in range(50)) + "\n", TooFewRowsError,
         ["single line of 50 value(s)", "its own line"]),
        ("x y\n" + "\n".join(f"{i}.5 {i}" for i in range(20)), NonNumericError,
         ["separated by spaces", "save the file as CSV"]),
    ],
    ids=["one-row", "one-line-of-values", "space-separated"],
)
def test_layouts_we_cannot_read_say_how_to_fix_them(text, error, words):
    with pytest.raises(error) as caught:
        load_series(text.encode())
    for word in words:
        assert word in str(caught.value)


def test_two_digit_years_in_the_future_are_last_century():
    months = pd.date_range("1949-01-01", periods=144, freq="MS")
    text = "Month,Passengers\n" + "\n".join(f"{m:%b-%y},{100 + i}" for i, m in enumerate(months))
    series = load_series(text.encode())
    assert series.time[0] == pd.Timestamp("1949-01-01")
    assert series.time[-1] == pd.Timestamp("1960-12-01")
    assert series.freq == "MS" and len(series) == 144


def test_csv_text_passed_as_a_path_is_explained():
    with pytest.raises(InputError, match=r"Received text \('date,value'...\) where a file path"):
        read_csv(monthly(TWELVE))
