"""The chair-push world as the sim node runs it: one Spot driven by its locomotion command.

``SpotPlant`` (gpc eval's plant) takes the planner's 9-DoF target and maps it inside the
rollout engine. The sim node stands in for the robot, so it takes what the bridge sends a
robot instead: a body-frame velocity plus six arm joint targets (a real Spot's synchronized
velocity command and arm joint command), each valid until an expiry time after which the
robot stops walking by itself and holds its arm, as a real Spot does with a command's end
time. The two are turned into the policy's input by the same ``velocity_arm_command`` that
``targets_to_command`` ends with; one command step (0.02 s) is one policy evaluation and two
physics steps (``policy.policy_step``).

No ROS here: the node (``gpc_sim.ros.sim_node``) owns clocks, topics and lock-step; this
class owns the physics, the initial states (``gpc eval``'s: trial i of seed s) and the
ground truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import mujoco
import numpy as np

from gpc_sim.rollout import get_state, set_state
from gpc_sim.spot.action import limit_velocity, velocity_arm_command
from gpc_sim.spot.constants import (
    CHAIR_QPOS_ADR,
    COMMAND_DT,
    JOINT_NAMES,
    N_JOINTS,
    N_TARGET_ARM,
    QPOS_JOINTS,
    QVEL_JOINTS,
    TORSO_BODY,
)
from gpc_sim.spot.policy import policy_step
from gpc_sim.spot.task import ARM_QPOS, SpotChairTask
from gpc_sim.spot.world import CHAIR_BODY, chair_tilt_from_qpos
from gpc_sim.task import initial_state_rng


@dataclass(frozen=True)
class GroundTruth:
    """What evaluation wants to know of the simulated world at one instant."""

    time: float  # s
    step: int
    torso: tuple[float, float, float]  # x, y, yaw
    torso_height: float
    chair: tuple[float, float, float]
    chair_tilt: float
    position_error: float
    yaw_error: float
    success: bool
    success_time: float  # s, first success since the reset; NaN if none yet
    fallen: bool
    tipped: bool
    diverged: bool


class ChairPushSimulation:
    """One chair-push world stepped by locomotion commands, with ``gpc eval``'s starts."""

    def __init__(self, task: SpotChairTask, seed: int = 0, trial: int = 0) -> None:
        self.task = task
        self.model = task.model
        self.data = mujoco.MjData(self.model)
        self.reset(seed, trial)

    # --- episode ----------------------------------------------------------------------
    def reset(self, seed: int, trial: int, time: float = 0.0) -> None:
        """Start trial ``trial`` of seed ``seed``: the state ``gpc eval`` starts it from.

        ``time`` (s) is the clock at the start: a node resetting mid-run keeps its clock
        running forward (a clock that jumps back confuses every time-stamped consumer).
        """
        self.seed, self.trial = int(seed), int(trial)
        self.start_state = self.task.sample_initial_state(initial_state_rng(seed, trial))
        self.task.layout.time(self.start_state)[...] = time
        self.load(self.start_state)

    def load(self, state: np.ndarray) -> None:
        """Continue from a task state vector (FULLPHYSICS + the policy's previous output)."""
        layout = self.task.layout
        set_state(self.model, self.data, layout.physics(state))
        self._prev_out = np.array(layout.prev_out(state), dtype=np.float32)
        self.steps = 0
        self.start_time = self.time
        self.success_time = math.nan
        self.diverged = False
        self._velocity = np.zeros(3)
        self._arm = self.truth_arm()  # hold the arm where it is
        self._expires = -math.inf
        self._last_good = self.state()

    @property
    def time(self) -> float:
        """Simulation time (s)."""
        return float(self.data.time)

    # --- commands ---------------------------------------------------------------------
    def command(self, velocity: np.ndarray, arm: np.ndarray, expires_at: float) -> None:
        """Walk at body-frame ``velocity`` (vx, vy, yaw rate) until ``expires_at`` (sim s),
        with the arm going to ``arm`` (6 targets, held after the expiry too).

        Out-of-range numbers are limited (``limit_velocity``; the arm to its joint limits by
        ``velocity_arm_command``); a non-finite velocity stops the robot and a non-finite arm
        keeps the previous arm targets: a robot never acts on NaN.
        """
        velocity = np.asarray(velocity, dtype=np.float64)
        arm = np.asarray(arm, dtype=np.float64)
        if velocity.shape != (3,) or arm.shape != (N_TARGET_ARM,):
            raise ValueError(f"velocity (3,) and arm ({N_TARGET_ARM},) expected, got "
                             f"{velocity.shape} and {arm.shape}")
        if np.all(np.isfinite(arm)):
            self._arm = arm.copy()
        if np.all(np.isfinite(velocity)) and math.isfinite(expires_at):
            self._velocity = limit_velocity(velocity, self.task.action_config)
            self._expires = float(expires_at)
        else:
            self._velocity = np.zeros(3)
            self._expires = -math.inf

    def truth_arm(self) -> np.ndarray:
        """The arm's joint angles now (6,): a target that holds it where it is."""
        return np.array(self.data.qpos[ARM_QPOS])

    def stop(self) -> None:
        """Stop walking now (the arm keeps its targets)."""
        self._velocity = np.zeros(3)
        self._expires = -math.inf

    def active_command(self) -> np.ndarray:
        """The policy command (25,) the next step applies: zero velocity once expired."""
        walking = self.time < self._expires - 1e-9
        velocity = self._velocity if walking else np.zeros(3)
        return velocity_arm_command(velocity, self._arm, self.task.action_config)

    # --- stepping ---------------------------------------------------------------------
    def step(self) -> None:
        """One command step (0.02 s). A blown-up simulation stays at its last good state.

        MuJoCo answers a blow-up (NaN or huge accelerations) by resetting the world to its
        default pose at time 0; that shows as the clock jumping back, as in
        ``gpc_sim.rollout.diverged``. Then the world is put back where it was and frozen
        (``diverged``), so what the robot stand-in reports stays a real trajectory.
        """
        if self.diverged:
            return
        before = self.time
        self._prev_out = policy_step(self.model, self.data, self.active_command(),
                                     self._prev_out, self.task.policy)
        finite = np.all(np.isfinite(self.data.qpos)) and np.all(np.isfinite(self.data.qvel))
        if not finite or abs(self.time - (before + COMMAND_DT)) > 0.5 * COMMAND_DT:
            self.diverged = True
            self.load_physics(self._last_good)
            return
        self.steps += 1
        self._last_good = self.state()
        if math.isnan(self.success_time) and self.task.success(self._last_good):
            self.success_time = self.time

    def load_physics(self, state: np.ndarray) -> None:
        """Put ``state`` back without touching the episode's bookkeeping."""
        layout = self.task.layout
        set_state(self.model, self.data, layout.physics(state))
        self._prev_out = np.array(layout.prev_out(state), dtype=np.float32)

    # --- what the world shows -----------------------------------------------------------
    def state(self) -> np.ndarray:
        """The task state vector (what the planner's rollouts start from, ideally)."""
        return self.task.layout.pack(get_state(self.model, self.data), self._prev_out)

    def body_poses(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """World positions (3,) and (w, x, y, z) orientations of the torso and the chair.

        Read from the two free joints' qpos (each sits at its body's origin), not from
        ``xpos``, which ``mj_step`` computes before integrating and so lags by a step.
        """
        q = self.data.qpos
        c = CHAIR_QPOS_ADR
        return {
            TORSO_BODY: (q[0:3].copy(), q[3:7].copy()),
            CHAIR_BODY: (q[c : c + 3].copy(), q[c + 3 : c + 7].copy()),
        }

    def joints(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """Spot's 19 joint names (MuJoCo order), positions (rad) and velocities (rad/s)."""
        q = self.data.qpos[QPOS_JOINTS : QPOS_JOINTS + N_JOINTS].copy()
        v = self.data.qvel[QVEL_JOINTS : QVEL_JOINTS + N_JOINTS].copy()
        return JOINT_NAMES, q, v

    def truth(self) -> GroundTruth:
        """Poses, errors and events now (``SpotChairTask`` defines them)."""
        state = self.state()
        metrics = self.task.metrics(state)
        torso = self.task.torso_pose(state)
        chair = self.task.chair_pose(state)
        tilt = float(chair_tilt_from_qpos(self.task.layout.qpos(state)))
        return GroundTruth(
            time=self.time,
            step=self.steps,
            torso=tuple(float(v) for v in torso),
            torso_height=metrics["torso_height"],
            chair=tuple(float(v) for v in chair),
            chair_tilt=tilt,
            position_error=metrics["position_error"],
            yaw_error=metrics["yaw_error"],
            success=self.task.success(state),
            success_time=self.success_time,
            fallen=metrics["torso_height"] < self.task.config.fall_height,
            tipped=tilt > self.task.config.tip_angle,
            diverged=self.diverged,
        )

