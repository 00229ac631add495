"""Uploaded settings files are untrusted: only known fields, of the right type, within range.

Every refusal is a ConfigError with a message; a downloaded settings file comes back equal.
"""

import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.config import ForecastConfig, NextWordConfig
from core.errors import ConfigError

CLASSES = [ForecastConfig, NextWordConfig]


def _refused(cls, text, *words: str) -> str:
    with pytest.raises(ConfigError) as caught:
        cls.from_json(text)
    message = str(caught.value)
    for word in words:
        assert word.lower() in message.lower(), message
    return message


# ---------------------------------------------------------------------------------------------
# Round trips


@pytest.mark.parametrize(
    "config",
    [
        ForecastConfig(),
        ForecastConfig(
            cell="lstm",
            window=24,
            horizon=12,
            holdout=48,
            season=12,
            num_layers=2,
            units=64,
            dropout=0.2,
            learning_rate=0.01,
            strategy="recursive",
            transform="log_difference",
            missing="ffill",
            ensemble=3,
            seed=7,
        ),
        ForecastConfig(cell="rnn", dropout=0, clipnorm=0),
        NextWordConfig(),
        NextWordConfig(
            cell="gru",
            context=3,
            embedding_dim=16,
            units=32,
            num_layers=3,
            keep_punctuation=True,
            max_vocab=500,
            seed=0,
        ),
    ],
    ids=[
        "forecast-default",
        "forecast-full",
        "forecast-ints-for-floats",
        "nextword-default",
        "nextword-full",
    ],
)
def test_a_downloaded_settings_file_comes_back_equal(config):
    text = config.to_json()
    again = type(config).from_json(text)
    assert again == config
    assert hash(again) == hash(config)
    assert again.to_json() == text
    assert type(config).from_json(text.encode("utf-8")) == config
    assert json.loads(text)["kind"] == config.KIND


def test_integers_for_float_settings_become_floats_and_round_trip():
    config = ForecastConfig.from_json('{"kind": "forecast", "dropout": 0, "learning_rate": 1}')
    assert config.dropout == 0.0 and isinstance(config.dropout, float)
    assert config.learning_rate == 1.0 and isinstance(config.learning_rate, float)
    assert ForecastConfig.from_json(config.to_json()) == config


def test_automatic_settings_stay_automatic():
    config = ForecastConfig.from_json('{"window": null, "horizon": null}')
    assert config.window is None and config.horizon is None
    assert ForecastConfig.from_json(config.to_json()) == config


def test_a_partial_file_fills_in_the_defaults():
    assert NextWordConfig.from_json('{"units": 16}') == NextWordConfig(units=16)
    assert ForecastConfig.from_json("{}") == ForecastConfig()


# ---------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    "cls, document, words",
    [
        (ForecastConfig, {"unit": 32}, ["unknown fields", "unit"]),
        (
            ForecastConfig,
            {"units": 32, "optimizer": "adam", "loss": "mse"},
            ["unknown fields", "loss", "optimizer"],
        ),
        (NextWordConfig, {"window": 12}, ["unknown fields", "window"]),
        (ForecastConfig, {"KIND": "nextword"}, ["unknown fields", "KIND"]),
        (ForecastConfig, {"RANGES": {}}, ["unknown fields", "RANGES"]),
        (ForecastConfig, {"__class__": "os.system"}, ["unknown fields"]),
    ],
)
def test_unknown_fields_are_refused(cls, document, words):
    _refused(cls, json.dumps(document), *words, "downloaded from RNN Lab")


@pytest.mark.parametrize(
    "cls, field, value, words",
    [
        (ForecastConfig, "units", "32", ["units", "must be int", "'32'"]),
        (ForecastConfig, "units", 32.5, ["units", "must be int"]),
        (ForecastConfig, "units", True, ["units", "must be int", "True"]),
        (ForecastConfig, "window", [24], ["window", "must be int"]),
        (ForecastConfig, "dropout", "0.2", ["dropout", "must be float"]),
        (ForecastConfig, "dropout", False, ["dropout", "must be float"]),
        (ForecastConfig, "cell", 1, ["cell", "must be str"]),
        (ForecastConfig, "cell", {"class_name": "LSTM"}, ["cell", "must be str"]),
        (NextWordConfig, "keep_punctuation", 1, ["keep_punctuation", "must be bool"]),
        (NextWordConfig, "keep_punctuation", "yes", ["keep_punctuation", "must be bool"]),
        (ForecastConfig, "units", None, ["units", "needs a value"]),
        (NextWordConfig, "cell", None, ["cell", "needs a value"]),
    ],
)
def test_wrong_types_are_refused(cls, field, value, words):
    _refused(cls, json.dumps({field: value}), *words)


@pytest.mark.parametrize(
    "cls, field, value",
    [
        (ForecastConfig, "units", 0),
        (ForecastConfig, "units", 513),
        (ForecastConfig, "units", -32),
        (ForecastConfig, "window", 1),
        (ForecastConfig, "horizon", 10**6),
        (ForecastConfig, "num_layers", 5),
        (ForecastConfig, "dropout", 0.95),
        (ForecastConfig, "dropout", -0.1),
        (ForecastConfig, "learning_rate", 0.0),
        (ForecastConfig, "learning_rate", 2.0),
        (ForecastConfig, "epochs", 10**9),
        (ForecastConfig, "seed", -1),
        (ForecastConfig, "seed", 2**31),
        (NextWordConfig, "context", 0),
        (NextWordConfig, "max_vocab", 10**7),
        (NextWordConfig, "num_layers", 4),
    ],
)
def test_out_of_range_values_are_refused(cls, field, value):
    _refused(cls, json.dumps({field: value}), field, "between", repr(value)[:6])


@pytest.mark.parametrize(
    "cls, field, value",
    [
        (ForecastConfig, "cell", "transformer"),
        (ForecastConfig, "cell", "LSTM"),
        (ForecastConfig, "strategy", "magic"),
        (ForecastConfig, "transform", "exp"),
        (ForecastConfig, "missing", "__import__('os')"),
        (NextWordConfig, "cell", ""),
    ],
)
def test_values_outside_the_choices_are_refused(cls, field, value):
    _refused(cls, json.dumps({field: value}), field, "must be one of")


@pytest.mark.parametrize(
    "text, field",
    [
        ('{"dropout": NaN}', "dropout"),
        ('{"learning_rate": Infinity}', "learning_rate"),
        ('{"clipnorm": -Infinity}', "clipnorm"),
        ('{"learning_rate": 1e999}', "learning_rate"),
        ('{"units": NaN}', "units"),
        ('{"window": Infinity}', "window"),
    ],
)
def test_nan_and_infinity_are_refused(text, field):
    _refused(ForecastConfig, text, field)


@pytest.mark.parametrize(
    "cls, kind",
    [
        (ForecastConfig, "nextword"),
        (NextWordConfig, "forecast"),
        (ForecastConfig, "Forecast"),
        (ForecastConfig, ""),
        (ForecastConfig, None),
        (ForecastConfig, ["forecast"]),
    ],
)
def test_settings_of_another_kind_are_refused(cls, kind):
    _refused(cls, json.dumps({"kind": kind}), "right page")


def test_the_other_pages_settings_file_is_refused_by_this_page():
    _refused(ForecastConfig, NextWordConfig().to_json(), "for 'nextword'", "right page")
    _refused(NextWordConfig, ForecastConfig().to_json(), "for 'forecast'", "right page")


@pytest.mark.parametrize(
    "text",
    ["[]", "[1, 2]", '"forecast"', "42", "null", "true", '[{"units": 32}]'],
)
def test_json_that_is_not_an_object_is_refused(text):
    _refused(ForecastConfig, text, "must hold a JSON object")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "units: 32",
        "{'units': 32}",
        '{"units": 32,}',
        "\x00\x01",
        b"\xff\xfe\x00{",
        b'{"cell": "\xff"}',
        '{"units": ' + "9" * 5000 + "}",
    ],
)
def test_text_that_is_not_json_is_refused(text):
    _refused(ForecastConfig, text, "not valid JSON", "downloaded from RNN Lab")


def test_a_large_document_is_refused_with_a_configerror():
    text = json.dumps({"units": 32, "notes": "x" * 5_000_000})
    _refused(ForecastConfig, text, "5,000,0", "bytes", "downloaded from RNN Lab")


@pytest.mark.parametrize("depth", [5_000, 100_000])
@pytest.mark.parametrize("opening, closing", [("[", "]"), ('{"a":', "}")])
def test_deeply_nested_json_is_refused_with_a_configerror(opening, closing, depth):
    _refused(ForecastConfig, opening * depth + "1" + closing * depth, "settings file")


@pytest.mark.parametrize(
    "text",
    [
        json.dumps({"cell": "x" * 5_000_000}),
        json.dumps({"k" * 1_000_000: 1}),
        json.dumps({"kind": "x" * 1_000_000}),
    ],
    ids=["huge-value", "huge-field-name", "huge-kind"],
)
def test_a_huge_document_gets_a_short_message(text):
    message = _refused(ForecastConfig, text)
    assert len(message) < 1000, f"a {len(message):,}-character message"


# ---------------------------------------------------------------------------------------------
# Whatever arrives, only a ConfigError escapes


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


@pytest.mark.parametrize("cls", CLASSES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_any_json_document_gives_a_config_or_a_configerror(cls, data):
    names = [field.name for field in dataclasses.fields(cls)] + ["kind", "extra"]
    document = data.draw(
        st.dictionaries(st.sampled_from(names), _json_values, max_size=5) | _json_values
    )
    text = json.dumps(document)
    try:
        config = cls.from_json(text)
    except ConfigError as error:
        assert str(error)
    else:
        assert cls.from_json(config.to_json()) == config


@settings(max_examples=200, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200))
def test_any_bytes_or_text_give_a_config_or_a_configerror(raw):
    try:
        ForecastConfig.from_json(raw)
    except ConfigError as error:
        assert str(error)


def test_a_field_given_twice_is_refused():
    _refused(ForecastConfig, '{"units": 10, "units": 20}', "units", "twice")


@pytest.mark.parametrize("value", [None, 42, ["units"]])
def test_settings_that_are_not_text_are_refused(value):
    _refused(ForecastConfig, value, "JSON text")


def test_range_messages_write_large_bounds_in_full():
    message = _refused(ForecastConfig, '{"seed": -1}', "2,147,483,647")
    assert "e+09" not in message


# ---------------------------------------------------------------------------------------------
# Settings files that name their data (core.settingsfile)


def test_a_settings_file_names_its_sample_or_its_file_and_fingerprint():
    from core.settingsfile import DataRef, fingerprint, read_settings, settings_json

    config = ForecastConfig(cell="lstm", season=4, window=16, horizon=8)
    sample = DataRef(sample="australian_beer", target="megalitres", time="quarter")
    assert read_settings(settings_json(config, sample), ForecastConfig) == (config, sample)
    own = DataRef(file="sales.csv", sha256=fingerprint(b"a,b\n1,2\n"), target="b")
    text = settings_json(config, own)
    assert json.loads(text)["data"] == {"file": "sales.csv", "sha256": own.sha256, "target": "b"}
    again, data = read_settings(text.encode(), ForecastConfig)
    assert again == config and data.same_file(b"a,b\n1,2\n") and not data.same_file(b"other")
    # an older file, without data, still reads
    assert read_settings(config.to_json(), ForecastConfig) == (config, None)


@pytest.mark.parametrize(
    "data, words",
    [
        ({"sample": "air_passengers", "file": "x.csv"}, ["either a sample or a file"]),
        ({}, ["either a sample or a file"]),
        ({"file": "x.csv"}, ["fingerprint"]),
        ({"file": "x.csv", "sha256": "abc"}, ["fingerprint"]),
        ({"sample": "air_passengers", "path": "/etc/passwd"}, ["'data' must be an object"]),
        ({"sample": 3}, ["data.sample must be a short text"]),
        ({"sample": "x" * 1000}, ["short text"]),
        ("air_passengers", ["'data' must be an object"]),
    ],
)
def test_a_bad_data_field_is_refused(data, words):
    from core.settingsfile import read_settings

    text = json.dumps({"kind": "forecast", "units": 8, "data": data})
    with pytest.raises(ConfigError) as caught:
        read_settings(text, ForecastConfig)
    for word in words:
        assert word in str(caught.value)


def test_the_other_checks_still_apply_with_a_data_field():
    from core.settingsfile import read_settings

    for text, words in [
        ('{"kind": "forecast", "units": 0, "data": {"sample": "lynx"}}', "units"),
        ('{"kind": "nextword", "data": {"sample": "lynx"}}', "right page"),
        ('{"units": 8, "units": 9, "data": {"sample": "lynx"}}', "twice"),
    ]:
        with pytest.raises(ConfigError, match=words):
            read_settings(text, ForecastConfig)


def test_a_next_word_settings_file_names_its_text():
    from core.settingsfile import DataRef, fingerprint, read_settings, settings_json

    config = NextWordConfig(cell="gru", context=5)
    sample = DataRef(sample="seed_sentences.txt")
    assert read_settings(settings_json(config, sample), NextWordConfig) == (config, sample)
    own = DataRef(file="notes.txt", sha256=fingerprint(b"my own words"))
    again, data = read_settings(settings_json(config, own), NextWordConfig)
    assert again == config and data.same_file(b"my own words")
    with pytest.raises(ConfigError, match="right page"):
        read_settings(settings_json(config, sample), ForecastConfig)
