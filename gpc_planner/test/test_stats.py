import pytest

from gpc_planner.stats import mean_std, wilson_interval


def test_wilson_matches_reference_values():
    # Reference: Wilson (1927) score interval, z = 1.96; values from the closed form.
    lo, hi = wilson_interval(85, 100)
    assert lo == pytest.approx(0.7672, abs=1e-4)
    assert hi == pytest.approx(0.9069, abs=1e-4)


def test_wilson_at_the_extremes_stays_in_bounds_and_is_not_degenerate():
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and 0.1 < hi < 0.2
    lo, hi = wilson_interval(20, 20)
    assert hi == 1.0 and 0.8 < lo < 0.9


def test_wilson_narrows_with_more_trials():
    w_small = wilson_interval(8, 10)
    w_large = wilson_interval(800, 1000)
    assert (w_large[1] - w_large[0]) < (w_small[1] - w_small[0]) / 5


def test_wilson_rejects_impossible_counts():
    with pytest.raises(ValueError):
        wilson_interval(11, 10)


def test_mean_std_of_nothing_is_null():
    assert mean_std([]) == (None, None)
    assert mean_std([1.0, 3.0]) == (2.0, 1.0)
