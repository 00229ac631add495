"""Which training windows an epoch sees: a fixed number per epoch, every window in turn.

Sweeping every window of a long series or a book each epoch makes an epoch's cost grow with the
data. Global forecasting models instead draw a fixed number of windows per epoch; here the draw
is a seeded permutation of all positions walked in chunks, so that over consecutive epochs every
position is seen once before any is seen twice, and the same seed gives the same draws.
"""

from __future__ import annotations

import numpy as np

from core.errors import ConfigError


def sample_positions(count_available: int, per_epoch: int, epoch: int, seed: int = 0) -> np.ndarray:
    """The positions (indices into `range(count_available)`) that epoch `epoch` trains on.

    `per_epoch` positions each epoch (all of them, shuffled, when fewer are available). Epochs
    walk a seeded permutation in chunks; when a permutation runs out, the chunk is completed
    from the next one (a new permutation per pass), so every position is reached within
    ceil(count_available / per_epoch) epochs and no position repeats within an epoch.

    `sample_positions(10, 4, 0, seed)`, `(10, 4, 1, seed)` and the first two of `(10, 4, 2, seed)`
    cover 0..9 exactly once.

    Raises:
        ConfigError: a negative count or epoch, or `per_epoch` under 1.
    """
    if count_available < 0:
        raise ConfigError(f"The number of windows must be 0 or more; received {count_available}.")
    if per_epoch < 1:
        raise ConfigError(f"The windows per epoch must be 1 or more; received {per_epoch}.")
    if epoch < 0:
        raise ConfigError(f"The epoch must be 0 or more; received {epoch}.")
    if count_available == 0:
        return np.zeros(0, dtype="int64")
    if count_available <= per_epoch:
        return _permutation(count_available, seed, epoch)
    begin = epoch * per_epoch
    first_pass, offset = divmod(begin, count_available)
    chunk = _permutation(count_available, seed, first_pass)[offset : offset + per_epoch]
    if len(chunk) < per_epoch:
        # the rest comes from the next pass, leaving out what this epoch already has
        following = _permutation(count_available, seed, first_pass + 1)
        following = following[~np.isin(following, chunk)][: per_epoch - len(chunk)]
        chunk = np.concatenate([chunk, following])
    return chunk


def _permutation(count: int, seed: int, round_: int) -> np.ndarray:
    return np.random.default_rng([int(seed), int(round_)]).permutation(count).astype("int64")
