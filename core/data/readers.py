"""Reading a file's bytes: size, encoding, delimiter, header and rows -> a `Table`."""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from core.data.base import (
    _UNEXPECTED,
    BinaryFileError,
    EmptyFileError,
    EncodingError,
    FileTooLargeError,
    HeaderOnlyError,
    MalformedFileError,
    Table,
    TooFewRowsError,
    _names,
    _shorten,
    _unexpected,
)
from core.data.columns import (
    _combine_date_and_clock,
    _combine_year_and_period,
    _id_like,
    _numeric_candidates,
    _refuse_partial_wide,
    _reshape_wide,
    _target_question,
)
from core.data.numbers import _detect_decimal, _typed_frame
from core.data.times import _date_candidates
from core.errors import ConfigError, InputError

SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_SEPARATOR_ALIASES = {
    "\\t": "\t", "tab": "\t", "comma": ",", "semicolon": ";", "pipe": "|", "bar": "|",
}




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


def read_file(
    source: Any,
    *,
    sheet: str | None = None,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    max_bytes: int = 50_000_000,
    max_rows: int = 1_000_000,
) -> Table:
    """Read a CSV file or one sheet of an .xlsx / .ods workbook, whichever the file is.

    A workbook is recognised by its content (a zip holding a workbook) or its name; `sheet`
    names the sheet to read (default: the first that holds a table; `Table.sheets` lists all).
    `sep`, `decimal` and `encoding` apply to CSV files only.
    """
    data, label = _read_bytes(source, max_bytes)
    name = source if isinstance(source, (str, Path)) else getattr(source, "name", None)
    from core.data import spreadsheets  # openpyxl and odfpy load only for workbooks

    if spreadsheets.is_workbook(data, None if name is None else str(name)):
        try:
            return spreadsheets.read_spreadsheet(data, label, sheet=sheet, max_rows=max_rows)
        except _UNEXPECTED as error:
            raise _unexpected(error) from error
    named: Any = data
    if name is not None:  # read once, and keep the file's name for messages
        named = io.BytesIO(data)
        named.name = str(name)
    return read_csv(
        named, sep=sep, decimal=decimal, encoding=encoding, max_bytes=max_bytes, max_rows=max_rows
    )


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
    return _table(raw, decimal, notes, encoding=used_encoding, sep=sep)


def _table(
    raw: pd.DataFrame, decimal: str, notes: list[str], *, encoding: str, sep: str,
    sheet: str | None = None, sheets: tuple[str, ...] = (),
) -> Table:
    """The detections every reader shares, on a frame of cells as text indexed by line number."""
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
        encoding=encoding,
        sep=sep,
        decimal=decimal,
        date_candidates=date_candidates,
        numeric_candidates=numeric_candidates,
        notes=notes,
        _raw=raw,
        target_question=_target_question(
            [c for c in numeric_candidates if not _id_like(c, numbers[c], c == raw.columns[0])]
        ),
        sheet=sheet,
        sheets=sheets,
    )




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
    return _frame_from_rows(rows, list(ends), sep, label, max_rows)


def _frame_from_rows(
    rows: list[list[str]], ends: list[int], sep: str, label: str, max_rows: int
) -> tuple[pd.DataFrame, list[str]]:
    """Rows of cells (and the line each ends on) -> a frame of strings; finds the header.

    `sep` is "" for a spreadsheet's rows (messages then speak of cells, not delimiters).
    """
    notes: list[str] = []
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
        if not sep:  # a spreadsheet: cells typed to the right of the table
            raise MalformedFileError(
                f"{label} has {len(long_rows)} row(s) with values to the right of the header's "
                f"{width} named columns ({shown}, counting from column A). Give those columns a "
                "name in the header row, or delete what is typed beside the table."
            )
        raise MalformedFileError(
            f"{label} has {len(long_rows)} row(s) with more values than the header's {width} "
            f"columns ({shown}). The delimiter is {SEPARATOR_NAMES.get(sep, repr(sep))}; if numbers "
            "use it as a thousands separator or decimal mark, put them in quotes or choose "
            "another delimiter."
        )
    if padded and sep:  # in a spreadsheet, empty cells at a row's end are just empty
        notes.append(f"{padded} short row(s) were padded with missing values.")
    return out
