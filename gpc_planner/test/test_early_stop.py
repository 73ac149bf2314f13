"""The stall rule that stops hopeless collection episodes."""

import numpy as np
import pytest

from gpc_planner.early_stop import StallDetector, StallRule, stall_time
from gpc_sim.errors import ConfigError

RULE = StallRule(window=10.0, distance=0.15)


def test_an_object_that_keeps_moving_never_stalls():
    times = np.arange(0.0, 50.0, 0.2)
    path = np.stack([0.02 * times, np.zeros_like(times)], axis=1)  # 2 cm/s: 0.2 m per 10 s
    assert stall_time(times, path, RULE) is None


def test_an_object_pressed_into_the_cup_stalls_one_window_after_it_stopped():
    times = np.arange(0.0, 50.0, 0.2)
    x = np.minimum(0.1 * times, 1.0) + 0.02 * np.sin(times)  # moves for 10 s, then jiggles
    path = np.stack([x, np.zeros_like(x)], axis=1)
    stopped = stall_time(times, path, RULE)
    assert stopped is not None and 17.0 <= stopped <= 21.0


def test_nothing_is_decided_before_a_whole_window():
    detector = StallDetector(RULE)
    for t in np.arange(0.0, 9.9, 0.2):
        assert detector.update(t, np.zeros(2)) is None
    assert "stalled" in detector.update(10.0, np.zeros(2))


def test_a_sideways_detour_is_motion_not_a_stall():
    """Going around the obstacle first takes the chair away from the goal: still progress."""
    times = np.arange(0.0, 30.0, 0.2)
    path = np.stack([np.zeros_like(times), 0.05 * times], axis=1)
    assert stall_time(times, path, RULE) is None


@pytest.mark.parametrize("kwargs", [{"window": 0.0}, {"distance": -1.0},
                                    {"window": float("nan")}])
def test_bad_rules_are_refused(kwargs):
    with pytest.raises(ConfigError):
        StallRule(**kwargs)
