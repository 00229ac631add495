"""Lesson links: settings to a query string and back; hand-edited links never raise."""

import dataclasses

import pytest

from core.config import ForecastConfig, NextWordConfig
from core.links import Choice, ignored_message, link_fields, link_params, parse_link

FORECAST_FIELDS = link_fields(
    ForecastConfig, data=Choice(("air_passengers", "australian_beer", "file")),
    target=Choice(description="a column name"), time=Choice(description="a column name"))
NEXTWORD_FIELDS = link_fields(NextWordConfig, text=Choice(("corpus_class_reader.txt", "file")))

def _every_setting(config_class, **chosen):
    """A config whose every field differs from its default (fields added later included)."""
    default = config_class()
    values = {}
    for field in dataclasses.fields(config_class):
        value = getattr(default, field.name)
        low, high = config_class.RANGES.get(field.name, (None, None))
        if field.name in chosen:
            values[field.name] = chosen[field.name]
        elif isinstance(value, bool):
            values[field.name] = not value
        elif field.name in config_class.CHOICES:
            values[field.name] = next(c for c in config_class.CHOICES[field.name] if c != value)
        elif value is None or isinstance(value, int):
            values[field.name] = int(low) if value != int(low) else int(low) + 1
        else:
            values[field.name] = round((low + value) / 2, 4) if value > low else high / 2
    return config_class(**values)


EVERY_FORECAST_SETTING = _every_setting(ForecastConfig, cell="lstm", window=24, horizon=6,
                                        holdout=30, season=4, epochs=80,
                                        covariates="price,temperature", past_covariates="visits")
EVERY_NEXTWORD_SETTING = _every_setting(NextWordConfig, cell="rnn", ensemble=1)


def test_every_setting_differs_from_its_default_in_the_round_trip_fixtures():
    for config in (EVERY_FORECAST_SETTING, EVERY_NEXTWORD_SETTING):
        default = type(config)()
        assert [f.name for f in dataclasses.fields(config)
                if getattr(config, f.name) == getattr(default, f.name)] == []


@pytest.mark.parametrize(
    "config, fields, values",
    [
        (EVERY_FORECAST_SETTING, FORECAST_FIELDS,
         {"data": "file", "target": "Sales (€)", "time": "Month"}),
        (EVERY_NEXTWORD_SETTING, NEXTWORD_FIELDS, {"text": "file"}),
        (ForecastConfig(window=None, season=None), FORECAST_FIELDS, {"data": "australian_beer"}),
    ],
    ids=["forecast-every-setting", "nextword-every-setting", "forecast-automatic"],
)
def test_a_link_with_every_setting_round_trips(config, fields, values):
    params = link_params(config, values, fields, hide=("units", "dropout"), lock=("cell",))
    assert all(isinstance(value, str) for value in params.values())
    link = parse_link(params, type(config), fields)
    assert link.ignored == ()
    assert link.config == config
    assert link.values == values
    assert (link.hide, link.lock) == (("units", "dropout"), ("cell",))
    assert link_params(link.config, link.values, fields, hide=link.hide, lock=link.lock) == params


def test_a_link_names_only_what_differs_from_the_defaults():
    params = link_params(ForecastConfig(cell="lstm", window=None), {"data": "air_passengers"},
                         FORECAST_FIELDS, defaults={"data": "air_passengers"})
    assert params == {"cell": "lstm"}
    assert link_params(ForecastConfig(window=12), {}, FORECAST_FIELDS) == {"window": "12"}
    assert parse_link({}, ForecastConfig, FORECAST_FIELDS).config == ForecastConfig()


def test_a_hand_edited_link_keeps_the_good_values_and_lists_the_bad_ones():
    params = {
        "cell": "transformer", "units": "lots", "dropout": "0.2", "window": "auto",
        "epochs": "99999999", "keep": "me", "seed": "nan", "learning_rate": "inf",
        "data": "../../etc/passwd", "hide": "units,secret_panel", "lock": "cell",
        "horizon": "x" * 500, "patience": ["3", "4"],
    }
    link = parse_link(params, ForecastConfig, FORECAST_FIELDS)
    assert link.config == ForecastConfig(dropout=0.2, window=None, patience=4)
    assert link.values == {}
    assert (link.hide, link.lock) == (("units",), ("cell",))
    text = " | ".join(link.ignored)
    for fragment in ("cell=transformer: setting 'cell' must be one of lstm, gru, rnn",
                     "units=lots: must be a whole number",
                     "epochs=99999999: setting 'epochs' must be between 1 and 2000",
                     "keep: not a setting of this page",
                     "seed=nan: must be a whole number",
                     "learning_rate=inf: must be a finite number",
                     "data=../../etc/passwd: must be one of air_passengers",
                     "hide=secret_panel: no control is called that",
                     "horizon: its value is 500 characters long"):
        assert fragment in text, text
    message = ignored_message(link.ignored)
    assert message.startswith("Parts of this link could not be used, so the page opened with "
                              "the defaults for them:")


def test_settings_that_do_not_fit_together_fall_back_to_the_defaults():
    # each value is in range alone; together they are refused by the config itself
    class Strict(ForecastConfig):
        def validate(self):
            super().validate()
            if self.units > 100 and self.num_layers > 1:
                from core.errors import ConfigError

                raise ConfigError("Too many units for stacked layers.")

    link = parse_link({"units": "200", "num_layers": "2"}, Strict, link_fields(Strict))
    assert link.config == Strict()
    assert "do not fit together" in link.ignored[0]


def test_auto_is_a_plain_value_of_a_text_setting():
    link = parse_link({"transform": "auto", "window": "auto", "units": "auto"}, ForecastConfig,
                      FORECAST_FIELDS)
    assert link.config.transform == "auto" and link.config.window is None
    assert link.ignored == ("units=auto: cannot be automatic",)


@pytest.mark.parametrize(
    "params",
    [{"units": ""}, {"": "x"}, {"window": "-3"}, {"keep_punctuation": "maybe"},
     {"hide": ""}, {"lock": ",,,"}, {f"p{i}": "1" for i in range(200)}, {"cell": ["lstm"]},
     {"cell": []}, {"text": " "}],
)
def test_no_link_raises(params):
    link = parse_link(params, NextWordConfig, NEXTWORD_FIELDS)
    assert isinstance(link.config, NextWordConfig)
