"""Prediction intervals by split-conformal calibration on held-out residuals.

The residuals come from forecasts the model made on validation windows it was not fitted on,
one row per window and one column per step ahead. Few windows are available on short series,
so the steps are pooled: each step's residuals are divided by that step's typical error (made
non-decreasing with the step, as uncertainty does not shrink further ahead), the conformal
quantile of the pooled ratios is taken with the finite-sample correction, and multiplied back.
"""

from __future__ import annotations

import math

import numpy as np

LEVELS = (0.8, 0.95)


def conformal_widths(residuals, levels=LEVELS) -> dict[float, np.ndarray]:
    """Half-widths per step ahead for each coverage level.

    Args:
        residuals: array (windows, steps) of actual minus forecast on calibration windows.

    Returns:
        {level: array (steps,)}: an interval forecast +- width covers about `level` of outcomes.
    """
    residuals = np.abs(np.atleast_2d(np.asarray(residuals, dtype="float64")))
    if residuals.size == 0 or not np.all(np.isfinite(residuals)):
        raise ValueError("conformal_widths needs finite residuals from at least one window")
    typical = np.maximum.accumulate(residuals.mean(axis=0))
    floor = typical[typical > 0].min() if np.any(typical > 0) else 1.0
    typical = np.maximum(typical, floor)
    ratios = np.sort((residuals / typical).ravel())
    widths = {}
    for level in levels:
        rank = math.ceil((ratios.size + 1) * level)
        if rank > ratios.size:
            # Too few residuals for this level: extrapolate from the largest (a wide interval).
            quantile = ratios[-1] * (1 + level)
        else:
            quantile = ratios[rank - 1]
        widths[level] = quantile * typical
    return widths


def extend_widths(widths: np.ndarray, length: int) -> np.ndarray:
    """Widths for `length` steps: beyond the calibrated ones, grow like the square root of the
    step (as a random walk's spread does)."""
    widths = np.asarray(widths, dtype="float64")
    if length <= widths.size:
        return widths[:length].copy()
    known = widths.size
    extra = widths[-1] * np.sqrt(np.arange(known + 1, length + 1) / known)
    return np.concatenate([widths, extra])


def coverage(actual, lower, upper) -> float:
    """Share of actual values inside [lower, upper]."""
    actual = np.asarray(actual, dtype="float64")
    return float(np.mean((actual >= np.asarray(lower)) & (actual <= np.asarray(upper))))
