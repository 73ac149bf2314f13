"""The chair push's mirror symmetry: y -> -y maps the task onto itself.

The C-shaped obstacle, the goal (1.2, 0) facing +x and the start distribution are symmetric
about the world's x axis, and so is Spot (left legs mirror right legs; the arm sits on the
mid-plane). An episode reflected in the x-z plane is therefore another episode of the same
task: a recorded (state, plan) pair gives a second one for free, which halves what a
dataset costs (issue 17). The locomotion policy is a trained network and not exactly
symmetric, so a mirrored command sequence walks the mirrored path only approximately; a
test measures how closely.

The reflection M = diag(1, -1, 1), for each kind of number:

* positions and linear velocities: y -> -y;
* headings: yaw -> -yaw (sin yaw -> -sin yaw);
* orientations (w, x, y, z) -> (w, -x, y, -z) (R -> M R M);
* angular velocities (pseudo-vectors, world or body frame): (x, y, z) -> (-x, y, -z);
* hinge joints: a joint swaps with its mirror image (front-left <-> front-right, hind-left
  <-> hind-right; the arm lies on the mid-plane; the chair's casters at angles k and -k
  swap), and its angle changes sign when its axis lies in the mirror plane (x or z: hip
  abduction hx, arm sh0, el1, wr1), not when the axis is the plane's normal y (hy, knees,
  sh1, el0, wr0, the gripper).
"""

from __future__ import annotations

import numpy as np

from gpc_sim.spot.constants import (
    CHAIR_QPOS_ADR,
    CHAIR_QVEL_ADR,
    LEG_ACTION_FROM_MUJOCO,
    N_JOINTS,
    QPOS_JOINTS,
    QVEL_JOINTS,
)

# Spot's 19 joints in MuJoCo order (constants.JOINT_NAMES): the joint each one maps to, and
# the sign of its angle in the mirror image.
_LEG_SWAP = (3, 4, 5, 0, 1, 2, 9, 10, 11, 6, 7, 8)  # fl <-> fr, hl <-> hr
JOINT_SOURCE = np.array([*_LEG_SWAP, *range(12, N_JOINTS)])
JOINT_SIGN = np.array([-1.0, 1.0, 1.0] * 4  # hx, hy, kn per leg
                      + [-1.0, 1.0, 1.0, -1.0, 1.0, -1.0, 1.0])  # sh0 sh1 el0 el1 wr0 wr1 f1x
# The 9-DoF target (torso x, y, yaw, six arm joints) and the observation
# (spot.task.SpotChairTask.observation_names).
TARGET_SIGN = np.array([1.0, -1.0, -1.0, *JOINT_SIGN[12:18]])
OBSERVATION_SIGN = np.array([1.0, -1.0, -1.0, 1.0, 1.0, -1.0, -1.0, 1.0, *JOINT_SIGN[12:18]])
_QUAT_SIGN = np.array([1.0, -1.0, 1.0, -1.0])
_VEC_SIGN = np.array([1.0, -1.0, 1.0])  # positions and linear velocities
_PSEUDO_SIGN = np.array([-1.0, 1.0, -1.0])  # angular velocities


def mirror_targets(targets: np.ndarray) -> np.ndarray:
    """Mirrored 9-DoF targets (..., 9), e.g. a plan's knots."""
    return np.asarray(targets) * TARGET_SIGN


def mirror_observation(obs: np.ndarray) -> np.ndarray:
    """Mirrored observations (..., 14) (``SpotChairTask.observation``)."""
    return np.asarray(obs) * OBSERVATION_SIGN


def _leg_action_mirror() -> tuple[np.ndarray, np.ndarray]:
    """Source index and sign of each of the policy's 12 leg outputs (Isaac order)."""
    source = np.empty(12, dtype=int)
    sign = np.empty(12)
    for k in range(12):  # MuJoCo leg joint k lives at output LEG_ACTION_FROM_MUJOCO[k]
        source[LEG_ACTION_FROM_MUJOCO[k]] = LEG_ACTION_FROM_MUJOCO[_LEG_SWAP[k]]
        sign[LEG_ACTION_FROM_MUJOCO[k]] = JOINT_SIGN[k]
    return source, sign


_PREV_SOURCE, _PREV_SIGN = _leg_action_mirror()


def mirror_state(state: np.ndarray, nq: int, nv: int) -> np.ndarray:
    """The mirror image of task states (..., 1 + nq + nv + 12) (``SpotStateLayout``: time,
    qpos, qvel, the policy's previous output) of a chair world with ``nq``/``nv``; the
    chair's casters, when the world has ball-jointed ones, are permuted with the rest."""
    state = np.asarray(state, dtype=np.float64)
    out = state.copy()
    qpos, qvel = state[..., 1 : 1 + nq], state[..., 1 + nq : 1 + nq + nv]
    new_qpos, new_qvel = out[..., 1 : 1 + nq], out[..., 1 + nq : 1 + nq + nv]
    for pos, vel in ((0, 0), (CHAIR_QPOS_ADR, CHAIR_QVEL_ADR)):  # the two free joints
        new_qpos[..., pos : pos + 3] = qpos[..., pos : pos + 3] * _VEC_SIGN
        new_qpos[..., pos + 3 : pos + 7] = qpos[..., pos + 3 : pos + 7] * _QUAT_SIGN
        new_qvel[..., vel : vel + 3] = qvel[..., vel : vel + 3] * _VEC_SIGN
        new_qvel[..., vel + 3 : vel + 6] = qvel[..., vel + 3 : vel + 6] * _PSEUDO_SIGN
    joints = slice(QPOS_JOINTS, QPOS_JOINTS + N_JOINTS)
    new_qpos[..., joints] = qpos[..., QPOS_JOINTS + JOINT_SOURCE] * JOINT_SIGN
    new_qvel[..., QVEL_JOINTS : QVEL_JOINTS + N_JOINTS] = (
        qvel[..., QVEL_JOINTS + JOINT_SOURCE] * JOINT_SIGN)
    casters = (nq - CHAIR_QPOS_ADR - 7) // 4  # ball joints after the chair's free joint
    for k in range(casters):
        src = (-k) % casters  # the caster at angle -2 pi k / n
        q_to, q_from = CHAIR_QPOS_ADR + 7 + 4 * k, CHAIR_QPOS_ADR + 7 + 4 * src
        v_to, v_from = CHAIR_QVEL_ADR + 6 + 3 * k, CHAIR_QVEL_ADR + 6 + 3 * src
        new_qpos[..., q_to : q_to + 4] = qpos[..., q_from : q_from + 4] * _QUAT_SIGN
        new_qvel[..., v_to : v_to + 3] = qvel[..., v_from : v_from + 3] * _PSEUDO_SIGN
    prev = state[..., 1 + nq + nv :]
    if prev.shape[-1]:
        out[..., 1 + nq + nv :] = prev[..., _PREV_SOURCE] * _PREV_SIGN
    return out
