"""The forecast page forecasting every series of a file with one network (issue 13, item 2)."""

from __future__ import annotations

import pandas as pd
import pytest
from app_helpers import job_of, page, run_until_finished, texts

from ui.jobs import job_manager
from ui.loaders import fingerprint

PAGE = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def stores_csv(lengths=(("A", 40), ("B", 30), ("C", 5)), duplicate: bool = True) -> bytes:
    """Stores of unequal length (days), B's 2024-01-13 given twice, C with 5 points."""
    days = pd.date_range("2024-01-01", periods=40, freq="D")
    rows = []
    for store, length in lengths:
        start = 40 - length if store == "B" else 0
        rows += [f"{d:%Y-%m-%d},{store},{100 + (i % 7) * 9 + i}"
                 for i, d in enumerate(days[start : start + length])]
    if duplicate:
        rows.append("2024-01-13,B,999")
    return ("date,store,sales\n" + "\n".join(rows)).encode()


def own_file(data: bytes):
    at = page(PAGE)
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value(("stores.csv", data, "text/csv"))
    at.run()
    return at


@pytest.mark.slow
def test_every_series_of_a_long_file_is_forecast_with_one_network():
    data = stores_csv()
    at = own_file(data)
    toggle = at.toggle(key=f"fc_all_{fingerprint(data)}")
    assert toggle.value is False
    toggle.set_value(True).run()
    assert not at.exception and not at.error, texts(at.error)
    said = " ".join(texts(at.caption))
    assert "2 series will be forecast with one network (A, B)" in said
    assert "'C' (5 usable point(s)" in said and "duplicate" in said.lower()
    assert not [b for b in at.button if b.key == "train"]  # the one-series button is gone
    at.number_input(key="fc_epochs").set_value(2).run()
    at.number_input(key="fc_units").set_value(4).run()
    at.button(key="train-all").click().run()
    job = job_of(at, "forecast_all")
    assert job is not None
    run_until_finished(at, key="forecast_all")
    assert not at.exception, at.exception
    assert job.state.value == "done", job.snapshot().message
    result = job.result
    assert set(result.scores) == {"A", "B"}

    scores = at.dataframe[-2].value
    assert scores["store"].tolist() == ["A", "B"]
    assert {"points", "model (MASE)", "naive", "AutoETS", "best"} <= set(scores.columns)
    overall = at.dataframe[-1].value
    assert "model" in overall["forecaster"].tolist()
    assert "geometric-mean MASE" in overall.columns
    assert any(result.verdict() == text and "geometric-mean MASE" in text
               for text in texts(at.success) + texts(at.info))

    # A chart per series on demand.
    chooser = at.selectbox(key=f"many-chart-{job.id}")
    assert chooser.options == ["A", "B"]
    chooser.set_value("B").run()
    assert not at.exception
    figure = at.get("plotly_chart")[-1].proto.spec
    assert "Series B" in figure

    # One CSV of every forecast, with the id column.
    labels = [button.label for button in at.download_button]
    assert "Download every forecast (CSV)" in labels
    frame = result.forecast
    assert list(frame.columns[:2]) == ["store", "time"]
    assert frame.groupby("store").size().to_dict() == {"A": 28, "B": 28}  # 14 holdout + 14 ahead


def test_a_file_whose_series_are_all_too_short_says_so():
    data = stores_csv((("B", 9), ("C", 5), ("D", 8)), duplicate=False)
    at = own_file(data)
    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(True).run()
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "cannot be forecast together" in errors and "None of the 3 series" in errors, errors


def test_series_too_short_for_the_holdout_are_named_before_training():
    data = stores_csv((("A", 40), ("B", 30), ("C", 5)))
    at = own_file(data)
    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(True).run()
    at.number_input(key="fc_horizon").set_value(27).run()  # B: 30 points, 27 held out
    said = " ".join(texts(at.caption))
    assert "Horizon 27, holdout 27" in said and "left out: B" in said, said
    at.number_input(key="fc_horizon").set_value(37).run()  # A too: nothing left to learn from
    errors = " ".join(texts(at.error))
    assert "No series is long enough: each needs at least 41 points" in errors, errors
    assert at.button(key="train-all").disabled
