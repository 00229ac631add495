"""Import a page file as a module (its top-level names), without running its `main()`."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def next_word_page():
    spec = importlib.util.spec_from_file_location("next_word_page", ROOT / "pages" / "2_Next_Word.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
