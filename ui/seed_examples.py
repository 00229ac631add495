"""The seed notes' two examples, one click each, for the home page.

Each runs the seed's own small network as a job (core.seed_examples), shows its loss curve and
its answer, and links to the page where the same idea scales up.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from core.seed_examples import LOVE_TASK, SUM_INPUTS, SUM_QUESTION, SUM_TASK
from ui.jobs import current_job, is_busy, start_job, training_panel

ROOT = Path(__file__).resolve().parents[1]
SUM_KEY, LOVE_KEY = "seed-sum", "seed-love"


def show_seed_examples() -> None:
    """Two columns: the sum of two numbers, and the next word after "I love"."""
    st.subheader("The seed notes' two examples")
    st.caption("The two small programs of the RNN notes this lab grew from, run for real: "
               "each trains the notes' own network for a few seconds.")
    left, right = st.columns(2, gap="large")
    with left:
        _sum_example()
    with right:
        _love_example()


def _panel(key: str, label: str) -> None:
    """The one job panel, with the loss named for this example (it counts the seed's epochs)."""
    training_panel(key, metrics=("loss",), labels={"loss": label})


def _link(path: str, label: str) -> None:
    if (ROOT / path).is_file():
        st.page_link(path, label=label, icon=":material/arrow_forward:")


def _sum_example() -> None:
    st.markdown("#### Sum of the previous two numbers")
    pairs = ", ".join(f"[{a},{b}]→{a + b}" for a, b in SUM_INPUTS)
    st.markdown(
        f"A SimpleRNN with 10 units reads two numbers, one at a time, and learns to output their "
        f"sum from five examples: {pairs}. Then it is asked about "
        f"**[{SUM_QUESTION[0]}, {SUM_QUESTION[1]}]**, a pair it has never seen."
    )
    if st.button("Train it (200 epochs)", key="run-seed-sum", disabled=is_busy(SUM_KEY),
                 help="Trains the seed's SimpleRNN(10, relu) for 200 epochs, as in the notes."):
        start_job(SUM_KEY, SUM_TASK, {"seed": 0})
    _panel(SUM_KEY, "training loss (squared error)")
    job = current_job(SUM_KEY)
    if job is not None and job.result is not None:
        import pandas as pd  # only with a result: the home page's first run stays without it

        result = job.result
        st.metric(
            f"Its answer after {SUM_QUESTION}",
            f"{result['prediction']:.2f}",
            delta=f"{result['prediction'] - result['truth']:+.2f} from the true {result['truth']:g}",
            delta_color="off",
        )
        with st.expander("What it says about the five training pairs"):
            st.dataframe(
                pd.DataFrame({
                    "pair": [str(pair) for pair in SUM_INPUTS],
                    "true sum": [sum(pair) for pair in SUM_INPUTS],
                    "network": [round(value, 2) for value in result["fitted"]],
                }),
                hide_index=True,
            )
        st.caption("A network this small gets close, not exact: it learnt a rule from five "
                   "examples and applies it to numbers outside them.")
    _link("pages/1_Forecast.py", "The same idea on real series: Forecast")
    _link("pages/4_Inside_the_Cell.py", "What the hidden state holds: Inside the cell")


def _love_example() -> None:
    st.markdown("#### Next word after “I love”")
    st.markdown(
        "An LSTM with 50 units reads four sentences: *I love machine learning*, *I love deep "
        "learning*, *I enjoy natural language processing*, *Deep learning is amazing*. It learns "
        "which word follows each beginning, then is asked what comes after **“I love”**."
    )
    if st.button("Train it (300 epochs)", key="run-seed-love", disabled=is_busy(LOVE_KEY),
                 help="Trains the seed's Embedding(10) + LSTM(50) for 300 epochs, as in the notes."):
        start_job(LOVE_KEY, LOVE_TASK, {"seed": 0})
    _panel(LOVE_KEY, "training loss (cross-entropy)")
    job = current_job(LOVE_KEY)
    if job is not None and job.result is not None:
        import pandas as pd

        suggestions = job.result["suggestions"]
        if "i love" in suggestions:
            words = suggestions["i love"]
            st.markdown("After **“I love”** it suggests: " + ", ".join(
                f"**{word}** ({probability:.0%})" for word, probability in words))
            st.caption("Both “machine” and “deep” follow “I love” once in the four sentences, "
                       "so a well-trained model splits its bet between them.")
        with st.expander("Other beginnings"):
            st.dataframe(
                pd.DataFrame([
                    {"beginning": prompt,
                     "suggestions": ", ".join(f"{w} ({p:.0%})" for w, p in words)}
                    for prompt, words in suggestions.items()
                ]),
                hide_index=True,
            )
    _link("pages/2_Next_Word.py", "The same idea on a real text: Next word")
