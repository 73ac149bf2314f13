"""Spot's MJCF and locomotion-policy weights, read from the installed ``judo-rai`` package.

``judo-rai`` is installed with ``--no-deps`` (its dependency tree is ~790 MB and pins
packages this project does not use), so ``import judo`` is not to be relied on: the package
folder is located with ``importlib.util.find_spec``, which does not execute it, and only its
data files are read. The files are loaded at run time rather than copied into this
repository (they carry their own copyright headers).

The MJCF references visual meshes and a texture image that the package does not ship.
They are visual only (``contype = conaffinity = 0``; all collision geometry is primitives),
so ``load_spot_spec`` deletes them and the model compiles offline with unchanged physics.

Model layout found in both variants (MuJoCo 3.6.0): joint 0 is the free joint ``base``
(qpos[0:7], qvel[0:6]); joints 1..19 are fl_hx, fl_hy, fl_kn, fr_*, hl_*, hr_*, arm_sh0,
arm_sh1, arm_el0, arm_el1, arm_wr0, arm_wr1, arm_f1x (qpos[7:26], qvel[6:25]); the 19
position actuators drive those joints in the same order. ``spot_box`` appends the box's
free joint (qpos[26:33], qvel[25:31]). ``check_spot_layout`` verifies this on every compile.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import mujoco

from gpc_sim.errors import ConfigError
from gpc_sim.spot.constants import BASE_JOINT, COMMAND_DT, JOINT_NAMES

# MJCF scenes whose collision geometry is all primitives. judo's ``spot_tire`` is left out:
# its tire collides through a mesh that the package does not ship.
VARIANTS = ("spot_primitive", "spot_box")

_INSTALL_HINT = "run bash scripts/setup.sh"


def judo_dir() -> Path:
    """The folder of the installed ``judo`` package, found without importing it."""
    try:
        spec = importlib.util.find_spec("judo")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise ConfigError(
            f"judo-rai is not installed (Spot model and locomotion policy): {_INSTALL_HINT}"
        )
    return Path(spec.origin).parent


def _judo_file(*parts: str) -> Path:
    """A data file inside the judo package; a one-line error if this judo lacks it."""
    path = judo_dir().joinpath(*parts)
    if not path.is_file():
        raise ConfigError(f"judo-rai is installed but has no {path}: {_INSTALL_HINT}")
    return path


def policy_weights_path() -> Path:
    """The locomotion policy's PyTorch state_dict (``spot_locomotion.pt``)."""
    return _judo_file("models", "policies", "spot_locomotion.pt")


def load_spot_spec(variant: str = "spot_primitive") -> mujoco.MjSpec:
    """Parse judo's MJCF ``variant`` and strip what cannot be loaded offline.

    Removes the mesh geoms (checked to be visual only, so that a future model whose meshes
    collide fails loudly instead of losing its collision geometry), every mesh asset, and
    the textures read from image files (unset from the materials that use them).
    Returns the spec uncompiled so that callers can add bodies (a chair, obstacles) first.
    """
    if variant not in VARIANTS:
        raise ConfigError(f"unknown Spot model {variant!r}; known: {', '.join(VARIANTS)}")
    spec = mujoco.MjSpec.from_file(str(_judo_file("models", "xml", variant, "robot.xml")))
    for geom in list(spec.geoms):
        if geom.type != mujoco.mjtGeom.mjGEOM_MESH:
            continue
        if geom.contype or geom.conaffinity:
            raise ConfigError(f"{variant}: mesh geom {geom.name!r} collides; cannot strip it")
        spec.delete(geom)
    for mesh in list(spec.meshes):
        spec.delete(mesh)
    file_textures = [tex for tex in spec.textures if tex.file]
    dropped = {tex.name for tex in file_textures}
    for material in spec.materials:
        material.textures = ["" if name in dropped else name for name in material.textures]
    for tex in file_textures:
        spec.delete(tex)
    return spec


def check_spot_layout(model: mujoco.MjModel) -> None:
    """Fail unless ``model`` has the joint/actuator layout the policy code indexes blindly.

    The observation and actuator mapping use fixed qpos/qvel/ctrl offsets for speed; a judo
    release that reordered its MJCF would otherwise feed the policy wrong joints silently.
    """
    substeps_of(model)
    base = model.joint(0)
    if base.name != BASE_JOINT or model.jnt_type[0] != mujoco.mjtJoint.mjJNT_FREE:
        raise ConfigError(f"Spot model: joint 0 is {base.name!r}, expected free joint 'base'")
    names = tuple(model.joint(i).name for i in range(1, 1 + len(JOINT_NAMES)))
    if names != JOINT_NAMES:
        raise ConfigError(f"Spot model joints {names} differ from the policy's {JOINT_NAMES}")
    if model.nu != len(JOINT_NAMES):
        raise ConfigError(f"Spot model has {model.nu} actuators, expected {len(JOINT_NAMES)}")
    targets = tuple(model.joint(int(model.actuator_trnid[i, 0])).name for i in range(model.nu))
    if targets != JOINT_NAMES:
        raise ConfigError(f"Spot actuators drive {targets}, expected {JOINT_NAMES}")


def substeps_of(model: mujoco.MjModel) -> int:
    """Physics steps per command step (0.02 s) in ``model``: 2 in judo's MJCF (0.01 s).

    The locomotion policy runs at 50 Hz whatever the physics does, so a Spot model's
    timestep must split the command step into a whole number of steps (``spot.worlds``);
    anything else is a ConfigError, as a foreign MJCF's timestep always was.
    """
    substeps = round(COMMAND_DT / model.opt.timestep)
    if substeps < 1 or abs(substeps * model.opt.timestep - COMMAND_DT) > 1e-12:
        raise ConfigError(f"Spot model timestep {model.opt.timestep} s does not divide the "
                          f"{COMMAND_DT} s command step")
    return substeps


@functools.cache
def spot_model(variant: str = "spot_primitive") -> mujoco.MjModel:
    """The compiled, checked model of ``variant``.

    Cached and shared between callers: treat it as read-only (``copy.copy`` it to change
    options). An MjModel is immutable in practice for rollouts, and compiling costs ~20 ms.
    """
    model = load_spot_spec(variant).compile()
    check_spot_layout(model)
    return model
