"""A counting baseline for next-word prediction: an interpolated, modified Kneser-Ney n-gram.

Chen & Goodman's modified Kneser-Ney (three discounts per order, estimated from the counts of
counts), interpolated down to a uniform distribution over the vocabulary so that every token,
`<unk>` included, has a probability above zero. Higher orders use plain counts; lower orders use
continuation counts (in how many different contexts a word follows). Works on token ids from
`core.text.Vocabulary`; padding (id 0) is never predicted.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence

import numpy as np

from core.errors import ConfigError
from core.text import PAD_ID


class KneserNey:
    """n-gram language model over ids 1..vocab_size-1 (the estimator contract: fit, predict_proba)."""

    def __init__(self, order: int = 3):
        if not 1 <= order <= 6:
            raise ConfigError(f"The n-gram order must be between 1 and 6; received {order}.")
        self.order = order

    def fit(self, ids: Sequence[int], vocab_size: int) -> KneserNey:
        """Count n-grams in the id stream `ids`; `vocab_size` is len(Vocabulary) (padding included)."""
        ids = [int(i) for i in ids]
        self.vocab_size_ = int(vocab_size)
        # counts_[n][history][word] for history lengths n = 0..order-1
        counts: list[dict[tuple, collections.Counter]] = [
            collections.defaultdict(collections.Counter) for _ in range(self.order)
        ]
        top = self.order - 1
        for position in range(len(ids)):
            history = tuple(ids[max(0, position - top) : position])
            if len(history) == top:
                counts[top][history][ids[position]] += 1
        # Lower orders: continuation counts (number of distinct words seen before the n-gram).
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
        """Probabilities of every id given the preceding ids (index 0, padding, gets 0)."""
        size = self.vocab_size_ - 1  # predictable ids: 1..vocab_size-1
        proba = np.full(size, 1.0 / size)
        history = tuple(int(i) for i in history if int(i) != PAD_ID)
        for n in range(self.order):
            if n > len(history):
                break
            key = history[len(history) - n :] if n else ()
            table = self.tables_[n].get(key)
            if table is None:
                continue  # unseen history: keep the lower-order distribution
            words, discounted, total, backoff = table
            proba = proba * (backoff / total)
            np.add.at(proba, words - 1, discounted / total)
        return np.concatenate([[0.0], proba])

    def predict_windows(self, windows: np.ndarray) -> np.ndarray:
        """`predict_proba` for each row of left-padded context ids (one row per prediction)."""
        keep = self.order - 1
        rows = [self.predict_proba(row[len(row) - keep :] if keep else ()) for row in windows]
        return np.array(rows) if rows else np.zeros((0, self.vocab_size_))

    def score(self, ids: Sequence[int], start: int) -> dict[str, float]:
        """Top-1, top-5 accuracy and perplexity of predicting ids[start:] from what precedes them."""
        return score_distributions(
            (self.predict_proba(ids[max(0, i - self.order + 1) : i]) for i in range(start, len(ids))),
            ids[start:],
        )


def _modified_discounts(level: dict[tuple, collections.Counter]) -> tuple[float, float, float]:
    """D1, D2, D3+ from the counts of counts (Chen & Goodman 1998), with safe fallbacks."""
    count_of_counts = collections.Counter()
    for followers in level.values():
        count_of_counts.update(count for count in followers.values() if count <= 4)
    n1, n2, n3, n4 = (count_of_counts[k] for k in (1, 2, 3, 4))
    if not (n1 and n2 and n3 and n4):
        return (0.75, 0.75, 0.75)  # too few counts to estimate: the classic single discount
    y = n1 / (n1 + 2 * n2)
    d1, d2, d3 = 1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3
    return (min(max(d1, 0.05), 1.0), min(max(d2, 0.05), 2.0), min(max(d3, 0.05), 3.0))


def _table(followers: collections.Counter, discounts: tuple[float, float, float]):
    """(word ids, discounted counts, total count, mass left for the lower order) of one history."""
    words = np.fromiter(followers.keys(), dtype="int64", count=len(followers))
    counts = np.fromiter(followers.values(), dtype="float64", count=len(followers))
    discount = np.choose(np.minimum(counts, 3).astype(int) - 1, discounts)
    discount = np.minimum(discount, counts)
    return words, counts - discount, float(counts.sum()), float(discount.sum())


def score_distributions(distributions, targets: Sequence[int]) -> dict[str, float]:
    """Top-1, top-5 accuracy and perplexity of full distributions against the true next ids."""
    hits1 = hits5 = 0
    log_loss = 0.0
    count = 0
    for proba, target in zip(distributions, targets, strict=True):
        target = int(target)
        p = float(proba[target])
        # the rank a top-k list would give it: ties go to the lower id, as with arg-max
        better = int(np.sum(proba > p) + np.sum(proba[:target] == p))
        hits1 += better < 1
        hits5 += better < 5
        log_loss -= np.log(max(p, 1e-12))
        count += 1
    if count == 0:
        raise ValueError("nothing to score")
    return {
        "top1": hits1 / count,
        "top5": hits5 / count,
        "perplexity": float(np.exp(log_loss / count)),
    }
