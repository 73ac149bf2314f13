"""The TF frames of a MuJoCo model: one frame per body, parented as in the model (no ROS).

rviz and every other ROS tool find a robot through TF, and a MuJoCo model already is a
kinematic tree: each body has a parent and a pose relative to it. So each body becomes a
frame named after it, parented to its parent body's frame, and the world body is the world
frame (``map``). Spot's bodies in judo's model carry spot_ros2's link names (``body``,
``front_left_hip``, ``arm_link_sh0`` ...), so the robot's frames are the ones a Spot user
knows; a prefix per subtree gives spot_ros2's ``<spot_name>/body``.

A body without joints (and not a mocap body) is fixed to its parent: its transform never
changes and belongs on ``/tf_static`` (as robot_state_publisher does with fixed joints).
The others come from MuJoCo's own forward kinematics (``mj_kinematics``) on a scratch
``MjData``: one source of truth with the physics, and independent of the simulation's
``xpos``, which ``mj_step`` computes before integrating and so lags ``qpos`` by a step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mujoco
import numpy as np

from gpc_sim.errors import ConfigError

Vector = tuple[float, float, float]
Quaternion = tuple[float, float, float, float]  # (w, x, y, z), MuJoCo's order


@dataclass(frozen=True)
class FrameTransform:
    """The pose of frame ``child`` in frame ``parent`` (a TF edge)."""

    parent: str
    child: str
    translation: Vector  # m
    rotation: Quaternion  # unit (w, x, y, z)


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton products of (n, 4) (w, x, y, z) quaternions, row by row."""
    aw, ax, ay, az = a.T
    bw, bx, by, bz = b.T
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw], axis=1)


def relative_poses(parent_pos: np.ndarray, parent_quat: np.ndarray, child_pos: np.ndarray,
                   child_quat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Poses (n, 3), (n, 4) of children in their parents' frames, from world poses."""
    conj = parent_quat * np.array([1.0, -1.0, -1.0, -1.0])
    offset = np.concatenate([np.zeros((len(child_pos), 1)), child_pos - parent_pos], axis=1)
    # R_p^T (x_c - x_p) as the quaternion sandwich q_p* v q_p.
    position = quat_multiply(quat_multiply(conj, offset), parent_quat)[:, 1:]
    rotation = quat_multiply(conj, child_quat)
    return position, rotation / np.linalg.norm(rotation, axis=1, keepdims=True)


class FrameTree:
    """The TF tree of ``model``: frame names, the static edges, and the moving edges at a
    ``qpos``.

    ``prefixes`` maps a root body's name (a body whose parent is the world, e.g. Spot's
    ``body``) to a prefix of the frame names of its whole subtree (``spot1/``: spot_ros2's
    convention for several robots). Bodies without a name are called ``mujoco_body_<id>``.
    """

    def __init__(self, model: mujoco.MjModel, world_frame: str = "map",
                 prefixes: Mapping[str, str] | None = None) -> None:
        self.model = model
        self.world_frame = world_frame
        prefixes = dict(prefixes or {})
        roots = {model.body(b).name: b for b in range(1, model.nbody)
                 if model.body_parentid[b] == 0}
        unknown = sorted(set(prefixes) - set(roots))
        if unknown:
            raise ConfigError(f"no root body named {unknown} (root bodies: {sorted(roots)})")
        names = [world_frame]
        for body in range(1, model.nbody):
            root = model.body(int(model.body_rootid[body])).name
            name = model.body(body).name or f"mujoco_body_{body}"
            names.append(prefixes.get(root, "") + name)
        if len(set(names)) != len(names):
            raise ConfigError(f"frame names are not unique: {names}")
        bad = [n for n in names if not n or n.startswith("/") or any(c.isspace() for c in n)]
        if bad:  # tf2 refuses a frame id with a leading '/' (ROS 2) and an empty one
            raise ConfigError(f"invalid TF frame names {bad}: no leading '/', no spaces")
        self.names: tuple[str, ...] = tuple(names)  # index: MuJoCo body id
        fixed = (model.body_jntnum == 0) & (model.body_mocapid < 0)
        self.static_bodies = tuple(b for b in range(1, model.nbody) if fixed[b])
        self.moving_bodies = tuple(b for b in range(1, model.nbody) if not fixed[b])
        self._moving = np.array(self.moving_bodies, dtype=int)
        self._parents = model.body_parentid[self._moving]
        self._data = mujoco.MjData(model)  # scratch: forward kinematics only

    def frame(self, body: int | str) -> str:
        """The frame name of a body (its MuJoCo id or name)."""
        return self.names[body if isinstance(body, int) else self._body_id(body)]

    def subtree(self, root: str) -> tuple[int, ...]:
        """The ids of the bodies of root body ``root`` (itself and every body below it)."""
        root_id = self._body_id(root)
        if self.model.body_parentid[root_id] != 0:
            raise ValueError(f"{root!r} is not a root body (its parent is not the world)")
        return tuple(b for b in range(1, self.model.nbody)
                     if self.model.body_rootid[b] == root_id)

    def _body_id(self, name: str) -> int:
        body = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_BODY, name)
        if body < 0:
            raise KeyError(f"no body named {name!r}")
        return int(body)

    def static_transforms(self) -> list[FrameTransform]:
        """The edges that never change: a fixed body in its parent (the model's body pose)."""
        m = self.model
        return [FrameTransform(self.names[m.body_parentid[b]], self.names[b],
                               as_vector(m.body_pos[b]), as_quaternion(m.body_quat[b]))
                for b in self.static_bodies]

    def transforms(self, qpos: np.ndarray, mocap_pos: np.ndarray | None = None,
                   mocap_quat: np.ndarray | None = None) -> list[FrameTransform]:
        """The moving edges at ``qpos`` (and the mocap bodies' poses, if the model has any):
        each moving body in its parent's frame."""
        d = self._data
        d.qpos[:] = qpos
        if mocap_pos is not None:
            d.mocap_pos[:] = mocap_pos
        if mocap_quat is not None:
            d.mocap_quat[:] = mocap_quat
        mujoco.mj_kinematics(self.model, d)
        ids, parents = self._moving, self._parents
        position, rotation = relative_poses(d.xpos[parents], d.xquat[parents], d.xpos[ids],
                                            d.xquat[ids])
        return [FrameTransform(self.names[p], self.names[b], as_vector(x), as_quaternion(q))
                for b, p, x, q in zip(ids, parents, position, rotation, strict=True)]


def as_vector(v: np.ndarray) -> Vector:
    """Three numbers as plain floats (a message field takes no numpy scalar)."""
    return (float(v[0]), float(v[1]), float(v[2]))


def as_quaternion(q: np.ndarray) -> Quaternion:
    """Four numbers (w, x, y, z) as plain floats."""
    return (float(q[0]), float(q[1]), float(q[2]), float(q[3]))
