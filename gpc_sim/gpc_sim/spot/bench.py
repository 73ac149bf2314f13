"""Baselines for timing the Spot rollout engine: bare physics and judo's compiled rollout.

``gpc bench rollout --task spot_chair`` compares ``SpotRolloutEngine`` (policy in the loop,
one batch) with two references that do the same physical work:

* ``PhysicsOnly``: bare ``mujoco.rollout`` of the same worlds for the same physics steps
  (the world's substeps per command step) with the actuator targets fixed in advance, on a
  persistent thread pool of the engine's thread count: the floor the engine's policy,
  mapping and per-step calls are measured against.
* ``JudoRollout``: judo's C++ ``mujoco_extensions.policy_rollout.threaded_rollout`` (ONNX
  policy + MuJoCo, shipped compiled in the ``judo-rai`` wheel), the paper framework's own
  engine. Its interface is open-loop in the 25-number command: it has no notion of the
  planner's 9-DoF targets, so it is fed the commands the engine derived from the same
  targets (``applied_inputs``). Its policy runs in float32 ONNX; it agrees with the numpy
  policy to ~1e-6 per step (``test_spot_bench.py``).

judo's API, as its own Python callers use it (``judo/utils/policy_mj_rollout_backend.py``):
``create_systems_vector(model, onnx_path, n)`` makes n ``System`` objects (an MjData and an
ONNX session each); ``threaded_rollout(systems, x0 (n, nq+nv), commands (n, T, 25),
last_policy_output (n, 12), num_threads, physics_substeps, cutoff_time)`` rolls out the
first ``num_threads`` systems, one OS thread each (judo passes num_threads = rollouts), and
returns per world the states after each command step (T, nq+nv: no time), the sensor data
(T, nsensordata) and the last raw policy output (12,). ``cutoff_time`` (judo passes 0.125)
is left at infinity here so that every world runs its whole horizon.

``mujoco_extensions`` is optional: ``judo_unavailable()`` says in one line why it cannot be
used (not installed, no ONNX file), and the benchmark then reports ``judo_ms`` as null.
``judo`` itself is never imported (its dependencies are not installed, see ``assets``).
"""

from __future__ import annotations

import math
from pathlib import Path

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_sim.errors import ConfigError
from gpc_sim.spot.action import base_pose_from_qpos, targets_to_command
from gpc_sim.spot.assets import policy_weights_path, substeps_of
from gpc_sim.spot.constants import ACTION_DIM, COMMAND_DIM, N_JOINTS
from gpc_sim.spot.rollout import SpotRolloutEngine


def applied_inputs(
    engine: SpotRolloutEngine,
    initial_state: np.ndarray,
    targets: np.ndarray,
    states: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """The commands (N, T, 25) and actuator targets (N, T, 19) a rollout used, recomputed.

    ``states`` (N, T, size) is what ``engine.rollout_batch(initial_state, targets)``
    returned. Command k is a function of the state before step k and target k; the
    actuator targets of step k follow from command k and the raw policy output recorded in
    state k (its ``prev_out``). So the inputs are recovered without instrumenting the
    engine's loop, and exactly (the output is cast back to the float32 the policy made).
    """
    n, t, _ = targets.shape
    layout = engine.layout
    start = np.broadcast_to(np.asarray(initial_state, dtype=np.float64), (n, layout.size))
    before = np.concatenate([start[:, None], states[:, :-1]], axis=1)
    commands = targets_to_command(targets, base_pose_from_qpos(layout.qpos(before)),
                                  engine.action_config)
    out = layout.prev_out(states).astype(np.float32).reshape(n * t, ACTION_DIM)
    ctrl = engine.policy.targets(commands.reshape(n * t, COMMAND_DIM), out)
    return commands, ctrl.reshape(n, t, N_JOINTS)


class PhysicsOnly:
    """Bare ``mujoco.rollout`` of Spot worlds with actuator targets fixed in advance.

    The same worlds, physics steps and thread count as the engine, with persistent buffers
    like the engine's, so that the difference is what the policy in the loop costs.
    """

    def __init__(self, model: mujoco.MjModel, nthread: int) -> None:
        self.model = model
        self.nthread = nthread
        self._pool = mj_rollout.Rollout(nthread=nthread)
        self._datas = [mujoco.MjData(model) for _ in range(nthread)]
        self._physics_size = mujoco.mj_stateSize(model, mujoco.mjtState.mjSTATE_FULLPHYSICS)

    def prepare(self, initial_state: np.ndarray, ctrl: np.ndarray) -> None:
        """Fix the batch: starts (size,) or (N, size) and per-command targets (N, T, 19).

        Each target is held for the world's physics steps of a command step, as the engine
        holds it.
        """
        n, t, _ = ctrl.shape
        phys = self._physics_size
        state = np.asarray(initial_state, dtype=np.float64)
        start = np.broadcast_to(state, (n, state.shape[-1]))
        self._init = np.ascontiguousarray(start[:, :phys])
        substeps = substeps_of(self.model)
        self._ctrl = np.ascontiguousarray(np.repeat(ctrl, substeps, axis=1), dtype=np.float64)
        self._nstep = t * substeps
        self._state = np.empty((n, self._nstep, phys))
        self._sensor = np.empty((n, self._nstep, self.model.nsensordata))
        self._models = [self.model] * n

    def run(self) -> np.ndarray:
        """Roll the prepared batch out; the physics states after every physics step."""
        self._pool.rollout(
            self._models, self._datas, self._init, self._ctrl, nstep=self._nstep,
            state=self._state, sensordata=self._sensor, skip_checks=True,
        )  # fmt: skip
        return self._state

    def close(self) -> None:
        """Stop the thread pool."""
        self._pool.close()


def policy_onnx_path() -> Path:
    """judo's ONNX export of the locomotion policy, next to the ``.pt`` state_dict."""
    return policy_weights_path().with_suffix(".onnx")


def judo_unavailable() -> str | None:
    """Why judo's compiled rollout cannot run here, in one line; None when it can."""
    try:
        import mujoco_extensions.policy_rollout  # noqa: F401
    except ImportError as err:
        return f"mujoco_extensions (judo's compiled rollout) is not importable: {err}"
    try:
        path = policy_onnx_path()
    except ConfigError as err:
        return str(err)
    if not path.is_file():
        return f"no ONNX policy at {path}"
    return None


class JudoRollout:
    """judo's C++ rollout (ONNX policy in the loop) on N copies of one world.

    One ``System`` per world and one thread per world, as judo's own backend calls it.
    Raises ``ConfigError`` when ``judo_unavailable()`` has a reason.
    """

    def __init__(self, model: mujoco.MjModel, n: int) -> None:
        reason = judo_unavailable()
        if reason is not None:
            raise ConfigError(reason)
        from mujoco_extensions import policy_rollout

        self._rollout = policy_rollout.threaded_rollout
        self._systems = policy_rollout.create_systems_vector(model, str(policy_onnx_path()), n)
        self.model = model
        self.n = n
        self.substeps = substeps_of(model)

    def rollout(
        self, qpos_qvel: np.ndarray, commands: np.ndarray, prev_out: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Roll out ``commands`` (n, T, 25) from (nq+nv,) or (n, nq+nv) states.

        Returns the states after each command step (n, T, nq+nv) and the last raw policy
        output (n, 12).
        """
        nx = self.model.nq + self.model.nv
        x0 = np.ascontiguousarray(np.broadcast_to(qpos_qvel, (self.n, nx)), dtype=np.float64)
        prev = np.zeros((self.n, ACTION_DIM)) if prev_out is None else prev_out
        prev = np.ascontiguousarray(np.broadcast_to(prev, (self.n, ACTION_DIM)), dtype=np.float64)
        states, _, outs = self._rollout(
            self._systems, x0, np.ascontiguousarray(commands, dtype=np.float64), prev,
            self.n, self.substeps, math.inf,
        )  # fmt: skip
        return np.array(states), np.array(outs)
