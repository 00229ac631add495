"""Home: what RNN Lab is, where to go, and one-click starts on the bundled samples.

No modelling code here, and no heavy import (TensorFlow, pandas, Plotly's figures, the forecast
page's controls): the page must open fast (tests/test_home_imports.py). Training happens in
worker processes started by ui.jobs.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from ui.jobs import job_manager
from ui.loaders import SAMPLES
from ui.seed_examples import show_seed_examples
from ui.state import init

ROOT = Path(__file__).resolve().parent
FORECAST_PAGE = "pages/1_Forecast.py"
PAGES = (
    (FORECAST_PAGE, "Forecast", ":material/show_chart:",
     "Upload a CSV (or take a sample), train a SimpleRNN, LSTM or GRU, watch the learning "
     "curve, and get a forecast with error bands, scored against simple baselines."),
    ("pages/2_Next_Word.py", "Next word", ":material/chat:",
     "Train a small network on a text and let it suggest the next word, with the "
     "probabilities it gives to each candidate."),
    ("pages/3_Compare.py", "Compare", ":material/compare_arrows:",
     "Train the three cells on the same data side by side and see which one learns best."),
    ("pages/4_Inside_the_Cell.py", "Inside the cell", ":material/memory:",
     "Step through a cell by hand: the hidden state, the gates, and why plain RNNs forget."),
)
QUICK_STARTS = {
    "air_passengers": "Forecast airline passengers",
    "australian_beer": "Forecast Australian beer",
    "synthetic": "Forecast weekly sales",
}

def main() -> None:
    init()  # the forecast page sets its own controls' defaults (ui.controls.defaults)

    st.title("RNN Lab")
    st.markdown(
        "RNN Lab lets you **train recurrent neural networks in the browser** and see what they do. "
        "Recurrent networks (SimpleRNN, LSTM and GRU) read a sequence one step at a time and keep "
        "a memory of what they have seen, which makes them a natural fit for time series and text. "
        "Here you can forecast a series from your own CSV file, predict the next word of a text, "
        "and look inside the cells, with no programming. Every forecast is compared with simple "
        "baselines, so you can tell whether the network was worth it."
    )

    st.subheader("Start in one click")
    st.caption("Loads a bundled sample with good default settings, opens the forecast page and "
               "starts training (about half a minute).")
    columns = st.columns(len(QUICK_STARTS))
    for column, (name, label) in zip(columns, QUICK_STARTS.items(), strict=True):
        with column:
            sample = SAMPLES[name]
            if st.button(
                label,
                key=f"quick-{name}",
                type="primary",
                width="stretch",
                help=sample.about,
            ):
                from ui import controls  # the forecast page's controls (and pandas), on click

                controls.quick_start(name)
                st.switch_page(FORECAST_PAGE)
            st.caption(sample.about)

    show_seed_examples()  # the seed notes' two one-click examples (ui/seed_examples.py)

    st.subheader("What each page does")
    for path, title, icon, about in PAGES:
        if (ROOT / path).is_file():
            st.page_link(path, label=title, icon=icon)
        else:
            st.markdown(f"{icon} **{title}** (coming soon)")
        st.caption(about)

    st.divider()
    st.caption(
        "Each bundled sample says what it is and where it comes from under its name on the "
        "Forecast page (Data, Bundled sample)."
    )

    # Start the training workers now (they load TensorFlow in their own processes, after this page
    # has been sent), so that the first Train click does not wait for them.
    job_manager()


# Streamlit runs this file as "__main__"; training workers started with `spawn` import it again
# as "__mp_main__", and must not draw anything nor start workers of their own.
if __name__ == "__main__":
    main()
