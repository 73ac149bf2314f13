"""The bridge's logic: the shared mapping, the watchdog, refused NaN, the stamp rule."""

import math

import numpy as np
import pytest

from gpc_sim.spot.action import SAFE_ARM_POSE, targets_to_command
from gpc_spot_bridge.command_bridge import (
    NO_POSE,
    NO_TARGET,
    PLANNER_SILENT,
    STALE_POSE,
    BridgeConfig,
    CommandBridge,
)

POSE = np.array([1.0, -0.5, 0.4])
TARGET = np.array([1.3, -0.4, 0.6, *SAFE_ARM_POSE])


@pytest.fixture
def bridge():
    b = CommandBridge(BridgeConfig(command_timeout=0.5, pose_timeout=0.3))
    assert b.on_pose(10.0, POSE) is None
    assert b.on_target(10.02, TARGET, plan_id=7) is None
    return b


def test_output_is_the_rollouts_mapping(bridge):
    out = bridge.output(10.05)
    expected = targets_to_command(TARGET, POSE)
    assert out.stopped is None and out.cause is None and out.plan_id == 7
    np.testing.assert_array_equal(out.velocity, expected[0:3])
    np.testing.assert_array_equal(out.arm, expected[3:9])
    assert out.stamp == 10.0  # the older input


def test_the_watchdog_stops_the_robot_when_the_planner_goes_silent(bridge):
    bridge.on_pose(10.45, POSE)  # mocap goes on, the planner does not
    assert bridge.output(10.5).stopped is None
    out = bridge.output(10.53)
    assert "planner silent" in out.stopped and out.plan_id == 0
    assert out.cause == PLANNER_SILENT
    np.testing.assert_array_equal(out.velocity, np.zeros(3))
    np.testing.assert_array_equal(out.arm, targets_to_command(TARGET, POSE)[3:9])  # held
    assert out.stamp == 10.45  # answers the last frame


def test_a_stale_pose_stops_the_robot(bridge):
    bridge.on_target(10.4, TARGET, plan_id=8)
    out = bridge.output(10.35)
    assert "pose 0.35 s old" in out.stopped and out.cause == STALE_POSE


def test_a_stop_keeps_its_cause_while_its_text_ages(bridge):
    """The node logs a stop when the cause changes: the age in the text must not count."""
    late = [bridge.output(t) for t in (10.6, 10.7, 11.5, 30.0)]
    assert len({o.stopped for o in late}) == 4  # the text says how long
    assert {o.cause for o in late} == {PLANNER_SILENT}
    assert CommandBridge().output(0.0).cause == NO_TARGET
    no_pose = CommandBridge()
    no_pose.on_target(1.0, TARGET)
    assert no_pose.output(1.1).cause == NO_POSE


def test_nan_and_wrong_sizes_are_refused_and_change_nothing(bridge):
    before = bridge.output(10.05)
    assert bridge.on_target(10.1, np.full(9, math.nan)) is not None
    assert bridge.on_target(10.1, TARGET[:6]) is not None
    assert bridge.on_pose(10.1, np.array([math.inf, 0.0, 0.0])) is not None
    assert bridge.rejected == 3
    after = bridge.output(10.05)
    np.testing.assert_array_equal(before.velocity, after.velocity)


def test_older_messages_do_not_replace_newer_ones(bridge):
    bridge.on_target(9.0, TARGET + 1.0, plan_id=1)
    assert bridge.output(10.05).plan_id == 7


def test_before_any_target_the_robot_stands_with_no_arm_command():
    out = CommandBridge().output(0.0)
    assert out.stopped == "no target from the planner yet" and out.arm is None
