"""Scaling benchmark, text part: the next-word defaults on 5,500 to 200,000 words.

    python bench/scale.py                 # the bundled reader (5,526 words), tinyshakespeare's
                                          # first 10,000 and 50,000 words, all of it (203,863)
    python bench/scale.py --cases 50k     # one case
    python bench/scale.py --set budget_seconds=120

Each case runs in a fresh process (so that its peak memory is its own) through
`core.nextword.train_and_evaluate`, the protocol of `python -m core nextword`: the last 10% of
the words held out, the vocabulary from the rest. Columns:
- training s: from the vocabulary to the end of `NextWordModel.fit` (epochs, mix weighing, last
  pass, the final counts): what `budget_seconds` bounds, plus the counts;
- total s: the whole run from the process start (TensorFlow's import included) to the scores,
  the Kneser-Ney trigram baseline included (the 4-gram column is computed after, not counted);
- estimate s: `core.nextword.estimate_seconds`, what the page shows before Train;
- peak MB: the process's maximum resident memory (getrusage) at the end of the run;
- top-5 and perplexity of the model (the network mixed with a Kneser-Ney 4-gram), of the
  Kneser-Ney trigram the CLI prints, and of a Kneser-Ney 4-gram alone, on the held-out words.
The machine is shared: wall seconds swing with other people's work; CPU s is given beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"
READER = ROOT / "sample_data" / "corpus_class_reader.txt"
CASES = {"reader": (READER, None), "10k": (SHAKESPEARE, 10_000), "50k": (SHAKESPEARE, 50_000),
         "200k": (SHAKESPEARE, None)}


def case_tokens(name: str) -> list[str]:
    from bench.nextword import text_slice
    from core.text import tokenize

    path, words = CASES[name]
    text = path.read_text(encoding="utf-8")
    return tokenize(text_slice(text, 0, words) if words else text)


def run_one(name: str, overrides: dict) -> dict:
    """One case in this process; returns the row's figures."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from core.config import NextWordConfig
    from core.jobs import JobContext
    from core.nextword import estimate_seconds, split_corpus, train_and_evaluate
    from core.ngram import KneserNey
    from core.training import set_seed

    tokens = case_tokens(name)
    config = NextWordConfig(**overrides)
    marks: dict[str, float] = {}

    def send(kind: str, data: dict) -> None:
        if kind == "message":
            marks.setdefault(data["message"].split()[0], time.perf_counter())

    set_seed(config.seed)
    workdir = Path(os.environ.get("TMPDIR", "/tmp"))
    _, metrics = train_and_evaluate(tokens, config, JobContext(workdir, send))
    total = time.perf_counter() - STARTED
    cpu = time.process_time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    split = split_corpus(tokens, config.min_count, config.max_vocab)
    four = KneserNey(4).fit(split.ids[: split.test_start], len(split.vocab)).score(
        split.ids, split.test_start)
    return {
        "case": name, "words": len(tokens),
        "training_s": marks["Scoring"] - marks["Building"],
        "total_s": total, "cpu_s": cpu, "estimate_s": estimate_seconds(len(tokens), config),
        "peak_mb": peak_mb, "epochs": metrics["epochs_run"],
        "model": {key: metrics[key] for key in ("top1", "top5", "perplexity")},
        "kn3": {key: metrics["baseline"][key] for key in ("top1", "top5", "perplexity")},
        "kn4": {key: four[key] for key in ("top1", "top5", "perplexity")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=list(CASES))
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="override a NextWordConfig default (JSON value)")
    parser.add_argument("--one", choices=list(CASES), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help="also write the table (Markdown) to this file")
    args = parser.parse_args()
    from bench.nextword import parse_overrides

    overrides = parse_overrides(args.set)
    if args.one:
        print(json.dumps(run_one(args.one, overrides)))
        return
    header = ("| text | words | epochs | training s | total s | estimate s | CPU s | peak MB "
              "| model top-5 / ppl | KN 3-gram top-5 / ppl | KN 4-gram top-5 / ppl |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    print(*lines, sep="\n", flush=True)
    for name in args.cases:
        command = [sys.executable, __file__, "--one", name, *sum((["--set", s] for s in args.set), [])]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            print(f"| {name} | failed: {done.stderr.strip().splitlines()[-1:]} |", flush=True)
            continue
        row = json.loads(done.stdout.strip().splitlines()[-1])

        def pair(scores: dict) -> str:
            return f"{scores['top5']:.3f} / {scores['perplexity']:.1f}"

        line = (f"| {name} | {row['words']:,} | {row['epochs']} | {row['training_s']:.0f} "
                f"| {row['total_s']:.0f} | {row['estimate_s']:.0f} | {row['cpu_s']:.0f} "
                f"| {row['peak_mb']:.0f} | {pair(row['model'])} | {pair(row['kn3'])} "
                f"| {pair(row['kn4'])} |")
        lines.append(line)
        print(line, flush=True)
    if overrides:
        print(f"Settings changed from the defaults: {overrides}")
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
