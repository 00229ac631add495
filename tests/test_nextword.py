"""Next-word engine: windows, prompts, the split, sampling, and a really trained small model."""

from pathlib import Path

import numpy as np
import pytest

from core.config import NextWordConfig
from core.errors import ConfigError, InputError
from core.jobs import JobContext, JobState, run_inline
from core.modelfile import load_model_file, save_model_file
from core.nextword import (
    TASK,
    NextWordModel,
    make_windows,
    prompt_ids,
    renormalise,
    sample_next,
    split_corpus,
    train_and_evaluate,
)
from core.text import UNK_ID, Vocabulary, tokenize

ROOT = Path(__file__).resolve().parents[1]
SEED_TEXT = (ROOT / "sample_data" / "seed_sentences.txt").read_text(encoding="utf-8")
# Tiny settings: a few hundred cheap steps on the seed's four sentences.
TINY = NextWordConfig(
    context=3, embedding_dim=16, units=32, dropout=0.0, word_dropout=0.0, learning_rate=0.02,
    batch_size=8, epochs=120, patience=0, min_count=1, ensemble=1, seed=7,
)


def test_windows_are_the_context_before_each_target_left_padded():
    x, y = make_windows(np.arange(1, 6), 3)
    assert x.tolist() == [[0, 0, 1], [0, 1, 2], [1, 2, 3], [2, 3, 4]]
    assert y.tolist() == [2, 3, 4, 5]


def test_windows_for_held_out_targets_use_the_words_before_them():
    x, y = make_windows([5, 6, 7, 8, 9], 2, start=3)
    assert x.tolist() == [[6, 7], [7, 8]]
    assert y.tolist() == [8, 9]
    x, y = make_windows([5, 6, 7], 2, start=1, stop=2)
    assert x.tolist() == [[0, 5]] and y.tolist() == [6]


def test_windows_refuse_a_context_below_one():
    with pytest.raises(ConfigError, match="1 word or more"):
        make_windows([1, 2, 3], 0)


def test_prompt_ids_keep_the_last_words_and_map_unknown_ones_to_unk():
    vocab = Vocabulary(["i", "love", "deep"])
    assert prompt_ids("I love", vocab, 4).tolist() == [0, 0, 2, 3]
    assert prompt_ids("I really love", vocab, 4).tolist() == [0, 2, UNK_ID, 3]
    assert prompt_ids("deep i love deep i", vocab, 3).tolist() == [3, 4, 2]
    assert prompt_ids("", vocab, 2).tolist() == [0, 0]


def test_split_holds_out_the_last_tenth_and_builds_the_vocabulary_on_the_rest():
    tokens = ("a b " * 10 + "c c d d e f g h i j").split()  # 30 words; test = last 3
    split = split_corpus(tokens, min_count=2)
    assert split.test_start == 27 and split.train_words == 27 and split.test_words == 3
    assert split.vocab.words[2:] == ["a", "b", "c", "d"]  # "h i j" are test-only: <unk>
    assert split.ids[-3:].tolist() == [UNK_ID] * 3


def test_split_refuses_a_text_without_repeated_words():
    with pytest.raises(InputError, match="minimum word count to 1"):
        split_corpus("one two three four five six seven eight nine ten".split(), min_count=2)


def test_top_k_of_one_is_the_arg_max():
    rng = np.random.default_rng(0)
    proba = np.array([0.0, 0.1, 0.5, 0.15, 0.25])
    assert {sample_next(proba, 1.0, top_k=1, rng=rng) for _ in range(50)} == {2}


def test_temperature_near_zero_is_greedy():
    rng = np.random.default_rng(0)
    proba = np.array([0.0, 0.3, 0.2, 0.35, 0.15])
    assert {sample_next(proba, 1e-6, rng=rng) for _ in range(50)} == {3}
    assert {sample_next(proba, 0.0, rng=rng) for _ in range(50)} == {3}


def test_sampling_is_deterministic_under_a_seed_and_respects_top_k():
    proba = renormalise(np.array([0.2, 1, 2, 3, 4, 5, 6, 7, 8.0]))
    rng_a, rng_b = np.random.default_rng(11), np.random.default_rng(11)
    assert [sample_next(proba, 1.0, 0, rng_a) for _ in range(30)] == [
        sample_next(proba, 1.0, 0, rng_b) for _ in range(30)
    ]
    rng = np.random.default_rng(5)
    top3 = {sample_next(proba, 2.0, top_k=3, rng=rng) for _ in range(300)}
    assert top3 == {6, 7, 8}
    assert 0 not in {sample_next(proba, 5.0, 0, rng) for _ in range(300)}  # padding never drawn


def test_a_negative_temperature_is_a_config_error():
    with pytest.raises(ConfigError, match="temperature"):
        sample_next(np.array([0.5, 0.5]), -1.0)


def test_renormalise_drops_the_padding_column():
    proba = renormalise(np.array([[0.5, 0.25, 0.25]]))
    assert proba.tolist() == [[0.0, 0.5, 0.5]]


def test_loading_a_folder_that_is_not_a_model_says_what_is_missing(tmp_path):
    with pytest.raises(InputError, match="has no model.rnnlab"):
        NextWordModel.load(tmp_path)
    with pytest.raises(InputError, match="There is no model file"):
        NextWordModel.load(tmp_path / "absent.rnnlab")


def test_a_model_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "forecast.rnnlab"
    save_model_file("forecast", {}, {"w": np.zeros(2, "float32")}, path)
    with pytest.raises(InputError, match="This is a forecast model file; this needs a nextword"):
        NextWordModel.load(path)


# -- real training, kept tiny -------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_model():
    from core.training import set_seed

    set_seed(TINY.seed)
    tokens = tokenize(SEED_TEXT)
    vocab = Vocabulary.build(tokens, min_count=1)
    return NextWordModel(TINY).fit(vocab.encode(tokens), vocab)


@pytest.mark.slow
def test_the_seed_sentences_suggest_deep_or_machine_after_i_love(seed_model):
    suggestions = seed_model.suggest("I love", top_k=3)
    assert suggestions[0]["word"] in {"deep", "machine"}
    assert suggestions[0]["probability"] > 0.5
    assert suggestions[0]["probability"] >= suggestions[1]["probability"] >= suggestions[2][
        "probability"]
    assert seed_model.history_[-1]["loss"] < seed_model.history_[0]["loss"]


@pytest.mark.slow
def test_unknown_prompt_words_still_give_suggestions(seed_model):
    suggestions = seed_model.suggest("Zebras wobble", top_k=3)
    assert len(suggestions) == 3
    assert all(s["word"] != "<unk>" and 0 < s["probability"] <= 1 for s in suggestions)
    with pytest.raises(ConfigError):
        seed_model.suggest("I love", top_k=0)


@pytest.mark.slow
def test_generation_is_deterministic_under_a_seed_and_greedy_when_cold(seed_model):
    first = list(seed_model.generate("I love", length=6, temperature=1.0, seed=4))
    again = list(seed_model.generate("I love", length=6, temperature=1.0, seed=4))
    assert first == again and len(first) == 6
    greedy = list(seed_model.generate("I", length=4, temperature=0.0))
    window = ["i"]
    for word in greedy:
        proba = seed_model.predict_proba(window)
        proba[UNK_ID] = 0
        assert word == seed_model.vocab_.words[int(np.argmax(proba))]
        window.append(word)


@pytest.mark.slow
def test_a_saved_model_predicts_the_same_after_loading(seed_model, tmp_path):
    seed_model.save(tmp_path / "model", trained_on={"name": "seed_sentences.txt", "words": 18})
    loaded = NextWordModel.load(tmp_path / "model")
    assert loaded.config == seed_model.config
    assert loaded.vocab_.words == seed_model.vocab_.words
    assert loaded.trained_on_ == {"name": "seed_sentences.txt", "words": 18}
    assert loaded.created_.endswith("Z")
    for prompt in ("i enjoy", "i love", ""):
        np.testing.assert_allclose(loaded.predict_proba(prompt), seed_model.predict_proba(prompt),
                                   rtol=0, atol=1e-6)
    # the file alone, from bytes (an upload), gives the same model
    again = NextWordModel.from_model_file(seed_model.to_model_file())
    np.testing.assert_allclose(again.predict_proba("i enjoy"), seed_model.predict_proba("i enjoy"),
                               rtol=0, atol=1e-6)
    assert again.suggest("i love", 3) == loaded.suggest("i love", 3)


@pytest.mark.slow
def test_train_and_evaluate_scores_the_network_and_the_baseline_on_the_same_words():
    text = (ROOT / "sample_data" / "corpus_class_reader.txt").read_text(encoding="utf-8")
    tokens = tokenize(text)[:600]
    config = NextWordConfig(embedding_dim=8, units=8, epochs=2, seed=1)
    model, metrics = train_and_evaluate(tokens, config)
    assert metrics["train_words"] == 540 and metrics["test_words"] == 60
    assert metrics["epochs_run"] == len(model.history_) <= 2
    for scores in (metrics, metrics["baseline"]):
        assert 0 <= scores["top1"] <= scores["top5"] <= 1
        assert 1 < scores["perplexity"] < metrics["vocab_size"] * 10


@pytest.mark.slow
def test_the_task_writes_a_model_folder_with_metrics(tmp_path):
    payload = {"text": SEED_TEXT * 3, "name": "seed", "out": str(tmp_path / "out"),
               "config": TINY.replace(epochs=3).to_dict()}
    result = run_inline(TASK, payload, JobContext(tmp_path))
    folder = Path(result["model_dir"])
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "counts.npz", "metrics.json", "model.rnnlab", "vocabulary.json",
        "weights.npz"
    ]
    assert result["model_file"] == str(folder / "model.rnnlab")
    assert result["metrics"]["epochs_run"] == 3 == len(result["history"])
    trained_on = NextWordModel.load(result["model_file"]).trained_on_
    assert trained_on["name"] == "seed" and trained_on["words"] == len(tokenize(SEED_TEXT * 3))
    assert trained_on["top1"] == result["metrics"]["top1"]


@pytest.mark.slow
def test_the_task_runs_in_a_worker_and_reports_epochs(job_manager):
    payload = {"text": SEED_TEXT * 3, "name": "seed",
               "config": TINY.replace(epochs=4).to_dict()}
    job = job_manager.submit(TASK, payload)
    snapshot = job.wait(300)
    assert snapshot.state is JobState.DONE, snapshot.message
    assert [log["epoch"] for log in snapshot.logs] == [1, 2, 3, 4]
    assert {"loss", "accuracy"} <= set(snapshot.logs[0])
    assert Path(job.result["model_dir"], "metrics.json").is_file()


def test_a_task_with_bad_settings_fails_with_a_plain_message(job_manager):
    payload = {"text": SEED_TEXT, "config": {"cell": "transformer"}}
    snapshot = job_manager.submit(TASK, payload).wait(120)
    assert snapshot.state is JobState.FAILED
    assert "must be one of lstm, gru, rnn" in snapshot.message


def _resigned(data: bytes, **arrays) -> bytes:
    """The model file with some arrays replaced, signed again as an insider could."""
    loaded = load_model_file(data)
    return save_model_file(loaded.kind, loaded.description, {**loaded.arrays, **arrays})


@pytest.mark.slow
def test_damaged_weights_are_refused_with_a_plain_message(seed_model, tmp_path):
    data = seed_model.to_model_file()
    weight = load_model_file(data).arrays["weight_000"]
    with pytest.raises(InputError, match="weight_000' is float32 of shape"):
        NextWordModel.from_model_file(_resigned(data, weight_000=weight[:3]))
    with pytest.raises(InputError, match="do not fit"):
        NextWordModel.from_model_file(_resigned(data, weight_999=weight))
    with pytest.raises(InputError, match="do not fit"):
        NextWordModel.from_model_file(_resigned(data, weight_000=weight * np.nan))
    with pytest.raises(InputError, match="float32"):
        NextWordModel.from_model_file(_resigned(data, weight_000=weight.astype("float64")))
    folder = seed_model.save(tmp_path / "model")
    (folder / "model.rnnlab").write_bytes(data[:-100])
    with pytest.raises(InputError, match="not a complete zip"):
        NextWordModel.load(folder)


@pytest.mark.slow
def test_an_ensemble_averages_its_members_and_survives_saving(tmp_path):
    from core.training import set_seed

    set_seed(3)
    tokens = tokenize(SEED_TEXT)
    vocab = Vocabulary.build(tokens, min_count=1)
    model = NextWordModel(TINY.replace(ensemble=2, epochs=3)).fit(vocab.encode(tokens), vocab)
    window = prompt_ids("i love", vocab, TINY.context)[None, :]
    members = [np.asarray(output)[0] for output in model.model_.predict_on_batch(window)]
    assert len(members) == 2 and not np.allclose(members[0], members[1])
    np.testing.assert_allclose(
        model.predict_proba("i love"), renormalise(np.mean(members, axis=0)), rtol=1e-5
    )
    assert model.predict_proba("i love").sum() == pytest.approx(1.0)
    loaded = NextWordModel.load(model.save(tmp_path / "ensemble"))
    np.testing.assert_allclose(loaded.predict_proba("i love"), model.predict_proba("i love"),
                               rtol=0, atol=1e-6)


# -- the mix of the network and the counts ------------------------------------------------------


@pytest.fixture(scope="module")
def mixed_model():
    """A small network on 600 words of the class reader: enough for a validation slice."""
    from core.training import set_seed

    text = (ROOT / "sample_data" / "corpus_class_reader.txt").read_text(encoding="utf-8")
    set_seed(5)
    split = split_corpus(tokenize(text)[:600])
    config = TINY.replace(epochs=3, min_count=2, mix_counts=True)
    return NextWordModel(config).fit(split.ids[: split.test_start], split.vocab), split


@pytest.mark.slow
def test_the_mix_blends_network_and_counts_with_shares_learnt_per_bucket(mixed_model):
    from core.nextword import _buckets, _shift_unknown

    model, split = mixed_model
    shares = model.mix_weights_
    assert shares.shape == (5,) and np.all((shares >= 0) & (shares <= 1))
    windows, _ = make_windows(split.ids, model.config.context, split.test_start)
    mixed = model.predict_windows(windows, raw=True)
    network = model.predict_windows(windows, network_only=True, raw=True)
    counts = model.ngram_.predict_windows(windows)
    share = shares[_buckets(model.pairs_, windows, counts)][:, None]
    np.testing.assert_allclose(mixed, share * network + (1 - share) * counts, rtol=1e-9)
    np.testing.assert_allclose(mixed.sum(axis=1), 1.0)
    assert np.all(mixed[:, 0] == 0)  # padding is never suggested
    # then <unk> moves to the share new text has (more than in training)
    trained, expected = model.unknown_rates_
    assert expected > trained
    np.testing.assert_allclose(model.predict_windows(windows),
                               _shift_unknown(mixed, trained, expected), rtol=1e-9)
    # the counts are those of the whole training part, not a part of it
    assert len(model.ngram_ids_) == split.test_start and model.ngram_.order == 4


@pytest.mark.slow
def test_scoring_by_blocks_with_the_network_once_equals_scoring_row_by_row(mixed_model):
    from core.ngram import score_distributions

    model, split = mixed_model
    windows, targets = make_windows(split.ids, model.config.context, split.test_start)
    both = model.score(split.ids, split.test_start, with_network=True)
    expected = score_distributions(model.predict_windows(windows), targets)
    expected_network = score_distributions(model.predict_windows(windows, network_only=True),
                                           targets)
    assert {key: both[key] for key in expected} == pytest.approx(expected, rel=1e-12)
    assert both["network"] == pytest.approx(expected_network, rel=1e-12)
    assert model.score(split.ids, split.test_start) == pytest.approx(expected, rel=1e-12)
    assert model.score(split.ids, split.test_start, network_only=True) == pytest.approx(
        expected_network, rel=1e-12)
    assert both["perplexity"] != both["network"]["perplexity"]  # two different models scored


@pytest.mark.slow
def test_a_mixed_model_predicts_the_same_after_loading(mixed_model, tmp_path):
    model, _ = mixed_model
    folder = model.save(tmp_path / "mixed")
    assert (folder / "counts.npz").is_file()
    loaded = NextWordModel.load(folder)
    np.testing.assert_array_equal(loaded.mix_weights_, model.mix_weights_)
    for prompt in ("the children", "once upon a", ""):
        np.testing.assert_allclose(loaded.predict_proba(prompt), model.predict_proba(prompt),
                                   rtol=0, atol=1e-6)


@pytest.mark.slow
def test_missing_or_damaged_counts_are_refused_with_a_plain_message(mixed_model):
    model, _ = mixed_model
    data = model.to_model_file()
    arrays = load_model_file(data).arrays
    for name, damaged, words in (
        ("ngram_ids", arrays["ngram_ids"] + len(model.vocab_), "do not fit"),
        ("mix_shares", arrays["mix_shares"] * 3, "do not fit"),
        ("unknown_rates", np.array([0.5]), "shape"),
        ("ngram_ids", arrays["ngram_ids"].astype("int64"), "int32"),
    ):
        with pytest.raises(InputError, match=words):
            NextWordModel.from_model_file(_resigned(data, **{name: damaged}))
    loaded = load_model_file(data)
    without = {name: array for name, array in loaded.arrays.items() if name != "mix_shares"}
    with pytest.raises(InputError, match="no array 'mix_shares'"):
        NextWordModel.from_model_file(save_model_file("nextword", loaded.description, without))


@pytest.mark.slow
def test_without_held_back_text_the_mix_is_the_network_alone(seed_model):
    mixed = NextWordModel(TINY.replace(mix_counts=True))
    mixed.vocab_, mixed.model_ = seed_model.vocab_, seed_model.model_
    mixed.mix_weights_ = mixed._fit_mix(np.arange(5), None)
    assert mixed.mix_weights_.tolist() == [1.0] * 5


@pytest.mark.slow
@pytest.mark.parametrize("mix", [True, False])
def test_the_scores_give_the_network_alone_beside_the_mix(mix):
    text = (ROOT / "sample_data" / "corpus_class_reader.txt").read_text(encoding="utf-8")
    config = NextWordConfig(embedding_dim=8, units=8, epochs=1, ensemble=1, seed=1,
                            mix_counts=mix)
    model, metrics = train_and_evaluate(tokenize(text)[:600], config)
    assert ("network" in metrics) is mix and ("counts" in metrics["model"]) is mix
    assert (metrics["unknown_training_share"], metrics["unknown_expected_share"]) == \
        model.unknown_rates_
    assert metrics["unknown_training_share"] < metrics["unknown_expected_share"]
    if mix:
        assert 0 <= metrics["network"]["top1"] <= metrics["network"]["top5"] <= 1
        assert metrics["network"]["perplexity"] != metrics["perplexity"]
        assert metrics["mix_shares"] == model.mix_weights_.tolist()
    else:
        assert getattr(model, "ngram_", None) is None


def test_buckets_count_how_often_the_last_two_words_came_before_a_word():
    from core.nextword import _buckets, pair_counts

    pairs = pair_counts([5, 6, 7, 5, 6, 8, 5, 6])  # (5, 6) twice before a word; the last has none
    assert pairs == {(5, 6): 2, (6, 7): 1, (7, 5): 1, (6, 8): 1, (8, 5): 1}
    windows = np.array([[0, 5, 6], [9, 9, 9], [0, 0, 5]])
    assert _buckets(pairs, windows).tolist() == [1, 0, 0]  # 1-2 times, never, never (padding)
    assert _buckets({(5, 6): 12}, windows).tolist() == [3, 0, 0]
    sure = np.array([[0.0, 0.2, 0.8], [0.0, 0.5, 0.5], [0.0, 0.6, 0.4]])
    assert _buckets(pairs, windows, sure).tolist() == [4, 4, 4]  # the counts are sure: own share
    assert _buckets(pairs, windows, sure[:, [0, 1, 1]] * 0.9).tolist() == [1, 0, 4]


def test_the_unknown_share_to_expect_replays_the_protocol_inside_the_training_words():
    from core.nextword import _unknown_rates

    ids = np.array([2, 3, 2, UNK_ID, 3, 4, 4, 2, 5, 2, 4, UNK_ID])
    # two parts of six words, each against the counts of the other part:
    first = np.mean([False, True, False, True, True, False])  # 3 never in the rest, <unk>
    second = np.mean([True, False, True, False, True, True])  # 4 once in the rest, 5, <unk>
    trained, expected = _unknown_rates(ids, min_count=2, folds=2)
    assert trained == 2 / 12 and expected == pytest.approx((first + second) / 2)
    assert _unknown_rates(ids, min_count=2, folds=0) == (2 / 12, 2 / 12)
    # never below the training share, whatever the parts say
    assert _unknown_rates(np.array([2, 2, 2, 2, UNK_ID, 2]), 1, folds=2)[1] == 1 / 6


def test_shifting_the_unknown_prior_keeps_the_order_of_the_other_words():
    from core.nextword import _shift_unknown

    proba = np.array([[0.0, 0.1, 0.5, 0.3, 0.1]])
    shifted = _shift_unknown(proba, trained=0.1, expected=0.3)
    assert shifted.sum() == pytest.approx(1.0) and shifted[0, 0] == 0.0
    # Bayes: odds of <unk> against the rest multiplied by (0.3 / 0.7) / (0.1 / 0.9)
    odds = shifted[0, UNK_ID] / (1 - shifted[0, UNK_ID])
    assert odds == pytest.approx((0.1 / 0.9) * (0.3 / 0.7) / (0.1 / 0.9))
    np.testing.assert_allclose(shifted[0, 2:] / shifted[0, 2], proba[0, 2:] / proba[0, 2])
    np.testing.assert_array_equal(_shift_unknown(proba, 0.2, 0.2), proba)


def test_figures_won_counts_higher_accuracy_and_lower_perplexity():
    from core.nextword import figures_won

    base = {"top1": 0.2, "top5": 0.4, "perplexity": 60.0}
    assert figures_won({"top1": 0.3, "top5": 0.5, "perplexity": 50.0}, base) == 3
    assert figures_won({"top1": 0.2, "top5": 0.5, "perplexity": 70.0}, base) == 1  # a tie loses
    assert figures_won(base, base) == 0
