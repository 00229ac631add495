"""Model bundles: exported models come back identical; crafted malicious files are refused.

Every malicious file is built here, at test time. Those that must get past the signature to
reach a later check are signed with the right secret, as an insider who knows it could.
"""

import io
import json
import os
import stat
import warnings
import zipfile

import numpy as np
import pytest

from core import bundle as bundles
from core.bundle import build_model, export_bundle, export_model, load_bundle, server_secret
from core.config import ForecastConfig, NextWordConfig
from core.errors import ConfigError, InputError

SECRET = b"a-test-secret-that-is-long-enough"
FORECAST = ForecastConfig(cell="lstm", window=6, horizon=3).to_dict()
NEXTWORD = NextWordConfig(context=4).to_dict()
SMALL_ARCHITECTURE = {
    "input_shape": [6, 1],
    "layers": [{"type": "gru", "units": 4}, {"type": "dense", "units": 3}],
}


def _random_weights(shapes, seed=0):
    generator = np.random.default_rng(seed)
    return [generator.normal(size=shape).astype("float32") for shape in shapes]


def _small_bundle(secret=SECRET) -> bytes:
    shapes = bundles.weight_shapes(bundles.validate_architecture(SMALL_ARCHITECTURE))
    extra = {"scaler": {"mean": 1.5, "scale": 2.0}}
    return export_bundle(
        "forecast", FORECAST, SMALL_ARCHITECTURE, _random_weights(shapes), extra, secret
    )


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(entries, compression=zipfile.ZIP_DEFLATED) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", compression=compression) as archive:
        for name, content in entries:
            archive.writestr(name, content)
    return output.getvalue()


def _signed(config_bytes: bytes, weights_bytes: bytes, secret=SECRET) -> bytes:
    """A bundle around any config.json and weights.npz, signed as the server would sign it."""
    signature = bundles._signature(secret, config_bytes, weights_bytes)
    return _zip(
        [("config.json", config_bytes), ("weights.npz", weights_bytes), ("signature", signature)]
    )


def _with_document(change) -> bytes:
    """The small bundle with its config.json edited by `change(document)`, re-signed."""
    entries = _entries(_small_bundle())
    document = json.loads(entries["config.json"])
    change(document)
    return _signed(json.dumps(document).encode(), entries["weights.npz"])


def _refused(data: bytes, *words: str, **options) -> str:
    with pytest.raises(InputError) as caught:
        load_bundle(data, SECRET, **options)
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# ---------------------------------------------------------------------------------------------
# Round trips


def _lstm_model(keras):
    return keras.Sequential(
        [
            keras.Input((6, 2)),
            keras.layers.LSTM(5, return_sequences=True),
            keras.layers.Dropout(0.1),
            keras.layers.LSTM(4),
            keras.layers.Dense(3),
        ]
    )


def _gru_model(keras):
    return keras.Sequential(
        [
            keras.Input((None, 1)),
            keras.layers.GRU(4, dropout=0.1),
            keras.layers.Dense(2),
        ]
    )


def _simple_rnn_model(keras):
    return keras.Sequential(
        [
            keras.Input((5, 1)),
            keras.layers.SimpleRNN(3, activation="relu"),
            keras.layers.Dense(1),
        ]
    )


def _embedding_model(keras):
    return keras.Sequential(
        [
            keras.Input((4,), dtype="int32"),
            keras.layers.Embedding(20, 4),
            keras.layers.LSTM(6),
            keras.layers.Dense(20, activation="softmax"),
        ]
    )


@pytest.mark.parametrize(
    "make_model, kind, config",
    [
        (_lstm_model, "forecast", FORECAST),
        (_gru_model, "forecast", FORECAST),
        (_simple_rnn_model, "forecast", FORECAST),
        (_embedding_model, "nextword", NEXTWORD),
    ],
    ids=["lstm", "gru", "simple_rnn", "embedding"],
)
def test_an_exported_model_comes_back_with_identical_predictions(make_model, kind, config):
    import keras

    model = make_model(keras)
    # Non-zero biases everywhere: a weight set in the wrong place would change the predictions.
    model.set_weights(_random_weights([w.shape for w in model.get_weights()], seed=1))
    extra = {"vocabulary": ["<unk>", "the", "cat"], "scale": 0.5}
    data = export_model(kind, config, model, extra, SECRET)

    bundle = load_bundle(data, SECRET)
    rebuilt = build_model(bundle)

    shape = (3, *model.inputs[0].shape[1:])
    if shape[1] is None:
        shape = (3, 7, *shape[2:])
    if kind == "nextword":
        inputs = np.random.default_rng(2).integers(0, 20, size=shape).astype("int32")
    else:
        inputs = np.random.default_rng(2).normal(size=shape).astype("float32")
    np.testing.assert_array_equal(np.asarray(rebuilt(inputs)), np.asarray(model(inputs)))
    assert bundle.kind == kind
    assert bundle.config.to_dict() == config
    assert bundle.extra == extra
    assert bundle.keras_version == keras.__version__
    assert [type(layer) for layer in rebuilt.layers] == [type(layer) for layer in model.layers]


def test_the_architecture_fields_are_our_own_and_complete():
    import keras

    architecture = bundles.architecture_of(_embedding_model(keras))
    assert architecture == {
        "input_shape": [4],
        "input_dtype": "int32",
        "layers": [
            {"type": "embedding", "input_dim": 20, "output_dim": 4, "mask_zero": False},
            {
                "type": "lstm",
                "units": 6,
                "activation": "tanh",
                "dropout": 0.0,
                "recurrent_dropout": 0.0,
                "return_sequences": False,
                "unroll": False,
                "recurrent_activation": "sigmoid",
            },
            {"type": "dense", "units": 20, "activation": "softmax"},
        ],
    }


def test_a_model_the_bundle_cannot_describe_is_not_exported():
    import keras

    model = keras.Sequential(
        [
            keras.Input((5, 1)),
            keras.layers.LSTM(3, go_backwards=True),
            keras.layers.Dense(1),
        ]
    )
    with pytest.raises(ValueError, match="go_backwards"):
        bundles.architecture_of(model)
    conv = keras.Sequential(
        [
            keras.Input((5, 1)),
            keras.layers.Conv1D(2, 3),
            keras.layers.LSTM(3),
            keras.layers.Dense(1),
        ]
    )
    with pytest.raises(ValueError, match="Conv1D"):
        bundles.architecture_of(conv)


def test_export_refuses_weights_that_do_not_fit_and_nan_in_extra():
    with pytest.raises(ValueError, match="shapes"):
        export_bundle("forecast", FORECAST, SMALL_ARCHITECTURE, [np.zeros((2, 2))], {}, SECRET)
    shapes = bundles.weight_shapes(bundles.validate_architecture(SMALL_ARCHITECTURE))
    with pytest.raises(ValueError, match="NaN"):
        export_bundle(
            "forecast",
            FORECAST,
            SMALL_ARCHITECTURE,
            _random_weights(shapes),
            {"mean": float("nan")},
            SECRET,
        )
    with pytest.raises(ValueError, match="kind"):
        export_bundle("pickle", FORECAST, SMALL_ARCHITECTURE, _random_weights(shapes), {}, SECRET)


def test_a_small_bundle_loads_without_keras_and_keeps_its_extra_state():
    bundle = load_bundle(_small_bundle(), SECRET)
    assert bundle.kind == "forecast"
    assert isinstance(bundle.config, ForecastConfig)
    assert bundle.config.window == 6
    assert bundle.extra == {"scaler": {"mean": 1.5, "scale": 2.0}}
    assert [w.shape for w in bundle.weights] == [(1, 12), (4, 12), (2, 12), (4, 3), (3,)]
    assert all(w.dtype == np.float32 for w in bundle.weights)


# ---------------------------------------------------------------------------------------------
# Signature


def test_a_tampered_config_is_refused_by_its_signature():
    entries = _entries(_small_bundle())
    config = entries["config.json"].replace(b'"units": 4', b'"units": 5')
    assert config != entries["config.json"]
    data = _zip(
        [
            ("config.json", config),
            ("weights.npz", entries["weights.npz"]),
            ("signature", entries["signature"]),
        ]
    )
    _refused(data, "signature does not match", "only upload bundles downloaded from this server")


def test_tampered_weights_are_refused_by_their_signature():
    entries = _entries(_small_bundle())
    weights = bytearray(entries["weights.npz"])
    weights[-40] ^= 0xFF
    data = _zip(
        [
            ("config.json", entries["config.json"]),
            ("weights.npz", bytes(weights)),
            ("signature", entries["signature"]),
        ]
    )
    _refused(data, "signature does not match")


def test_a_bundle_signed_with_another_secret_is_refused():
    _refused(_small_bundle(secret=b"the-secret-of-another-server"), "signature does not match")


def test_a_forged_signature_is_refused():
    entries = _entries(_small_bundle())
    genuine = entries["signature"]
    one_digit_off = genuine[:-1] + (b"1" if genuine[-1:] != b"1" else b"2")
    for forged in (b"0" * 64, b"", one_digit_off, genuine.upper()):
        data = _zip(
            [
                ("config.json", entries["config.json"]),
                ("weights.npz", entries["weights.npz"]),
                ("signature", forged),
            ]
        )
        _refused(data, "signature does not match")


def test_moving_bytes_between_config_and_weights_breaks_the_signature():
    # Without length prefixes, config+weights could be re-split under the same signature.
    entries = _entries(_small_bundle())
    joined = entries["config.json"] + entries["weights.npz"]
    data = _zip(
        [
            ("config.json", joined[:-1]),
            ("weights.npz", joined[-1:]),
            ("signature", entries["signature"]),
        ]
    )
    _refused(data, "signature does not match")


# ---------------------------------------------------------------------------------------------
# Config whitelist (signed with the right secret, so that the schema itself is tested)


def _keras_lambda(document):
    document["architecture"]["layers"].insert(
        0,
        {
            "type": "Lambda",
            "function": "lambda x: __import__('os').system('touch /tmp/pwned') or x",
        },
    )


def _keras_style_layer(document):
    document["architecture"]["layers"][0] = {
        "class_name": "Lambda",
        "config": {"function": {"class_name": "__lambda__"}},
    }


@pytest.mark.parametrize(
    "change, words",
    [
        (_keras_lambda, ["cannot build", "'Lambda'"]),
        (_keras_style_layer, ["cannot build", "type None"]),
        (lambda d: d["architecture"]["layers"][0].update(type="conv1d"), ["'conv1d'"]),
        (
            lambda d: d["architecture"]["layers"][0].update(kernel_initializer="x"),
            ["unknown fields", "kernel_initializer"],
        ),
        (lambda d: d["architecture"]["layers"][1].update(activation="exec"), ["activation"]),
        (lambda d: d["architecture"].update(module="os"), ["unknown fields", "module"]),
        (lambda d: d.update(class_name="Functional"), ["unknown", "class_name"]),
        (lambda d: d["architecture"]["layers"][0].update(units=10**9), ["units", "between"]),
        (lambda d: d["architecture"]["layers"][0].update(units=True), ["units", "must be int"]),
        (lambda d: d["architecture"]["layers"][0].update(dropout="0.1"), ["dropout"]),
        (lambda d: d["architecture"].update(input_shape=[6, 1, 1]), ["input_shape"]),
        (lambda d: d["architecture"].update(input_shape=[-6, 1]), ["input_shape"]),
        (lambda d: d["architecture"]["layers"].pop(1), ["layers"]),
        (lambda d: d["architecture"]["layers"].reverse(), ["dense"]),
        (lambda d: d.update(kind="pickle"), ["kind 'pickle'"]),
        (lambda d: d.update(format_version=2), ["version"]),
        (lambda d: d["config"].update(units=10**6), ["settings", "units"]),
        (lambda d: d["config"].update(kind="nextword"), ["settings"]),
        (lambda d: d.update(extra=[1, 2]), ["extra"]),
    ],
    ids=[
        "lambda",
        "keras-style-layer",
        "unknown-type",
        "unknown-field",
        "activation",
        "architecture-field",
        "document-field",
        "units-range",
        "units-bool",
        "dropout-text",
        "input-rank",
        "input-negative",
        "no-dense",
        "order",
        "kind",
        "version",
        "settings-range",
        "settings-kind",
        "extra-list",
    ],
)
def test_a_signed_config_outside_the_whitelist_is_refused(change, words):
    _refused(_with_document(change), *words)


def test_a_stacked_layer_that_does_not_return_sequences_is_refused():
    def change(document):
        layers = document["architecture"]["layers"]
        layers.insert(0, {"type": "lstm", "units": 4})

    _refused(_with_document(change), "return sequences")


def test_nan_or_duplicate_keys_in_config_json_are_refused():
    entries = _entries(_small_bundle())
    config = entries["config.json"].replace(b'"mean": 1.5', b'"mean": NaN')
    _refused(_signed(config, entries["weights.npz"]), "not valid JSON")
    config = entries["config.json"].replace(b'"mean": 1.5', b'"mean": 1.5, "mean": 2')
    _refused(_signed(config, entries["weights.npz"]), "not valid JSON")
    _refused(_signed(b"[" * 100_000, entries["weights.npz"]), "not valid JSON")
    _refused(_signed(b"[1, 2]", entries["weights.npz"]), "not a JSON object")


# ---------------------------------------------------------------------------------------------
# Weights


class _Payload:
    """Unpickling this calls `_ran`: the test sees whether any pickle ever ran."""

    def __reduce__(self):
        return (_ran, ())


_RAN: list[str] = []


def _ran():
    _RAN.append("pickle ran")
    return 0


def test_a_pickle_inside_weights_npz_is_refused_without_running():
    entries = _entries(_small_bundle())
    objects = np.empty(1, dtype=object)
    objects[0] = _Payload()
    buffer = io.BytesIO()
    np.savez(buffer, objects, *[np.zeros((1,), "float32")] * 4)
    data = _signed(entries["config.json"], buffer.getvalue())
    _refused(data, "not plain numbers")
    assert _RAN == []


def test_weights_of_the_wrong_shape_count_or_type_are_refused():
    entries = _entries(_small_bundle())
    shapes = [(1, 12), (4, 12), (2, 12), (4, 3), (3,)]
    for arrays, words in [
        (_random_weights(shapes[:-1]), ["4 weight arrays", "needs 5"]),
        (_random_weights([(1, 12), (4, 12), (2, 12), (3, 4), (3,)]), ["shape (3, 4)"]),
        ([w.astype("float64") for w in _random_weights(shapes)], ["float64"]),
        ([np.full(s, np.nan, "float32") for s in shapes], ["NaN"]),
    ]:
        buffer = io.BytesIO()
        np.savez(buffer, *arrays)
        _refused(_signed(entries["config.json"], buffer.getvalue()), *words)


def test_compressed_or_oversized_weight_entries_are_refused():
    entries = _entries(_small_bundle())
    buffer = io.BytesIO()
    np.savez_compressed(buffer, *_random_weights([(1, 12), (4, 12), (2, 12), (4, 3), (3,)]))
    _refused(_signed(entries["config.json"], buffer.getvalue()), "not stored the way")
    _refused(_signed(entries["config.json"], b"PK\x03\x04 not a zip"), "weights are not readable")


# ---------------------------------------------------------------------------------------------
# Archive shape, size and foreign formats (no signature needed: refused before it is checked)


def test_a_zip_bomb_is_refused_before_it_is_unpacked():
    entries = _entries(_small_bundle())
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("config.json", entries["config.json"])
        with archive.open("weights.npz", "w") as member:
            for _ in range(64):
                member.write(bytes(2**20))  # 64 MiB of zeros, about 64 KB compressed
        archive.writestr("signature", entries["signature"])
    data = bomb.getvalue()
    assert len(data) < 200_000
    _refused(data, "zip bomb")


def test_too_much_unpacked_data_is_refused_even_at_a_modest_ratio():
    entries = _entries(_small_bundle())
    data = _zip(
        [
            ("config.json", entries["config.json"]),
            ("weights.npz", bytes(300_000)),
            ("signature", entries["signature"]),
        ]
    )
    _refused(data, "would unpack to", max_bytes=50_000)


def test_a_file_above_the_size_limit_is_refused():
    data = _small_bundle()
    _refused(data, "the limit is", max_bytes=len(data) - 1)
    assert load_bundle(data, SECRET, max_bytes=len(data)).kind == "forecast"


@pytest.mark.parametrize(
    "extra_name",
    ["../config.json", "/etc/passwd", "evil.py", "config.json", "sub/weights.npz"],
)
def test_extra_or_path_traversal_entries_are_refused(extra_name):
    entries = _entries(_small_bundle())
    listed = [*entries.items(), (extra_name, b"print('hi')")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile warns about a duplicate name
        data = _zip(listed)
    assert extra_name in zipfile.ZipFile(io.BytesIO(data)).namelist()
    _refused(data, "instead of exactly config.json, weights.npz, signature")


@pytest.mark.parametrize("renamed", ["../config.json", "/config.json", "model/config.json"])
def test_entries_with_a_path_instead_of_the_bare_name_are_refused(renamed):
    entries = _entries(_small_bundle())
    data = _zip(
        [
            (renamed, entries["config.json"]),
            ("weights.npz", entries["weights.npz"]),
            ("signature", entries["signature"]),
        ]
    )
    _refused(data, "instead of exactly")


def test_an_h5_model_is_refused(tmp_path):
    import keras

    path = tmp_path / "model.h5"
    _simple_rnn_model(keras).save(path)
    _refused(path.read_bytes(), ".h5", "never loads")


def test_a_keras_file_is_refused(tmp_path):
    import keras

    path = tmp_path / "model.keras"
    _simple_rnn_model(keras).save(path)
    _refused(path.read_bytes(), "Keras model file", "never loads")


def test_a_pickle_file_is_refused():
    import pickle

    _refused(pickle.dumps(_Payload()), "pickle")
    assert _RAN == []


@pytest.mark.parametrize("keep", [0.5, 0.9, 0.99])
def test_a_truncated_bundle_is_refused(keep):
    data = _small_bundle()
    _refused(data[: int(len(data) * keep)], "not a complete zip archive", "download it again")


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_refused(seed):
    size = [0, 1, 22, 1000, 100_000][seed]
    data = np.random.default_rng(seed).integers(0, 256, size=size, dtype=np.uint8).tobytes()
    _refused(data, "not a model exported by RNN Lab")


def test_a_zip_whose_entry_lies_about_its_size_is_refused():
    data = bytearray(_small_bundle())
    # Shrink the declared size of the signature in its central-directory record.
    start = data.rfind(b"PK\x01\x02")
    data[start + 24 : start + 28] = (10).to_bytes(4, "little")
    with pytest.raises(InputError) as caught:
        load_bundle(bytes(data), SECRET)
    assert "Only upload" in str(caught.value)


def test_a_non_bytes_upload_is_refused():
    with pytest.raises(InputError, match="must be bytes"):
        load_bundle("config.json", SECRET)


# ---------------------------------------------------------------------------------------------
# The server's secret


def test_the_secret_is_created_once_private_and_reused(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    state = tmp_path / "state"
    first = server_secret(state)
    assert len(first) >= 32
    mode = stat.S_IMODE(os.stat(state / "secret").st_mode)
    assert mode == 0o600
    assert server_secret(state) == first
    assert [path.name for path in state.iterdir()] == ["secret"]
    assert server_secret(tmp_path / "other") != first


def test_the_state_dir_can_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    monkeypatch.setenv("RNNLAB_STATE_DIR", str(tmp_path))
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


def test_a_bundle_round_trips_under_the_servers_own_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("RNNLAB_SECRET", raising=False)
    secret = server_secret(tmp_path)
    data = _small_bundle(secret)
    assert load_bundle(data, server_secret(tmp_path)).config.window == 6
    with pytest.raises(InputError, match="signature"):
        load_bundle(data, server_secret(tmp_path / "another-server"))
