"""Run settings as flat, frozen dataclasses that round-trip to JSON and validate their ranges.

A control panel in the UI returns one of these; core takes it; the settings JSON a user
downloads is `config.to_json()` and comes back through `Config.from_json(text)`, which accepts
only known fields within their ranges (an uploaded settings file is untrusted input).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections.abc import Sequence
from typing import Any, ClassVar

from core.cells import CELL_KEYS, cell_keys, cell_names
from core.errors import ConfigError

MAX_SETTINGS_BYTES = 64 * 1024  # a real settings file is under 1 KiB

# A field's allowed values: a tuple, or a live sequence read at validation time (the cells:
# a cell registered later, in a test or a plug-in, is accepted without touching the config).
Choices = Sequence[str]


def __getattr__(name: str) -> Any:
    """`CELLS` and `CELL_NAMES`, kept for old imports: read from `core.cells` when imported.

    New code calls `core.cells.cell_keys()` / `cell_names()` at the moment it needs them.
    """
    if name == "CELLS":
        return cell_keys()
    if name == "CELL_NAMES":
        return cell_names()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclasses.dataclass(frozen=True)
class Config:
    """Base: subclasses declare fields with defaults and `RANGES` / `CHOICES` for validation."""

    KIND: ClassVar[str] = ""
    # field -> (minimum, maximum), inclusive; None fields (meaning "automatic") are allowed
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {}
    CHOICES: ClassVar[dict[str, Choices]] = {}

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                if "None" not in str(hints[field.name]):
                    raise ConfigError(f"Setting '{field.name}' needs a value; received nothing.")
                continue
            expected = _base_type(hints[field.name])
            if expected is float and isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, field.name, float(value))
                value = float(value)
            if expected is not None and (
                not isinstance(value, expected) or (expected is int and isinstance(value, bool))
            ):
                raise ConfigError(
                    f"Setting '{field.name}' must be {expected.__name__}; received {_short(repr(value))}."
                )
            if field.name in self.RANGES:
                low, high = self.RANGES[field.name]
                if not low <= value <= high:
                    raise ConfigError(
                        f"Setting '{field.name}' must be between {_number(low)} and "
                        f"{_number(high)}; "
                        f"received {_short(value)}."
                    )
            if field.name in self.CHOICES and value not in self.choices(field.name):
                raise ConfigError(
                    f"Setting '{field.name}' must be one of {', '.join(self.choices(field.name))}; "
                    f"received {_short(value)}."
                )

    @classmethod
    def choices(cls, name: str) -> tuple[str, ...]:
        """The values field `name` accepts now (for a cell: the registered cells' keys)."""
        return tuple(cls.CHOICES[name])

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.KIND, **dataclasses.asdict(self)}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def replace(self, **changes: Any):
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_dict(cls, data: Any):
        if not isinstance(data, dict):
            raise ConfigError(
                f"A settings file must hold a JSON object; received {type(data).__name__}."
            )
        data = dict(data)
        kind = data.pop("kind", cls.KIND)
        if kind != cls.KIND:
            raise ConfigError(
                f"These settings are for '{_short(kind)}', not '{cls.KIND}'. "
                "Upload them on the right page."
            )
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"The settings file has unknown fields: {_short(', '.join(map(str, unknown)))}. "
                "Use a settings file downloaded from RNN Lab."
            )
        return cls(**data)

    @classmethod
    def from_json(cls, text: str | bytes):
        if not isinstance(text, str | bytes | bytearray):
            raise ConfigError(
                f"Settings must be JSON text; received {type(text).__name__}. "
                "Use a settings file downloaded from RNN Lab."
            )
        if len(text) > MAX_SETTINGS_BYTES:
            raise ConfigError(
                f"The settings file is {len(text):,} bytes; a settings file from RNN Lab is under "
                f"{MAX_SETTINGS_BYTES // 1024} KiB. Use a settings file downloaded from RNN Lab."
            )
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise ConfigError(
                f"The settings file is not valid JSON ({_short(str(error))}). "
                "Use a settings file downloaded from RNN Lab."
            ) from error
        return cls.from_dict(data)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a field given twice (which value would count is ambiguous)."""
    data: dict[str, Any] = {}
    for name, value in pairs:
        if name in data:
            raise ValueError(f"the field {_short(name)!r} appears twice")
        data[name] = value
    return data


def _number(value: float) -> str:
    return f"{value:,}" if float(value).is_integer() and abs(value) >= 1e4 else f"{value:g}"


def _short(value: Any, limit: int = 60) -> str:
    """A received value for a message, cut to `limit` characters (strings without quotes)."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _base_type(hint: Any) -> type | None:
    args = [arg for arg in typing.get_args(hint) if arg is not type(None)]
    if args:
        hint = args[0]
    return hint if isinstance(hint, type) else None


@dataclasses.dataclass(frozen=True)
class ForecastConfig(Config):
    """Everything needed to rerun one forecast. None means "derive from the data"."""

    KIND: ClassVar[str] = "forecast"
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "window": (2, 1000),
        "horizon": (1, 1000),
        "holdout": (1, 5000),
        "season": (1, 400),
        "num_layers": (1, 4),
        "units": (1, 512),
        "dropout": (0.0, 0.9),
        "learning_rate": (1e-6, 1.0),
        "batch_size": (1, 4096),
        "epochs": (1, 2000),
        "patience": (0, 500),
        "clipnorm": (0.0, 100.0),
        "seed": (0, 2**31 - 1),
        "ensemble": (1, 10),
        "budget_seconds": (5, 86400),
    }
    CHOICES: ClassVar[dict[str, Choices]] = {
        "cell": CELL_KEYS,
        "strategy": ("direct", "recursive"),
        "transform": ("auto", "none", "log", "difference", "log_difference"),
        "missing": ("interpolate", "ffill", "zero", "drop"),
        "combine": ("auto", "network", "hybrid"),
    }

    cell: str = "gru"
    window: int | None = None
    horizon: int | None = None
    holdout: int | None = None
    season: int | None = None
    num_layers: int = 1
    units: int = 32
    dropout: float = 0.0
    learning_rate: float = 0.01
    batch_size: int = 32
    epochs: int = 150
    patience: int = 10
    clipnorm: float = 1.0
    strategy: str = "direct"
    transform: str = "auto"
    missing: str = "interpolate"
    ensemble: int = 1
    # hybrid: the mean of the network, AutoETS and AutoTheta (measured best on Tourism + M1);
    # auto: the network alone where it beats that mix on the last training points; network:
    # the network alone.
    combine: str = "hybrid"
    refit: bool = True  # fit again on all the data for the validated number of epochs
    seed: int = 42
    # training (both fits) stops when this is spent; raise it to train longer on a long series
    budget_seconds: float = 60.0
    # Explanatory columns of the data file, comma-separated (core/forecast/covariates.py):
    # known in advance (their values over the forecast are in the file's future rows), and
    # known only up to now; calendar features (day of week...) for daily and finer data.
    covariates: str = ""
    past_covariates: str = ""
    calendar: bool = False


@dataclasses.dataclass(frozen=True)
class NextWordConfig(Config):
    """Everything needed to rerun one next-word model."""

    KIND: ClassVar[str] = "nextword"
    RANGES: ClassVar[dict[str, tuple[float, float]]] = {
        "context": (1, 64),
        "embedding_dim": (2, 512),
        "units": (2, 1024),
        "num_layers": (1, 3),
        "dropout": (0.0, 0.9),
        "word_dropout": (0.0, 0.9),
        "learning_rate": (1e-6, 1.0),
        "batch_size": (1, 4096),
        "epochs": (1, 500),
        "patience": (0, 100),
        "min_count": (1, 100),
        "max_vocab": (10, 100000),
        "ensemble": (1, 5),
        "seed": (0, 2**31 - 1),
        "budget_seconds": (5, 86400),
        "windows_per_epoch": (100, 10_000_000),
        "max_validation_words": (200, 10_000_000),
    }
    CHOICES: ClassVar[dict[str, Choices]] = {"cell": CELL_KEYS}

    cell: str = "gru"
    context: int = 8
    embedding_dim: int = 64
    units: int = 128
    num_layers: int = 1
    dropout: float = 0.5
    word_dropout: float = 0.25  # share of context words hidden (as padding) in each training step
    shortcut: bool = True  # the softmax also sees the last word's embedding (learns pairs fast)
    learning_rate: float = 0.003
    batch_size: int = 64
    epochs: int = 20
    patience: int = 3
    min_count: int = 2
    max_vocab: int = 10000
    keep_punctuation: bool = False
    ensemble: int = 2  # networks trained side by side; suggestions average them
    mix_counts: bool = True  # blend with a Kneser-Ney 4-gram, shares learnt on validation
    unk_correction: bool = True  # expect as many unknown words as new text has, not training
    seed: int = 42
    budget_seconds: float = 60.0  # training stops when this is spent; raise it to train longer
    windows_per_epoch: int = 20000  # an epoch trains on this many windows drawn from the text
    max_validation_words: int = 5000  # early stopping watches at most this many words
