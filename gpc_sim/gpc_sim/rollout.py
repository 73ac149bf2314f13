"""Batched physics rollouts: the planner's model of the world.

``RolloutEngine.rollout_batch`` runs N open-loop control sequences from one
initial state with ``mujoco.rollout`` on a persistent thread pool. Output
buffers are reused between calls so that a planning iteration allocates
nothing large; the engine adds only the control copy on top of bare physics.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_sim.limits import available_cores
from gpc_sim.mujoco_log import route_mujoco_warnings

# Every MuJoCo user (tasks, plants, engines) imports this module: from here on MuJoCo's
# warnings go to logging (stderr), not into the stdout that --json output shares.
route_mujoco_warnings()

STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS


@dataclass(frozen=True)
class StateLayout:
    """Where time, qpos and qvel sit inside a full-physics state vector."""

    nq: int
    nv: int
    size: int

    @classmethod
    def of(cls, model: mujoco.MjModel) -> StateLayout:
        return cls(model.nq, model.nv, mujoco.mj_stateSize(model, STATE_SPEC))

    def time(self, states: np.ndarray) -> np.ndarray:
        """Simulation time (s) of each state (a view)."""
        return states[..., 0]

    def qpos(self, states: np.ndarray) -> np.ndarray:
        return states[..., 1 : 1 + self.nq]

    def qvel(self, states: np.ndarray) -> np.ndarray:
        return states[..., 1 + self.nq : 1 + self.nq + self.nv]


def diverged(layout: StateLayout, initial_state: np.ndarray, states: np.ndarray,
             dt: float) -> np.ndarray:
    """Which rollouts (N,) of ``states`` (N, T, size) from one ``initial_state`` diverged.

    When a simulation blows up (NaN or huge accelerations) MuJoCo prints a warning, resets
    that world to the model's default pose and time 0, and carries on; the states after
    it look finite but are not a trajectory from ``initial_state``. The reset shows in the
    clock: step k of a good rollout is at t0 + (k + 1) dt. Blind spot: a blow-up in the very
    first physics step from t0 = 0 leaves the clock at dt, as if nothing had happened.
    """
    t0 = float(layout.time(np.asarray(initial_state)))
    expected = t0 + dt * np.arange(1, states.shape[1] + 1)
    return np.any(np.abs(layout.time(states) - expected) > 0.5 * dt, axis=1)


def get_state(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """The full-physics state of ``data`` as a flat vector."""
    state = np.empty(mujoco.mj_stateSize(model, STATE_SPEC))
    mujoco.mj_getState(model, data, state, STATE_SPEC)
    return state


def set_state(model: mujoco.MjModel, data: mujoco.MjData, state: np.ndarray) -> None:
    """Load a full-physics state vector into ``data`` and recompute derived quantities."""
    mujoco.mj_setState(model, data, np.asarray(state, dtype=np.float64), STATE_SPEC)
    mujoco.mj_forward(model, data)


def default_threads() -> int:
    """Threads for rollouts: the cores this process may use."""
    return available_cores()


class RolloutEngine:
    """Runs batches of control sequences through MuJoCo on ``nthread`` threads."""

    def __init__(self, model: mujoco.MjModel, nthread: int | None = None) -> None:
        self.model = model
        self.layout = StateLayout.of(model)
        self.nthread = nthread or default_threads()
        self._pool = mj_rollout.Rollout(nthread=self.nthread)
        self._datas = [mujoco.MjData(model) for _ in range(self.nthread)]
        self._states = np.empty((0, 0, self.layout.size))
        self._sensordata = np.empty((0, 0, model.nsensordata))
        self._models: list[mujoco.MjModel] = []

    def rollout_batch(self, initial_state: np.ndarray, controls: np.ndarray) -> np.ndarray:
        """Simulate ``controls`` (N, T, nu) from ``initial_state`` (nstate,) or (N, nstate).

        Returns the states after each step, shape (N, T, nstate). The returned
        array is an internal buffer, valid until the next call.
        """
        n, t, nu = controls.shape
        if nu != self.model.nu:
            raise ValueError(f"controls have {nu} channels, the model has {self.model.nu}")
        if self._states.shape[:2] != (n, t):
            # skip_checks=True below needs every argument at its full batch shape.
            self._states = np.empty((n, t, self.layout.size))
            self._sensordata = np.empty((n, t, self.model.nsensordata))
            self._models = [self.model] * n
        init = np.ascontiguousarray(
            np.broadcast_to(initial_state, (n, self.layout.size)), dtype=np.float64
        )
        self._pool.rollout(
            self._models,
            self._datas,
            init,
            np.ascontiguousarray(controls, dtype=np.float64),
            nstep=t,
            state=self._states,
            sensordata=self._sensordata,
            skip_checks=True,
        )
        return self._states

    def close(self) -> None:
        """Stop the thread pool (also done at garbage collection)."""
        self._pool.close()
