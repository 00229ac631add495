"""Long-memory benchmark: echo accuracy per cell and gap, and how far the gradient reaches.

Runs the same experiment as the Inside the cell page (core.memory) in this process, over a few
seeds, and prints what it measured. Usage: python bench/memory.py [--longest 24] [--seeds 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.cells import get_cell  # noqa: E402
from core.memory import TOLERANCE, MemoryConfig, run_memory  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--longest", type=int, default=24)
    parser.add_argument("--gaps", type=int, default=4)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=MemoryConfig().epochs)
    args = parser.parse_args()
    accuracy: dict[tuple[str, int], list[float]] = {}
    reach: dict[tuple[str, str], list[float]] = {}
    seconds: dict[str, list[float]] = {}
    started = time.perf_counter()
    for seed in range(args.seeds):
        config = MemoryConfig(longest_gap=args.longest, gap_count=args.gaps, seed=seed,
                              epochs=args.epochs)
        result = run_memory(config)
        for run in result["runs"]:
            accuracy.setdefault((run["cell"], run["k"]), []).append(run["accuracy"])
            seconds.setdefault(run["cell"], []).append(run["seconds"])
        marked = config.lead  # index of the marked input in the longest-gap sequences
        for cell, norms in result["gradients"].items():
            for which in ("before", "after"):
                values = np.asarray(norms[which])
                # gradient at the input to remember, relative to the last input's
                reach.setdefault((cell, which), []).append(values[marked] / values[-1])
    gaps = sorted({k for _, k in accuracy})
    print(f"echo task (marked number), {MemoryConfig().samples} training sequences, "
          f"{MemoryConfig().units} units, {args.epochs} epochs; {args.seeds} seed(s); "
          f"total {time.perf_counter() - started:.0f} s (shared 2-core machine: timings noisy)")
    print(f"accuracy (within {TOLERANCE} of the marked number) on 512 new sequences, "
          f"mean (min-max) over seeds; always answering 0 scores {TOLERANCE}")
    print("cell       " + "".join(f"k={k:<16}" for k in gaps) + "s/training")
    for cell in MemoryConfig().cell_list:
        cells = []
        for k in gaps:
            values = accuracy[(cell, k)]
            cells.append(f"{np.mean(values):.2f} ({min(values):.2f}-{max(values):.2f})".ljust(18))
        print(f"{get_cell(cell).name:<11}" + "".join(cells) + f"{np.mean(seconds[cell]):.1f}")
    print(f"gradient at the marked input / gradient at the last input, k={gaps[-1]} "
          "(median over seeds):")
    for cell in MemoryConfig().cell_list:
        line = []
        for which in ("before", "after"):
            values = reach[(cell, which)]
            line.append(f"{which} training {np.median(values):.2g} "
                        f"({', '.join(f'{v:.2g}' for v in values)})")
        print(f"  {get_cell(cell).name:<10} " + ";  ".join(line))


if __name__ == "__main__":
    main()
