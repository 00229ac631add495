"""Lesson links: a page's settings as the query string of its address, and back.

A link names only what differs from the defaults (`?cell=lstm&units=64&window=auto`), so that a
link stays short and readable; every setting that a link does not name is at its default. Two
extra parameters turn a link into a lesson: `hide=units,dropout` hides those controls and
`lock=cell` shows them fixed. A link is typed, pasted and edited by hand, so it is checked like
a settings file: each bad value is dropped (its setting keeps its default) and named in
`Link.ignored`, in plain words, for the page to show; nothing in a link ever raises.

    fields = link_fields(NextWordConfig, text=Choice(("sample.txt", "file")))
    link = parse_link({"cell": "gru", "units": "lots"}, NextWordConfig, fields)
    link.config   # NextWordConfig(cell="gru")
    link.ignored  # ("units=lots: Setting 'units' must be a whole number ...",)
    link_params(link.config, {"text": "file"}, fields, hide=("units",))
"""

from __future__ import annotations

import dataclasses
import math
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from core.config import Config
from core.errors import ConfigError

HIDE, LOCK = "hide", "lock"
AUTO = "auto"  # a setting that is None: "derive it from the data"
MAX_PARAMETERS = 80
MAX_VALUE_CHARS = 200


@dataclasses.dataclass(frozen=True)
class Choice:
    """A link parameter outside the config: one of `choices`, or any short text when empty."""

    choices: tuple[str, ...] = ()
    description: str = "a value"

    def parse(self, text: str) -> str:
        if self.choices and text not in self.choices:
            shown = ", ".join(self.choices[:8]) + (", ..." if len(self.choices) > 8 else "")
            raise ValueError(f"must be one of {shown}")
        if not text.strip():
            raise ValueError(f"must be {self.description}")
        return text


@dataclasses.dataclass(frozen=True)
class Link:
    """What a link asks for: the settings, the other values, the controls hidden and locked,
    and a plain-words line for each part that was ignored."""

    config: Config
    values: dict[str, str]
    hide: tuple[str, ...] = ()
    lock: tuple[str, ...] = ()
    ignored: tuple[str, ...] = ()
    named: tuple[str, ...] = ()  # the parameters the link gave (and kept)


def link_fields(config_class: type[Config], **extra: Choice) -> dict[str, Choice | None]:
    """Every name a link may use: the config's fields (None: typed by the config) and `extra`."""
    fields: dict[str, Choice | None] = {field.name: None for field in dataclasses.fields(config_class)}
    clash = set(fields) & set(extra) | {HIDE, LOCK} & set(extra)
    if clash:
        raise ValueError(f"link names used twice: {sorted(clash)}")
    return {**fields, **extra}


def parse_link(
    params: Mapping[str, Any], config_class: type[Config], fields: Mapping[str, Choice | None]
) -> Link:
    """Read a query string (`st.query_params.to_dict()`) into checked settings; never raises."""
    ignored: list[str] = []
    params = dict(params)
    if len(params) > MAX_PARAMETERS:
        ignored.append(f"the link has {len(params)} parameters; at most {MAX_PARAMETERS} are read")
        params = dict(list(params.items())[:MAX_PARAMETERS])
    hints = typing.get_type_hints(config_class)
    settings: dict[str, Any] = {}
    values: dict[str, str] = {}
    hide: tuple[str, ...] = ()
    lock: tuple[str, ...] = ()
    for name, raw in params.items():
        text = _text(raw)
        shown = f"{_short(name)}={_short(text)}"
        if len(text) > MAX_VALUE_CHARS:
            ignored.append(f"{_short(name)}: its value is {len(text):,} characters long")
            continue
        if name in (HIDE, LOCK):
            names, unknown = _names(text, fields)
            ignored += [f"{name}={_short(item)}: no control is called that" for item in unknown]
            if name == HIDE:
                hide = names
            else:
                lock = names
            continue
        if name not in fields:
            ignored.append(f"{_short(name)}: not a setting of this page")
            continue
        try:
            if fields[name] is None:
                value = _parse_setting(text, hints[name])
                config_class(**{name: value})  # the field's own range and choices
                settings[name] = value
            else:
                values[name] = fields[name].parse(text)
        except (ValueError, ConfigError) as error:
            ignored.append(f"{shown}: {_reason(error)}")
    try:
        config = config_class(**settings)
    except ConfigError as error:
        ignored.append(f"{', '.join(sorted(settings))}: these settings do not fit together "
                       f"({_reason(error)})")
        settings = {}
        config = config_class()
    named = tuple(name for name in params if name in settings or name in values)
    return Link(config, values, hide, lock, tuple(ignored), named)


def link_params(
    config: Config,
    values: Mapping[str, str | None],
    fields: Mapping[str, Choice | None],
    defaults: Mapping[str, str] | None = None,
    hide: Iterable[str] = (),
    lock: Iterable[str] = (),
) -> dict[str, str]:
    """The query string (as a dict) for these settings: only what differs from the defaults."""
    default_config = type(config)()
    params: dict[str, str] = {}
    for name, choice in fields.items():
        if choice is None:
            value = getattr(config, name)
            if value != getattr(default_config, name):
                params[name] = _format_setting(value)
        elif values.get(name) is not None and values[name] != (defaults or {}).get(name):
            params[name] = str(values[name])
    if hide := [name for name in hide if name in fields]:
        params[HIDE] = ",".join(hide)
    if lock := [name for name in lock if name in fields]:
        params[LOCK] = ",".join(lock)
    return params


def ignored_message(ignored: Iterable[str]) -> str:
    """One message for the page: what in the link was ignored, and what the page did instead."""
    items = list(ignored)
    if not items:
        return ""
    return ("Parts of this link could not be used, so the page opened with the defaults for "
            "them: " + "; ".join(items) + ".")


# ---------------------------------------------------------------------------------------------


def _text(raw: Any) -> str:
    if isinstance(raw, list | tuple):
        raw = raw[-1] if raw else ""
    return str(raw)


def _names(text: str, fields: Mapping[str, Any]) -> tuple[tuple[str, ...], list[str]]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    known = tuple(dict.fromkeys(item for item in items if item in fields))
    return known, [item for item in items if item not in fields]


def _parse_setting(text: str, hint: Any) -> Any:
    """A link's text as the config field's type: 'auto' for None, true/false, whole numbers."""
    optional = type(None) in typing.get_args(hint)
    kind = next((arg for arg in typing.get_args(hint) if arg is not type(None)), hint)
    if text == AUTO and kind is not str:  # "auto" may be a value of a text setting itself
        if optional:
            return None
        raise ValueError("cannot be automatic")
    if kind is bool:
        if text.lower() in ("true", "1", "yes", "on"):
            return True
        if text.lower() in ("false", "0", "no", "off"):
            return False
        raise ValueError("must be true or false")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise ValueError("must be a whole number" + (" or auto" if optional else "")) from None
    if kind is float:
        try:
            value = float(text)
        except ValueError:
            raise ValueError("must be a number") from None
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value
    return text


def _format_setting(value: Any) -> str:
    if value is None:
        return AUTO
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _reason(error: Exception) -> str:
    text = str(error)
    return text[0].lower() + text[1:].rstrip(".") if text else "not usable"


def _short(text: str, limit: int = 40) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."

