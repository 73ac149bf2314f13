"""TF frames and robot shapes from a MuJoCo model and state, without DDS: the edges compose
to MuJoCo's own world poses, map -> body and map -> chair are the ground truth's poses, the
frames carry spot_ros2's names (with a prefix for Spot only), fixed bodies are static, and
every geom becomes shapes on its body's frame."""

from __future__ import annotations

import math

import mujoco
import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.ros.model_shapes import BOX, CYLINDER, SPHERE, model_shapes
from gpc_sim.ros.tf_frames import FrameTree, quat_multiply
from gpc_sim.spot.action import yaw_from_quat
from gpc_sim.spot.constants import TORSO_BODY
from gpc_sim.spot.simulation import ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY
from gpc_sim.tasks import make_task

# spot_ros2's link names (spot_description), which judo's MuJoCo bodies carry.
SPOT_LINKS = ("body", *(f"{leg}_{part}" for leg in ("front_left", "front_right", "rear_left",
                                                      "rear_right")
                        for part in ("hip", "upper_leg", "lower_leg")),
              *(f"arm_link_{link}" for link in ("sh0", "sh1", "el0", "el1", "wr0", "wr1",
                                                "fngr")))


@pytest.fixture(scope="module")
def sim() -> ChairPushSimulation:
    """A walking robot with its arm away from the default pose: every joint off zero."""
    sim = ChairPushSimulation(make_task("spot_chair", nthread=1), 0, 3)
    sim.command(np.array([0.4, 0.1, 0.3]), np.array([0.3, -1.1, 1.5, 0.2, -0.6, 0.4]), 10.0)
    for _ in range(25):
        sim.step()
    return sim


def world_poses(tree: FrameTree, edges) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Each frame's pose in the world frame, by composing the edges from it."""
    poses = {tree.world_frame: (np.zeros(3), np.array([1.0, 0.0, 0.0, 0.0]))}
    pending = list(edges)
    while pending:
        rest = []
        for e in pending:
            if e.parent not in poses:
                rest.append(e)
                continue
            p, q = poses[e.parent]
            moved = np.zeros(3)
            mujoco.mju_rotVecQuat(moved, np.array(e.translation), q)
            poses[e.child] = (p + moved, quat_multiply(q[None], np.array([e.rotation]))[0])
        assert len(rest) < len(pending), f"edges without a path to the world: {rest}"
        pending = rest
    return poses


def same_rotation(a: np.ndarray, b: np.ndarray) -> bool:
    return abs(abs(float(np.dot(a, b))) - 1.0) < 1e-9  # q and -q are one rotation


def test_frames_are_spot_ros2_links_the_chair_and_the_obstacle_with_a_prefix_for_spot(sim):
    tree = FrameTree(sim.model, "map", {TORSO_BODY: "spot1/"})
    assert tree.names[0] == "map"
    assert {f"spot1/{link}" for link in SPOT_LINKS} <= set(tree.names)
    assert {"chair", *(f"chair_caster{i}" for i in range(5)), "obstacle"} <= set(tree.names)
    assert len(tree.names) == sim.model.nbody
    parents = {e.child: e.parent for e in tree.transforms(sim.data.qpos)}
    assert parents["spot1/body"] == "map" and parents["chair"] == "map"
    assert parents["spot1/front_left_upper_leg"] == "spot1/front_left_hip"
    assert parents["spot1/arm_link_fngr"] == "spot1/arm_link_wr1"
    assert parents["chair_caster2"] == "chair"
    # The obstacle has no joint: one static edge, never among the moving ones.
    static = tree.static_transforms()
    assert [(e.parent, e.child) for e in static] == [("map", "obstacle")]
    obstacle = mujoco.mj_name2id(sim.model, mujoco.mjtObj.mjOBJ_BODY, "obstacle")
    np.testing.assert_allclose(static[0].translation, sim.model.body_pos[obstacle])
    assert "obstacle" not in parents


def test_the_edges_compose_to_mujocos_world_poses_of_every_body(sim):
    tree = FrameTree(sim.model, "map")
    data = mujoco.MjData(sim.model)
    data.qpos[:] = sim.data.qpos
    mujoco.mj_kinematics(sim.model, data)
    poses = world_poses(tree, tree.transforms(sim.data.qpos) + tree.static_transforms())
    assert set(poses) == set(tree.names)
    for body, name in enumerate(tree.names):
        position, rotation = poses[name]
        np.testing.assert_allclose(position, data.xpos[body], atol=1e-12, err_msg=name)
        assert same_rotation(rotation, data.xquat[body]), name


def test_map_to_body_and_map_to_chair_are_the_ground_truth(sim):
    edges = {e.child: e for e in FrameTree(sim.model, "map").transforms(sim.data.qpos)}
    truth = sim.truth()
    for frame, (x, y, yaw) in (("body", truth.torso), ("chair", truth.chair)):
        edge = edges[frame]
        assert edge.translation[:2] == pytest.approx((x, y), abs=1e-12)
        assert float(yaw_from_quat(np.array(edge.rotation))) == pytest.approx(yaw, abs=1e-9)
    assert edges["body"].translation[2] == pytest.approx(truth.torso_height, abs=1e-12)
    poses = sim.body_poses()  # what the mocap sees: the same instant, the same numbers
    np.testing.assert_allclose(edges["body"].translation, poses[TORSO_BODY][0], atol=1e-12)
    np.testing.assert_allclose(edges["chair"].translation, poses[CHAIR_BODY][0], atol=1e-12)


def test_a_joint_moves_only_its_own_edge(sim):
    tree = FrameTree(sim.model, "map")
    qpos = sim.data.qpos.copy()
    before = {e.child: e for e in tree.transforms(qpos)}
    joint = sim.model.joint("arm_el0")
    qpos[joint.qposadr[0]] += 0.3
    after = {e.child: e for e in tree.transforms(qpos)}
    changed = {name for name in before  # relative poses come out of world ones: round-off
               if not np.allclose(before[name].translation, after[name].translation,
                                  atol=1e-12)
               or not same_rotation(np.array(before[name].rotation),
                                    np.array(after[name].rotation))}
    assert changed == {"arm_link_el0"}
    # A hinge turns its body about the joint axis, here through the body's origin.
    turn = np.array([math.cos(0.15), *(math.sin(0.15) * joint.axis)])
    expected = quat_multiply(np.array([before["arm_link_el0"].rotation]), turn[None])[0]
    assert same_rotation(np.array(after["arm_link_el0"].rotation), expected)


@pytest.mark.parametrize("prefixes", [{TORSO_BODY: "/spot"}, {TORSO_BODY: "my spot/"},
                                      {"front_left_hip": "x/"}, {"nobody": "x/"}])
def test_frame_names_tf2_would_refuse_are_refused(sim, prefixes):
    with pytest.raises(ConfigError):
        FrameTree(sim.model, "map", prefixes)


def test_spot_and_the_chair_become_shapes_on_their_frames(sim):
    tree = FrameTree(sim.model, "map", {TORSO_BODY: "spot1/"})
    shapes = model_shapes(tree, {TORSO_BODY: "robot", CHAIR_BODY: "chair"})
    assert {s.group for s in shapes} == {"robot", "chair"}
    assert {s.frame for s in shapes} <= set(tree.names) - {"map", "obstacle"}
    assert {f"spot1/{link}" for link in SPOT_LINKS} - {s.frame for s in shapes} == {
        "spot1/front_left_hip", "spot1/front_right_hip", "spot1/rear_left_hip",
        "spot1/rear_right_hip"}  # the hips have no geom in the model
    m = sim.model
    robot = [g for g in range(m.ngeom) if m.body_rootid[m.geom_bodyid[g]] == 1]
    capsules = sum(m.geom_type[g] == mujoco.mjtGeom.mjGEOM_CAPSULE for g in robot)
    assert len([s for s in shapes if s.group == "robot"]) == len(robot) + 2 * capsules
    body = next(s for s in shapes if s.frame == "spot1/body")
    assert (body.kind, body.scale) == (BOX, pytest.approx((0.84, 0.22, 0.16)))
    assert all(min(s.scale) > 0.0 and 0.0 < s.rgba[3] <= 1.0 for s in shapes)


CAPSULE_AND_MESH = """
<mujoco>
  <asset>
    <mesh name="wedge" vertex="0 0 0  0.4 0 0  0 0.2 0  0 0 0.1"/>
  </asset>
  <worldbody>
    <geom name="floor" type="plane" size="5 5 0.1"/>
    <body name="base" pos="1 0 0.5">
      <freejoint/>
      <geom name="capsule" type="capsule" size="0.05 0.2" pos="0 0 0.1" rgba="1 0 0 1"/>
      <geom name="wedge" type="mesh" mesh="wedge" pos="0.3 0 0"/>
      <body name="plate" pos="0 0.1 0" quat="0.7071068 0.7071068 0 0">
        <geom name="ellipsoid" type="ellipsoid" size="0.1 0.05 0.02"/>
      </body>
    </body>
    <body name="target" mocap="true" pos="0 2 0">
      <geom type="cylinder" size="0.1 0.3"/>
    </body>
  </worldbody>
</mujoco>
"""


def test_capsules_meshes_ellipsoids_welded_and_mocap_bodies_of_any_model():
    model = mujoco.MjModel.from_xml_string(CAPSULE_AND_MESH)
    tree = FrameTree(model, "world")
    # The welded plate is static in its parent's frame; the mocap body moves.
    assert [(e.parent, e.child) for e in tree.static_transforms()] == [("base", "plate")]
    data = mujoco.MjData(model)
    data.mocap_pos[0] = (0.5, 2.5, 0.0)
    edges = {e.child: e for e in tree.transforms(data.qpos, data.mocap_pos, data.mocap_quat)}
    assert set(edges) == {"base", "target"}
    assert edges["target"].translation == pytest.approx((0.5, 2.5, 0.0))
    shapes = model_shapes(tree, {"base": "thing", "target": "target"})
    by_frame = {}
    for s in shapes:
        by_frame.setdefault(s.frame, []).append(s)
    # The capsule: a cylinder and two end spheres along its axis; the mesh: its bounding box.
    base = sorted(by_frame["base"], key=lambda s: (s.kind, s.position))
    assert [s.kind for s in base] == [BOX, CYLINDER, SPHERE, SPHERE]
    box, cylinder, low, high = base
    assert cylinder.scale == pytest.approx((0.1, 0.1, 0.4)) and cylinder.rgba == (1, 0, 0, 1)
    assert (low.position[2], high.position[2]) == pytest.approx((-0.1, 0.3))
    # MuJoCo turns a mesh geom's frame to the mesh's principal axes: the box is the bounding
    # box in that frame, and holds every vertex (placed at the geom's pos in the body).
    vertices = np.array([(0, 0, 0), (0.4, 0, 0), (0, 0.2, 0), (0, 0, 0.1)]) + (0.3, 0, 0)
    for v in vertices:
        inside = np.zeros(3)
        mujoco.mju_rotVecQuat(inside, v - np.array(box.position),
                              np.array(box.rotation) * (1, -1, -1, -1))
        assert np.all(np.abs(inside) <= np.array(box.scale) / 2 + 1e-9), v
    (ellipsoid,) = by_frame["plate"]
    assert (ellipsoid.kind, ellipsoid.scale) == (SPHERE, pytest.approx((0.2, 0.1, 0.04)))
    assert [s.kind for s in by_frame["target"]] == [CYLINDER]
    assert "world" not in by_frame  # the plane is left out
