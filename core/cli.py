"""Command line of RNN Lab's engine: `python -m core forecast|nextword|suggest ...`.

Each subcommand lives next to its engine module (`core.forecasting.add_forecast_command`, ...);
this module only builds the parser, keeps TensorFlow's native chatter off the terminal and turns
every error a user can fix into one `error: ...` line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Iterator

from core.errors import RNNLabError

# (module, function that adds the subcommand to the parser)
COMMANDS: tuple[tuple[str, str], ...] = (
    ("core.forecasting_cli", "add_forecast_command"),
    ("core.tuning_cli", "add_tune_command"),
    ("core.nextword_cli", "add_nextword_commands"),
    ("core.jobs.redis_backend", "add_worker_command"),
)

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one plain line on stderr (exit 2), like any bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        _print_error(f"{message} (see `{self.prog} --help`)")
        sys.exit(EXIT_BAD_INPUT)


_error_stream = sys.stderr


def _print_error(message: str) -> None:
    one_line = " ".join(str(message).split())
    print(f"error: {one_line}", file=_error_stream, flush=True)


@contextlib.contextmanager
def quiet_native_stderr(log_path: str = os.devnull) -> Iterator[None]:
    """Send file descriptor 2 (TensorFlow's C++ logs) to `log_path`; Python errors still reach the
    real terminal through `_error_stream`."""
    global _error_stream
    sys.stderr.flush()
    saved = os.dup(2)
    target = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(target, 2)
    os.close(target)
    _error_stream = os.fdopen(os.dup(saved), "w")
    previous_stderr = sys.stderr
    sys.stderr = _error_stream
    try:
        yield
    finally:
        sys.stderr = previous_stderr
        _error_stream.flush()
        os.dup2(saved, 2)
        os.close(saved)
        _error_stream.close()
        _error_stream = sys.stderr


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m core",
        description="RNN Lab's engine: train SimpleRNN, LSTM and GRU models from the command line.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    subparsers.required = True
    for module_name, function_name in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as error:
            if error.name != module_name:
                raise
            continue
        getattr(module, function_name)(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with quiet_native_stderr():
        try:
            return int(args.run(args) or 0)
        except RNNLabError as error:
            _print_error(error)
            return EXIT_BAD_INPUT
        except KeyboardInterrupt:
            _print_error("interrupted")
            return 130
