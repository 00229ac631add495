"""Next-word prediction: a word-level language model with an RNN cell, and its evaluation.

The protocol (the same for the page, the command line and the benchmark):
- words as in `core.text.tokenize`; the last 10% of the words are held out for testing;
- the vocabulary is the training words seen at least `min_count` times (2 by default); every
  other word is `<unk>`, which still counts as a word to predict;
- each training example is a sliding window of the `context` previous words (left-padded at the
  start of the text: the seed's growing prefixes) and the word that follows;
- early stopping watches the last 10% of the training part, at most `max_validation_words`
  (never the test words);
- a training budget bounds the cost whatever the size of the text: each epoch trains on
  `windows_per_epoch` windows drawn by `core.sampling.sample_positions` (all of them on a short
  text), streamed batch by batch, and training stops when `budget_seconds` are spent, keeping
  the best weights (`estimate_seconds` gives the whole run's time beforehand);
- the held-out figures are top-1 / top-5 accuracy and perplexity over every test word, computed
  the same way for the network and for a Kneser-Ney trigram built on the same split.

The network: an embedding, one or more SimpleRNN / LSTM / GRU layers and a softmax over the
vocabulary. A few things make it learn from a few thousand words instead of memorising them
(each measured with bench/nextword.py against a Kneser-Ney trigram):
- word dropout: a share of the context words is hidden in each training step;
- a shortcut that also hands the last word's embedding to the softmax, so that frequent word
  pairs are learnt in a few epochs while the recurrent layers add what the longer context says;
- the softmax bias starts at the word frequencies (the first epochs learn context, not counts);
- validation and best-weights keeping use a running average of the weights (Polyak averaging);
- after early stopping, one last epoch over the validation slice and a sample of the rest of
  the training part (all of it on a short text);
- by default two networks trained side by side, their probabilities averaged (`ensemble`).

Two more steps turn the network into the model that suggests words (both on by default, both
measured with bench/nextword.py; the scores also give the network alone):
- `mix_counts`: the network's probabilities are mixed with a Kneser-Ney 4-gram's, with the
  network's share learnt on the validation slice separately for contexts whose last two words
  were seen together never, once or twice, 3-9 or 10+ times, and for contexts where the counts
  give one word half the probability or more (counts know frequent and repeated phrases exactly;
  the network generalises where counts are thin);
- `unk_correction`: new text has more unknown words than the training words (the vocabulary
  was built on them), so the share of `<unk>` is moved, by Bayes' rule for a changed prior, from
  its training share to the share measured by replaying the protocol inside the training part
  (each tenth of it against a vocabulary built on the other nine tenths).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.cells import get_cell
from core.config import NextWordConfig
from core.errors import ConfigError, InputError, JobStopped, TrainingError
from core.jobs import JobContext
from core.modelfile import ModelFileError, load_model_file, save_model_file
from core.ngram import KneserNey, ScoreTally
from core.sampling import sample_positions
from core.text import (
    PAD_ID,
    UNK_ID,
    Corpus,
    Vocabulary,
    corpus_tokens,
    decode_text,
    join_words,
    tokenize,
)
from core.training import FitSettings, fit, set_seed

TASK = "core.nextword:nextword_task"
HOLDOUT = 0.1  # share of the words held out for testing (the protocol)
VALIDATION = 0.1  # share of the training words, at its end, that early stopping watches
MIN_VALIDATION_WORDS = 200  # below this, no validation slice: training watches its own loss
BASELINE_ORDER = 3

MIX_ORDER = 4  # the counts mixed into the network's probabilities: a Kneser-Ney 4-gram
MIX_BUCKETS = (0, 1, 3, 10)  # history seen 0, 1-2, 3-9, 10+ times: one network share each
MIX_CONFIDENT = 0.5  # counts this sure of their first word (a phrase repeating) get a share of their own
MIX_SHARES = len(MIX_BUCKETS) + 1
MIX_MIN_ROWS = 40  # validation words a bucket needs for a share of its own
UNKNOWN_FOLDS = 10  # parts of the training words replayed to estimate new text's unknown share
MIX_DEFAULT = 1.0  # no validation slice (texts under 200 words): nothing to weigh, network alone
SCORE_ROWS = 256  # predictions made at once when scoring: rows x vocabulary x 8 bytes, a few copies
LAST_PASS_SHARE = 0.25  # of the training budget, kept for the mix weighing and the last pass

CONFIG_FILE = "config.json"
VOCABULARY_FILE = "vocabulary.json"
WEIGHTS_FILE = "weights.npz"  # plain arrays: a weights file can never carry code
COUNTS_FILE = "counts.npz"  # the training ids the counts are rebuilt from, and the mix shares
MODEL_FILE = "model.rnnlab"  # the signed model file (core.modelfile): the one that is loaded
MODEL_KIND = "nextword"
METRICS_FILE = "metrics.json"


# ---------------------------------------------------------------------------------------------
# Data


@dataclasses.dataclass(frozen=True)
class Split:
    """A corpus encoded with the training vocabulary: ids[:test_start] train, the rest test."""

    vocab: Vocabulary
    ids: np.ndarray
    test_start: int

    @property
    def train_words(self) -> int:
        return self.test_start

    @property
    def test_words(self) -> int:
        return len(self.ids) - self.test_start


def split_corpus(tokens: Sequence[str], min_count: int = 2, max_vocab: int = 10_000) -> Split:
    """Hold out the last 10% of the words; build the vocabulary on the rest (one pass)."""
    test_words = max(1, int(round(len(tokens) * HOLDOUT)))
    test_start = len(tokens) - test_words
    if test_start < 2:
        raise InputError(
            f"The text has {len(tokens)} words: too few to train and test. Use a longer text."
        )
    vocab, ids = Vocabulary.build_and_encode(tokens, test_start, min_count, max_vocab)
    if vocab.size < 2:
        raise InputError(
            f"No word appears {min_count} times or more in the training part of the text, so "
            "there is nothing to learn. Use a longer text or set the minimum word count to 1."
        )
    return Split(vocab=vocab, ids=ids, test_start=test_start)


def make_windows(
    ids: Sequence[int], context: int, start: int = 1, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Inputs (the `context` ids before each target, left-padded with 0) and targets ids[start:stop].

    `make_windows([5, 6, 7, 8], 2)` gives `[0, 5] -> 6`, `[5, 6] -> 7`, `[6, 7] -> 8`.
    """
    ids = np.asarray(ids, dtype="int32")
    stop = len(ids) if stop is None else stop
    if context < 1:
        raise ConfigError(f"The context must be 1 word or more; received {context}.")
    start = max(start, 0)
    count = max(stop - start, 0)
    padded = np.concatenate([np.zeros(context, dtype="int32"), ids])
    # row r holds padded[start + r : start + r + context] = the `context` ids before ids[start + r]
    rows = np.arange(count)[:, None] + start + np.arange(context)[None, :]
    return padded[rows].reshape(count, context), ids[start:stop].copy()


def prompt_ids(prompt: str | Sequence[str], vocab: Vocabulary, context: int,
               keep_punctuation: bool = False) -> np.ndarray:
    """The last `context` ids of a prompt, left-padded; unknown words become `<unk>`."""
    words = tokenize(prompt, keep_punctuation) if isinstance(prompt, str) else list(prompt)
    ids = vocab.encode(words)[-context:]
    window = np.zeros(context, dtype="int32")
    if len(ids):
        window[-len(ids) :] = ids
    return window


# ---------------------------------------------------------------------------------------------
# Sampling and metrics (pure helpers)


def sample_next(
    proba: np.ndarray,
    temperature: float = 1.0,
    top_k: int = 0,
    rng: np.random.Generator | None = None,
) -> int:
    """Draw an id from `proba` sharpened by `temperature` and cut to the `top_k` most likely.

    A temperature near 0 or a top_k of 1 gives the arg-max (ties to the lower id).
    """
    proba = np.asarray(proba, dtype="float64")
    if temperature < 0:
        raise ConfigError(f"The temperature must be 0 or more; received {temperature}.")
    if top_k == 1 or temperature < 1e-3:
        return int(np.argmax(proba))
    logits = np.log(np.maximum(proba, 1e-300)) / temperature
    logits[proba <= 0] = -np.inf
    if top_k and top_k < len(proba):
        cutoff = np.sort(logits)[-top_k]
        logits[logits < cutoff] = -np.inf
    logits -= logits.max()
    weights = np.exp(logits)
    rng = rng or np.random.default_rng()
    return int(rng.choice(len(proba), p=weights / weights.sum()))


def renormalise(proba: np.ndarray) -> np.ndarray:
    """Zero the padding column and rescale so each row sums to 1 over the real tokens."""
    proba = np.array(proba, dtype="float64")
    proba[..., PAD_ID] = 0.0
    return proba / proba.sum(axis=-1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# The network


def build_network(config: NextWordConfig, vocab_len: int):
    """Embedding -> word dropout -> RNN layers -> softmax, with the last-word shortcut.

    With `ensemble` > 1 the model holds that many such networks side by side, each with its own
    weights and its own output (trained on its own loss); predictions average their outputs.
    """
    import keras

    inputs = keras.Input((config.context,), dtype="int32", name="context")
    outputs = [_member(config, vocab_len, inputs, member) for member in range(config.ensemble)]
    return keras.Model(inputs, outputs if len(outputs) > 1 else outputs[0],
                       name=f"nextword_{config.cell}")


def _member(config: NextWordConfig, vocab_len: int, inputs, member: int):
    import keras

    cell = get_cell(config.cell)
    suffix = f"_{member + 1}" if member else ""
    seed = config.seed + 1000 * member
    embedding = keras.layers.Embedding(vocab_len, config.embedding_dim, name=f"embedding{suffix}")
    hidden = embedding(WordDropout(config.word_dropout, seed=seed, name=f"word_dropout{suffix}")(
        inputs))
    last_word = keras.layers.Lambda(lambda x: x[:, -1, :], name=f"last_word{suffix}")(hidden)
    hidden = keras.layers.Dropout(config.dropout, seed=seed)(hidden)
    for layer in range(config.num_layers):
        hidden = cell.make_layer(
            config.units, return_sequences=layer < config.num_layers - 1,
            name=f"rnn_{layer + 1}{suffix}",
        )(hidden)
        hidden = keras.layers.Dropout(config.dropout, seed=seed + layer + 1)(hidden)
    if config.shortcut:
        last_word = keras.layers.Dropout(config.dropout, seed=seed + 99)(last_word)
        hidden = keras.layers.Concatenate(name=f"state_and_last_word{suffix}")([hidden, last_word])
    return keras.layers.Dense(vocab_len, activation="softmax", name=f"next_word{suffix}")(hidden)


def _unknown_rates(ids: np.ndarray, min_count: int, folds: int = UNKNOWN_FOLDS
                   ) -> tuple[float, float]:
    """The share of `<unk>` in the training words, and the share to expect in new text.

    New text has more unknown words than the training words: the vocabulary was built on them.
    The protocol is replayed inside the training part to measure how many more: cut into
    `folds` consecutive parts, each part's words that the rest of the training words hold
    fewer than `min_count` times would be unknown to a vocabulary built without that part.
    The mean over the parts is the share to expect (one part alone, say the last, swings with
    whatever text happens to be there). With `folds` below 2 both shares are the training share.
    """
    ids = np.asarray(ids)
    trained = float(np.mean(ids == UNK_ID)) if len(ids) else 0.0
    if folds < 2 or len(ids) < folds:
        return trained, trained
    total = np.bincount(ids)
    shares = []
    for part in np.array_split(ids, folds):
        rest = total - np.bincount(part, minlength=len(total))
        shares.append(np.mean((part == UNK_ID) | (rest[part] < min_count)))
    return trained, max(float(np.mean(shares)), trained)


def _shift_unknown(proba: np.ndarray, trained: float, expected: float) -> np.ndarray:
    """Bayes' rule for a changed prior: `<unk>` from `trained` to `expected`, other words rescaled."""
    if not 0 < trained < 1 or expected == trained:
        return proba
    proba = np.array(proba, dtype="float64")
    unknown = proba[..., UNK_ID] * (expected / trained)
    proba *= (1 - expected) / (1 - trained)  # in place: a masked product copied every row
    proba[..., UNK_ID] = unknown
    proba /= proba.sum(axis=-1, keepdims=True)
    return proba


def pair_counts(ids: Sequence[int]) -> collections.Counter:
    """How often each pair of consecutive ids is followed by a word (padding never counts)."""
    ids = [int(i) for i in ids]
    return collections.Counter(pair for pair in zip(ids[:-2], ids[1:-1], strict=True)
                               if PAD_ID not in pair)


def _buckets(pairs: collections.Counter, windows: np.ndarray,
             counted: np.ndarray | None = None) -> np.ndarray:
    """Each window's bucket of MIX_BUCKETS by how often its last two words were seen together;
    the extra last bucket when the counts' own distribution `counted` is confident (its most
    likely word at MIX_CONFIDENT or more: a phrase seen before, repeating)."""
    seen = np.array([pairs.get((int(row[-2]), int(row[-1])), 0) if len(row) >= 2 else 0
                     for row in windows], dtype="int64")
    buckets = np.searchsorted(np.array(MIX_BUCKETS), seen, side="right") - 1
    if counted is not None:
        buckets[counted.max(axis=1) >= MIX_CONFIDENT] = len(MIX_BUCKETS)
    return buckets


def _word_dropout_layer():
    import keras

    class _WordDropout(keras.layers.Layer):
        """In training, hides each input word with probability `rate` (its id becomes padding).

        Hidden words become padding ("nothing here"), not `<unk>`: `<unk>` keeps meaning "a rare
        word", which matters because rare words are a quarter of what there is to predict.
        """

        def __init__(self, rate: float, seed: int = 0, **kwargs):
            super().__init__(**kwargs)
            self.rate = float(rate)
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, ids, training=False):
            if not training or self.rate <= 0:
                return ids
            ops = keras.ops
            hide = keras.random.uniform(ops.shape(ids), seed=self.seed_generator) < self.rate
            hide = ops.logical_and(hide, ops.not_equal(ids, PAD_ID))
            return ops.where(hide, ops.zeros_like(ids), ids)

    return _WordDropout


def _weight_average_callback(decay: float = 0.99, keep_at_end: bool = False):
    """Validate and keep the running average of the weights (Polyak averaging), not the last step.

    The average of the weights over the last hundred or so steps predicts held-out words better
    than any single step on small corpora. The average is swapped in before each validation and
    stays in the model at the end of the epoch (so that best-weights keeping stores it); the raw
    weights come back at the start of the next epoch.
    """
    import keras

    class WeightAverage(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.average = None
            self.raw = None
            self.steps = 0

        def on_train_batch_end(self, batch, logs=None):
            weights = self.model.get_weights()
            self.steps += 1
            if self.average is None:
                self.average = weights
                return
            rate = min(decay, (1 + self.steps) / (10 + self.steps))
            self.average = [rate * a + (1 - rate) * w for a, w in zip(self.average, weights, strict=True)]

        def on_test_begin(self, logs=None):
            if self.average is not None and self.raw is None:
                self.raw = self.model.get_weights()
                self.model.set_weights(self.average)

        def on_epoch_begin(self, epoch, logs=None):
            if self.raw is not None:
                self.model.set_weights(self.raw)
                self.raw = None

        def on_train_end(self, logs=None):
            if keep_at_end and self.average is not None:
                self.model.set_weights(self.average)

    return WeightAverage()


def WordDropout(rate: float, seed: int = 0, name: str = "word_dropout"):  # noqa: N802 - a layer
    return _word_dropout_layer()(rate, seed=seed, name=name)


def _window_batches(ids: np.ndarray, context: int, positions: np.ndarray, config: NextWordConfig,
                    targets, sample: bool = True):
    """Training batches streamed from the id stream: the windows before ids[p + 1] for p in
    `positions`, built batch by batch (never all at once). With `sample`, each epoch draws
    `windows_per_epoch` of the positions through `core.sampling.sample_positions`."""
    import keras

    padded = np.concatenate([np.zeros(context, dtype="int32"), np.asarray(ids, dtype="int32")])
    offsets = np.arange(context)
    positions = np.asarray(positions, dtype="int64")
    per_epoch = min(config.windows_per_epoch, len(positions)) if sample else len(positions)
    batch_size = config.batch_size

    class WindowBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.epoch = 0
            self.order = self._draw()

        def _draw(self) -> np.ndarray:
            if not sample:
                return np.random.default_rng(config.seed).permutation(positions)
            return positions[sample_positions(len(positions), per_epoch, self.epoch, config.seed)]

        def __len__(self) -> int:
            return -(-per_epoch // batch_size)

        def __getitem__(self, index: int):
            rows = self.order[index * batch_size : (index + 1) * batch_size]
            # row p holds padded[p + 1 : p + 1 + context] = the `context` ids before ids[p + 1]
            return padded[rows[:, None] + 1 + offsets[None, :]], targets(padded[rows + 1 + context])

        def on_epoch_end(self) -> None:
            self.epoch += 1
            self.order = self._draw()

    return WindowBatches()


def _time_budget_callback(seconds: float, epochs: int, context: JobContext,
                          reserve_last_pass: bool = False):
    """Stops training (between batches) when the budget for the epochs is spent: all of
    `seconds`, or with `reserve_last_pass` all but LAST_PASS_SHARE of it (the mix weighing and
    the last pass take the rest). After each epoch, tells the job how many epochs fit and about
    how long training has left. An epoch cut short still counts: its windows were a sample.
    """
    import keras

    for_epochs = seconds * (1 - LAST_PASS_SHARE if reserve_last_pass else 1)

    class TimeBudget(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.start = time.perf_counter()
            self.epoch_start = self.start
            self.spent = False

        def seconds_left(self) -> float:
            """Of the whole budget (epochs, mix weighing and last pass)."""
            return seconds - (time.perf_counter() - self.start)

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_begin(self, epoch, logs=None):
            self.epoch_start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - self.start >= for_epochs:
                self.spent = True
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            if self.model.stop_training:
                return
            now = time.perf_counter()
            epoch_seconds = max(now - self.epoch_start, 1e-6)
            fits = int(max(for_epochs - (now - self.start), 0.0) // epoch_seconds)
            total = min(epochs, epoch + 1 + max(fits, 1))  # the next epoch starts, maybe cut short
            context.set_total(total)
            left = min((total - epoch - 1) * epoch_seconds
                       + (seconds - for_epochs), self.seconds_left())
            context.say(f"About {left:.0f} s of training left "
                        f"(at most {total} epochs within the {seconds:.0f} s budget).")

    return TimeBudget()


# ---------------------------------------------------------------------------------------------
# The model


class NextWordModel:
    """A trained next-word network with its vocabulary (fit / predict_proba / suggest / generate)."""

    def __init__(self, config: NextWordConfig | None = None):
        self.config = config or NextWordConfig()

    # -- learning

    def fit(
        self,
        ids: np.ndarray,
        vocab: Vocabulary,
        context: JobContext | None = None,
    ) -> NextWordModel:
        """Train on the id stream `ids` (the training part); early stopping watches its last 10%.

        Training windows end before the validation slice; the validation loss is taken over the
        slice's words that training has seen as a target (a word first met there has no chance
        yet and would only add noise to the stopping signal). Each epoch draws
        `windows_per_epoch` of the training windows; the epochs stop when early stopping says so
        or when their share of `budget_seconds` is spent. Then the best (averaged) weights get
        one more epoch over the validation slice and a sample of the rest (within the budget),
        so that words and phrases met only near its end are learnt too.
        """
        import keras

        config = self.config
        context = context or JobContext(Path("."))
        self.vocab_ = vocab
        ids = np.asarray(ids, dtype="int32")
        targets = ids[1:]  # row r of the windows predicts ids[r + 1] (see `make_windows`)
        if len(targets) < 1:
            raise InputError("The text is too short to train on. Use a longer text.")
        validation = None
        train_until = len(targets)
        if len(ids) >= MIN_VALIDATION_WORDS:
            held = min(max(1, int(round(len(targets) * VALIDATION))), config.max_validation_words)
            train_until = len(targets) - held
            x_valid, y_valid = make_windows(ids, config.context, train_until + 1)
            seen = np.isin(y_valid, targets[:train_until])
            if seen.any():
                validation = (x_valid[seen], y_valid[seen])
        self.unknown_rates_ = _unknown_rates(
            ids, config.min_count, UNKNOWN_FOLDS if len(ids) >= MIN_VALIDATION_WORDS else 0)
        self.model_ = build_network(config, len(vocab))
        self._init_output_bias(targets[:train_until])
        self.model_.compile(
            optimizer=keras.optimizers.Adam(config.learning_rate, clipnorm=1.0),
            # the logged loss is the members' mean: per word, whatever the ensemble size
            loss=["sparse_categorical_crossentropy"] * config.ensemble if config.ensemble > 1
            else "sparse_categorical_crossentropy",
            loss_weights=[1 / config.ensemble] * config.ensemble if config.ensemble > 1 else None,
            metrics=[["accuracy"]] * config.ensemble if config.ensemble > 1 else ["accuracy"],
        )
        settings = FitSettings(
            epochs=config.epochs,
            batch_size=config.batch_size,
            patience=config.patience,
            monitor="val_loss",
        )
        if validation is not None:
            validation = (validation[0], self._targets(validation[1]))
        per_epoch = min(config.windows_per_epoch, train_until)
        context.say(f"Training for at most {config.budget_seconds:.0f} s: each epoch "
                    f"{per_epoch:,} of the {train_until:,} training windows.")
        batches = _window_batches(ids, config.context, np.arange(train_until), config,
                                  self._targets)
        budget = _time_budget_callback(config.budget_seconds, config.epochs, context,
                                       reserve_last_pass=validation is not None)
        self.outcome_ = fit(
            self.model_, batches, None, validation, settings, context,
            extra_callbacks=[_weight_average_callback(), budget],
        )
        self.budget_spent_ = budget.spent
        if not self.outcome_.history:
            raise JobStopped("Training was stopped before the first epoch ended.")
        self.ngram_ = None
        if config.mix_counts:
            context.say("Weighing the network against word-sequence counts...")
            self.mix_weights_ = self._fit_mix(ids[: train_until + 1], validation)
        if (validation is not None and not self.outcome_.stopped_by_user
                and budget.seconds_left() >= 1):  # a spent budget skips it
            context.say("One last pass over the end of the training text and a sample of the rest...")
            self._last_pass(ids, train_until, budget.seconds_left(), context)
        self.ngram_ids_ = ids
        if config.mix_counts:
            self.ngram_ = KneserNey(MIX_ORDER).fit(ids, len(vocab))
            self.pairs_ = pair_counts(ids)
        else:
            self.mix_weights_ = np.ones(MIX_SHARES)
        self.history_ = self.outcome_.history
        return self

    def _fit_mix(self, ids: np.ndarray, validation) -> np.ndarray:
        """The network's share in the mix, per bucket of history counts, fitted on validation.

        The counts are taken over the words before the validation slice (as the network's
        training windows), so that neither side has seen the words it is weighed on. Each
        bucket's share maximises the validation likelihood on a grid of 0.00, 0.02, ... 1.00;
        a bucket with fewer than MIX_MIN_ROWS validation words takes the share of all of them.
        """
        if validation is None:
            return np.full(MIX_SHARES, MIX_DEFAULT)
        x_valid, y_valid = validation[0], np.asarray(validation[1] if self.config.ensemble == 1
                                                     else validation[1][0])
        counts = KneserNey(MIX_ORDER).fit(ids, len(self.vocab_))
        pairs = pair_counts(ids)
        net, ngram, buckets = [], [], []
        # block by block: 5,000 validation words x 10,000 words of vocabulary would be 400 MB a copy
        for begin in range(0, len(y_valid), SCORE_ROWS):
            windows, targets = x_valid[begin : begin + SCORE_ROWS], y_valid[begin : begin + SCORE_ROWS]
            rows = np.arange(len(targets))
            net.append(self.predict_windows(windows, network_only=True, raw=True)[rows, targets])
            counted = counts.predict_windows(windows)
            ngram.append(counted[rows, targets])
            buckets.append(_buckets(pairs, windows, counted))
        net, ngram, buckets = (np.concatenate(part) for part in (net, ngram, buckets))
        grid = np.linspace(0.0, 1.0, 51)

        def best(mask: np.ndarray) -> float:
            mixed = grid[:, None] * net[None, mask] + (1 - grid[:, None]) * ngram[None, mask]
            return float(grid[np.argmax(np.log(np.maximum(mixed, 1e-12)).sum(axis=1))])

        overall = best(np.ones(len(y_valid), dtype=bool))
        return np.array([best(buckets == b) if np.sum(buckets == b) >= MIX_MIN_ROWS else overall
                         for b in range(MIX_SHARES)])

    def _targets(self, y: np.ndarray):
        """The targets in the shape the network wants: one copy per ensemble member."""
        return tuple([y] * self.config.ensemble) if self.config.ensemble > 1 else y

    def _last_pass(self, ids: np.ndarray, train_until: int, seconds: float,
                   context: JobContext) -> None:
        """One epoch over the validation slice's windows and a sample of the others (all of them
        when they fit in `windows_per_epoch`), keeping the averaged weights; stop-aware, and cut
        short after `seconds`."""
        import keras

        config = self.config
        rows = len(ids) - 1
        others = min(max(config.windows_per_epoch - (rows - train_until), 0), train_until)
        drawn = sample_positions(train_until, max(others, 1), 0, config.seed + 7)[:others]
        positions = np.concatenate([drawn, np.arange(train_until, rows)])
        average = _weight_average_callback(keep_at_end=True)
        deadline = time.perf_counter() + max(seconds, 0.0)

        class Stop(keras.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                if context.should_stop() or time.perf_counter() > deadline:
                    self.model.stop_training = True

        before = self.model_.get_weights()
        self.model_.fit(_window_batches(ids, config.context, positions, config, self._targets,
                                        sample=False),
                        epochs=1, verbose=0, callbacks=[average, Stop()])
        if context.should_stop() or not all(np.isfinite(w).all() for w in self.model_.get_weights()):
            self.model_.set_weights(before)  # a stopped or diverged pass changes nothing

    def _init_output_bias(self, ids: np.ndarray) -> None:
        """Start the softmax at the word frequencies, so the first epochs learn context, not counts."""
        counts = np.bincount(ids, minlength=len(self.vocab_)).astype("float64") + 0.5
        counts[PAD_ID] = 1e-3
        for member in range(self.config.ensemble):
            layer = self.model_.get_layer("next_word" + (f"_{member + 1}" if member else ""))
            layer.bias.assign(np.log(counts / counts.sum()).astype("float32"))

    # -- predicting

    def predict_windows(self, windows: np.ndarray, batch_size: int = 1024,
                        network_only: bool = False, raw: bool = False) -> np.ndarray:
        """Next-id probabilities for each row of context ids (padding column zeroed, renormalised).

        With `mix_counts`, the network's probabilities mixed with the Kneser-Ney counts', each row
        with the network share of its history-count bucket; `network_only` leaves the counts out.
        """
        windows = np.asarray(windows, dtype="int32").reshape(-1, self.config.context)
        return self._finish(windows, self._network(windows, batch_size), network_only, raw)

    def _network(self, windows: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """The network's probabilities (the members averaged), padding zeroed, renormalised."""
        parts = [
            np.mean(np.asarray(self.model_.predict_on_batch(windows[i : i + batch_size])),
                    axis=0) if self.config.ensemble > 1
            else np.asarray(self.model_.predict_on_batch(windows[i : i + batch_size]))
            for i in range(0, len(windows), batch_size)
        ]
        return renormalise(np.concatenate(parts) if parts else np.zeros((0, len(self.vocab_))))

    def _finish(self, windows: np.ndarray, proba: np.ndarray, network_only: bool,
                raw: bool) -> np.ndarray:
        """The network's probabilities `proba` mixed with the counts' and corrected for `<unk>`
        (see `predict_windows`); `proba` itself is left as it was."""
        if not network_only and self.ngram_ is not None:
            counted = self.ngram_.predict_windows(windows)
            share = self.mix_weights_[_buckets(self.pairs_, windows, counted)][:, None]
            proba = share * proba + (1 - share) * counted
        if self.config.unk_correction and not raw:
            proba = _shift_unknown(proba, *self.unknown_rates_)
        return proba

    def predict_proba(self, prompt: str | Sequence[str]) -> np.ndarray:
        """Probabilities of every vocabulary id coming next after `prompt`."""
        window = prompt_ids(prompt, self.vocab_, self.config.context, self.config.keep_punctuation)
        return self.predict_windows(window[None, :])[0]

    def suggest(
        self, prompt: str | Sequence[str], top_k: int = 5, include_unknown: bool = False
    ) -> list[dict[str, Any]]:
        """The `top_k` most likely next words, most likely first, as {"word", "probability"}."""
        if top_k < 1:
            raise ConfigError(f"The number of suggestions must be 1 or more; received {top_k}.")
        proba = self.predict_proba(prompt)
        if not include_unknown:
            proba[UNK_ID] = 0.0
        order = np.argsort(-proba, kind="stable")[:top_k]
        return [
            {"word": self.vocab_.words[i], "probability": float(proba[i])}
            for i in order
            if proba[i] > 0
        ]

    def generate(
        self,
        prompt: str | Sequence[str],
        length: int = 20,
        temperature: float = 1.0,
        top_k: int = 0,
        seed: int | None = None,
    ) -> Iterator[str]:
        """Yield `length` words, one at a time, each drawn after the prompt and the words so far."""
        if not 1 <= length <= 1000:
            raise ConfigError(f"The length must be between 1 and 1000 words; received {length}.")
        rng = np.random.default_rng(seed)
        window = prompt_ids(prompt, self.vocab_, self.config.context, self.config.keep_punctuation)
        for _ in range(length):
            proba = self.predict_windows(window[None, :])[0]
            proba[UNK_ID] = 0.0  # a generated "<unk>" reads as noise; draw among real words
            if proba.sum() <= 0:
                return
            next_id = sample_next(proba / proba.sum(), temperature, top_k, rng)
            window = np.concatenate([window[1:], [next_id]]).astype("int32")
            yield self.vocab_.words[next_id]

    def score(self, ids: np.ndarray, start: int, network_only: bool = False,
              with_network: bool = False) -> dict[str, Any]:
        """Top-1, top-5 accuracy and perplexity of predicting ids[start:] (the held-out words).

        With `with_network`, also the network's alone under "network" (the network runs once).
        """
        windows, targets = make_windows(ids, self.config.context, start)
        model, network = ScoreTally(), ScoreTally()
        # block by block: 50,000 held-out words x 10,000 words of vocabulary would be 4 GB
        for begin in range(0, len(windows), SCORE_ROWS):
            block, block_targets = (windows[begin : begin + SCORE_ROWS],
                                    targets[begin : begin + SCORE_ROWS])
            proba = self._network(block)
            if network_only or with_network:
                network.add(self._finish(block, proba, network_only=True, raw=False),
                            block_targets)
            if not network_only:
                model.add(self._finish(block, proba, network_only=False, raw=False),
                          block_targets)
        if network_only:
            return network.result()
        return {**model.result(), **({"network": network.result()} if with_network else {})}

    # -- saving

    def to_model_file(self, path: str | Path | None = None,
                      trained_on: dict[str, Any] | None = None) -> bytes:
        """The model as an RNN Lab model file (`core.modelfile`, kind "nextword"); its bytes.

        `trained_on` (plain JSON: the text's name, its word count, the held-out scores) is kept
        in the file so that whoever loads it can say what the model learnt from.
        """
        arrays = {f"weight_{i:03d}": np.asarray(weight, dtype="float32")
                  for i, weight in enumerate(self.model_.get_weights())}
        arrays.update(
            ngram_ids=np.asarray(self.ngram_ids_, dtype="int32"),
            mix_shares=np.asarray(self.mix_weights_, dtype="float64"),
            unknown_rates=np.asarray(self.unknown_rates_, dtype="float64"),
        )
        description = {"config": self.config.to_dict(), "vocabulary": self.vocab_.words[2:],
                       "trained_on": trained_on or {}}
        return save_model_file(MODEL_KIND, description, arrays, path)

    @classmethod
    def from_model_file(cls, source: bytes | str | Path | Any) -> NextWordModel:
        """Rebuild a model from an RNN Lab model file: the network comes from our own code, the
        file only gives checked numbers and settings. Sets `trained_on_` and `created_` too.

        Raises:
            InputError: not a next-word model file of this server, or damaged.
        """
        loaded = load_model_file(source, kind=MODEL_KIND)
        try:
            config = NextWordConfig.from_dict(loaded.field("config", dict))
        except ConfigError as error:
            raise ModelFileError(
                f"This model's settings do not fit this version of RNN Lab ({error}). "
                "Train it again."
            ) from error
        words = loaded.field("vocabulary", list)
        try:
            if not all(isinstance(word, str) for word in words) or len(set(words)) != len(words):
                raise ValueError("not a list of different words")
            vocab = Vocabulary(words)
        except ValueError as error:
            raise ModelFileError("This model file's vocabulary is damaged. Train the model "
                                 "again.") from error
        model = cls(config)
        model.vocab_ = vocab
        model.model_ = build_network(config, len(vocab))
        shapes = [tuple(weight.shape) for weight in model.model_.weights]
        weights = [loaded.array(f"weight_{i:03d}", "float32", shape)
                   for i, shape in enumerate(shapes)]
        if (sum(name.startswith("weight_") for name in loaded.arrays) != len(shapes)
                or not all(np.isfinite(weight).all() for weight in weights)):
            raise ModelFileError("The weights in this model file do not fit its settings and "
                                 "vocabulary. Train the model again.")
        model.model_.set_weights(weights)
        ids = loaded.array("ngram_ids", "int32", (None,))
        shares = loaded.array("mix_shares", "float64", (MIX_SHARES,))
        unknown = loaded.array("unknown_rates", "float64", (2,))
        if (len(ids) < 1 or ids.min() < 0 or ids.max() >= len(vocab)
                or not all(np.all((array >= 0) & (array <= 1)) for array in (shares, unknown))):
            raise ModelFileError("The word counts in this model file do not fit its vocabulary. "
                                 "Train the model again.")
        model.ngram_ids_ = ids
        model.mix_weights_ = shares
        model.unknown_rates_ = (float(unknown[0]), float(unknown[1]))
        model.ngram_ = KneserNey(MIX_ORDER).fit(ids, len(vocab)) if config.mix_counts else None
        model.pairs_ = pair_counts(ids)
        model.trained_on_ = loaded.field("trained_on", dict)
        model.created_ = loaded.created
        return model

    def save(self, directory: str | Path, trained_on: dict[str, Any] | None = None) -> Path:
        """Write model.rnnlab (what `load` reads) and, to read or reuse elsewhere, config.json,
        vocabulary.json, weights.npz and counts.npz into `directory`."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        self.to_model_file(directory / MODEL_FILE, trained_on)
        (directory / CONFIG_FILE).write_text(self.config.to_json(), encoding="utf-8")
        (directory / VOCABULARY_FILE).write_text(self.vocab_.to_json(), encoding="utf-8")
        with (directory / WEIGHTS_FILE).open("wb") as handle:
            np.savez(handle, *self.model_.get_weights())
        with (directory / COUNTS_FILE).open("wb") as handle:
            np.savez(handle, ids=np.asarray(self.ngram_ids_, dtype="int32"),
                     shares=np.asarray(self.mix_weights_, dtype="float64"),
                     unknown=np.asarray(self.unknown_rates_, dtype="float64"))
        return directory

    @classmethod
    def load(cls, path: str | Path) -> NextWordModel:
        """Load a model file, or the folder `python -m core nextword --out DIR` wrote (its
        model.rnnlab).

        Raises:
            InputError: no model file there, or one that is refused (see `from_model_file`).
        """
        path = Path(path)
        if path.is_dir():
            if not (path / MODEL_FILE).is_file():
                raise InputError(
                    f"{str(path)!r} is not a saved next-word model (it has no {MODEL_FILE}). "
                    "Point to the folder written by `python -m core nextword --out DIR`, or to "
                    f"a {MODEL_FILE} file."
                )
            path = path / MODEL_FILE
        return cls.from_model_file(path)


# ---------------------------------------------------------------------------------------------
# The whole protocol, as a job


# Measured with bench/scale.py on the shared 2-core machine (others' work included), default
# settings: the fixed costs of a run, and the cost of one training window per network of
# 128 units. They only size the estimate shown before training; the budget is what bounds it.
START_SECONDS = 6.0  # TensorFlow's import, reading and tokenising, building the network
# The counts and the scoring: processor seconds measured on tiny-shakespeare (2026-12-03, the
# machine at a load of 10-20, so wall seconds said little): 3.3 s for the vocabulary, the unknown
# share and the counts of 200,000 words; 10.3 s to score 20,400 held-out words.
SECONDS_PER_WORD = 2e-5  # vocabulary, unknown share, the Kneser-Ney counts (three times)
SECONDS_PER_TEST_WORD = 5e-4  # scoring a held-out word: the mix, the network alone, the baseline
SECONDS_PER_WINDOW = 2.5e-4  # one training window through one network of 128 units
TYPICAL_EPOCHS = 8  # where early stopping usually ends on a small text


def estimate_seconds(words: int, config: NextWordConfig | None = None) -> float:
    """About how long `train_and_evaluate` takes on a text of `words` words, in seconds.

    Training takes what the epochs need (early stopping usually ends near TYPICAL_EPOCHS), at
    most `budget_seconds`; preparing and scoring grow with the text (counts and held-out words).
    Shown before training ("about 40 s"); the job tells the time left as it trains.
    """
    config = config or NextWordConfig()
    words = max(int(words), 0)
    test_words = max(1, int(round(words * HOLDOUT)))
    rows = max(words - test_words - 1, 0)
    per_epoch = min(config.windows_per_epoch, rows)
    window = (SECONDS_PER_WINDOW * config.ensemble * config.num_layers
              * max(config.units, 32) / 128 * (config.context + 8) / 16)
    epochs = min(config.epochs, TYPICAL_EPOCHS) + 1  # + the last pass
    training = min(config.budget_seconds, epochs * per_epoch * window)
    return START_SECONDS + training + words * SECONDS_PER_WORD + test_words * SECONDS_PER_TEST_WORD


def train_and_evaluate(
    tokens: Sequence[str], config: NextWordConfig, context: JobContext | None = None
) -> tuple[NextWordModel, dict[str, Any]]:
    """Split, train, and score the network and the Kneser-Ney baseline on the held-out words."""
    context = context or JobContext(Path("."))
    start = time.perf_counter()
    context.say("Building the vocabulary...")
    split = split_corpus(tokens, config.min_count, config.max_vocab)
    model = NextWordModel(config).fit(split.ids[: split.test_start], split.vocab, context)
    context.say("Scoring the network on the held-out words...")
    scores = model.score(split.ids, split.test_start, with_network=config.mix_counts)
    if config.mix_counts:
        scores["mix_shares"] = [float(share) for share in model.mix_weights_]
    scores["unknown_training_share"], scores["unknown_expected_share"] = model.unknown_rates_
    seconds = time.perf_counter() - start
    context.say("Scoring the Kneser-Ney baseline...")
    baseline = KneserNey(BASELINE_ORDER).fit(split.ids[: split.test_start], len(split.vocab))
    metrics = {
        "cell": config.cell,
        "model": f"{config.cell} network" + (f" + Kneser-Ney {MIX_ORDER}-gram counts"
                                             if config.mix_counts else ""),
        "vocab_size": split.vocab.size,
        "train_words": split.train_words,
        "test_words": split.test_words,
        "unknown_share": float(np.mean(split.ids[split.test_start :] == UNK_ID)),
        "seconds": seconds,
        "epochs_run": len(model.history_),
        "best_epoch": model.outcome_.best_epoch,
        "stopped_by_user": model.outcome_.stopped_by_user,
        **scores,
        "baseline": {"name": f"Kneser-Ney {BASELINE_ORDER}-gram",
                     **baseline.score(split.ids, split.test_start)},
    }
    return model, metrics


def figures_won(scores: dict, baseline: dict) -> int:
    """Of top-1, top-5 (higher is better) and perplexity (lower), how many `scores` wins."""
    return sum((scores["top1"] > baseline["top1"], scores["top5"] > baseline["top5"],
                scores["perplexity"] < baseline["perplexity"]))


def save_run(directory: str | Path, model: NextWordModel, metrics: dict,
             trained_on: dict[str, Any] | None = None) -> Path:
    """The model folder (`NextWordModel.save`) plus metrics.json."""
    directory = model.save(directory, {**(trained_on or {}), **_scores_summary(metrics)})
    (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=2), encoding="utf-8")
    return directory


def _scores_summary(metrics: dict) -> dict[str, Any]:
    """What a loaded model file says about how well the model did on its held-out words."""
    keys = ("model", "vocab_size", "train_words", "test_words", "top1", "top5", "perplexity")
    return {key: metrics[key] for key in keys if key in metrics}


def nextword_task(payload: dict, context: JobContext) -> dict:
    """Job: payload {"text" or "path", "name", "config": dict, "out": folder or None}.

    Returns {"model_dir", "model_file", "metrics", "history", "notes"}; the model folder holds
    model.rnnlab (what `NextWordModel.load` reads), the readable parts and metrics.json.
    """
    config = NextWordConfig.from_dict(payload.get("config", {}))
    if payload.get("text") is not None:
        text = payload["text"]
        corpus = decode_text(text, payload.get("name", "the text")) if isinstance(
            text, bytes) else Corpus(text=text, name=payload.get("name", "the text"), encoding="utf-8")
    else:
        from core.text import read_text_file

        corpus = read_text_file(payload["path"])
    tokens, notes = corpus_tokens(corpus, config.keep_punctuation)
    set_seed(config.seed)  # after the checks: a bad file is refused before TensorFlow loads
    model, metrics = train_and_evaluate(tokens, config, context)
    directory = save_run(payload.get("out") or context.workdir / "model", model, metrics,
                         {"name": corpus.name, "words": len(tokens)})
    return {
        "model_dir": str(directory),
        "model_file": str(directory / MODEL_FILE),
        "metrics": metrics,
        "history": model.history_,
        "notes": notes,
    }


def describe_corpus(tokens: Sequence[str], top: int = 20) -> dict[str, Any]:
    """Size, distinct words and the most frequent words of a token list (for the corpus step)."""
    import collections

    counts = collections.Counter(tokens)
    return {
        "words": len(tokens),
        "distinct": len(counts),
        "seen_twice": sum(1 for count in counts.values() if count >= 2),
        "most_common": counts.most_common(top),
    }


__all__ = [
    "NextWordModel",
    "Split",
    "TrainingError",
    "estimate_seconds",
    "join_words",
    "make_windows",
    "nextword_task",
    "sample_next",
    "split_corpus",
    "train_and_evaluate",
]
