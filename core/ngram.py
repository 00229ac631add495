"""A counting baseline for next-word prediction: an interpolated, modified Kneser-Ney n-gram.

Chen & Goodman's modified Kneser-Ney (three discounts per order, estimated from the counts of
counts), interpolated down to a uniform distribution over the vocabulary so that every token,
`<unk>` included, has a probability above zero. Higher orders use plain counts; lower orders use
continuation counts (in how many different contexts a word follows). Works on token ids from
`core.text.Vocabulary`; padding (id 0) is never predicted.

The counts live in numpy arrays, built in one vectorised pass per order over the id stream:
each n-gram is numbered by the rank of the int64 key `(number of its first n-1 words) *
vocab_size + its last word` among the sorted keys of its length, so that a book of 200,000 words
takes tens of MB (a dictionary of tuples per history took hundreds) and a few seconds.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.errors import ConfigError
from core.text import PAD_ID

SCORE_BATCH = 512  # rows of full distributions built at once when scoring (x vocabulary x 8 bytes)
BLOCK_ROWS = 64  # rows computed together: a few MB, within the processor's cache


class KneserNey:
    """n-gram language model over ids 1..vocab_size-1 (the estimator contract: fit, predict_proba)."""

    def __init__(self, order: int = 3):
        if not 1 <= order <= 6:
            raise ConfigError(f"The n-gram order must be between 1 and 6; received {order}.")
        self.order = order

    def fit(self, ids: Sequence[int], vocab_size: int) -> KneserNey:
        """Count n-grams in the id stream `ids`; `vocab_size` is len(Vocabulary) (padding included).

        Raises:
            ValueError: an id outside 0..vocab_size-1.
        """
        ids = np.asarray(ids, dtype="int64").ravel()
        vocab_size = int(vocab_size)
        if len(ids) and (ids.min() < 0 or ids.max() >= vocab_size):
            raise ValueError(f"ids must lie in 0..{vocab_size - 1} (the vocabulary's size "
                             f"{vocab_size}); received {ids.min()}..{ids.max()}")
        self.vocab_size_ = vocab_size
        top = self.order - 1
        # gram_keys[length] = sorted distinct keys of the n-grams of that length;
        # ranks[length][p] = the number (rank) of the n-gram of that length ending at position p
        gram_keys: list[np.ndarray] = [np.zeros(1, dtype="int64")]
        ranks: list[np.ndarray] = [np.zeros(len(ids), dtype="int64")]
        for length in range(1, self.order + 1):
            keys = ids.copy()
            if length > 1:  # the (length-1)-gram ending one word earlier, then this word
                keys[1:] += ranks[-1][:-1] * vocab_size
            rank = np.full(len(ids), -1, dtype="int64")
            gram_keys.append(np.unique(keys[length - 1 :]))
            rank[length - 1 :] = np.searchsorted(gram_keys[-1], keys[length - 1 :])
            ranks.append(rank)
        # Only n-grams whose full-order history fits count, as n-grams ending at position >= top.
        ends = slice(top, None)
        self.keys_ = gram_keys[:top + 1]  # the histories' keys, to look them up when predicting
        self.discounts_, self.levels_ = [], []
        for n in range(self.order):  # level n: histories of n words, n-grams of n + 1
            if n == top:  # plain counts
                grams, counts = np.unique(ranks[n + 1][ends], return_counts=True)
            else:  # continuation counts: the different (n+2)-grams each (n+1)-gram ends
                _, first = np.unique(ranks[n + 2][ends], return_index=True)
                grams, counts = np.unique(ranks[n + 1][ends][first], return_counts=True)
            self.discounts_.append(_modified_discounts(counts))
            self.levels_.append(_level(gram_keys[n + 1][grams], counts, self.discounts_[-1],
                                       len(gram_keys[n]), vocab_size, n))
        return self

    def predict_proba(self, history: Sequence[int]) -> np.ndarray:
        """Probabilities of every id given the preceding ids (index 0, padding, gets 0)."""
        history = [int(i) for i in history if int(i) != PAD_ID]
        keep = self.order - 1
        row = np.zeros(keep, dtype="int64")
        if keep and history:
            last = history[-keep:]
            row[keep - len(last) :] = last
        return self.predict_windows(row[None, :])[0]

    def predict_windows(self, windows: np.ndarray) -> np.ndarray:
        """`predict_proba` for each row of left-padded context ids (one row per prediction): the
        row's last `order - 1` ids, padding left out."""
        windows = np.asarray(windows, dtype="int64")
        windows = windows.reshape(len(windows), -1) if windows.ndim != 2 else windows
        proba = np.empty((len(windows), self.vocab_size_))
        for begin in range(0, len(windows), BLOCK_ROWS):
            proba[begin : begin + BLOCK_ROWS] = self._predict_block(windows[begin : begin + BLOCK_ROWS])
        return proba

    def _predict_block(self, windows: np.ndarray) -> np.ndarray:
        keep = self.order - 1
        history = windows[:, windows.shape[1] - min(keep, windows.shape[1]) :]
        # padding dropped: each row's real ids packed to its right end (a stable sort keeps order)
        real = history != PAD_ID
        history = np.take_along_axis(history, np.argsort(real, axis=1, kind="stable"), axis=1)
        lengths = real.sum(axis=1)
        proba = np.zeros((len(windows), self.vocab_size_))
        body = proba[:, 1:]  # predictable ids: 1..vocab_size-1
        body[:] = self._unigram()  # the same for every row: computed once
        for n in range(1, self.order):
            found = (self._history_ranks(history[:, history.shape[1] - n :])
                     if history.shape[1] >= n else np.full(len(history), -1))
            found[lengths < n] = -1
            rows = np.flatnonzero(found >= 0)
            level, found = self.levels_[n], found[rows]
            starts, stops = level.offsets[found], level.offsets[found + 1]
            seen = stops > starts  # a history met only where no full n-gram ends has no table
            rows, starts, stops, found = rows[seen], starts[seen], stops[seen], found[seen]
            if not len(rows):
                continue
            scale = (level.backoff[found] / level.total[found])[:, None]
            if len(rows) == len(body):
                body *= scale  # in place: no copy of the rows
            else:
                body[rows] *= scale
            spans = stops - starts
            entries = np.repeat(starts - np.cumsum(spans) + spans, spans) + np.arange(spans.sum())
            body[np.repeat(rows, spans), level.words[entries] - 1] += (
                level.discounted[entries] / np.repeat(level.total[found], spans))
        return proba

    def _unigram(self) -> np.ndarray:
        """The uniform distribution over ids 1..vocab_size-1 interpolated with the unigrams'."""
        size = self.vocab_size_ - 1
        proba = np.full(size, 1.0 / size)
        level = self.levels_[0]
        if level.offsets[1] > 0:  # an empty history has a table when any n-gram was counted
            proba *= level.backoff[0] / level.total[0]
            proba[level.words - 1] += level.discounted / level.total[0]
        return proba

    def _history_ranks(self, history: np.ndarray) -> np.ndarray:
        """The rank of each row's n-gram among the stored n-grams of its length, -1 if unseen."""
        rank = np.zeros(len(history), dtype="int64")
        found = np.ones(len(history), dtype=bool)
        for length in range(1, history.shape[1] + 1):
            words = history[:, length - 1]
            keys = self.keys_[length]
            if not len(keys):
                return np.full(len(history), -1)
            key = words if length == 1 else rank * self.vocab_size_ + words
            at = np.minimum(np.searchsorted(keys, key), len(keys) - 1)
            found &= (words >= 0) & (words < self.vocab_size_) & (keys[at] == key)
            rank = np.where(found, at, 0)
        return np.where(found, rank, -1)

    def score(self, ids: Sequence[int], start: int) -> dict[str, float]:
        """Top-1, top-5 accuracy and perplexity of predicting ids[start:] from what precedes them."""
        ids = np.asarray(ids, dtype="int64")
        keep = self.order - 1
        padded = np.concatenate([np.zeros(keep, dtype="int64"), ids])
        offsets = np.arange(keep)

        tally = ScoreTally()
        for begin in range(start, len(ids), SCORE_BATCH):
            positions = np.arange(begin, min(begin + SCORE_BATCH, len(ids)))
            # padded[p : p + keep] = the `keep` ids before ids[p]
            tally.add(self.predict_windows(padded[positions[:, None] + offsets[None, :]]),
                      ids[positions])
        return tally.result()


class _Level:
    """One order's tables: for history h, entries offsets[h]:offsets[h + 1] hold its next words."""

    def __init__(self, offsets, words, discounted, total, backoff):
        self.offsets, self.words, self.discounted = offsets, words, discounted
        self.total, self.backoff = total, backoff


def _level(keys: np.ndarray, counts: np.ndarray, discounts: tuple[float, float, float],
           histories: int, vocab_size: int, n: int) -> _Level:
    """The tables of one order from its n-grams' keys (sorted, so grouped by history)."""
    history = keys // vocab_size if n else np.zeros(len(keys), dtype="int64")
    words = (keys % vocab_size if n else keys).astype("int32")
    counts = counts.astype("float64")
    discount = np.minimum(np.choose(np.minimum(counts, 3).astype(int) - 1, discounts), counts)
    offsets = np.concatenate([[0], np.cumsum(np.bincount(history, minlength=histories))])
    return _Level(offsets, words, counts - discount,
                  np.bincount(history, weights=counts, minlength=histories),
                  np.bincount(history, weights=discount, minlength=histories))


def _modified_discounts(counts: np.ndarray) -> tuple[float, float, float]:
    """D1, D2, D3+ from the counts of counts (Chen & Goodman 1998), with safe fallbacks."""
    n1, n2, n3, n4 = (int(np.sum(counts == k)) for k in (1, 2, 3, 4))
    if not (n1 and n2 and n3 and n4):
        return (0.75, 0.75, 0.75)  # too few counts to estimate: the classic single discount
    y = n1 / (n1 + 2 * n2)
    d1, d2, d3 = 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3
    return (min(max(d1, 0.05), 1.0), min(max(d2, 0.05), 2.0), min(max(d3, 0.05), 3.0))


class ScoreTally:
    """Top-1, top-5 hits and log-loss added up over blocks of full distributions."""

    def __init__(self):
        self.hits1 = self.hits5 = self.count = 0
        self.log_loss = 0.0

    def add(self, proba: np.ndarray, targets: Sequence[int]) -> None:
        """Count one block: row i of `proba` is the distribution that predicts `targets[i]`."""
        proba = np.atleast_2d(proba)
        targets = np.asarray(targets, dtype="int64").reshape(-1)
        p = proba[np.arange(len(targets)), targets][:, None]
        # the rank a top-k list would give it: ties go to the lower id, as with arg-max
        lower = np.arange(proba.shape[1])[None, :] < targets[:, None]
        better = np.sum(proba > p, axis=1) + np.sum((proba == p) & lower, axis=1)
        self.hits1 += int(np.sum(better < 1))
        self.hits5 += int(np.sum(better < 5))
        self.log_loss -= float(np.sum(np.log(np.maximum(p, 1e-12))))
        self.count += len(targets)

    def result(self) -> dict[str, float]:
        """{"top1", "top5", "perplexity"}.

        Raises:
            ValueError: nothing was added.
        """
        if self.count == 0:
            raise ValueError("nothing to score")
        return {
            "top1": self.hits1 / self.count,
            "top5": self.hits5 / self.count,
            "perplexity": float(np.exp(self.log_loss / self.count)),
        }


def score_distributions(distributions, targets: Sequence[int]) -> dict[str, float]:
    """Top-1, top-5 accuracy and perplexity of full distributions against the true next ids."""
    tally = ScoreTally()
    for proba, target in zip(distributions, targets, strict=True):
        tally.add(np.asarray(proba)[None, :], [target])
    return tally.result()
