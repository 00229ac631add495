"""Loading text files, tokenisation and the vocabulary, exactly, on tiny texts."""

import codecs

import pytest

from core.errors import InputError
from core.text import (
    MIN_WORDS,
    PAD_ID,
    UNK_ID,
    Corpus,
    Vocabulary,
    corpus_tokens,
    decode_text,
    join_words,
    read_text_file,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I love Machine Learning.", ["i", "love", "machine", "learning"]),
        ("Don't stop: it's 1999!", ["don't", "stop", "it's", "1999"]),
        ("It\u2019s o\u2019clock", ["it's", "o'clock"]),  # curly apostrophes count as straight ones
        ("well-known  e-mail", ["well", "known", "e", "mail"]),
        ("snake_case and 'quoted'", ["snake", "case", "and", "quoted"]),
        ("Café naïve", ["café", "naïve"]),
        ("", []),
    ],
)
def test_default_tokenisation_keeps_lower_case_words_digits_and_apostrophes(text, expected):
    assert tokenize(text) == expected


def test_keep_punctuation_makes_each_mark_a_token():
    assert tokenize("Hello, world... yes!", keep_punctuation=True) == [
        "hello", ",", "world", ".", ".", ".", "yes", "!"
    ]


def test_vocabulary_orders_by_count_then_first_appearance_and_drops_rare_words():
    tokens = "b a b c a b d".split()
    vocab = Vocabulary.build(tokens, min_count=2)
    assert vocab.words == ["<pad>", "<unk>", "b", "a"]
    assert vocab.size == 3 and len(vocab) == 4
    assert list(vocab.encode(["a", "b", "c", "zebra"])) == [3, 2, UNK_ID, UNK_ID]
    assert vocab.decode([2, 3, UNK_ID]) == ["b", "a", "<unk>"]


def test_vocabulary_min_count_one_keeps_every_word_and_max_size_caps_it():
    tokens = "b a b c a b d".split()
    assert Vocabulary.build(tokens, min_count=1).words[2:] == ["b", "a", "c", "d"]
    # max_size counts the predictable tokens: <unk> plus two words
    assert Vocabulary.build(tokens, min_count=1, max_size=3).words[2:] == ["b", "a"]


def test_unknown_words_and_special_tokens_never_collide():
    vocab = Vocabulary(["the", "cat"])
    assert vocab.index["<pad>"] == PAD_ID and vocab.index["<unk>"] == UNK_ID
    assert "<pad>" not in vocab and "cat" in vocab and "dog" not in vocab
    with pytest.raises(ValueError):
        Vocabulary(["<unk>"])


def test_vocabulary_round_trips_through_json():
    vocab = Vocabulary(["the", "café", "don't"])
    assert Vocabulary.from_json(vocab.to_json()).words == vocab.words


def test_a_damaged_vocabulary_file_is_an_input_error():
    with pytest.raises(InputError, match="damaged"):
        Vocabulary.from_json("{not json")
    with pytest.raises(InputError, match="damaged"):
        Vocabulary.from_json('{"words": [1, 2]}')


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Café au lait".encode(), "utf-8"),
        (codecs.BOM_UTF8 + "Café au lait".encode(), "utf-8-sig"),
        ("Café au lait".encode("utf-16"), "utf-16"),  # Python writes a BOM
        (codecs.BOM_UTF16_BE + "Café au lait".encode("utf-16-be"), "utf-16"),
        ("Café au lait".encode("latin-1"), "latin-1"),
    ],
)
def test_text_files_decode_in_common_encodings(data, encoding):
    corpus = decode_text(data, "sample.txt")
    assert corpus.text == "Café au lait"
    assert corpus.encoding == encoding


@pytest.mark.parametrize("data", [b"", b"   \n\t  \n"])
def test_an_empty_file_is_refused_with_a_plain_message(data):
    with pytest.raises(InputError, match="empty"):
        decode_text(data, "notes.txt")


def test_a_binary_file_is_refused():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 20
    with pytest.raises(InputError, match="binary"):
        decode_text(png, "picture.txt")
    with pytest.raises(InputError, match="binary"):
        decode_text(bytes(range(1, 32)) * 50, "noise.txt")


def test_a_too_small_corpus_is_refused_and_says_how_many_words_it_had():
    with pytest.raises(InputError, match=r"has 3 word\(s\); at least"):
        corpus_tokens(Corpus("one two three", "tiny.txt", "utf-8"))
    tokens, notes = corpus_tokens(Corpus(" ".join(["w"] * MIN_WORDS), "ok.txt", "utf-8"))
    assert len(tokens) == MIN_WORDS and notes == []


def test_a_huge_corpus_is_capped_with_a_note(monkeypatch):
    import core.text

    monkeypatch.setattr(core.text, "MAX_WORDS", 50)
    tokens, notes = corpus_tokens(Corpus("word " * 80, "big.txt", "utf-8"))
    assert len(tokens) == 50
    assert "only the first 50" in notes[0]


def test_a_huge_file_is_read_only_up_to_the_cap(monkeypatch, tmp_path):
    import core.text

    monkeypatch.setattr(core.text, "MAX_BYTES", 100)
    path = tmp_path / "big.txt"
    path.write_text("abc " * 100, encoding="utf-8")
    corpus = read_text_file(path)
    assert len(corpus.text) == 100
    assert "only its first" in corpus.notes[0]


def test_a_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no file"):
        read_text_file(tmp_path / "nope.txt")


def test_join_words_puts_no_space_before_punctuation():
    assert join_words(["hello", ",", "world", "!"]) == "hello, world!"
    assert join_words(["i", "love", "deep", "learning"]) == "i love deep learning"
