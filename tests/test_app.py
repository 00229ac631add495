"""AppTest tests of the home page (app.py)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from app_helpers import ROOT, job_of, page, texts

from ui.jobs import job_manager


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def test_home_runs_and_offers_quick_starts_and_pages():
    at = page("app.py")
    assert not at.exception
    assert at.title[0].value == "RNN Lab"
    labels = [button.label for button in at.button]
    assert labels[:3] == ["Forecast airline passengers", "Forecast Australian beer",
                          "Forecast weekly sales"]
    links = [link.label for link in at.get("page_link")]
    assert "Forecast" in links


def test_home_does_not_import_tensorflow():
    # In a fresh interpreter: other tests in this session may have imported TensorFlow already.
    code = (
        "import sys\n"
        "from streamlit.testing.v1 import AppTest\n"
        "if __name__ == '__main__':\n"
        f"    at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60)\n"
        "    at.run()\n"
        "    assert not at.exception, at.exception\n"
        "    print('tensorflow' in sys.modules, 'keras' in sys.modules)\n"
        "    from ui.jobs import job_manager\n"
        "    job_manager().shutdown()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.slow
def test_quick_start_opens_the_forecast_page_and_starts_training():
    at = page("app.py")
    at.button(key="quick-australian_beer").click().run()
    assert not at.exception
    assert at.title[0].value == "Forecast a time series"
    assert at.selectbox(key="fc_sample").value == "australian_beer"
    job = job_of(at)
    assert job is not None, "the quick start did not start a training job"
    assert any("Training is running" in text for text in texts(at.info))
    job.stop()  # the full default run is not needed here
    job.wait(120)
