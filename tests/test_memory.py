"""The long-memory experiment: the echo generator exactly, gradients per step, one tiny run."""

import pickle

import numpy as np
import pytest

from core.errors import ConfigError, InputError
from core.jobs import JobContext
from core.memory import (
    TOLERANCE,
    MemoryConfig,
    echo_accuracy,
    gaps_up_to,
    make_echo,
    memory_task,
    steps_back,
)


def test_echo_answer_is_the_marked_number_k_steps_before_the_end():
    x, y = make_echo(samples=6, k=3, lead=2, seed=1)
    assert x.shape == (6, 6, 2) and y.shape == (6,)
    values = np.random.default_rng(1).uniform(-1.0, 1.0, size=(6, 6)).astype("float32")
    np.testing.assert_array_equal(x[:, :, 0], values)
    np.testing.assert_array_equal(x[:, :, 1], np.tile([0, 0, 1, 0, 0, 0], (6, 1)))
    np.testing.assert_array_equal(y, values[:, 2])  # 3 steps before the last (index 5)


def test_echo_without_a_lead_marks_the_first_step():
    x, y = make_echo(samples=2, k=1, lead=0, seed=0)
    assert x.shape == (2, 2, 2)
    np.testing.assert_array_equal(x[:, :, 1], [[1, 0], [1, 0]])
    np.testing.assert_array_equal(y, x[:, 0, 0])


def test_echo_is_reproducible_and_seed_dependent():
    a, _ = make_echo(10, 4, seed=3)
    b, _ = make_echo(10, 4, seed=3)
    c, _ = make_echo(10, 4, seed=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize("samples,k,lead", [(0, 1, 0), (5, 0, 0), (5, 1, -1)])
def test_echo_refuses_impossible_sizes(samples, k, lead):
    with pytest.raises(InputError, match="received"):
        make_echo(samples, k, lead)


def test_echo_accuracy_counts_answers_within_the_tolerance():
    assert echo_accuracy([0.0, 0.5, -0.3, 0.7], [0.05, 0.7, -0.3, 1.0], tolerance=0.1) == 0.5
    assert echo_accuracy(np.array([[0.2]]), np.array([0.2])) == 1.0


def test_always_answering_zero_is_right_about_tolerance_of_the_time():
    _, y = make_echo(20000, 2, seed=0)
    assert echo_accuracy(np.zeros_like(y), y) == pytest.approx(TOLERANCE, abs=0.01)


@pytest.mark.parametrize("longest,count,expected", [
    (30, 5, [1, 8, 16, 23, 30]),
    (2, 5, [1, 2]),
    (1, 3, [1]),
    (10, 1, [10]),
])
def test_gaps_up_to(longest, count, expected):
    assert gaps_up_to(longest, count) == expected


def test_steps_back_counts_from_the_last_input():
    np.testing.assert_array_equal(steps_back([0.1, 0.2, 0.3]), [2, 1, 0])


def test_config_checks_cells_and_ranges():
    assert MemoryConfig(cells="gru, lstm").cell_list == ["gru", "lstm"]
    with pytest.raises(ConfigError, match="'gru,cnn'"):
        MemoryConfig(cells="gru,cnn")
    with pytest.raises(ConfigError, match="longest_gap"):
        MemoryConfig(longest_gap=0)


def test_gradient_reaches_only_the_steps_the_model_reads():
    keras = pytest.importorskip("keras")
    from core.memory import input_gradient_norms

    model = keras.Sequential([
        keras.Input((4, 2)),
        keras.layers.Lambda(lambda x: x[:, -1, :]),
        keras.layers.Dense(1),
    ])
    x, y = make_echo(8, 3, lead=0, seed=0)
    norms = input_gradient_norms(model, x, y)
    assert norms.shape == (4,)
    np.testing.assert_array_equal(norms[:3], 0.0)
    assert norms[3] > 0


@pytest.mark.slow
def test_memory_task_trains_every_cell_on_every_gap(tmp_path):
    logs = []
    context = JobContext(tmp_path, send=lambda kind, data: logs.append((kind, data)))
    config = MemoryConfig(longest_gap=3, gap_count=2, samples=64, units=4, epochs=2,
                          cells="rnn,gru")
    result = memory_task({"config": config.to_dict()}, context)
    assert [(run["cell"], run["k"]) for run in result["runs"]] == [
        ("rnn", 1), ("rnn", 3), ("gru", 1), ("gru", 3)]
    assert all(0.0 <= run["accuracy"] <= 1.0 and run["epochs"] == 2 for run in result["runs"])
    epochs = [data for kind, data in logs if kind == "epoch"]
    assert [log["epoch"] for log in epochs] == [1, 2, 3, 4]  # one log per run, not per epoch
    assert result["gaps"] == [1, 3] and result["chance"] == TOLERANCE
    for cell in ("rnn", "gru"):
        assert len(result["gradients"][cell]["after"]) == 5 + 3 + 1  # lead + k + 1 steps
        assert result["weights"][cell][0].cell == cell
    pickle.dumps(result)  # crosses the process boundary
