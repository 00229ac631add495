"""The Kneser-Ney baseline: proper distributions, sensible preferences, honest scores."""

import numpy as np
import pytest

from core.errors import ConfigError
from core.ngram import KneserNey, score_distributions
from core.text import Vocabulary, tokenize

SEED = "I love machine learning I love deep learning I enjoy natural language processing " \
       "Deep learning is amazing"


@pytest.fixture
def seed_model():
    tokens = tokenize(SEED)
    vocab = Vocabulary.build(tokens, min_count=1)
    return KneserNey(3).fit(vocab.encode(tokens), len(vocab)), vocab


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("history", [[], ["i"], ["i", "love"], ["amazing", "zebra"], ["zebra"]])
def test_probabilities_sum_to_one_over_the_vocabulary(order, history):
    tokens = tokenize(SEED)
    vocab = Vocabulary.build(tokens, min_count=1)
    model = KneserNey(order).fit(vocab.encode(tokens), len(vocab))
    proba = model.predict_proba(vocab.encode(history))
    assert proba.shape == (len(vocab),)
    assert proba[0] == 0.0  # padding is never a word
    assert np.all(proba[1:] > 0)  # every word, <unk> included, keeps some probability
    assert proba.sum() == pytest.approx(1.0, abs=1e-12)


def test_seen_continuations_are_preferred(seed_model):
    model, vocab = seed_model
    proba = model.predict_proba(vocab.encode(["i", "love"]))
    best_two = {vocab.words[i] for i in np.argsort(-proba)[:2]}
    assert best_two == {"machine", "deep"}
    after_deep = model.predict_proba(vocab.encode(["love", "deep"]))
    assert vocab.words[int(np.argmax(after_deep))] == "learning"


def test_score_counts_unknown_targets_like_any_word():
    tokens = "a b a b a b a c".split()  # "c" is rare: <unk>
    vocab = Vocabulary.build(tokens[:6], min_count=2)
    ids = vocab.encode(tokens)
    model = KneserNey(2).fit(ids[:6], len(vocab))
    scores = model.score(ids, 6)
    # targets: "a" after "b" (learnt) and <unk> after "a" (never seen after "a")
    proba_a = model.predict_proba(ids[5:6])[vocab.index["a"]]
    proba_unk = model.predict_proba(ids[6:7])[1]
    assert scores["perplexity"] == pytest.approx(np.exp(-(np.log(proba_a) + np.log(proba_unk)) / 2))
    assert scores["top1"] == 0.5


def test_score_distributions_ranks_like_a_top_k_list():
    proba = np.array([0.0, 0.1, 0.4, 0.3, 0.2])
    scores = score_distributions([proba, proba, proba], [2, 3, 1])
    assert scores["top1"] == pytest.approx(1 / 3)
    assert scores["top5"] == 1.0
    assert scores["perplexity"] == pytest.approx(np.exp(-np.log([0.4, 0.3, 0.1]).mean()))
    # a tie goes to the lower id, as arg-max would pick it
    flat = np.array([0.0, 0.5, 0.5])
    assert score_distributions([flat, flat], [1, 2])["top1"] == 0.5


def test_order_out_of_range_is_a_config_error():
    with pytest.raises(ConfigError, match="between 1 and 6"):
        KneserNey(0)


def test_predicting_windows_gives_each_row_the_distribution_of_its_last_words(seed_model):
    model, vocab = seed_model
    windows = np.array([vocab.encode(["deep", "i", "love"]), [0, 0, vocab.index["i"]], [0, 0, 0]])
    rows = model.predict_windows(windows)
    np.testing.assert_allclose(rows[0], model.predict_proba(vocab.encode(["i", "love"])))
    np.testing.assert_allclose(rows[1], model.predict_proba(vocab.encode(["i"])))
    np.testing.assert_allclose(rows[2], model.predict_proba([]))
    assert model.predict_windows(np.zeros((0, 3), dtype=int)).shape == (0, len(vocab))

