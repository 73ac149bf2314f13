"""The 9-DoF target -> 25-number command mapping: frames, wrap, limits, batching, NaN safety.

Pure numpy except the one test that reads the arm joint ranges from the compiled model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.spot.action import (
    DEFAULT_ACTION_CONFIG,
    SAFE_ARM_POSE,
    SpotActionConfig,
    base_pose_from_qpos,
    hold_target,
    targets_to_command,
    yaw_from_quat,
)
from gpc_sim.spot.constants import (
    ARM_JOINT_LIMITS,
    GRIPPER_CLOSED,
    GRIPPER_LIMITS,
    GRIPPER_OPEN,
    JOINT_NAMES,
    STANDING_TORSO,
    UNSTOWED_ARM_POSE,
)

ARM6 = np.array(UNSTOWED_ARM_POSE[:6])
T = DEFAULT_ACTION_CONFIG.tracking_time
# A generous config so that frame tests see unclipped finite differences.
LOOSE = SpotActionConfig(tracking_time=1.0, max_vx=10.0, max_vy=10.0, max_yaw_rate=10.0)


def target(x: float, y: float, yaw: float, arm=ARM6) -> np.ndarray:
    return np.concatenate([[x, y, yaw], arm])


def velocity(cmd: np.ndarray) -> np.ndarray:
    return cmd[..., 0:3]


# --- frames -----------------------------------------------------------------------------


@pytest.mark.parametrize("yaw", [0.0, 0.7, -2.0, math.pi - 0.01])
def test_target_ahead_left_behind_in_the_body_frame(yaw):
    pose = np.array([1.5, -0.4, yaw])
    heading = np.array([math.cos(yaw), math.sin(yaw)])
    left = np.array([-math.sin(yaw), math.cos(yaw)])
    for offset, expected in [
        (0.3 * heading, (0.3, 0.0)),  # straight ahead: pure +vx
        (0.2 * left, (0.0, 0.2)),  # to its left: pure +vy
        (-0.25 * heading, (-0.25, 0.0)),  # behind: pure -vx
        (0.1 * heading - 0.2 * left, (0.1, -0.2)),  # ahead and to the right
    ]:
        xy = pose[:2] + offset
        cmd = targets_to_command(target(xy[0], xy[1], yaw), pose, LOOSE)
        np.testing.assert_allclose(velocity(cmd), (*expected, 0.0), atol=1e-12)


def test_finite_difference_divides_by_the_tracking_time():
    pose = np.array([0.0, 0.0, 0.0])
    for tracking_time in (0.25, 0.5, 2.0):
        config = SpotActionConfig(tracking_time=tracking_time, max_vx=10, max_vy=10,
                                  max_yaw_rate=10)  # fmt: skip
        cmd = targets_to_command(target(0.1, -0.05, 0.2), pose, config)
        np.testing.assert_allclose(velocity(cmd), np.array([0.1, -0.05, 0.2]) / tracking_time)


def test_yaw_error_wraps_across_pi():
    # From 3.0 rad to -3.0 rad is +0.283 rad (through pi), not -6 rad.
    cmd = targets_to_command(target(0, 0, -3.0), np.array([0.0, 0.0, 3.0]), LOOSE)
    assert cmd[2] == pytest.approx(2 * math.pi - 6.0)
    cmd = targets_to_command(target(0, 0, 3.0), np.array([0.0, 0.0, -3.0]), LOOSE)
    assert cmd[2] == pytest.approx(6.0 - 2 * math.pi)
    # A target 2 pi away from the heading is the same heading.
    cmd = targets_to_command(target(0, 0, 0.1 + 2 * math.pi), np.array([0.0, 0.0, 0.1]), LOOSE)
    assert cmd[2] == pytest.approx(0.0, abs=1e-12)


# --- limits -----------------------------------------------------------------------------


def test_each_velocity_axis_saturates_at_its_limit():
    config = SpotActionConfig(max_vx=0.6, max_vy=0.4, max_yaw_rate=0.5)
    pose = np.array([0.0, 0.0, 0.0])
    cases = [
        (target(5.0, 0.0, 0.0), (0.6, 0.0, 0.0)),
        (target(-5.0, 0.0, 0.0), (-0.6, 0.0, 0.0)),
        (target(0.0, 5.0, 0.0), (0.0, 0.4, 0.0)),
        (target(0.0, -5.0, 0.0), (0.0, -0.4, 0.0)),
        (target(0.0, 0.0, 2.0), (0.0, 0.0, 0.5)),
        (target(0.0, 0.0, -2.0), (0.0, 0.0, -0.5)),
    ]
    for tgt, expected in cases:
        np.testing.assert_allclose(velocity(targets_to_command(tgt, pose, config)), expected)


def test_default_limits_are_judos_and_small_errors_are_not_clipped():
    assert (DEFAULT_ACTION_CONFIG.max_vx, DEFAULT_ACTION_CONFIG.max_vy) == (0.7, 0.7)
    assert DEFAULT_ACTION_CONFIG.max_yaw_rate == 0.7
    cmd = targets_to_command(target(0.05, -0.03, 0.1), np.zeros(3))
    np.testing.assert_allclose(velocity(cmd), np.array([0.05, -0.03, 0.1]) / T)


def test_planar_saturation_keeps_the_direction_to_the_target():
    config = SpotActionConfig(max_vx=0.7, max_vy=0.5)
    pose = np.array([1.0, 2.0, 0.4])
    for angle in np.linspace(-math.pi, math.pi, 13):
        direction = np.array([math.cos(pose[2] + angle), math.sin(pose[2] + angle)])
        xy = pose[:2] + 3.0 * direction
        vx, vy, _ = velocity(targets_to_command(target(*xy, 0.4), pose, config))
        assert abs(vx) <= 0.7 + 1e-12 and abs(vy) <= 0.5 + 1e-12
        assert max(abs(vx) / 0.7, abs(vy) / 0.5) == pytest.approx(1.0)  # saturated
        body = np.array([math.cos(angle), math.sin(angle)])
        assert body[0] * vy - body[1] * vx == pytest.approx(0.0, abs=1e-12)  # same line
        assert np.dot(body, [vx, vy]) > 0  # same way


def test_each_arm_joint_is_clipped_to_its_limit():
    pose = np.zeros(3)
    for j, (low, high) in enumerate(ARM_JOINT_LIMITS):
        for value, expected in [(low - 1.0, low), (high + 1.0, high), (0.5 * (low + high),) * 2]:
            arm = ARM6.copy()
            arm[j] = value
            cmd = targets_to_command(target(0, 0, 0, arm), pose)
            others = np.delete(np.arange(6), j)
            assert cmd[3 + j] == pytest.approx(expected), (j, value)
            np.testing.assert_array_equal(cmd[3 + others], ARM6[others])


def test_arm_limits_equal_the_models_joint_ranges():
    from gpc_sim.spot.assets import spot_model

    model = spot_model()
    for name, limits in zip(JOINT_NAMES[12:18], ARM_JOINT_LIMITS, strict=True):
        joint = model.joint(name)
        assert model.jnt_limited[joint.id]
        np.testing.assert_allclose(joint.range, limits, rtol=0, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(model.joint("arm_f1x").range, GRIPPER_LIMITS, atol=1e-9)


# --- fixed parts, batching, NaN ---------------------------------------------------------


def test_fixed_parts_of_the_command():
    rng = np.random.default_rng(0)
    targets = rng.normal(scale=2.0, size=(20, 9))
    poses = rng.normal(scale=2.0, size=(20, 3))
    cmd = targets_to_command(targets, poses)
    assert cmd.shape == (20, 25) and cmd.dtype == np.float64
    np.testing.assert_array_equal(cmd[:, 10:22], 0.0)  # no leg override
    np.testing.assert_array_equal(cmd[:, 22:25], np.tile(STANDING_TORSO, (20, 1)))
    assert STANDING_TORSO[:2] == (0.0, 0.0)  # roll and pitch level
    np.testing.assert_array_equal(cmd[:, 9], GRIPPER_CLOSED)
    opened = targets_to_command(targets, poses, SpotActionConfig(gripper=GRIPPER_OPEN))
    np.testing.assert_array_equal(opened[:, 9], GRIPPER_OPEN)
    np.testing.assert_array_equal(np.delete(opened, 9, axis=1), np.delete(cmd, 9, axis=1))


def test_hold_target_gives_the_standing_command():
    pose = np.array([[0.3, -1.2, 2.9], [-4.0, 0.0, -0.5]])
    cmd = targets_to_command(hold_target(pose), pose)
    np.testing.assert_array_equal(cmd[:, 0:3], 0.0)
    np.testing.assert_array_equal(cmd[:, 3:9], np.tile(SAFE_ARM_POSE, (2, 1)))


def test_batching_over_leading_axes_equals_per_element():
    rng = np.random.default_rng(1)
    targets = rng.normal(scale=1.0, size=(4, 5, 9))
    targets[..., 3:] *= 3.0  # some arm targets beyond the limits
    poses = rng.normal(scale=1.0, size=(4, 5, 3))
    poses[..., 2] *= 3.0
    batch = targets_to_command(targets, poses)
    assert batch.shape == (4, 5, 25)
    for i in range(4):
        for k in range(5):
            np.testing.assert_array_equal(
                batch[i, k], targets_to_command(targets[i, k], poses[i, k])
            )
    # One pose broadcast against many targets (a planner's rollout block) and vice versa.
    shared = targets_to_command(targets, poses[0, 0])
    for i in range(4):
        for k in range(5):
            np.testing.assert_array_equal(
                shared[i, k], targets_to_command(targets[i, k], poses[0, 0])
            )
    assert targets_to_command(targets[0, 0], poses).shape == (4, 5, 25)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_input_gives_the_safe_command(bad):
    rng = np.random.default_rng(2)
    targets = rng.normal(size=(12, 9))
    poses = rng.normal(size=(12, 3))
    good = targets_to_command(targets, poses)
    spoiled_t, spoiled_p = targets.copy(), poses.copy()
    for i in range(9):
        spoiled_t[i, i] = bad  # each target entry in turn
    for i in range(3):
        spoiled_p[9 + i, i] = bad  # each pose entry in turn
    with np.errstate(all="raise"):  # no floating-point warnings either
        cmd = targets_to_command(spoiled_t, spoiled_p)
    assert np.all(np.isfinite(cmd))
    np.testing.assert_array_equal(cmd[:, 0:3], 0.0)  # zero velocity
    np.testing.assert_array_equal(cmd[:, 3:9], np.tile(SAFE_ARM_POSE, (12, 1)))
    np.testing.assert_array_equal(cmd[:, 9], GRIPPER_CLOSED)
    np.testing.assert_array_equal(cmd[:, 22:25], np.tile(STANDING_TORSO, (12, 1)))
    # A batch mixing good and bad elements: the good ones are untouched.
    mixed_t = targets.copy()
    mixed_t[3, 0] = bad
    mixed = targets_to_command(mixed_t, poses)
    np.testing.assert_array_equal(np.delete(mixed, 3, axis=0), np.delete(good, 3, axis=0))
    np.testing.assert_array_equal(mixed[3, 0:3], 0.0)


def test_bad_shapes_and_configs_are_rejected():
    with pytest.raises(ValueError, match="targets"):
        targets_to_command(np.zeros(8), np.zeros(3))
    with pytest.raises(ValueError, match="base_pose"):
        targets_to_command(np.zeros(9), np.zeros(2))
    for bad in [dict(tracking_time=0.0), dict(max_vx=-0.1), dict(max_yaw_rate=np.nan),
                dict(gripper=0.5), dict(torso=(0.0, 0.0))]:  # fmt: skip
        with pytest.raises(ConfigError):
            SpotActionConfig(**bad)


def test_base_pose_from_qpos():
    qpos = np.zeros((3, 26))
    for i, yaw in enumerate([0.0, 1.0, -3.0]):
        qpos[i, :3] = (i, -i, 0.5)
        qpos[i, 3:7] = (math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2))
    np.testing.assert_allclose(
        base_pose_from_qpos(qpos), [[0, 0, 0.0], [1, -1, 1.0], [2, -2, -3.0]], atol=1e-12
    )
    assert yaw_from_quat(np.array([1.0, 0, 0, 0])) == 0.0


def test_velocity_arm_command_is_the_layout_targets_to_command_ends_with():
    from gpc_sim.spot.action import limit_velocity, velocity_arm_command

    arm = np.array([0.1, -0.5, 1.0, 0.0, -0.3, 0.2])
    cmd = velocity_arm_command(np.array([0.3, -0.2, 0.1]), arm)
    assert cmd.shape == (25,)
    np.testing.assert_array_equal(cmd[0:3], [0.3, -0.2, 0.1])
    np.testing.assert_array_equal(cmd[3:9], arm)
    assert cmd[9] == DEFAULT_ACTION_CONFIG.gripper and np.all(cmd[10:22] == 0.0)
    np.testing.assert_array_equal(cmd[22:25], DEFAULT_ACTION_CONFIG.torso)
    # The arm is clipped to its joint limits (el0 cannot go below 0).
    assert velocity_arm_command(np.zeros(3), arm * [1, 1, -1, 1, 1, 1])[5] == 0.0
    # Speeds: the planar part scaled as a vector (direction kept), the yaw rate clipped.
    v = limit_velocity(np.array([1.4, 0.7, -2.0]))
    np.testing.assert_allclose(v, [0.7, 0.35, -0.7])
    np.testing.assert_array_equal(limit_velocity(np.array([0.2, -0.1, 0.3])), [0.2, -0.1, 0.3])
    # What the mapping gives is what the two functions give from its velocity.
    pose = np.array([0.5, -1.0, 0.8])
    full = targets_to_command(target(2.0, 1.0, 2.5), pose)
    np.testing.assert_array_equal(velocity_arm_command(full[0:3], full[3:9]), full)
    with pytest.raises(ValueError, match="velocity"):
        velocity_arm_command(np.zeros(2), arm)
