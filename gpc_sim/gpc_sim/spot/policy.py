"""Spot's pre-trained locomotion policy in plain numpy, batched over N worlds.

The policy is an MLP 84 -> 512 -> 256 -> 128 -> 12 with ELU between layers (judo's
``spot_locomotion.pt``). Every command step (0.02 s) it reads the robot state and the
25-number high-level command and outputs 12 leg-joint offsets; the arm follows the command
directly. Its weights are small (~0.2 M parameters), so one float32 matmul chain over all
N rollouts replaces N batch-1 calls, and numpy avoids torch's per-call overhead; torch is
used only to read the state_dict once.

Arrays are batched along axis 0 throughout; per-joint work is fancy indexing with fixed
index arrays, never a Python loop.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from pathlib import Path

import mujoco
import numpy as np

from gpc_sim.errors import ConfigError
from gpc_sim.spot.assets import policy_weights_path, substeps_of
from gpc_sim.spot.constants import (
    ACTION_DIM,
    ACTION_SCALE,
    ARM,
    COMMAND_DIM,
    DEFAULT_ARM_POSE,
    DEFAULT_JOINT_POSE,
    DEFAULT_LEG_POSE,
    ISAAC_FROM_MUJOCO,
    LEG_ACTION_FROM_MUJOCO,
    LEG_OVERRIDE,
    N_JOINTS,
    N_LEG_JOINTS,
    OBS_ANG_VEL,
    OBS_COMMAND,
    OBS_DIM,
    OBS_GRAVITY,
    OBS_JOINT_POS,
    OBS_JOINT_VEL,
    OBS_LIN_VEL,
    OBS_PREV_ACTION,
    QPOS_JOINTS,
    QVEL_JOINTS,
    STANDING_LEG_POSE,
    STANDING_TORSO,
    START_HEIGHT,
    TORSO,
)

# Index arrays built once: qpos/qvel columns of the joints in Isaac order.
_ISAAC = np.asarray(ISAAC_FROM_MUJOCO)
_QPOS_ISAAC = QPOS_JOINTS + _ISAAC
_QVEL_ISAAC = QVEL_JOINTS + _ISAAC
_DEFAULT_ISAAC = np.asarray(DEFAULT_JOINT_POSE)[_ISAAC]
_LEG_ACTION = np.asarray(LEG_ACTION_FROM_MUJOCO)
_DEFAULT_LEGS = np.asarray(DEFAULT_LEG_POSE)
_N_LAYERS = 4  # Linear layers at nn.Sequential indices 0, 2, 4, 6 (ELUs in between)


def world_to_body(quat: np.ndarray, vec: np.ndarray) -> np.ndarray:
    """Rotate world-frame vectors into the body frame of orientations ``quat``.

    ``quat`` (N, 4) is MuJoCo's (w, x, y, z) body-to-world rotation, ``vec`` (N, 3) or (3,);
    returns R(quat)^T vec, (N, 3). Uses v - w t + u x t with t = 2 u x v (u the vector
    part): two cross products instead of building N rotation matrices.
    """
    w = quat[:, :1]
    u = quat[:, 1:4]
    vec = np.broadcast_to(vec, u.shape)
    t = 2.0 * _cross(u, vec)
    return vec - w * t + _cross(u, t)


def _cross(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cross product of (N, 3) arrays.

    The same arithmetic as ``np.cross``, written out: ``np.cross`` spends ~40 us per call
    on axis bookkeeping, which at two calls per vector, two vectors per policy step and
    200 steps per rollout was 10 % of a Spot planning iteration.
    """
    a0, a1, a2 = a[:, 0], a[:, 1], a[:, 2]
    b0, b1, b2 = b[:, 0], b[:, 1], b[:, 2]
    out = np.empty(np.broadcast_shapes(a.shape, b.shape))
    out[:, 0] = a1 * b2 - a2 * b1
    out[:, 1] = a2 * b0 - a0 * b2
    out[:, 2] = a0 * b1 - a1 * b0
    return out


def gravity_in_body(quat: np.ndarray) -> np.ndarray:
    """The unit gravity direction (0, 0, -1) in the body frame of orientations ``quat`` (N, 4).

    R(quat)^T (0, 0, -1) is minus the third row of R; written out in the quaternion's
    components it costs a few array operations instead of ``world_to_body``'s two cross
    products (the policy needs it every command step of every rollout).
    """
    w, x, y, z = quat[:, 0], quat[:, 1], quat[:, 2], quat[:, 3]
    out = np.empty((quat.shape[0], 3))
    out[:, 0] = 2.0 * (w * y - x * z)
    out[:, 1] = -2.0 * (y * z + w * x)
    out[:, 2] = 2.0 * (x * x + y * y) - 1.0
    return out


def _elu(x: np.ndarray) -> np.ndarray:
    """ELU with alpha 1 (the training activation): x for x > 0, exp(x) - 1 otherwise.

    In place (``x`` is overwritten and returned): the policy calls it three times per
    command step, and temporaries of a 512-wide batch are most of its cost.
    """
    negative = np.minimum(x, 0.0)
    np.expm1(negative, out=negative)
    np.maximum(x, 0.0, out=x)
    x += negative
    return x


class LocomotionPolicy:
    """The locomotion MLP with its observation and actuator mappings.

    All methods take batches: qpos (N, nq), qvel (N, nv), command (N, 25), raw network
    output (N, 12). Only the first 26 qpos / 25 qvel entries (Spot's) are read, so models
    with more bodies after Spot (judo's ``spot_box``, a chair) work unchanged.
    """

    def __init__(self, weights_path: Path | str | None = None) -> None:
        import torch  # only to read the state_dict; deferred: importing torch costs seconds

        path = Path(weights_path) if weights_path is not None else policy_weights_path()
        state = torch.load(path, map_location="cpu", weights_only=True)
        self.weights: list[np.ndarray] = []  # transposed, (in, out): x @ W
        self.biases: list[np.ndarray] = []
        n_in = OBS_DIM
        for i in range(_N_LAYERS):
            try:
                weight = state[f"{2 * i}.weight"].numpy().astype(np.float32)
                bias = state[f"{2 * i}.bias"].numpy().astype(np.float32)
            except KeyError as err:
                raise ConfigError(f"{path}: not the Spot locomotion state_dict ({err})") from None
            if weight.shape[1] != n_in or bias.shape != (weight.shape[0],):
                raise ConfigError(f"{path}: layer {i} has shape {weight.shape}, input {n_in}")
            self.weights.append(np.ascontiguousarray(weight.T))
            self.biases.append(bias)
            n_in = weight.shape[0]
        if n_in != ACTION_DIM:
            raise ConfigError(f"{path}: output size {n_in}, expected {ACTION_DIM}")

    @staticmethod
    def observe(
        qpos: np.ndarray, qvel: np.ndarray, command: np.ndarray, prev_out: np.ndarray
    ) -> np.ndarray:
        """The (N, 84) float32 policy input, laid out as in the training simulator.

        Linear velocity and gravity are rotated into the body frame; the free joint's
        angular velocity (qvel[3:6]) is already in the body frame in MuJoCo. Joint angles
        are relative to the default pose; joints are in Isaac order.
        """
        n = qpos.shape[0]
        quat = qpos[:, 3:7]
        obs = np.empty((n, OBS_DIM), dtype=np.float32)
        obs[:, OBS_LIN_VEL] = world_to_body(quat, qvel[:, 0:3])
        obs[:, OBS_ANG_VEL] = qvel[:, 3:6]
        obs[:, OBS_GRAVITY] = gravity_in_body(quat)
        obs[:, OBS_COMMAND] = command
        obs[:, OBS_JOINT_POS] = qpos[:, _QPOS_ISAAC] - _DEFAULT_ISAAC
        obs[:, OBS_JOINT_VEL] = qvel[:, _QVEL_ISAAC]
        obs[:, OBS_PREV_ACTION] = prev_out
        return obs

    def forward(self, obs: np.ndarray) -> np.ndarray:
        """The raw (N, 12) network output, float32, in Isaac leg order.

        Cost on the 2-core dev machine: ~0.03 ms for N = 1 and ~0.2 ms for N = 32 with a
        single BLAS thread. From N ~ 7 on OpenBLAS splits the matmuls across threads; on a
        machine whose cores are busy that made N = 32 cost 1-27 ms per call (measured), so a
        rollout engine should run this with one BLAS thread (OPENBLAS_NUM_THREADS=1 or
        threadpoolctl) next to its physics threads.
        """
        x = np.asarray(obs, dtype=np.float32)
        last = len(self.weights) - 1
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ weight
            x += bias
            if i < last:
                x = _elu(x)
        return x

    @staticmethod
    def targets(command: np.ndarray, out: np.ndarray) -> np.ndarray:
        """The (N, 19) position targets in the model's actuator (MuJoCo joint) order.

        Legs: default pose + 0.2 x the output, reordered from Isaac leg order; a leg whose
        three override entries (command[10:22]) are not all zero takes those angles instead
        (judo's rule; the policy does not see that its output was replaced). Arm and
        gripper: command[3:10], passed through (MuJoCo clamps to the control ranges).
        """
        n = out.shape[0]
        legs = _DEFAULT_LEGS + ACTION_SCALE * out[:, _LEG_ACTION]
        override = command[:, LEG_OVERRIDE].reshape(n, 4, 3)
        active = np.any(override != 0.0, axis=2, keepdims=True)
        legs = np.where(active, override, legs.reshape(n, 4, 3)).reshape(n, 12)
        return np.concatenate([legs, command[:, ARM]], axis=1)

    def act(
        self, qpos: np.ndarray, qvel: np.ndarray, command: np.ndarray, prev_out: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One policy evaluation: (actuator targets (N, 19), raw output (N, 12))."""
        out = self.forward(self.observe(qpos, qvel, command, prev_out))
        return self.targets(command, out), out


@functools.cache
def default_policy() -> LocomotionPolicy:
    """The policy from the installed judo weights, loaded once per process."""
    return LocomotionPolicy()


def standing_command(arm: Sequence[float] = DEFAULT_ARM_POSE) -> np.ndarray:
    """The (25,) command to stand still: zero velocity, no leg override, standing torso."""
    command = np.zeros(COMMAND_DIM)
    command[ARM] = arm
    command[TORSO] = STANDING_TORSO
    return command


def standing_qpos(
    model: mujoco.MjModel,
    xy: Sequence[float] = (0.0, 0.0),
    arm: Sequence[float] = DEFAULT_ARM_POSE,
) -> np.ndarray:
    """A start configuration: Spot upright, feet on the ground (``STANDING_LEG_POSE``).

    ``arm`` should equal the first command's arm targets (a jump in arm target can topple
    the robot). Other bodies (a box, a chair) keep their positions from the model
    (``qpos0``). Under the standing command the torso settles to ~0.48 m within ~0.5 s.
    """
    qpos = model.qpos0.copy()
    qpos[0:2] = xy
    qpos[2] = START_HEIGHT
    qpos[3:7] = (1.0, 0.0, 0.0, 0.0)
    qpos[QPOS_JOINTS : QPOS_JOINTS + N_LEG_JOINTS] = STANDING_LEG_POSE
    qpos[QPOS_JOINTS + N_LEG_JOINTS : QPOS_JOINTS + N_JOINTS] = arm
    return qpos


def policy_step(
    model: mujoco.MjModel,
    datas: mujoco.MjData | Sequence[mujoco.MjData],
    commands: np.ndarray,
    prev_out: np.ndarray,
    policy: LocomotionPolicy | None = None,
) -> np.ndarray:
    """Advance one world or a batch of worlds by one command step (0.02 s).

    Observes every world, evaluates the policy once for the whole batch, sets the 19
    actuator targets and holds them for the model's physics steps of one command step
    (``assets.substeps_of``: 2 in the original world). ``commands`` is (25,)
    or (N, 25), ``prev_out`` (12,) or (N, 12) (zeros at the start of an episode). Returns
    the new raw output, to be passed back as ``prev_out`` at the next step; its shape is
    (12,) for a single MjData and (N, 12) for a sequence.
    """
    single = isinstance(datas, mujoco.MjData)
    worlds = [datas] if single else list(datas)
    n = len(worlds)
    commands = np.broadcast_to(np.asarray(commands, dtype=np.float64), (n, COMMAND_DIM))
    prev = np.asarray(prev_out, dtype=np.float32).reshape(n, ACTION_DIM)
    qpos = np.stack([d.qpos for d in worlds])
    qvel = np.stack([d.qvel for d in worlds])
    targets, out = (policy or default_policy()).act(qpos, qvel, commands, prev)
    substeps = substeps_of(model)
    for data, target in zip(worlds, targets, strict=True):
        data.ctrl[:N_JOINTS] = target
        mujoco.mj_step(model, data, nstep=substeps)
    return out[0] if single else out
