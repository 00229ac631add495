"""The home page opens without the heavy libraries: TensorFlow, Keras, pandas, Plotly's figures.

Each check runs in a fresh Python (a subprocess), where only Streamlit is loaded beforehand, as
in a server that has not served a page yet, and reads `sys.modules` afterwards.
"""

import json
import subprocess
import sys

import pytest
from app_helpers import ROOT

HEAVY = ("tensorflow", "keras", "pandas", "plotly.graph_objects", "statsmodels", "optuna")

IMPORT_APP = """
import json, sys
sys.path.insert(0, {root!r})
import streamlit
before = set(sys.modules)
import app
print(json.dumps(sorted(set(sys.modules) - before)))
"""

# The home page's first run in AppTest (what a first visitor's session runs); the job manager it
# starts is shut down at the end so that no worker outlives the check.
RUN_HOME = """
import json, sys
sys.path.insert(0, {root!r})
from streamlit.testing.v1 import AppTest
before = set(sys.modules)
at = AppTest.from_file({app!r}, default_timeout=120)
at.run()
loaded = sorted(set(sys.modules) - before)
failed = [str(e.value) for e in at.exception]
from ui.jobs import job_manager
job_manager().shutdown()
print(json.dumps({{"loaded": loaded, "failed": failed}}))
"""


def _run(script: str) -> object:
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return [name for name in HEAVY if name in modules]


def test_importing_the_home_page_loads_no_heavy_library():
    loaded = _run(IMPORT_APP.format(root=str(ROOT)))
    assert "ui.jobs" in loaded  # the check saw the app's own modules load
    assert _heavy(loaded) == []


@pytest.mark.slow
def test_the_home_pages_first_run_loads_no_heavy_library():
    outcome = _run(RUN_HOME.format(root=str(ROOT), app=str(ROOT / "app.py")))
    assert outcome["failed"] == []
    assert "ui.seed_examples" in outcome["loaded"]
    assert _heavy(outcome["loaded"]) == []
