"""Benchmark of next-word prediction with default settings: the network against a Kneser-Ney trigram.

    python bench/nextword.py                          # 4 tinyshakespeare slices + bundled corpus
    python bench/nextword.py --cells lstm gru rnn --words 7000 --offsets 0 500000
    python bench/nextword.py --set units=64 --set context=12   # any NextWordConfig field
    python bench/nextword.py --files notes.txt manual.txt     # more corpora, each cut to --words

Each corpus goes through `core.nextword.train_and_evaluate`, the protocol of `python -m core
nextword`: default tokenisation, the last 10% of the words held out, vocabulary = training words
seen at least twice, everything else `<unk>` (still a word to predict). The table gives top-1 /
top-5 accuracy and perplexity over every held-out word for the model and for the Kneser-Ney
trigram on the same split, the same three figures for the network alone and for a Kneser-Ney
4-gram alone (the two parts the default model mixes), the wall-clock seconds of training and scoring the network (TensorFlow's
import is excluded and printed once above the table) and the CPU seconds of the whole run, which
other people's work on a shared machine inflates much less than the wall time (TensorFlow may
use both cores, so on an idle 2-core machine the wall time lies between CPU / 2 and CPU). The machine is shared: compare
figures measured in one run, and treat seconds as noisy.

tinyshakespeare is read from ../shared/data (never copied into the project); a slice starts at
the first line after a character offset and takes whole lines up to about `--words` words.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
BUNDLED = sorted((ROOT / "sample_data").glob("corpus_*.txt"))
OFFSETS = (0, 300_000, 600_000, 900_000)


def shakespeare_slice(offset: int, words: int) -> str:
    """Whole lines of tinyshakespeare from the first line after `offset`, about `words` words."""
    return text_slice(SHAKESPEARE.read_text(encoding="utf-8"), offset, words)


def text_slice(text: str, offset: int, words: int) -> str:
    """Whole lines of `text` from the first line after character `offset`, about `words` words."""
    from core.text import tokenize

    start = text.find("\n", offset) + 1 if offset else 0
    lines, count = [], 0
    for line in text[start:].splitlines(keepends=True):
        if count >= words:
            break
        lines.append(line)
        count += len(tokenize(line))
    return "".join(lines)


def corpora(words: int, offsets: list[int], files: list[Path]) -> list[tuple[str, str]]:
    found = []
    if SHAKESPEARE.exists():
        found += [(f"shakespeare@{offset}", shakespeare_slice(offset, words)) for offset in offsets]
    else:
        print(f"skipping tinyshakespeare: {SHAKESPEARE} not found", file=sys.stderr)
    found += [(path.name, path.read_text(encoding="utf-8")) for path in BUNDLED]
    found += [(path.name, text_slice(path.read_text(encoding="utf-8", errors="replace"), 0, words))
              for path in files]
    return found


def parse_overrides(pairs: list[str]) -> dict:
    import json

    overrides = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        try:
            overrides[name] = json.loads(value)
        except ValueError:
            overrides[name] = value
    return overrides


def _network_alone(metrics: dict) -> str:
    """top-1 / top-5 / perplexity of the network without the counts (when the model mixes them)."""
    alone = metrics.get("network")
    if not alone:
        return "-"
    return f"{alone['top1']:.3f} / {alone['top5']:.3f} / {alone['perplexity']:.1f}"


def _four_gram(tokens: list[str], config) -> str:
    """top-1 / top-5 / perplexity of a Kneser-Ney 4-gram alone (the order the model mixes in)."""
    from core.nextword import split_corpus
    from core.ngram import KneserNey

    split = split_corpus(tokens, config.min_count, config.max_vocab)
    scores = KneserNey(4).fit(split.ids[: split.test_start], len(split.vocab)).score(
        split.ids, split.test_start)
    return f"{scores['top1']:.3f} / {scores['top5']:.3f} / {scores['perplexity']:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="+", choices=["lstm", "gru", "rnn"],
                        help="cells to run (default: the default cell of NextWordConfig)")
    parser.add_argument("--words", type=int, default=7000, help="words per Shakespeare slice")
    parser.add_argument("--offsets", nargs="+", type=int, default=list(OFFSETS))
    parser.add_argument("--files", nargs="+", type=Path, default=[],
                        help="more text files to benchmark on (the first --words words of each)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a NextWordConfig default (JSON value)")
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) to this file")
    args = parser.parse_args()

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    started = time.perf_counter()
    import keras  # noqa: F401 - measured apart from the runs

    print(f"TensorFlow + Keras import: {time.perf_counter() - started:.1f} s")

    from core.config import NextWordConfig
    from core.nextword import figures_won, train_and_evaluate
    from core.text import tokenize
    from core.training import set_seed

    overrides = parse_overrides(args.set)
    header = ("| corpus | cell | words | vocab | unk | model top1 | KN top1 | model top5 | KN top5 "
              "| model ppl | KN ppl | network alone | KN 4-gram alone | epochs | seconds | CPU s | beats KN |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    print(*lines, sep="\n", flush=True)
    wins = alone_wins = total = 0
    for name, text in corpora(args.words, args.offsets, args.files):
        tokens = tokenize(text)
        for cell in args.cells or [NextWordConfig().cell]:
            config = NextWordConfig(cell=cell, **overrides)
            set_seed(config.seed)
            cpu = time.process_time()
            _, metrics = train_and_evaluate(tokens, config)
            cpu = time.process_time() - cpu
            base = metrics["baseline"]
            beats = figures_won(metrics, base) == 3
            wins += beats
            alone_wins += figures_won(metrics.get("network", metrics), base) == 3
            total += 1
            line = (
                f"| {name} | {cell} | {len(tokens):,} | {metrics['vocab_size']} "
                f"| {metrics['unknown_share']:.1%} "
                f"| {metrics['top1']:.3f} | {base['top1']:.3f} "
                f"| {metrics['top5']:.3f} | {base['top5']:.3f} "
                f"| {metrics['perplexity']:.1f} | {base['perplexity']:.1f} "
                f"| {_network_alone(metrics)} | {_four_gram(tokens, config)} "
                f"| {metrics['epochs_run']} (best {metrics['best_epoch']}) "
                f"| {metrics['seconds']:.1f} | {cpu:.0f} | {'yes' if beats else 'no'} |"
            )
            lines.append(line)
            print(line, flush=True)
    summary = (f"\nThe model beat the Kneser-Ney trigram on all three figures in {wins} of {total} "
               f"runs; the network alone did in {alone_wins} of {total}.")
    print(summary)
    if overrides:
        print(f"Settings changed from the defaults: {overrides}")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n" + summary + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
