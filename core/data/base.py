"""What reading a file produces (`Table`, `Series`), the errors it raises, and message helpers."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from core.errors import InputError

MIN_POINTS = 10
MAX_ABS = 1e150  # squares of values stay finite (losses and variances square them)
MISSING_POLICIES = ("interpolate", "ffill", "zero", "drop")




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


class FormulaError(InputError):
    """A workbook's formulas have no saved results to read."""


class WideTableError(InputError):
    """One row per year with one column per month/quarter that cannot be reshaped safely."""




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
    # Set when the default value column is a guess among several: the UI asks the user.
    target_question: str | None = None
    # For a workbook: the sheet read and every sheet's name (a CSV has none).
    sheet: str | None = None
    sheets: tuple[str, ...] = ()


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


# Errors no check above foresaw. A user still gets a plain message instead of a traceback; the
# property tests fail if one ever happens, so each is found and given its own check.
_UNEXPECTED = (ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError)


def _unexpected(error: Exception) -> UnreadableFileError:
    return UnreadableFileError(
        f"The file could not be read ({type(error).__name__}: {_shorten(str(error), 200)}). "
        "Check that it is a CSV file with a header line and a column of numbers, or choose the "
        "delimiter, decimal mark and encoding by hand."
    )




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
