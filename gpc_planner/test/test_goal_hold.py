"""Holding at the goal: start at the goal, resume only after a dwell off it."""

import math

import pytest

from gpc_planner.goal_hold import GoalHold
from gpc_sim.errors import ConfigError


def test_no_hold_before_the_goal_is_reached():
    hold = GoalHold(dwell=1.0)
    assert [hold.update(False, t) for t in (0.0, 0.2, 5.0)] == [False, False, False]


def test_holds_from_the_goal_on_and_through_short_excursions():
    hold = GoalHold(dwell=1.0)
    assert hold.update(True, 10.0)
    # Settling on the tolerance's edge: off for 0.8 s, back, off again: still holding.
    assert all(hold.update(False, t) for t in (10.2, 10.6, 11.0))
    assert hold.update(True, 11.2)
    assert hold.update(False, 11.4) and hold.update(False, 12.2)  # the clock restarts at 11.4
    assert not hold.update(False, 12.4)  # 1.0 s off the goal in a row: plan again
    assert not hold.update(False, 12.6)


def test_zero_dwell_resumes_at_the_first_state_off_the_goal():
    hold = GoalHold(dwell=0.0)
    assert hold.update(True, 1.0)
    assert not hold.update(False, 1.2)


def test_reset_forgets_the_goal_and_a_clock_going_back_restarts_the_dwell():
    hold = GoalHold(dwell=1.0)
    hold.update(True, 5.0)
    hold.reset()
    assert not hold.holding and not hold.update(False, 5.2)
    hold.update(True, 5.4)
    assert hold.update(False, 5.6)
    assert hold.update(False, 0.1)  # the sim restarted: the dwell counts from here
    assert hold.update(False, 1.0) and not hold.update(False, 1.1)


@pytest.mark.parametrize("dwell", [-0.1, math.nan, math.inf, "1", True])
def test_a_bad_dwell_is_a_config_error(dwell):
    with pytest.raises(ConfigError, match="dwell"):
        GoalHold(dwell=dwell)
