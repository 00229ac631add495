"""Turning a series into training windows without leakage, and back.

The pieces, in the order a forecast uses them:

- `choose_transform(train)`: take logs when the series is positive and its swings grow with its
  level (multiplicative seasonality, as in airline traffic). Decided on the training part only.
- `make_windows(values, window, horizon)`: the sliding (input, target) pairs.
- `WindowEncoder`: per-window normalisation. Each input window is expressed relative to its own
  last value, and each target relative to an *anchor* forecast known at the window's end (a
  smoothed seasonal forecast when that beats the last value on the training part, otherwise the
  last value), all divided by one scale learned from the training part. The network then learns
  only what the anchor gets wrong, which makes level shifts and trends harmless and lets a small
  RNN train on ~100 points.
"""

from __future__ import annotations

import numpy as np

from core.errors import InputError


def make_windows(values, window: int, horizon: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Every (input, target) pair of a series: `window` values in, the next `horizon` out.

    `make_windows(np.arange(10.), 3)` gives inputs `[0,1,2], [1,2,3], ...` and targets
    `[3], [4], ...`: 7 pairs.

    Returns:
        inputs of shape (pairs, window) and targets of shape (pairs, horizon).
    """
    values = np.asarray(values, dtype="float64").ravel()
    window, horizon = int(window), int(horizon)
    if window < 1 or horizon < 1:
        raise ValueError(f"window and horizon must be at least 1; received {window}, {horizon}")
    pairs = values.size - window - horizon + 1
    if pairs < 1:
        raise InputError(
            f"A series of {values.size} points cannot make a single window of {window} inputs "
            f"and {horizon} targets. Use a shorter window or horizon, or a longer series."
        )
    both = np.lib.stride_tricks.sliding_window_view(values, window + horizon)[:pairs]
    return both[:, :window].copy(), both[:, window:].copy()


# ---------------------------------------------------------------------------------------------
# Value transforms


def choose_transform(train, season: int = 1) -> str:
    """'log' when every value is positive and the series' local spread grows with its level.

    The training part is cut into consecutive blocks (a season each when seasonal); if the
    blocks' mean absolute change rises with their mean level (correlation above 0.5) and the
    level at least doubles from the lowest to the highest block, the swings are multiplicative
    and logs make them additive. Otherwise 'none'.
    """
    train = np.asarray(train, dtype="float64").ravel()
    if train.size < 8 or np.any(train <= 0):
        return "none"
    block = season if season > 1 and train.size >= 4 * season else max(4, train.size // 8)
    count = train.size // block
    if count < 3:
        return "none"
    blocks = train[train.size - count * block :].reshape(count, block)
    levels = blocks.mean(axis=1)
    swings = np.abs(np.diff(blocks, axis=1)).mean(axis=1) if block > 1 else blocks.std(axis=1)
    if levels.max() < 2 * levels.min() or np.std(swings) == 0:
        return "none"
    correlation = float(np.corrcoef(levels, swings)[0, 1])
    return "log" if correlation > 0.5 else "none"


class ValueTransform:
    """A pointwise transform with its inverse: 'none' or 'log' (the 'difference' variants are
    handled by the window encoder, which differences each window itself)."""

    def __init__(self, kind: str):
        self.kind = "log" if kind in ("log", "log_difference") else "none"

    def forward(self, values) -> np.ndarray:
        values = np.asarray(values, dtype="float64")
        if self.kind == "log":
            if np.any(values <= 0):
                raise InputError(
                    "The log transform needs every value above 0; this series has values at or "
                    "below 0. Choose the transform 'none' or 'difference'."
                )
            return np.log(values)
        return values.copy()

    def inverse(self, values) -> np.ndarray:
        values = np.asarray(values, dtype="float64")
        if self.kind == "log":
            # Clipped so that a wild forecast reads as a huge number, not as inf.
            return np.exp(np.clip(values, -700.0, 700.0))
        return values.copy()


# ---------------------------------------------------------------------------------------------
# Per-window normalisation


def seasonal_forecast(contexts, season: int, seasons: int, steps: int) -> np.ndarray:
    """The smoothed seasonal forecast from each context: the mean of its last season plus the
    seasonal profile averaged over its last `seasons` seasons (each season centred on its mean).

    With one season this is seasonal naive moved to the last season's mean; with three, the
    noise of any single season is averaged out.
    """
    contexts = np.atleast_2d(np.asarray(contexts, dtype="float64"))
    blocks = contexts[:, contexts.shape[1] - seasons * season :].reshape(
        len(contexts), seasons, season
    )
    profile = (blocks - blocks.mean(axis=2, keepdims=True)).mean(axis=1)
    level = blocks[:, -1].mean(axis=1, keepdims=True)
    return level + profile[:, np.arange(steps) % season]


def choose_anchor(train, season: int, horizon: int, seasons: int) -> str:
    """'seasonal' when, inside the training part, the smoothed seasonal forecast predicts the
    next `horizon` values better than carrying the last value forward (mean absolute error over
    every origin and step ahead); otherwise 'last'."""
    train = np.asarray(train, dtype="float64").ravel()
    horizon = max(1, int(horizon))
    if season <= 1 or seasons < 1 or train.size < seasons * season + horizon + 2:
        return "last"
    contexts, futures = make_windows(train, seasons * season, horizon)
    seasonal_error = np.mean(np.abs(futures - seasonal_forecast(contexts, season, seasons, horizon)))
    naive_error = np.mean(np.abs(futures - contexts[:, -1:]))
    return "seasonal" if seasonal_error < naive_error else "last"


class WindowEncoder:
    """Encodes contexts (the last `context_length` values before a forecast origin) into network
    inputs, and network outputs back into values, relative to an anchor forecast.

    Args:
        window: input steps the network sees.
        steps: outputs per prediction (the horizon for the direct strategy, 1 for recursive).
        season: period of the seasonal anchor.
        anchor: 'seasonal' (`seasonal_forecast` over `seasons` seasons) or 'last' (the last
            value carried forward).
        differenced: inputs are the window's one-step changes instead of its values minus its
            last value.
        seasons: seasons the seasonal anchor averages its profile over.
    """

    def __init__(self, window: int, steps: int, season: int, anchor: str, differenced: bool,
                 seasons: int = 3):
        if anchor not in ("seasonal", "last"):
            raise ValueError(f"anchor must be 'seasonal' or 'last'; received {anchor!r}")
        self.window = int(window)
        self.steps = int(steps)
        self.anchor = anchor
        self.season = int(season) if anchor == "seasonal" else 1
        self.seasons = int(seasons) if anchor == "seasonal" else 1
        self.differenced = bool(differenced)

    @property
    def context_length(self) -> int:
        return max(self.window + 1, self.seasons * self.season)

    def fit(self, train) -> WindowEncoder:
        """Learn the scale: the mean absolute one-step change of the (transformed) training part."""
        train = np.asarray(train, dtype="float64").ravel()
        changes = np.abs(np.diff(train))
        scale = float(changes.mean()) if changes.size else 0.0
        if not np.isfinite(scale) or scale <= 0:
            scale = float(np.abs(train).mean()) or 1.0
        self.scale_ = scale
        return self

    def inputs(self, contexts) -> np.ndarray:
        """Network inputs of shape (pairs, window, 1)."""
        contexts = np.atleast_2d(np.asarray(contexts, dtype="float64"))
        if self.differenced:
            features = np.diff(contexts[:, -self.window - 1 :], axis=1)
        else:
            features = contexts[:, -self.window :] - contexts[:, -1:]
        return (features / self.scale_)[:, :, None].astype("float32")

    def base(self, contexts, steps: int | None = None) -> np.ndarray:
        """The anchor forecast for the next `steps` values of each context."""
        contexts = np.atleast_2d(np.asarray(contexts, dtype="float64"))
        steps = self.steps if steps is None else int(steps)
        if self.anchor == "seasonal":
            return seasonal_forecast(contexts, self.season, self.seasons, steps)
        return np.repeat(contexts[:, -1:], steps, axis=1)

    def targets(self, contexts, future) -> np.ndarray:
        """Network targets (what the anchor gets wrong, scaled) of shape (pairs, steps)."""
        future = np.atleast_2d(np.asarray(future, dtype="float64"))
        return ((future - self.base(contexts, future.shape[1])) / self.scale_).astype("float32")

    def decode(self, contexts, outputs) -> np.ndarray:
        """Values predicted by network `outputs` for each context: anchor + scale * output."""
        outputs = np.atleast_2d(np.asarray(outputs, dtype="float64"))
        return self.base(contexts, outputs.shape[1]) + self.scale_ * outputs
