"""The seed notes' two examples, as jobs that run in seconds.

- "Sum of the previous two numbers": the seed's SimpleRNN(10, relu) learns y = a + b from
  [[0,1],[1,2],[2,3],[3,4],[4,5]] and predicts the value after [5,6] (the true sum is 11).
- "Next word after 'I love'": the seed's Embedding(10) -> LSTM(50) -> softmax on its four
  sentences, trained on every growing prefix (left-padded), then asked what follows "I love".

Both keep the seed's architecture; the only change is a learning rate of 0.01 instead of
Adam's 0.001 for the sum, so that it settles within the seed's 200 epochs on every seed we tried.

Speed: each of the seed's epochs is a single batch holding all the data, and Keras spends far
more time starting an epoch than on one step of these tiny models. So one Keras epoch here holds
STEPS_PER_EPOCH copies of the data in full-data batches, unshuffled: the same sequence of
gradient steps as the seed's epochs, about five times faster. Logs count the seed's epochs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InputError
from core.jobs import JobContext
from core.text import Vocabulary, tokenize
from core.training import FitSettings, fit, set_seed

SUM_TASK = "core.seed_examples:sum_task"
LOVE_TASK = "core.seed_examples:love_task"
SEED_SENTENCES = Path(__file__).resolve().parents[1] / "sample_data" / "seed_sentences.txt"

SUM_INPUTS = [[0, 1], [1, 2], [2, 3], [3, 4], [4, 5]]
SUM_QUESTION = [5, 6]
LOVE_PROMPTS = ("i love", "i", "i enjoy", "deep learning")
STEPS_PER_EPOCH = 10


class _SeedEpochs(JobContext):
    """Reports progress in the seed's epochs (one full-data step each), not in Keras epochs."""

    def __init__(self, context: JobContext, factor: int):
        super().__init__(context.workdir)
        self._outer = context
        self._factor = factor

    def set_total(self, epochs: int) -> None:
        self._outer.set_total(epochs * self._factor)

    def report(self, logs: dict) -> None:
        self._outer.report({**logs, "epoch": logs["epoch"] * self._factor})

    def say(self, message: str) -> None:
        self._outer.say(message)

    def should_stop(self) -> bool:
        return self._outer.should_stop()


def _fit_in_seed_epochs(model, x, y, epochs: int, context: JobContext):
    """Fit for `epochs` full-data steps (rounded up to STEPS_PER_EPOCH); history in seed epochs."""
    rounds = max(1, -(-int(epochs) // STEPS_PER_EPOCH))
    repeated_x = np.concatenate([x] * STEPS_PER_EPOCH)
    repeated_y = np.concatenate([y] * STEPS_PER_EPOCH)
    settings = FitSettings(epochs=rounds, batch_size=len(x), patience=0, monitor="loss",
                           shuffle=False)
    outcome = fit(model, repeated_x, repeated_y, None, settings,
                  _SeedEpochs(context, STEPS_PER_EPOCH))
    outcome.history = [{**log, "epoch": log["epoch"] * STEPS_PER_EPOCH}
                       for log in outcome.history]
    return outcome


def sum_data() -> tuple[np.ndarray, np.ndarray]:
    """The seed's data: x (5, 2, 1), y = the sum of each pair."""
    x = np.array(SUM_INPUTS, dtype="float32")
    return x.reshape(len(x), 2, 1), x.sum(axis=1)


def sum_task(payload: dict, context: JobContext) -> dict:
    """Job: learn y = a + b, then predict after [5, 6]. Payload: seed, epochs, learning_rate."""
    import keras

    set_seed(payload.get("seed", 0))
    x, y = sum_data()
    model = keras.Sequential(
        [keras.Input((2, 1)), keras.layers.SimpleRNN(10, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=keras.optimizers.Adam(payload.get("learning_rate", 0.01)), loss="mse")
    outcome = _fit_in_seed_epochs(model, x, y, payload.get("epochs", 200), context)
    question = np.array(SUM_QUESTION, dtype="float32").reshape(1, 2, 1)
    return {
        "question": SUM_QUESTION,
        "prediction": float(np.asarray(model(question))[0, 0]),
        "truth": float(sum(SUM_QUESTION)),
        "fitted": np.asarray(model(x)).ravel().tolist(),
        "history": outcome.history,
        "stopped_by_user": outcome.stopped_by_user,
    }


def prefix_sequences(sentences: list[str]) -> tuple[np.ndarray, np.ndarray, Vocabulary]:
    """The seed's training pairs: every growing prefix of each sentence (left-padded) -> next id."""
    token_lists = [tokenize(sentence) for sentence in sentences]
    token_lists = [tokens for tokens in token_lists if tokens]
    if not token_lists:
        raise InputError("The seed example needs at least one sentence with words; received none.")
    seen: dict[str, None] = {}
    for tokens in token_lists:
        seen.update(dict.fromkeys(tokens))
    vocab = Vocabulary(list(seen))  # every word kept: the seed's Tokenizer has no minimum count
    longest = max(len(tokens) for tokens in token_lists)
    contexts, targets = [], []
    for tokens in token_lists:
        ids = vocab.encode(tokens)
        for end in range(1, len(ids)):
            contexts.append(_left_pad(ids[:end], longest - 1))
            targets.append(ids[end])
    return np.array(contexts, dtype="int32"), np.array(targets, dtype="int32"), vocab


def _left_pad(ids: np.ndarray, length: int) -> np.ndarray:
    ids = np.asarray(ids, dtype="int32")[-length:]
    return np.concatenate([np.zeros(length - len(ids), dtype="int32"), ids])


def read_seed_sentences(path: str | Path = SEED_SENTENCES) -> list[str]:
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip()]


def love_task(payload: dict, context: JobContext) -> dict:
    """Job: the seed's next-word LSTM. Payload: sentences (default: the seed's), seed, epochs.

    Returns the loss history and, for each prompt in LOVE_PROMPTS, the top 3 words with their
    probabilities.
    """
    import keras

    set_seed(payload.get("seed", 0))
    sentences = payload.get("sentences") or read_seed_sentences()
    x, y, vocab = prefix_sequences(sentences)
    model = keras.Sequential([
        keras.Input((x.shape[1],), dtype="int32"),
        keras.layers.Embedding(len(vocab), 10),
        keras.layers.LSTM(50),
        keras.layers.Dense(len(vocab), activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    outcome = _fit_in_seed_epochs(model, x, y, payload.get("epochs", 300), context)
    prompts = [prompt for prompt in payload.get("prompts", LOVE_PROMPTS)
               if all(word in vocab for word in tokenize(prompt))]
    windows = np.array([_left_pad(vocab.encode(tokenize(prompt)), x.shape[1])
                        for prompt in prompts], dtype="int32")
    probabilities = np.asarray(model(windows)) if prompts else np.zeros((0, len(vocab)))
    suggestions = {}
    for prompt, row in zip(prompts, probabilities, strict=True):
        row = row.copy()
        row[0] = 0.0  # padding is never a word
        best = np.argsort(-row)[:3]
        suggestions[prompt] = [(vocab.words[i], float(row[i])) for i in best]
    return {
        "sentences": sentences,
        "pairs": len(x),
        "vocabulary": vocab.words[2:],
        "suggestions": suggestions,
        "history": outcome.history,
        "stopped_by_user": outcome.stopped_by_user,
    }
