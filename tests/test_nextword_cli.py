"""`python -m core nextword` and `suggest` end to end: files written, JSON out, one-line errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from core.config import NextWordConfig
from tests.cli_helpers import assert_one_error_line

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "sample_data" / "seed_sentences.txt"


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True,
        timeout=timeout,
    )



@pytest.mark.slow
def test_nextword_then_suggest_end_to_end(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text(NextWordConfig(units=16, embedding_dim=8, min_count=1).to_json())
    out = tmp_path / "model"
    result = run_cli("nextword", "--data", str(SEED), "--cell", "gru", "--context", "3",
                     "--epochs", "3", "--seed", "5", "--config", str(settings), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in out.iterdir()) == [
        "config.json", "counts.npz", "metrics.json", "model.rnnlab", "vocabulary.json",
        "weights.npz"
    ]
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("cell", "vocab_size", "train_words", "test_words", "seconds", "epochs_run",
                "top1", "top5", "perplexity"):
        assert key in metrics
    assert set(metrics["baseline"]) >= {"top1", "top5", "perplexity"}
    assert set(metrics["network"]) >= {"top1", "top5", "perplexity"}  # the network alone
    assert metrics["cell"] == "gru" and metrics["epochs_run"] == 3
    assert metrics["train_words"] + metrics["test_words"] == 17  # the seed has 17 words
    config = NextWordConfig.from_json((out / "config.json").read_text())
    assert (config.cell, config.context, config.units, config.seed) == ("gru", 3, 16, 5)
    assert json.loads(result.stdout)["perplexity"] == metrics["perplexity"]

    suggested = run_cli("suggest", "--model", str(out), "--prompt", "I love", "-k", "3")
    assert suggested.returncode == 0, suggested.stderr
    suggestions = json.loads(suggested.stdout)
    assert len(suggestions) == 3
    assert all(set(item) == {"word", "probability"} for item in suggestions)
    probabilities = [item["probability"] for item in suggestions]
    assert probabilities == sorted(probabilities, reverse=True)
    assert 0 < sum(probabilities) <= 1 + 1e-6
    # the model file alone, moved elsewhere, gives the same suggestions
    moved = tmp_path / "elsewhere" / "reader.rnnlab"
    moved.parent.mkdir()
    moved.write_bytes((out / "model.rnnlab").read_bytes())
    from_file = run_cli("suggest", "--model", str(moved), "--prompt", "I love", "-k", "3")
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout) == suggestions
    # an edited file: one error line, exit code 2
    data = bytearray(moved.read_bytes())
    data[len(data) // 2] ^= 0xFF
    moved.write_bytes(bytes(data))
    assert_one_error_line(run_cli("suggest", "--model", str(moved), "--prompt", "I"),
                          "model file")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 30, "binary"),
        (b"too short", "at least"),
    ],
)
def test_nextword_refuses_bad_files_with_one_error_line(tmp_path, content, fragment):
    data = tmp_path / "corpus.txt"
    data.write_bytes(content)
    result = run_cli("nextword", "--data", str(data), "--out", str(tmp_path / "out"))
    assert_one_error_line(result, fragment)


def test_nextword_reports_a_missing_file_and_bad_options(tmp_path):
    assert_one_error_line(
        run_cli("nextword", "--data", str(tmp_path / "nope.txt"), "--out", str(tmp_path)),
        "no file",
    )
    assert_one_error_line(
        run_cli("nextword", "--data", str(SEED), "--context", "0", "--out", str(tmp_path)),
        "context",
    )
    assert_one_error_line(
        run_cli("nextword", "--data", str(SEED), "--cell", "transformer", "--out", str(tmp_path)),
        "invalid choice",
    )


def test_suggest_refuses_a_folder_that_is_not_a_model(tmp_path):
    assert_one_error_line(
        run_cli("suggest", "--model", str(tmp_path), "--prompt", "hello"), "has no model.rnnlab"
    )


def test_suggest_refuses_keras_foreign_and_missing_files_with_one_error_line(tmp_path):
    import io
    import zipfile

    keras_like = io.BytesIO()
    with zipfile.ZipFile(keras_like, "w") as archive:
        for name in ("metadata.json", "config.json", "model.weights.h5"):
            archive.writestr(name, b"{}")
    cases = {
        "model.keras": (keras_like.getvalue(), "This is a Keras .keras file"),
        "model.rnnlab": (keras_like.getvalue(), "This is a Keras .keras file"),  # by content
        "model.h5": (b"\x89HDF\r\n\x1a\n" + bytes(100), "Keras .h5"),
        "random.rnnlab": (bytes(range(256)) * 4, "not an RNN Lab model file"),
    }
    for name, (content, fragment) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert_one_error_line(
            run_cli("suggest", "--model", str(tmp_path / name), "--prompt", "hi"), fragment)
    assert_one_error_line(
        run_cli("suggest", "--model", str(tmp_path / "absent.rnnlab"), "--prompt", "hi"),
        "There is no model file")


def test_help_lists_both_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "nextword" in result.stdout and "suggest" in result.stdout
