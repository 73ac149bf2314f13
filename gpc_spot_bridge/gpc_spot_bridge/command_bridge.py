"""The bridge's logic: the planner's 9-DoF target -> a body-frame velocity and arm targets.

The planner sends absolute world-frame targets (torso x, y, yaw + six arm joints); a Spot
takes a body-frame velocity and arm joint targets. ``CommandBridge`` turns the newest target
and the newest torso pose into them with ``gpc_sim.spot.action.targets_to_command``, the
same function the planner's rollouts run, so the robot is told what the planner predicted.

Watchdog: with no target newer than ``command_timeout`` (the planner died, or the link did)
or no pose newer than ``pose_timeout`` (the finite difference needs where the robot is), the
output is a stop: zero velocity, the arm held at its last target. A NaN in a message is
refused where it arrives and counts as no message.

Stamps: an output is stamped with the older of its two inputs' stamps (pose capture time,
the target's time), the time it is current as of; a lock-stepped simulation uses that to
wait for the command that answers its latest frame. A stop is stamped with the pose's
stamp (or ``now`` without a pose): it answers the frame too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gpc_sim.errors import ConfigError
from gpc_sim.spot.action import DEFAULT_ACTION_CONFIG, SpotActionConfig, targets_to_command
from gpc_sim.spot.constants import ARM, BASE_VEL, N_TARGET_ARM, TARGET_DIM


@dataclass(frozen=True)
class BridgeConfig:
    """command_timeout: s without a fresh target before the robot is stopped.
    pose_timeout: s without a fresh torso pose before the robot is stopped.
    action: the mapping's tracking time and velocity limits (the planner's, by default)."""

    command_timeout: float = 0.5
    pose_timeout: float = 0.3
    action: SpotActionConfig = field(default_factory=lambda: DEFAULT_ACTION_CONFIG)

    def __post_init__(self) -> None:
        for name in ("command_timeout", "pose_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0.0):
                raise ConfigError(f"bridge {name} must be > 0 s, got {value}")


@dataclass(frozen=True)
class BridgeOutput:
    """What to send the robot now."""

    velocity: np.ndarray  # (3,) body-frame vx (m/s), vy (m/s), yaw rate (rad/s)
    arm: np.ndarray | None  # (6,) arm joint targets (rad); None: no arm target yet
    stamp: float  # s, what the command is current as of (module docstring)
    plan_id: int  # the planner iteration followed; 0 for a stop
    stopped: str | None = None  # why the robot is stopped, for people (None: following)
    # Which of the four stops this is (NO_TARGET, PLANNER_SILENT, NO_POSE, STALE_POSE): it
    # stays the same while the stop lasts (``stopped`` carries a growing age), so a node
    # logs a stop once, not at every tick.
    cause: str | None = None


# The causes of a stop (BridgeOutput.cause).
NO_TARGET = "no_target"
PLANNER_SILENT = "planner_silent"
NO_POSE = "no_pose"
STALE_POSE = "stale_pose"


class CommandBridge:
    """Newest target + newest pose -> velocity and arm command, with a watchdog."""

    def __init__(self, config: BridgeConfig | None = None) -> None:
        self.config = config or BridgeConfig()
        self._target: np.ndarray | None = None
        self._target_stamp = -math.inf
        self._plan_id = 0
        self._pose: np.ndarray | None = None
        self._pose_stamp = -math.inf
        self._arm: np.ndarray | None = None  # last arm target sent: what a stop holds
        self.rejected = 0  # messages refused (NaN, wrong size)

    def on_target(self, stamp: float, target: np.ndarray, plan_id: int = 0) -> str | None:
        """Take the planner's 9-DoF target for time ``stamp``; returns a problem or None."""
        target = np.asarray(target, dtype=np.float64)
        if target.shape != (TARGET_DIM,) or not np.all(np.isfinite(target)) \
                or not math.isfinite(stamp):
            self.rejected += 1
            return f"refused a target with NaN/inf or of shape {target.shape}"
        if stamp >= self._target_stamp:
            self._target, self._target_stamp, self._plan_id = target, stamp, int(plan_id)
        return None

    def on_pose(self, stamp: float, pose: np.ndarray) -> str | None:
        """Take the robot's world-frame (x, y, yaw) measured at ``stamp``."""
        pose = np.asarray(pose, dtype=np.float64)
        if pose.shape != (3,) or not np.all(np.isfinite(pose)) or not math.isfinite(stamp):
            self.rejected += 1
            return "refused a torso pose with NaN/inf"
        if stamp >= self._pose_stamp:
            self._pose, self._pose_stamp = pose, stamp
        return None

    def output(self, now: float) -> BridgeOutput:
        """The command for ``now``: the mapping of the newest inputs, or a stop."""
        c = self.config
        cause = reason = None
        if self._target is None:
            cause, reason = NO_TARGET, "no target from the planner yet"
        elif now - self._target_stamp > c.command_timeout:
            cause = PLANNER_SILENT
            reason = f"planner silent for {now - self._target_stamp:.2f} s (watchdog)"
        elif self._pose is None:
            cause, reason = NO_POSE, "no torso pose yet"
        elif now - self._pose_stamp > c.pose_timeout:
            cause, reason = STALE_POSE, f"torso pose {now - self._pose_stamp:.2f} s old"
        if cause is not None:
            stamp = self._pose_stamp if math.isfinite(self._pose_stamp) else now
            return BridgeOutput(np.zeros(3), self._arm, stamp, 0, reason, cause)
        command = targets_to_command(self._target, self._pose, c.action)
        self._arm = command[ARM][:N_TARGET_ARM].copy()
        return BridgeOutput(command[BASE_VEL].copy(), self._arm.copy(),
                            min(self._pose_stamp, self._target_stamp), self._plan_id)
