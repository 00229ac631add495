"""Next word: pick a text, set up a word-level RNN, watch it learn, then let it suggest and write.

Four steps that read top to bottom. Training runs as a core job in a worker process
(`core.nextword:nextword_task`); this page only starts it, draws its progress with the shared
panel and then loads the saved model to suggest and generate words.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.cells import cell_keys, cell_names, get_cell
from core.config import NextWordConfig
from core.errors import RNNLabError
from core.links import Choice, Link, link_fields
from core.nextword import (
    MODEL_FILE,
    TASK,
    NextWordModel,
    describe_corpus,
    estimate_seconds,
    figures_won,
)
from core.settingsfile import DataRef, fingerprint, read_settings, settings_json
from core.text import MAX_BYTES, UNK_ID, corpus_tokens, decode_text
from ui.jobs import current_job, finished_run, is_busy, start_job, training_panel
from ui.links import copy_link, follow_link, publish_link
from ui.model_files import model_upload, trained_summary
from ui.state import init

JOB_KEY = "nextword"
RUN_KEY = "_nw_run"  # the corpus name and settings of the job shown below
CONFIG_KEY = "_nw_config"  # the settings the controls show now (read by tests)
TEXT_KEY = "_nw_text"  # the text shown now, as a settings file names it (core.settingsfile)
WAITING_KEY = "_nw_settings_waiting"  # a restored settings file's own text, not uploaded yet
SETTINGS_MESSAGE_KEY = "_nw_settings_message"
SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"
SAMPLES = {
    "corpus_class_reader.txt": "Class reader: eleven short texts written for RNN Lab (5,500 words)",
    "seed_sentences.txt": "The seed notes' four sentences (18 words: a toy, not a corpus)",
}
SOURCES = ("Bundled sample", "My own .txt file")
KEYS = {field.name: f"nw_{field.name}" for field in dataclasses.fields(NextWordConfig)}
HELP = {
    "cell": "The recurrent layer: LSTM and GRU remember longer; SimpleRNN is the plain loop.",
    "context": "How many previous words the network reads to guess the next one.",
    "embedding_dim": "Length of the vector that stands for each word.",
    "units": "Size of the recurrent layer's memory (its hidden state).",
    "num_layers": "Recurrent layers stacked on top of each other.",
    "dropout": "Share of values switched off at random while training: fights memorising.",
    "epochs": "Most passes over the text; training stops sooner when held-back text stops "
    "improving.",
    "seed": "Fixes the random start: the same seed and settings give the same model.",
    "budget_seconds": "Training stops after about this many seconds, keeping its best "
    "weights; each epoch sees a sample of a long text. Raise it to train longer.",
    "word_dropout": "Share of context words hidden at random while training: fights "
    "memorising.",
    "learning_rate": "Step size of each weight update: too high diverges, too low crawls.",
    "batch_size": "Examples per weight update.",
    "patience": "Epochs without improvement on held-back text before training stops; 0 = never.",
    "min_count": "Words seen fewer times than this in training become 'unknown'.",
    "max_vocab": "At most this many different words (the most frequent ones).",
    "keep_punctuation": "Treat punctuation marks as words of their own.",
    "ensemble": "Train this many networks side by side and average their guesses: usually "
    "better, but each one adds training time.",
    "shortcut": "Also give the last word straight to the output layer: learns common word "
    "pairs faster.",
    "mix_counts": "Blend the network's guesses with counting word sequences (a Kneser-Ney "
    "4-gram). How much each side counts is learnt on held-back text, separately for word "
    "pairs seen never, rarely and often. Untick to use the network alone.",
    "unk_correction": "New text holds more words the model has never seen than its training "
    "text did. This raises the chance of 'unknown' to the share measured by holding back the "
    "end of the training text. Untick to keep the training share.",
}


def defaults() -> dict[str, Any]:
    state = {KEYS[name]: value for name, value in dataclasses.asdict(NextWordConfig()).items()}
    state.update({"nw_source": SOURCES[0], "nw_sample": next(iter(SAMPLES)), "nw_prompt": "",
                  "nw_top_k": 5, "nw_temperature": 0.8, "nw_length": 25, "nw_gen_seed": 1})
    return state


# The page's address (ui.links): the text and every setting, so that it is a link to them.
LINK_FIELDS = link_fields(NextWordConfig,
                          text=Choice((*SAMPLES, "file"), "a bundled text or 'file'"))
LINK_KEYS = {**{name: (key,) for name, key in KEYS.items()},
             "text": ("nw_source", "nw_sample", "nw_upload")}


def link_state(link: Link) -> dict[str, Any]:
    state = {KEYS[name]: value for name, value in dataclasses.asdict(link.config).items()}
    text = link.values.get("text")
    if text == "file":
        state["nw_source"] = SOURCES[1]
    elif text:
        state.update(nw_source=SOURCES[0], nw_sample=text)
    return state


def link_values() -> dict[str, str | None]:
    own = st.session_state.get("nw_source") == SOURCES[1]
    return {"text": "file" if own else st.session_state.get("nw_sample")}


# ---------------------------------------------------------------------------------------------
# 1. Corpus


@st.cache_data(show_spinner=False, max_entries=16)
def read_corpus(data: bytes, name: str, keep_punctuation: bool) -> dict[str, Any]:
    """Decode, tokenise and describe a text (cached by content)."""
    corpus = decode_text(data, name)
    tokens, notes = corpus_tokens(corpus, keep_punctuation)
    return {"name": name, "text": corpus.text, "notes": notes, "encoding": corpus.encoding,
            **describe_corpus(tokens)}


def corpus_step(busy: bool) -> dict[str, Any] | None:
    source = st.radio("Text", SOURCES, key="nw_source", horizontal=True, disabled=busy,
                      help="Start with a bundled text, or upload a plain-text file of your own.")
    if source == SOURCES[0]:
        name = st.selectbox("Sample", list(SAMPLES), key="nw_sample", format_func=SAMPLES.get,
                            disabled=busy, help="Texts bundled with RNN Lab (see sample_data).")
        data = (SAMPLE_DIR / name).read_bytes()
    else:
        upload = st.file_uploader(
            "Your text file (.txt)", type=["txt"], key="nw_upload", disabled=busy,
            help="Plain text in UTF-8, UTF-16 or Latin-1. A few thousand words or more gives "
            f"useful suggestions; at most {MAX_BYTES // 1_000_000} MB is read.",
        )
        if upload is None:
            st.session_state[TEXT_KEY] = None
            waiting = st.session_state.get(WAITING_KEY)
            if waiting is not None:
                st.info(f"Restoring settings made for **{waiting.file}**: upload that file (it "
                        "is checked by its fingerprint).")
            else:
                st.info("Upload a .txt file, or choose a bundled sample above.")
            return None
        name, data = upload.name, upload.getvalue()
        _settings_for_upload(name, data)
    st.session_state[TEXT_KEY] = (DataRef(sample=name) if source == SOURCES[0]
                                  else DataRef(file=name, sha256=fingerprint(data)))
    try:
        corpus = read_corpus(data, name, bool(st.session_state[KEYS["keep_punctuation"]]))
    except RNNLabError as error:
        st.error(f"**{name} cannot be used.** {error}")
        return None
    words, common = st.columns([1, 2])
    with words:
        st.metric("Words", f"{corpus['words']:,}")
        st.metric("Different words", f"{corpus['distinct']:,}",
                  help="Each different word once, however often it appears.")
        st.metric("Seen at least twice", f"{corpus['seen_twice']:,}",
                  help="Roughly the vocabulary the model will learn with the default minimum "
                  "count of 2; rarer words become 'unknown'.")
    with common:
        top = corpus["most_common"][:15]
        figure = go.Figure(go.Bar(x=[count for _, count in top], y=[word for word, _ in top],
                                  orientation="h", marker_color="#1c7ed6"))
        figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                             yaxis={"autorange": "reversed"}, xaxis_title="times in the text",
                             title={"text": "Most frequent words", "font": {"size": 14}})
        st.plotly_chart(figure, key="nw-common", width="stretch")
    for note in corpus["notes"]:
        st.caption(f":material/info: {note}")
    if corpus["words"] < 1000:
        st.warning(f"{name} has only {corpus['words']:,} words: the model can learn a few "
                   "patterns by heart, but its suggestions will not generalise. A few thousand "
                   "words or more work better.")
    return corpus


# ---------------------------------------------------------------------------------------------
# 2. Model


FORMATS = {"learning_rate": "%.4f", "dropout": "%.2f", "word_dropout": "%.2f"}


def _number(column, label: str, name: str, low, high, step=None, disabled: bool = False):
    with column:
        return st.number_input(label, min_value=low, max_value=high, step=step, key=KEYS[name],
                               format=FORMATS.get(name), disabled=disabled, help=HELP[name])


def model_step(busy: bool) -> NextWordConfig | None:
    left, middle, right, last = st.columns(4)
    with left:
        cell = st.selectbox("Cell", cell_keys(), key=KEYS["cell"], format_func=cell_names().get,
                            disabled=busy, help=HELP["cell"])
    values = {
        "cell": cell,
        "context": _number(middle, "Context (words)", "context", 1, 64, disabled=busy),
        "embedding_dim": _number(right, "Embedding size", "embedding_dim", 2, 512, disabled=busy),
        "units": _number(last, "Units", "units", 2, 1024, disabled=busy),
        "num_layers": _number(left, "Layers", "num_layers", 1, 3, disabled=busy),
        "dropout": _number(middle, "Dropout", "dropout", 0.0, 0.9, 0.05, disabled=busy),
        "epochs": _number(right, "Epochs (most)", "epochs", 1, 500, disabled=busy),
        "seed": _number(last, "Seed", "seed", 0, 2**31 - 1, disabled=busy),
        "budget_seconds": _number(left, "Training budget (s)", "budget_seconds",
                                  *map(float, NextWordConfig.RANGES["budget_seconds"]), 10.0,
                                  disabled=busy),
    }
    with st.expander("More settings"):
        first, second, third, fourth = st.columns(4)
        values.update(
            word_dropout=_number(first, "Word dropout", "word_dropout", 0.0, 0.9, 0.05, busy),
            learning_rate=_number(second, "Learning rate", "learning_rate", 1e-6, 1.0, 0.0005,
                                  busy),
            batch_size=_number(third, "Batch size", "batch_size", 1, 4096, disabled=busy),
            patience=_number(fourth, "Patience", "patience", 0, 100, disabled=busy),
            min_count=_number(first, "Minimum word count", "min_count", 1, 100, disabled=busy),
            max_vocab=_number(second, "Largest vocabulary", "max_vocab", 10, 100000,
                              disabled=busy),
            ensemble=_number(first, "Networks averaged", "ensemble", 1, 5, disabled=busy),
        )
        with third:
            values["keep_punctuation"] = st.checkbox(
                "Punctuation as words", key=KEYS["keep_punctuation"], disabled=busy,
                help=HELP["keep_punctuation"])
        with fourth:
            values["shortcut"] = st.checkbox("Last-word shortcut", key=KEYS["shortcut"],
                                             disabled=busy, help=HELP["shortcut"])
            values["mix_counts"] = st.checkbox("Mix in word counts", key=KEYS["mix_counts"],
                                               disabled=busy, help=HELP["mix_counts"])
            values["unk_correction"] = st.checkbox(
                "Expect new words", key=KEYS["unk_correction"], disabled=busy,
                help=HELP["unk_correction"])
    with st.expander("Restore settings from an earlier run"):
        st.file_uploader("Settings file (.json)", type=["json"], key="nw_settings_file",
                         on_change=_load_settings, disabled=busy,
                         help="A settings file downloaded from this page.")
        message = st.session_state.get(SETTINGS_MESSAGE_KEY)
        if message:
            kind, text = message
            {"error": st.error, "warning": st.warning}.get(kind, st.success)(text)
    try:
        config = NextWordConfig(**values)
    except RNNLabError as error:
        st.error(f"**These settings do not fit together.** {error}")
        return None
    st.session_state[CONFIG_KEY] = config
    return config


def _load_settings() -> None:
    """Callback: copy an uploaded settings file into the widgets (before they are drawn) and
    bring back its text: select the sample, or ask for the file and check its fingerprint."""
    upload = st.session_state.get("nw_settings_file")
    st.session_state.pop(WAITING_KEY, None)
    st.session_state.pop(SETTINGS_MESSAGE_KEY, None)
    if upload is None:
        return
    try:
        config, data = read_settings(upload.getvalue(), NextWordConfig)
    except RNNLabError as error:
        _say("error", f"**These settings cannot be used.** {error}")
        return
    if data is not None and data.sample is not None and data.sample not in SAMPLES:
        _say("error", f"{upload.name} was made for a text this RNN Lab does not have "
             f"({data.sample!r}). Nothing was changed.")
        return
    for name, value in dataclasses.asdict(config).items():
        st.session_state[KEYS[name]] = value
    shown = st.session_state.get(TEXT_KEY)
    if data is None:
        _say("warning", f"Settings restored from {upload.name}. It does not say which text it "
             "was made for (it is older): the text shown stays.")
    elif data.sample is not None:
        st.session_state.update(nw_source=SOURCES[0], nw_sample=data.sample)
        _say("success", f"Settings restored from {upload.name}, with the text they were made "
             f"for: {SAMPLES[data.sample]}.")
    elif (st.session_state.get("nw_source") == SOURCES[1] and shown is not None
          and shown.sha256 == data.sha256):
        _say("success", f"Settings restored from {upload.name}, for {shown.file} (the same "
             "file: its fingerprint matches).")
    else:
        st.session_state["nw_source"] = SOURCES[1]
        st.session_state[WAITING_KEY] = data
        _say("warning", f"Settings restored from {upload.name}. They were made for your file "
             f"**{data.file}**: upload it above (it is checked by its fingerprint).")


def _settings_for_upload(name: str, data: bytes) -> None:
    """A settings file waits for its text: say whether this upload is that file."""
    waiting = st.session_state.pop(WAITING_KEY, None)
    if waiting is None:
        return
    if waiting.same_file(data):
        _say("success", f"{name} is the file the settings were made for (its fingerprint "
             "matches).")
    else:
        _say("warning", f"{name} is not the file the settings were made for ({waiting.file}; "
             "the fingerprints differ): the model will learn from another text than theirs.")


def _say(kind: str, text: str) -> None:
    st.session_state[SETTINGS_MESSAGE_KEY] = (kind, text)


# ---------------------------------------------------------------------------------------------
# 3. Train


def train_step(corpus: dict | None, config: NextWordConfig | None, busy: bool) -> None:
    ready = corpus is not None and config is not None
    if ready:
        st.caption(f"About {estimate_seconds(corpus['words'], config):.0f} s on this text: "
                   f"at most {config.budget_seconds:.0f} s of training, then scoring.")
    clicked = st.button("Train model", key="nw_train", type="primary", disabled=busy or not ready,
                        help="Starts training in the background. You can keep using the app, "
                        "even other pages, while it trains.")
    if clicked and ready and not busy:
        payload = {"text": corpus["text"], "name": corpus["name"], "config": config.to_dict()}
        run = {"name": corpus["name"], "config": config,
               "data": st.session_state.get(TEXT_KEY)}
        if start_job(JOB_KEY, TASK, payload, record=run):
            st.session_state[RUN_KEY] = run
            st.rerun()  # redraw the controls above as disabled while the job runs
    if not ready and current_job(JOB_KEY) is None:
        st.caption("Choose a text and settings above first.")
    snapshot = training_panel(JOB_KEY, metrics=("loss", "val_loss"))
    if snapshot is None and ready:
        st.caption("Press **Train model** to start. The learning curve appears here.")
    elif snapshot is not None and snapshot.logs:
        last = snapshot.logs[-1]
        accuracy = []
        for label, is_validation in (("training", False), ("held-back text", True)):
            values = [value for name, value in last.items() if name.endswith("accuracy")
                      and name.startswith("val_") == is_validation]
            if values:
                accuracy.append(f"{label} {sum(values) / len(values):.1%}")
        if accuracy:
            st.caption(f"Next-word accuracy of the network at epoch {last['epoch']}: "
                       f"{', '.join(accuracy)} (before word counts and the unknown-word "
                       "correction are added: the held-out scores below include them).")


# ---------------------------------------------------------------------------------------------
# 4. Use the model


@st.cache_resource(show_spinner="Loading the trained model...", max_entries=4)
def load_model(model_dir: str) -> NextWordModel:
    return NextWordModel.load(model_dir)


@st.cache_resource(show_spinner="Checking and loading the model file...", max_entries=4)
def load_model_file(data: bytes) -> NextWordModel:
    return NextWordModel.from_model_file(data)


def saved_model_step() -> bool:
    """Suggest and write with a model file saved earlier, without training; True when shown."""
    with st.expander("Use a model file saved earlier (.rnnlab)"):
        upload = model_upload("nw_model_file")
    if upload is None:
        return False
    try:
        model = load_model_file(upload.getvalue())
    except RNNLabError as error:
        st.error(f"**This model file cannot be used.** {error}")
        return False
    st.success(f"Using the uploaded model file: no training needed. "
               f"{trained_summary(model.trained_on_, model.created_)}")
    st.subheader("Suggest the next word")
    suggest_view(model)
    st.subheader("Write on")
    generate_view(model)
    return True


def results_step(config: NextWordConfig | None) -> None:
    if saved_model_step():
        return
    finished = finished_run(
        JOB_KEY,
        RUN_KEY,
        config,
        waiting="Suggestions, generated text, the held-out scores and the downloads appear "
        "here when training has finished.",
        nothing="This run produced no model (see the message above). Change the settings and "
        "train again.",
    )
    if finished is None:
        return
    job, run = finished
    try:
        model = load_model(job.result["model_dir"])
    except RNNLabError as error:
        st.error(f"**The trained model cannot be loaded.** {error} Train it again.")
        return
    scores_view(job.result["metrics"])
    st.subheader("Suggest the next word")
    suggest_view(model)
    st.subheader("Write on")
    generate_view(model)
    st.subheader("Downloads")
    downloads(job.result, run["config"], run.get("data"), key=job.id)


def scores_view(metrics: dict) -> None:
    base = metrics["baseline"]
    rows = {
        "Top-1 accuracy": (metrics["top1"], base["top1"], "{:.1%}"),
        "Top-5 accuracy": (metrics["top5"], base["top5"], "{:.1%}"),
        "Perplexity": (metrics["perplexity"], base["perplexity"], "{:.1f}"),
    }
    cell = get_cell(metrics["cell"]).name
    alone = metrics.get("network")
    model = f"{cell} + counts" if alone else cell
    st.markdown(
        f"Scored on the last **{metrics['test_words']:,} words** of the text, which training "
        f"never saw ({metrics['unknown_share']:.0%} of them are 'unknown' words, which count "
        f"too). Vocabulary: {metrics['vocab_size']:,} words."
    )
    if "unknown_expected_share" in metrics:
        st.caption(
            f"'Unknown' was {metrics['unknown_training_share']:.0%} of the training words; "
            f"replaying the split inside them predicted {metrics['unknown_expected_share']:.0%} "
            f"for new text ({metrics['unknown_share']:.0%} in the held-out words)."
        )
    columns = st.columns(3)
    for column, (label, (mine, theirs, form)) in zip(columns, rows.items(), strict=True):
        better = mine < theirs if label == "Perplexity" else mine > theirs
        column.metric(f"{label} · {model}", form.format(mine),
                      delta=f"{base['name']}: {form.format(theirs)}",
                      delta_color="normal" if better else "inverse",
                      help=_SCORE_HELP[label])
    wins = figures_won(metrics, base)
    if wins == 3:
        st.success(f"The model ({model}) beats counting alone ({base['name']}) on all three "
                   "scores.")
    elif wins == 0:
        st.warning(f"Counting ({base['name']}) beats the model ({model}) on all three scores: "
                   "with little text, memorising word triples is hard to beat. Try more text, "
                   "more dropout or a smaller model.")
    else:
        st.info(f"The model ({model}) beats counting alone ({base['name']}) on {wins} of 3 "
                "scores.")
    if alone:
        _parts_table(metrics, cell)


def _parts_table(metrics: dict, cell: str) -> None:
    """The mixed model beside its two parts: what the network adds to counting, and vice versa."""
    base, alone = metrics["baseline"], metrics["network"]
    shares = metrics.get("mix_shares") or []
    table = pd.DataFrame(
        [[f"{cell} + counts (used for suggestions)", metrics["top1"], metrics["top5"],
          metrics["perplexity"]],
         [f"{cell} network alone", alone["top1"], alone["top5"], alone["perplexity"]],
         [f"Counting alone ({base['name']})", base["top1"], base["top5"], base["perplexity"]]],
        columns=["Model", "Top-1 accuracy", "Top-5 accuracy", "Perplexity"],
    )
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "Top-1 accuracy": st.column_config.NumberColumn(format="percent"),
        "Top-5 accuracy": st.column_config.NumberColumn(format="percent"),
        "Perplexity": st.column_config.NumberColumn(format="%.1f"),
    })
    if shares:
        st.caption(
            "How much the network counts in the mix, learnt on held-back text: "
            + ", ".join(f"{share:.0%} {label}" for share, label in zip(shares, SHARE_LABELS,
                                                                        strict=False))
            + ". The rest comes from counting word sequences (a Kneser-Ney 4-gram)."
        )
    wins = figures_won(alone, base)
    st.caption(f"The {cell} network alone beats counting on {wins} of 3 scores.")


SHARE_LABELS = ("after word pairs never seen in training", "seen once or twice",
                "seen 3 to 9 times", "seen 10 times or more",
                "where the counts give one word half the probability or more")


_SCORE_HELP = {
    "Top-1 accuracy": "How often the model's first guess is the word that really came next.",
    "Top-5 accuracy": "How often the real next word is among the model's five best guesses.",
    "Perplexity": "How surprised the model is by the real next words, as the number of equally "
    "likely words it is choosing between. Lower is better.",
}


def suggest_view(model: NextWordModel) -> None:
    prompt_column, k_column = st.columns([4, 1])
    with prompt_column:
        prompt = st.text_input("Start of a sentence", key="nw_prompt",
                               placeholder="for example: the children", help=
                               "Type a few words; words the model does not know count as "
                               "'unknown'.")
    with k_column:
        top_k = st.number_input("Suggestions", 1, 20, key="nw_top_k",
                                help="How many next words to show.")
    try:
        suggestions = model.suggest(prompt, top_k=int(top_k))
    except RNNLabError as error:
        st.error(str(error))
        return
    unknown = [word for word in prompt.lower().split() if word.strip(".,!?;:") and
               word.strip(".,!?;:") not in model.vocab_]
    if unknown:
        st.caption(f"Not in the vocabulary (read as 'unknown'): {', '.join(unknown[:10])}.")
    figure = go.Figure(go.Bar(
        x=[s["probability"] for s in suggestions], y=[s["word"] for s in suggestions],
        orientation="h", marker_color="#d9480f",
        text=[f"{s['probability']:.1%}" for s in suggestions], textposition="auto",
    ))
    figure.update_layout(height=60 + 28 * len(suggestions), yaxis={"autorange": "reversed"},
                         margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         xaxis={"title": "probability", "tickformat": ".0%" if max(
                             [s["probability"] for s in suggestions], default=1) > 0.2 else ".1%"},
                         title={"text": f"After \u201c{prompt.strip() or '(start of text)'}\u201d",
                                "font": {"size": 14}})
    st.plotly_chart(figure, key="nw-suggestions", width="stretch")
    unknown_share = float(model.predict_proba(prompt)[UNK_ID])
    st.caption(f"Not shown: a word the model does not know ('unknown', {unknown_share:.0%}). The "
               "bars are each word's share of all that might come next, so they need not add "
               "up to much when many words fit.")


def generate_view(model: NextWordModel) -> None:
    first, second, third, fourth = st.columns(4)
    temperature = first.slider("Temperature", 0.0, 2.0, step=0.05, key="nw_temperature",
                               help="0 always takes the most likely word; higher is more "
                               "surprising (and less sensible).")
    length = second.slider("Length (words)", 1, 200, key="nw_length",
                           help="How many words to write.")
    top_k = third.number_input("Choose among the top", 0, 1000, value=0, key="nw_gen_top_k",
                               help="Draw only among this many most likely words; 0 = all.")
    seed = fourth.number_input("Seed", 0, 2**31 - 1, key="nw_gen_seed",
                               help="The same seed writes the same text.")
    if st.button("Generate", key="nw_generate",
                 help="Writes on from the start of a sentence above, one word at a time."):
        prompt = st.session_state.get("nw_prompt", "")
        words = model.generate(prompt, length=int(length), temperature=float(temperature),
                               top_k=int(top_k), seed=int(seed))
        st.write_stream(_spaced(prompt, words))


def _spaced(prompt: str, words):
    """The prompt, then each generated word with a space before it (none before punctuation)."""
    started = bool(prompt.strip())
    if started:
        yield prompt.strip()
    for word in words:
        punctuation = len(word) == 1 and not word.isalnum()
        yield word if not started or punctuation else f" {word}"
        started = True


def downloads(result: dict, config: NextWordConfig, data: DataRef | None, key: str) -> None:
    left, right, _ = st.columns([1, 1, 2])
    left.download_button(
        "Model file (.rnnlab)", Path(result["model_dir"], MODEL_FILE).read_bytes(),
        file_name=f"nextword-{config.cell}.rnnlab", mime="application/octet-stream",
        key=f"nw-model-{key}",
        help="The trained model, its vocabulary and what it was trained on, signed by this "
        "server. Upload it under 'Use a model file saved earlier' to use it again without "
        "training, or run `python -m core suggest --model FILE --prompt \"...\"`.",
    )
    right.download_button(
        "Settings (.json)", settings_json(config, data), file_name="nextword_settings.json",
        mime="application/json", key=f"nw-settings-{key}",
        help="The settings and the text they were trained on (a bundled sample, or your "
        "file's name and fingerprint). Upload it under 'Restore settings' to train the same "
        "model again.",
    )
    with st.expander("Scores as JSON"):
        st.code(json.dumps(result["metrics"], indent=2), language="json")


# ---------------------------------------------------------------------------------------------


def main() -> None:
    init(defaults(), title="Next word · RNN Lab")
    busy = is_busy(JOB_KEY)
    st.title("Predict the next word")
    st.markdown(
        "Four steps, top to bottom: choose a **text**, set up the **model**, **train** it and "
        "watch it learn, then **use** it: type the start of a sentence and see which words it "
        "expects next, let it write on, and compare its scores with simple counting."
    )
    follow_link("nw", NextWordConfig, LINK_FIELDS, link_state, LINK_KEYS)
    link_spot = st.container()
    notice = st.container()  # always drawn, so the job panel's place (its fragment) never moves
    if busy:
        notice.info("Training is running: the text and model settings are locked until it ends "
                    "(or press **Stop training** below).")
    st.header("1. Text", anchor="text")
    corpus = corpus_step(busy)
    st.header("2. Model", anchor="model")
    config = model_step(busy)
    params = publish_link("nw", config, link_values(), LINK_FIELDS, {"text": next(iter(SAMPLES))})
    with link_spot:
        copy_link(params)
    st.header("3. Train", anchor="train")
    train_step(corpus, config, busy)
    st.header("4. Use the model", anchor="use")
    results_step(config)


# Streamlit runs this file as "__main__"; training workers started with `spawn` import it again
# as "__mp_main__", and must not draw (or start) anything.
if __name__ == "__main__":
    main()
