"""The seed's two examples: their data exactly, and sensible answers after training."""

from pathlib import Path

import numpy as np
import pytest

from core.errors import InputError
from core.jobs import JobContext, JobState, run_inline
from core.seed_examples import (
    LOVE_TASK,
    SUM_TASK,
    prefix_sequences,
    read_seed_sentences,
    sum_data,
)

SUM_TOLERANCE = 1.0  # the seed's model should say 11 +- 1 after [5, 6]


def test_sum_data_is_the_seeds():
    x, y = sum_data()
    assert x.shape == (5, 2, 1)
    np.testing.assert_array_equal(x[:, :, 0], [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]])
    np.testing.assert_array_equal(y, [1, 3, 5, 7, 9])


def test_prefix_sequences_are_the_seeds_growing_prefixes():
    x, y, vocab = prefix_sequences(["I love machine learning", "deep learning is amazing"])
    assert vocab.words[2:] == ["i", "love", "machine", "learning", "deep", "is", "amazing"]
    words = lambda ids: [vocab.words[i] for i in ids]  # noqa: E731
    assert [words(row) for row in x] == [
        ["<pad>", "<pad>", "i"],
        ["<pad>", "i", "love"],
        ["i", "love", "machine"],
        ["<pad>", "<pad>", "deep"],
        ["<pad>", "deep", "learning"],
        ["deep", "learning", "is"],
    ]
    assert words(y) == ["love", "machine", "learning", "learning", "is", "amazing"]


def test_the_seed_sentences_file_holds_the_four_sentences():
    sentences = read_seed_sentences()
    assert len(sentences) == 4 and sentences[0] == "I love machine learning"
    x, _, _ = prefix_sequences(sentences)
    assert x.shape == (13, 4)  # 3 + 3 + 4 + 3 prefixes, padded to the longest sentence - 1


def test_no_words_is_refused():
    with pytest.raises(InputError, match="at least one sentence"):
        prefix_sequences(["...", "  "])


@pytest.mark.slow
def test_sum_example_answers_about_eleven_as_a_job(job_manager):
    job = job_manager.submit(SUM_TASK, {"seed": 0})
    snapshot = job.wait(300)
    assert snapshot.state is JobState.DONE, snapshot.message
    assert abs(job.result["prediction"] - 11.0) <= SUM_TOLERANCE
    assert [log["epoch"] for log in snapshot.logs][-1] == 200  # logs count the seed's epochs
    assert job.result["history"][-1]["loss"] < job.result["history"][0]["loss"]


@pytest.mark.slow
def test_i_love_suggests_deep_or_machine(tmp_path):
    result = run_inline(LOVE_TASK, {"seed": 0}, JobContext(tmp_path))
    top = [word for word, _ in result["suggestions"]["i love"]]
    assert top[0] in ("deep", "machine")
    assert set(top[:2]) == {"deep", "machine"}  # the two continuations the corpus holds
    assert result["pairs"] == 13


HOME_SECTION = f"""
import sys
sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})
from ui.seed_examples import show_seed_examples
from ui.state import init

if __name__ == "__main__":  # spawn workers import this script again: draw nothing there
    init()
    show_seed_examples()
"""


def _home_section(tmp_path):
    from streamlit.testing.v1 import AppTest

    script = tmp_path / "home_section.py"
    script.write_text(HOME_SECTION, encoding="utf-8")
    # page links are resolved against the entry script's folder, as for app.py
    (tmp_path / "pages").symlink_to(Path(__file__).resolve().parents[1] / "pages")
    return AppTest.from_file(str(script), default_timeout=60).run()


@pytest.fixture()
def ui_workers():
    yield
    from ui.jobs import job_manager

    job_manager().shutdown()
    job_manager.clear()


def test_home_section_shows_both_examples_without_training(ui_workers, tmp_path):
    at = _home_section(tmp_path)
    assert not at.exception
    titles = " ".join(str(m.value) for m in at.markdown)
    assert "Sum of the previous two numbers" in titles and "I love" in titles
    assert at.button(key="run-seed-sum").help and at.button(key="run-seed-love").help


@pytest.mark.slow
def test_home_section_runs_both_examples(ui_workers, tmp_path):
    from app_helpers import run_until_finished

    at = _home_section(tmp_path)
    at.button(key="run-seed-sum").click().run()
    at.button(key="run-seed-love").click().run()
    run_until_finished(at, "seed-sum", timeout=300)
    run_until_finished(at, "seed-love", timeout=300)
    assert not at.exception and not at.error
    answer = float(at.metric[0].value)
    assert abs(answer - 11.0) <= SUM_TOLERANCE
    words = " ".join(str(m.value) for m in at.markdown)
    assert "After **“I love”** it suggests: **deep**" in words or \
        "After **“I love”** it suggests: **machine**" in words
    assert len(at.get("plotly_chart")) == 2  # one loss curve each
    # counted in the seed's epochs, as in the notes
    assert at.success[0].value.startswith("Trained 200 epochs")
    assert at.success[1].value.startswith("Trained 300 epochs")
