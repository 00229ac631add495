"""The largest series this server forecasts, so that a file too big is refused in plain words
rather than the worker being killed for its memory.

A default forecast of 1,000,000 hourly points peaked under 1.5 GB (bench/scale.py: windows are
views of the series, an epoch streams a fixed number of them, the classical methods read the
last points only), so memory grows with the data itself and no faster; the limit keeps it there.
Set `RNNLAB_MAX_POINTS` to change it (for a server with less memory, or in tests).
"""

from __future__ import annotations

import os

from core.errors import ConfigError, InputError

MAX_POINTS_VARIABLE = "RNNLAB_MAX_POINTS"
DEFAULT_MAX_POINTS = 1_000_000  # the largest size bench/scale.py measured


class TooManyPointsError(InputError):
    """The series is longer than the server's limit (`RNNLAB_MAX_POINTS`)."""


def max_points() -> int:
    """The limit in points: `RNNLAB_MAX_POINTS` when set, else DEFAULT_MAX_POINTS.

    Raises:
        ConfigError: the variable is set to something other than a whole number above 0.
    """
    text = os.environ.get(MAX_POINTS_VARIABLE, "").strip()
    if not text:
        return DEFAULT_MAX_POINTS
    try:
        limit = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        limit = 0
    if limit < 1:
        raise ConfigError(
            f"The server setting {MAX_POINTS_VARIABLE} must be a whole number of points above 0; "
            f"received '{text}'. Ask whoever runs RNN Lab to correct it (or unset it for the "
            f"default, {DEFAULT_MAX_POINTS:,})."
        )
    return limit


def check_points(count: int, what: str = "The series") -> None:
    """Refuse a series of `count` points above `max_points()`.

    Raises:
        TooManyPointsError: with the count, the limit and what to do.
    """
    limit = max_points()
    if count > limit:
        raise TooManyPointsError(
            f"{what} has {count:,} points; this server forecasts at most {limit:,} "
            f"({MAX_POINTS_VARIABLE}), so that training fits in its memory. Aggregate it to a "
            "coarser frequency (for example hourly to daily), or keep only the most recent "
            f"{limit:,} rows, and try again."
        )
