"""Lesson links on a page: the address always holds the page's settings (`st.query_params`).

A page calls `follow_link` before drawing its controls (the first run of the page in a session
takes the settings from the address; locked controls are held at the link's values on every run;
hidden ones are hidden) and `publish_link` once its settings are known (the address follows every
change, so it is always a link that reopens the same state). The checking is `core.links`'.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import streamlit as st

if TYPE_CHECKING:  # core.links and core.config (numpy) load with the first page that has a link
    from core.config import Config
    from core.links import Choice, Link

SESSION_PARAM = "session"  # ui.jobs' token: who owns the jobs, not a setting

_LESSON = "_lesson_{page}"


def follow_link(
    page: str,
    config_class: type[Config],
    fields: Mapping[str, Choice | None],
    to_state: Callable[[Link], dict[str, Any]],
    keys: Mapping[str, Sequence[str]],
) -> None:
    """Apply the address's link on the page's first run; hide and hold its controls each run.

    Args:
        page: a short name of the page ("nw", "fc").
        to_state: the widget values (session key -> value) that show a link's settings.
        keys: link name -> the widget keys of its controls (to hide or lock them).
    """
    name = _LESSON.format(page=page)
    lesson = st.session_state.get(name)
    if lesson is None:
        params = _settings_in_address()
        lesson = {"hide": (), "lock": (), "locked": {}, "message": ""}
        if params:  # no link: keep what the session holds (a quick start from the home page)
            from core.links import ignored_message, parse_link

            link = parse_link(params, config_class, fields)
            state = to_state(link)
            st.session_state.update(state)
            lesson = {
                "hide": link.hide,
                "lock": link.lock,
                "locked": {key: state[key] for item in link.lock for key in keys.get(item, ())
                           if key in state},
                "message": ignored_message(link.ignored),
            }
        st.session_state[name] = lesson
    else:
        st.session_state.update(lesson["locked"])  # a locked control keeps the link's value
    _hide_and_lock([key for item in lesson["hide"] for key in keys.get(item, ())],
                   [key for item in lesson["lock"] for key in keys.get(item, ())])
    if lesson["message"]:
        st.warning(lesson["message"], icon=":material/link_off:")
    elif lesson["lock"]:
        st.caption(f":material/lock: This lesson link fixes: {', '.join(lesson['lock'])}.")


def publish_link(
    page: str,
    config: Config | None,
    values: Mapping[str, str | None],
    fields: Mapping[str, Choice | None],
    defaults: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Write the page's settings into the address (only what differs from the defaults)."""
    lesson = st.session_state.get(_LESSON.format(page=page)) or {"hide": (), "lock": ()}
    if config is None:
        return _settings_in_address()
    from core.links import link_params

    params = link_params(config, values, fields, defaults, hide=lesson["hide"],
                         lock=lesson["lock"])
    # The session's job token (ui.jobs) stays in the address, but never in a link to copy.
    token = st.query_params.get(SESSION_PARAM)
    address = {**params, SESSION_PARAM: token} if token else params
    if address != st.query_params.to_dict():
        st.query_params.from_dict(address)
    return params


def _settings_in_address() -> dict[str, str]:
    """The address's parameters but the session's job token: the settings a link carries."""
    return {k: v for k, v in st.query_params.to_dict().items() if k != SESSION_PARAM}


def copy_link(params: Mapping[str, str]) -> None:
    """A "Copy link" button that shows this page's address with its settings, ready to copy."""
    base = _page_url()
    query = urllib.parse.urlencode(params)
    url = f"{base}?{query}" if query else base
    with st.popover("Copy link", icon=":material/link:",
                    help="A link that opens this page with the settings shown now."):
        st.markdown("The address in your browser's bar is always a link to this page with "
                    "these settings. Copy it here (the icon at the right of the box):")
        st.code(url, language=None, wrap_lines=True)
        st.caption("For a lesson, add `&hide=units,dropout` to hide controls or "
                   "`&lock=cell` to fix them. A file of your own is not in the link: whoever "
                   "opens it uploads their own.")


def _page_url() -> str:
    try:
        return st.context.url or ""
    except (AttributeError, RuntimeError):
        return ""


def _hide_and_lock(hidden: Sequence[str], locked: Sequence[str]) -> None:
    """Hide or grey out controls by their key (Streamlit marks each keyed widget `st-key-KEY`)."""
    rules = []
    if hidden:
        rules.append(", ".join(_selector(key) for key in hidden) + " { display: none; }")
    if locked:
        rules.append(", ".join(_selector(key) for key in locked)
                     + " { pointer-events: none; opacity: 0.6; }")
    if rules:
        st.html(f"<style>{' '.join(rules)}</style>")


def _selector(key: str) -> str:
    """`.st-key-KEY`, or for "prefix*" any key that starts with the prefix."""
    prefix = key.endswith("*")
    cleaned = "".join(char if char.isalnum() or char in "_-" else "-" for char in key.rstrip("*"))
    return f'[class*="st-key-{cleaned}"]' if prefix else f".st-key-{cleaned}"
