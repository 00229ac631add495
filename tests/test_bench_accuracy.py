"""bench/accuracy.py's helpers: hand-computed measures, the fixed sample, one failure not a crash.

No model is fitted here: the methods are tiny numpy functions."""

import math

import numpy as np
import pytest

from bench import accuracy


def test_coverage_is_the_share_inside_the_bounds_inclusive():
    actual = [1.0, 2.0, 3.0, 4.0]
    assert accuracy.coverage(actual, [0, 2, 4, 0], [1, 3, 5, 3]) == pytest.approx(0.5)
    assert math.isnan(accuracy.coverage(actual, [np.nan] * 4, [9] * 4))


def test_geometric_mean_by_hand_ignoring_failures():
    assert accuracy.geometric_mean([1.0, 4.0, math.nan]) == pytest.approx(2.0)
    assert accuracy.geometric_mean([0.5, 2.0, 8.0]) == pytest.approx(2.0)
    assert math.isnan(accuracy.geometric_mean([math.nan]))


@pytest.mark.parametrize(("points", "season", "expected"),
                         [(24, 12, 12), (23, 12, 1), (8, 4, 4), (7, 4, 1), (20, 1, 1)])
def test_the_season_is_dropped_below_two_full_seasons(points, season, expected):
    assert accuracy.season_used(np.zeros(points), season) == expected


def test_the_sample_is_fixed_and_a_larger_one_extends_it():
    small = accuracy.sample(per_group=2)
    assert [s.id for s in small] == [
        "tourism:M343", "tourism:M109", "tourism:Q176", "tourism:Q372", "tourism:Y494",
        "tourism:Y230", "m1:MNI127", "m1:MNB24", "m1:QRI4", "m1:QRC11", "m1:YAI26", "m1:YAI12"]
    larger = accuracy.sample(["m1-yearly"], per_group=5)
    assert [s.id for s in larger][:2] == ["m1:YAI26", "m1:YAI12"]
    first = small[0]
    assert (first.train.size, first.horizon, first.season) == (309, 24, 12)
    assert len(accuracy.sample(per_group=20)) == 120


def _last(y, h, season):
    value = np.full(h, y[-1])
    return {"mean": value, "lo80": value - 1, "hi80": value + 1, "lo95": value - 2,
            "hi95": value + 2}


def _broken(y, h, season):
    raise RuntimeError("no convergence")


def test_one_failing_method_is_recorded_and_scores_are_by_hand():
    series = accuracy.Series(id="test:A1", group="m1-yearly", frequency="yearly", season=1,
                             train=np.array([1.0, 3.0, 2.0, 6.0]), test=np.array([6.0, 9.0]))
    rows = accuracy.run_series(series, ["last", "broken"], {"last": _last, "broken": _broken},
                               use_cache=False)
    last, broken = rows
    assert last["error"] == "" and broken["error"] == "RuntimeError: no convergence"
    assert last["mase"] == pytest.approx((0 + 3) / 2 / (7 / 3))  # scale: |2|, |1|, |4| -> 7/3
    assert last["smape"] == pytest.approx(100 * (0 + 2 * 3 / 15) / 2)
    assert (last["cover80"], last["cover95"]) == (0.5, 0.5)
    table = accuracy.markdown(rows, ["last", "broken"], "header")
    assert "| last | 1 | 0 | 0.643 | 20.00 | 0.500 | 0.500 |" in table
    assert "| broken | 0 | 1 | n/a |" in table


@pytest.mark.parametrize("argv", [
    ["--methods", "Prophet"], ["--groups", "m3-monthly"], ["--set", "epochs"],
    ["--set", "bogus=1"], ["--variant", "AutoETS:cell=lstm"], ["--per-group", "0"]])
def test_bad_arguments_give_one_error_line_and_exit_2(argv, capsys):
    assert accuracy.main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


def test_set_and_variant_values_are_typed_and_reach_the_network_methods():
    args = accuracy.parse(["--methods", "AutoETS", "--set", "epochs=20,dropout=0.1",
                           "--variant", "w24:window=24,cell=lstm,transform=none"])
    assert args.names == ["AutoETS", "w24"]
    overrides = args.methods_table["w24"].keywords["overrides"]
    assert overrides == {"window": 24, "cell": "lstm", "transform": "none", "epochs": 20,
                         "dropout": 0.1}
    assert args.methods_table["default"].keywords["overrides"] == {"epochs": 20, "dropout": 0.1}
