"""Stamps and clock readings: one instant is one float, however it reaches a node."""

from __future__ import annotations

import pytest

pytest.importorskip("rclpy")

from builtin_interfaces.msg import Time  # noqa: E402
from rclpy.clock import ClockType, ROSClock  # noqa: E402
from rclpy.time import Time as RosTime  # noqa: E402

from gpc_sim.ros.convert import (  # noqa: E402
    clock_seconds,
    nanoseconds_to_seconds,
    to_seconds,
    to_stamp,
)
from gpc_sim.spot.constants import COMMAND_DT  # noqa: E402

# Every command step of a 60 s episode, and a few instants that are not on that grid.
STEPS = [round(k * COMMAND_DT * 1e9) for k in range(3001)]
OTHERS = [0, 1, 999_999_999, 1_000_000_000, 1_000_000_001, 1_796_169_446_120_721_344]


@pytest.mark.parametrize("ns", [*STEPS[::97], *OTHERS])
def test_a_stamp_and_a_clock_at_the_same_instant_read_the_same(ns):
    clock = ROSClock()
    clock._set_ros_time_is_active(True)
    clock.set_ros_time_override(RosTime(nanoseconds=ns, clock_type=ClockType.ROS_TIME))
    stamp = Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)
    assert clock_seconds(clock) == to_seconds(stamp) == nanoseconds_to_seconds(ns)


def test_the_whole_episode_grid_agrees_and_round_trips():
    for ns in STEPS:
        stamp = Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)
        seconds = to_seconds(stamp)
        assert seconds == nanoseconds_to_seconds(RosTime(nanoseconds=ns).nanoseconds)
        assert to_stamp(seconds) == stamp  # back to the same nanosecond


def test_seconds_are_correctly_rounded():
    # 0.3 s is not a float; the nearest one is what a correctly rounded division gives.
    assert nanoseconds_to_seconds(300_000_000) == 0.3
    assert nanoseconds_to_seconds(10_300_000_000) == 10.3
