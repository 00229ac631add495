"""Text corpora: loading `.txt` files, tokenisation and the vocabulary.

Default tokenisation (the one `python -m core nextword` evaluates with): lower-case words made
of letters, digits and apostrophes ("don't", "1999", "o'clock"); curly apostrophes count as
straight ones; everything else separates words. With `keep_punctuation=True` each punctuation
mark is a token of its own.

The vocabulary gives id 0 to padding and id 1 to the unknown token `<unk>`; the words follow,
most frequent first (ties in order of first appearance). Rare words (seen fewer than
`min_count` times) and words beyond `max_size` map to `<unk>`, which still counts as a word.
"""

from __future__ import annotations

import codecs
import collections
import dataclasses
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from core.errors import InputError

PAD = "<pad>"
UNK = "<unk>"
PAD_ID = 0
UNK_ID = 1

MAX_BYTES = 20_000_000  # read at most this much of a file (about 3.5 million English words)
MAX_WORDS = 500_000  # train on at most this many words; more would take hours on a laptop
MIN_WORDS = 10  # fewer words leave nothing to learn from nor to test on

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_WORD = r"[^\W_]+(?:'[^\W_]+)*"
_WORD_RE = re.compile(_WORD)
_WORD_OR_PUNCTUATION_RE = re.compile(rf"{_WORD}|[^\w\s]")


@dataclasses.dataclass(frozen=True)
class Corpus:
    """A decoded text and what happened while reading it."""

    text: str
    name: str
    encoding: str
    notes: tuple[str, ...] = ()  # plain-language remarks for the user (a capped file, ...)


def decode_text(data: bytes, name: str = "the file") -> Corpus:
    """Decode UTF-8 (with or without BOM), UTF-16 (with BOM) or Latin-1 bytes; refuse binary files.

    Raises:
        InputError: the bytes are empty, hold no text, or look like a binary file.
    """
    notes: list[str] = []
    if len(data) > MAX_BYTES:
        notes.append(
            f"{name} is {len(data) / 1e6:.0f} MB; only its first {MAX_BYTES / 1e6:.0f} MB were read."
        )
        data = data[:MAX_BYTES]
    if not data.strip():
        raise InputError(f"{name} is empty. Choose a plain-text (.txt) file with some sentences.")
    if data.startswith(codecs.BOM_UTF8):
        text, encoding = data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace"), "utf-8-sig"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        if len(data) % 2:
            data = data[:-1]
        text, encoding = data.decode("utf-16", errors="replace"), "utf-16"
    elif b"\x00" in data[:4096]:
        raise InputError(
            f"{name} looks like a binary file (it contains zero bytes), not text. "
            "Save your text as a plain .txt file (UTF-8) and upload that."
        )
    else:
        try:
            text, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError as error:
            if error.start >= len(data) - 3:
                # A file cut at MAX_BYTES may end inside a character: drop the broken tail only.
                text, encoding = data.decode("utf-8", errors="ignore"), "utf-8"
            else:
                text, encoding = data.decode("latin-1"), "latin-1"
    _refuse_binary(text, name)
    return Corpus(text=text, name=name, encoding=encoding, notes=tuple(notes))


def _refuse_binary(text: str, name: str) -> None:
    sample = text[:20_000]
    control = sum(1 for char in sample if ord(char) < 32 and char not in "\t\n\r\f\v")
    if "\x00" in sample or control > 0.01 * len(sample):
        raise InputError(
            f"{name} looks like a binary file, not text ({control} control characters in its "
            "first 20,000). Save your text as a plain .txt file (UTF-8) and upload that."
        )


def read_text_file(path: str | Path) -> Corpus:
    """Read a text file from disk (see `decode_text` for the encodings accepted)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"There is no file at {str(path)!r}. Check the path and try again.")
    with path.open("rb") as handle:
        data = handle.read(MAX_BYTES + 1)
    corpus = decode_text(data, name=path.name)
    if len(data) > MAX_BYTES:
        size = path.stat().st_size
        notes = (
            f"{path.name} is {size / 1e6:.0f} MB; only its first {MAX_BYTES / 1e6:.0f} MB were read.",
        )
        corpus = dataclasses.replace(corpus, notes=notes)
    return corpus


def tokenize(text: str, keep_punctuation: bool = False) -> list[str]:
    """Split `text` into lower-case tokens (see the module docstring for the rules)."""
    pattern = _WORD_OR_PUNCTUATION_RE if keep_punctuation else _WORD_RE
    return pattern.findall(text.translate(_APOSTROPHES).lower())


def corpus_tokens(corpus: Corpus, keep_punctuation: bool = False) -> tuple[list[str], list[str]]:
    """Tokens of a corpus, capped at MAX_WORDS; returns (tokens, notes for the user).

    Raises:
        InputError: fewer than MIN_WORDS tokens.
    """
    tokens = tokenize(corpus.text, keep_punctuation)
    notes = list(corpus.notes)
    if len(tokens) < MIN_WORDS:
        raise InputError(
            f"{corpus.name} has {len(tokens)} word(s); at least {MIN_WORDS} are needed to learn "
            "anything and to keep some for testing. Use a longer text (a few thousand words "
            "gives useful suggestions)."
        )
    if len(tokens) > MAX_WORDS:
        notes.append(
            f"{corpus.name} has {len(tokens):,} words; only the first {MAX_WORDS:,} are used so "
            "that training finishes in reasonable time."
        )
        tokens = tokens[:MAX_WORDS]
    return tokens, notes


class Vocabulary:
    """Word <-> id mapping with padding (id 0) and `<unk>` (id 1) first."""

    def __init__(self, words: Sequence[str]):
        words = list(words)
        if PAD in words or UNK in words:
            raise ValueError("the word list must not contain the special tokens")
        self.words: list[str] = [PAD, UNK, *words]
        self.index: dict[str, int] = {word: i for i, word in enumerate(self.words)}

    @classmethod
    def build(cls, tokens: Iterable[str], min_count: int = 2, max_size: int = 10_000) -> Vocabulary:
        """Keep words seen at least `min_count` times, most frequent first.

        `max_size` caps the number of predictable tokens: the words plus `<unk>`.
        """
        counts = collections.Counter(tokens)
        ranked = sorted(counts.items(), key=lambda item: -item[1])  # stable: first seen wins ties
        kept = [word for word, count in ranked if count >= min_count]
        return cls(kept[: max(max_size - 1, 0)])

    @classmethod
    def build_and_encode(cls, tokens: Iterable[str], count_until: int, min_count: int = 2,
                         max_size: int = 10_000) -> tuple[Vocabulary, np.ndarray]:
        """`build(tokens[:count_until], ...)` and its `encode(tokens)`, in one pass over `tokens`.

        Each token gets a provisional number in order of first appearance while it is read; the
        vocabulary ranks them by their count in the first `count_until` tokens, and the ids are
        the provisional numbers mapped through that ranking (an array lookup, not a second pass).
        """
        numbers: dict[str, int] = {}
        provisional = np.fromiter((numbers.setdefault(token, len(numbers)) for token in tokens),
                                  dtype="int64")
        counts = np.bincount(provisional[:count_until], minlength=len(numbers))
        # first appearance breaks ties, as in `build`; words first met after count_until count 0
        ranked = np.argsort(-counts, kind="stable")
        kept = ranked[counts[ranked] >= min_count][: max(max_size - 1, 0)]
        words = list(numbers)
        vocab = cls([words[number] for number in kept])
        to_id = np.full(len(numbers), UNK_ID, dtype="int32")
        to_id[kept] = np.arange(2, 2 + len(kept), dtype="int32")
        return vocab, to_id[provisional]

    def __len__(self) -> int:
        """Number of ids, padding included (the size of an embedding or softmax over it)."""
        return len(self.words)

    @property
    def size(self) -> int:
        """Number of tokens a model can predict: the words plus `<unk>` (padding is not a word)."""
        return len(self.words) - 1

    def __contains__(self, word: str) -> bool:
        return word in self.index and word != PAD

    def encode(self, tokens: Iterable[str]) -> np.ndarray:
        return np.array([self.index.get(token, UNK_ID) for token in tokens], dtype="int32")

    def decode(self, ids: Iterable[int]) -> list[str]:
        return [self.words[int(i)] for i in ids]

    def to_json(self) -> str:
        return json.dumps({"words": self.words[2:]}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        try:
            words = json.loads(text)["words"]
        except (ValueError, KeyError, TypeError) as error:
            raise InputError(
                "The vocabulary file is damaged. Use a model folder saved by RNN Lab."
            ) from error
        if not isinstance(words, list) or not all(isinstance(word, str) for word in words):
            raise InputError("The vocabulary file is damaged. Use a model folder saved by RNN Lab.")
        return cls(words)


def join_words(words: Sequence[str]) -> str:
    """Words back to readable text: no space before punctuation marks."""
    text = ""
    for word in words:
        if text and not (len(word) == 1 and not word.isalnum() and word not in "([{\"'"):
            text += " "
        text += word
    return text
