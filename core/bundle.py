"""Model bundles: the only model files RNN Lab exports and the only ones it accepts back.

A model file is a program: Keras' `safe_mode` has been bypassed many times, so RNN Lab never
loads `.h5`, `.keras`, SavedModel or pickle files. A bundle is a zip of exactly three entries:

    config.json   our own JSON: kind, the run settings, the architecture in our own fields,
                  and extra state (scaler parameters, vocabulary)
    weights.npz   a plain list of float32 arrays (read with allow_pickle=False)
    signature     HMAC-SHA256 of config.json and weights.npz under a server-side secret

`load_bundle` checks the upload before anything is parsed (size, entry names, zip-bomb ratios,
signature), then checks config.json against a whitelist and the weights against the
architecture. `build_model` rebuilds the network with our own code from our own fields; no
Keras deserialisation (`keras.saving`, `model_from_json`, `Lambda`) is ever involved.

The architecture covers "Input -> [Embedding] -> 1..4 recurrent layers -> [Dropout] -> Dense":

    architecture = {
        "input_shape": [None],          # token ids: [timesteps]; numbers: [timesteps, features]
        "input_dtype": "int32",
        "layers": [
            {"type": "embedding", "input_dim": 5000, "output_dim": 64},
            {"type": "lstm", "units": 128, "dropout": 0.2},
            {"type": "dense", "units": 5000, "activation": "softmax"},
        ],
    }

An exporter with a trained Sequential model of that shape writes:

    data = export_model("nextword", config.to_dict(), model, {"vocabulary": words},
                        server_secret())
    bundle = load_bundle(uploaded_bytes, server_secret())    # raises InputError when refused
    model = build_model(bundle)                              # predictions as before the export
    words = bundle.extra["vocabulary"]

`extra` must be plain JSON (no NaN); it is signed, so the exporter that wrote it may trust its
own fields when reading it back, but should still check them as a matter of course.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import importlib.metadata
import io
import json
import math
import os
import secrets
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.config import CELLS, Config, ForecastConfig, NextWordConfig
from core.errors import ConfigError, InputError

FORMAT = "rnnlab-model"
FORMAT_VERSION = 1
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "weights.npz"
SIGNATURE_NAME = "signature"
ENTRY_NAMES = (CONFIG_NAME, WEIGHTS_NAME, SIGNATURE_NAME)

DEFAULT_MAX_BYTES = 200 * 2**20  # Streamlit's default upload limit
MAX_CONFIG_BYTES = 16 * 2**20  # a vocabulary of 100 000 words fits many times over
MAX_COMPRESSION_RATIO = 100  # float32 weights barely compress; a bomb compresses ~1000x
RATIO_CHECK_FROM_BYTES = 2**20  # tiny entries (the signature) may compress any way they like
MAX_PARAMETERS = 60_000_000
# float32 weights of the largest network allowed, config.json and the .npy headers
MAX_UNPACKED_BYTES = 4 * MAX_PARAMETERS + MAX_CONFIG_BYTES + 2**20

CONFIG_CLASSES: dict[str, type[Config]] = {
    ForecastConfig.KIND: ForecastConfig,
    NextWordConfig.KIND: NextWordConfig,
}

_NOT_OURS = "Only upload model bundles downloaded from this RNN Lab server."
_SIGNATURE_CONTEXT = b"rnnlab-bundle-v1"
_SECRET_ENV = "RNNLAB_SECRET"
_STATE_DIR_ENV = "RNNLAB_STATE_DIR"
_MIN_SECRET_CHARS = 16


@dataclasses.dataclass(frozen=True, eq=False)
class Bundle:
    """A checked bundle: its settings, architecture, weights and the exporter's extra state."""

    kind: str
    config: Config  # ForecastConfig or NextWordConfig
    architecture: dict[str, Any]
    weights: list[np.ndarray]
    extra: dict[str, Any]
    keras_version: str = ""


# ---------------------------------------------------------------------------------------------
# The server's secret


def server_secret(state_dir: str | Path | None = None) -> bytes:
    """The key bundles are signed with: env RNNLAB_SECRET, else a random one kept on disk.

    The file is `<state dir>/secret` (mode 0600), created on first use; the state dir is
    `state_dir`, else env RNNLAB_STATE_DIR, else ~/.rnnlab. Several server processes started
    at once agree on one secret. Changing the secret invalidates every bundle exported before.
    """
    from_env = os.environ.get(_SECRET_ENV)
    if from_env is not None:
        if len(from_env) < _MIN_SECRET_CHARS:
            raise ConfigError(
                f"{_SECRET_ENV} must be at least {_MIN_SECRET_CHARS} characters long; it has "
                f"{len(from_env)}. Set a long random value, or unset it to let RNN Lab keep one."
            )
        return from_env.encode("utf-8")
    folder = Path(state_dir or os.environ.get(_STATE_DIR_ENV) or Path.home() / ".rnnlab")
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "secret"
    if not path.exists():
        _create_secret_file(path)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    secret = path.read_bytes().strip()
    if len(secret) < _MIN_SECRET_CHARS:
        raise ConfigError(
            f"The secret file {path} is too short ({len(secret)} bytes). Delete it and RNN Lab "
            "will create a new one (models exported before will no longer upload)."
        )
    return secret


def _create_secret_file(path: Path) -> None:
    """Write a new secret atomically: a private temporary file, then a hard link to the name."""
    temporary = path.with_name(f".secret-{os.getpid()}-{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(secrets.token_hex(32).encode("ascii"))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: everyone uses its secret
    finally:
        temporary.unlink(missing_ok=True)


def _signature(secret: bytes | str, config_bytes: bytes, weights_bytes: bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    message = hmac.new(key, _SIGNATURE_CONTEXT, hashlib.sha256)
    for part in (config_bytes, weights_bytes):
        # Length prefixes: no byte can move from one part to the other under the same signature.
        message.update(len(part).to_bytes(8, "big"))
        message.update(part)
    return message.hexdigest().encode("ascii")


# ---------------------------------------------------------------------------------------------
# The architecture schema (the whitelist)

_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
_OUTPUT_ACTIVATIONS = ("linear", "softmax", "sigmoid", "relu", "tanh")
_RECURRENT_ACTIVATIONS = ("sigmoid", "hard_sigmoid")
_INPUT_DTYPES = ("float32", "int32", "int64")
_MAX_LAYERS = 12
_MAX_RECURRENT_LAYERS = 4
_MAX_DENSE_LAYERS = 3
_MAX_TIMESTEPS = 5000
_MAX_FEATURES = 1000


@dataclasses.dataclass(frozen=True)
class _Field:
    kind: type  # int, float, bool or str
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


_RECURRENT_FIELDS = {
    "units": _Field(int, None, 1, 1024),
    "activation": _Field(str, "tanh", choices=_ACTIVATIONS),
    "dropout": _Field(float, 0.0, 0.0, 0.9),
    "recurrent_dropout": _Field(float, 0.0, 0.0, 0.9),
    "return_sequences": _Field(bool, False),
    "unroll": _Field(bool, False),
}
_GATED_FIELDS = {"recurrent_activation": _Field(str, "sigmoid", choices=_RECURRENT_ACTIVATIONS)}

LAYER_FIELDS: dict[str, dict[str, _Field]] = {
    "embedding": {
        "input_dim": _Field(int, None, 2, 200_000),
        "output_dim": _Field(int, None, 1, 1024),
        "mask_zero": _Field(bool, False),
    },
    "rnn": _RECURRENT_FIELDS,
    "lstm": {**_RECURRENT_FIELDS, **_GATED_FIELDS},
    "gru": {**_RECURRENT_FIELDS, **_GATED_FIELDS, "reset_after": _Field(bool, True)},
    "dropout": {"rate": _Field(float, None, 0.0, 0.9)},
    "dense": {
        "units": _Field(int, None, 1, 200_000),
        "activation": _Field(str, "linear", choices=_OUTPUT_ACTIVATIONS),
    },
}
_ARCHITECTURE_KEYS = ("input_shape", "input_dtype", "layers")


def validate_architecture(architecture: Any) -> dict[str, Any]:
    """Check an architecture against the whitelist; return it with every default filled in.

    Raises:
        InputError: naming the first field that is unknown, of the wrong type or out of range.
    """
    if not isinstance(architecture, dict):
        raise _bad_architecture(f"it must be an object; received {type(architecture).__name__}")
    unknown = sorted(set(architecture) - set(_ARCHITECTURE_KEYS))
    if unknown:
        raise _bad_architecture(f"unknown fields {_short(unknown)}")
    layers = architecture.get("layers")
    if not isinstance(layers, list) or not 1 < len(layers) <= _MAX_LAYERS:
        raise _bad_architecture(f"'layers' must be a list of 2 to {_MAX_LAYERS} layers")
    normal_layers = [_validate_layer(index, layer) for index, layer in enumerate(layers)]
    types = [layer["type"] for layer in normal_layers]
    recurrent = [index for index, kind in enumerate(types) if kind in CELLS]
    dense = [index for index, kind in enumerate(types) if kind == "dense"]
    if "embedding" in types[1:]:
        raise _bad_architecture("an embedding layer may only come first")
    if not 1 <= len(recurrent) <= _MAX_RECURRENT_LAYERS:
        raise _bad_architecture(f"it needs 1 to {_MAX_RECURRENT_LAYERS} recurrent layers")
    if not 1 <= len(dense) <= _MAX_DENSE_LAYERS or types[-1] != "dense":
        raise _bad_architecture(f"it must end with 1 to {_MAX_DENSE_LAYERS} dense layers")
    if dense[0] < recurrent[-1]:
        raise _bad_architecture("dense layers must come after the recurrent layers")
    for before in recurrent[:-1]:
        if not normal_layers[before]["return_sequences"]:
            raise _bad_architecture(
                f"layer {before + 1} feeds another recurrent layer, so it must return sequences"
            )

    embedded = types[0] == "embedding"
    input_dtype = architecture.get("input_dtype", "int32" if embedded else "float32")
    if input_dtype not in _INPUT_DTYPES:
        raise _bad_architecture(f"'input_dtype' must be one of {', '.join(_INPUT_DTYPES)}")
    shape = architecture.get("input_shape")
    rank = 1 if embedded else 2
    if not isinstance(shape, list) or len(shape) != rank:
        raise _bad_architecture(
            f"'input_shape' must be a list of {rank} sizes "
            f"({'[timesteps]' if embedded else '[timesteps, features]'})"
        )
    limits = (_MAX_TIMESTEPS, _MAX_FEATURES)
    for position, size in enumerate(shape):
        if size is None and position == 0:
            continue  # any number of timesteps
        if not _is_int(size) or not 1 <= size <= limits[position]:
            raise _bad_architecture(f"'input_shape' has a size out of range: {size!r}")
    normal = {"input_shape": list(shape), "input_dtype": input_dtype, "layers": normal_layers}
    parameters = sum(math.prod(weight_shape) for weight_shape in weight_shapes(normal))
    if parameters > MAX_PARAMETERS:
        raise _bad_architecture(f"it has {parameters:,} weights; the limit is {MAX_PARAMETERS:,}")
    return normal


def _validate_layer(index: int, layer: Any) -> dict[str, Any]:
    where = f"layer {index + 1}"
    if not isinstance(layer, dict):
        raise _bad_architecture(f"{where} must be an object")
    kind = layer.get("type")
    if kind not in LAYER_FIELDS:
        raise _bad_architecture(
            f"{where} has type {_short(kind)}; RNN Lab only builds {', '.join(LAYER_FIELDS)}"
        )
    fields = LAYER_FIELDS[kind]
    unknown = sorted(set(layer) - set(fields) - {"type"})
    if unknown:
        raise _bad_architecture(f"{where} ({kind}) has unknown fields {_short(unknown)}")
    normal: dict[str, Any] = {"type": kind}
    for name, field in fields.items():
        value = layer.get(name, field.default)
        if value is None:
            raise _bad_architecture(f"{where} ({kind}) needs '{name}'")
        if field.kind is float and _is_int(value):
            value = float(value)
        if field.kind is int and not _is_int(value) or not isinstance(value, field.kind):
            raise _bad_architecture(
                f"{where} ({kind}): '{name}' must be {field.kind.__name__}; received {_short(value)}"
            )
        if field.kind is float and not math.isfinite(value):
            raise _bad_architecture(f"{where} ({kind}): '{name}' must be a finite number")
        if field.low is not None and not field.low <= value <= field.high:
            raise _bad_architecture(
                f"{where} ({kind}): '{name}' must be between {field.low:g} and {field.high:g}; "
                f"received {value!r}"
            )
        if field.choices and value not in field.choices:
            raise _bad_architecture(
                f"{where} ({kind}): '{name}' must be one of {', '.join(field.choices)}; "
                f"received {_short(value)}"
            )
        normal[name] = value
    return normal


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _short(value: Any, limit: int = 60) -> str:
    """repr, cut short: a message must not echo a megabyte of someone's file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _bad_architecture(reason: str) -> InputError:
    return InputError(
        f"This model file describes a network RNN Lab cannot build: {reason}. {_NOT_OURS}"
    )


def weight_shapes(architecture: dict[str, Any]) -> list[tuple[int, ...]]:
    """The shapes of `model.get_weights()` for a (validated) architecture, in Keras' order."""
    shapes: list[tuple[int, ...]] = []
    width = architecture["input_shape"][-1]
    for layer in architecture["layers"]:
        kind = layer["type"]
        if kind == "embedding":
            shapes.append((layer["input_dim"], layer["output_dim"]))
            width = layer["output_dim"]
        elif kind in CELLS:
            units = layer["units"]
            gates = {"rnn": 1, "lstm": 4, "gru": 3}[kind]
            shapes += [(width, gates * units), (units, gates * units)]
            if kind == "gru" and layer["reset_after"]:
                shapes.append((2, gates * units))
            else:
                shapes.append((gates * units,))
            width = units
        elif kind == "dense":
            shapes += [(width, layer["units"]), (layer["units"],)]
            width = layer["units"]
    return shapes


# ---------------------------------------------------------------------------------------------
# From a Keras model to a bundle, and back


def architecture_of(model: Any) -> dict[str, Any]:
    """Describe a Sequential model of the supported shape in our own fields.

    Raises:
        ValueError: the model holds a layer or an option the bundle cannot describe (a bug in
            the exporter, not a user's mistake), so that no export silently changes a model.
    """
    import keras

    if not isinstance(model, keras.Sequential):
        raise ValueError(f"only keras.Sequential models can be exported; got {type(model)}")
    classes = {
        keras.layers.Embedding: "embedding",
        keras.layers.SimpleRNN: "rnn",
        keras.layers.LSTM: "lstm",
        keras.layers.GRU: "gru",
        keras.layers.Dropout: "dropout",
        keras.layers.Dense: "dense",
    }
    layers = []
    for layer in model.layers:
        kind = classes.get(type(layer))
        if kind is None:
            raise ValueError(f"layer {layer.name} ({type(layer).__name__}) cannot be exported")
        if layer.dtype_policy.name != "float32":
            raise ValueError(f"layer {layer.name} uses dtype policy {layer.dtype_policy.name}")
        config = layer.get_config()
        described = {"type": kind}
        for name in LAYER_FIELDS[kind]:
            described[name] = config[name]
        # Options our builder leaves at their defaults: a model that changed one cannot be
        # rebuilt faithfully, so it is refused rather than exported as a different model.
        fixed = {
            "use_bias": True,
            "go_backwards": False,
            "stateful": False,
            "return_state": False,
            "zero_output_for_mask": False,
        }
        for name, expected in fixed.items():
            if name in config and config[name] != expected:
                raise ValueError(f"layer {layer.name}: {name}={config[name]!r} cannot be exported")
        layers.append(described)
    shape = list(model.inputs[0].shape[1:])
    architecture = {
        "input_shape": shape,
        "input_dtype": str(model.inputs[0].dtype),
        "layers": layers,
    }
    try:
        architecture = validate_architecture(architecture)
    except InputError as error:
        raise ValueError(f"this model cannot be exported: {error}") from error
    actual = [tuple(weight.shape) for weight in model.get_weights()]
    if actual != weight_shapes(architecture):
        raise ValueError(f"weight shapes {actual} do not match the described architecture")
    return architecture


def export_model(
    kind: str, config: dict[str, Any], model: Any, extra: dict[str, Any], secret: bytes | str
) -> bytes:
    """Bundle a trained Sequential model: `architecture_of(model)` and `model.get_weights()`."""
    return export_bundle(kind, config, architecture_of(model), model.get_weights(), extra, secret)


def export_bundle(
    kind: str,
    config: dict[str, Any],
    architecture: dict[str, Any],
    weights: list[np.ndarray],
    extra: dict[str, Any],
    secret: bytes | str,
) -> bytes:
    """Write a signed bundle (zip bytes) that `load_bundle` accepts with the same secret.

    Raises:
        ValueError: the exporter handed over something a bundle cannot hold (unknown kind,
            invalid settings or architecture, weights of the wrong shape, NaN in `extra`).
    """
    if kind not in CONFIG_CLASSES:
        raise ValueError(f"unknown bundle kind {kind!r}; expected one of {list(CONFIG_CLASSES)}")
    try:
        settings = CONFIG_CLASSES[kind].from_dict(config)
        architecture = validate_architecture(architecture)
    except (ConfigError, InputError) as error:
        raise ValueError(f"cannot export this model: {error}") from error
    arrays = [np.ascontiguousarray(weight, dtype=np.float32) for weight in weights]
    shapes = [weight.shape for weight in arrays]
    if shapes != weight_shapes(architecture):
        raise ValueError(f"weight shapes {shapes} do not match {weight_shapes(architecture)}")
    if not all(np.isfinite(weight).all() for weight in arrays):
        raise ValueError("cannot export weights that hold NaN or infinity")
    if not isinstance(extra, dict):
        raise ValueError(f"extra must be a dict; got {type(extra).__name__}")
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "keras_version": importlib.metadata.version("keras"),
        "config": settings.to_dict(),
        "architecture": architecture,
        "extra": extra,
    }
    try:
        config_bytes = json.dumps(document, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise ValueError(f"extra must be plain JSON without NaN: {error}") from error
    if len(config_bytes) > MAX_CONFIG_BYTES:
        raise ValueError(
            f"config.json would be {len(config_bytes)} bytes; the limit is {MAX_CONFIG_BYTES}"
        )
    weights_buffer = io.BytesIO()
    np.savez(weights_buffer, *arrays)  # stored, not compressed: numbers barely compress
    weights_bytes = weights_buffer.getvalue()
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(CONFIG_NAME, config_bytes)
        archive.writestr(WEIGHTS_NAME, weights_bytes)
        archive.writestr(SIGNATURE_NAME, _signature(secret, config_bytes, weights_bytes))
    return output.getvalue()


def load_bundle(data: bytes, secret: bytes | str, max_bytes: int = DEFAULT_MAX_BYTES) -> Bundle:
    """Check an uploaded bundle step by step and return it; nothing is parsed before the
    signature matches.

    Raises:
        InputError: the file is too large, not a bundle (an .h5, .keras, pickle, a truncated or
            tampered zip, a zip bomb), signed with another secret, or describes a network or
            weights RNN Lab does not build.
    """
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InputError(f"A model bundle must be bytes; received {type(data).__name__}.")
    data = bytes(data)
    if len(data) > max_bytes:
        raise InputError(
            f"This model file is {_mebibytes(len(data))}; the limit is {_mebibytes(max_bytes)}. "
            f"{_NOT_OURS}"
        )
    entries = _read_entries(data, max_bytes)
    expected = _signature(secret, entries[CONFIG_NAME], entries[WEIGHTS_NAME])
    if not hmac.compare_digest(expected, entries[SIGNATURE_NAME].strip()):
        raise InputError(
            "This file is not a model exported by RNN Lab (its signature does not match). "
            "Only upload bundles downloaded from this server; a bundle from another server, or "
            "one that was edited, is refused."
        )
    document = _parse_document(entries[CONFIG_NAME])
    architecture = validate_architecture(document["architecture"])
    weights = _read_weights(entries[WEIGHTS_NAME], weight_shapes(architecture))
    kind = document["kind"]
    try:
        settings = CONFIG_CLASSES[kind].from_dict(document["config"])
    except ConfigError as error:
        raise InputError(
            f"This model's settings do not fit this version of RNN Lab ({error}). "
            "Train the model again and export a new bundle."
        ) from error
    return Bundle(
        kind, settings, architecture, weights, document["extra"], document.get("keras_version", "")
    )


def _mebibytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _read_entries(data: bytes, max_bytes: int) -> dict[str, bytes]:
    """The three entries' bytes, after the zip's names, sizes and ratios look like ours."""
    _refuse_known_model_formats(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise InputError(
            "This file is not a model exported by RNN Lab: it is not a complete zip archive "
            f"(it may be truncated; download it again). {_NOT_OURS}"
        ) from error
    names = [info.filename for info in infos]
    keras_names = {"metadata.json", "model.weights.h5", "saved_model.pb", "keras_metadata.pb"}
    if keras_names & {name.rsplit("/", 1)[-1] for name in names}:
        raise InputError(
            "This is a Keras model file (.keras or SavedModel). RNN Lab never loads those, "
            f"because a Keras file can run code on the server. {_NOT_OURS}"
        )
    if sorted(names) != sorted(ENTRY_NAMES):
        raise InputError(
            f"This file is not a model exported by RNN Lab: it holds {_short(names, 120)} "
            f"instead of exactly {', '.join(ENTRY_NAMES)}. {_NOT_OURS}"
        )
    total_limit = min(4 * max_bytes, MAX_UNPACKED_BYTES)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise InputError(f"This model file is encrypted, so it is not ours. {_NOT_OURS}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise InputError(f"This model file uses an unexpected compression. {_NOT_OURS}")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise InputError(
                f"This model file unpacks {ratio:.0f} times larger than it is (a 'zip bomb'), "
                f"so it was refused. {_NOT_OURS}"
            )
    if total > total_limit:
        raise InputError(
            f"This model file would unpack to {_mebibytes(total)}; the limit is "
            f"{_mebibytes(total_limit)}. {_NOT_OURS}"
        )
    limits = {CONFIG_NAME: MAX_CONFIG_BYTES, WEIGHTS_NAME: total_limit, SIGNATURE_NAME: 256}
    entries = {}
    for info in infos:
        if info.file_size > limits[info.filename]:
            raise InputError(
                f"This model file's part {info.filename} is {_mebibytes(info.file_size)}, more "
                f"than RNN Lab ever writes. {_NOT_OURS}"
            )
        try:
            with archive.open(info) as member:
                # Read at most what the header declares (+1 to catch a lying header).
                content = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            raise InputError(
                "This model file is damaged (a part of it does not unpack). Download it again. "
                f"{_NOT_OURS}"
            ) from error
        if len(content) != info.file_size:
            raise InputError(
                f"This model file's part {info.filename} is not the size it claims. {_NOT_OURS}"
            )
        entries[info.filename] = content
    return entries


def _refuse_known_model_formats(data: bytes) -> None:
    """Name the formats people will try, so the message says why they are refused."""
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise InputError(
            "This is an HDF5 (.h5) model file. RNN Lab never loads .h5 files, because a Keras "
            f"model file can run code on the server. {_NOT_OURS}"
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise InputError(
            "This is a Python pickle file. RNN Lab never loads pickles, because unpickling runs "
            f"code. {_NOT_OURS}"
        )


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice")
    return result


def _parse_document(config_bytes: bytes) -> dict[str, Any]:
    try:
        document = json.loads(
            config_bytes.decode("utf-8"),
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_keys,
        )
    except (ValueError, RecursionError) as error:
        raise InputError(
            f"This model file's config.json is not valid JSON ({_short(str(error), 80)}). "
            f"{_NOT_OURS}"
        ) from error
    if not isinstance(document, dict):
        raise InputError(f"This model file's config.json is not a JSON object. {_NOT_OURS}")
    keys = {"format", "format_version", "kind", "keras_version", "config", "architecture", "extra"}
    unknown = sorted(set(document) - keys)
    missing = sorted(keys - set(document) - {"keras_version"})
    if unknown or missing:
        raise InputError(
            "This model file's config.json does not have RNN Lab's fields "
            f"(unknown: {_short(unknown)}, missing: {_short(missing)}). {_NOT_OURS}"
        )
    version = document["format_version"]
    if document["format"] != FORMAT or not _is_int(version) or version != FORMAT_VERSION:
        raise InputError(
            f"This model file has format {_short(document['format'])} version "
            f"{_short(document['format_version'])}; this RNN Lab reads {FORMAT} version "
            f"{FORMAT_VERSION}. Export the model again from this version."
        )
    if document["kind"] not in CONFIG_CLASSES:
        raise InputError(
            f"This model file is of kind {_short(document['kind'])}; RNN Lab knows "
            f"{', '.join(CONFIG_CLASSES)}. {_NOT_OURS}"
        )
    if not isinstance(document["extra"], dict):
        raise InputError(f"This model file's extra state is not a JSON object. {_NOT_OURS}")
    if not isinstance(document.get("keras_version", ""), str):
        raise InputError(f"This model file's keras_version is not text. {_NOT_OURS}")
    return document


def _read_weights(weights_bytes: bytes, shapes: list[tuple[int, ...]]) -> list[np.ndarray]:
    """Plain float32 arrays of the expected shapes, or an InputError; never a pickle."""
    names = [f"arr_{index}.npy" for index in range(len(shapes))]
    try:
        inner = zipfile.ZipFile(io.BytesIO(weights_bytes))
        infos = inner.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise InputError(f"This model file's weights are not readable. {_NOT_OURS}") from error
    if [info.filename for info in infos] != names:
        raise InputError(
            f"This model file has {len(infos)} weight arrays; its network needs {len(shapes)}. "
            f"{_NOT_OURS}"
        )
    for info, shape in zip(infos, shapes, strict=True):
        expected_bytes = 4 * math.prod(shape)
        # A stored (uncompressed) .npy is its data plus a header of a few hundred bytes.
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > expected_bytes + 4096:
            raise InputError(
                f"This model file's weight {info.filename} is not stored the way RNN Lab "
                f"stores weights. {_NOT_OURS}"
            )
    weights = []
    try:
        with np.load(io.BytesIO(weights_bytes), allow_pickle=False) as archive:
            for name, shape in zip(names, shapes, strict=True):
                array = archive[name.removesuffix(".npy")]
                if array.dtype != np.float32 or array.shape != shape:
                    raise InputError(
                        f"This model file's weight {name} is {array.dtype} of shape "
                        f"{array.shape}; the network needs float32 of shape {shape}. {_NOT_OURS}"
                    )
                if not np.isfinite(array).all():
                    raise InputError(f"This model file's weights hold NaN or infinity. {_NOT_OURS}")
                weights.append(array)
    except InputError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        # allow_pickle=False raises ValueError for object arrays: a pickle never runs.
        raise InputError(
            f"This model file's weights are not plain numbers ({_short(str(error), 80)}). "
            f"{_NOT_OURS}"
        ) from error
    return weights


def build_model(bundle: Bundle) -> Any:
    """Rebuild the Keras model from the bundle's own fields and set its weights."""
    import keras

    architecture = bundle.architecture
    layers: list[Any] = [
        keras.Input(shape=tuple(architecture["input_shape"]), dtype=architecture["input_dtype"])
    ]
    for spec in architecture["layers"]:
        options = {name: value for name, value in spec.items() if name != "type"}
        kind = spec["type"]
        if kind == "embedding":
            layers.append(keras.layers.Embedding(**options))
        elif kind == "rnn":
            layers.append(keras.layers.SimpleRNN(**options))
        elif kind == "lstm":
            layers.append(keras.layers.LSTM(**options))
        elif kind == "gru":
            layers.append(keras.layers.GRU(**options))
        elif kind == "dropout":
            layers.append(keras.layers.Dropout(**options))
        elif kind == "dense":
            layers.append(keras.layers.Dense(**options))
        else:  # validate_architecture keeps this unreachable
            raise InputError(f"RNN Lab cannot build a layer of type {_short(kind)}.")
    model = keras.Sequential(layers)
    model.set_weights(bundle.weights)
    return model
