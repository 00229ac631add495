"""The window sampler: a fixed number per epoch, every window reachable, reproducible."""

import math

import numpy as np
import pytest

from core.errors import ConfigError
from core.sampling import sample_positions


@pytest.mark.parametrize("available, per_epoch", [(10, 4), (100, 7), (1000, 1000), (50, 1)])
def test_fixed_count_per_epoch_without_repeats(available, per_epoch):
    for epoch in range(12):
        drawn = sample_positions(available, per_epoch, epoch, seed=3)
        assert len(drawn) == per_epoch
        assert len(np.unique(drawn)) == per_epoch
        assert drawn.min() >= 0 and drawn.max() < available


@pytest.mark.parametrize("available, per_epoch", [(10, 4), (100, 7), (1000, 300), (9, 3)])
def test_every_window_reachable_within_a_pass(available, per_epoch):
    epochs = math.ceil(available / per_epoch)
    seen = np.concatenate([sample_positions(available, per_epoch, e, seed=5) for e in range(epochs)])
    assert set(seen.tolist()) == set(range(available))


def test_the_first_pass_sees_each_window_exactly_once():
    seen = np.concatenate([sample_positions(10, 5, e, seed=1) for e in range(2)])
    assert sorted(seen.tolist()) == list(range(10))


def test_same_seed_same_draw_and_other_seed_other_draw():
    assert np.array_equal(sample_positions(500, 50, 4, seed=9), sample_positions(500, 50, 4, seed=9))
    assert not np.array_equal(sample_positions(500, 50, 4, seed=9),
                              sample_positions(500, 50, 4, seed=10))


def test_different_epochs_differ():
    draws = [tuple(sample_positions(500, 50, e, seed=0)) for e in range(10)]
    assert len(set(draws)) == 10
    # also once the first pass is exhausted (all positions fit in one epoch)
    assert not np.array_equal(sample_positions(20, 50, 0, seed=0), sample_positions(20, 50, 1, seed=0))


def test_fewer_available_than_per_epoch_gives_all_of_them():
    drawn = sample_positions(7, 100, 3, seed=2)
    assert sorted(drawn.tolist()) == list(range(7))
    assert len(sample_positions(0, 10, 0)) == 0


@pytest.mark.parametrize("args", [(-1, 5, 0), (10, 0, 0), (10, 5, -1)])
def test_bad_arguments_say_what_was_received(args):
    with pytest.raises(ConfigError, match="received"):
        sample_positions(*args)
