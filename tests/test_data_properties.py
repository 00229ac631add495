"""core.data under random input: the only exception that ever escapes is an InputError (issue 7).

Also a round trip: any well-formed series written with any delimiter, decimal mark and encoding
is read back exactly, with no options given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.data import MAX_ABS, UnreadableFileError, load_series, read_csv, to_series
from core.errors import InputError

# database=None: no .hypothesis folder in the checkout; failures print their example instead.
SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)

SEPARATORS = [",", ";", "\t", "|"]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "latin-1"]

# Cells that real files contain: numbers in many spellings, dates, missing markers, junk.
CELL = st.one_of(
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.floats(min_value=-1e308, max_value=1e308).map(lambda x: f"{x:.6e}"),
    st.sampled_from(["", "NA", "-", "n/a", "null", "?", "1.234,5", "1,234.5", "12,5", "$1,000",
                     "45%", "(12)", "1e999", "-1e999", "9" * 400, "1 000", "\u20ac3", "\u2212 4"]),
    st.sampled_from(["2020-01", "2020-01-31", "1/2/1981", "1749", "1700.0", "1990Q1", "Jan 2020",
                     "31.12.1999", "2020-13-45", "0000-00-00", "9999-12-31", "1066", "20200131"]),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12),
)


def _check_outcome(call) -> None:
    """Either a usable series or an InputError with a message; nothing else may escape."""
    try:
        series = call()
    except InputError as error:
        assert str(error).strip(), f"{type(error).__name__} with an empty message"
        # The safety net for unforeseen errors must never be what catches random input.
        assert not isinstance(error, UnreadableFileError), str(error)
        return
    assert len(series) >= 10
    assert series.values.dtype == np.float64
    assert np.all(np.isfinite(series.values))
    assert series.values.max() > series.values.min()
    assert np.abs(series.values).max() <= MAX_ABS
    assert len(series.time) == len(series.values)
    assert series.season >= 1


@SETTINGS
@given(st.binary(max_size=3000))
def test_random_bytes_raise_only_input_errors(raw):
    _check_outcome(lambda: load_series(raw))


@SETTINGS
@given(
    rows=st.lists(st.lists(CELL, min_size=1, max_size=5), min_size=0, max_size=30),
    sep=st.sampled_from(SEPARATORS),
    encoding=st.sampled_from(ENCODINGS),
    header=st.booleans(),
    quote=st.booleans(),
    give_sep=st.booleans(),
    decimal=st.sampled_from([None, ".", ","]),
    read_as=st.sampled_from([None, None, "utf-8", "utf-16", "latin-1"]),
    missing=st.sampled_from(["interpolate", "ffill", "zero", "drop"]),
    target=st.sampled_from([None, None, "value", "other", "date", "column_2", "nope"]),
)
def test_random_ragged_tables_raise_only_input_errors(
    rows, sep, encoding, header, quote, give_sep, decimal, read_as, missing, target
):
    def cell(text: str) -> str:
        return '"' + text.replace('"', '""') + '"' if quote else text

    lines = [sep.join(cell(c) for c in row) for row in rows]
    if header:
        lines.insert(0, sep.join(["date", "value", "other"]))
    raw = "\n".join(lines).encode(encoding, errors="replace")
    override = {"sep": sep if give_sep else None, "encoding": read_as, "missing": missing,
                "target": target}
    if decimal != sep:
        override["decimal"] = decimal
    _check_outcome(lambda: load_series(raw, **override))


@SETTINGS
@given(
    numbers=st.lists(st.floats(-1e6, 1e6).map(lambda x: round(x, 2)), min_size=13, max_size=60),
    holes=st.sets(st.integers(1, 11), max_size=3),
    sep=st.sampled_from(SEPARATORS),
    comma=st.booleans(),
    encoding=st.sampled_from(ENCODINGS),
    start=st.integers(1700, 2200),
    kind=st.sampled_from(["month", "day", "year"]),
)
def test_written_series_reads_back_exactly(numbers, holes, sep, comma, encoding, start, kind):
    if numbers[0] == numbers[-1]:
        numbers[-1] += 1.0  # never constant
    values: list[float | None] = [None if i in holes else v for i, v in enumerate(numbers)]
    if comma and sep == ",":
        sep = ";"
    if kind == "month":
        times = [str(p) for p in pd.period_range(f"{start}-01", periods=len(values), freq="M")]
        freq = "MS"
    elif kind == "day":
        times = [d.strftime("%Y-%m-%d") for d in pd.date_range(f"{start}-03-01", periods=len(values))]
        freq = "D"
    else:
        times = [str(start + i) for i in range(len(values))]
        freq = "YS"

    def spell(value: float | None) -> str:
        if value is None:
            return "NA"
        text = repr(float(value))
        return text.replace(".", ",") if comma else text

    lines = [sep.join(["time", "reading"])]
    lines += [sep.join([t, spell(v)]) for t, v in zip(times, values, strict=True)]
    raw = "\n".join(lines).encode(encoding)

    table = read_csv(raw)
    assert table.sep == sep
    assert table.decimal == ("," if comma else ".")
    series = to_series(table)
    assert series.freq == freq and len(series) == len(values)
    expected = pd.Series([np.nan if v is None else v for v in values], dtype=float)
    expected = expected.interpolate().to_numpy()
    np.testing.assert_allclose(series.values, expected, rtol=1e-12, atol=1e-9)
    assert series.filled == len(holes)


@SETTINGS
@given(
    values=st.lists(st.floats(min_value=-1e308, max_value=1e308), min_size=10, max_size=40),
    duplicate=st.integers(0, 8),
)
def test_huge_values_and_duplicates_never_crash(values, duplicate):
    times = [str(p) for p in pd.period_range("2000-01", periods=len(values), freq="M")]
    times[duplicate] = times[duplicate + 1]  # a repeated month: its values are averaged
    text = "month,value\n" + "\n".join(f"{t},{v!r}" for t, v in zip(times, values, strict=True))
    _check_outcome(lambda: load_series(text.encode()))
