"""Cells to numbers: decimal marks, thousands groups, currency, missing-value markers."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

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
