"""The planner's state estimate of the chair-push world from motion capture and joint states.

The rollouts start from a full task state (``SpotStateLayout``: MuJoCo's FULLPHYSICS vector
plus the policy's previous output), but a robot reports much less: motion capture gives the
torso's and the chair's poses, the robot its joint angles (and usually their velocities).
``SpotStateEstimator`` fills in the rest:

* velocities of the two free bodies: finite differences of successive mocap frames, low-pass
  filtered (exponential, time constant ``velocity_filter``), zero from a single frame (an
  episode starts at rest); MuJoCo's free joint wants the linear velocity in the world frame
  and the angular velocity in the body frame;
* joint velocities: as reported, else finite differences; leg joints that are not reported
  take the standing pose (a robot that only reports its arm still gets a plannable state);
* the chair's caster balls: at rest in their model pose (mocap does not see them);
* the policy's previous output: the leg action that would command the legs where they are
  ((q - default) / action scale), the policy's own steady state.

What the approximations cost, measured (a robot walking at 0.5 m/s and turning, 50 Hz
frames, the same 4 s of targets rolled out from the estimate and from the true state): the
torso ends 2.5 mm apart after 1 s and 1.4 cm after 4 s; with the true previous output
instead of the estimated one 4 mm, with the true velocities 2 mm. The policy's previous
output is the largest of the errors, and small next to what the planner's sampling varies.

Joint names: the sim's (``JOINT_NAMES``: ``fl_hx`` ... ``arm_f1x``) and spot_ros2's
(``front_left_hip_x`` ... ``rear_right_knee``, ``arm_sh0`` ... ``arm_f1x``, after an optional
``<robot name>/`` prefix) are both understood (``joint_index``): the planner runs beside the
spot_ros2 driver as well as beside the sim. A name that is neither is ignored with a warning
(it used to be dropped silently, and with a driver that names joints differently the planner
waited for the arm joints forever).

Before a state is handed out it is checked: every number finite, orientations that are
rotations (``gpc_sim.pose_checks``, the bridge's check too), frames not too old and not from
the future (``gpc_sim.stamps``: a stamp ahead of the clock by more than ``future_tolerance``
is refused, so one glitch cannot make every later frame look older), no jump between frames
larger than ``max_jump`` (a mocap swap or a glitch). A failed check gives the reason instead
of a state, and the planner holds; after a jump the filter starts again from the new frame,
so a real relocation costs a brief hold, not a lock-up.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gpc_sim.errors import ConfigError
from gpc_sim.pose_checks import jump, pose_problem, unit_quat
from gpc_sim.spot.constants import (
    ACTION_SCALE,
    CHAIR_QPOS_ADR,
    CHAIR_QVEL_ADR,
    DEFAULT_LEG_POSE,
    JOINT_NAMES,
    LEG_ACTION_FROM_MUJOCO,
    N_JOINTS,
    N_LEG_JOINTS,
    QPOS_JOINTS,
    QVEL_JOINTS,
    STANDING_LEG_POSE,
)
from gpc_sim.spot.task import SpotChairTask
from gpc_sim.stamps import DEFAULT_FUTURE_TOLERANCE, StampCheck, age

Pose = tuple[np.ndarray, np.ndarray]  # position (3,), orientation (w, x, y, z)

#: spot_ros2's name of each of the sim's joints (its ``joint_states``; the names of its URDF).
_LEGS = {"fl": "front_left", "fr": "front_right", "hl": "rear_left", "hr": "rear_right"}
_LEG_JOINTS = {"hx": "hip_x", "hy": "hip_y", "kn": "knee"}
SPOT_ROS2_JOINT_NAMES: dict[str, str] = {
    name: (f"{_LEGS[name[:2]]}_{_LEG_JOINTS[name[3:]]}" if name[:2] in _LEGS else name)
    for name in JOINT_NAMES
}
_JOINT_INDEX = {name: i for i, name in enumerate(JOINT_NAMES)}
_JOINT_INDEX.update({SPOT_ROS2_JOINT_NAMES[name]: i for i, name in enumerate(JOINT_NAMES)})


def joint_index(name: str) -> int | None:
    """Index in ``JOINT_NAMES`` of a joint named as the sim or spot_ros2 names it (with or
    without a ``<robot name>/`` prefix); None for any other name."""
    return _JOINT_INDEX.get(name.rsplit("/", 1)[-1])

_ARM = range(N_LEG_JOINTS, N_JOINTS - 1)  # the six planned arm joints (gripper after them)


@dataclass(frozen=True)
class EstimatorConfig:
    """velocity_filter: s, time constant of the low-pass on finite-difference velocities.
    max_jump: m, largest believable change of a body's position between two frames.
    timeout: s, oldest mocap frame a plan may start from. joint_timeout: s, the same for
    joint states. future_tolerance: s, how far ahead of the clock a stamp may be."""

    velocity_filter: float = 0.05
    max_jump: float = 0.5
    timeout: float = 0.3
    joint_timeout: float = 0.5
    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE

    def __post_init__(self) -> None:
        for name in ("velocity_filter", "max_jump", "timeout", "joint_timeout"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0) or (name != "velocity_filter"
                                                                and value == 0.0):
                raise ConfigError(f"estimator {name} must be a positive number, got {value}")
        StampCheck(self.future_tolerance)  # checks it


@dataclass(frozen=True)
class Estimate:
    """A state to plan from (``state``), or why there is none (``problem``)."""

    state: np.ndarray | None
    stamp: float  # s, capture time of the mocap frame it is built on (NaN if none)
    age: float  # s, now - stamp, never negative (inf without a frame)
    problem: str | None = None


def _quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.array([
        aw * bw - ax * bx - ay * by - az * bz,
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
    ])  # fmt: skip


def body_angular_velocity(q0: np.ndarray, q1: np.ndarray, dt: float) -> np.ndarray:
    """Body-frame angular velocity (3,) that turns (w, x, y, z) ``q0`` into ``q1`` in ``dt``.

    The relative rotation q0* q1 is in q0's body frame; its axis-angle over dt is the
    velocity (the shorter way round: q and -q are the same rotation).
    """
    rel = _quat_multiply(np.array([q0[0], -q0[1], -q0[2], -q0[3]]), q1)
    if rel[0] < 0.0:
        rel = -rel
    s = float(np.linalg.norm(rel[1:]))
    if s < 1e-12:
        return np.zeros(3)
    angle = 2.0 * math.atan2(s, float(rel[0]))
    return rel[1:] / s * (angle / dt)


class _Body:
    """One free body's last pose and filtered velocity (world linear, body angular)."""

    def __init__(self) -> None:
        self.pos: np.ndarray | None = None
        self.quat = np.array([1.0, 0.0, 0.0, 0.0])
        self.lin = np.zeros(3)
        self.ang = np.zeros(3)

    def update(self, pos: np.ndarray, quat: np.ndarray, dt: float | None, gain: float) -> None:
        if self.pos is not None and dt is not None:
            lin = (pos - self.pos) / dt
            ang = body_angular_velocity(self.quat, quat, dt)
            self.lin += gain * (lin - self.lin)
            self.ang += gain * (ang - self.ang)
        self.pos, self.quat = pos, quat


class SpotStateEstimator:
    """Builds chair-push task states from mocap frames and joint states (module docstring)."""

    def __init__(self, task: SpotChairTask, config: EstimatorConfig | None = None) -> None:
        self.task = task
        self.configure(config or EstimatorConfig())
        self._caster_qpos = task.model.qpos0[CHAIR_QPOS_ADR + 7 :].copy()
        self.reset()

    def configure(self, config: EstimatorConfig) -> None:
        """Use ``config`` from the next measurement on (a node's live parameters)."""
        self.config = config
        self._stamps = StampCheck(config.future_tolerance)

    def stamp_problem(self, stamp: float, now: float, what: str = "mocap frame") -> str | None:
        """Why a message stamped ``stamp`` is not believed at ``now`` (``gpc_sim.stamps``)."""
        return self._stamps.problem(stamp, now, what)

    def reset(self) -> None:
        """Forget every measurement (a new episode)."""
        self._reset_bodies()
        self._joint_pos = np.array(STANDING_LEG_POSE + (0.0,) * (N_JOINTS - N_LEG_JOINTS))
        self._joint_vel = np.zeros(N_JOINTS)
        self._joint_stamp = math.nan
        self._arm_seen = False

    def _reset_bodies(self) -> None:
        """Forget the mocap frames (after a jump: the joints are still right)."""
        self._torso, self._chair = _Body(), _Body()
        self._stamp = math.nan
        self._frames = 0
        self._problem: str | None = None

    @property
    def joint_stamp(self) -> float:
        """Stamp (s) of the last joint states taken (NaN before the first)."""
        return self._joint_stamp

    @property
    def stamp(self) -> float:
        """Capture time (s) of the last accepted mocap frame (NaN before the first)."""
        return self._stamp

    def update_bodies(self, stamp: float, torso: Pose, chair: Pose, *, now: float
                      ) -> str | None:
        """Take one mocap frame captured at ``stamp``, received at ``now`` (the receiver's
        clock); returns a problem (and keeps the old estimate) or None."""
        torso_pos, torso_quat = (np.asarray(v, dtype=np.float64) for v in torso)
        chair_pos, chair_quat = (np.asarray(v, dtype=np.float64) for v in chair)
        problem = (self._stamps.problem(stamp, now, "mocap frame")
                   or pose_problem(torso_pos, torso_quat, "mocap torso pose")
                   or pose_problem(chair_pos, chair_quat, "mocap chair pose"))
        if problem is not None:
            return problem
        if self._frames and stamp == self._stamp:
            return None  # the same frame again (a lock-stepped sim re-sends it): nothing new
        if self._frames and stamp < self._stamp:
            return f"mocap frame older than the last one ({stamp:.3f} < {self._stamp:.3f} s)"
        torso_quat, chair_quat = unit_quat(torso_quat), unit_quat(chair_quat)
        dt = None if not self._frames else stamp - self._stamp
        if dt is not None:
            moved = max(jump(torso_pos, self._torso.pos), jump(chair_pos, self._chair.pos))
            if moved > self.config.max_jump:
                self._reset_bodies()
                self._problem = f"mocap jump of {moved:.2f} m between frames; re-initialising"
                dt = None
        tau = self.config.velocity_filter
        gain = 1.0 if dt is None or tau == 0.0 else dt / (tau + dt)
        self._torso.update(torso_pos, torso_quat, dt, gain)
        self._chair.update(chair_pos, chair_quat, dt, gain)
        self._stamp = stamp
        self._frames += 1
        if dt is not None:
            self._problem = None
        return self._problem

    def update_joints(self, stamp: float, names: list[str] | tuple[str, ...],
                      positions: np.ndarray, velocities: np.ndarray | None = None, *,
                      now: float) -> str | None:
        """Take joint states by name (``joint_index``), measured at ``stamp`` and received
        at ``now``. Returns a problem (the message was refused), a warning that names some
        unknown joints (the known ones were taken), or None."""
        stamp_problem = self._stamps.problem(stamp, now, "joint_states")
        if stamp_problem is not None:
            return stamp_problem
        positions = np.asarray(positions, dtype=np.float64)
        if len(positions) != len(names):
            return f"joint_states with {len(names)} names but {len(positions)} positions"
        use_vel = velocities is not None and len(velocities) == len(names)
        vel = np.asarray(velocities, dtype=np.float64) if use_vel else None
        if not np.all(np.isfinite(positions)) or (vel is not None
                                                   and not np.all(np.isfinite(vel))):
            return "joint_states with NaN or inf"
        old_pos, old_stamp = self._joint_pos.copy(), self._joint_stamp
        seen, unknown = set(), []
        for k, name in enumerate(names):
            i = joint_index(name)
            if i is None:
                unknown.append(name)
                continue
            seen.add(i)
            self._joint_pos[i] = positions[k]
            if vel is not None:
                self._joint_vel[i] = vel[k]
            elif math.isfinite(old_stamp) and stamp > old_stamp:
                self._joint_vel[i] = (positions[k] - old_pos[i]) / (stamp - old_stamp)
        self._arm_seen = self._arm_seen or all(i in seen for i in _ARM)
        self._joint_stamp = stamp
        if unknown:
            return (f"joint_states: unknown joint names ignored: {', '.join(unknown[:5])}"
                    f"{' ...' if len(unknown) > 5 else ''} (understood: the sim's fl_hx ... "
                    "and spot_ros2's front_left_hip_x ..., with any prefix)")
        return None

    def estimate(self, now: float) -> Estimate:
        """The state at the last mocap frame, if it is fit to plan from at ``now``."""
        frame_age = age(now, self._stamp) if self._frames else math.inf
        joint_age = age(now, self._joint_stamp)
        problem = self._problem
        if not self._frames:
            problem = "no mocap frame yet"
        elif frame_age > self.config.timeout:
            problem = f"stale mocap: last frame {frame_age:.2f} s old"
        elif not self._arm_seen:
            problem = "no joint_states with the arm joints yet"
        elif joint_age > self.config.joint_timeout:
            problem = f"stale joint_states: {joint_age:.2f} s old"
        if problem is not None:
            return Estimate(None, self._stamp, frame_age, problem)
        return Estimate(self._state(), self._stamp, frame_age)

    def _state(self) -> np.ndarray:
        layout = self.task.layout
        state = np.zeros(layout.size)
        state[0] = self._stamp
        qpos, qvel = layout.qpos(state), layout.qvel(state)
        qpos[0:3], qpos[3:7] = self._torso.pos, self._torso.quat
        qpos[QPOS_JOINTS : QPOS_JOINTS + N_JOINTS] = self._joint_pos
        c = CHAIR_QPOS_ADR
        qpos[c : c + 3], qpos[c + 3 : c + 7] = self._chair.pos, self._chair.quat
        qpos[c + 7 :] = self._caster_qpos
        qvel[0:3], qvel[3:6] = self._torso.lin, self._torso.ang
        qvel[QVEL_JOINTS : QVEL_JOINTS + N_JOINTS] = self._joint_vel
        v = CHAIR_QVEL_ADR
        qvel[v : v + 3], qvel[v + 3 : v + 6] = self._chair.lin, self._chair.ang
        legs = self._joint_pos[:N_LEG_JOINTS]
        prev = layout.prev_out(state)
        prev[list(LEG_ACTION_FROM_MUJOCO)] = (legs - np.asarray(DEFAULT_LEG_POSE)) / ACTION_SCALE
        return state
