"""Error measures on values small enough to check by hand."""

import math

import numpy as np
import pytest

from core.metrics import mae, mase, mase_scale, rmse, score, smape

ACTUAL = [1.0, 2.0, 3.0, 4.0]
FORECAST = [2.0, 2.0, 1.0, 4.0]  # errors 1, 0, -2, 0


def test_mae_and_rmse_by_hand():
    assert mae(ACTUAL, FORECAST) == pytest.approx(3 / 4)
    assert rmse(ACTUAL, FORECAST) == pytest.approx(math.sqrt(5 / 4))


def test_smape_is_in_percent_and_treats_zero_over_zero_as_no_error():
    # 2*1/3, 0, 2*2/4, 0 -> (2/3 + 1) / 4 = 5/12
    assert smape(ACTUAL, FORECAST) == pytest.approx(100 * 5 / 12)
    assert smape([0.0, 1.0], [0.0, 1.0]) == 0.0


def test_mase_scales_by_the_in_sample_seasonal_naive_error():
    train = np.array([1.0, 5.0, 2.0, 6.0, 4.0, 8.0])  # season 2: |2-1|,|6-5|,|4-2|,|8-6| -> 1.5
    assert mase_scale(train, 2) == pytest.approx(1.5)
    assert mase(ACTUAL, FORECAST, train, 2) == pytest.approx(0.75 / 1.5)


def test_mase_uses_lag_one_without_a_season():
    train = np.array([1.0, 3.0, 2.0, 6.0])  # |2|, |1|, |4| -> 7/3
    assert mase_scale(train, 1) == pytest.approx(7 / 3)


def test_mase_of_a_constant_training_part_is_nan_not_zero():
    assert math.isnan(mase(ACTUAL, FORECAST, np.ones(10), 1))


def test_score_holds_all_four_measures():
    assert set(score(ACTUAL, FORECAST, np.arange(8.0), 1)) == {"mae", "rmse", "smape", "mase"}


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="same length"):
        mae([1.0, 2.0], [1.0])
