"""The time left shown while training (core.training.seconds_left): honest from the start."""

from __future__ import annotations

import pytest

from core.training import seconds_left


def test_no_estimate_before_a_second_epoch_has_ended():
    # The first epoch also builds and traces the network: 13 s here, 0.25 s for the next ones.
    assert seconds_left([], 100) is None
    assert seconds_left([{"epoch": 1, "seconds": 13.0}], 100) is None


def test_the_estimate_uses_the_later_epochs_not_the_first():
    logs = [{"epoch": 1, "seconds": 13.0}, {"epoch": 2, "seconds": 0.3},
            {"epoch": 3, "seconds": 0.25}, {"epoch": 4, "seconds": 0.2}]
    # the median of the last three later epochs (0.25 s) times the 96 planned epochs left
    assert seconds_left(logs, 100) == pytest.approx(0.25 * 96)
    # what the old estimate said (time so far / epochs so far): 13.75 / 4 * 96 = 330 s
    assert seconds_left(logs, 100) < 30


def test_nothing_left_and_unknown_totals():
    logs = [{"epoch": 1, "seconds": 2.0}, {"epoch": 2, "seconds": 1.0}]
    assert seconds_left(logs, 2) == 0.0
    assert seconds_left(logs, 0) is None  # the task has not said how many epochs it plans
    assert seconds_left([{"epoch": 1}, {"epoch": 2}], 10) is None  # no times logged


def test_a_log_counting_several_steps_per_epoch():
    # The home page's seed examples log ten of their steps per Keras epoch.
    logs = [{"epoch": 10, "seconds": 5.0}, {"epoch": 20, "seconds": 1.0}]
    assert seconds_left(logs, 100) == pytest.approx(0.1 * 80)


def test_several_trainings_count_their_epochs_and_first_epochs_left():
    # A comparison: 10 epochs left in all, and two trainings still to start, each paying its
    # first epoch's extra time (5 s - 1 s).
    logs = [{"epoch": 1, "seconds": 5.0},
            {"epoch": 1, "seconds": 1.0, "most_epochs_left": 10, "starts_left": 2}]
    assert seconds_left(logs, 3) == pytest.approx(1.0 * 10 + 4.0 * 2)
