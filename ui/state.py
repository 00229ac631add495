"""Session defaults and identity. Every page calls `init()` first: a deep link can skip app.py."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

PAGE_ICON = "🔁"


def init(defaults: dict[str, Any] | None = None, *, title: str = "RNN Lab") -> None:
    """Set the page config and any session defaults not set yet."""
    try:
        st.set_page_config(page_title=title, page_icon=PAGE_ICON, layout="wide")
    except st.errors.StreamlitAPIException:
        pass  # already set in this run
    for name, value in (defaults or {}).items():
        st.session_state.setdefault(name, value)


def session_id() -> str:
    """This browser session's id: the owner of its jobs."""
    context = get_script_run_ctx(suppress_warning=True)
    return context.session_id if context is not None else "local"
