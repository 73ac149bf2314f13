"""Push-T and Push-K: a 2-DoF circular pusher moves a block to a goal pose.

The control is the pusher's target position (a position servo), the same
world-frame quantity the proposal model learns. Costs follow the paper:

* pusher-block proximity: distance from the pusher to the block, as the paper
  states it (L2 distance between robot and object). ``push_offset`` > 0 moves
  the attraction point behind the block, on the side away from the goal, as
  judo's public Push-T does: that shaping tells the planner where to push and
  made our CEM far stronger than the paper's (0.985 vs 0.85 success), so the
  benchmark uses the paper's plain term (offset 0), which leaves the planner
  the deceptive choice of which side to push from;
* a velocity penalty on the pusher;
* goal distance + angle, integrated over the horizon, and again at its end
  (the terminal term is the progress term: of two rollouts that spend the
  horizon alike, it prefers the one that leaves the block nearer the goal).

Terms are L2 norms, not squares, so that the pull towards the goal stays strong
at the millimetre errors that 0.9 coverage needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
import shapely.affinity

from gpc_sim.angles import wrap_angle
from gpc_sim.plant import MujocoPlant
from gpc_sim.push import constants as C
from gpc_sim.push.coverage import coverage, place
from gpc_sim.push.shapes import BlockShape, load_shape
from gpc_sim.push.world import build_model
from gpc_sim.rollout import RolloutEngine
from gpc_sim.task import Reflection, Task, TaskConfig, sample_until

# qpos layout of the world: pusher x, y, then block x, y, yaw.
PUSHER = slice(0, 2)
BLOCK_XY = slice(2, 4)
BLOCK_YAW = 4


@dataclass
class PushTaskConfig(TaskConfig):
    """Push-T settings; defaults are the paper's (32 rollouts are the optimizer's)."""

    shape: str = "t"  # preset name or YAML file
    goal: tuple[float, float, float] = C.GOAL_POSE
    w_position: float = 60.0  # |block - goal| (m), per second
    w_angle: float = 3.0  # |yaw error| (rad), per second
    w_proximity: float = 1.0  # |pusher - attraction point| (m), per second
    push_offset: float = 0.0  # m, attraction point behind the block centre (0: the paper's)
    w_velocity: float = 0.1  # |pusher velocity| (m/s), per second
    w_terminal: float = 50.0  # progress: |block - goal| + 0.1 |yaw error| at the horizon's end
    spawn_block_extent: float = 0.15  # m, block starts in [-e, e]^2
    spawn_pusher_extent: float = 0.3  # m, pusher starts in [-e, e]^2
    max_steps: int = C.MAX_STEPS


class PushTask(Task):
    """Push a block of any rectangle-union shape to a goal pose."""

    observation_names = ("pusher_x", "pusher_y", "block_x", "block_y", "block_sin_yaw",
                         "block_cos_yaw")
    family = "push"

    def __init__(self, config: PushTaskConfig | None = None, nthread: int | None = None) -> None:
        self.config = config or PushTaskConfig()
        self.shape: BlockShape = load_shape(self.config.shape)
        self.name = f"push_{self.shape.name.lower()}"
        self.model = build_model(self.shape)
        self.engine = RolloutEngine(self.model, nthread)
        self.layout = self.engine.layout
        self.dt = float(self.model.opt.timestep)
        lim = C.TABLE_HALF_EXTENT
        self.action_low = np.array([-lim, -lim])
        self.action_high = np.array([lim, lim])
        self.goal = np.asarray(self.config.goal, dtype=np.float64)

    # --- dynamics -------------------------------------------------------
    def rollout(self, state: np.ndarray, controls: np.ndarray) -> np.ndarray:
        return self.engine.rollout_batch(state, controls)

    def make_plant(self, state: np.ndarray) -> MujocoPlant:
        return MujocoPlant(self.model, state)

    # --- costs ----------------------------------------------------------
    def _errors(self, states: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Block position error, yaw error, and pusher offset from the push point."""
        qpos = self.layout.qpos(states)
        pos_err = qpos[..., BLOCK_XY] - self.goal[:2]
        yaw_err = wrap_angle(qpos[..., BLOCK_YAW] - self.goal[2])
        away = pos_err / np.maximum(np.linalg.norm(pos_err, axis=-1, keepdims=True), 1e-6)
        push_point = qpos[..., BLOCK_XY] + self.config.push_offset * away
        reach = qpos[..., PUSHER] - push_point
        return pos_err, yaw_err, reach

    def running_cost(self, states: np.ndarray, controls: np.ndarray) -> np.ndarray:
        c = self.config
        pos_err, yaw_err, reach = self._errors(states)
        speed = self.layout.qvel(states)[..., PUSHER]
        return (
            c.w_position * np.linalg.norm(pos_err, axis=-1)
            + c.w_angle * np.abs(yaw_err)
            + c.w_proximity * np.linalg.norm(reach, axis=-1)
            + c.w_velocity * np.linalg.norm(speed, axis=-1)
        )

    def terminal_cost(self, final_states: np.ndarray) -> np.ndarray:
        pos_err, yaw_err, _ = self._errors(final_states)
        goal_error = np.linalg.norm(pos_err, axis=-1) + 0.1 * np.abs(yaw_err)
        return self.config.w_terminal * goal_error

    # --- success and metrics -------------------------------------------
    def block_pose(self, state: np.ndarray) -> np.ndarray:
        """(x, y, yaw) of the block frame."""
        return self.layout.qpos(state)[2:5].copy()

    def pusher_position(self, state: np.ndarray) -> np.ndarray:
        return self.layout.qpos(state)[PUSHER].copy()

    def coverage(self, state: np.ndarray) -> float:
        return coverage(self.shape, self.block_pose(state), self.goal)

    def success(self, state: np.ndarray) -> bool:
        return self.coverage(state) >= C.SUCCESS_COVERAGE

    def metrics(self, state: np.ndarray) -> dict[str, float]:
        pose = self.block_pose(state)
        return {
            "coverage": self.coverage(state),
            "position_error": float(np.linalg.norm(pose[:2] - self.goal[:2])),
            "yaw_error": float(abs(wrap_angle(pose[2] - self.goal[2]))),
        }

    # --- initial states -------------------------------------------------
    def sample_initial_state(self, rng: np.random.Generator) -> np.ndarray:
        """Block uniform in a square with any yaw, pusher clear of it, not yet solved.

        Rejection sampling with an attempt limit (``sample_until``): a block shape that
        always covers the pusher's spawn area is an error, not a hang.
        """
        c = self.config

        def draw() -> tuple[np.ndarray, np.ndarray]:
            block = np.array([
                *rng.uniform(-c.spawn_block_extent, c.spawn_block_extent, 2),
                rng.uniform(-np.pi, np.pi),
            ])
            return block, rng.uniform(-c.spawn_pusher_extent, c.spawn_pusher_extent, 2)

        def reject(candidate: tuple[np.ndarray, np.ndarray]) -> str | None:
            block, pusher = candidate
            outline = place(self.shape, block)
            if outline.distance(shapely.Point(pusher)) <= C.PUSHER_RADIUS + 0.01:
                return f"the pusher overlaps block {self.shape.name!r}"
            if coverage(self.shape, block, self.goal) >= C.SUCCESS_COVERAGE:
                return "the block starts at its goal"
            return None

        block, pusher = sample_until(draw, reject, f"initial state of {self.name}")
        state = np.zeros(self.layout.size)
        qpos = self.layout.qpos(state)
        qpos[PUSHER] = pusher
        qpos[2:5] = block
        return state

    def nominal_action(self, state: np.ndarray) -> np.ndarray:
        return self.pusher_position(state)

    def reflection(self) -> Reflection | None:
        """x -> -x, when the block is symmetric about its own y axis and the goal lies on it.

        A block at (x, y, yaw) reflects to (-x, y, -yaw) (R(-yaw) S = S R(yaw) for S =
        diag(-1, 1)), the same shape at that pose if S maps the outline onto itself. The
        table, friction and costs are symmetric, so the T (symmetric about its stem) has the
        reflection when the goal has x = 0 and yaw 0 or pi; the K has none.
        """
        outline = self.shape.polygon
        mirrored = shapely.affinity.scale(outline, xfact=-1.0, yfact=1.0, origin=(0.0, 0.0))
        symmetric = outline.symmetric_difference(mirrored).area <= 1e-9 * outline.area
        gx, _, gyaw = self.goal
        on_axis = abs(gx) <= 1e-12 and abs(np.sin(gyaw)) <= 1e-12
        if not (symmetric and on_axis):
            return None
        signs = np.array([-1.0, 1.0, -1.0, 1.0, -1.0])  # pusher x, y, block x, y, yaw
        layout = self.layout

        def mirror_state(states: np.ndarray) -> np.ndarray:
            out = np.array(states, dtype=np.float64)
            layout.qpos(out)[...] *= signs
            layout.qvel(out)[...] *= signs
            return out

        return Reflection(observation=np.array([-1.0, 1.0, -1.0, 1.0, -1.0, 1.0]),
                          action=np.array([-1.0, 1.0]), state=mirror_state)

    def object_position(self, state: np.ndarray) -> np.ndarray:
        return np.array(self.layout.qpos(state)[BLOCK_XY], dtype=np.float64)

    def observation(self, state: np.ndarray) -> np.ndarray:
        """[pusher x, y, block x, y, sin yaw, cos yaw] in the world frame (m, -)."""
        qpos = self.layout.qpos(state)
        yaw = qpos[BLOCK_YAW]
        return np.array([*qpos[PUSHER], *qpos[BLOCK_XY], np.sin(yaw), np.cos(yaw)])
