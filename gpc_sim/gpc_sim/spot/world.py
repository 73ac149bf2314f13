"""The Spot chair-push world: Spot, a wheeled office chair, a C-shaped obstacle, a goal.

Built with ``mujoco.MjSpec`` on top of judo's ``spot_primitive`` scene (its floor, the
plane ``ground``, is kept), so that Spot's joints stay first in qpos/qvel and the policy
code's fixed offsets hold. Then come the chair's free joint (qpos[26:33], qvel[25:31]) and
its five casters' ball joints. Layout and chair dimensions: ``spot.constants``.

The chair is one rigid body on a free joint (it can roll, spin and tip over), with five
caster spheres on ball joints at the tips of its five-star base. Spheres on ball joints
roll in every direction like swivel casters without their trail, and touch the floor at
one point each (five contacts, cheap). Rolling resistance and stiction come from the
ball joints' friction loss, so a chair at rest stays put and a push of a few newtons
rolls it.

Functions on qpos arrays (``chair_pose_from_qpos``, ``chair_tilt_from_qpos``) are batched
over leading axes for planner costs; ``chair_pose``, ``chair_tilt``, ``chair_tipped`` read
one MjData.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

from gpc_sim.errors import ConfigError
from gpc_sim.spot.action import yaw_from_quat
from gpc_sim.spot.assets import check_spot_layout, load_spot_spec
from gpc_sim.spot.constants import (
    CHAIR_BACK_TOP,
    CHAIR_BASE_RADIUS,
    CHAIR_CASTER_FRICTIONLOSS,
    CHAIR_CASTER_RADIUS,
    CHAIR_GOAL,
    CHAIR_LEG_HEIGHT,
    CHAIR_QPOS_ADR,
    CHAIR_QVEL_ADR,
    CHAIR_ROLLING_RESISTANCE,
    CHAIR_SEAT_HALF,
    CHAIR_SEAT_HEIGHT,
    CHAIR_START,
    CHAIR_START_JITTER,
    CHAIR_TIP_ANGLE,
    OBSTACLE_BOXES,
    ROBOT_START,
    ROBOT_START_JITTER,
    UNSTOWED_ARM_POSE,
)
from gpc_sim.spot.policy import standing_qpos
from gpc_sim.spot.rollout import SpotStateLayout
from gpc_sim.spot.worlds import DEFAULT_WORLD, SpotWorld, spot_world

CHAIR_BODY = "chair"
SPOT_ROOT_BODY = "body"  # Spot's base link in judo's MJCF: every Spot geom hangs below it
CHAIR_JOINT = "chair_joint"
GOAL_SITE = "goal"
N_CASTERS = 5
# Casters at 0, 72, ... degrees: one points straight ahead of the seat.
CASTER_ANGLES = tuple(2.0 * math.pi * k / N_CASTERS for k in range(N_CASTERS))

_BOX = mujoco.mjtGeom.mjGEOM_BOX
_CYLINDER = mujoco.mjtGeom.mjGEOM_CYLINDER
_SPHERE = mujoco.mjtGeom.mjGEOM_SPHERE
_CHAIR_RGBA = (0.15, 0.15, 0.17, 1.0)
_METAL_RGBA = (0.6, 0.6, 0.62, 1.0)
# Chair against the obstacle (MuJoCo takes the larger: the obstacle's 0.6). Spot's geoms
# (priority 4, 0.15) and the floor (priority 5, 0.7) impose their own friction.
_CHAIR_FRICTION = (0.5, 0.005, 0.0001)
_CHAIR_GEOM_GROUP = 1  # drawn by default (Spot's collision geoms are group 3)
# Damped casters: the friction loss's torque at a walking push (0.3 m/s, 10 rad/s of a
# 3 cm ball) as viscous damping, N m s/rad.
CHAIR_PUSH_SPEED = 0.3  # m/s
_CASTER_DAMPING = CHAIR_CASTER_FRICTIONLOSS * CHAIR_CASTER_RADIUS / CHAIR_PUSH_SPEED
_WELDED_CASTER_PRIORITY = 6  # above the floor's 5: a welded caster brings its own friction
# Collision bits of a world without Spot's self-collision: Spot's geoms carry type 2 and
# accept 1, everything else carries 1 and accepts both, so Spot meets everything but Spot.
_SPOT_BITS = (2, 1)
_OTHER_BITS = (1, 3)


def _yaw_quat(yaw: float) -> list[float]:
    """MuJoCo (w, x, y, z) quaternion of a rotation by ``yaw`` about z."""
    return [math.cos(yaw / 2.0), 0.0, 0.0, math.sin(yaw / 2.0)]


def _add_chair(world: mujoco.MjsBody, casters: str = "ball") -> None:
    """The office chair at ``CHAIR_START``, resting on its casters (origin on the floor).

    ``casters``: one of ``worlds.CASTER_MODELS``: balls rolling against friction loss or
    damping, or welded sliders.

    Masses are set per geom (they sum to ``CHAIR_MASS``) so that the inertia follows the
    shape: most of the mass high up in the seat and backrest, as in a real chair, which is
    what lets a high push tip it while a low push rolls it.
    """
    x, y, yaw = CHAIR_START
    chair = world.add_body(name=CHAIR_BODY, pos=[x, y, 0.0], quat=_yaw_quat(yaw))
    chair.add_freejoint(name=CHAIR_JOINT)

    def part(name: str, gtype, size, pos, mass: float, rgba=_CHAIR_RGBA) -> None:
        chair.add_geom(
            name=name, type=gtype, size=list(size), pos=list(pos), mass=mass, rgba=list(rgba),
            friction=list(_CHAIR_FRICTION), group=_CHAIR_GEOM_GROUP,
        )  # fmt: skip

    sx, sy, sz = CHAIR_SEAT_HALF
    seat_z = CHAIR_SEAT_HEIGHT - sz
    part("chair_seat", _BOX, (sx, sy, sz), (0.02, 0.0, seat_z), 4.0)
    back_half_z = (CHAIR_BACK_TOP - (CHAIR_SEAT_HEIGHT + 0.06)) / 2.0
    back_x = -0.23
    part("chair_back", _BOX, (0.025, 0.22, back_half_z), (back_x, 0, CHAIR_BACK_TOP - back_half_z),
         2.5)  # fmt: skip
    part("chair_back_bracket", _BOX, (0.02, 0.03, 0.07), (back_x, 0, CHAIR_SEAT_HEIGHT), 0.5,
         _METAL_RGBA)  # fmt: skip
    column_bottom = CHAIR_LEG_HEIGHT + 0.03
    column_top = seat_z - sz
    part("chair_column", _CYLINDER, (0.025, (column_top - column_bottom) / 2.0, 0),
         (0, 0, (column_top + column_bottom) / 2.0), 2.0, _METAL_RGBA)  # fmt: skip
    part("chair_hub", _CYLINDER, (0.04, 0.03, 0), (0, 0, CHAIR_LEG_HEIGHT), 0.4)
    inner = 0.03  # legs start inside the hub
    leg_half = (CHAIR_BASE_RADIUS - inner) / 2.0
    for k, angle in enumerate(CASTER_ANGLES):
        c, s = math.cos(angle), math.sin(angle)
        mid = inner + leg_half
        chair.add_geom(
            name=f"chair_leg{k}", type=_BOX, size=[leg_half, 0.02, 0.015],
            pos=[mid * c, mid * s, CHAIR_LEG_HEIGHT], quat=_yaw_quat(angle), mass=0.5,
            rgba=list(_CHAIR_RGBA), friction=list(_CHAIR_FRICTION), group=_CHAIR_GEOM_GROUP,
        )  # fmt: skip
        tip = [CHAIR_BASE_RADIUS * c, CHAIR_BASE_RADIUS * s]
        # The caster's fork, from the leg down to the wheel: drawn, not colliding, no mass
        # worth modelling (the caster body carries it).
        fork_bottom = 2.0 * CHAIR_CASTER_RADIUS
        fork_top = CHAIR_LEG_HEIGHT - 0.015
        chair.add_geom(
            name=f"chair_fork{k}", type=_CYLINDER, size=[0.012, (fork_top - fork_bottom) / 2, 0],
            pos=[*tip, (fork_top + fork_bottom) / 2], mass=0.0, rgba=list(_METAL_RGBA),
            contype=0, conaffinity=0, group=_CHAIR_GEOM_GROUP,
        )  # fmt: skip
        wheel = dict(name=f"chair_caster{k}_wheel", type=_SPHERE, size=[CHAIR_CASTER_RADIUS, 0, 0],
                     mass=0.12, rgba=[0.05, 0.05, 0.05, 1.0], group=_CHAIR_GEOM_GROUP)
        if casters == "welded":
            # Part of the chair body, sliding: its own friction wins over the floor's
            # (priority), and equals the rolling-resistance coefficient, so the chair is
            # resisted by the same ~2.5 N as with rolling casters (worlds.CASTER_MODELS).
            chair.add_geom(pos=[*tip, CHAIR_CASTER_RADIUS], priority=_WELDED_CASTER_PRIORITY,
                           friction=[CHAIR_ROLLING_RESISTANCE, 0.0, 0.0], **wheel)
            continue
        caster = chair.add_body(name=f"chair_caster{k}", pos=[*tip, CHAIR_CASTER_RADIUS])
        resistance = (dict(frictionloss=0.0, damping=_CASTER_DAMPING) if casters == "damped"
                      else dict(frictionloss=CHAIR_CASTER_FRICTIONLOSS, damping=1e-3))
        caster.add_joint(name=f"chair_caster{k}_ball", type=mujoco.mjtJoint.mjJNT_BALL,
                         armature=1e-4, **resistance)
        caster.add_geom(friction=list(_CHAIR_FRICTION), **wheel)


def _add_obstacle_and_goal(world: mujoco.MjsBody) -> None:
    """The C-shaped obstacle (a static body of three boxes) and the goal marker sites."""
    obstacle = world.add_body(name="obstacle")  # no joint: welded to the world
    for name, center, half in OBSTACLE_BOXES:
        obstacle.add_geom(
            name=name, type=_BOX, size=list(half), pos=list(center),
            rgba=[0.75, 0.45, 0.2, 1.0], friction=[0.6, 0.005, 0.0001], group=_CHAIR_GEOM_GROUP,
        )  # fmt: skip
    gx, gy, gyaw = CHAIR_GOAL
    # Visual only (sites never collide): a disc of the success radius (0.15 m) and an arrow
    # along the goal heading (where the seat should face).
    world.add_site(
        name=GOAL_SITE, type=_CYLINDER, size=[0.15, 0.002, 0], pos=[gx, gy, 0.002],
        quat=_yaw_quat(gyaw), rgba=[0.1, 0.8, 0.2, 0.5],
    )  # fmt: skip
    c, s = math.cos(gyaw), math.sin(gyaw)
    world.add_site(
        name="goal_heading", type=_BOX, size=[0.12, 0.015, 0.003],
        pos=[gx + 0.12 * c, gy + 0.12 * s, 0.004], quat=_yaw_quat(gyaw), rgba=[0.1, 0.6, 0.2, 0.8],
    )  # fmt: skip


def _without_self_collision(spec: mujoco.MjSpec) -> None:
    """Let Spot's links collide with everything but each other (``_SPOT_BITS``)."""
    spot = {geom.name for geom in spec.body(SPOT_ROOT_BODY).find_all(mujoco.mjtObj.mjOBJ_GEOM)}
    for geom in spec.geoms:
        if geom.contype or geom.conaffinity:
            geom.contype, geom.conaffinity = _SPOT_BITS if geom.name in spot else _OTHER_BITS


def build_chair_spec(world: str | SpotWorld = DEFAULT_WORLD) -> mujoco.MjSpec:
    """The uncompiled world (Spot from ``load_spot_spec("spot_primitive")`` + the rest),
    simulated as the preset ``world`` says (``spot.worlds``)."""
    settings = spot_world(world)
    spec = load_spot_spec("spot_primitive")
    spec.modelname = "spot_chair"
    settings.apply_options(spec)
    body = spec.worldbody
    _add_chair(body, settings.casters)
    _add_obstacle_and_goal(body)
    if not settings.self_collision:
        _without_self_collision(spec)
    if not settings.joint_friction:
        for joint in spec.body(SPOT_ROOT_BODY).find_all(mujoco.mjtObj.mjOBJ_JOINT):
            joint.frictionloss = 0.0
    return spec


def check_chair_layout(model: mujoco.MjModel) -> None:
    """Fail unless Spot comes first and the chair's free joint sits where the constants say."""
    check_spot_layout(model)
    joint = model.joint(CHAIR_JOINT)
    if (int(joint.qposadr[0]), int(joint.dofadr[0])) != (CHAIR_QPOS_ADR, CHAIR_QVEL_ADR):
        raise ConfigError(
            f"chair joint at qpos {joint.qposadr[0]}, qvel {joint.dofadr[0]}; expected "
            f"{CHAIR_QPOS_ADR}, {CHAIR_QVEL_ADR}"
        )


def build_chair_world(world: str | SpotWorld = DEFAULT_WORLD) -> mujoco.MjModel:
    """The compiled, checked chair-push world, simulated as the preset ``world`` says.

    ``model.qpos0`` has the chair at its nominal start but Spot at judo's MJCF pose (not a
    standing one): start episodes from ``initial_qpos``.
    """
    model = build_chair_spec(world).compile()
    check_chair_layout(model)
    return model


def initial_qpos(model: mujoco.MjModel, rng: np.random.Generator,
                 chair_start_y: float = CHAIR_START_JITTER[1]) -> np.ndarray:
    """A start: robot and chair on the far side of the obstacle, jittered by ``rng``.

    Robot: standing (``standing_qpos``, the unstowed arm with the gripper closed, i.e. the
    arm of the default action config's safe command) at ``ROBOT_START`` +- uniform
    ``ROBOT_START_JITTER``, shifted sideways by the chair's lateral offset so that it
    starts behind the chair. Chair: upright on its casters at ``CHAIR_START`` +- uniform
    ``CHAIR_START_JITTER``, its lateral half-range replaced by ``chair_start_y`` (data
    collection narrows it to the starts in front of the obstacle's cup, |y| < 1, where
    planning is hard; the same draws are scaled, so a start keeps its place in the
    stream); casters at rest. Same generator state, same qpos.
    """
    jitter = np.array(CHAIR_START_JITTER, dtype=np.float64)
    jitter[1] = chair_start_y
    robot = np.asarray(ROBOT_START) + rng.uniform(-1.0, 1.0, 3) * np.asarray(ROBOT_START_JITTER)
    chair = np.asarray(CHAIR_START) + rng.uniform(-1.0, 1.0, 3) * jitter
    robot[1] += chair[1] - CHAIR_START[1]
    qpos = standing_qpos(model, xy=robot[:2], arm=UNSTOWED_ARM_POSE)
    qpos[3:7] = _yaw_quat(robot[2])
    adr = CHAIR_QPOS_ADR
    qpos[adr : adr + 3] = (chair[0], chair[1], 0.0)
    qpos[adr + 3 : adr + 7] = _yaw_quat(chair[2])
    qpos[adr + 7 :] = model.qpos0[adr + 7 :]  # caster balls: identity quaternions
    return qpos


def convert_state(state: np.ndarray, source: mujoco.MjModel, target: mujoco.MjModel) -> np.ndarray:
    """A task state (``SpotStateLayout``) of chair world ``source`` in ``target``'s layout.

    Worlds (``spot.worlds``) share Spot's and the chair's free joints, which come first;
    they may differ in the casters' ball joints after them. Those are dropped or, where the
    target has them and the source not, put at their model pose and at rest (as the state
    estimate does: mocap does not see them). Same layouts: the state itself, as a copy.
    """
    src, dst = SpotStateLayout.of(source), SpotStateLayout.of(target)
    state = np.asarray(state, dtype=np.float64)
    if (src.nq, src.nv) == (dst.nq, dst.nv):
        return state.copy()
    out = np.zeros(state.shape[:-1] + (dst.size,))
    dst.time(out)[...] = src.time(state)
    nq, nv = CHAIR_QPOS_ADR + 7, CHAIR_QVEL_ADR + 6  # through the chair's free joint
    dst.qpos(out)[..., :nq] = src.qpos(state)[..., :nq]
    dst.qpos(out)[..., nq:] = target.qpos0[nq:]
    dst.qvel(out)[..., :nv] = src.qvel(state)[..., :nv]
    dst.prev_out(out)[...] = src.prev_out(state)
    return out


def chair_pose_from_qpos(qpos: np.ndarray) -> np.ndarray:
    """Chair [x, y, yaw] (..., 3) from chair-world qpos (..., nq); yaw = seat heading."""
    chair = np.asarray(qpos, dtype=np.float64)[..., CHAIR_QPOS_ADR : CHAIR_QPOS_ADR + 7]
    return np.concatenate([chair[..., 0:2], yaw_from_quat(chair[..., 3:7])[..., None]], axis=-1)


def chair_tilt_from_qpos(qpos: np.ndarray) -> np.ndarray:
    """Angle (rad, 0..pi) between the chair's up axis and the vertical, (...,)."""
    quat = np.asarray(qpos, dtype=np.float64)[..., CHAIR_QPOS_ADR + 3 : CHAIR_QPOS_ADR + 7]
    quat = quat / np.linalg.norm(quat, axis=-1, keepdims=True)
    _, x, y, _ = np.moveaxis(quat, -1, 0)
    up_z = 1.0 - 2.0 * (x * x + y * y)  # z component of the body z axis in the world
    return np.arccos(np.clip(up_z, -1.0, 1.0))


def _check_chair_joint(model: mujoco.MjModel) -> None:
    """Cheap guard for the per-call readers: ``model`` is a chair world (one name lookup)."""
    try:
        adr = int(model.joint(CHAIR_JOINT).qposadr[0])
    except KeyError:
        adr = -1
    if adr != CHAIR_QPOS_ADR:
        raise ConfigError(f"not a chair world: no {CHAIR_JOINT!r} at qpos {CHAIR_QPOS_ADR}")


def chair_pose(model: mujoco.MjModel, data: mujoco.MjData) -> np.ndarray:
    """The chair's world-frame [x, y, yaw] in ``data`` (read from qpos: no forward needed)."""
    _check_chair_joint(model)
    return chair_pose_from_qpos(data.qpos)


def chair_tilt(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """The chair's tilt from upright in ``data`` (rad)."""
    _check_chair_joint(model)
    return float(chair_tilt_from_qpos(data.qpos))


def chair_tipped(
    model: mujoco.MjModel, data: mujoco.MjData, threshold: float = CHAIR_TIP_ANGLE
) -> bool:
    """Whether the chair in ``data`` is tilted beyond ``threshold`` (45 deg): fallen over."""
    return chair_tilt(model, data) > threshold
