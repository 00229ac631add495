"""Split-conformal widths cover about as often as they promise."""

import numpy as np
import pytest

from core.intervals import conformal_widths, coverage, extend_widths


def test_widths_on_gaussian_residuals_match_the_normal_quantiles():
    rng = np.random.default_rng(0)
    widths = conformal_widths(rng.normal(size=(400, 3)))
    assert widths[0.8] == pytest.approx(np.full(3, 1.2816), rel=0.1)
    assert widths[0.95] == pytest.approx(np.full(3, 1.96), rel=0.1)


def test_fresh_noise_is_covered_about_as_often_as_promised():
    rng = np.random.default_rng(1)
    widths = conformal_widths(rng.normal(size=(60, 4)))
    fresh = rng.normal(size=(2000, 4))
    assert 0.72 <= coverage(fresh, -widths[0.8], widths[0.8]) <= 0.88
    assert 0.90 <= coverage(fresh, -widths[0.95], widths[0.95]) <= 0.99


def test_widths_never_shrink_further_ahead():
    residuals = np.array([[3.0, 1.0, 2.0], [-3.0, 1.0, -2.0]])
    widths = conformal_widths(residuals)[0.8]
    assert np.all(np.diff(widths) >= 0)


def test_extended_widths_grow_like_a_square_root():
    np.testing.assert_allclose(extend_widths(np.array([1.0, 2.0]), 4), [1, 2, 2 * 1.5**0.5, 2 * 2**0.5])


def test_non_finite_residuals_are_refused():
    with pytest.raises(ValueError, match="finite"):
        conformal_widths(np.array([[np.nan, 1.0]]))
