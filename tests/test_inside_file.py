"""Model files of the Inside the cell page (core.inside): a trained cell looked inside again."""

from __future__ import annotations

import numpy as np
import pytest

from core.cells import CellWeights, run_stack
from core.inside import SAMPLE_DIR, InsideConfig, load_inside_file, save_inside_file
from core.modelfile import ModelFileError, save_model_file

SECRET_ENV = {"RNNLAB_SECRET": "a-test-secret-of-enough-characters"}


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    for name, value in SECRET_ENV.items():
        monkeypatch.setenv(name, value)


def random_layers(cell: str, blocks: int, features: int, units: int, layers: int):
    generator = np.random.default_rng(0)
    made = []
    for _ in range(layers):
        bias = generator.normal(size=(2, blocks * units) if cell == "gru" else blocks * units)
        made.append(CellWeights(cell, generator.normal(size=(features, blocks * units)),
                                generator.normal(size=(units, blocks * units)), bias))
        features = units
    head = (generator.normal(size=(units, 1)), generator.normal(size=(1,)))
    return made, head


@pytest.mark.parametrize(("cell", "blocks", "layers"), [("rnn", 1, 1), ("lstm", 4, 2),
                                                        ("gru", 3, 1)])
def test_a_saved_cell_comes_back_with_the_same_gates_and_answers(cell, blocks, layers):
    config = InsideConfig(cell=cell, units=3, num_layers=layers, gap=4, seed=2)
    weights, head = random_layers(cell, blocks, 2, 3, layers)  # echo: number and mark
    result = load_inside_file(save_inside_file(config, weights, head))
    assert result["config"] == config.to_dict()
    assert len(result["labels"]) == len(result["windows"]) == 64  # the held-out sequences
    again = run_stack(result["weights"], result["windows"])
    expected = run_stack(weights, result["windows"])
    for mine, theirs in zip(again, expected, strict=True):
        for name in theirs:
            np.testing.assert_allclose(mine[name], theirs[name], atol=1e-12)
    np.testing.assert_allclose(result["predictions"],
                               expected[-1]["hidden"][:, -1] @ head[0] + head[1], atol=1e-12)


def test_a_series_model_keeps_only_the_samples_name_and_finds_it_here():
    config = InsideConfig(source="series", cell="rnn", units=2, window=5,
                          path=str(SAMPLE_DIR / "lynx.csv"))
    weights, head = random_layers("rnn", 1, 1, 2, 1)
    data = save_inside_file(config, weights, head)
    assert str(SAMPLE_DIR).encode() not in data  # no path of this machine in the file
    result = load_inside_file(data)
    assert result["config"]["path"] == str(SAMPLE_DIR / "lynx.csv")
    elsewhere = save_inside_file(config.replace(path="/home/someone/sales.csv"), weights, head)
    with pytest.raises(ModelFileError, match="does not bundle"):
        load_inside_file(elsewhere)


def test_files_of_another_kind_or_with_wrong_layers_are_refused():
    config = InsideConfig(cell="rnn", units=3)
    weights, head = random_layers("rnn", 1, 2, 3, 1)
    other = save_model_file("nextword", {"config": {}}, {"w": np.zeros(2)})
    with pytest.raises(ModelFileError):
        load_inside_file(other)
    with pytest.raises(ModelFileError, match="layers do not match"):
        load_inside_file(save_inside_file(config.replace(num_layers=2), weights, head))
    with pytest.raises(ModelFileError, match="first layer"):
        wide, _ = random_layers("rnn", 1, 3, 3, 1)  # reads 3 inputs; the echo task has 2
        load_inside_file(save_inside_file(config, wide, head))
