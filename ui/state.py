"""Session defaults and identity. Every page calls `init()` first: a deep link can skip app.py."""

from __future__ import annotations

from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

# A Material icon, not an emoji: an emoji makes set_page_config load Streamlit's emoji catalogue
# (0.43 s, measured at load 23) in the first run of every page.
PAGE_ICON = ":material/autorenew:"
# The sidebar's links. Streamlit's own page list would call the home page "app" (its file name).
NAVIGATION = (
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Forecast.py", "Forecast", ":material/show_chart:"),
    ("pages/2_Next_Word.py", "Next word", ":material/chat:"),
    ("pages/3_Compare.py", "Compare the cells", ":material/compare_arrows:"),
    ("pages/4_Inside_the_Cell.py", "Inside the cell", ":material/memory:"),
)


def init(defaults: dict[str, Any] | None = None, *, title: str = "RNN Lab") -> None:
    """Set the page config and any session defaults not set yet."""
    try:
        st.set_page_config(page_title=title, page_icon=PAGE_ICON, layout="wide")
    except st.errors.StreamlitAPIException:
        pass  # already set in this run
    for name, value in (defaults or {}).items():
        st.session_state.setdefault(name, value)
    _sidebar_navigation()


# On a phone the sidebar covers the page: Streamlit's own page list closes it after a choice,
# but our links (st.page_link) do not, so this does it (once per browser tab). And Plotly's tool
# bar, drawn over a chart's top right, would cover its title there: phones zoom with two fingers.
_PHONES = """<style>
@media (max-width: 767px) { .js-plotly-plot .modebar-container { display: none !important; } }
</style>
<script>
(() => {
  if (window.rnnlabClosesSidebar) return;
  window.rnnlabClosesSidebar = true;
  document.addEventListener("click", (event) => {
    const link = event.target.closest('[data-testid="stSidebar"] a');
    if (!link || !window.matchMedia("(max-width: 767px)").matches) return;
    setTimeout(() => document.querySelector(
      '[data-testid="stSidebarCollapseButton"] button')?.click(), 50);
  }, true);
})();
</script>"""


def _sidebar_navigation() -> None:
    with st.sidebar:
        st.markdown("### RNN Lab")
        for path, label, icon in NAVIGATION:
            try:
                st.page_link(path, label=label, icon=icon)
            except st.errors.StreamlitAPIException:
                return  # one page run on its own (AppTest of a page file): there is no app to link
        st.html(_PHONES, unsafe_allow_javascript=True)


def session_id() -> str:
    """This browser session's id: the owner of its jobs."""
    context = get_script_run_ctx(suppress_warning=True)
    return context.session_id if context is not None else "local"
