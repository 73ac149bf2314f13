"""Batched rollouts of a Spot world with the locomotion policy in the loop.

The planner's control is the 9-DoF target (torso x, y, yaw + 6 arm joints, ``spot.action``);
the physics wants 19 joint position targets that only the locomotion policy can produce.
So a rollout is closed-loop at the command rate: every command step (0.02 s), for all N
worlds at once,

1. read each world's base pose from qpos and map its target to the 25-number command
   (``action.targets_to_command``, the same function as the bridge and the sim node);
2. observe and evaluate the policy once for the whole batch (``LocomotionPolicy.act``);
3. hold the 19 actuator targets for ``SUBSTEPS`` (2) physics steps, all worlds in one call
   of a persistent ``mujoco.rollout.Rollout`` thread pool.

State vector (``SpotStateLayout``): MuJoCo's FULLPHYSICS state (time, qpos, qvel, as
``gpc_sim.rollout.get_state`` returns it) followed by the policy's previous raw output (12
numbers, float32 values stored as float64). The policy reads its previous output in its
observation, so without it a state would not determine what happens next.

Determinism: ``mujoco.rollout`` starts every call from a cold constraint solver (it zeroes
``qacc_warmstart`` unless given one, and its output does not include it), so the warm start
is not part of the state: each command step starts the solver cold, in rollouts and in the
plant alike (``SpotPlant`` steps through this engine). The dynamics are then a function of
the state vector alone: a recorded state replays exactly. The Newton solver converges to
its 1e-8 tolerance either way, so a cold start costs a few solver iterations, not accuracy:
against ``policy.policy_step`` on separate MjData (which keeps MuJoCo's warm start) the
engine agrees to ~1e-13 over 0.5 s (test_spot_task.py), and exactly with the warm start
zeroed there too.

Batch size: the policy's float32 matmul rounds differently for a batch of one (OpenBLAS
takes its matrix-vector path), ~1e-5 of the raw output, so a world simulated alone (the
plant) and the same world inside a batch (the planner's rollouts) drift apart at that
level; any given batch size is deterministic.

BLAS threads: the policy's matmuls are small (N x 84 @ 84 x 512 ...). OpenBLAS splits them
across threads from N ~ 7 on, which on a machine whose cores are busy (physics threads,
other processes) made one N = 32 forward pass cost 1-27 ms instead of 0.2 ms (measured, see
``LocomotionPolicy.forward``). ``threadpoolctl`` is not a dependency and the environment
variable ``OPENBLAS_NUM_THREADS`` only acts before numpy is imported, so
``single_blas_thread`` calls OpenBLAS's own ``set_num_threads`` through ctypes, for the
duration of one ``rollout_batch`` only, and restores the previous count afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_sim.blas import single_blas_thread
from gpc_sim.rollout import STATE_SPEC, StateLayout, default_threads
from gpc_sim.spot.action import (
    DEFAULT_ACTION_CONFIG,
    SpotActionConfig,
    base_pose_from_qpos,
    targets_to_command,
)
from gpc_sim.spot.constants import ACTION_DIM, N_JOINTS, SUBSTEPS, TARGET_DIM
from gpc_sim.spot.policy import LocomotionPolicy, default_policy

# --- state layout --------------------------------------------------------------------------


@dataclass(frozen=True)
class SpotStateLayout(StateLayout):
    """The Spot task state: FULLPHYSICS state, then the policy's previous raw output.

    ``[time, qpos (nq), qvel (nv), (act, history: empty here), prev_out (12)]``; ``size`` is
    the whole vector, ``physics_size`` its MuJoCo part (what ``mujoco.rollout`` reads).
    """

    physics_size: int

    @classmethod
    def of(cls, model: mujoco.MjModel) -> SpotStateLayout:
        physics = mujoco.mj_stateSize(model, STATE_SPEC)
        return cls(model.nq, model.nv, physics + ACTION_DIM, physics)

    def physics(self, states: np.ndarray) -> np.ndarray:
        """The MuJoCo FULLPHYSICS part (..., physics_size) (a view)."""
        return states[..., : self.physics_size]

    def prev_out(self, states: np.ndarray) -> np.ndarray:
        """The policy's previous raw output (..., 12) (a view)."""
        return states[..., self.physics_size :]

    def pack(self, physics: np.ndarray, prev_out: np.ndarray | None = None) -> np.ndarray:
        """A state vector (size,) from a FULLPHYSICS vector and a previous output (zeros)."""
        state = np.zeros(self.size)
        state[: self.physics_size] = physics
        if prev_out is not None:
            state[self.physics_size :] = prev_out
        return state


# --- the engine ----------------------------------------------------------------------------


class SpotRolloutEngine:
    """Runs N target sequences through MuJoCo and the locomotion policy on ``nthread`` threads.

    Buffers and the thread pool persist between calls, as in ``gpc_sim.rollout``.
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        nthread: int | None = None,
        policy: LocomotionPolicy | None = None,
        action_config: SpotActionConfig = DEFAULT_ACTION_CONFIG,
    ) -> None:
        if model.nu != N_JOINTS:
            raise ValueError(f"model has {model.nu} actuators; the policy drives {N_JOINTS}")
        self.model = model
        self.layout = SpotStateLayout.of(model)
        self.policy = policy or default_policy()
        self.action_config = action_config
        self.nthread = nthread or default_threads()
        self._pool = mj_rollout.Rollout(nthread=self.nthread)
        self._datas = [mujoco.MjData(model) for _ in range(self.nthread)]
        self._states = np.empty((0, 0, self.layout.size))
        self._batch = -1
        self._models: list[mujoco.MjModel] = []

    def _buffers(self, n: int) -> None:
        """(Re)allocate the per-call buffers for a batch of ``n`` worlds."""
        if n == self._batch:
            return
        phys = self.layout.physics_size
        self._init = np.empty((n, phys))  # contiguous: mujoco.rollout reads it raw
        self._ctrl = np.empty((n, SUBSTEPS, self.model.nu))
        self._sub = np.empty((n, SUBSTEPS, phys))
        self._sensor = np.empty((n, SUBSTEPS, self.model.nsensordata))
        self._models = [self.model] * n  # skip_checks needs every argument at full size
        self._batch = n

    def rollout_batch(self, initial_state: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Simulate 9-DoF ``targets`` (N, T, 9) from ``initial_state`` (size,) or (N, size).

        Returns the states after each command step, (N, T, size). The returned array is an
        internal buffer, valid until the next call.
        """
        n, t, m = targets.shape
        if m != TARGET_DIM:
            raise ValueError(f"targets have {m} channels, the Spot action has {TARGET_DIM}")
        size, phys = self.layout.size, self.layout.physics_size
        nq, nv = self.model.nq, self.model.nv
        self._buffers(n)
        if self._states.shape[:2] != (n, t):
            self._states = np.empty((n, t, size))
        start = np.broadcast_to(np.asarray(initial_state, dtype=np.float64), (n, size))
        self._init[:] = start[:, :phys]
        prev = start[:, phys:].astype(np.float32)
        targets = np.asarray(targets, dtype=np.float64)
        with single_blas_thread():
            for k in range(t):
                qpos = self._init[:, 1 : 1 + nq]
                qvel = self._init[:, 1 + nq : 1 + nq + nv]
                command = targets_to_command(targets[:, k], base_pose_from_qpos(qpos),
                                             self.action_config)
                ctrl, prev = self.policy.act(qpos, qvel, command, prev)
                self._ctrl[:] = ctrl[:, None, :]
                self._pool.rollout(
                    self._models, self._datas, self._init, self._ctrl, nstep=SUBSTEPS,
                    state=self._sub, sensordata=self._sensor, skip_checks=True,
                )  # fmt: skip
                self._init[:] = self._sub[:, -1]
                self._states[:, k, :phys] = self._init
                self._states[:, k, phys:] = prev
        return self._states

    def close(self) -> None:
        """Stop the thread pool (also done at garbage collection)."""
        self._pool.close()

