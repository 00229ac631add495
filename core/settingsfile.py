"""Settings files that name their data: the settings JSON plus a `data` field.

    {"kind": "forecast", "cell": "lstm", ..., "data": {"sample": "australian_beer",
                                                       "target": "production", "time": "quarter"}}
    {"kind": "forecast", ..., "data": {"file": "sales.csv", "sha256": "9f2c...", "target": ...}}

Restoring one selects the sample, or asks for the file and checks its fingerprint, so that one
series' season, window and horizon are never applied to another. A file without `data` (older
files) still loads; the page then leaves the data's own settings (`DATA_SETTINGS`) automatic.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from typing import Any

from core.config import MAX_SETTINGS_BYTES, Config, ForecastConfig
from core.errors import ConfigError

# Settings that belong to one series: taken from a settings file only for the same data.
DATA_SETTINGS = ("season", "window", "horizon", "holdout")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_MAX_NAME = 255


@dataclasses.dataclass(frozen=True)
class DataRef:
    """The data a settings file was made for: a bundled sample, or a file and its sha256."""

    sample: str | None = None
    file: str | None = None
    sha256: str | None = None
    target: str | None = None
    time: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {key: value for key, value in dataclasses.asdict(self).items() if value is not None}

    def same_file(self, data: bytes) -> bool:
        return self.sha256 is not None and fingerprint(data) == self.sha256


def fingerprint(data: bytes) -> str:
    """The sha256 of a file's bytes, as a settings file records it."""
    return hashlib.sha256(data).hexdigest()


def settings_json(config: Config, data: DataRef | None) -> str:
    """The settings file's text: `config.to_json()` plus the data it was made for."""
    document = config.to_dict()
    if data is not None:
        document["data"] = data.to_dict()
    return json.dumps(document, indent=2, ensure_ascii=False)


def read_settings(text: str | bytes, config_class: type[Config]) -> tuple[Config, DataRef | None]:
    """Read a settings file: its settings and, when it names it, its data.

    Raises:
        ConfigError: the file or its `data` field is not what RNN Lab writes.
    """
    document = _json_object(text)
    if document is None or "data" not in document:
        return config_class.from_json(text), None  # its own checks and messages
    data = _data_ref(document.pop("data"))
    return config_class.from_json(json.dumps(document)), data


def without_data_settings(config: ForecastConfig) -> ForecastConfig:
    """The settings with the series' own settings (season, window, ...) back to automatic."""
    return config.replace(**{name: None for name in DATA_SETTINGS})


def _json_object(text: Any) -> dict[str, Any] | None:
    if not isinstance(text, str | bytes | bytearray) or len(text) > MAX_SETTINGS_BYTES:
        return None
    try:
        document = json.loads(text, object_pairs_hook=_pairs)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        raise ValueError("a field appears twice")
    return document


def _data_ref(data: Any) -> DataRef:
    fields = {field.name for field in dataclasses.fields(DataRef)}
    if not isinstance(data, dict) or set(data) - fields:
        raise ConfigError(
            "The settings file's 'data' must be an object with some of "
            f"{', '.join(sorted(fields))}. Use a settings file downloaded from RNN Lab."
        )
    for name, value in data.items():
        if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME:
            raise ConfigError(
                f"The settings file's data.{name} must be a short text. Use a settings file "
                "downloaded from RNN Lab."
            )
    ref = DataRef(**data)
    if (ref.sample is None) == (ref.file is None):
        raise ConfigError("The settings file's data must name either a sample or a file. Use a "
                          "settings file downloaded from RNN Lab.")
    if ref.file is not None and (ref.sha256 is None or not _SHA256.fullmatch(ref.sha256)):
        raise ConfigError("The settings file names a file without a valid fingerprint "
                          "(sha256). Use a settings file downloaded from RNN Lab.")
    return ref
