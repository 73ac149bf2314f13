"""The planner's 9-DoF target -> the locomotion policy's 25-number command.

The planner (and the flow-matching model trained on its data) works in absolute world-frame
positions: torso x, y, yaw and six arm joint angles (the paper predicts positions "and
converts them to velocities via finite differences during online control"). The policy wants
body-frame velocities. ``targets_to_command`` is the one conversion: the planner's rollouts,
the ROS bridge and the sim node all call it, so what the planner predicts is what the robot
is told. It is pure numpy (no MuJoCo model) and batched over any leading axes, so a whole
(rollouts, steps) block converts in one call.

The conversion, per element:
- planar velocity: a finite difference toward the torso target,
  v_world = (target_xy - xy) / tracking_time, rotated into the body frame by -yaw, then
  scaled down (direction kept) until vx and vy are both within their limits;
- yaw rate: wrap(target_yaw - yaw) / tracking_time, clipped to its limit;
- arm: the six targets clipped to the joint limits; gripper fixed (closed by default);
- legs: no override (zeros); torso: roll 0, pitch 0, standing height.
A non-finite number (NaN or +-inf) anywhere in an element's target or pose gives that
element the safe command instead: zero velocity and the default (unstowed) arm pose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gpc_sim.angles import wrap_angle
from gpc_sim.errors import ConfigError
from gpc_sim.spot.constants import (
    ARM,
    ARM_JOINT_LIMITS,
    COMMAND_DIM,
    GRIPPER_CLOSED,
    GRIPPER_LIMITS,
    N_TARGET_ARM,
    STANDING_TORSO,
    TARGET_ARM,
    TARGET_DIM,
    TORSO,
    UNSTOWED_ARM_POSE,
    VX,
    VY,
    YAW_RATE,
)

_ARM_LOW = np.array([low for low, _ in ARM_JOINT_LIMITS])
_ARM_HIGH = np.array([high for _, high in ARM_JOINT_LIMITS])
# The arm part of the policy's default pose: where the policy was trained, so the arm
# target that cannot upset the balance (the safe command's arm).
SAFE_ARM_POSE = UNSTOWED_ARM_POSE[:N_TARGET_ARM]
_GRIPPER = ARM.start + N_TARGET_ARM  # command index of the gripper target (f1x)
# m (rad for yaw): the largest pose error the mapping looks at. The limits saturate from
# 0.175 m; the bound only keeps a huge target from overflowing (1e308 - -1e308 = inf).
MAX_POSE_ERROR = 1e6


@dataclass(frozen=True)
class SpotActionConfig:
    """How targets become commands. Defaults are the ones the planner and bridge share.

    tracking_time: s; the finite difference's time step, i.e. a proportional gain of
        1/tracking_time on the pose error (and the lag behind a moving target). 0.25 s:
        errors from 0.175 m (or rad) up saturate the 0.7 limits. Measured in closed loop
        with the policy (standing start, fixed targets 1 m ahead, 0.5 m aside, 1.5 rad of
        yaw, and (2, 1, -1)): no overshoot above 1.1 cm, residual error after 5 s <= 1 cm
        and 0.02 rad. 0.5 s also never overshot but left 0.08 rad of yaw after 5 s
        (small yaw-rate commands barely turn the robot).
    max_vx, max_vy: m/s, body-frame speed limits. max_yaw_rate: rad/s.
        0.7 for all three is judo's command range for its Spot tasks
        (``BASE_SOFT_LIMITS = 0.7`` in judo/tasks/spot/spot_constants.py, the action bounds
        of every judo Spot task). Measured with this project's policy, 4 s runs, unstowed
        arm, gripper closed: +-0.7 forward/sideways/turning and all three at once walk
        without falling (torso >= 0.47 m), reaching ~0.65 m/s forward, ~0.6 sideways and
        ~0.7 rad/s (notes/spot_locomotion_policy.md for the lower speeds).
    gripper: rad, f1x target held fixed. Closed (0.0): judo's working pose and the one
        under which the note's speed figures were measured; an open gripper (-1.54) also
        changes how the arm touches the chair.
    torso: (roll rad, pitch rad, height command m) held fixed; the standing command.
    """

    tracking_time: float = 0.25
    max_vx: float = 0.7
    max_vy: float = 0.7
    max_yaw_rate: float = 0.7
    gripper: float = GRIPPER_CLOSED
    torso: tuple[float, float, float] = STANDING_TORSO

    def __post_init__(self) -> None:
        """Reject settings that would make the command NaN, sign-flipped or out of range."""
        positive = {
            "tracking_time": self.tracking_time,
            "max_vx": self.max_vx,
            "max_vy": self.max_vy,
            "max_yaw_rate": self.max_yaw_rate,
        }
        for name, value in positive.items():
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigError(f"SpotActionConfig.{name} must be > 0, got {value}")
        low, high = GRIPPER_LIMITS
        if not low <= self.gripper <= high:
            raise ConfigError(f"SpotActionConfig.gripper {self.gripper} outside [{low}, {high}]")
        if len(self.torso) != 3 or not all(math.isfinite(v) for v in self.torso):
            raise ConfigError(f"SpotActionConfig.torso must be 3 finite numbers: {self.torso}")


DEFAULT_ACTION_CONFIG = SpotActionConfig()


def targets_to_command(
    targets: np.ndarray,
    base_pose: np.ndarray,
    config: SpotActionConfig = DEFAULT_ACTION_CONFIG,
) -> np.ndarray:
    """The (..., 25) policy commands for 9-DoF ``targets`` (..., 9) from ``base_pose`` (..., 3).

    ``targets``: world-frame torso x (m), y (m), yaw (rad), then arm sh0, sh1, el0, el1, wr0,
    wr1 (rad). ``base_pose``: the robot's current world-frame x, y, yaw. Leading axes
    broadcast against each other, so one pose can serve many targets and vice versa.

    The planar velocity is scaled as a vector rather than clipped per axis: clipping vx and
    vy separately would turn a far target 30 degrees off the heading into a 45-degree walk
    (both axes saturated), a dog-leg path; scaling keeps the robot heading at the target
    while still respecting both limits.

    Non-finite input in an element (NaN, +-inf: a lost mocap frame, a diverged sample) gives
    that element the safe command, zero velocity and ``SAFE_ARM_POSE``, not NaN: the policy
    would otherwise act on NaN and the robot fall. The safe arm is the default pose, not the
    previous one: this function has no memory, and callers that have one may prefer it.
    """
    targets = np.asarray(targets, dtype=np.float64)
    pose = np.asarray(base_pose, dtype=np.float64)
    if targets.shape[-1:] != (TARGET_DIM,) or pose.shape[-1:] != (3,):
        raise ValueError(
            f"targets (..., {TARGET_DIM}) and base_pose (..., 3) expected, "
            f"got {targets.shape} and {pose.shape}"
        )
    valid = np.isfinite(targets).all(axis=-1) & np.isfinite(pose).all(axis=-1)
    all_valid = bool(valid.all())  # the rollouts' case: skip the replacements (same result)
    if not all_valid:
        # Non-finite elements are replaced before the arithmetic: no NaN and no warnings.
        targets = np.where(valid[..., None], targets, 0.0)
        pose = np.where(valid[..., None], pose, 0.0)
    yaw = pose[..., 2]
    cos, sin = np.cos(yaw), np.sin(yaw)
    # Errors are bounded before any arithmetic can overflow: a finite but huge target
    # (1e308) made inf - inf = NaN here. The limits saturate far below the bound anyway.
    with np.errstate(over="ignore"):
        error = np.clip(targets[..., :3] - pose, -MAX_POSE_ERROR, MAX_POSE_ERROR)
    dx = error[..., 0] / config.tracking_time
    dy = error[..., 1] / config.tracking_time
    vx = cos * dx + sin * dy  # rotation by -yaw: world -> body
    vy = -sin * dx + cos * dy
    yaw_rate = wrap_angle(error[..., 2]) / config.tracking_time
    velocity = limit_velocity(np.stack([vx, vy, yaw_rate], axis=-1), config)
    arm = targets[..., TARGET_ARM]
    if not all_valid:
        arm = np.where(valid[..., None], np.clip(arm, _ARM_LOW, _ARM_HIGH), SAFE_ARM_POSE)
    return velocity_arm_command(velocity, arm, config)


def limit_velocity(velocity: np.ndarray, config: SpotActionConfig = DEFAULT_ACTION_CONFIG
                   ) -> np.ndarray:
    """Body-frame (vx, vy, yaw rate) (..., 3) brought within ``config``'s limits.

    The planar part is scaled as a vector (direction kept, see ``targets_to_command``), the
    yaw rate clipped. The mapping, the bridge (a real Spot is told nothing faster than the
    planner's model assumed) and the sim node (whatever a message says) all apply it.
    """
    velocity = np.asarray(velocity, dtype=np.float64)
    vx, vy = velocity[..., 0], velocity[..., 1]
    ratio = np.maximum(np.abs(vx) / config.max_vx, np.abs(vy) / config.max_vy)
    scale = 1.0 / np.maximum(ratio, 1.0)
    out = np.empty(velocity.shape)
    out[..., 0] = vx * scale
    out[..., 1] = vy * scale
    out[..., 2] = np.clip(velocity[..., 2], -config.max_yaw_rate, config.max_yaw_rate)
    return out


def velocity_arm_command(velocity: np.ndarray, arm: np.ndarray,
                         config: SpotActionConfig = DEFAULT_ACTION_CONFIG) -> np.ndarray:
    """The (..., 25) policy command for a body-frame velocity (..., 3) and arm targets (..., 6).

    What a real Spot takes as a velocity command plus an arm joint command, in the policy's
    layout: velocity as given (``limit_velocity`` first where it may be out of range), arm
    clipped to its joint limits, the config's fixed gripper and torso, no leg override.
    ``targets_to_command`` ends here, and the sim node turns the bridge's command into the
    policy's input with it, so the two cannot disagree on the layout.
    """
    velocity = np.asarray(velocity, dtype=np.float64)
    arm = np.asarray(arm, dtype=np.float64)
    if velocity.shape[-1:] != (3,) or arm.shape[-1:] != (N_TARGET_ARM,):
        raise ValueError(f"velocity (..., 3) and arm (..., {N_TARGET_ARM}) expected, "
                         f"got {velocity.shape} and {arm.shape}")
    batch = np.broadcast_shapes(velocity.shape[:-1], arm.shape[:-1])
    command = np.zeros((*batch, COMMAND_DIM))
    command[..., VX] = velocity[..., 0]
    command[..., VY] = velocity[..., 1]
    command[..., YAW_RATE] = velocity[..., 2]
    command[..., ARM.start : _GRIPPER] = np.clip(arm, _ARM_LOW, _ARM_HIGH)
    command[..., _GRIPPER] = config.gripper
    command[..., TORSO] = config.torso
    return command


def hold_target(base_pose: np.ndarray, arm: np.ndarray | tuple = SAFE_ARM_POSE) -> np.ndarray:
    """The (..., 9) target that keeps the robot where it is: its own pose plus ``arm``.

    ``targets_to_command(hold_target(p), p)`` is the standing command (zero velocity);
    a planner's first knot and the sim node's idle command both start from it.
    """
    pose = np.asarray(base_pose, dtype=np.float64)
    arm = np.broadcast_to(np.asarray(arm, dtype=np.float64), (*pose.shape[:-1], N_TARGET_ARM))
    return np.concatenate([pose, arm], axis=-1)


def yaw_from_quat(quat: np.ndarray) -> np.ndarray:
    """Heading (rad) of MuJoCo (w, x, y, z) quaternions (..., 4): the body x axis's azimuth.

    For an upright body this is its yaw; for a tilted one it is where its x axis points
    when projected onto the floor.
    """
    quat = np.asarray(quat, dtype=np.float64)
    w, x, y, z = quat[..., 0], quat[..., 1], quat[..., 2], quat[..., 3]
    return np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z))


def base_pose_from_qpos(qpos: np.ndarray) -> np.ndarray:
    """Spot's world-frame [x, y, yaw] (..., 3) from qpos (..., nq) (free joint first)."""
    qpos = np.asarray(qpos, dtype=np.float64)
    pose = np.empty((*qpos.shape[:-1], 3))
    pose[..., 0:2] = qpos[..., 0:2]
    pose[..., 2] = yaw_from_quat(qpos[..., 3:7])
    return pose
