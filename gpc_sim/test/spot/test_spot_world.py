"""The Spot chair-push world: chair physics (rest, rolling, tipping), layout, starts, Spot.

Each simulation is at most 3 s of sim time on the chair world (~70 us per physics step).
Chair-only tests park the robot far away, holding its standing joint targets.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.spot.action import base_pose_from_qpos, hold_target, targets_to_command
from gpc_sim.spot.assets import spot_model
from gpc_sim.spot.constants import (
    CHAIR_BASE_RADIUS,
    CHAIR_CASTER_RADIUS,
    CHAIR_GOAL,
    CHAIR_MASS,
    CHAIR_START,
    CHAIR_START_JITTER,
    COMMAND_DT,
    OBSTACLE_BOXES,
    ROBOT_START,
    ROBOT_START_JITTER,
    STANDING_LEG_POSE,
    UNSTOWED_ARM_POSE,
)
from gpc_sim.spot.policy import policy_step, standing_qpos
from gpc_sim.spot.world import (
    CHAIR_BODY,
    GOAL_SITE,
    build_chair_spec,
    build_chair_world,
    chair_pose,
    chair_pose_from_qpos,
    chair_tilt,
    chair_tilt_from_qpos,
    chair_tipped,
    initial_qpos,
)

CHAIR_REACH = CHAIR_BASE_RADIUS + CHAIR_CASTER_RADIUS  # footprint radius of the chair
FREE_XY = (-3.0, 3.5)  # open floor, away from the obstacle and the robot's start
BACKREST_TOP = (-0.23, 0.0, 0.95)  # chair frame
SEAT_CENTRE = (0.02, 0.0, 0.445)
COLUMN_LOW = (0.0, 0.0, 0.25)


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return build_chair_world()


def yaw_quat(yaw: float) -> list[float]:
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


def chair_only(model, xy=FREE_XY, yaw: float = 0.0) -> mujoco.MjData:
    """The chair at rest at ``xy``; Spot parked at (-6, -4), stiffly holding its pose."""
    data = mujoco.MjData(model)
    data.qpos[:] = standing_qpos(model, xy=(-6.0, -4.0), arm=UNSTOWED_ARM_POSE)
    data.qpos[26:29] = (*xy, 0.0)
    data.qpos[29:33] = yaw_quat(yaw)
    data.ctrl[:] = STANDING_LEG_POSE + UNSTOWED_ARM_POSE
    mujoco.mj_forward(model, data)
    return data


def push(model, data, force, point, seconds: float, then: float = 0.0) -> float:
    """Apply world-frame ``force`` (N) at chair-frame ``point`` for ``seconds``, then let go
    for ``then`` s. Returns the largest tilt seen (rad)."""
    chair = model.body(CHAIR_BODY).id
    max_tilt = 0.0
    for k in range(round((seconds + then) / model.opt.timestep)):
        data.qfrc_applied[:] = 0.0
        if k * model.opt.timestep < seconds:
            mujoco.mj_kinematics(model, data)
            at = data.xpos[chair] + data.xmat[chair].reshape(3, 3) @ np.asarray(point)
            force_ = np.asarray(force, dtype=float)
            mujoco.mj_applyFT(model, data, force_, np.zeros(3), at, chair, data.qfrc_applied)
        mujoco.mj_step(model, data)
        max_tilt = max(max_tilt, chair_tilt(model, data))
    return max_tilt


# --- the model --------------------------------------------------------------------------


def test_world_compiles_with_spot_first_and_named_parts(model):
    assert model.opt.timestep == spot_model().opt.timestep
    # Spot's 26 qpos first, then the chair's free joint and 5 caster balls.
    assert (model.nq, model.nv) == (26 + 7 + 5 * 4, 25 + 6 + 5 * 3)
    np.testing.assert_array_equal(model.actuator_trnid[:, 0], np.arange(1, 20))
    assert model.joint(20).name == "chair_joint" and model.jnt_qposadr[20] == 26
    balls = [j for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_BALL]
    assert len(balls) == 5
    assert model.geom("ground").type == mujoco.mjtGeom.mjGEOM_PLANE  # the floor
    # The goal is a site (never collides) at the goal pose.
    goal = model.site(GOAL_SITE)
    np.testing.assert_allclose(goal.pos[:2], CHAIR_GOAL[:2])
    assert yaw_of(goal.quat) == pytest.approx(CHAIR_GOAL[2])
    # The obstacle is static: welded to the world, three boxes.
    obstacle = model.body("obstacle").id
    assert model.body_weldid[obstacle] == 0
    assert [model.geom(n).type for n, _, _ in OBSTACLE_BOXES] == [mujoco.mjtGeom.mjGEOM_BOX] * 3
    assert build_chair_spec().body(CHAIR_BODY) is not None


def yaw_of(quat) -> float:
    w, x, y, z = quat
    return math.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def test_chair_mass_and_dimensions_are_an_office_chairs(model):
    chair = model.body(CHAIR_BODY).id
    assert model.body_subtreemass[chair] == pytest.approx(CHAIR_MASS)
    assert 10.0 <= CHAIR_MASS <= 15.0
    data = chair_only(model)
    geoms = [g for g in range(model.ngeom) if model.geom_bodyid[g] == chair]
    names = {model.geom(g).name: g for g in geoms}
    seat = names["chair_seat"]
    seat_top = data.geom_xpos[seat][2] + model.geom_size[seat][2]
    assert 0.45 <= seat_top <= 0.50
    back = names["chair_back"]
    assert data.geom_xpos[back][2] + model.geom_size[back][2] > 0.9
    # Five legs reaching the casters; centre of mass low enough to stand, high enough to tip.
    assert sum(n.startswith("chair_leg") for n in names) == 5
    assert 0.3 < data.subtree_com[chair][2] < 0.45


# --- chair physics ----------------------------------------------------------------------


def test_chair_at_rest_stays_upright_and_still(model):
    data = chair_only(model, yaw=0.4)
    start = data.qpos[26:29].copy()
    tilt = push(model, data, (0, 0, 0), (0, 0, 0), 0.0, then=2.0)
    assert np.linalg.norm(data.qpos[26:29] - start) < 0.01
    assert tilt < math.radians(1.0)
    assert np.abs(data.qvel[25:31]).max() < 1e-3
    assert not chair_tipped(model, data)


@pytest.mark.parametrize("direction_deg", [0.0, 90.0, 180.0, 225.0])
def test_a_horizontal_push_on_the_seat_rolls_the_chair(model, direction_deg):
    data = chair_only(model)
    start = chair_pose(model, data)
    angle = math.radians(direction_deg)
    force = 20.0 * np.array([math.cos(angle), math.sin(angle), 0.0])
    tilt = push(model, data, force, SEAT_CENTRE, 1.0)
    moved = chair_pose(model, data)[:2] - start[:2]
    assert np.linalg.norm(moved) > 0.10  # measured ~0.58 m
    assert np.dot(moved, force[:2]) > 0.9 * np.linalg.norm(moved) * 20.0  # along the force
    assert tilt < math.radians(3.0)  # rolls, does not rock
    assert not chair_tipped(model, data)


def test_a_hard_push_high_on_the_backrest_tips_it_the_same_push_low_does_not(model):
    force = (-100.0, 0.0, 0.0)  # into the backrest from the seat side, 0.3 s
    high = chair_only(model)
    assert not chair_tipped(model, high)
    push(model, high, force, BACKREST_TOP, 0.3, then=1.7)
    assert chair_tipped(model, high)
    assert chair_tilt(model, high) > math.radians(70.0)  # lying on its back
    low = chair_only(model)
    tilt = push(model, low, force, COLUMN_LOW, 0.3, then=1.7)
    assert tilt < math.radians(5.0) and not chair_tipped(model, low)
    assert np.linalg.norm(low.qpos[26:28] - FREE_XY) > 0.5  # it rolled instead


def test_tilt_and_pose_readers():
    qpos = np.zeros((4, 53))
    qpos[:, 26:29] = [[1.0, 2.0, 0.0]] * 4
    tilts = [0.0, 0.3, math.pi / 2, math.pi]
    for i, tilt in enumerate(tilts):  # yaw 0.5, then a tilt about the chair's own x axis
        yaw, roll = np.empty(4), np.empty(4)
        mujoco.mju_axisAngle2Quat(yaw, [0, 0, 1], 0.5)
        mujoco.mju_axisAngle2Quat(roll, [1, 0, 0], tilt)
        mujoco.mju_mulQuat(qpos[i, 29:33], yaw, roll)
    np.testing.assert_allclose(chair_tilt_from_qpos(qpos), tilts, atol=1e-7)
    poses = chair_pose_from_qpos(qpos.reshape(2, 2, 53))
    assert poses.shape == (2, 2, 3)
    np.testing.assert_allclose(poses[0, 0], [1.0, 2.0, 0.5])
    np.testing.assert_allclose(poses[0, 1], [1.0, 2.0, 0.5])  # a roll keeps the heading


def test_readers_reject_a_model_without_the_chair():
    spot = spot_model()
    with pytest.raises(ConfigError, match="not a chair world"):
        chair_pose(spot, mujoco.MjData(spot))


# --- layout -----------------------------------------------------------------------------


def segment_hits_box(a, b, lo, hi) -> bool:
    """Whether the 2-D segment a-b meets the axis-aligned rectangle [lo, hi] (slab test)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    t0, t1 = 0.0, 1.0
    for k in range(2):
        d = b[k] - a[k]
        if abs(d) < 1e-12:
            if not lo[k] <= a[k] <= hi[k]:
                return False
            continue
        ta, tb = sorted(((lo[k] - a[k]) / d, (hi[k] - a[k]) / d))
        t0, t1 = max(t0, ta), min(t1, tb)
    return t0 <= t1


def boxes_2d(inflate: float = 0.0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return {
        name: (np.array(c[:2]) - h[:2] - inflate, np.array(c[:2]) + h[:2] + inflate)
        for name, c, h in OBSTACLE_BOXES
    }


def test_straight_line_from_any_start_to_the_goal_runs_into_the_obstacle():
    boxes = boxes_2d()
    back_lo, back_hi = boxes["obstacle_back"]
    goal = np.array(CHAIR_GOAL[:2])
    # The goal lies behind the back wall with room for the chair; starts lie in front.
    assert goal[0] - CHAIR_REACH > back_hi[0]
    centre = np.array(CHAIR_START[:2])
    corners = [centre + np.array([sx, sy]) * CHAIR_START_JITTER[:2]
               for sx in (-1, 1) for sy in (-1, 1)]
    for start in [centre, *corners]:
        # The chair's centre line meets the back wall: no start sees the goal.
        assert segment_hits_box(start, goal, back_lo, back_hi)
        # The start itself is clear of the obstacle and outside the cup.
        for lo, hi in boxes_2d(inflate=CHAIR_REACH).values():
            assert not (np.all(start >= lo) and np.all(start <= hi))
        assert start[0] + CHAIR_REACH < boxes["obstacle_left"][0][0]
    # From the middle, the chair's whole width fits between the arms: it enters the cup
    # (the deepest local minimum) rather than glancing off an arm's end ...
    for side in (-1.0, 1.0):
        offset = np.array([0.0, side * CHAIR_REACH])
        for arm in ("obstacle_left", "obstacle_right"):
            lo, hi = boxes[arm]
            assert not segment_hits_box(centre + offset, goal + offset, lo, hi)
    # ... and from the widest starts, beyond the cup's outer edge, it catches on an arm's
    # end: its inner edge passes inside the arm, its centre line outside.
    for sy in (-1, 1):
        start = centre + np.array([0.0, sy * CHAIR_START_JITTER[1]])
        arm_lo, arm_hi = boxes["obstacle_left" if sy > 0 else "obstacle_right"]
        inner_face, outer_face = sorted((abs(arm_lo[1]), abs(arm_hi[1])))
        end = arm_lo[0]  # the arm's end face, towards the start
        at_end = start + (goal - start) * (end - start[0]) / (goal[0] - start[0])
        assert abs(at_end[1]) > outer_face
        assert abs(at_end[1]) - CHAIR_REACH < inner_face


def test_pushing_the_chair_straight_at_the_goal_stops_at_the_wall(model):
    data = chair_only(model, xy=CHAIR_START[:2], yaw=CHAIR_START[2])
    push(model, data, (40.0, 0.0, 0.0), COLUMN_LOW, 3.0)
    x, y, _ = chair_pose(model, data)
    wall_face = boxes_2d()["obstacle_back"][0][0]
    assert x == pytest.approx(wall_face - CHAIR_REACH, abs=0.03)  # against the wall
    assert abs(y) < 0.1 and not chair_tipped(model, data)


def test_initial_states_are_seeded_and_clear(model):
    a = initial_qpos(model, np.random.default_rng(5))
    b = initial_qpos(model, np.random.default_rng(5))
    c = initial_qpos(model, np.random.default_rng(6))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a[:3], c[:3]) and not np.allclose(a[26:33], c[26:33])
    for seed in range(20):
        qpos = initial_qpos(model, np.random.default_rng(seed))
        robot = base_pose_from_qpos(qpos)
        chair = chair_pose_from_qpos(qpos)
        assert np.all(np.abs(chair - CHAIR_START) <= CHAIR_START_JITTER)
        behind = np.asarray(ROBOT_START) + [0.0, chair[1] - CHAIR_START[1], 0.0]
        assert np.all(np.abs(robot - behind) <= ROBOT_START_JITTER)
        assert chair_tilt_from_qpos(qpos) == pytest.approx(0.0, abs=1e-12)
        np.testing.assert_array_equal(qpos[7:26], STANDING_LEG_POSE + UNSTOWED_ARM_POSE)
        # Nothing touches but feet and casters on the floor: no robot-chair, no obstacle.
        data = mujoco.MjData(model)
        data.qpos[:] = qpos
        mujoco.mj_forward(model, data)
        ground = model.geom("ground").id
        for con in data.contact[: data.ncon]:
            assert ground in (con.geom1, con.geom2), (
                model.geom(con.geom1).name,
                model.geom(con.geom2).name,
            )


def test_spot_stands_with_the_policy_in_the_world(model):
    data = mujoco.MjData(model)
    data.qpos[:] = initial_qpos(model, np.random.default_rng(1))
    mujoco.mj_forward(model, data)
    start = base_pose_from_qpos(data.qpos)
    chair_start = chair_pose(model, data)
    target = hold_target(start)
    prev = np.zeros(12, dtype=np.float32)
    lowest = np.inf
    for _ in range(round(3.0 / COMMAND_DT)):
        command = targets_to_command(target, base_pose_from_qpos(data.qpos))
        prev = policy_step(model, data, command, prev)
        lowest = min(lowest, data.qpos[2])
    assert lowest > 0.35  # measured ~0.47 m
    assert np.linalg.norm(base_pose_from_qpos(data.qpos)[:2] - start[:2]) < 0.1
    np.testing.assert_allclose(chair_pose(model, data)[:2], chair_start[:2], atol=0.01)
