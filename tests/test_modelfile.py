"""RNN Lab model files: saved arrays come back identical; crafted malicious files are refused.

Every malicious file is built here, at test time. Those that must get past the signature to
reach a later check are signed with the right secret, as an insider who knows it could.
"""

import io
import json
import os
import pickle
import stat
import warnings
import zipfile

import numpy as np
import pytest

from core import modelfile
from core.errors import ConfigError, InputError
from core.modelfile import (
    ModelFile,
    ModelFileError,
    load_model_file,
    save_model_file,
    server_secret,
)

SECRET = b"a-test-secret-that-is-long-enough"
DESCRIPTION = {"config": {"cell": "gru", "window": 6}, "scaler": {"mean": 1.5, "scale": 2.0},
               "trained_on": "air_passengers.csv"}


def _arrays(seed=0):
    generator = np.random.default_rng(seed)
    return {
        "weight_000": generator.normal(size=(1, 12)).astype("float32"),
        "weight_001": generator.normal(size=(4, 12)).astype("float32"),
        "bias": generator.normal(size=(12,)).astype("float64"),
        "ids": np.arange(7, dtype="int32"),
        "counts": np.arange(3, dtype="int64"),
    }


def _small_file(secret=SECRET, kind="forecast") -> bytes:
    return save_model_file(kind, DESCRIPTION, _arrays(), secret=secret)


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return output.getvalue()


def _signed(description: bytes, arrays: bytes, secret=SECRET) -> bytes:
    """A model file around any model.json and arrays.npz, signed as the server would sign it."""
    signature = modelfile._signature(secret, description, arrays)
    return _zip([("model.json", description), ("arrays.npz", arrays), ("signature", signature)])


def _with_document(change) -> bytes:
    """The small file with its model.json edited by `change(document)`, re-signed."""
    entries = _entries(_small_file())
    document = json.loads(entries["model.json"])
    change(document)
    return _signed(json.dumps(document).encode(), entries["arrays.npz"])


def _npz(arrays: dict, compressed=False) -> bytes:
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def _refused(data, *words: str, **options) -> str:
    with pytest.raises(ModelFileError) as caught:
        load_model_file(data, secret=SECRET, **options)
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# ---------------------------------------------------------------------------------------------
# Round trips


def test_a_saved_file_comes_back_with_identical_arrays_and_description():
    loaded = load_model_file(_small_file(), kind="forecast", secret=SECRET)
    assert isinstance(loaded, ModelFile)
    assert loaded.kind == "forecast"
    assert loaded.description == DESCRIPTION
    assert set(loaded.arrays) == set(_arrays())
    for name, array in _arrays().items():
        assert loaded.arrays[name].dtype == array.dtype
        np.testing.assert_array_equal(loaded.arrays[name], array)
    assert loaded.created.endswith("Z") and loaded.created[:2] == "20"
    assert loaded.rnnlab_version not in ("", "unknown")
    import keras

    assert loaded.keras_version == keras.__version__


def test_a_file_loads_from_bytes_a_path_or_an_open_file(tmp_path):
    path = tmp_path / "model.rnnlab"
    data = save_model_file("nextword", {"a": [1, 2]}, {"w": np.ones(3, "float32")}, path,
                           secret=SECRET)
    assert path.read_bytes() == data
    assert [p.name for p in tmp_path.iterdir()] == ["model.rnnlab"]  # no temporary left
    for source in (data, bytearray(data), path, str(path), io.BytesIO(data)):
        assert load_model_file(source, "nextword", secret=SECRET).description == {"a": [1, 2]}


def test_keras_weights_round_trip_to_identical_predictions():
    import keras

    model = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(4), keras.layers.Dense(3)])
    generator = np.random.default_rng(1)
    model.set_weights([generator.normal(size=w.shape).astype("float32")
                       for w in model.get_weights()])
    arrays = {f"weight_{i:03d}": w for i, w in enumerate(model.get_weights())}
    loaded = load_model_file(save_model_file("forecast", {}, arrays, secret=SECRET),
                             secret=SECRET)
    rebuilt = keras.Sequential([keras.Input((5, 2)), keras.layers.LSTM(4), keras.layers.Dense(3)])
    rebuilt.set_weights([loaded.array(f"weight_{i:03d}", "float32") for i in range(len(arrays))])
    inputs = generator.normal(size=(3, 5, 2)).astype("float32")
    np.testing.assert_allclose(np.asarray(rebuilt(inputs)), np.asarray(model(inputs)), atol=1e-6)


def test_the_owner_checks_arrays_and_fields_with_plain_messages():
    loaded = load_model_file(_small_file(), secret=SECRET)
    assert loaded.array("weight_001", "float32", (4, None)).shape == (4, 12)
    with pytest.raises(ModelFileError, match="no array 'missing'"):
        loaded.array("missing")
    with pytest.raises(ModelFileError, match="float32 of shape"):
        loaded.array("bias", "float32")
    with pytest.raises(ModelFileError, match=r"shape \(3, 12\)"):
        loaded.array("weight_001", shape=(3, 12))
    assert loaded.field("config", dict)["cell"] == "gru"
    with pytest.raises(ModelFileError, match="'trained_on' must be dict"):
        loaded.field("trained_on", dict)
    with pytest.raises(ModelFileError, match="'absent' must be int"):
        loaded.field("absent", int)


@pytest.mark.parametrize(
    "kind, description, arrays, words",
    [
        ("Forecast", {}, {}, "kind"),
        ("../x", {}, {}, "kind"),
        ("forecast", [], {}, "description must be a dict"),
        ("forecast", {"mean": float("nan")}, {}, "NaN"),
        ("forecast", {"f": object()}, {}, "plain JSON"),
        ("forecast", {}, {"../w": np.zeros(2)}, "identifiers"),
        ("forecast", {}, {"w.npy": np.zeros(2)}, "identifiers"),
        ("forecast", {}, {"w": np.array([object()])}, "object"),
        ("forecast", {}, {"w": np.array(["text"])}, "<U4"),
        ("forecast", {}, {"w": np.zeros(2, "float16")}, "float16"),
    ],
)
def test_save_refuses_what_a_model_file_cannot_hold(kind, description, arrays, words):
    with pytest.raises(ValueError, match=words):
        save_model_file(kind, description, arrays, secret=SECRET)


def test_a_file_of_another_kind_is_refused_with_where_to_load_it():
    _refused(_small_file(kind="nextword"), "nextword model file", "needs a forecast model file",
             kind="forecast")


# ---------------------------------------------------------------------------------------------
# Signature


def test_a_tampered_description_is_refused_by_its_signature():
    entries = _entries(_small_file())
    description = entries["model.json"].replace(b'"window": 6', b'"window": 7')
    assert description != entries["model.json"]
    data = _zip([("model.json", description), ("arrays.npz", entries["arrays.npz"]),
                 ("signature", entries["signature"])])
    _refused(data, "not made by this RNN Lab server", "signature does not match")


def test_tampered_arrays_are_refused_by_their_signature():
    entries = _entries(_small_file())
    arrays = bytearray(entries["arrays.npz"])
    arrays[200] ^= 0xFF
    data = _zip([("model.json", entries["model.json"]), ("arrays.npz", bytes(arrays)),
                 ("signature", entries["signature"])])
    _refused(data, "signature does not match")


def test_a_file_signed_with_another_secret_is_refused():
    _refused(_small_file(secret=b"the-secret-of-another-server"), "signature does not match")


def test_a_forged_signature_is_refused():
    entries = _entries(_small_file())
    genuine = entries["signature"]
    one_digit_off = genuine[:-1] + (b"1" if genuine[-1:] != b"1" else b"2")
    for forged in (b"0" * 64, b"", one_digit_off, genuine.upper()):
        data = _zip([("model.json", entries["model.json"]), ("arrays.npz", entries["arrays.npz"]),
                     ("signature", forged)])
        _refused(data, "signature does not match")


def test_moving_bytes_between_description_and_arrays_breaks_the_signature():
    entries = _entries(_small_file())
    joined = entries["model.json"] + entries["arrays.npz"]
    data = _zip([("model.json", joined[:-1]), ("arrays.npz", joined[-1:]),
                 ("signature", entries["signature"])])
    _refused(data, "signature does not match")


# ---------------------------------------------------------------------------------------------
# model.json fields (signed with the right secret, so that the checks themselves are tested)


@pytest.mark.parametrize(
    "change, words",
    [
        (lambda d: d.update(class_name="Functional"), ["unknown", "class_name"]),
        (lambda d: d.pop("created"), ["missing", "created"]),
        (lambda d: d.update(kind=["forecast"]), ["'kind' must be str"]),
        (lambda d: d.update(kind="../../etc"), ["kind"]),
        (lambda d: d.update(format_version=True), ["format_version' must be int"]),
        (lambda d: d.update(format_version=2), ["version 2"]),
        (lambda d: d.update(format="keras"), ["format 'keras'"]),
        (lambda d: d.update(description=[1, 2]), ["'description' must be dict"]),
        (lambda d: d.update(keras_version=3), ["'keras_version' must be str"]),
        (lambda d: d["arrays"].update({"../evil": {"dtype": "float32", "shape": [1]}}),
         ["array named"]),
        (lambda d: d["arrays"]["bias"].update(dtype="object"), ["describes array 'bias'"]),
        (lambda d: d["arrays"]["bias"].update(shape=[-12]), ["describes array 'bias'"]),
        (lambda d: d["arrays"]["bias"].update(shape=12), ["describes array 'bias'"]),
        (lambda d: d["arrays"]["bias"].update(code="os.system"), ["describes array 'bias'"]),
        (lambda d: d["arrays"]["bias"].update(shape=[6, 2]), ["'bias' is float64 of shape (12,)"]),
        (lambda d: d["arrays"]["bias"].update(dtype="float32"), ["'bias' is float64"]),
        (lambda d: d["arrays"].pop("bias"), ["its description lists"]),
    ],
    ids=["top-field", "missing-field", "kind-type", "kind-path", "version-bool", "version",
         "format", "description-list", "keras-version-type", "array-name", "array-object-dtype",
         "array-negative-shape", "array-shape-type", "array-extra-field", "array-wrong-shape",
         "array-wrong-dtype", "array-unlisted"],
)
def test_a_signed_description_outside_the_format_is_refused(change, words):
    _refused(_with_document(change), *words)


def test_nan_duplicate_keys_deep_nesting_or_a_non_object_are_refused():
    entries = _entries(_small_file())
    arrays = entries["arrays.npz"]
    _refused(_signed(entries["model.json"].replace(b'"mean": 1.5', b'"mean": NaN'), arrays),
             "not valid JSON")
    _refused(_signed(entries["model.json"].replace(b'"mean": 1.5', b'"mean": 1.5, "mean": 2'),
                     arrays), "not valid JSON")
    _refused(_signed(b"[" * 100_000, arrays), "not valid JSON")
    _refused(_signed(b"[1, 2]", arrays), "not a JSON object")
    _refused(_signed(b"\xff\xfe", arrays), "not valid JSON")


# ---------------------------------------------------------------------------------------------
# Arrays


class _Payload:
    """Unpickling this calls `_ran`: the test sees whether any pickle ever ran."""

    def __reduce__(self):
        return (_ran, ())


_RAN: list[str] = []


def _ran():
    _RAN.append("pickle ran")
    return 0


def test_an_object_array_holding_a_pickle_is_refused_without_running():
    def change(document):
        document["arrays"] = {"w": {"dtype": "float32", "shape": [1]}}

    entries = _entries(_with_document(change))
    objects = np.empty(1, dtype=object)
    objects[0] = _Payload()
    buffer = io.BytesIO()
    np.save(buffer, objects, allow_pickle=True)
    inner = _zip([("w.npy", buffer.getvalue())], compression=zipfile.ZIP_STORED)
    _refused(_signed(entries["model.json"], inner), "not plain numbers")
    assert _RAN == []


def test_arrays_of_the_wrong_shape_dtype_or_names_are_refused():
    description = _entries(_small_file())["model.json"]
    right = _arrays()
    for arrays, words in [
        ({**right, "weight_001": right["weight_001"].T.copy()}, ["shape (12, 4)"]),
        ({**right, "ids": right["ids"].astype("float32")}, ["'ids' is float32"]),
        ({name: a for name, a in right.items() if name != "ids"}, ["its description lists"]),
        ({**right, "extra": np.zeros(1)}, ["its description lists"]),
    ]:
        _refused(_signed(description, _npz(arrays)), *words)


def test_compressed_or_oversized_array_entries_are_refused():
    description = _entries(_small_file())["model.json"]
    _refused(_signed(description, _npz(_arrays(), compressed=True)), "not stored the way")
    big = {**_arrays(), "bias": np.zeros(10_000, "float64")}
    _refused(_signed(description, _npz(big)), "not stored the way")
    _refused(_signed(description, b"PK\x03\x04 not a zip"), "arrays are not readable")


# ---------------------------------------------------------------------------------------------
# Archive shape, size and foreign formats (refused before the signature is even checked)


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    entries = _entries(_small_file())
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("model.json", entries["model.json"])
        with archive.open("arrays.npz", "w") as member:
            for _ in range(64):
                member.write(bytes(2**20))  # 64 MiB of zeros, about 64 KB compressed
        archive.writestr("signature", entries["signature"])
    data = bomb.getvalue()
    assert len(data) < 200_000
    _refused(data, "zip bomb")


def test_too_much_unpacked_data_is_refused_even_at_a_modest_ratio():
    entries = _entries(_small_file())
    data = _zip([("model.json", entries["model.json"]), ("arrays.npz", bytes(300_000)),
                 ("signature", entries["signature"])])
    _refused(data, "would unpack to", max_bytes=50_000)


def test_a_file_above_the_size_limit_is_refused(tmp_path):
    data = _small_file()
    _refused(data, "the limit is", max_bytes=len(data) - 1)
    path = tmp_path / "model.rnnlab"
    path.write_bytes(data)
    _refused(path, "the limit is", max_bytes=len(data) - 1)
    _refused(io.BytesIO(data), "the limit is", max_bytes=len(data) - 1)
    assert load_model_file(data, secret=SECRET, max_bytes=len(data)).kind == "forecast"


@pytest.mark.parametrize(
    "extra_name",
    ["../model.json", "/etc/passwd", "evil.py", "model.json", "sub/arrays.npz", "..\\signature"],
)
def test_extra_or_path_traversal_entries_are_refused(extra_name):
    entries = _entries(_small_file())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about a duplicate name
        data = _zip([*entries.items(), (extra_name, b"print('hi')")])
    assert extra_name in zipfile.ZipFile(io.BytesIO(data)).namelist()
    _refused(data, "instead of exactly model.json, arrays.npz, signature")


@pytest.mark.parametrize("renamed", ["../model.json", "/model.json", "model/model.json"])
def test_entries_with_a_path_instead_of_the_bare_name_are_refused(renamed):
    entries = _entries(_small_file())
    data = _zip([(renamed, entries["model.json"]), ("arrays.npz", entries["arrays.npz"]),
                 ("signature", entries["signature"])])
    _refused(data, "instead of exactly")


def _lambda_model(keras, ran: list):
    return keras.Sequential([
        keras.Input((5, 1)),
        keras.layers.Lambda(lambda x: (ran.append("lambda ran"), x)[1]),
        keras.layers.SimpleRNN(3),
        keras.layers.Dense(1),
    ])


def test_a_keras_file_with_a_lambda_layer_is_refused_by_its_content(tmp_path):
    import keras

    ran: list[str] = []
    path = tmp_path / "model.keras"
    _lambda_model(keras, ran).save(path)
    ran.clear()
    renamed = tmp_path / "innocent.rnnlab"  # the extension does not matter: the content does
    renamed.write_bytes(path.read_bytes())
    for source in (path.read_bytes(), renamed):
        message = _refused(source, "This is a Keras .keras file",
                           "RNN Lab only loads its own model files")
        assert "Lambda" in message
    assert ran == []


def test_an_h5_model_is_refused(tmp_path):
    import keras

    path = tmp_path / "model.h5"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras calls .h5 a legacy format
        _lambda_model(keras, []).save(path)
    _refused(path.read_bytes(), ".h5", "only loads its own model files")


def test_a_savedmodel_folder_or_zip_is_refused(tmp_path):
    folder = tmp_path / "exported"
    folder.mkdir()
    (folder / "saved_model.pb").write_bytes(b"\x08\x01")
    _refused(folder, "SavedModel", "never loads")
    zipped = _zip([("exported/saved_model.pb", b"\x08\x01"), ("exported/variables/x", b"")])
    _refused(zipped, "SavedModel")
    _refused(tmp_path, "is a folder")
    _refused(tmp_path / "absent.rnnlab", "There is no model file")


def test_a_pickle_or_a_bare_npy_is_refused():
    _refused(pickle.dumps(_Payload()), "pickle")
    assert _RAN == []
    buffer = io.BytesIO()
    np.save(buffer, np.zeros(3))
    _refused(buffer.getvalue(), "NumPy")


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_file_is_refused(keep):
    data = _small_file()
    _refused(data[: int(len(data) * keep)], "not a complete zip archive", "download it again")


@pytest.mark.parametrize("size", [0, 1, 22, 1000, 100_000])
def test_random_bytes_are_refused(size):
    data = np.random.default_rng(size).integers(0, 256, size=size, dtype=np.uint8).tobytes()
    _refused(data, "not an RNN Lab model file")


def test_a_zip_whose_entry_lies_about_its_size_is_refused():
    data = bytearray(_small_file())
    # Shrink the declared size of the signature in its central-directory record.
    start = data.rfind(b"PK\x01\x02")
    data[start + 24 : start + 28] = (10).to_bytes(4, "little")
    _refused(bytes(data), "Only load model files")


@pytest.mark.parametrize("source", [42, None, ["model.json"]])
def test_a_source_of_another_type_is_refused(source):
    _refused(source, "must be bytes, a path or an open file")


def test_every_refusal_is_an_input_error():
    assert issubclass(ModelFileError, InputError)


# ---------------------------------------------------------------------------------------------
# The server's secret


def test_the_secret_is_created_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    state = tmp_path / "state"
    first = server_secret(state)
    assert len(first) >= 32
    assert stat.S_IMODE(os.stat(state / "secret").st_mode) == 0o600
    assert server_secret(state) == first
    assert [path.name for path in state.iterdir()] == ["secret"]
    assert server_secret(tmp_path / "other") != first


def test_the_state_dir_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    monkeypatch.setenv("RNNLAB_STATE_DIR", str(tmp_path))
    assert (tmp_path / "secret").exists() is False
    secret = server_secret()
    assert (tmp_path / "secret").read_bytes().strip() == secret


def test_a_loose_secret_file_is_made_private(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    server_secret(tmp_path)
    os.chmod(tmp_path / "secret", 0o644)
    server_secret(tmp_path)
    assert stat.S_IMODE(os.stat(tmp_path / "secret").st_mode) == 0o600


def test_the_environment_secret_wins_and_must_be_long(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_SECRET", "x" * 40)
    assert server_secret(tmp_path) == b"x" * 40
    assert not (tmp_path / "secret").exists()
    monkeypatch.setenv("RNNLAB_SECRET", "short")
    with pytest.raises(ConfigError, match="at least 16 characters"):
        server_secret(tmp_path)


def test_a_file_round_trips_under_the_servers_own_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    monkeypatch.setenv("RNNLAB_STATE_DIR", str(tmp_path))
    data = save_model_file("forecast", {"window": 6}, {"w": np.ones(2, "float32")})
    assert load_model_file(data).description == {"window": 6}
    monkeypatch.setenv("RNNLAB_STATE_DIR", str(tmp_path / "another-server"))
    with pytest.raises(ModelFileError, match="signature"):
        load_model_file(data)
