"""RNN Lab model files (`.rnnlab`): the one format every trained network is saved in and loaded from.

A model file is a program when it is a Keras file (`safe_mode` has been bypassed many times), so
RNN Lab never loads `.keras`, `.h5`, SavedModel or pickle files. Its own model file is a zip of
exactly three entries:

    model.json    our own JSON: format and version, the kind of network ("forecast",
                  "nextword", ...), when and with which RNN Lab and Keras it was made, the
                  owner's description (settings, vocabulary, scaler, data summary...) and the
                  list of arrays with their dtype and shape
    arrays.npz    plain numeric arrays (stored, read with allow_pickle=False)
    signature     HMAC-SHA256 of model.json and arrays.npz under the server's secret

`load_model_file` checks everything before anything is parsed or built: the size, the zip's
entry names and count, the unpacked size and ratio (zip bombs), the signature, then the JSON
fields and types and every array's name, dtype and shape against the signed list. The owner of
each network rebuilds it with its own code from the description and arrays; no Keras
deserialisation is ever involved:

    data = save_model_file("nextword", {"config": ...}, {"weight_000": array, ...})
    model_file = load_model_file(uploaded_bytes, kind="nextword")   # InputError when refused
    model_file.description["config"], model_file.array("weight_000", dtype="float32")
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import hmac
import importlib.metadata
import io
import json
import math
import os
import re
import secrets
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

import numpy as np

from core.errors import ConfigError, InputError

FORMAT = "rnnlab-model"
FORMAT_VERSION = 1
SUFFIX = ".rnnlab"
DESCRIPTION_NAME = "model.json"
ARRAYS_NAME = "arrays.npz"
SIGNATURE_NAME = "signature"
ENTRY_NAMES = (DESCRIPTION_NAME, ARRAYS_NAME, SIGNATURE_NAME)

MAX_FILE_BYTES = 256 * 2**20
MAX_DESCRIPTION_BYTES = 16 * 2**20  # a vocabulary of 100,000 words fits many times over
MAX_UNPACKED_BYTES = 512 * 2**20
MAX_ARRAYS = 512
MAX_COMPRESSION_RATIO = 100  # numbers barely compress; a zip bomb compresses about 1000 times
RATIO_CHECK_FROM_BYTES = 2**20  # small entries (the JSON, the signature) may compress as they like
DTYPES = ("float32", "float64", "int32", "int64")  # plain numbers only: never object arrays
KIND_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,31}")
ARRAY_NAME_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

NOT_OURS = "Only load model files (.rnnlab) saved by this RNN Lab server."
_SIGNATURE_CONTEXT = b"rnnlab-model-v1"
_SECRET_ENV = "RNNLAB_SECRET"
_STATE_DIR_ENV = "RNNLAB_STATE_DIR"
_MIN_SECRET_CHARS = 16
_TOP_FIELDS = {
    "format": str,
    "format_version": int,
    "kind": str,
    "created": str,
    "rnnlab_version": str,
    "keras_version": str,
    "description": dict,
    "arrays": dict,
}


class ModelFileError(InputError):
    """A model file that RNN Lab refuses: not ours, tampered, too large, or of another kind."""


@dataclasses.dataclass(frozen=True, eq=False)
class ModelFile:
    """A checked model file: the owner rebuilds its network from `description` and `arrays`."""

    kind: str
    description: dict[str, Any]
    arrays: dict[str, np.ndarray]
    created: str  # ISO 8601, UTC
    rnnlab_version: str
    keras_version: str

    def array(self, name: str, dtype: str | None = None,
              shape: tuple[int | None, ...] | None = None) -> np.ndarray:
        """One array, checked against what the owner expects (None in `shape`: any size).

        Raises:
            ModelFileError: the array is missing or of another dtype or shape.
        """
        if name not in self.arrays:
            raise ModelFileError(
                f"This {self.kind} model file has no array {_short(name)}. It was made by "
                "another version of RNN Lab or edited; save the model again."
            )
        array = self.arrays[name]
        fits = shape is None or (len(shape) == array.ndim and all(
            size is None or size == actual for size, actual in zip(shape, array.shape, strict=True)))
        if (dtype is not None and array.dtype != np.dtype(dtype)) or not fits:
            raise ModelFileError(
                f"This {self.kind} model file's array '{name}' is {array.dtype} of shape "
                f"{array.shape}; expected {dtype or 'numbers'} of shape "
                f"{shape if shape is not None else 'any'}. Save the model again."
            )
        return array

    def field(self, name: str, kind: type | tuple[type, ...]) -> Any:
        """One field of the description, of the type the owner expects.

        Raises:
            ModelFileError: the field is missing or of another type.
        """
        value = self.description.get(name)
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wrong_bool = isinstance(value, bool) and bool not in kinds
        if name not in self.description or not isinstance(value, kinds) or wrong_bool:
            expected = " or ".join(k.__name__ for k in kinds)
            raise ModelFileError(
                f"This {self.kind} model file's field '{name}' must be {expected}; received "
                f"{_short(value)}. It was made by another version of RNN Lab; save it again."
            )
        return value


# ---------------------------------------------------------------------------------------------
# The server's secret


def server_secret(state_dir: str | Path | None = None) -> bytes:
    """The key model files are signed with: env RNNLAB_SECRET, else a random one kept on disk.

    The file is `<state dir>/secret` (mode 0600), created on first use; the state dir is
    `state_dir`, else env RNNLAB_STATE_DIR, else ~/.rnnlab. Several server processes started
    at once agree on one secret. Changing the secret invalidates every model file saved before.
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
            "will create a new one (model files saved before will no longer load)."
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


def _signature(secret: bytes | str, description: bytes, arrays: bytes) -> bytes:
    key = secret.encode("utf-8") if isinstance(secret, str) else bytes(secret)
    message = hmac.new(key, _SIGNATURE_CONTEXT, hashlib.sha256)
    for part in (description, arrays):
        # Length prefixes: no byte can move from one part to the other under the same signature.
        message.update(len(part).to_bytes(8, "big"))
        message.update(part)
    return message.hexdigest().encode("ascii")


# ---------------------------------------------------------------------------------------------
# Saving


def save_model_file(
    kind: str,
    description: dict[str, Any],
    arrays: dict[str, np.ndarray],
    path: str | Path | None = None,
    *,
    secret: bytes | str | None = None,
) -> bytes:
    """Write a signed model file; return its bytes (and write them to `path` when given).

    Args:
        kind: the network's owner, e.g. "forecast" or "nextword" (lower case, digits, _).
        description: plain JSON (no NaN): settings, vocabulary, scaler, data summary...
        arrays: name -> numeric array (float32, float64, int32 or int64); names are
            identifiers such as "weight_000".
        secret: the signing key; the server's own (`server_secret()`) when None.

    Raises:
        ValueError: the caller handed over something a model file cannot hold.
    """
    if not isinstance(kind, str) or not KIND_PATTERN.fullmatch(kind):
        raise ValueError(f"kind must be a short lower-case name such as 'forecast'; got {kind!r}")
    if not isinstance(description, dict):
        raise ValueError(f"description must be a dict; got {type(description).__name__}")
    if not isinstance(arrays, dict) or len(arrays) > MAX_ARRAYS:
        raise ValueError(f"arrays must be a dict of at most {MAX_ARRAYS} arrays")
    plain: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not ARRAY_NAME_PATTERN.fullmatch(name):
            raise ValueError(f"array names must be identifiers such as 'weight_0'; got {name!r}")
        array = np.ascontiguousarray(value)
        if array.dtype.name not in DTYPES:
            raise ValueError(f"array {name!r} is {array.dtype}; a model file holds {DTYPES}")
        plain[name] = array
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "created": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "rnnlab_version": _version("rnn-lab"),
        "keras_version": _version("keras"),
        "description": description,
        "arrays": {name: {"dtype": array.dtype.name, "shape": list(array.shape)}
                   for name, array in plain.items()},
    }
    try:
        description_bytes = json.dumps(document, allow_nan=False, ensure_ascii=False).encode()
    except (TypeError, ValueError) as error:
        raise ValueError(f"the description must be plain JSON without NaN: {error}") from error
    if len(description_bytes) > MAX_DESCRIPTION_BYTES:
        raise ValueError(f"model.json would be {len(description_bytes):,} bytes; the limit is "
                         f"{MAX_DESCRIPTION_BYTES:,}")
    arrays_bytes = _npz_bytes(plain)
    signature = _signature(secret if secret is not None else server_secret(),
                           description_bytes, arrays_bytes)
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DESCRIPTION_NAME, description_bytes)
        # Deflated, although numbers barely compress: a stored inner zip would show its own
        # directory to a reader of a truncated file.
        archive.writestr(ARRAYS_NAME, arrays_bytes)
        archive.writestr(SIGNATURE_NAME, signature)
    data = output.getvalue()
    if path is not None:
        path = Path(path)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        temporary.write_bytes(data)
        os.replace(temporary, path)
    return data


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz of stored (uncompressed: weights barely compress) arrays, written without pickle."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, array in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, array, allow_pickle=False)
    return buffer.getvalue()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        if package == "rnn-lab":  # run from a checkout that was not installed
            import tomllib

            pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
            try:
                return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
            except (OSError, KeyError, tomllib.TOMLDecodeError):
                pass
        return "unknown"


# ---------------------------------------------------------------------------------------------
# Loading


def load_model_file(
    source: bytes | bytearray | memoryview | str | Path | IO[bytes],
    kind: str | None = None,
    *,
    secret: bytes | str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
) -> ModelFile:
    """Check a model file step by step and return it; nothing is parsed before the signature
    matches, and nothing is ever executed.

    Args:
        source: the file's bytes, a path on this machine (never an uploaded name), or an open
            binary file (an upload).
        kind: the kind the caller can rebuild; a file of another kind is refused.
        secret: the signing key; the server's own when None.

    Raises:
        ModelFileError: too large, not an RNN Lab model file (a .keras, .h5, SavedModel,
            pickle, a truncated or tampered zip, a zip bomb), signed by another server, or of
            another kind.
    """
    data = _read_source(source, max_bytes)
    if len(data) > max_bytes:
        raise ModelFileError(
            f"This model file is {_mebibytes(len(data))}; the limit is {_mebibytes(max_bytes)}. "
            f"{NOT_OURS}"
        )
    entries = _read_entries(data, max_bytes)
    expected = _signature(secret if secret is not None else server_secret(),
                          entries[DESCRIPTION_NAME], entries[ARRAYS_NAME])
    if not hmac.compare_digest(expected, entries[SIGNATURE_NAME].strip()):
        raise ModelFileError(
            "This file was not made by this RNN Lab server (its signature does not match). "
            "A model file from another server, or one that was edited, is refused: train the "
            "model here, or ask for the settings file and train it again."
        )
    document = _parse_document(entries[DESCRIPTION_NAME])
    if kind is not None and document["kind"] != kind:
        raise ModelFileError(
            f"This is a {document['kind']} model file; this needs a {kind} model file. "
            "Load it on the page that made it."
        )
    arrays = _read_arrays(entries[ARRAYS_NAME], document["arrays"])
    return ModelFile(
        kind=document["kind"],
        description=document["description"],
        arrays=arrays,
        created=document["created"],
        rnnlab_version=document["rnnlab_version"],
        keras_version=document["keras_version"],
    )


def _read_source(source: Any, max_bytes: int) -> bytes:
    """The bytes of `source`, reading at most `max_bytes` + 1 of them."""
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    if isinstance(source, str | Path):
        path = Path(source)
        if path.is_dir():
            if (path / "saved_model.pb").exists():
                raise ModelFileError(
                    f"{str(path)!r} is a TensorFlow SavedModel folder. RNN Lab never loads "
                    f"those, because a SavedModel can run code on the server. {NOT_OURS}"
                )
            raise ModelFileError(
                f"{str(path)!r} is a folder; give the path of a model file (model{SUFFIX})."
            )
        if not path.is_file():
            raise ModelFileError(f"There is no model file at {str(path)!r}. Check the path.")
        with path.open("rb") as handle:
            return handle.read(max_bytes + 1)
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(max_bytes + 1)
        if not isinstance(data, bytes | bytearray):
            raise ModelFileError("A model file must be opened in binary mode.")
        return bytes(data)
    raise ModelFileError(
        f"A model file must be bytes, a path or an open file; received {type(source).__name__}."
    )


def _mebibytes(size: int) -> str:
    return f"{size / 2**20:.1f} MB"


def _short(value: Any, limit: int = 60) -> str:
    """repr, cut short: a message must not echo a megabyte of someone's file."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


_KERAS_NAMES = {"metadata.json", "model.weights.h5", "saved_model.pb", "keras_metadata.pb",
                "variables.index"}


def _refuse_foreign_formats(data: bytes) -> None:
    """Name the formats people will try, by their content, so the message says why."""
    if data.startswith(b"\x89HDF\r\n\x1a\n"):
        raise ModelFileError(
            "This is a Keras .h5 (HDF5) file; RNN Lab only loads its own model files (.rnnlab), "
            "because a Keras file can run code on the server. Save the model from RNN Lab's "
            "page or command line."
        )
    if data[:1] == b"\x80" and data[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        raise ModelFileError(
            "This is a Python pickle file. RNN Lab never loads pickles, because unpickling runs "
            f"code. {NOT_OURS}"
        )
    if data[:6] == b"\x93NUMPY":
        raise ModelFileError(
            f"This is a bare NumPy array (.npy), not a model file. {NOT_OURS}"
        )


def _read_entries(data: bytes, max_bytes: int) -> dict[str, bytes]:
    """The three entries' bytes, once the zip's names, sizes and ratios look like ours."""
    _refuse_foreign_formats(data)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise ModelFileError(
            "This file is not an RNN Lab model file: it is not a complete zip archive (it may be "
            f"truncated: download it again). {NOT_OURS}"
        ) from error
    names = [info.filename for info in infos]
    if _KERAS_NAMES & {name.rsplit("/", 1)[-1] for name in names}:
        raise ModelFileError(
            "This is a Keras .keras file (or a zipped SavedModel); RNN Lab only loads its own "
            "model files (.rnnlab), because a Keras file can run code on the server (a Lambda "
            "layer, for one). Save the model from RNN Lab's page or command line."
        )
    if len(names) != len(ENTRY_NAMES) or sorted(names) != sorted(ENTRY_NAMES):
        raise ModelFileError(
            f"This file is not an RNN Lab model file: it holds {_short(names, 120)} instead of "
            f"exactly {', '.join(ENTRY_NAMES)}. {NOT_OURS}"
        )
    total_limit = min(4 * max_bytes, MAX_UNPACKED_BYTES)
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise ModelFileError(f"This model file is encrypted, so it is not ours. {NOT_OURS}")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ModelFileError(f"This model file uses an unexpected compression. {NOT_OURS}")
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_CHECK_FROM_BYTES and ratio > MAX_COMPRESSION_RATIO:
            raise ModelFileError(
                f"This model file unpacks {ratio:.0f} times larger than it is (a 'zip bomb'), "
                f"so it was refused. {NOT_OURS}"
            )
    if total > total_limit:
        raise ModelFileError(
            f"This model file would unpack to {_mebibytes(total)}; the limit is "
            f"{_mebibytes(total_limit)}. {NOT_OURS}"
        )
    limits = {DESCRIPTION_NAME: MAX_DESCRIPTION_BYTES, ARRAYS_NAME: total_limit,
              SIGNATURE_NAME: 256}
    entries = {}
    for info in infos:
        if info.file_size > limits[info.filename]:
            raise ModelFileError(
                f"This model file's part {info.filename} is {_mebibytes(info.file_size)}, more "
                f"than RNN Lab ever writes. {NOT_OURS}"
            )
        try:
            with archive.open(info) as member:
                # At most what the header declares (+1 to catch a header that lies).
                content = member.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error) as error:
            raise ModelFileError(
                f"This model file is damaged (a part of it does not unpack). Download it again. "
                f"{NOT_OURS}"
            ) from error
        if len(content) != info.file_size:
            raise ModelFileError(
                f"This model file's part {info.filename} is not the size it claims. {NOT_OURS}"
            )
        entries[info.filename] = content
    return entries


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice")
    return result


def _parse_document(description_bytes: bytes) -> dict[str, Any]:
    """model.json, with exactly our top-level fields of the right types."""
    try:
        document = json.loads(description_bytes.decode("utf-8"), parse_constant=_reject_constant,
                              object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError) as error:
        raise ModelFileError(
            f"This model file's model.json is not valid JSON ({_short(str(error), 80)}). "
            f"{NOT_OURS}"
        ) from error
    if not isinstance(document, dict):
        raise ModelFileError(f"This model file's model.json is not a JSON object. {NOT_OURS}")
    unknown = sorted(set(document) - set(_TOP_FIELDS))
    missing = sorted(set(_TOP_FIELDS) - set(document))
    if unknown or missing:
        raise ModelFileError(
            "This model file's model.json does not have RNN Lab's fields "
            f"(unknown: {_short(unknown)}, missing: {_short(missing)}). {NOT_OURS}"
        )
    for name, kind in _TOP_FIELDS.items():
        value = document[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ModelFileError(
                f"This model file's field '{name}' must be {kind.__name__}; received "
                f"{_short(value)}. {NOT_OURS}"
            )
    if document["format"] != FORMAT or document["format_version"] != FORMAT_VERSION:
        raise ModelFileError(
            f"This model file has format {_short(document['format'])} version "
            f"{document['format_version']}; this RNN Lab reads {FORMAT} version {FORMAT_VERSION}. "
            "Save the model again with this version."
        )
    if not KIND_PATTERN.fullmatch(document["kind"]):
        raise ModelFileError(f"This model file's kind {_short(document['kind'])} is not a "
                             f"kind RNN Lab writes. {NOT_OURS}")
    if len(document["arrays"]) > MAX_ARRAYS:
        raise ModelFileError(f"This model file lists {len(document['arrays'])} arrays; RNN Lab "
                             f"writes at most {MAX_ARRAYS}. {NOT_OURS}")
    for name, spec in document["arrays"].items():
        if not ARRAY_NAME_PATTERN.fullmatch(name):
            raise ModelFileError(f"This model file lists an array named {_short(name)}. {NOT_OURS}")
        shape = spec.get("shape") if isinstance(spec, dict) else None
        if (not isinstance(spec, dict) or set(spec) != {"dtype", "shape"}
                or spec["dtype"] not in DTYPES or not isinstance(shape, list) or len(shape) > 8
                or not all(isinstance(size, int) and not isinstance(size, bool) and size >= 0
                           for size in shape)):
            raise ModelFileError(
                f"This model file describes array '{name}' as {_short(spec)}; RNN Lab writes "
                f"{{'dtype': one of {', '.join(DTYPES)}, 'shape': [sizes]}}. {NOT_OURS}"
            )
    return document


def _read_arrays(arrays_bytes: bytes, specs: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    """Plain numeric arrays, exactly the signed list's names, dtypes and shapes; never a pickle."""
    try:
        inner = zipfile.ZipFile(io.BytesIO(arrays_bytes))
        infos = inner.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise ModelFileError(f"This model file's arrays are not readable. {NOT_OURS}") from error
    names = [info.filename for info in infos]
    if sorted(names) != sorted(f"{name}.npy" for name in specs):
        raise ModelFileError(
            f"This model file holds the arrays {_short(names, 120)}; its description lists "
            f"{_short(list(specs), 120)}. {NOT_OURS}"
        )
    for info in infos:
        spec = specs[info.filename.removesuffix(".npy")]
        expected = np.dtype(spec["dtype"]).itemsize * math.prod(spec["shape"])
        # A stored .npy is its data plus a header of a few hundred bytes.
        if info.compress_type != zipfile.ZIP_STORED or info.file_size > expected + 4096:
            raise ModelFileError(
                f"This model file's array {info.filename} is not stored the way RNN Lab stores "
                f"arrays. {NOT_OURS}"
            )
    arrays: dict[str, np.ndarray] = {}
    try:
        with np.load(io.BytesIO(arrays_bytes), allow_pickle=False) as archive:
            for name, spec in specs.items():
                array = archive[name]
                if array.dtype != np.dtype(spec["dtype"]) or list(array.shape) != spec["shape"]:
                    raise ModelFileError(
                        f"This model file's array '{name}' is {array.dtype} of shape "
                        f"{array.shape}; its description says {spec['dtype']} of shape "
                        f"{tuple(spec['shape'])}. {NOT_OURS}"
                    )
                arrays[name] = array
    except ModelFileError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as error:
        # allow_pickle=False raises ValueError for object arrays: a pickle never runs.
        raise ModelFileError(
            f"This model file's arrays are not plain numbers ({_short(str(error), 80)}). "
            f"{NOT_OURS}"
        ) from error
    return arrays
