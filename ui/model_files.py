"""RNN Lab model files on a page: the upload that brings a saved model back, and what it says.

The file itself is checked by `core.modelfile` (signature, sizes, fields) inside the loader the
page passes in; this module only draws the uploader and words what the file says it learnt from.
"""

from __future__ import annotations

import datetime
from typing import Any

import streamlit as st

from core.modelfile import SUFFIX

_MARKDOWN = str.maketrans({char: f"\\{char}" for char in "\\`*_{}[]<>()#+-.!|~$:"})


def model_upload(key: str, disabled: bool = False):
    """An uploader for a model file saved by RNN Lab; the upload (or None)."""
    return st.file_uploader(
        f"Model file ({SUFFIX})",
        type=[SUFFIX.lstrip(".")],
        key=key,
        disabled=disabled,
        help=f"A {SUFFIX} file downloaded from this page after training. It is checked before "
        "anything is loaded: a file from another server, an edited file or a Keras file is "
        "refused.",
    )


def trained_summary(trained_on: dict[str, Any], created: str) -> str:
    """One sentence: what the model learnt from, when, and how it scored (markdown-safe)."""
    name = trained_on.get("name")
    words = trained_on.get("words")
    parts = ["This model was trained"]
    if isinstance(name, str) and name:
        parts.append(f"on **{_plain(name)}**")
    if isinstance(words, int) and not isinstance(words, bool):
        parts.append(f"({words:,} words)")
    when = saved_at(created)
    if when:
        parts.append(f"and saved {when}")
    sentence = " ".join(parts) + "."
    top1, top5 = trained_on.get("top1"), trained_on.get("top5")
    if isinstance(top1, float) and isinstance(top5, float):
        sentence += (f" On its held-out words its first guess was right {top1:.0%} of the time, "
                     f"and the right word was in its top five {top5:.0%} of the time.")
    return sentence


def saved_at(created: str) -> str:
    """'on 2 December 2026 at 15:04 UTC' from the file's ISO time ('' when unreadable)."""
    try:
        moment = datetime.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        return ""
    return f"on {moment.day} {moment:%B %Y} at {moment:%H:%M} UTC"


def _plain(text: str, limit: int = 80) -> str:
    """A name from a file, cut short and with markdown's special characters escaped."""
    text = " ".join(text.split())
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return text.translate(_MARKDOWN)
