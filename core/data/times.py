"""Cells to timestamps: dates in many formats, years, quarters, weeks; which columns are time."""

from __future__ import annotations

import re
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from core.data.base import DateColumnError, _sample_values
from core.data.numbers import _MISSING_TOKENS, _maybe_numbers

_TIME_WORDS = {
    "date", "time", "day", "month", "year", "period", "week", "quarter", "ds", "timestamp",
    "datetime", "yr", "dt", "jahr", "monat", "datum", "fecha", "annee", "année", "mois", "anno",
    "mes", "ano", "año", "tag", "zeit", "hour", "jour",
}
_DATE_FORMATS = (
    "ISO8601", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%Y.%m.%d", "%d-%m-%Y",
    "%m-%d-%Y", "%m/%d/%Y %H:%M", "%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S", "%m/%d/%y", "%d/%m/%y", "%Y/%m", "%m/%Y", "%m.%Y", "%Y.%m",
    "%YM%m", "%b-%Y", "%b %Y", "%B %Y", "%Y-%b", "%Y %b", "%b-%y", "%d-%b-%Y", "%d %b %Y",
    "%d %B %Y", "%B %d, %Y", "%b %d, %Y", "%d-%b-%y",
)
_QUARTER = re.compile(r"^(\d{4})\s*[-/ :.]?\s*[Qq]([1-4])$|^[Qq]([1-4])\s*[-/ :.]?\s*(\d{4})$")
_FIRST_YEAR, _LAST_YEAR = 1678, 2261  # the range pandas' nanosecond timestamps can hold


def _time_hint(name: str) -> bool:
    words = set(re.split(r"[^a-zà-ÿ]+", name.lower())) - {""}
    return bool(words & _TIME_WORDS) or "date" in name.lower() or "time" in name.lower()


def _parse_times(cells: pd.Series, numbers: np.ndarray | None, name: str) -> pd.DatetimeIndex | None:
    """Timestamps for a column of dates or years, or None when it is not a time column."""
    if numbers is not None:
        return _numeric_times(numbers, name)
    text = cells.astype(str).str.strip()
    present = text[~text.str.lower().isin(_MISSING_TOKENS)]
    if len(present) == 0:
        return None
    sample = present.iloc[:: max(1, len(present) // 500)][:500]
    if not sample.str.contains(r"[^\d\s]", regex=True).all():
        return None
    if sample.str.fullmatch(_CLOCK).all():
        return None  # times of day alone ("10:30") are not dates; see _combine_date_and_clock
    if sample.str.contains(_TIME_OF_DAY).any():
        # Keep the wall-clock time a file shows; a UTC offset would shift dates across midnight.
        text = text.str.replace(_ZONE, "", regex=True)
        sample = text[sample.index]
    for special in (_quarter_times, _week_times):
        if special(sample) is not None:
            return special(text)
    best: tuple[float, tuple[float, float], str] | None = None
    for fmt in _DATE_FORMATS:
        parsed = _to_datetime(sample, fmt)
        ok = float(parsed.notna().mean())
        if ok < 0.9:
            continue
        score = (ok, _regularity(parsed), fmt)
        if best is None or score[:2] > best[:2]:
            best = score
        if fmt == "ISO8601" and ok == 1.0:
            break  # year first is never ambiguous
    if best is not None:
        parsed = _to_datetime(text, best[2])
        if "%y" in best[2]:
            parsed = _past_century(parsed)
        return pd.DatetimeIndex(parsed)
    if sample.str.contains(r"[A-Za-z]", regex=True).any() or sample.str.contains(r"[-/.:]").all():
        parsed = _to_datetime(sample, "mixed")
        if parsed.notna().mean() >= 0.9:
            return pd.DatetimeIndex(_to_datetime(text, "mixed"))
    return None


_TIME_OF_DAY = re.compile(r"\d:\d\d")
_CLOCK = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:\s*[AaPp][Mm])?")
_ZONE = re.compile(r"(?<=\d)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$")


def _to_datetime(cells: pd.Series, fmt: str) -> pd.Series:
    """Timestamps (NaT where a cell does not fit the format); never raises."""
    nothing = pd.Series(pd.NaT, index=cells.index, dtype="datetime64[ns]")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            parsed = pd.to_datetime(cells, format=fmt, errors="coerce")
            if isinstance(parsed.dtype, pd.DatetimeTZDtype):
                parsed = parsed.dt.tz_localize(None)
            if not pd.api.types.is_datetime64_dtype(parsed.dtype):
                return nothing  # mixed time zones or other objects
            return parsed.astype("datetime64[ns]")
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return nothing


def _past_century(parsed: pd.Series) -> pd.Series:
    """Two-digit years read as the future (Jan-49 -> 2049) moved back a century (1949)."""
    future = parsed > pd.Timestamp.now() + pd.DateOffset(years=1)
    if not future.any():
        return parsed
    return parsed.where(~future, parsed - pd.DateOffset(years=100))


def _quarter_times(cells: pd.Series) -> pd.DatetimeIndex | None:
    """Quarters such as 1990Q1, 1990-Q1, 1990:Q1 or Q1 1990 (the first day of the quarter)."""
    match = cells.astype(str).str.strip().str.extract(_QUARTER)
    year = match[0].where(match[0].notna(), match[3])
    quarter = match[1].where(match[1].notna(), match[2])
    ok = year.notna() & quarter.notna()
    if ok.mean() < 0.9:
        return None
    years = pd.to_numeric(year, errors="coerce")
    months = (pd.to_numeric(quarter, errors="coerce") - 1) * 3 + 1
    valid = ok & years.between(_FIRST_YEAR, _LAST_YEAR)
    stamps = pd.to_datetime(
        {"year": years.where(valid, 2000), "month": months.where(valid, 1), "day": 1}
    ).where(valid)
    return pd.DatetimeIndex(stamps)


_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})(?:-?([1-7]))?$")


def _week_times(cells: pd.Series) -> pd.DatetimeIndex | None:
    """ISO weeks such as 2020-W05 (the Monday of that week)."""
    match = cells.astype(str).str.strip().str.extract(_WEEK)
    ok = match[0].notna()
    if ok.mean() < 0.9:
        return None
    day = match[2].where(match[2].notna(), "1")
    text = match[0] + "-W" + match[1].str.zfill(2) + "-" + day
    return pd.DatetimeIndex(_to_datetime(text.where(ok), "%G-W%V-%u"))


def _numeric_times(numbers: np.ndarray, name: str) -> pd.DatetimeIndex | None:
    """Plain years (1749, 1700.0), yyyymm or yyyymmdd numbers, when the column looks like time."""
    finite = numbers[np.isfinite(numbers)]
    if len(finite) < 2:
        return None
    if not np.all(finite == np.round(finite)):
        return _fractional_years(numbers, name)
    with np.errstate(over="ignore", invalid="ignore"):
        steps = np.diff(finite)
    ordered = len(steps) > 0 and (np.all(steps > 0) or np.all(steps < 0))
    if not (_time_hint(name) or ordered):
        return None
    whole = pd.Series(numbers)
    if finite.min() >= _FIRST_YEAR and finite.max() <= _LAST_YEAR:
        if not _time_hint(name) and np.median(np.abs(steps)) != 1:
            return None
        stamps = pd.to_datetime(
            {"year": whole.fillna(2000).astype(np.int64), "month": 1, "day": 1}
        ).where(whole.notna())
        return pd.DatetimeIndex(stamps)
    for digits, fmt in ((6, "%Y%m"), (8, "%Y%m%d")):
        if finite.min() >= 10 ** (digits - 1) and finite.max() < 10**digits:
            text = whole.map(lambda v: "" if np.isnan(v) else str(int(v)))
            parsed = _to_datetime(text, fmt)
            if parsed.notna().sum() >= 0.9 * len(finite):
                return pd.DatetimeIndex(parsed)
    return None


def _fractional_years(numbers: np.ndarray, name: str) -> pd.DatetimeIndex | None:
    """Decimal years as R writes a monthly or quarterly `ts`: 1949.000, 1949.083, 1949.167..."""
    finite = numbers[np.isfinite(numbers)]
    if finite.min() < _FIRST_YEAR or finite.max() >= _LAST_YEAR:
        return None
    steps = np.diff(finite)
    if not (_time_hint(name) or np.all(steps > 0)):
        return None
    for per_year in (12, 4):
        step = np.median(np.abs(steps))
        if abs(step * per_year - 1) > 0.02:
            continue
        index = np.round(numbers * per_year)
        if np.nanmax(np.abs(numbers * per_year - index)) > 0.1:
            return None
        whole = pd.Series(index)
        year = (whole // per_year).fillna(2000).astype(np.int64)
        month = ((whole % per_year) * (12 // per_year) + 1).fillna(1).astype(np.int64)
        stamps = pd.to_datetime({"year": year, "month": month, "day": 1}).where(whole.notna())
        return pd.DatetimeIndex(stamps)
    return None


def _regularity(parsed: pd.Series) -> tuple[float, float]:
    """How regular the times are once sorted: (share of the most common step, median step).

    Steps of 28-31 days count as one step (a month), likewise quarters and years. The median
    breaks ties between two readings of ambiguous dates: 01/02/2020, 01/03/2020... is either
    monthly (day first) or daily (month first); the monthly reading is the likelier one.
    """
    stamps = parsed.dropna().sort_values().drop_duplicates()
    if len(stamps) < 3:
        return 0.0, 0.0
    steps = np.diff(stamps.to_numpy().astype(np.int64))
    days = steps / (86_400 * 10**9)
    kinds = np.select(
        [(days >= 28) & (days <= 31), (days >= 89) & (days <= 92), (days >= 365) & (days <= 366)],
        [-1, -2, -3],
        default=steps,
    )
    share = Counter(kinds.tolist()).most_common(1)[0][1] / len(steps)
    return share, float(np.median(steps))


def _date_candidates(raw: pd.DataFrame, numbers: dict[str, np.ndarray]) -> list[str]:
    """Columns that read as time, name hints first ("date", "month", "year"...), then file order."""
    found = []
    for position, column in enumerate(raw.columns):
        parsed = _parse_times(raw[column].iloc[:5000], numbers.get(column), column)
        if parsed is None:
            continue
        found.append((not _time_hint(column), column in numbers, position, column))
    return [column for *_, column in sorted(found)]


def _time_values(raw: pd.DataFrame, date_col: str, decimal: str, notes: list[str]) -> pd.DatetimeIndex:
    cells = raw[date_col]
    converted = _maybe_numbers(cells, decimal)
    parsed = _parse_times(cells, None if converted is None else converted[0], date_col)
    if parsed is None and converted is not None:
        parsed = _parse_times(cells, None, date_col)
    not_parsed = np.ones(len(cells), dtype=bool) if parsed is None else parsed.isna()
    missing = np.zeros(len(cells), dtype=bool)
    missing[not_parsed] = (
        cells[not_parsed].astype(str).str.strip().str.lower().isin(_MISSING_TOKENS).to_numpy()
    )
    present = ~missing
    if parsed is None:
        sample = _sample_values(cells, present)
        raise DateColumnError(
            f"Column '{date_col}' could not be read as dates or years (for example {sample}). "
            "Use dates like 2024-01-31, 01/31/2024 or 2024-01, or plain years like 1999, "
            "or choose another time column."
        )
    unreadable = parsed.isna() & present
    if unreadable.any():
        notes.append(
            f"{int(unreadable.sum())} row(s) had a time that could not be read and were left out "
            f"(for example {_sample_values(cells, unreadable)})."
        )
    if missing.any():
        notes.append(f"{int(missing.sum())} row(s) had no time and were left out.")
    return parsed
