"""The forecast page's data step with "Forecast all series" on: no single series to pick, no
single series' chart (each series' chart comes with the results)."""

from __future__ import annotations

import pytest
from app_helpers import page, texts

from tests.test_page_many import stores_csv
from ui.jobs import job_manager
from ui.loaders import fingerprint

PAGE = "pages/1_Forecast.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def series_boxes(at) -> list:
    return [box for box in at.selectbox if box.label == "Series"]


def series_chart_drawn(at) -> bool:
    return any(chart.proto.id and "fc-series" in chart.proto.id
               for chart in at.get("plotly_chart"))


def test_forecasting_all_series_hides_the_one_series_choice_and_brings_it_back():
    data = stores_csv(lengths=(("A", 40), ("B", 30), ("C", 35)), duplicate=False)
    at = page(PAGE)
    at.radio(key="fc_source").set_value("My own CSV file").run()
    at.file_uploader(key="fc_upload").set_value(("stores.csv", data, "text/csv"))
    at.run()
    assert not at.exception and not at.error, texts(at.error)
    [box] = series_boxes(at)
    box.set_value("B").run()
    assert "one is forecast at a time" in " ".join(texts(at.caption))
    assert series_chart_drawn(at)
    assert [text for text in texts(at.markdown) if "points from" in text]  # B's summary

    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(True).run()
    assert not at.exception and not at.error, texts(at.error)
    said = " ".join(texts(at.caption))
    assert series_boxes(at) == []
    assert "one is forecast at a time" not in said
    assert "3 series will be forecast with one network (A, B, C)" in said
    assert not series_chart_drawn(at)
    assert not [text for text in texts(at.markdown) if "points from" in text]  # no summary

    at.toggle(key=f"fc_all_{fingerprint(data)}").set_value(False).run()
    assert not at.exception
    [box] = series_boxes(at)
    assert box.value == "B"  # the series picked before the switch went on
    assert series_chart_drawn(at)
