"""The Panda's MJCF, its batched forward kinematics, and capsules for collision checks.

The MJCF comes from the installed ``gymnasium-robotics`` package (its kitchen scene's
``franka_assets``: chain, meshes), installed with ``--no-deps`` for its data files only
(``requirements-assets.txt``). The package is never imported: ``import gymnasium_robotics``
imports ``gymnasium``, which is not installed; ``importlib.util.find_spec`` of the top-level
name locates its folder without executing it (``importlib.resources`` would import it).

Only the arm's chain and its collision meshes are loaded (the visual meshes are dropped:
6.5 MB against 0.14 MB, and nothing here renders). The kinematics are read from the
compiled model once, then evaluated in numpy for whole planning batches at a time:
``mujoco.mj_kinematics`` works on one configuration per call, and a Python loop of it over
the 40,960 configurations of 1024 rollouts x 40 steps takes ~80 ms before a capsule is
placed; this takes ~25-35 ms for poses and capsules together (measured on the busy 2-core
dev machine).

Collision geometry: one capsule per collision mesh (links 0-7 and the hand), on the axis of
MuJoCo's own capsule fit to that mesh (``fitaabb``) with its radius and ends grown until the
capsule encloses every vertex of the mesh, so that a capsule clear of the pole means the
mesh is clear of it too; plus one capsule enclosing the fingers' primitive geoms (at
``qpos = 0``: the fingers are not actuated here).
"""

from __future__ import annotations

import functools
import importlib.util
import itertools
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from gpc_sim.blas import single_blas_thread
from gpc_sim.errors import ConfigError
from gpc_sim.franka import constants as C

_INSTALL_HINT = "run bash scripts/setup.sh"
_ASSETS = ("envs", "assets", "kitchen_franka", "franka_assets")


def franka_assets_dir() -> Path:
    """The Panda's MJCF folder inside the installed ``gymnasium_robotics``, found without
    importing the package (which would import gymnasium)."""
    try:
        spec = importlib.util.find_spec("gymnasium_robotics")
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.origin is None:
        raise ConfigError(f"gymnasium-robotics is not installed (Franka Panda model): "
                          f"{_INSTALL_HINT}")
    folder = Path(spec.origin).parent.joinpath(*_ASSETS)
    for name in ("chain.xml", "assets.xml"):
        if not (folder / name).is_file():
            raise ConfigError(f"gymnasium-robotics is installed but has no {folder / name}: "
                              f"{_INSTALL_HINT}")
    return folder


def load_franka_spec() -> mujoco.MjSpec:
    """The arm's chain and collision meshes, uncompiled (visual geoms and meshes removed).

    The package's chain and assets are ``<mujocoinclude>`` fragments of its kitchen scene;
    a two-line wrapper includes them. MuJoCo resolves each mesh file against the folder of
    the fragment that names it, missing the fragment's own ``meshdir``: the paths are set
    here to where the meshes are.
    """
    folder = franka_assets_dir()
    spec = mujoco.MjSpec.from_string(
        f'<mujoco><include file="{folder / "assets.xml"}"/>'
        f'<worldbody><include file="{folder / "chain.xml"}"/></worldbody></mujoco>')
    for geom in list(spec.geoms):
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH and not (geom.contype or geom.conaffinity):
            spec.delete(geom)  # visual only
    for mesh in list(spec.meshes):
        if mesh.name.endswith("_viz"):
            spec.delete(mesh)
            continue
        mesh.file = str(folder / "meshes" / Path(mesh.file).relative_to(folder))
    return spec


@functools.cache
def franka_model() -> mujoco.MjModel:
    """The compiled arm (cached; treat as read-only). Checks the joint layout indexed here."""
    model = load_franka_spec().compile()
    names = tuple(model.joint(i).name for i in range(len(C.JOINT_NAMES)))
    if names != C.JOINT_NAMES:
        raise ConfigError(f"Franka model joints {names} differ from {C.JOINT_NAMES}")
    return model


# --- forward kinematics ------------------------------------------------------------------


class ChainKinematics:
    """World poses of a serial chain's bodies from its joint angles, batched: exact FK.

    Follows ``mj_kinematics`` from a world-fixed root body along hinge joints (one per
    body): ``xpos = parent + R_parent body_pos``, ``R = R_parent body_rot hinge(q)``. The
    same recursion as ``gpc_sim.spot.task.SiteKinematics``, which follows one site from a
    free-floating base; here the base is fixed and every link's pose is needed (the
    collision capsules hang on all of them), for batches of ~20,000 configurations.

    For speed each hinge is written in a frame whose z axis is the joint's axis,
    ``hinge = P Rz(q) P^T``: ``R_parent (body_rot P)`` is then one BLAS product of the whole
    batch with a constant matrix, and ``Rz(q)`` mixes two columns in place (the Panda's
    axes are all z, so ``P = I`` and the ``P^T`` product is skipped). Poses are kept body
    first, (nb, n, 3, 3), so that each body's block is contiguous for those products.
    """

    def __init__(self, model: mujoco.MjModel, bodies: tuple[str, ...], site: str) -> None:
        ids = [model.body(name).id for name in bodies]
        root = ids[0]
        if model.body_jntnum[root] != 0 or any(
                model.body_jntnum[b] for b in _ancestors(model, root)):
            raise ValueError(f"chain root {bodies[0]!r} is not fixed to the world")
        data = mujoco.MjData(model)
        mujoco.mj_kinematics(model, data)
        self.root_pos = data.xpos[root].copy()
        self.root_rot = data.xmat[root].reshape(3, 3).copy()
        # (body_pos, body_rot P, P^T or None, qposadr, jnt_pos)
        self.links: list[tuple[np.ndarray, np.ndarray, np.ndarray | None, int, np.ndarray]] = []
        for parent, body in itertools.pairwise(ids):
            if model.body_parentid[body] != parent or model.body_jntnum[body] != 1:
                raise ValueError(f"{model.body(body).name!r}: not one hinge below its parent")
            j = int(model.body_jntadr[body])
            if model.jnt_type[j] != mujoco.mjtJoint.mjJNT_HINGE:
                raise ValueError(f"joint {model.joint(j).name!r} is not a hinge")
            adr = int(model.jnt_qposadr[j])
            if model.qpos0[adr] != 0.0:
                raise ValueError(f"joint {model.joint(j).name!r} has a nonzero reference")
            frame = _axis_frame(model.jnt_axis[j])
            post = None if np.allclose(frame, np.eye(3)) else frame.T.copy()
            self.links.append((model.body_pos[body].copy(), _mat(model.body_quat[body]) @ frame,
                               post, adr, model.jnt_pos[j].copy()))
        sid = model.site(site).id
        if model.site_bodyid[sid] != ids[-1]:
            raise ValueError(f"site {site!r} is not on the chain's last body")
        self.site_pos = model.site_pos[sid].copy()
        self.num_bodies = len(ids)

    def poses(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (nb, n, 3) and rotations (nb, n, 3, 3), body first, for joint angles
        (n, nj).

        One BLAS thread: OpenBLAS splits these thin products over its threads, and on a
        busy machine the hand-offs cost ten times the arithmetic (measured: 240 ms against
        23 ms for 1024 x 40 configurations on the 2-core dev machine).
        """
        with single_blas_thread():
            return self._poses(q)

    def _poses(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = len(q)
        pos = np.empty((self.num_bodies, n, 3))
        rot = np.empty((self.num_bodies, n, 3, 3))
        pos[0] = self.root_pos
        rot[0] = self.root_rot
        cos, sin = np.cos(q), np.sin(q)
        for i, (body_pos, pre, post, adr, jnt_pos) in enumerate(self.links):
            parent = rot[i].reshape(-1, 3)  # rows of every rotation of the batch
            child = rot[i + 1]
            np.matmul(parent, pre, out=child.reshape(-1, 3))  # R_parent body_rot P
            c, s = cos[:, adr, None], sin[:, adr, None]
            x, y = child[:, :, 0].copy(), child[:, :, 1]
            child[:, :, 0] = x * c + y * s  # ... Rz(q): columns 0 and 1 turn by q
            child[:, :, 1] = y * c - x * s
            if post is not None:
                child[:] = (child.reshape(-1, 3) @ post).reshape(child.shape)
            np.add(pos[i], (parent @ body_pos).reshape(n, 3), out=pos[i + 1])
            if np.any(jnt_pos):  # a hinge off the body's origin turns the body about it
                fixed = (parent @ (pre @ (post if post is not None else np.eye(3)))).reshape(
                    n, 3, 3)
                pos[i + 1] += (fixed - child) @ jnt_pos
        return pos, rot

    def __call__(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Positions (..., nb, 3) and rotations (..., nb, 3, 3) of the chain's bodies (root
        first) for joint angles (..., nj)."""
        q = np.asarray(q, dtype=np.float64)
        lead = q.shape[:-1]
        pos, rot = self.poses(q.reshape(-1, q.shape[-1]))
        return (np.moveaxis(pos, 0, 1).reshape(*lead, self.num_bodies, 3),
                np.moveaxis(rot, 0, 1).reshape(*lead, self.num_bodies, 3, 3))

    def site(self, pos: np.ndarray, rot: np.ndarray) -> np.ndarray:
        """The site's world position (n, 3) from body-first poses (``poses``)."""
        return pos[-1] + (rot[-1].reshape(-1, 3) @ self.site_pos).reshape(-1, 3)


def _axis_frame(axis: np.ndarray) -> np.ndarray:
    """A rotation whose third column is ``axis`` (the identity for the z axis)."""
    z = axis / np.linalg.norm(axis)
    if np.allclose(z, [0.0, 0.0, 1.0]):
        return np.eye(3)
    helper = np.array([1.0, 0.0, 0.0]) if abs(z[0]) < 0.9 else np.array([0.0, 1.0, 0.0])
    x = np.cross(helper, z)
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def _ancestors(model: mujoco.MjModel, body: int) -> list[int]:
    out = []
    while body != 0:
        body = int(model.body_parentid[body])
        out.append(body)
    return out


# --- collision capsules ------------------------------------------------------------------


@dataclass(frozen=True)
class Capsules:
    """Capsules fixed to chain bodies: segment ends ``a``, ``b`` (K, 3) in the frame of body
    ``body`` (K,) (its index along the chain, root 0), radii ``radius`` (K,)."""

    names: tuple[str, ...]
    body: np.ndarray
    a: np.ndarray
    b: np.ndarray
    radius: np.ndarray

    def world(self, pos: np.ndarray, rot: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Segment ends (n, K, 3) in the world, from body-first poses (``poses``).

        Computed coordinate first, (3, n, K), and returned as views in the usual order: the
        collision tests then read each coordinate as one contiguous block.
        """
        n = pos.shape[1]
        k = len(self.body)
        ends = np.empty((2, 3, n, k))
        with single_blas_thread():
            for body in np.unique(self.body):
                on = np.flatnonzero(self.body == body)
                local = np.concatenate([self.a[on], self.b[on]])  # (2m, 3)
                world = (rot[body].reshape(-1, 3) @ local.T).reshape(n, 3, 2, len(on))
                ends[:, :, :, on] = (world.transpose(2, 1, 0, 3)
                                     + pos[body].T[None, :, :, None])
        return np.moveaxis(ends[0], 0, -1), np.moveaxis(ends[1], 0, -1)


def enclosing_capsule(points: np.ndarray, centre: np.ndarray,
                      axis: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """The shortest capsule on the line ``centre + s axis`` whose radius is the largest
    distance of ``points`` (n, 3) from that line and that holds every point: ends (3,), (3,)
    and the radius."""
    axis = axis / np.linalg.norm(axis)
    rel = points - centre
    along = rel @ axis
    radial = np.linalg.norm(rel - along[:, None] * axis, axis=1)
    radius = float(radial.max())
    reach = np.sqrt(np.maximum(radius * radius - radial * radial, 0.0))
    lo, hi = float((along + reach).min()), float((along - reach).max())
    if lo > hi:  # every point fits in one sphere: a capsule of length zero
        lo = hi = 0.5 * (lo + hi)
    return centre + lo * axis, centre + hi * axis, radius


def fit_capsules(spec: mujoco.MjSpec, bodies: tuple[str, ...],
                 fingers: tuple[str, ...]) -> Capsules:
    """The capsules of the module docstring, in the frames of the chain ``bodies``."""
    mesh_model = spec.compile()
    fitted = spec.copy()
    fitted.compiler.fitaabb = True
    for geom in fitted.geoms:
        if geom.type == mujoco.mjtGeom.mjGEOM_MESH:
            geom.type = mujoco.mjtGeom.mjGEOM_CAPSULE  # MuJoCo fits it to the mesh
    fit_model = fitted.compile()
    chain = [mesh_model.body(name).id for name in bodies]
    names, body, a, b, radius = [], [], [], [], []
    for g in range(mesh_model.ngeom):
        if mesh_model.geom_type[g] != mujoco.mjtGeom.mjGEOM_MESH:
            continue
        owner = int(mesh_model.geom_bodyid[g])
        mesh = int(mesh_model.geom_dataid[g])
        start = mesh_model.mesh_vertadr[mesh]
        verts = mesh_model.mesh_vert[start : start + mesh_model.mesh_vertnum[mesh]]
        points = verts @ _mat(mesh_model.geom_quat[g]).T + mesh_model.geom_pos[g]
        axis = _mat(fit_model.geom_quat[g])[:, 2]
        ends = enclosing_capsule(points, fit_model.geom_pos[g], axis)
        names.append(mesh_model.mesh(mesh).name)
        body.append(chain.index(owner))
        a.append(ends[0])
        b.append(ends[1])
        radius.append(ends[2])
    # The fingers: the corners of their geoms' bounding boxes, in the last body's frame,
    # enclosed by a capsule along that body's z axis (the direction the fingers point).
    last = chain[-1]
    data = mujoco.MjData(mesh_model)
    mujoco.mj_kinematics(mesh_model, data)
    to_last = data.xmat[last].reshape(3, 3).T
    corners = []
    for name in fingers:
        fid = mesh_model.body(name).id
        for g in range(mesh_model.ngeom):
            if mesh_model.geom_bodyid[g] != fid:
                continue
            centre, half = mesh_model.geom_aabb[g, :3], mesh_model.geom_aabb[g, 3:]
            box = centre + half * np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1)
                                             for z in (-1, 1)])
            world = box @ data.geom_xmat[g].reshape(3, 3).T + data.geom_xpos[g]
            corners.append((world - data.xpos[last]) @ to_last.T)
    ends = enclosing_capsule(np.concatenate(corners), np.zeros(3), np.array([0.0, 0.0, 1.0]))
    names.append("fingers")
    body.append(len(chain) - 1)
    a.append(ends[0])
    b.append(ends[1])
    radius.append(ends[2])
    return Capsules(tuple(names), np.array(body), np.array(a), np.array(b), np.array(radius))


def _mat(quat: np.ndarray) -> np.ndarray:
    out = np.empty(9)
    mujoco.mju_quat2Mat(out, quat)
    return out.reshape(3, 3)


class FrankaKinematics:
    """The arm's FK, end effector and collision capsules, built once from the MJCF."""

    def __init__(self) -> None:
        self.model = franka_model()
        self.chain = ChainKinematics(self.model, C.CHAIN_BODIES, C.END_EFFECTOR_SITE)
        self.capsules = _capsules()
        self.floor_checked = np.array([n not in C.FLOOR_EXEMPT for n in self.capsules.names])

    def end_effector(self, q: np.ndarray) -> np.ndarray:
        """End-effector positions (..., 3) for joint angles (..., 7)."""
        q = np.asarray(q, dtype=np.float64)
        pos, rot = self.chain.poses(q.reshape(-1, q.shape[-1]))
        return self.chain.site(pos, rot).reshape(*q.shape[:-1], 3)

    def geometry(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """End effector (..., 3) and capsule ends (..., K, 3), (..., K, 3): one FK for all."""
        q = np.asarray(q, dtype=np.float64)
        lead = q.shape[:-1]
        pos, rot = self.chain.poses(q.reshape(-1, q.shape[-1]))
        a, b = self.capsules.world(pos, rot)
        k = len(self.capsules.body)
        return (self.chain.site(pos, rot).reshape(*lead, 3), a.reshape(*lead, k, 3),
                b.reshape(*lead, k, 3))


@functools.cache
def _capsules() -> Capsules:
    return fit_capsules(load_franka_spec(), C.CHAIN_BODIES, C.FINGER_BODIES)


# --- collision tests -----------------------------------------------------------------------


def pole_gaps(a: np.ndarray, b: np.ndarray, radius: np.ndarray,
              pole: np.ndarray) -> np.ndarray:
    """Horizontal gaps (..., K) between capsules (ends (..., K, 3), radii (K,)) and a
    vertical pole standing on the floor, ``pole`` (..., 4) = [x, y, radius, height].

    The gap is the 2-D distance from the pole's axis to the part of the capsule's segment
    lower than the pole's top plus the capsule's radius, less both radii (+inf where no
    part is that low). Negative: the capsule touches the pole (a vertical cylinder, Sec.
    5.2's "single pole"). Exact where the contact is on the pole's side; near its top rim
    the test is the bounding cylinder of the capsule-swept pole, conservative by at most
    (sqrt(2) - 1) x the capsule's radius.
    """
    pole = np.asarray(pole)
    cx, cy = pole[..., 0, None], pole[..., 1, None]  # against every capsule
    pole_r, top = pole[..., 2, None], pole[..., 3, None] + radius
    az, bz = a[..., 2], b[..., 2]
    dz = bz - az
    # The part t in [lo, hi] of the segment a + t (b - a) with z(t) <= top (none when even
    # its lowest end is higher).
    empty = np.minimum(az, bz) > top
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.clip((top - az) / dz, 0.0, 1.0)  # where z(t) = top
    lo = np.where(dz < 0, cross, 0.0)
    hi = np.where(dz > 0, cross, 1.0)
    # The 2-D distance from the pole's axis to that part, in the pole's frame.
    ax, ay = a[..., 0] - cx, a[..., 1] - cy
    dx, dy = b[..., 0] - a[..., 0], b[..., 1] - a[..., 1]
    dd = dx * dx + dy * dy
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(dd > 0, -(ax * dx + ay * dy) / dd, 0.0)
    t = np.minimum(np.maximum(t, lo), hi)
    px, py = ax + t * dx, ay + t * dy
    gap = np.sqrt(px * px + py * py) - pole_r - radius
    gap[empty] = np.inf
    return gap


def floor_gaps(a: np.ndarray, b: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """Heights (..., K) of the capsules' lowest points above the floor (z = 0)."""
    return np.minimum(a[..., 2], b[..., 2]) - radius
