"""`python -m core nextword ...` (train and evaluate) and `python -m core suggest ...` (use a model)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cells import cell_keys
from core.config import NextWordConfig
from core.errors import InputError


def add_nextword_commands(subparsers) -> None:
    train = subparsers.add_parser(
        "nextword",
        help="train a next-word model on a .txt file and score it against a Kneser-Ney trigram",
        description="Train a word-level RNN language model on a text file. The last 10%% of the "
        "words are held out; DIR receives the model file model.rnnlab (what `suggest` and the "
        "next-word page load), config.json, vocabulary.json, the weights as plain arrays and "
        "metrics.json (top-1/top-5 accuracy and perplexity, with the n-gram baseline's).",
    )
    defaults = NextWordConfig()
    train.add_argument("--data", required=True, type=Path, metavar="FILE.txt",
                       help="a plain-text file (UTF-8, UTF-16 or Latin-1)")
    train.add_argument("--cell", choices=cell_keys(), help=f"recurrent cell (default {defaults.cell})")
    train.add_argument("--context", type=int,
                       help=f"words of context per prediction (default {defaults.context})")
    train.add_argument("--epochs", type=int,
                       help=f"most epochs; early stopping usually ends sooner (default {defaults.epochs})")
    train.add_argument("--seed", type=int, help=f"random seed (default {defaults.seed})")
    train.add_argument("--budget", dest="budget_seconds", type=float, metavar="SECONDS",
                       help="training stops after about this many seconds, keeping the best "
                       f"weights; raise it to train longer (default {defaults.budget_seconds:.0f})")
    train.add_argument("--config", type=Path, metavar="SETTINGS.json",
                       help="settings JSON saved by RNN Lab; the options above override it")
    train.add_argument("--out", required=True, type=Path, metavar="DIR",
                       help="folder for model.rnnlab, config.json, vocabulary.json and "
                       "metrics.json")
    train.add_argument("--quiet", action="store_true", help="do not print one line per epoch")
    train.set_defaults(run=run_nextword)

    suggest = subparsers.add_parser(
        "suggest",
        help="print the most likely next words after a prompt, as JSON",
        description="Print a JSON list of {word, probability}, most likely first.",
    )
    suggest.add_argument("--model", required=True, type=Path, metavar="FILE_OR_DIR",
                         help="a model file (model.rnnlab, also downloaded from the next-word "
                         "page) or the folder written by `python -m core nextword --out DIR`")
    suggest.add_argument("--prompt", required=True, help="the words typed so far")
    suggest.add_argument("-k", "--top-k", dest="top_k", type=int, default=5,
                         help="how many suggestions (default 5)")
    suggest.set_defaults(run=run_suggest)


def _config(args: argparse.Namespace) -> NextWordConfig:
    config = NextWordConfig()
    if args.config is not None:
        if not args.config.is_file():
            raise InputError(f"There is no settings file at {str(args.config)!r}.")
        config = NextWordConfig.from_json(args.config.read_text(encoding="utf-8"))
    given = {
        name: getattr(args, name)
        for name in ("cell", "context", "epochs", "seed", "budget_seconds")
        if getattr(args, name) is not None
    }
    return config.replace(**given)


def run_nextword(args: argparse.Namespace) -> int:
    from core.jobs import JobContext, run_inline
    from core.nextword import TASK

    config = _config(args)
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {str(args.out)!r} is a file; give a folder for the model.")

    def send(kind: str, data: dict) -> None:
        if args.quiet:
            return
        if kind == "epoch":
            figures = ", ".join(
                f"{name} {value:.4f}" for name, value in data.items()
                if name not in ("epoch", "seconds")
            )
            print(f"epoch {data['epoch']}: {figures} ({data['seconds']:.1f} s)", file=sys.stderr,
                  flush=True)
        elif kind == "message":
            print(data["message"], file=sys.stderr, flush=True)

    args.out.mkdir(parents=True, exist_ok=True)
    payload = {"path": str(args.data), "config": config.to_dict(), "out": str(args.out)}
    result = run_inline(TASK, payload, JobContext(args.out, send))
    for note in result["notes"]:
        print(f"note: {note}", file=sys.stderr)
    metrics = result["metrics"]
    base = metrics["baseline"]
    print(
        json.dumps({key: metrics[key] for key in (
            "cell", "vocab_size", "train_words", "test_words", "epochs_run", "seconds",
            "model", "top1", "top5", "perplexity", "network", "baseline") if key in metrics},
            indent=2)
    )
    parts = [(metrics["model"], metrics)]
    if "network" in metrics:
        parts.append((f"{config.cell} alone", metrics["network"]))
    parts.append((base["name"], base))
    figures = "; ".join(
        f"{name}: top-1 {scores['top1']:.3f}, top-5 {scores['top5']:.3f}, "
        f"perplexity {scores['perplexity']:.1f}" for name, scores in parts
    )
    print(f"held-out words: {metrics['test_words']}; {figures}; saved to {result['model_dir']}",
          file=sys.stderr)
    return 0


def run_suggest(args: argparse.Namespace) -> int:
    from core.nextword import NextWordModel

    model = NextWordModel.load(args.model)
    print(json.dumps(model.suggest(args.prompt, top_k=args.top_k), ensure_ascii=False))
    return 0
