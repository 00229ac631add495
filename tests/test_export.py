"""safe_csv neutralises spreadsheet formulas in text cells and leaves numbers alone."""

import io

import pandas as pd
import pytest

from core.export import safe_csv


@pytest.mark.parametrize("text", ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_like_text_gets_an_apostrophe(text):
    csv = safe_csv(pd.DataFrame({"name": [text]}))
    assert pd.read_csv(io.StringIO(csv), keep_default_na=False)["name"][0].startswith("'")


def test_numbers_and_plain_text_are_untouched():
    frame = pd.DataFrame({"value": [-1.5, 2.0], "label": ["a", "b=c"]})
    back = pd.read_csv(io.StringIO(safe_csv(frame)))
    assert back["value"].tolist() == [-1.5, 2.0]
    assert back["label"].tolist() == ["a", "b=c"]


def test_headers_are_neutralised_too():
    assert safe_csv(pd.DataFrame({"=HYPERLINK()": [1]})).splitlines()[0] == "'=HYPERLINK()"


def test_dates_are_written_as_dates():
    frame = pd.DataFrame({"time": pd.date_range("2020-01-01", periods=2, freq="MS"), "x": [1, 2]})
    assert safe_csv(frame).splitlines()[1] == "2020-01-01,1"
