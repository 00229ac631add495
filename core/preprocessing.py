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


ANCHORS = ("last", "drift", "seasonal", "seasonal_drift")
# Damping of the drift anchors, per step ahead. Measured on the anchors alone over 108 Tourism +
# M1 series (bench/accuracy.py's sample): geometric-mean MASE 1.418 undamped, 1.326 at 0.9, 1.314
# at 0.85, 1.320 at 0.8, 1.337 at 0.7; without drift anchors 1.429.
DAMPING = 0.85


def anchor_forecast(contexts, anchor: str, season: int, seasons: int, steps: int) -> np.ndarray:
    """The anchor forecast of the next `steps` values from each context.

    - 'last': the last value carried forward.
    - 'drift': the line through the context's first and last values, extended (damped).
    - 'seasonal': `seasonal_forecast` over `seasons` seasons.
    - 'seasonal_drift': the same, plus the trend between the first and the last season's means
      over the season(s) between each value and the one it repeats (damped; needs two seasons).
    """
    contexts = np.atleast_2d(np.asarray(contexts, dtype="float64"))
    ahead = np.arange(1, steps + 1)
    # The trend fades step by step as in damped-trend exponential smoothing: step k gets
    # (phi + phi^2 + ... + phi^k) / k of the straight line's rise.
    damping = np.cumsum(DAMPING**ahead) / ahead
    if anchor == "last":
        return np.repeat(contexts[:, -1:], steps, axis=1)
    if anchor == "drift":
        slope = (contexts[:, -1:] - contexts[:, :1]) / max(contexts.shape[1] - 1, 1)
        return contexts[:, -1:] + slope * ahead * damping
    base = seasonal_forecast(contexts, season, seasons, steps)
    if anchor == "seasonal" or seasons < 2:
        return base
    blocks = contexts[:, contexts.shape[1] - seasons * season :].reshape(len(contexts), seasons, season)
    means = blocks.mean(axis=2)
    slope = (means[:, -1:] - means[:, :1]) / ((seasons - 1) * season)
    # The seasonal forecast repeats the last season's values (smoothed): each step ahead is one
    # season (two in the second season ahead...) later than the value it repeats.
    return base + slope * season * (1 + (ahead - 1) // season) * damping


def choose_anchor(train, season: int, horizon: int, seasons: int,
                  context_length: int | None = None) -> str:
    """The anchor (of `ANCHORS`) that, inside the training part, best predicts the next
    `horizon` values (mean absolute error over every origin and step ahead) from contexts of
    `context_length` values; the seasonal ones only when `seasons` whole seasons fit."""
    train = np.asarray(train, dtype="float64").ravel()
    horizon = max(1, int(horizon))
    seasonal = season > 1 and seasons >= 1
    length = max(int(context_length or 2), seasons * season if seasonal else 2)
    if train.size < length + horizon + 2:
        return "last"
    contexts, futures = make_windows(train, length, horizon)
    candidates = ["last", "drift"]
    if seasonal:
        candidates.append("seasonal")
        if seasons >= 2:
            candidates.append("seasonal_drift")
    errors = {anchor: np.mean(np.abs(futures - anchor_forecast(contexts, anchor, season, seasons,
                                                               horizon)))
              for anchor in candidates}
    return min(candidates, key=lambda anchor: errors[anchor])


class WindowEncoder:
    """Encodes contexts (the last `context_length` values before a forecast origin) into network
    inputs, and network outputs back into values, relative to an anchor forecast.

    Args:
        window: input steps the network sees.
        steps: outputs per prediction (the horizon for the direct strategy, 1 for recursive).
        season: period of the seasonal anchor.
        anchor: one of `ANCHORS` (see `anchor_forecast`).
        differenced: inputs are the window's one-step changes instead of its values minus its
            last value.
        seasons: seasons the seasonal anchor averages its profile over.
    """

    def __init__(self, window: int, steps: int, season: int, anchor: str, differenced: bool,
                 seasons: int = 3):
        if anchor not in ANCHORS:
            raise ValueError(f"anchor must be one of {ANCHORS}; received {anchor!r}")
        self.window = int(window)
        self.steps = int(steps)
        self.anchor = anchor
        seasonal = anchor.startswith("seasonal")
        self.season = int(season) if seasonal else 1
        self.seasons = int(seasons) if seasonal else 1
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
        return anchor_forecast(contexts, self.anchor, self.season, self.seasons, steps)

    def targets(self, contexts, future) -> np.ndarray:
        """Network targets (what the anchor gets wrong, scaled) of shape (pairs, steps)."""
        future = np.atleast_2d(np.asarray(future, dtype="float64"))
        return ((future - self.base(contexts, future.shape[1])) / self.scale_).astype("float32")

    def decode(self, contexts, outputs) -> np.ndarray:
        """Values predicted by network `outputs` for each context: anchor + scale * output."""
        outputs = np.atleast_2d(np.asarray(outputs, dtype="float64"))
        return self.base(contexts, outputs.shape[1]) + self.scale_ * outputs
