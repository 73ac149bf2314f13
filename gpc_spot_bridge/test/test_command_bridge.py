"""The bridge's logic: the shared mapping, the watchdog, refused NaN, the stamp rule."""

import math

import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.ros.convert import yaw_quaternion
from gpc_sim.spot.action import SAFE_ARM_POSE, targets_to_command
from gpc_spot_bridge.command_bridge import (
    BAD_POSE,
    NO_POSE,
    NO_TARGET,
    PLANNER_SILENT,
    STALE_POSE,
    BridgeConfig,
    CommandBridge,
)

POSE = np.array([1.0, -0.5, 0.4])
TARGET = np.array([1.3, -0.4, 0.6, *SAFE_ARM_POSE])


def pose_at(bridge, stamp, pose=POSE, now=None, quat=None):
    """Feed ``pose`` (x, y, yaw) as mocap would: a position and a quaternion."""
    quat = np.array(yaw_quaternion(pose[2])) if quat is None else quat
    return bridge.on_pose(stamp, np.array([pose[0], pose[1], 0.5]), quat,
                          stamp if now is None else now)


@pytest.fixture
def bridge():
    b = CommandBridge(BridgeConfig(command_timeout=0.5, pose_timeout=0.3))
    assert pose_at(b, 10.0) is None
    assert b.on_target(10.02, TARGET, 7, 10.02) is None
    return b


def test_output_is_the_rollouts_mapping(bridge):
    out = bridge.output(10.05)
    expected = targets_to_command(TARGET, POSE)
    assert out.stopped is None and out.cause is None and out.plan_id == 7
    np.testing.assert_allclose(out.velocity, expected[0:3], atol=1e-12)
    np.testing.assert_allclose(out.arm, expected[3:9], atol=1e-12)
    assert out.stamp == 10.0  # the older input


def test_the_watchdog_stops_the_robot_when_the_planner_goes_silent(bridge):
    pose_at(bridge, 10.45)  # mocap goes on, the planner does not
    assert bridge.output(10.5).stopped is None
    out = bridge.output(10.53)
    assert "planner silent" in out.stopped and out.plan_id == 0
    assert out.cause == PLANNER_SILENT
    np.testing.assert_array_equal(out.velocity, np.zeros(3))
    np.testing.assert_allclose(out.arm, targets_to_command(TARGET, POSE)[3:9], atol=1e-12)
    assert out.stamp == 10.45  # answers the last frame


def test_a_stale_pose_stops_the_robot(bridge):
    bridge.on_target(10.3, TARGET, 8, 10.3)
    out = bridge.output(10.35)
    assert "pose 0.35 s old" in out.stopped and out.cause == STALE_POSE


def test_a_stop_keeps_its_cause_while_its_text_ages(bridge):
    """The node logs a stop when the cause changes: the age in the text must not count."""
    late = [bridge.output(t) for t in (10.6, 10.7, 11.5, 30.0)]
    assert len({o.stopped for o in late}) == 4  # the text says how long
    assert {o.cause for o in late} == {PLANNER_SILENT}
    assert CommandBridge().output(0.0).cause == NO_TARGET
    no_pose = CommandBridge()
    no_pose.on_target(1.0, TARGET, 0, 1.0)
    assert no_pose.output(1.1).cause == NO_POSE


def test_nan_and_wrong_sizes_are_refused_and_change_nothing(bridge):
    before = bridge.output(10.05)
    assert bridge.on_target(10.1, np.full(9, math.nan), 8, 10.1) is not None
    assert bridge.on_target(10.1, TARGET[:6], 8, 10.1) is not None
    assert bridge.rejected == 2
    after = bridge.output(10.05)
    np.testing.assert_array_equal(before.velocity, after.velocity)


def test_older_messages_do_not_replace_newer_ones(bridge):
    bridge.on_target(9.0, TARGET + 1.0, 1, 10.05)
    assert bridge.output(10.05).plan_id == 7


def test_before_any_target_the_robot_stands_with_no_arm_command():
    out = CommandBridge().output(0.0)
    assert out.stopped == "no target from the planner yet" and out.arm is None


def test_a_future_stamp_is_refused_and_cannot_switch_the_watchdog_off(bridge):
    """The safety defect: one message stamped an hour ahead made every later, correctly
    stamped one look older, and the watchdog never fired."""
    assert "in the future" in bridge.on_target(3600.0, TARGET + 0.1, 9, 10.1)
    assert "in the future" in pose_at(bridge, 3600.0, now=10.1)
    assert bridge.rejected == 2
    # Correctly stamped messages are still taken...
    assert bridge.on_target(10.2, TARGET, 10, 10.2) is None
    assert pose_at(bridge, 10.2) is None
    assert bridge.output(10.25).plan_id == 10
    # ...and when the planner goes silent the robot stops on time.
    pose_at(bridge, 10.7)
    out = bridge.output(10.71)
    assert out.cause == PLANNER_SILENT
    np.testing.assert_array_equal(out.velocity, np.zeros(3))


def test_a_stamp_within_the_tolerance_does_not_extend_the_timeout(bridge):
    tolerance = bridge.config.future_tolerance
    bridge.on_target(10.1 + tolerance * 0.9, TARGET, 8, 10.1)  # accepted, a little ahead
    pose_at(bridge, 10.55)
    assert bridge.output(10.55).cause is None
    assert bridge.output(10.61).cause == PLANNER_SILENT  # counted from arrival, not stamp


def test_a_zero_quaternion_stops_the_robot_until_a_good_pose(bridge):
    problem = pose_at(bridge, 10.04, quat=np.zeros(4))
    assert "degenerate orientation" in problem
    out = bridge.output(10.05)
    assert out.cause == BAD_POSE and np.all(out.velocity == 0.0)
    assert pose_at(bridge, 10.06) is None
    assert bridge.output(10.07).cause is None


def test_a_nan_pose_stops_the_robot(bridge):
    assert "NaN" in bridge.on_pose(10.04, np.array([math.nan, 0.0, 0.5]),
                                   np.array(yaw_quaternion(0.0)), 10.04)
    assert bridge.output(10.05).cause == BAD_POSE


def test_a_jump_stops_the_robot_until_the_next_pose_confirms_it(bridge):
    far = POSE + np.array([2.0, 0.0, 0.0])
    assert "jumped 2.00 m" in pose_at(bridge, 10.04, far)
    assert bridge.output(10.05).cause == BAD_POSE
    assert pose_at(bridge, 10.06, far + np.array([0.01, 0.0, 0.0])) is None
    assert bridge.output(10.07).cause is None


def test_a_huge_finite_target_never_gives_a_non_finite_command(bridge):
    for huge in (1e308, -1e308, 1e300):
        bridge.on_target(10.03, np.array([huge, -huge, huge, *SAFE_ARM_POSE]), 8, 10.03)
        out = bridge.output(10.04)
        assert np.all(np.isfinite(out.velocity)), out
        assert np.all(np.abs(out.velocity) <= 0.7 + 1e-12)


def test_config_bounds():
    with pytest.raises(ConfigError, match="command_timeout"):
        BridgeConfig(command_timeout=1e9)
    with pytest.raises(ConfigError, match="pose_timeout"):
        BridgeConfig(pose_timeout=math.nan)
    with pytest.raises(ConfigError, match="future_tolerance"):
        BridgeConfig(future_tolerance=-1.0)


def test_a_clock_that_jumps_back_makes_the_bridge_forget_and_follow_the_new_clock(bridge):
    """A restarted simulation restarts /clock at 0: the old target and pose would look fresh
    (ages are never negative) and every new message older than them; in a soak run the new
    sim stood for 32 s, refusing commands stamped on the old clock, until its clock caught
    up with the old one."""
    assert bridge.output(10.05).cause is None
    out = bridge.output(0.02)  # the sim restarted
    assert out.cause == NO_TARGET and out.arm is None  # the old robot's arm target is gone
    np.testing.assert_array_equal(out.velocity, np.zeros(3))
    assert bridge.clock.jumps == 1
    assert pose_at(bridge, 0.04) is None  # new-clock messages are taken again
    assert bridge.on_target(0.04, TARGET, 1, 0.04) is None
    out = bridge.output(0.05)
    assert out.cause is None and out.plan_id == 1 and out.stamp == 0.04


def test_the_first_new_clock_message_resets_too(bridge):
    assert pose_at(bridge, 0.5) is None  # the jump is seen on the pose's arrival: taken
    assert bridge.on_target(0.5, TARGET, 2, 0.5) is None
    assert bridge.output(0.52).plan_id == 2
    assert bridge.clock_went_back(0.5) is None  # a reading within the tolerance: no jump
