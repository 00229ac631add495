"""Write sample_data/synthetic.csv: a weekly trend + yearly season + noise series with a few blanks.

Run from the repository root: `python sample_data/make_synthetic.py`. The seed is fixed, so the
file it writes is always the same (numpy's PCG64 generator is stable across versions).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240101
WEEKS = 416  # eight years of weeks
SEASON = 52
MISSING = 6  # values left blank, to show the gap filling


def make_synthetic(weeks: int = WEEKS, seed: int = SEED) -> pd.DataFrame:
    """Columns `week` (Sundays, ISO dates) and `sales` (blank where missing)."""
    rng = np.random.default_rng(seed)
    step = np.arange(weeks)
    trend = 200.0 + 0.25 * step
    season = 30.0 * np.sin(2 * np.pi * step / SEASON) + 12.0 * np.cos(4 * np.pi * step / SEASON)
    noise = rng.normal(0.0, 6.0, weeks)
    sales = np.round(trend + season + noise, 1)
    blanks = rng.choice(np.arange(10, weeks - 10), size=MISSING, replace=False)
    column = pd.Series(sales).astype(object)
    column[blanks] = ""
    weeks_index = pd.date_range("2016-01-03", periods=weeks, freq="W-SUN")
    return pd.DataFrame({"week": weeks_index.strftime("%Y-%m-%d"), "sales": column})


if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "synthetic.csv"
    make_synthetic().to_csv(target, index=False)
    print(f"wrote {target}")
