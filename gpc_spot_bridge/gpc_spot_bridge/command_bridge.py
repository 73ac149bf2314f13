"""The bridge's logic: the planner's 9-DoF target -> a body-frame velocity and arm targets.

The planner sends absolute world-frame targets (torso x, y, yaw + six arm joints); a Spot
takes a body-frame velocity and arm joint targets. ``CommandBridge`` turns the newest target
and the newest torso pose into them with ``gpc_sim.spot.action.targets_to_command``, the
same function the planner's rollouts run, so the robot is told what the planner predicted.

Watchdog: with no target newer than ``command_timeout`` (the planner died, or the link did)
or no pose newer than ``pose_timeout`` (the finite difference needs where the robot is), the
output is a stop: zero velocity, the arm held at its last target. A NaN in a target is
refused where it arrives and counts as no message. A pose that fails the estimator's checks
(``gpc_sim.pose_checks``: NaN, an orientation that is no rotation, such as the zero
quaternion of a lost body) stops the robot until a good pose arrives; so does a jump of more
than ``max_jump`` until the next pose confirms the new place.

Time: every stamp is checked against the receiver's clock by the stack's one rule
(``gpc_sim.stamps``): a message from the future beyond ``future_tolerance`` is refused, and
an accepted one counts as fresh from no later than its arrival, so no stamp can extend a
timeout or make the correctly stamped messages after it look old.

Stamps: an output is stamped with the older of its two inputs' stamps (pose capture time,
the target's time), the time it is current as of; a lock-stepped simulation uses that to
wait for the command that answers its latest frame. A stop is stamped with the pose's
stamp (or ``now`` without a pose): it answers the frame too.

A clock that jumps back (``gpc_sim.stamps.ClockWatch``: the simulation, which is the clock,
restarted) makes the bridge forget its target, its pose and the arm target a stop holds:
they belong to the old clock (and, in simulation, to the old robot), and kept, they would
look fresh and make every new message look old. The robot stops until a new target and a
new pose arrive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from gpc_sim.errors import ConfigError
from gpc_sim.pose_checks import jump, pose_problem
from gpc_sim.spot.action import (
    DEFAULT_ACTION_CONFIG,
    SpotActionConfig,
    targets_to_command,
    yaw_from_quat,
)
from gpc_sim.spot.constants import ARM, BASE_VEL, N_TARGET_ARM, TARGET_DIM
from gpc_sim.stamps import DEFAULT_FUTURE_TOLERANCE, ClockWatch, StampCheck, age, fresh_from

MAX_TIMEOUT = 5.0  # s: a watchdog that waits longer than this does not protect anybody


@dataclass(frozen=True)
class BridgeConfig:
    """command_timeout: s without a fresh target before the robot is stopped.
    pose_timeout: s without a fresh torso pose before the robot is stopped.
    future_tolerance: s a stamp may be ahead of the clock (``gpc_sim.stamps``).
    max_jump: m, largest believable move of the torso between two poses.
    action: the mapping's tracking time and velocity limits (the planner's, by default)."""

    command_timeout: float = 0.5
    pose_timeout: float = 0.3
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE
    max_jump: float = 0.5
    action: SpotActionConfig = field(default_factory=lambda: DEFAULT_ACTION_CONFIG)

    def __post_init__(self) -> None:
        for name in ("command_timeout", "pose_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.0 < value <= MAX_TIMEOUT):
                raise ConfigError(f"bridge {name} must be in (0, {MAX_TIMEOUT:g}] s, got {value}")
        if not (math.isfinite(self.max_jump) and self.max_jump > 0.0):
            raise ConfigError(f"bridge max_jump must be > 0 m, got {self.max_jump}")
        StampCheck(self.future_tolerance)  # checks it


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
BAD_POSE = "bad_pose"
STALE_POSE = "stale_pose"
BAD_COMMAND = "bad_command"


class CommandBridge:
    """Newest target + newest pose -> velocity and arm command, with a watchdog."""

    def __init__(self, config: BridgeConfig | None = None) -> None:
        self.config = config or BridgeConfig()
        self.clock = ClockWatch()
        self.rejected = 0  # messages refused (NaN, wrong size, from the future)
        self._forget()

    def _forget(self) -> None:
        """No target, no pose, no arm target: the state before the first message."""
        self._target: np.ndarray | None = None
        self._target_stamp = -math.inf  # what the target is for (stamps the output)
        self._target_fresh = -math.inf  # what its timeout counts from (module docstring)
        self._plan_id = 0
        self._pose: np.ndarray | None = None  # (x, y, yaw)
        self._pose_stamp = -math.inf
        self._pose_fresh = -math.inf
        self._pose_problem: str | None = None  # a bad or unconfirmed pose: stop until cleared
        self._arm: np.ndarray | None = None  # last arm target sent: what a stop holds

    def clock_went_back(self, now: float) -> float | None:
        """Check the clock's reading ``now``: if it went back (module docstring), forget the
        inputs and return by how much (s), for the node to log; None otherwise. Every
        method that takes ``now`` calls it first."""
        back = self.clock.went_back(now)
        if back is not None:
            self._forget()
        return back

    @property
    def config(self) -> BridgeConfig:
        return self._config

    @config.setter
    def config(self, config: BridgeConfig) -> None:
        """A new configuration applies from the next message and output (live parameters)."""
        self._config = config
        self._stamps = StampCheck(config.future_tolerance)

    def on_target(self, stamp: float, target: np.ndarray, plan_id: int, now: float
                  ) -> str | None:
        """Take the planner's 9-DoF target for time ``stamp``, received at ``now``; returns
        a problem or None."""
        self.clock_went_back(now)
        target = np.asarray(target, dtype=np.float64)
        problem = self._stamps.problem(stamp, now, "target")
        if problem is None and (target.shape != (TARGET_DIM,)
                                or not np.all(np.isfinite(target))):
            problem = f"refused a target with NaN/inf or of shape {target.shape}"
        if problem is not None:
            self.rejected += 1
            return problem
        if stamp >= self._target_stamp:
            self._target, self._target_stamp, self._plan_id = target, stamp, int(plan_id)
            self._target_fresh = fresh_from(stamp, now)
        return None

    def on_pose(self, stamp: float, position: np.ndarray, quat: np.ndarray, now: float
                ) -> str | None:
        """Take the robot's world-frame torso position (3,) and (w, x, y, z) orientation
        measured at ``stamp``, received at ``now``; returns a problem or None.

        A pose that fails the checks stops the robot (it is not just skipped: a tracking
        system that lost the body keeps sending such poses, and the last good one is stale).
        """
        self.clock_went_back(now)
        problem = self._stamps.problem(stamp, now, "torso pose")
        if problem is not None:
            self.rejected += 1
            return problem
        if stamp < self._pose_stamp:
            return None  # an older pose than the one in use: nothing new
        problem = pose_problem(position, quat, "torso pose")
        if problem is not None:
            self.rejected += 1
            self._pose_problem = problem
            self._pose_stamp, self._pose_fresh = stamp, fresh_from(stamp, now)
            return problem
        position = np.asarray(position, dtype=np.float64)
        pose = np.array([position[0], position[1], float(yaw_from_quat(np.asarray(quat)))])
        moved = jump(pose[:2], None if self._pose is None else self._pose[:2])
        if moved > self.config.max_jump:
            problem = (f"torso pose jumped {moved:.2f} m; stopped until the next pose "
                       "confirms it")
        self._pose_problem = problem
        self._pose, self._pose_stamp, self._pose_fresh = pose, stamp, fresh_from(stamp, now)
        return problem

    def output(self, now: float) -> BridgeOutput:
        """The command for ``now``: the mapping of the newest inputs, or a stop."""
        self.clock_went_back(now)
        c = self.config
        cause = reason = None
        if self._target is None:
            cause, reason = NO_TARGET, "no target from the planner yet"
        elif age(now, self._target_fresh) > c.command_timeout:
            cause = PLANNER_SILENT
            reason = f"planner silent for {age(now, self._target_fresh):.2f} s (watchdog)"
        elif self._pose is None and self._pose_problem is None:
            cause, reason = NO_POSE, "no torso pose yet"
        elif age(now, self._pose_fresh) > c.pose_timeout:
            cause, reason = STALE_POSE, f"torso pose {age(now, self._pose_fresh):.2f} s old"
        elif self._pose_problem is not None:
            cause, reason = BAD_POSE, self._pose_problem
        if cause is None:
            command = targets_to_command(self._target, self._pose, c.action)
            if np.all(np.isfinite(command)):
                self._arm = command[ARM][:N_TARGET_ARM].copy()
                return BridgeOutput(command[BASE_VEL].copy(), self._arm.copy(),
                                    min(self._pose_stamp, self._target_stamp), self._plan_id)
            cause, reason = BAD_COMMAND, "the mapping gave a non-finite command"
        stamp = self._pose_stamp if math.isfinite(self._pose_stamp) else now
        return BridgeOutput(np.zeros(3), self._arm, stamp, 0, reason, cause)
