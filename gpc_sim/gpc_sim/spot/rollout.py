"""Batched rollouts of a Spot world with the locomotion policy in the loop.

The planner's control is the 9-DoF target (torso x, y, yaw + 6 arm joints, ``spot.action``);
the physics wants 19 joint position targets that only the locomotion policy can produce.
So a rollout is closed-loop at the command rate: every command step (0.02 s), for all N
worlds at once,

1. read each world's base pose from qpos and map its target to the 25-number command
   (``action.targets_to_command``, the same function as the bridge and the sim node);
2. observe and evaluate the policy once for the whole batch (``LocomotionPolicy.act``);
3. hold the 19 actuator targets for the world's physics substeps (``assets.substeps_of``:
   2 in the original world, see ``spot.worlds``), all worlds in one call
   of a persistent ``mujoco.rollout.Rollout`` thread pool (or, with ``lanes > 1``, blocks
   of worlds each stepped by their own Python thread, the default: ``SpotRolloutEngine``).

Two implementations of that loop, chosen by ``SpotRolloutEngine(native=...)``: numpy (the
reference, above, as written) and a compiled one (``native_lane``, C source
``native/spot_lane.c``), the default where it builds. The numpy loop spends ~220 us of
Python per lane and command step around ~130 us of policy matmuls; the compiled loop runs
a lane's whole horizon in one C call, the same steps ported line by line, with the physics
of ``mujoco.rollout`` (the same MuJoCo calls in the same order). It agrees with numpy up to
float32 rounding in the policy (its matmul sums in another order than OpenBLAS): ~1e-5 of
the raw output per step, ~1e-6 m of qpos after 0.5 s (test_spot_native_engine.py). Over
seconds of contact-rich walking such differences grow like any other rounding difference
(a different batch size in numpy does the same), so the two loops are interchangeable
models, not bitwise twins.

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

Batch size: numpy's float32 matmul rounds differently for a batch of one (OpenBLAS takes
its matrix-vector path), ~1e-5 of the raw output, so with the numpy loop a world simulated
alone (the plant) and the same world inside a batch (the planner's rollouts) drift apart at
that level; any given batch size is deterministic. The compiled loop computes every row
with the same instructions, so there a world's states do not depend on its batch at all.

BLAS threads: the policy's matmuls are small (N x 84 @ 84 x 512 ...). OpenBLAS splits them
across threads from N ~ 7 on, which on a machine whose cores are busy (physics threads,
other processes) made one N = 32 forward pass cost 1-27 ms instead of 0.2 ms (measured, see
``LocomotionPolicy.forward``). ``threadpoolctl`` is not a dependency and the environment
variable ``OPENBLAS_NUM_THREADS`` only acts before numpy is imported, so
``single_blas_thread`` calls OpenBLAS's own ``set_num_threads`` through ctypes, for the
duration of one ``rollout_batch`` only, and restores the previous count afterwards.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_sim.blas import single_blas_thread
from gpc_sim.errors import ConfigError
from gpc_sim.rollout import STATE_SPEC, StateLayout, default_threads
from gpc_sim.spot.action import (
    DEFAULT_ACTION_CONFIG,
    SpotActionConfig,
    base_pose_from_qpos,
    targets_to_command,
)
from gpc_sim.spot.assets import substeps_of
from gpc_sim.spot.constants import ACTION_DIM, N_JOINTS, TARGET_DIM
from gpc_sim.spot.native_lane import (
    LaneConfig,
    NativeLane,
    native_lane,
    native_unavailable,
    warn_fallback,
)
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

# Fewest worlds per lane of the multi-lane schedule: where numpy's OpenBLAS rounds a float32
# product's rows identically for batches of 8 or more (SpotRolloutEngine's docstring).
LANE_MIN_WORLDS = 8


@dataclass
class _Lane:
    """A contiguous block of worlds ``rows`` with its own physics pool and step buffers."""

    rows: slice
    pool: mj_rollout.Rollout
    datas: list[mujoco.MjData]
    init: np.ndarray  # (m, physics_size): the block's current physics states
    ctrl: np.ndarray  # (m, substeps, nu)
    sub: np.ndarray  # (m, substeps, physics_size)
    sensor: np.ndarray  # (m, substeps, nsensordata)
    models: list[mujoco.MjModel]  # [model] * m: skip_checks needs full-size arguments


@dataclass
class _NativeLane:
    """A contiguous block of worlds ``rows`` run by the compiled loop, with its own MjData."""

    rows: slice
    datas: list[mujoco.MjData]  # one, shared by the block's worlds (as mujoco.rollout does)
    start: np.ndarray  # (m, size): the block's initial states, contiguous for the C side


class SpotRolloutEngine:
    """Runs N target sequences through MuJoCo and the locomotion policy on ``nthread`` threads.

    Buffers and thread pools persist between calls, as in ``gpc_sim.rollout``.

    Two schedules, the same states (bit for bit where BLAS allows, see below):

    * ``lanes=1``: every command step, the policy for all N worlds, then one
      ``mujoco.rollout`` call on ``nthread`` pool threads for all of them. Policy and
      physics alternate, so while the policy runs (one thread) the other cores idle, and
      every call ends at a barrier where the threads wait for the slowest world.
    * ``lanes=L > 1``: the worlds are split into L contiguous blocks, each advanced through
      the whole horizon by its own Python thread, alternating the policy for its block with
      a ``mujoco.rollout`` of its block run in that thread (no pool: no hand-off per call).
      ``mujoco.rollout`` and the BLAS matmuls release the GIL, so one block's physics can
      overlap another block's policy. A block gets ``LANE_MIN_WORLDS`` (8) worlds at least
      (fewer lanes are used otherwise): on the machine this was written on, numpy's
      OpenBLAS gave every row of a float32 product the same bits for any batch of 8 rows
      or more, but batches of 1-7 rounded differently (~1e-5 of the raw output), so
      splitting never changed the states. That is a property of the GEMM kernel OpenBLAS
      picks for the CPU: with its Haswell kernel (an AVX2 AMD EPYC) rows of any batch
      round differently, and two lanes differ from one by rounding (5e-7 m of qpos after
      10 steps; ``blas.float32_rows_independent_of_batch`` tells which holds, and
      ``test_spot_engine_lanes.py`` checks both cases). Each lane's physics runs in its own
      Python thread, so ``lanes`` replaces ``nthread`` there.

    The default (``lanes=None``) is one lane per physics thread. On the idle 2-core dev
    machine, 32 worlds x 4 s (``gpc bench rollout --task spot_chair``): lanes=2 573-595 ms
    against 666 ms for lanes=1, with bare physics at 466-476 ms; lanes=3 and 4 were slower
    than 2 (more, smaller policy batches on the same two cores).

    ``native`` picks the lane loop (module docstring): None (default) the compiled one where
    it builds, else numpy with a warning; True the compiled one or ConfigError; False numpy.
    A compiled lane is one C call per batch (ctypes releases the GIL, so lanes run in
    parallel) on one MjData per lane, which all its worlds share as ``mujoco.rollout``
    shares one per thread (one MjData per world measured 5-20 % slower: more memory
    touched). Its rows do not depend on the batch, so it splits down to one world per lane.
    The policy and action config are read at each ``rollout_batch``; the weight arrays are
    read in place (a policy whose arrays are replaced must be a new policy object).
    """

    def __init__(
        self,
        model: mujoco.MjModel,
        nthread: int | None = None,
        policy: LocomotionPolicy | None = None,
        action_config: SpotActionConfig = DEFAULT_ACTION_CONFIG,
        lanes: int | None = None,
        native: bool | None = None,
    ) -> None:
        if model.nu != N_JOINTS:
            raise ValueError(f"model has {model.nu} actuators; the policy drives {N_JOINTS}")
        self.model = model
        self.substeps = substeps_of(model)  # physics steps per command step
        self.layout = SpotStateLayout.of(model)
        self.policy = policy or default_policy()
        self.action_config = action_config
        self.nthread = nthread or default_threads()
        self.lanes = self.nthread if lanes is None else lanes
        if self.lanes < 1:
            raise ValueError(f"lanes must be >= 1, got {self.lanes}")
        self._pools: dict[int, mj_rollout.Rollout] = {}  # threads -> pool, made on demand
        self._lanes: list[_Lane | _NativeLane] = []
        self._executor: ThreadPoolExecutor | None = None
        self._states = np.empty((0, 0, self.layout.size))
        self._batch: tuple[int, int, bool] = (-1, -1, False)
        self._native: NativeLane | None = None
        self._native_config: LaneConfig | None = None
        self.native = native

    @property
    def native(self) -> bool:
        """Whether rollouts run the compiled lane loop (True) or the numpy one (False)."""
        return self._native is not None

    @native.setter
    def native(self, want: bool | None) -> None:
        """Choose the lane loop: True the compiled one (ConfigError if it cannot be built
        here), False numpy, None the compiled one where it builds, else numpy (warned once
        per process: a silent fallback would leave a slow planner unexplained)."""
        lane = None if want is False else native_lane()
        if lane is None and want:
            raise ConfigError(f"the compiled Spot lane loop is unavailable: "
                              f"{native_unavailable()}")
        if lane is None and want is None:
            warn_fallback()
        self._native = lane
        self._batch = (-1, -1, False)  # the lanes are rebuilt for the other loop

    @property
    def engine_name(self) -> str:
        """"native" or "numpy": which lane loop runs (benchmark reports)."""
        return "native" if self.native else "numpy"

    def _lane_count(self, n: int) -> int:
        """Lanes for a batch of ``n``: ``lanes``, fewer where one would be too small.

        numpy: a lane gets 8 worlds at least (OpenBLAS rounds smaller batches differently).
        The compiled loop's rows do not depend on the batch, so there one world is enough.
        """
        smallest = 1 if self.native else LANE_MIN_WORLDS
        return max(1, min(self.lanes, n // smallest))

    def _pool(self, key: int, threads: int) -> mj_rollout.Rollout:
        if key not in self._pools:
            self._pools[key] = mj_rollout.Rollout(nthread=threads)
        return self._pools[key]

    def _buffers(self, n: int) -> None:
        """(Re)build the lanes and their buffers for a batch of ``n`` worlds."""
        count = self._lane_count(n)
        if (n, count, self.native) == self._batch:
            return
        phys, nu, size = self.layout.physics_size, self.model.nu, self.layout.size
        bounds = np.linspace(0, n, count + 1).round().astype(int)
        threads = self.nthread if count == 1 else 0  # 0: in the calling thread
        self._lanes = []
        for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            m = int(hi - lo)
            if self.native:
                self._lanes.append(_NativeLane(rows=slice(int(lo), int(hi)),
                                               datas=[mujoco.MjData(self.model)],
                                               start=np.empty((m, size))))
                continue
            # Lane i of a multi-lane schedule owns pool key i + 1; the single lane key 0.
            key = 0 if count == 1 else i + 1
            self._lanes.append(_Lane(
                rows=slice(int(lo), int(hi)),
                pool=self._pool(key, threads),
                datas=[mujoco.MjData(self.model) for _ in range(max(threads, 1))],
                init=np.empty((m, phys)),  # contiguous: mujoco.rollout reads it raw
                ctrl=np.empty((m, self.substeps, nu)),
                sub=np.empty((m, self.substeps, phys)),
                sensor=np.empty((m, self.substeps, self.model.nsensordata)),
                models=[self.model] * m,
            ))  # fmt: skip
        if count > 1 and self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=self.lanes,
                                                thread_name_prefix="spot-lane")
        self._batch = (n, count, self.native)

    def rollout_batch(self, initial_state: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """Simulate 9-DoF ``targets`` (N, T, 9) from ``initial_state`` (size,) or (N, size).

        Returns the states after each command step, (N, T, size). The returned array is an
        internal buffer, valid until the next call.
        """
        n, t, m = targets.shape
        if m != TARGET_DIM:
            raise ValueError(f"targets have {m} channels, the Spot action has {TARGET_DIM}")
        size = self.layout.size
        self._buffers(n)
        if self._states.shape[:2] != (n, t):
            self._states = np.empty((n, t, size))
        start = np.broadcast_to(np.asarray(initial_state, dtype=np.float64), (n, size))
        targets = np.ascontiguousarray(targets, dtype=np.float64)
        run = self._run_lane
        if self._native is not None:
            run = self._run_native_lane
            config = self._native_config
            if (config is None or config.policy is not self.policy
                    or config.action_config != self.action_config):
                self._native_config = self._native.config(self.policy, self.action_config)
        with single_blas_thread():
            if len(self._lanes) == 1:
                run(self._lanes[0], start, targets)
            else:
                assert self._executor is not None
                jobs = [self._executor.submit(run, lane, start, targets)
                        for lane in self._lanes]
                for job in jobs:
                    job.result()  # re-raises a lane's exception here
        return self._states

    def _run_lane(self, lane: _Lane, start: np.ndarray, targets: np.ndarray) -> None:
        """Advance the worlds of ``lane`` through all of ``targets``' command steps."""
        phys, nq, nv = self.layout.physics_size, self.model.nq, self.model.nv
        rows = lane.rows
        lane.init[:] = start[rows, :phys]
        prev = start[rows, phys:].astype(np.float32)
        qpos = lane.init[:, 1 : 1 + nq]
        qvel = lane.init[:, 1 + nq : 1 + nq + nv]
        block = targets[rows]
        out = self._states[rows]
        for k in range(block.shape[1]):
            command = targets_to_command(block[:, k], base_pose_from_qpos(qpos),
                                         self.action_config)
            ctrl, prev = self.policy.act(qpos, qvel, command, prev)
            lane.ctrl[:] = ctrl[:, None, :]
            lane.pool.rollout(
                lane.models, lane.datas, lane.init, lane.ctrl, nstep=self.substeps,
                state=lane.sub, sensordata=lane.sensor, skip_checks=True,
            )  # fmt: skip
            lane.init[:] = lane.sub[:, -1]
            out[:, k, :phys] = lane.init
            out[:, k, phys:] = prev

    def _run_native_lane(self, lane: _NativeLane, start: np.ndarray,
                         targets: np.ndarray) -> None:
        """The same for a compiled lane: one C call for the whole horizon (GIL released)."""
        assert self._native is not None and self._native_config is not None
        rows = lane.rows
        lane.start[:] = start[rows]
        try:
            self._native.rollout(self.model, lane.datas, self._native_config, lane.start,
                                 targets[rows], self._states[rows], self.substeps)
        except mujoco.FatalError:
            self._batch = (-1, -1, False)  # the lane's MjData is spent: fresh ones next call
            raise

    def close(self) -> None:
        """Stop the thread pools (also done at garbage collection)."""
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()
        self._batch = (-1, -1, False)
        if self._executor is not None:
            self._executor.shutdown()
            self._executor = None
