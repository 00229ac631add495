"""A regular time grid: frequency, alignment, duplicates, gaps and missing values filled."""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset
from pandas.tseries.offsets import Tick

from core.data.base import (
    MAX_ABS,
    MIN_POINTS,
    ConstantSeriesError,
    TooFewRowsError,
    ValueTooLargeError,
)
from core.errors import ConfigError
from core.limits import check_points


def season_for(freq: str | None) -> int:
    """Points per natural cycle for a pandas frequency alias: 12 for monthly, 7 for daily, ..."""
    offset = _offset(freq)
    if offset is None:
        return 1
    base = offset.name.split("-")[0]
    n = max(int(offset.n), 1)
    per_cycle = {
        "MS": 12, "ME": 12, "BMS": 12, "BME": 12, "SMS": 24, "SME": 24,
        "QS": 4, "QE": 4, "BQS": 4, "BQE": 4,
        "W": 52, "D": 7, "B": 5, "h": 24, "min": 60 * 24, "s": 60,
    }
    if base in ("YS", "YE", "BYS", "BYE"):
        return 1
    if base == "D" and n > 1:
        return 1
    if base == "W" and n > 1:
        return 52 // n if 52 % n == 0 else 1
    if base == "min" and n < 10:
        per_cycle["min"] = 60  # the hour is the cycle a short model can see in minute data
    cycle = per_cycle.get(base)
    if cycle is None or cycle % n:
        return 1
    return cycle // n


_FREQ_WORDS = {
    "MS": "monthly", "QS": "quarterly", "YS": "yearly", "W": "weekly", "D": "daily",
    "B": "business-daily", "h": "hourly", "min": "minute", "s": "second",
}


def _offset(freq: str | None) -> pd.DateOffset | None:
    if not freq:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return to_offset(freq)
    except (ValueError, TypeError):
        return None


def _freq_words(freq: str | None) -> str:
    offset = _offset(freq)
    if offset is None:
        return "irregular or unknown" if not freq else freq
    base = offset.name.split("-")[0]
    words = _FREQ_WORDS.get(base, freq)
    return words if offset.n == 1 else f"every {offset.n} ({freq})"


def _regularise(
    points: pd.Series, notes: list[str], freq: str | None = None
) -> tuple[pd.Series, str | None, np.ndarray]:
    """Sort, align to a regular grid, average duplicates, reindex.

    `freq` (checked by `_check_freq`) overrides the detected frequency. Returns the points,
    the frequency (None when irregular) and a mask of the grid positions that had no row in
    the file (gaps).
    """
    if not points.index.is_monotonic_increasing:
        points = points.sort_index(kind="stable")
        notes.append("Rows were not in time order and were sorted by time.")
    times = pd.DatetimeIndex(points.index)
    chosen = freq is not None
    if chosen:
        aligned, how = _align_to(times, freq), f"the start of their {_period_word(freq)}"
    else:
        freq, aligned, how = _infer_grid(times)
    if aligned is not None and not aligned.equals(times):
        moved = int((aligned != times).sum())
        notes.append(f"{moved} time(s) were moved to {how}.")
        points = pd.Series(points.to_numpy(), index=aligned)
    if points.index.has_duplicates and chosen:
        count = int(points.index.duplicated().sum())
        points = points.groupby(level=0, sort=True).mean()
        notes.append(
            f"With the frequency set to {_freq_words(freq)}, {count} value(s) shared a "
            f"{_period_word(freq)} with another and were averaged."
        )
    if points.index.has_duplicates:
        count = int(points.index.duplicated().sum())
        rows = len(points)
        points = points.groupby(level=0, sort=True).mean()
        note = f"{count} duplicate time(s) were found; values at the same time were averaged."
        if count > 0.2 * rows:
            note += (
                f" With {count} of {rows} rows repeating a time, the file may hold several "
                "series (one per place or product, say): to forecast one of them, keep only "
                "its rows."
            )
        notes.append(note)
    if freq is None:
        if len(points) >= 3:
            notes.append(
                "The time steps are irregular, so no frequency was found and gaps were not filled; "
                "the values are used in time order."
            )
        return points, None, np.zeros(len(points), dtype=bool)
    grid = pd.date_range(points.index[0], points.index[-1], freq=freq)
    if chosen and len(grid) > 2 * len(points) + 10:
        raise ConfigError(
            f"With the frequency set to {_freq_words(freq)}, {len(grid) - len(points):,} of the "
            f"{len(grid):,} points of the time grid would be empty: the data is coarser than "
            "that. Choose a coarser frequency, or leave it automatic."
        )
    if len(grid) > 2 * len(points) + 10:
        notes.append(
            f"The data looks {_freq_words(freq)} but more than half of the time grid is missing, "
            "so gaps were not filled; the values are used in time order."
        )
        return points, None, np.zeros(len(points), dtype=bool)
    added = ~grid.isin(points.index)
    if not grid.equals(points.index):
        points = points.reindex(grid)
    return points, freq, added


FREQUENCIES = {
    "h": "hourly", "D": "daily", "B": "business days (Mon-Fri)", "W": "weekly (weeks ending Sunday)",
    "W-MON": "weekly (weeks starting Monday)", "MS": "monthly", "QS": "quarterly", "YS": "yearly",
}
_FREQ_ALIASES = {"M": "MS", "Q": "QS", "Y": "YS", "A": "YS", "AS": "YS", "H": "h", "T": "min",
                 "S": "s", "hourly": "h", "daily": "D", "weekly": "W", "monthly": "MS",
                 "quarterly": "QS", "yearly": "YS", "annual": "YS"}


def _check_freq(freq: str | None) -> str | None:
    """A frequency the user chose, as pandas names it ("QS-JAN"); None for automatic."""
    if freq is None or not str(freq).strip() or str(freq).strip().lower() in ("auto", "automatic"):
        return None
    text = str(freq).strip()
    text = _FREQ_ALIASES.get(text, _FREQ_ALIASES.get(text.lower(), text))
    offset = _offset(text)
    if offset is None or offset.n < 1:
        raise ConfigError(
            f"Unknown frequency {freq!r}. Use one of h (hourly), D (daily), B (business days), "
            "W (weekly), MS (monthly), QS (quarterly) or YS (yearly), or leave it automatic."
        )
    return offset.freqstr


def _period_word(freq: str) -> str:
    base = freq.split("-")[0]
    words = {"MS": "month", "ME": "month", "QS": "quarter", "QE": "quarter", "YS": "year",
             "YE": "year", "W": "week", "D": "day", "B": "business day", "h": "hour",
             "min": "minute", "s": "second"}
    return words.get("".join(ch for ch in base if not ch.isdigit()), "period")


def _align_to(times: pd.DatetimeIndex, freq: str) -> pd.DatetimeIndex:
    """Each time moved to the start of its period on the grid of `freq`."""
    offset = to_offset(freq)
    base = offset.name.split("-")[0]
    period = {"MS": "M", "ME": "M", "QS": "Q", "QE": "Q", "YS": "Y", "YE": "Y"}.get(base)
    if period is not None and offset.n == 1:
        periods = times.to_period(period)
        if base.endswith("S"):
            return periods.to_timestamp()
        return periods.to_timestamp(how="end").normalize()
    if isinstance(offset, Tick):
        return times.floor(offset)
    return pd.DatetimeIndex([offset.rollback(stamp) for stamp in times.normalize()])


def _final_index(time: pd.Index, freq: str | None, date_col: str | None) -> pd.Index:
    """A DatetimeIndex carrying its frequency when the grid is complete, named after the column."""
    if not isinstance(time, pd.DatetimeIndex):
        return pd.RangeIndex(len(time))
    time = pd.DatetimeIndex(time, name=date_col)
    if freq is not None and len(time) >= 3:
        expected = pd.date_range(time[0], periods=len(time), freq=freq)
        if expected.equals(time):
            time = expected.rename(date_col)
    return time


def _infer_grid(times: pd.DatetimeIndex) -> tuple[str | None, pd.DatetimeIndex | None, str]:
    """The frequency alias, the times aligned to its grid and how they were aligned.

    The most common step decides, so a few gaps do not hide the frequency. Monthly, quarterly
    and yearly data are put on the first day of their period; data on a fixed step (days,
    weeks, hours) are snapped to the nearest step when at least 80% already sit on it.
    Returns (None, None, "") when the steps are irregular.
    """
    unique = times.unique()
    if len(unique) < 3:
        return None, None, ""
    stamps = unique.asi8
    steps = np.diff(stamps)
    day = 86_400 * 10**9
    mode_step = Counter(steps.tolist()).most_common(1)[0][0]
    days = mode_step / day
    for low, high, period, freq, unit in ((28, 31, "M", "MS", "month"),
                                          (89, 92, "Q", "QS-JAN", "quarter"),
                                          (365, 366, "Y", "YS", "year")):
        if low <= days <= high:
            periods = times.to_period(period)
            ordinals = np.diff(periods.unique().sort_values().asi8)
            if np.mean(ordinals == 1) < 0.5:
                return None, None, ""
            return freq, periods.to_timestamp(), f"the first day of their {unit}"
    offsets = (stamps - stamps[0]) % mode_step
    anchor = Counter(offsets.tolist()).most_common(1)[0][0]
    if np.mean(steps == mode_step) < 0.5 or np.mean(offsets == anchor) < 0.8:
        return None, None, ""
    origin = stamps[0] + anchor
    aligned = times
    if (offsets != anchor).any():
        slots = np.round((times.asi8 - origin) / mode_step).astype(np.int64)
        aligned = pd.DatetimeIndex(origin + slots * mode_step)
    step_name = to_offset(pd.Timedelta(mode_step)).freqstr
    how = f"the nearest step of the regular {step_name} grid"
    if mode_step == day:
        weekend = aligned.dayofweek >= 5
        if len(unique) >= 10 and not weekend.any() and (steps == 3 * day).any():
            return "B", aligned, how
        return "D", aligned, how
    if mode_step == 7 * day:
        names = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")
        return f"W-{names[pd.Timestamp(origin).dayofweek]}", aligned, how
    return step_name, aligned, how


def _fill_missing(
    points: pd.Series, added: np.ndarray, missing: str, freq: str | None, notes: list[str]
) -> tuple[np.ndarray, pd.Index, int]:
    """Apply the missing-value policy to missing values and to the grid's gaps (`added`)."""
    isna = points.isna().to_numpy()
    if not isna.any():
        return points.to_numpy(dtype=np.float64), points.index, 0
    if missing == "drop":
        kept = points[~isna]
        notes.append(
            f"{_what_missing(isna, added, freq)} were dropped (policy 'drop'); "
            "the time axis now has holes."
        )
        return kept.to_numpy(dtype=np.float64), kept.index, 0
    if missing == "zero":
        notes.append(f"{_what_missing(isna, added, freq)} were set to 0 (policy 'zero').")
        return points.fillna(0.0).to_numpy(dtype=np.float64), points.index, int(isna.sum())
    present = np.flatnonzero(~isna)
    if len(present) == 0:
        return np.array([]), points.index[:0], 0
    # Nothing to interpolate from before the first value or after the last one: drop those.
    first = present[0]
    end = present[-1] + 1 if missing == "interpolate" else len(points)
    kept = points.iloc[first:end]
    if missing == "interpolate":
        filled_values = kept.interpolate(method="linear")
        how = "filled by linear interpolation"
    else:
        filled_values = kept.ffill()
        how = "filled with the previous value (policy 'ffill')"
    filled = int(kept.isna().sum())
    if filled:
        notes.append(f"{_what_missing(isna[first:end], added[first:end], freq)} were {how}.")
    parts = []
    if first:
        parts.append(f"{first} at the start")
    if end < len(points):
        parts.append(f"{len(points) - end} at the end")
    if parts:
        notes.append(
            f"Missing values {' and '.join(parts)} of the series were dropped (nothing to fill from)."
        )
    return filled_values.to_numpy(dtype=np.float64), kept.index, filled


def _what_missing(isna: np.ndarray, added: np.ndarray, freq: str | None) -> str:
    """ "3 missing value(s) and 2 gap(s) in the monthly time grid" """
    gaps = int((isna & added).sum())
    blanks = int((isna & ~added).sum())
    parts = []
    if blanks:
        parts.append(f"{blanks} missing value(s)")
    if gaps:
        parts.append(f"{gaps} gap(s) in the {_freq_words(freq)} time grid")
    return " and ".join(parts)


def _check_usable(values: np.ndarray, target: str) -> None:
    check_points(len(values), f"Column '{target}'")  # the server's limit (RNNLAB_MAX_POINTS)
    if len(values) < MIN_POINTS:
        raise TooFewRowsError(
            f"Column '{target}' gives only {len(values)} usable value(s); at least {MIN_POINTS} "
            "are needed to learn anything. Use a longer series."
        )
    too_large = ~np.isfinite(values) | (np.abs(values) > MAX_ABS)
    if too_large.any():
        raise ValueTooLargeError(
            f"Column '{target}' holds values too large to compute with (for example "
            f"{values[too_large][0]:g}; the limit is {MAX_ABS:g}). Rescale the column (for "
            "example to thousands or millions) and try again."
        )
    if values.max() == values.min():
        raise ConstantSeriesError(
            f"Every value of '{target}' is {values[0]:g}: a constant series has nothing to "
            "forecast. Choose another column."
        )
