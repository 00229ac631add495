"""AppTest tests of the next-word page (pages/2_Next_Word.py), on tiny settings."""

from __future__ import annotations

import json

import pytest
from app_helpers import job_of, page, run_until_finished, texts

from core.config import NextWordConfig
from core.jobs import JobState
from ui.jobs import job_manager

PAGE = "pages/2_Next_Word.py"


@pytest.fixture(scope="module", autouse=True)
def stop_ui_workers():
    yield
    job_manager().shutdown()
    job_manager.clear()


def use_own_file(at, name: str, data: bytes):
    at.radio(key="nw_source").set_value("My own .txt file").run()
    at.file_uploader(key="nw_upload").set_value((name, data, "text/plain"))
    at.run()
    return at


def test_page_runs_with_the_default_sample_and_describes_it():
    at = page(PAGE)
    assert not at.exception and not at.error
    assert [header.value for header in at.header] == [
        "1. Text", "2. Model", "3. Train", "4. Use the model"
    ]
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics["Words"] == "5,526"
    assert int(metrics["Seen at least twice"].replace(",", "")) > 500
    assert at.button(key="nw_train").disabled is False
    assert at.session_state["_nw_config"] == NextWordConfig()


def test_every_control_has_a_help_text():
    at = page(PAGE)
    widgets = [*at.radio, *at.selectbox, *at.number_input, *at.checkbox, *at.file_uploader,
               *at.button]
    assert [widget.label for widget in widgets if not widget.help] == []


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("empty.txt", b"", "empty"),
        ("picture.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 40, "binary"),
        ("short.txt", b"just four words here", "at least"),
    ],
)
def test_a_bad_text_file_shows_an_error_and_no_exception(name, data, expected):
    at = use_own_file(page(PAGE), name, data)
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert expected in errors.lower(), errors
    assert at.button(key="nw_train").disabled is True


def test_settings_out_of_range_show_an_error_not_a_traceback():
    at = page(PAGE)
    at.session_state["nw_learning_rate"] = 5.0  # beyond what the widget allows via typing
    at.run()
    assert not at.exception


def test_an_uploaded_settings_file_fills_the_controls():
    at = page(PAGE)
    settings = NextWordConfig(cell="gru", units=24, context=5).to_json().encode()
    at.file_uploader(key="nw_settings_file").set_value(("s.json", settings, "application/json"))
    at.run()
    assert not at.exception
    assert at.session_state["_nw_config"] == NextWordConfig(cell="gru", units=24, context=5)
    bad = json.dumps({"kind": "forecast"}).encode()
    at.file_uploader(key="nw_settings_file").set_value(("bad.json", bad, "application/json"))
    at.run()
    assert "right page" in " ".join(texts(at.error))


@pytest.mark.slow
def test_training_then_suggest_generate_and_download_on_tiny_settings():
    at = page(PAGE)
    at.selectbox(key="nw_sample").set_value("seed_sentences.txt")
    for key, value in {"nw_units": 8, "nw_embedding_dim": 8, "nw_epochs": 3, "nw_min_count": 1,
                       "nw_context": 3}.items():
        at.number_input(key=key).set_value(value)
    at.run()
    at.button(key="nw_train").click().run()
    assert not at.exception
    run_until_finished(at, "nextword", timeout=300)
    assert not at.exception
    job = job_of(at, "nextword")
    assert job.state is JobState.DONE, job.snapshot().message
    from core.settingsfile import DataRef

    assert job.note["data"] == DataRef(sample="seed_sentences.txt")  # its settings file's text
    labels = [metric.label for metric in at.metric]
    assert any(label.startswith("Perplexity") for label in labels)
    assert any("Kneser-Ney" in str(metric.delta) for metric in at.metric)
    parts = [frame.value for frame in at.dataframe if "Model" in frame.value.columns]
    assert len(parts) == 1 and len(parts[0]) == 3  # the mix, the network alone, counting alone
    assert parts[0]["Model"].str.contains("alone").sum() == 2
    metrics = job.result["metrics"]
    assert parts[0]["Perplexity"].tolist() == pytest.approx(
        [metrics["perplexity"], metrics["network"]["perplexity"],
         metrics["baseline"]["perplexity"]])

    at.text_input(key="nw_prompt").set_value("I love").run()
    assert not at.exception and not at.error
    assert any(caption.startswith("Not shown: a word the model does not know")
               for caption in texts(at.caption))
    at.button(key="nw_generate").click().run()
    assert not at.exception
    written = " ".join(texts(at.markdown))
    assert "I love" in written
    assert at.session_state["_nw_config"].units == 8


def _untrained_model_file(trained_on: dict) -> tuple[bytes, object]:
    """A model file of a small untrained network (random weights): quick, and just as checkable."""
    import numpy as np

    from core.nextword import MIX_SHARES, NextWordModel, build_network, pair_counts
    from core.text import Vocabulary, tokenize

    tokens = tokenize("i love deep learning . i love machine learning . rnns read words .")
    vocab = Vocabulary.build(tokens, min_count=1)
    model = NextWordModel(NextWordConfig(context=3, embedding_dim=4, units=4, ensemble=1,
                                         mix_counts=False))
    model.vocab_, model.model_ = vocab, build_network(model.config, len(vocab))
    model.ngram_ids_, model.ngram_ = vocab.encode(tokens), None
    model.pairs_ = pair_counts(model.ngram_ids_)
    model.mix_weights_, model.unknown_rates_ = np.ones(MIX_SHARES), (0.05, 0.1)
    return model.to_model_file(trained_on=trained_on), model


def _suggested_words(at) -> list[str]:
    chart = next(chart for chart in at.get("plotly_chart")
                 if "nw-suggestions" in chart.proto.id)
    return json.loads(chart.proto.spec)["data"][0]["y"]


def test_an_uploaded_model_file_suggests_without_training_and_says_what_it_learnt():
    data, model = _untrained_model_file({"name": "my_[notes]*.txt", "words": 1234, "top1": 0.25,
                                         "top5": 0.5})
    at = page(PAGE)
    at.file_uploader(key="nw_model_file").set_value(("model.rnnlab", data, "application/zip"))
    at.run()
    assert not at.exception and not at.error
    said = " ".join(texts(at.success))
    assert "no training needed" in said and "1,234 words" in said and "UTC" in said
    assert r"my\_\[notes\]\*\.txt" in said  # a file name cannot inject markdown
    assert job_of(at, "nextword") is None  # nothing was trained
    at.text_input(key="nw_prompt").set_value("i love").run()
    assert not at.exception
    expected = [item["word"] for item in model.suggest("i love", top_k=5)]
    assert _suggested_words(at) == expected


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"PK\x03\x04 truncated", "not an RNN Lab model file"),
        (b"\x89HDF\r\n\x1a\n" + bytes(64), "Keras .h5"),
    ],
)
def test_a_foreign_model_file_is_refused_on_the_page(content, fragment):
    at = page(PAGE)
    at.file_uploader(key="nw_model_file").set_value(("model.rnnlab", content, "application/zip"))
    at.run()
    assert not at.exception
    assert fragment in " ".join(texts(at.error))
    assert not at.success


def test_a_model_file_signed_elsewhere_is_refused_on_the_page():
    import numpy as np

    from core.modelfile import save_model_file

    data = save_model_file("nextword", {}, {"w": np.zeros(1, "float32")},
                           secret=b"another-server-secret-0123456789")
    at = page(PAGE)
    at.file_uploader(key="nw_model_file").set_value(("model.rnnlab", data, "application/zip"))
    at.run()
    assert not at.exception
    assert "not made by this RNN Lab server" in " ".join(texts(at.error))


@pytest.mark.slow
def test_a_trained_models_file_brings_the_same_suggestions_to_a_fresh_session():
    at = page(PAGE)
    at.selectbox(key="nw_sample").set_value("seed_sentences.txt")
    for key, value in {"nw_units": 8, "nw_embedding_dim": 8, "nw_epochs": 2, "nw_min_count": 1,
                       "nw_context": 3}.items():
        at.number_input(key=key).set_value(value)
    at.run()
    at.button(key="nw_train").click().run()
    run_until_finished(at, "nextword", timeout=300)
    job = job_of(at, "nextword")
    assert job.state is JobState.DONE, job.snapshot().message
    at.text_input(key="nw_prompt").set_value("I love").run()
    trained = _suggested_words(at)

    from pathlib import Path

    data = Path(job.result["model_file"]).read_bytes()  # what the download button offers
    fresh = page(PAGE)
    fresh.file_uploader(key="nw_model_file").set_value(("m.rnnlab", data, "application/zip"))
    fresh.run()
    fresh.text_input(key="nw_prompt").set_value("I love").run()
    assert not fresh.exception and not fresh.error
    assert "seed\\_sentences\\.txt" in " ".join(texts(fresh.success))
    assert _suggested_words(fresh) == trained


# ---------------------------------------------------------------------------------------------
# Settings files that name their text (core.settingsfile)


def _settings_upload(at, config: NextWordConfig, data) -> None:
    from core.settingsfile import settings_json

    text = settings_json(config, data).encode()
    at.file_uploader(key="nw_settings_file").set_value(("s.json", text, "application/json"))
    at.run()


def test_a_settings_file_of_another_sample_selects_its_sample():
    from core.settingsfile import DataRef

    at = page(PAGE)
    assert at.session_state["nw_sample"] == "corpus_class_reader.txt"
    _settings_upload(at, NextWordConfig(cell="gru", context=3), DataRef(sample="seed_sentences.txt"))
    assert not at.exception and not at.error
    assert at.session_state["nw_sample"] == "seed_sentences.txt"
    assert at.session_state["_nw_config"] == NextWordConfig(cell="gru", context=3)
    assert int(at.metric[0].value) < 100  # the seed sentences' words, not the class reader's
    assert "with the text they were made for" in " ".join(texts(at.success))


def test_a_settings_file_of_an_own_file_asks_for_it_and_checks_its_fingerprint():
    from core.settingsfile import DataRef, fingerprint

    mine = b"the cat sat on the mat and the dog sat on the log . " * 40
    at = page(PAGE)
    _settings_upload(at, NextWordConfig(units=16),
                     DataRef(file="mine.txt", sha256=fingerprint(mine)))
    assert not at.exception
    assert at.session_state["nw_source"] == "My own .txt file"
    assert "mine.txt" in " ".join(texts(at.info))
    assert at.session_state["_nw_config"] == NextWordConfig(units=16)
    at.file_uploader(key="nw_upload").set_value(("other.txt", mine + b"more", "text/plain"))
    at.run()
    assert "the fingerprints differ" in " ".join(texts(at.warning))
    at.file_uploader(key="nw_upload").set_value(("renamed.txt", mine, "text/plain"))
    _settings_upload(at, NextWordConfig(units=16),
                     DataRef(file="mine.txt", sha256=fingerprint(mine)))
    assert "renamed.txt is the file the settings were made for" in " ".join(texts(at.success))


def test_an_older_settings_file_keeps_the_text_and_an_unknown_sample_changes_nothing():
    from core.settingsfile import DataRef

    at = page(PAGE)
    _settings_upload(at, NextWordConfig(units=16), None)
    assert at.session_state["nw_sample"] == "corpus_class_reader.txt"
    assert at.session_state["_nw_config"] == NextWordConfig(units=16)
    assert "does not say which text" in " ".join(texts(at.warning))
    _settings_upload(at, NextWordConfig(cell="gru"), DataRef(sample="novel.txt"))
    assert "a text this RNN Lab does not have" in " ".join(texts(at.error))
    assert at.session_state["_nw_config"] == NextWordConfig(units=16)
