"""A MuJoCo model's geoms as rviz's primitive shapes, each fixed in its body's TF frame (no
ROS).

There is no URDF of the simulated robot (judo ships MJCF only, and its visual meshes are
stripped: ``spot.assets``), so rviz cannot draw it with a RobotModel display. What the
physics touches is all primitives anyway; drawn as markers locked to the body frames of
``tf_frames``, they are the robot and the chair exactly as the simulation has them.

rviz has boxes, spheres and cylinders: a capsule becomes a cylinder and two spheres, an
ellipsoid a scaled sphere; a mesh (or height field, or SDF) is drawn as its bounding box
(MuJoCo's ``geom_aabb``); a plane (the ground: rviz's grid shows it) is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import mujoco
import numpy as np

from gpc_sim.ros.tf_frames import FrameTree, Quaternion, Vector, as_quaternion, as_vector

BOX, SPHERE, CYLINDER = "box", "sphere", "cylinder"
DEFAULT_GEOM_RGBA = (0.5, 0.5, 0.5, 1.0)  # MuJoCo's: a geom left at it shows its material
_BOUNDED = (mujoco.mjtGeom.mjGEOM_MESH, mujoco.mjtGeom.mjGEOM_HFIELD, mujoco.mjtGeom.mjGEOM_SDF)


@dataclass(frozen=True)
class Shape:
    """One primitive in frame ``frame``: rviz's type, pose, full extents and colour."""

    group: str  # the marker namespace (what rviz lets a user switch on and off)
    frame: str
    kind: str  # BOX, SPHERE or CYLINDER (a cylinder's axis is its z, as in rviz)
    position: Vector
    rotation: Quaternion
    scale: Vector  # full extents along x, y, z (rviz's convention; MuJoCo's are halves)
    rgba: tuple[float, float, float, float]


def model_shapes(tree: FrameTree, groups: Mapping[str, str]) -> list[Shape]:
    """The geoms of the bodies under each root body of ``groups`` (root body name ->
    group name), in the frames of ``tree``."""
    m = tree.model
    shapes: list[Shape] = []
    for root, group in groups.items():
        for body in tree.subtree(root):
            for geom in range(m.body_geomadr[body], m.body_geomadr[body] + m.body_geomnum[body]):
                shapes += geom_shapes(m, geom, group, tree.frame(body))
    return shapes


def geom_shapes(m: mujoco.MjModel, geom: int, group: str, frame: str) -> list[Shape]:
    """Geom ``geom`` of ``m`` as the shapes that draw it (none for a plane)."""
    kind = mujoco.mjtGeom(m.geom_type[geom])
    size = m.geom_size[geom]
    pos, quat = m.geom_pos[geom], m.geom_quat[geom]
    rgba = _rgba(m, geom)

    def shape(kind_name: str, scale, offset=(0.0, 0.0, 0.0)) -> Shape:
        turned = np.zeros(3)
        mujoco.mju_rotVecQuat(turned, np.asarray(offset, dtype=np.float64), quat)
        return Shape(group, frame, kind_name, as_vector(pos + turned), as_quaternion(quat),
                     as_vector(scale), rgba)

    if kind == mujoco.mjtGeom.mjGEOM_BOX:
        return [shape(BOX, 2.0 * size)]
    if kind == mujoco.mjtGeom.mjGEOM_SPHERE:
        return [shape(SPHERE, np.full(3, 2.0 * size[0]))]
    if kind == mujoco.mjtGeom.mjGEOM_ELLIPSOID:
        return [shape(SPHERE, 2.0 * size)]
    if kind in (mujoco.mjtGeom.mjGEOM_CYLINDER, mujoco.mjtGeom.mjGEOM_CAPSULE):
        radius, half = float(size[0]), float(size[1])
        out = [shape(CYLINDER, (2.0 * radius, 2.0 * radius, 2.0 * half))]
        if kind == mujoco.mjtGeom.mjGEOM_CAPSULE:
            ball = (2.0 * radius,) * 3
            out += [shape(SPHERE, ball, (0.0, 0.0, half)), shape(SPHERE, ball, (0.0, 0.0, -half))]
        return out
    if kind in _BOUNDED:
        centre, half = m.geom_aabb[geom][:3], m.geom_aabb[geom][3:]
        return [shape(BOX, 2.0 * half, centre)]
    return []  # a plane: unbounded


def _rgba(m: mujoco.MjModel, geom: int) -> tuple[float, float, float, float]:
    """MuJoCo's rule: a geom's own colour, or its material's if it kept the default one."""
    rgba = m.geom_rgba[geom]
    material = m.geom_matid[geom]
    if material >= 0 and np.allclose(rgba, DEFAULT_GEOM_RGBA):
        rgba = m.mat_rgba[material]
    return (float(rgba[0]), float(rgba[1]), float(rgba[2]), float(rgba[3]))
