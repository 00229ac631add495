"""Read real-world CSV files into one clean, regular time series.

`read_csv` finds how a file is written (encoding, delimiter, decimal mark, time and value
columns) and returns a `Table` whose guesses the UI shows and lets the user override;
`to_series` turns a table into a `Series`: sorted by time, duplicates averaged, on a regular
time grid, gaps and missing values filled by a named policy, every change reported in `notes`.
`load_series` does both in one call.

Every problem a user can fix raises a subclass of `InputError` whose message says what was
wrong, what was received and what to do; the parser never lets a raw pandas error through.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from core.errors import ConfigError, InputError

__all__ = [
    "MAX_ABS",
    "MIN_POINTS",
    "MISSING_POLICIES",
    "BinaryFileError",
    "ColumnNotFoundError",
    "ConstantSeriesError",
    "DateColumnError",
    "EmptyFileError",
    "EncodingError",
    "FileTooLargeError",
    "HeaderOnlyError",
    "MalformedFileError",
    "NonNumericError",
    "Series",
    "Table",
    "TooFewRowsError",
    "UnreadableFileError",
    "ValueTooLargeError",
    "WideTableError",
    "describe",
    "load_series",
    "read_csv",
    "season_for",
    "to_series",
]

MIN_POINTS = 10
MAX_ABS = 1e150  # squares of values stay finite (losses and variances square them)
MISSING_POLICIES = ("interpolate", "ffill", "zero", "drop")
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SEPARATOR_ALIASES = {
    "\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "bar": "|",
}


# ----------------------------------------------------------------------------- errors


class EmptyFileError(InputError):
    """The file holds nothing (or only blank lines)."""


class BinaryFileError(InputError):
    """The file is not text (a spreadsheet, an image, a zip...)."""


class EncodingError(InputError):
    """The file cannot be read in the encoding the user chose."""


class FileTooLargeError(InputError):
    """The file is bigger than the app accepts."""


class MalformedFileError(InputError):
    """The rows do not line up with the header (ragged rows, broken quoting)."""


class HeaderOnlyError(InputError):
    """The file has a header line but no data rows."""


class ColumnNotFoundError(InputError):
    """A column the user named is not in the file."""


class NonNumericError(InputError):
    """The target column does not hold numbers."""


class DateColumnError(InputError):
    """The chosen time column cannot be read as dates or years."""


class ConstantSeriesError(InputError):
    """Every value of the series is the same: there is nothing to forecast."""


class TooFewRowsError(InputError):
    """Too few usable points to learn anything."""


class ValueTooLargeError(InputError):
    """Values so large that arithmetic on them overflows."""


class UnreadableFileError(InputError):
    """An unforeseen problem while reading; the message still says what to try."""


class WideTableError(InputError):
    """One row per year with one column per month/quarter that cannot be reshaped safely."""


# ----------------------------------------------------------------------------- results


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """What `read_csv` found. The UI shows each guess and lets the user override it."""

    frame: pd.DataFrame
    encoding: str
    sep: str
    decimal: str
    date_candidates: list[str]
    numeric_candidates: list[str]
    notes: list[str]
    # The cells exactly as read (strings, index = line number in the file), so that `to_series`
    # can name bad values and their rows. Not part of the public contract.
    _raw: pd.DataFrame | None = dataclasses.field(default=None, repr=False)


@dataclasses.dataclass(frozen=True, eq=False)
class Series:
    """One clean series: finite float values on a (normally regular) time index."""

    values: np.ndarray
    time: pd.Index
    freq: str | None
    season: int
    name: str
    date_col: str | None
    missing: str
    filled: int
    notes: tuple[str, ...]

    def to_frame(self) -> pd.DataFrame:
        """Two columns, `time` and `value`."""
        return pd.DataFrame({"time": np.asarray(self.time), "value": self.values})

    def __len__(self) -> int:
        return len(self.values)


# ----------------------------------------------------------------------------- public API


def read_csv(
    source: Any,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    max_bytes: int = 50_000_000,
    max_rows: int = 1_000_000,
) -> Table:
    """Read a CSV from a path, bytes or an uploaded file object and guess how it is written.

    Args:
        source: a path (str or Path), the file's bytes, or a binary file-like object
            (Streamlit's UploadedFile works).
        sep, decimal, encoding: override the detected delimiter (`,` `;` tab `|`), decimal
            mark (`.` or `,`) and text encoding.
        max_bytes, max_rows: refuse bigger files with `FileTooLargeError`.

    Raises:
        InputError: a subclass naming the problem (empty, binary, header only, ragged rows...).
        ConfigError: an override that is not allowed.
    """
    try:
        return _read_csv(source, sep, decimal, encoding, max_bytes, max_rows)
    except _UNEXPECTED as error:
        raise _unexpected(error) from error


def _read_csv(
    source: Any, sep: str | None, decimal: str | None, encoding: str | None, max_bytes: int,
    max_rows: int,
) -> Table:
    sep = _check_sep(sep)
    decimal = _check_decimal(decimal, sep)
    data, label = _read_bytes(source, max_bytes)
    text, used_encoding, notes = _decode(data, encoding, label)
    hint = re.match(r"sep=(.)\r?\n", text)
    if hint:
        text = text[hint.end() :]  # Excel's "sep=;" line names the delimiter
        sep = sep or hint.group(1)
    rows = _split_lines(text, label)
    if sep is None:
        sep = _detect_sep(rows, exclude=decimal)
    raw, header_notes = _parse_rows(text, sep, label, max_rows)
    notes += header_notes
    if decimal is None:
        decimal, decimal_note = _detect_decimal(raw, sep)
        if decimal_note:
            notes.append(decimal_note)
    elif decimal == sep:
        raise ConfigError(
            f"The decimal mark and the delimiter cannot both be '{decimal}'. "
            "Choose a different delimiter or decimal mark."
        )
    wide = _reshape_wide(raw, decimal)
    combined = None
    if wide is not None:
        raw, wide_note = wide
        notes.append(wide_note)
    else:
        combined = _combine_year_and_period(raw, decimal) or _combine_date_and_clock(raw)
        if combined is not None:
            raw, combined_note, time_parts = combined
            notes.append(combined_note)
    frame, numbers = _typed_frame(raw, decimal)
    date_candidates = _date_candidates(raw, numbers)
    numeric_candidates = _numeric_candidates(raw, numbers, date_candidates)
    if combined is not None:  # month numbers are time, not a target
        numeric_candidates = [c for c in numeric_candidates if c not in time_parts]
    if wide is None:
        _refuse_partial_wide(raw, date_candidates)
    return Table(
        frame=frame,
        encoding=used_encoding,
        sep=sep,
        decimal=decimal,
        date_candidates=date_candidates,
        numeric_candidates=numeric_candidates,
        notes=notes,
        _raw=raw,
    )


def to_series(
    table: Table,
    target: str | None = None,
    date_col: str | None = None,
    missing: str = "interpolate",
) -> Series:
    """Turn a table into one regular series: sort, average duplicates, fill gaps and missing values.

    Args:
        target: the value column; by default the first of `table.numeric_candidates`.
        date_col: the time column; by default the first of `table.date_candidates`
            (none found: the series uses row order).
        missing: how to fill gaps and missing values: "interpolate" (linear), "ffill"
            (repeat the last value), "zero", or "drop" (remove them).
    """
    try:
        return _to_series(table, target, date_col, missing)
    except _UNEXPECTED as error:
        raise _unexpected(error) from error


def _to_series(table: Table, target: str | None, date_col: str | None, missing: str) -> Series:
    if missing not in MISSING_POLICIES:
        raise ConfigError(
            f"Unknown missing-value policy {missing!r}; choose one of {', '.join(MISSING_POLICIES)}."
        )
    raw = table._raw if table._raw is not None else table.frame.astype(str)
    columns = [str(column) for column in raw.columns]
    notes: list[str] = list(table.notes)
    if target is None:
        candidates = [c for c in table.numeric_candidates if c != date_col]
        if not candidates and len(raw) < MIN_POINTS:
            raise TooFewRowsError(
                f"The file has only {len(raw)} data row(s); at least {MIN_POINTS} are needed "
                "to learn anything. Use a longer series, one value per row."
            )
        if not candidates:
            raise NonNumericError(
                "No column of numbers was found to forecast. "
                f"Received columns: {_names(columns)}; {_sample_row(raw)}. "
                f"{_delimiter_advice(raw)}"
            )
        target = candidates[0]
    target = _find_column(target, columns, "value (target)")
    if date_col is None:
        date_col = next((c for c in table.date_candidates if c != target), None)
    else:
        date_col = _find_column(date_col, columns, "time")
        if date_col == target:
            raise InputError(
                f"The time column and the value column are both '{target}'. "
                "Choose two different columns."
            )
    values = _target_values(raw, target, table.decimal, notes)
    if date_col is None:
        notes.append("No time column was found, so the rows are used in file order.")
        time: pd.Index = pd.RangeIndex(len(values))
        freq = None
        points = pd.Series(values, index=time)
        added = np.zeros(len(points), dtype=bool)
    else:
        times = _time_values(raw, date_col, table.decimal, notes)
        points = pd.Series(values, index=times)
        points = points[points.index.notna()]
        points, freq, added = _regularise(points, notes)
    series_values, time, filled = _fill_missing(points, added, missing, freq, notes)
    time = _final_index(time, freq, date_col)
    _check_usable(series_values, target)
    series_values = np.array(series_values, dtype=np.float64)
    series_values.flags.writeable = False
    return Series(
        values=series_values,
        time=time,
        freq=freq,
        season=season_for(freq),
        name=target,
        date_col=date_col,
        missing=missing,
        filled=filled,
        notes=tuple(notes),
    )


def load_series(
    source: Any,
    *,
    target: str | None = None,
    date_col: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    missing: str = "interpolate",
) -> Series:
    """`read_csv` then `to_series`, for callers that need no look at the table in between."""
    table = read_csv(source, sep=sep, decimal=decimal, encoding=encoding)
    return to_series(table, target=target, date_col=date_col, missing=missing)


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


def describe(series: Series) -> dict[str, Any]:
    """Facts about a series for the UI's data step."""
    is_time = isinstance(series.time, pd.DatetimeIndex)
    return {
        "name": series.name,
        "length": len(series),
        "start": series.time[0] if is_time else 0,
        "end": series.time[-1] if is_time else len(series) - 1,
        "freq": series.freq,
        "frequency": _freq_words(series.freq),
        "season": series.season,
        "min": float(np.min(series.values)),
        "max": float(np.max(series.values)),
        "mean": float(np.mean(series.values)),
        "missing_filled": series.filled,
        "missing_policy": series.missing,
    }


# Errors no check above foresaw. A user still gets a plain message instead of a traceback; the
# property tests fail if one ever happens, so each is found and given its own check.
_UNEXPECTED = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def _unexpected(error: Exception) -> UnreadableFileError:
    return UnreadableFileError(
        f"The file could not be read ({type(error).__name__}: {_shorten(str(error), 200)}). "
        "Check that it is a CSV file with a header line and a column of numbers, or choose the "
        "delimiter, decimal mark and encoding by hand."
    )


# ----------------------------------------------------------------------------- bytes and text


def _read_bytes(source: Any, max_bytes: int) -> tuple[bytes, str]:
    """The file's bytes and a short label for messages."""
    if isinstance(source, str) and ("\n" in source or len(source) > 4096):
        raise InputError(
            f"Received text ({_shorten(source.splitlines()[0] if source else '', 40)!r}...) "
            "where a file path was expected. Give the file's path, or its bytes "
            "(text.encode())."
        )
    if isinstance(source, (str, Path)):
        path = Path(source)
        label = f"'{path.name}'"
        try:
            size = path.stat().st_size
        except OSError:
            raise InputError(
                f"No file found at '{path}'. Check the path and the file name."
            ) from None
        if path.is_dir():
            raise InputError(f"'{path}' is a folder, not a file. Choose a CSV file inside it.")
        _check_size(size, max_bytes, label)
        try:
            return path.read_bytes(), label
        except OSError as error:
            raise InputError(
                f"Could not read {label}: {error.strerror or error}. "
                "Check that the file exists and you may read it."
            ) from None
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), max_bytes, "The file")
        return data, "The file"
    name = getattr(source, "name", None)
    label = f"'{Path(str(name)).name}'" if name else "The file"
    if hasattr(source, "getvalue"):
        data = source.getvalue()
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
    else:
        raise InputError(
            f"Cannot read data from a {type(source).__name__}. "
            "Give a file path, the file's bytes or an uploaded file."
        )
    if isinstance(data, str):
        data = data.encode("utf-8")
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise InputError(
            f"{label} gave {type(data).__name__} instead of bytes. Upload the file again."
        )
    data = bytes(data)
    _check_size(len(data), max_bytes, label)
    return data, label


def _check_size(size: int, max_bytes: int, label: str) -> None:
    if size > max_bytes:
        raise FileTooLargeError(
            f"{label} is {_size(size)}; the limit is {_size(max_bytes)}. "
            "Keep only the columns and rows you need (or aggregate to a coarser frequency) "
            "and try again."
        )


def _size(count: int) -> str:
    if count >= 1_000_000:
        return f"{count / 1e6:.1f} MB"
    if count >= 1_000:
        return f"{count / 1e3:.1f} kB"
    return f"{count} bytes"


_SIGNATURES = (
    (b"PK\x03\x04", "a zip archive or an Excel (.xlsx) workbook"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Office file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"SQLite format", "an SQLite database"),
    (b"PAR1", "a Parquet file"),
)


def _decode(data: bytes, encoding: str | None, label: str) -> tuple[str, str, list[str]]:
    """Text, the encoding used, notes. Refuses empty and binary files."""
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise EmptyFileError(f"{label} is empty. Choose a CSV file with a header line and data rows.")
    for signature, what in _SIGNATURES:
        if data.startswith(signature):
            raise BinaryFileError(
                f"{label} is {what}, not a CSV text file. "
                "Open it in its program and save or export it as CSV (comma-separated values)."
            )
    notes: list[str] = []
    if encoding is not None:
        try:
            codec = codecs.lookup(encoding).name
        except LookupError:
            raise ConfigError(
                f"Unknown text encoding {encoding!r}. Use utf-8, utf-8-sig, utf-16 or latin-1, "
                "or leave it automatic."
            ) from None
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as error:
            raise EncodingError(
                f"{label} is not valid {encoding} text: byte {data[error.start]:#04x} at "
                f"position {error.start} cannot be read. Leave the encoding automatic or try "
                "latin-1."
            ) from None
        if codec in ("utf-8", "utf-16") and text.startswith("\ufeff"):
            text = text[1:]
        used = encoding
    else:
        text, used = _detect_encoding(data, label)
        if used == "latin-1":
            notes.append(
                "The file is not UTF-8, so it was read as Latin-1 (Western European, "
                "Windows-1252). "
                "If accented letters look wrong, choose the encoding by hand."
            )
    if _encoding_name(used) == "latin-1":
        text = text.translate(_WINDOWS_1252)
    _refuse_binary_text(text, label)
    return text, _encoding_name(used), notes


# Files called Latin-1 are nearly always Windows-1252, which puts € – “ ” … where Latin-1 has
# unused control codes; read those bytes the Windows way (undefined ones stay as they are).
_WINDOWS_1252 = {
    code: bytes([code]).decode("cp1252", errors="ignore") or chr(code)
    for code in range(0x80, 0xA0)
}


def _detect_encoding(data: bytes, label: str) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise EncodingError(
                f"{label} starts like UTF-16 text but is broken further on. "
                "Save it again as UTF-8 CSV."
            ) from None
    head = data[:4000]
    if head.count(b"\x00") > len(head) // 4:
        # UTF-16 without a byte-order mark: ASCII letters leave a zero byte beside each one.
        even_zeros = head[0::2].count(0)
        odd_zeros = head[1::2].count(0)
        for codec, zeros, others in (("utf-16-le", odd_zeros, even_zeros),
                                     ("utf-16-be", even_zeros, odd_zeros)):
            if zeros > 0.6 * (len(head) // 2) and others < 0.05 * (len(head) // 2):
                try:
                    return data.decode(codec), codec
                except UnicodeDecodeError:
                    break
        raise BinaryFileError(
            f"{label} does not look like text (it is full of zero bytes). "
            "Choose a CSV file, or export your data as CSV first."
        )
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _encoding_name(encoding: str) -> str:
    """The codec's usual name: "utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"..."""
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        return encoding
    return "latin-1" if codec == "iso8859-1" else codec


def _refuse_binary_text(text: str, label: str) -> None:
    sample = text[:65536]
    controls = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\t\r\n\f\v") or ch == "\x7f")
    if "\x00" in sample or controls > max(2, len(sample) // 100):
        raise BinaryFileError(
            f"{label} does not look like a text file ({controls} control characters in the "
            "first part). Choose a CSV file, or export your data as CSV first."
        )


# ----------------------------------------------------------------------------- rows


def _check_sep(sep: str | None) -> str | None:
    if sep is None:
        return None
    sep = _SEPARATOR_ALIASES.get(sep.lower() if len(sep) > 1 else sep, sep)
    if len(sep) != 1 or sep in "\"'\r\n" or sep.isalnum() or sep in ".":
        raise ConfigError(
            f"The delimiter must be one character such as , ; | or tab; received {sep!r}."
        )
    return sep


def _check_decimal(decimal: str | None, sep: str | None) -> str | None:
    if decimal is None:
        return None
    if decimal not in (".", ","):
        raise ConfigError(f"The decimal mark must be '.' or ','; received {decimal!r}.")
    if decimal == sep:
        raise ConfigError(
            f"The decimal mark and the delimiter cannot both be '{decimal}'. "
            "Choose a different delimiter or decimal mark."
        )
    return decimal


def _split_lines(text: str, label: str) -> list[str]:
    lines = [line for line in text[:100_000].splitlines()[:200] if line.strip()]
    if not lines:
        raise EmptyFileError(f"{label} holds only blank lines. Choose a CSV file with data.")
    return lines[:60]


def _detect_sep(lines: list[str], exclude: str | None = None) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields."""
    candidates = [sep for sep in SEPARATORS if sep != exclude]
    best, best_score = candidates[0], (0.0, 0, 0)
    for sep in candidates:
        counts = [len(row) for row in _csv_rows("\n".join(lines), sep)]
        if not counts:
            continue
        mode, hits = Counter(counts).most_common(1)[0]
        if mode < 2:
            continue
        score = (hits / len(counts), int(counts[0] == mode), mode)
        if score > best_score:
            best, best_score = sep, score
    return best


def _csv_rows(text: str, sep: str) -> list[list[str]]:
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True))
    except csv.Error:
        return []


def _parse_rows(text: str, sep: str, label: str, max_rows: int) -> tuple[pd.DataFrame, list[str]]:
    """Split the text into a frame of strings indexed by line number; find the header."""
    notes: list[str] = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    try:
        if '"' in text:
            # A quoted cell may span lines: ask the reader on which line each row ends.
            rows, ends = [], []
            for row in reader:
                rows.append(row)
                ends.append(reader.line_num)
        else:
            rows = list(reader)
            ends = range(1, len(rows) + 1)
    except csv.Error as error:
        raise MalformedFileError(
            f"{label} could not be split into columns near line {reader.line_num}: {error}. "
            "Check for an unclosed quote (\") or save the file again as CSV."
        ) from None
    kept = [i for i, row in enumerate(rows) if any(row) and (len(row) > 1 or row[0].strip())]
    if len(kept) > max_rows + 1:
        raise FileTooLargeError(
            f"{label} has {len(kept) - 1:,} rows; the limit is {max_rows:,}. "
            "Aggregate it to a coarser frequency or keep only recent rows."
        )
    if len(kept) < len(rows):
        rows = [rows[i] for i in kept]
    line_numbers = [ends[i] for i in kept]
    if not rows:
        raise EmptyFileError(
            f"{label} holds no values, only delimiters or blank lines. "
            "Choose a CSV file with a header line and data rows."
        )
    width = Counter(len(row) for row in rows[:60]).most_common(1)[0][0]
    start = next(
        i for i, row in enumerate(rows) if len(row) >= width or _looks_like_header(row)
    )
    if start:
        notes.append(f"Skipped {start} line(s) before the header (line {line_numbers[start]}).")
    header = [cell.strip().strip('"').strip() for cell in rows[start]]
    body, body_lines = rows[start + 1 :], line_numbers[start + 1 :]
    if _looks_like_data(header) and body:
        header = [f"column_{i + 1}" for i in range(width)]
        body, body_lines = rows[start:], line_numbers[start:]
        notes.append("The first line holds data, not column names, so the columns were numbered.")
    if not body and _looks_like_data(header):
        raise TooFewRowsError(
            f"{label} holds a single line of {len(header)} value(s). RNN Lab reads a series from "
            "a column: put each value on its own line, under a header line such as 'value'."
        )
    if not body:
        raise HeaderOnlyError(
            f"{label} has a header ({_names(header)}) but no data rows. "
            "Add rows of data below the header."
        )
    while len(header) > 1 and not header[-1] and not any(
        len(row) >= len(header) and row[len(header) - 1].strip() for row in body
    ):
        header = header[:-1]  # a trailing delimiter on the header line, nothing below it
    if _has_row_names(header, body):
        header = ["row_name", *header]
        notes.append(
            "Each row has one value more than the header (row names, as R writes them); "
            "that first column was named 'row_name'."
        )
    header = _unique_names(header, notes)
    body = _even_rows(body, body_lines, len(header), sep, label, notes)
    frame = pd.DataFrame(body, columns=header, index=pd.Index(body_lines, name="line"), dtype=object)
    return frame, notes


_NUMBER_OR_DATE = re.compile(r"^[-+]?[\d.,]+(e[-+]?\d+)?$|^\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?", re.I)


def _has_row_names(header: list[str], body: list[list[str]]) -> bool:
    """Every row one cell wider than the header, and those first cells count 1, 2, 3..."""
    if len(body) < 2 or any(len(row) != len(header) + 1 for row in body):
        return False
    first = [row[0].strip() for row in body]
    start = first[0] if first[0] in ("0", "1") else None
    return start is not None and first == [str(int(start) + i) for i in range(len(body))]


def _looks_like_header(row: list[str]) -> bool:
    """Two or more non-empty names, none a number: a header even if data rows are wider."""
    cells = [cell.strip() for cell in row]
    return len(cells) >= 2 and all(cells) and not any(_NUMBER_OR_DATE.match(c) for c in cells)


def _looks_like_data(header: list[str]) -> bool:
    return all(_NUMBER_OR_DATE.match(cell) for cell in header)


def _unique_names(header: list[str], notes: list[str]) -> list[str]:
    names: list[str] = []
    renamed = []
    for i, name in enumerate(header):
        if not name:
            name = f"column_{i + 1}"
        base, k = name, 1
        while name in names:
            name = f"{base}.{k}"
            k += 1
        if name != header[i] and header[i]:
            renamed.append(f"'{header[i]}' -> '{name}'")
        names.append(name)
    if renamed:
        notes.append(f"Repeated column names were renamed: {', '.join(renamed)}.")
    return names


def _even_rows(
    body: list[list[str]], lines: list[int], width: int, sep: str, label: str, notes: list[str]
) -> list[list[str]]:
    """Pad short rows; trim empty trailing cells; refuse rows with extra values."""
    if set(map(len, body)) == {width}:
        return body
    long_rows = []
    padded = 0
    out = []
    for row, line in zip(body, lines, strict=True):
        if len(row) < width:
            row = row + [""] * (width - len(row))
            padded += 1
        elif len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                long_rows.append((line, len(row)))
            row = row[:width]
        out.append(row)
    if long_rows:
        shown = ", ".join(f"line {line} has {n}" for line, n in long_rows[:5])
        raise MalformedFileError(
            f"{label} has {len(long_rows)} row(s) with more values than the header's {width} "
            f"columns ({shown}). The delimiter is {SEPARATOR_NAMES.get(sep, repr(sep))}; if numbers "
            "use it as a thousands separator or decimal mark, put them in quotes or choose "
            "another delimiter."
        )
    if padded:
        notes.append(f"{padded} short row(s) were padded with missing values.")
    return out


# ----------------------------------------------------------------------------- numbers

_MISSING_TOKENS = {
    "", "na", "n/a", "nan", "null", "none", "-", "--", "?", ".", "#n/a", "missing", "nil",
    "#value!", "#div/0!", "n.a.", "..", "…",
}
# Spaces inside a number only as thousands groups ("1 234 567") or after a sign ("- 4").
_SPACES = re.compile(r"(?<=\d)[\s\u00a0\u202f\u2009](?=\d{3}(?!\d))|(?<=^[-+])\s+")
_CURRENCY = re.compile(r"^[$€£¥₹]|[$€£¥₹%]$")
_NUMBERISH = re.compile(r"^[-+]?\d[\d.,']*$")


def _clean_cells(cells: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells with spaces, currency and percent signs removed, and a mask of missing tokens."""
    text = cells.astype(str).str.strip()
    missing = text.str.lower().isin(_MISSING_TOKENS)
    text = text.str.replace("\u2212", "-", regex=False)
    text = text.str.replace(_CURRENCY, "", regex=True).str.strip()
    text = text.str.replace(_CURRENCY, "", regex=True)
    text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)  # accounting negatives: (12) = -12
    text = text.str.replace(_SPACES, "", regex=True)
    return text, missing


def _to_numbers(cells: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats (NaN where missing or bad), a mask of missing cells and a mask of bad cells."""
    text = cells.astype(str)
    # Fast path: plain numbers ("12.5", " 7 ", "1e5"; "12,5" with a decimal comma) need no cleaning.
    plain = text.str.replace(",", ".", regex=False) if decimal == "," else text
    numbers = pd.to_numeric(plain, errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        done = np.isfinite(numbers)
    if decimal == ",":
        done &= ~text.str.contains(".", regex=False).to_numpy()  # "1.234" is a thousand here
    missing = np.zeros(len(text), dtype=bool)
    bad = np.zeros(len(text), dtype=bool)
    rest = ~done
    if rest.any():
        slow_numbers, slow_missing, slow_bad = _to_numbers_slowly(text[rest], decimal)
        numbers[rest] = slow_numbers
        missing[rest] = slow_missing
        bad[rest] = slow_bad
    return numbers, missing, bad


def _to_numbers_slowly(text: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Numbers written with thousands separators, currency or percent signs, or missing markers."""
    text, missing = _clean_cells(text)
    if decimal == ",":
        text = text.str.replace(r"(?<=\d)[.'](?=\d{3}(?!\d))", "", regex=True)
        text = text.str.replace(",", ".", regex=False)
    else:
        text = text.str.replace(r"(?<=\d)[,'](?=\d{3}(?!\d))", "", regex=True)
    numbers = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(numbers) & ~missing.to_numpy()
    numbers = np.where(np.isfinite(numbers), numbers, np.nan)
    return numbers, missing.to_numpy(), bad


def _maybe_numbers(cells: pd.Series, decimal: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """`_to_numbers` for a column where 90% of the present cells are numbers, else None.

    A spread-out sample decides first, so a long column of dates or names is not cleaned
    cell by cell for nothing.
    """
    if len(cells) > 4000:
        sample = cells.iloc[:: len(cells) // 2000]
        _, missing, bad = _to_numbers(sample, decimal)
        present = int((~missing).sum())
        if present and int(bad.sum()) > 0.5 * present:
            return None
    numbers, missing, bad = _to_numbers(cells, decimal)
    present = int((~missing).sum())
    if present and int(bad.sum()) <= 0.1 * present:
        return numbers, missing, bad
    return None


def _detect_decimal(raw: pd.DataFrame, sep: str) -> tuple[str, str | None]:
    """'.' or ',' from the numbers in the file; a note when the choice was a guess."""
    comma = point = ambiguous_comma = ambiguous_point = 0
    for column in raw.columns:
        head = raw[column].iloc[:1000].astype(str)
        cells, _ = _clean_cells(head[head.str.contains(r"\d[.,]", regex=True)])
        for cell in cells[cells.str.match(_NUMBERISH)]:
            cell = cell.lstrip("+-")
            last_comma, last_point = cell.rfind(","), cell.rfind(".")
            if last_comma >= 0 and last_point >= 0:
                if last_comma > last_point:
                    comma += 1
                else:
                    point += 1
                continue
            mark = "," if last_comma >= 0 else "." if last_point >= 0 else None
            if mark is None or cell.count(mark) > 1:
                continue
            whole, fraction = cell.split(mark)
            clear = whole.startswith("0") or len(whole) > 3 or len(fraction) != 3 or not whole
            if mark == ",":
                comma += clear
                ambiguous_comma += not clear
            else:
                point += clear
                ambiguous_point += not clear
    if comma > point:
        return ",", "Numbers use a decimal comma (like 12,5)."
    if point > comma or not (ambiguous_comma or ambiguous_point):
        return ".", None
    if sep == "," and not ambiguous_comma:
        return ".", None  # 23.110 in a comma-separated file: a comma decimal would need quotes
    guess = "," if sep == ";" and ambiguous_comma else "."
    return guess, (
        f"Numbers such as 1{'.' if guess == ',' else ','}234 could be read two ways; "
        f"'{guess}' was taken as the decimal mark. Change it if the values look wrong."
    )


def _typed_frame(raw: pd.DataFrame, decimal: str) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """The table with number columns as floats; the numbers of each mostly-numeric column."""
    frame = raw.copy()
    numbers: dict[str, np.ndarray] = {}
    for column in raw.columns:
        converted = _maybe_numbers(raw[column], decimal)
        if converted is not None:
            numbers[column] = converted[0]
            frame[column] = converted[0]
    frame.index = pd.RangeIndex(len(frame))
    return frame, numbers


def _numeric_candidates(
    raw: pd.DataFrame, numbers: dict[str, np.ndarray], date_candidates: list[str]
) -> list[str]:
    """Number columns usable as a target: real measurements first, id-like columns last."""
    usable = [c for c in raw.columns if c in numbers and c not in date_candidates]
    usable = [c for c in usable if np.isfinite(numbers[c]).sum() >= 2]
    first = raw.columns[0]
    ids = [c for c in usable if _id_like(c, numbers[c], first=c == first)]
    return [c for c in usable if c not in ids] + ids


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


# ----------------------------------------------------------------------------- dates

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


# ----------------------------------------------------------------------------- wide tables

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


# ----------------------------------------------------------------------------- series


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


def _regularise(points: pd.Series, notes: list[str]) -> tuple[pd.Series, str | None, np.ndarray]:
    """Sort, align to a regular grid, average duplicates, reindex.

    Returns the points, the frequency (None when irregular) and a mask of the grid positions
    that had no row in the file (gaps).
    """
    if not points.index.is_monotonic_increasing:
        points = points.sort_index(kind="stable")
        notes.append("Rows were not in time order and were sorted by time.")
    times = pd.DatetimeIndex(points.index)
    freq, aligned, how = _infer_grid(times)
    if aligned is not None and not aligned.equals(times):
        moved = int((aligned != times).sum())
        notes.append(f"{moved} time(s) were moved to {how}.")
        points = pd.Series(points.to_numpy(), index=aligned)
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


# ----------------------------------------------------------------------------- message helpers


def _delimiter_advice(raw: pd.DataFrame) -> str:
    first = str(raw.iloc[0, 0]).strip()
    if raw.shape[1] == 1 and len(first.split()) > 1:
        return (
            "The values seem to be separated by spaces, which RNN Lab does not read: save the "
            "file as CSV with commas, semicolons, tabs or | between the columns."
        )
    return "Check the delimiter and decimal mark, or name the value column."


def _names(columns: list[str], limit: int = 12) -> str:
    shown = ", ".join(f"'{c}'" for c in columns[:limit])
    if len(columns) > limit:
        shown += f" and {len(columns) - limit} more"
    return shown


def _sample_values(cells: pd.Series, mask: np.ndarray | pd.Series, limit: int = 3) -> str:
    picked = cells[np.asarray(mask)].astype(str).head(limit).tolist()
    return ", ".join(repr(_shorten(v)) for v in picked)


def _sample_row(raw: pd.DataFrame) -> str:
    row = raw.iloc[0].astype(str).tolist()
    return "first row: " + ", ".join(repr(_shorten(v)) for v in row[:8])


def _shorten(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
