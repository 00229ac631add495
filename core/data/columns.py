"""Which columns are what: value candidates, ids, wide tables, year and month columns combined."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from core.data.base import (
    ColumnNotFoundError,
    NonNumericError,
    Table,
    WideTableError,
    _names,
    _sample_values,
)
from core.data.numbers import _MISSING_TOKENS, _to_numbers
from core.data.times import _CLOCK, _FIRST_YEAR, _LAST_YEAR, _parse_times, _time_values
from core.errors import InputError


def _numeric_candidates(
    raw: pd.DataFrame, numbers: dict[str, np.ndarray], date_candidates: list[str]
) -> list[str]:
    """Number columns usable as a target: things one forecasts (sales, demand) first, then other
    measurements, then columns that look like inputs (temperature, price), id-like columns last."""
    usable = [c for c in raw.columns if c in numbers and c not in date_candidates]
    usable = [c for c in usable if np.isfinite(numbers[c]).sum() >= 2]
    first = raw.columns[0]
    ids = [c for c in usable if _id_like(c, numbers[c], first=c == first)]
    values = sorted((c for c in usable if c not in ids), key=_role)  # stable: file order within
    return values + ids


# Words in the names of columns one usually forecasts, and of columns that usually help to
# forecast another one (explanatory columns, covariates).
_TARGET_WORDS = {
    "sales", "demand", "load", "consumption", "visitors", "passengers", "orders", "revenue",
    "turnover", "volume", "count", "counts", "value", "y", "target", "units", "sold", "traffic",
    "arrivals", "production", "output", "calls", "admissions", "bookings", "quantity", "qty",
}
_INPUT_WORDS = {
    "temperature", "temp", "tmax", "tmin", "tavg", "price", "prices", "cost", "costs", "rain",
    "rainfall", "precipitation", "humidity", "wind", "holiday", "holidays", "promo", "promotion",
    "promotions", "discount", "advertising", "ads", "marketing", "weather", "event", "events",
    "covariate", "exog", "exogenous", "fuel", "oil", "gdp", "cpi", "inflation", "sunshine",
    "snow", "pressure", "dew", "weekday", "weekend", "dow", "campaign", "budget", "spend",
}


def _role(name: str) -> int:
    """0 for a column one forecasts (by its name), 2 for one that looks like an input, else 1."""
    words = _words(str(name))
    if words & _TARGET_WORDS:
        return 0
    if words & _INPUT_WORDS:
        return 2
    return 1


def _target_question(candidates: list[str]) -> str | None:
    """A question for the user when the default value column is a guess; None when it is clear."""
    if len(candidates) < 2:
        return None
    roles = [_role(c) for c in candidates]
    first = candidates[0]
    if roles[0] == 2:
        return (
            f"Every column of numbers ({_names(candidates)}) looks like an input (a temperature, "
            f"a price...) rather than something to forecast; '{first}' was taken. Choose the "
            "value column."
        )
    alike = [c for c, role in zip(candidates, roles, strict=True) if role == roles[0]]
    if len(alike) < 2:
        return None
    return (
        f"Columns {_names(alike)} could each be the one to forecast; '{first}' was taken. "
        "Choose the value column, or forecast each column as a series of its own."
    )


_ID_NAMES = {"id", "index", "idx", "no", "nr", "row", "rownum", "key", "#", "n", "num", "number",
             "obs", "record"}


def _id_like(name: str, values: np.ndarray, first: bool) -> bool:
    """A row counter or an identifier: by its name ("id", "Customer ID"), or, in the first
    column, by its values 0 (or 1), 1, 2, 3... as a saved index."""
    words = set(re.split(r"[^a-z]+", name.lower())) - {""}
    if name.strip().lower() in _ID_NAMES or words & {"id", "unnamed"}:
        return True
    if not first:
        return False
    finite = values[np.isfinite(values)]
    if len(finite) < 3 or not np.all(finite == np.round(finite)):
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        steps = np.diff(finite)
    return bool(np.all(steps == 1) and finite[0] in (0, 1))



_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_FULL_MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
)
_QUARTER_NAME = re.compile(r"^(?:q|qtr|quarter)\s*[-_]?\s*([1-4])$")


def _month_number(name: str) -> int | None:
    key = name.strip().lower().rstrip(".")
    if key in _MONTHS:
        return _MONTHS.index(key) + 1
    if key in _FULL_MONTHS:
        return _FULL_MONTHS.index(key) + 1
    if key == "sept":
        return 9
    return None


def _wide_columns(raw: pd.DataFrame) -> tuple[str, dict[int, str]] | None:
    """("month", {1: "Jan", ...}) or ("quarter", {1: "Q1", ...}) when columns are named so."""
    months = {}
    quarters = {}
    for column in raw.columns:
        month = _month_number(column)
        if month is not None and month not in months:
            months[month] = column
        match = _QUARTER_NAME.match(column.strip().lower())
        if match and int(match.group(1)) not in quarters:
            quarters[int(match.group(1))] = column
    if len(months) >= 3:
        return "month", months
    if len(quarters) >= 2:
        return "quarter", quarters
    return None


def _year_column(raw: pd.DataFrame, decimal: str, exclude: set[str]) -> tuple[str, np.ndarray] | None:
    """The first column of whole numbers that are all plausible years, and those years."""
    for column in raw.columns:
        if column in exclude:
            continue
        numbers, missing, bad = _to_numbers(raw[column], decimal)
        finite = numbers[np.isfinite(numbers)]
        if bad.any() or len(finite) == 0 or not np.all(finite == np.round(finite)):
            continue
        if finite.min() >= _FIRST_YEAR and finite.max() <= _LAST_YEAR:
            return column, numbers
    return None


def _reshape_wide(raw: pd.DataFrame, decimal: str) -> tuple[pd.DataFrame, str] | None:
    """One row per year and one column per month (or quarter) -> one long table."""
    found = _wide_columns(raw)
    if found is None:
        return None
    kind, columns = found
    full = 12 if kind == "month" else 4
    if len(columns) < full:
        return None  # partial: `_refuse_partial_wide` decides once date columns are known
    year = _year_column(raw, decimal, set(columns.values()))
    if year is None:
        raise WideTableError(
            f"The table has one column per {kind} ({_names(list(columns.values()))}) but no year "
            "column was found. Add a column of years (like 1999), or reshape the table into two "
            f"columns: date and value, one row per {kind}."
        )
    year_col, years = year
    if np.isnan(years).any():
        lines = raw.index[np.isnan(years)].tolist()[:5]
        raise WideTableError(
            f"The table has one column per {kind}, but column '{year_col}' has no year on "
            f"line(s) {', '.join(map(str, lines))}. Fill in the years or remove those rows."
        )
    repeated = pd.Series(years).duplicated(keep=False)
    if repeated.any():
        shown = ", ".join(str(int(y)) for y in sorted(set(years[repeated.to_numpy()]))[:5])
        raise WideTableError(
            f"The table has one column per {kind}, but some years appear on more than one row "
            f"({shown}), so it may hold several series. Keep one row per year, or reshape it into "
            f"two columns: date and value, one row per {kind}."
        )
    order = np.argsort(years, kind="stable")
    dates, cells, lines = [], [], []
    for i in order:
        for number in range(1, full + 1):
            month = number if kind == "month" else (number - 1) * 3 + 1
            dates.append(f"{int(years[i]):04d}-{month:02d}-01")
            cells.append(raw[columns[number]].iloc[i])
            lines.append(raw.index[i])
    long = pd.DataFrame(
        {kind: dates, "value": cells}, index=pd.Index(lines, name="line"), dtype=object
    )
    ignored = [c for c in raw.columns if c != year_col and c not in columns.values()]
    note = (
        f"Wide table reshaped: one row per year ('{year_col}') with {full} {kind} columns became "
        f"one {'monthly' if kind == 'month' else 'quarterly'} series of {len(long)} values "
        f"(columns '{kind}' and 'value')."
    )
    if ignored:
        note += f" Ignored column(s): {_names(ignored)}."
    return long, note


def _is_year_column(raw: pd.DataFrame, column: str) -> bool:
    cells = raw[column].astype(str).str.strip()
    return bool(cells.str.fullmatch(r"\d{4}(\.0*)?|").all())


_YEAR_WORDS = {"year", "yr", "jahr", "annee", "année", "ano", "año", "anno"}
_MONTH_WORDS = {"month", "mon", "monat", "mois", "mes", "mese", "maand"}
_QUARTER_WORDS = {"quarter", "qtr", "quartal", "trimestre", "kwartaal"}


def _words(name: str) -> set[str]:
    return set(re.split(r"[^a-zà-ÿ]+", name.lower())) - {""}


def _combine_year_and_period(
    raw: pd.DataFrame, decimal: str
) -> tuple[pd.DataFrame, str, tuple[str, str]] | None:
    """A year column beside a month (1-12, Jan...) or quarter (1-4, Q1...) column -> one date column."""
    year_col = next(
        (c for c in raw.columns if _words(c) & _YEAR_WORDS and _is_year_column(raw, c)), None
    )
    if year_col is None:
        return None
    for column in raw.columns:
        per_year = _periods_per_year(column, raw[column]) if column != year_col else None
        if per_year is None:
            continue
        numbers = _period_numbers(raw[column], per_year)
        if numbers is None:
            continue
        years = pd.to_numeric(raw[year_col], errors="coerce")
        months = numbers if per_year == 12 else (numbers - 1) * 3 + 1
        ok = years.notna() & months.notna()
        dates = [
            f"{int(y):04d}-{int(m):02d}-01" if good else ""
            for y, m, good in zip(years, months, ok, strict=True)
        ]
        name = _free_name("date", raw.columns)
        combined = raw.copy()
        combined.insert(0, name, dates)
        note = f"Columns '{year_col}' and '{column}' were combined into one date column '{name}'."
        return combined, note, (year_col, column)
    return None


def _free_name(name: str, taken) -> str:
    """`name`, with underscores added until no column of the table has it."""
    while name in taken:
        name += "_"
    return name


def _combine_date_and_clock(raw: pd.DataFrame) -> tuple[pd.DataFrame, str, tuple[str, str]] | None:
    """A date column beside a time-of-day column ("2020-01-31", "10:30") -> one date-time column."""
    clock_col = None
    for column in raw.columns:
        head = raw[column].iloc[:200].astype(str).str.strip()
        if not head.str.fullmatch(_CLOCK).any():
            continue
        cells = raw[column].astype(str).str.strip()
        present = cells[~cells.str.lower().isin(_MISSING_TOKENS)]
        if len(present) and present.str.fullmatch(_CLOCK).all():
            clock_col = column
            break
    if clock_col is None:
        return None
    for column in raw.columns:
        if column == clock_col:
            continue
        joined = raw[column].astype(str).str.strip() + " " + raw[clock_col].astype(str).str.strip()
        parsed = _parse_times(joined.iloc[:5000], None, column)
        if parsed is None or (parsed.notna().mean() < 0.9):
            continue
        name = _free_name("datetime", raw.columns)
        combined = raw.copy()
        combined.insert(0, name, joined)
        note = f"Columns '{column}' and '{clock_col}' were combined into one date-time column '{name}'."
        return combined, note, (column, clock_col)
    return None


def _periods_per_year(name: str, cells: pd.Series) -> int | None:
    """12 for a month column, 4 for a quarter column (by name, or a "Period" of M01/Q01 codes)."""
    words = _words(name)
    if words & _MONTH_WORDS:
        return 12
    if words & _QUARTER_WORDS:
        return 4
    if words & {"period", "periode", "periodo", "période"}:
        head = cells.iloc[:200].astype(str).str.strip()
        for letter, per_year in (("M", 12), ("Q", 4)):
            if head.str.fullmatch(rf"[{letter}{letter.lower()}]\d{{1,2}}").all():
                return per_year
    return None


def _period_numbers(cells: pd.Series, per_year: int) -> pd.Series | None:
    """Month (1-12, Jan, January, M01) or quarter (1-4, Q1, Q01) numbers; None unless 90% are.

    Cells that are neither (like the statistics offices' M13 for a yearly average) become
    missing times, reported when the series is made.
    """
    text = cells.astype(str).str.strip()
    blank = text.str.lower().isin(_MISSING_TOKENS)
    numbers = pd.to_numeric(text.str.replace(r"^[QqMm]", "", regex=True), errors="coerce")
    if per_year == 12:
        named = text.map(_month_number)
        numbers = numbers.where(numbers.notna(), pd.to_numeric(named, errors="coerce"))
    valid = numbers.between(1, per_year) & (numbers == numbers.round())
    present = int((~blank).sum())
    if not present or int(valid.sum()) < 0.9 * present:
        return None
    return numbers.where(valid)


def _refuse_partial_wide(raw: pd.DataFrame, date_candidates: list[str]) -> None:
    found = _wide_columns(raw)
    if found is None or any(not _is_year_column(raw, c) for c in date_candidates):
        return
    kind, columns = found
    names = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    wanted = names if kind == "month" else ["Q1", "Q2", "Q3", "Q4"]
    absent = [wanted[i - 1] for i in range(1, len(wanted) + 1) if i not in columns]
    raise WideTableError(
        f"The table looks like one row per year with one column per {kind} "
        f"({_names(list(columns.values()))}), but {', '.join(absent)} "
        f"{'is' if len(absent) == 1 else 'are'} missing, so it cannot be turned into one series. "
        f"Add the missing columns, or reshape it into two columns: date and value, one row per {kind}."
    )




def _find_column(name: str, columns: list[str], role: str) -> str:
    if name in columns:
        return name
    folded = [c for c in columns if c.strip().lower() == str(name).strip().lower()]
    if len(folded) == 1:
        return folded[0]
    raise ColumnNotFoundError(
        f"There is no column named '{name}' for the {role}. Received columns: {_names(columns)}. "
        "Choose one of these names (check spelling, spaces and the delimiter)."
    )


def _target_values(raw: pd.DataFrame, target: str, decimal: str, notes: list[str]) -> np.ndarray:
    numbers, missing, bad = _to_numbers(raw[target], decimal)
    present = int((~missing).sum())
    readable = present - int(bad.sum())
    if present == 0:
        raise NonNumericError(
            f"Column '{target}' is empty: all {len(raw)} values are missing. "
            "Choose a column that holds numbers."
        )
    if bad.any():
        rows = raw.index[bad].tolist()[:5]
        sample = _sample_values(raw[target], bad)
        if readable < 0.9 * present:
            raise NonNumericError(
                f"Column '{target}' does not hold numbers: {int(bad.sum())} of {present} values "
                f"could not be read (for example {sample}, on line(s) "
                f"{', '.join(map(str, rows))}). Choose a column of numbers, or check the decimal "
                f"mark (now '{decimal}') and the delimiter."
            )
        notes.append(
            f"{int(bad.sum())} value(s) in '{target}' could not be read as numbers and were "
            f"treated as missing: {sample} (line(s) {', '.join(map(str, rows))})."
        )
    return numbers


# ----------------------------------------------------------------------------- many series

# Words in the names of columns that tell series apart in a long table.
_SERIES_WORDS = {
    "id", "store", "shop", "product", "item", "sku", "series", "region", "country", "site",
    "station", "sensor", "customer", "category", "code", "key", "group", "branch", "city",
    "state", "location", "name", "unique", "meter", "building", "department", "dept", "family",
}


def find_id_columns(
    table: Table, target: str | None = None, date_col: str | None = None
) -> list[str]:
    """The column(s) that tell apart several series in a long table (date, store, sales), or [].

    Only a table whose times repeat has ids. A column qualifies when it holds text (or whole
    numbers under a name such as "store" or "product_id"), takes far fewer values than there are
    rows, and makes the times repeat less; columns are added (store, then product) until each
    (id, time) pair is unique or no column helps any more.
    """
    return _find_id_columns(table, target, date_col, {})


def _find_id_columns(
    table: Table, target: str | None, date_col: str | None, parsed: dict
) -> list[str]:
    """`find_id_columns`; `parsed` keeps each time column's times (and notes) for the caller."""
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    if date_col is None:
        date_col = next((c for c in table.date_candidates if c != target), None)
    if date_col is None or date_col not in raw.columns:
        return []
    try:
        times = _parsed_times(raw, date_col, table.decimal, parsed)[0]
    except InputError:
        return []
    known = np.asarray(times.notna())
    if known.sum() < 4:
        return []
    frame = pd.DataFrame({"time": np.asarray(times)[known]})
    if not frame["time"].duplicated().any():
        return []
    rows = int(known.sum())
    candidates: dict[str, np.ndarray] = {}
    for column in raw.columns:
        if column in (date_col, target) or column in table.date_candidates:
            continue
        cells = raw[column].astype(str).str.strip()[known]
        if cells.str.lower().isin(_MISSING_TOKENS).mean() > 0.1:
            continue
        unique = cells.nunique()
        if unique < 2 or unique > max(2, rows // 3):
            continue
        numbers, _, bad = _to_numbers(cells, table.decimal)
        text = bad.mean() > 0.5
        named = bool(_words(str(column)) & _SERIES_WORDS)
        whole = not text and bool(np.all(numbers[np.isfinite(numbers)] % 1 == 0))
        if text or (named and whole):
            candidates[column] = cells.to_numpy()
    chosen: list[str] = []
    duplicates = int(frame["time"].duplicated().sum())
    while duplicates and len(chosen) < 3:
        best = None
        for column in candidates:
            if column in chosen:
                continue
            keys = frame.copy()
            for i, name in enumerate([*chosen, column]):
                keys[f"id{i}"] = candidates[name]
            left = int(keys.duplicated().sum())
            if left < duplicates and (best is None or left < best[1]):
                best = (column, left)
        if best is None:
            break
        chosen.append(best[0])
        duplicates = best[1]
    if chosen and duplicates > 0.2 * rows:
        return []  # the ids found explain little: not a long table after all
    return chosen


def _parsed_times(
    raw: pd.DataFrame, date_col: str, decimal: str, parsed: dict
) -> tuple[pd.DatetimeIndex, list[str]]:
    """`_time_values` once per column: the times and the notes their reading made."""
    if date_col not in parsed:
        notes: list[str] = []
        parsed[date_col] = (_time_values(raw, date_col, decimal, notes), notes)
    return parsed[date_col]
