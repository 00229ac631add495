"""The compact Kneser-Ney gives the same probabilities as the first, dictionary-based one.

`ReferenceKneserNey` below is core/ngram.py's KneserNey as it was before its counts moved to
numpy arrays (a dict of history tuple -> Counter per order; 1.7 GB-scale memory on a book):
kept here, unchanged but for its name, as the slow reference the fast one must agree with.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import numpy as np
import pytest

from core.ngram import KneserNey
from core.text import PAD_ID, Vocabulary, tokenize


class ReferenceKneserNey:
    def __init__(self, order: int = 3):
        self.order = order

    def fit(self, ids: Sequence[int], vocab_size: int) -> ReferenceKneserNey:
        ids = [int(i) for i in ids]
        self.vocab_size_ = int(vocab_size)
        counts: list[dict[tuple, collections.Counter]] = [
            collections.defaultdict(collections.Counter) for _ in range(self.order)
        ]
        top = self.order - 1
        for position in range(len(ids)):
            history = tuple(ids[max(0, position - top) : position])
            if len(history) == top:
                counts[top][history][ids[position]] += 1
        for n in range(top - 1, -1, -1):
            for history, followers in counts[n + 1].items():
                for word in followers:
                    counts[n][history[1:]][word] += 1
        self.discounts_ = [_modified_discounts(level) for level in counts]
        self.tables_ = [
            {history: _table(followers, discounts) for history, followers in level.items()}
            for level, discounts in zip(counts, self.discounts_, strict=True)
        ]
        return self

    def predict_proba(self, history: Sequence[int]) -> np.ndarray:
        size = self.vocab_size_ - 1
        proba = np.full(size, 1.0 / size)
        history = tuple(int(i) for i in history if int(i) != PAD_ID)
        for n in range(self.order):
            if n > len(history):
                break
            key = history[len(history) - n :] if n else ()
            table = self.tables_[n].get(key)
            if table is None:
                continue
            words, discounted, total, backoff = table
            proba = proba * (backoff / total)
            np.add.at(proba, words - 1, discounted / total)
        return np.concatenate([[0.0], proba])


def _modified_discounts(level):
    count_of_counts = collections.Counter()
    for followers in level.values():
        count_of_counts.update(count for count in followers.values() if count <= 4)
    n1, n2, n3, n4 = (count_of_counts[k] for k in (1, 2, 3, 4))
    if not (n1 and n2 and n3 and n4):
        return (0.75, 0.75, 0.75)
    y = n1 / (n1 + 2 * n2)
    d1, d2, d3 = 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3
    return (min(max(d1, 0.05), 1.0), min(max(d2, 0.05), 2.0), min(max(d3, 0.05), 3.0))


def _table(followers, discounts):
    words = np.fromiter(followers.keys(), dtype="int64", count=len(followers))
    counts = np.fromiter(followers.values(), dtype="float64", count=len(followers))
    discount = np.choose(np.minimum(counts, 3).astype(int) - 1, discounts)
    discount = np.minimum(discount, counts)
    return words, counts - discount, float(counts.sum()), float(discount.sum())


READER = (__import__("pathlib").Path(__file__).resolve().parents[1] / "sample_data"
          / "corpus_class_reader.txt")


def _reader_ids(words: int = 3000):
    tokens = tokenize(READER.read_text(encoding="utf-8"))[:words]
    vocab = Vocabulary.build(tokens[: words * 9 // 10], min_count=2)
    return vocab.encode(tokens), len(vocab), words * 9 // 10


def _histories(ids: np.ndarray, order: int) -> list[list[int]]:
    """Every position's preceding words (train and held-out), and some the text never had."""
    keep = max(order - 1, 1)
    seen = [ids[max(0, i - keep) : i].tolist() for i in range(len(ids))]
    return [*seen, [], [0, 0], [5, 0, 7], [3, 3, 3, 3, 3, 3], [1, 1], [2] * 8]


@pytest.mark.parametrize("order", [1, 2, 3, 4, 5])
def test_probabilities_equal_the_dictionary_implementation_on_the_reader(order):
    ids, vocab_size, train = _reader_ids()
    new = KneserNey(order).fit(ids[:train], vocab_size)
    old = ReferenceKneserNey(order).fit(ids[:train], vocab_size)
    assert new.discounts_ == old.discounts_  # the counts of counts are the same integers
    for history in _histories(ids, order):
        # the sums of discounts per history are added in another order: equal to the last bits
        np.testing.assert_allclose(new.predict_proba(history), old.predict_proba(history),
                                   rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("order", [2, 3, 4, 6])
def test_probabilities_equal_the_dictionary_implementation_on_random_streams(seed, order):
    rng = np.random.default_rng(seed)
    vocab_size = int(rng.integers(3, 9))
    # a small vocabulary with repeated phrases: many histories with several followers
    ids = rng.integers(1, vocab_size, int(rng.integers(order, 300)))
    new = KneserNey(order).fit(ids, vocab_size)
    old = ReferenceKneserNey(order).fit(ids, vocab_size)
    assert new.discounts_ == old.discounts_
    # ids the counts never saw (out of the vocabulary, negative) are unseen histories to both
    for history in [*_histories(ids, order), [vocab_size + 3], [1, vocab_size - 1, -1]]:
        np.testing.assert_allclose(new.predict_proba(history), old.predict_proba(history),
                                   rtol=1e-12, atol=0)


@pytest.mark.parametrize("order", [1, 3, 4])
def test_windows_and_scores_equal_the_dictionary_implementation(order):
    from core.nextword import make_windows
    from core.ngram import score_distributions

    ids, vocab_size, train = _reader_ids(2000)
    new = KneserNey(order).fit(ids[:train], vocab_size)
    old = ReferenceKneserNey(order).fit(ids[:train], vocab_size)
    windows, _ = make_windows(ids, 6, train)
    keep = order - 1
    expected = [old.predict_proba(row[len(row) - keep :] if keep else []) for row in windows]
    np.testing.assert_allclose(new.predict_windows(windows), np.array(expected), rtol=1e-12,
                               atol=0)
    reference = score_distributions(
        (old.predict_proba(ids[max(0, i - keep) : i]) for i in range(train, len(ids))), ids[train:])
    assert new.score(ids, train) == pytest.approx(reference, rel=1e-12)


def test_a_text_shorter_than_the_order_gives_the_uniform_distribution():
    new = KneserNey(4).fit([2, 3], 5)
    old = ReferenceKneserNey(4).fit([2, 3], 5)
    np.testing.assert_array_equal(new.predict_proba([2, 3]), old.predict_proba([2, 3]))
    np.testing.assert_array_equal(new.predict_proba([]), [0, 0.25, 0.25, 0.25, 0.25])


def test_ids_outside_the_vocabulary_are_refused():
    with pytest.raises(ValueError, match=r"0\.\.4"):
        KneserNey(2).fit([1, 2, 5], 5)
