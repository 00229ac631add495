"""The vocabulary and the ids in one pass: the same as `Vocabulary.build` then `encode`."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.text import UNK_ID, Vocabulary, tokenize

READER = Path(__file__).resolve().parents[1] / "sample_data" / "corpus_class_reader.txt"


def _two_passes(tokens, count_until, min_count, max_size):
    vocab = Vocabulary.build(tokens[:count_until], min_count=min_count, max_size=max_size)
    return vocab, vocab.encode(tokens)


@pytest.mark.parametrize("min_count, max_size", [(1, 10_000), (2, 10_000), (3, 50), (1, 2)])
def test_one_pass_equals_building_then_encoding_on_the_reader(min_count, max_size):
    tokens = tokenize(READER.read_text(encoding="utf-8"))
    count_until = len(tokens) * 9 // 10
    vocab, ids = Vocabulary.build_and_encode(tokens, count_until, min_count, max_size)
    expected_vocab, expected_ids = _two_passes(tokens, count_until, min_count, max_size)
    assert vocab.words == expected_vocab.words
    assert ids.dtype == expected_ids.dtype and np.array_equal(ids, expected_ids)


@settings(max_examples=200, deadline=None)
@given(tokens=st.lists(st.sampled_from("a b c d e f g".split()), max_size=60),
       share=st.floats(0, 1), min_count=st.integers(1, 4), max_size=st.integers(1, 8))
def test_one_pass_equals_building_then_encoding_on_random_token_lists(tokens, share, min_count,
                                                                      max_size):
    count_until = int(len(tokens) * share)
    vocab, ids = Vocabulary.build_and_encode(tokens, count_until, min_count, max_size)
    expected_vocab, expected_ids = _two_passes(tokens, count_until, min_count, max_size)
    assert vocab.words == expected_vocab.words
    assert ids.tolist() == expected_ids.tolist()


def test_ties_go_to_the_first_seen_and_words_first_met_later_are_unknown():
    tokens = "b a a b c d d e e e".split()
    vocab, ids = Vocabulary.build_and_encode(tokens, 7, min_count=1)
    assert vocab.words[2:] == ["b", "a", "d", "c"]  # b and a twice (b first), then d, c
    assert ids.tolist() == [2, 3, 3, 2, 5, 4, 4, UNK_ID, UNK_ID, UNK_ID]  # e: after count_until


def test_an_iterator_is_read_once():
    vocab, ids = Vocabulary.build_and_encode(iter("x y x".split()), 3, min_count=2)
    assert vocab.words[2:] == ["x"] and ids.tolist() == [2, UNK_ID, 2]
