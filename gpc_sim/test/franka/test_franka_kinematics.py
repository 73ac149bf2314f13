"""franka_obstacles geometry: FK against MuJoCo, capsules that enclose the meshes, and the
pole and floor tests against brute force over dense points along the links."""

import importlib.util

import mujoco
import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.franka import constants as C
from gpc_sim.franka import kinematics as K


@pytest.fixture(scope="module")
def kin():
    return K.FrankaKinematics()


def random_configurations(n, seed=0):
    return np.random.default_rng(seed).uniform(C.JOINT_LOW, C.JOINT_HIGH, (n, 7))


def test_model_layout_matches_the_documented_constants(kin):
    model = kin.model
    names = tuple(model.joint(i).name for i in range(7))
    assert names == C.JOINT_NAMES
    np.testing.assert_array_equal(model.jnt_range[:7, 0], C.JOINT_LOW)
    np.testing.assert_array_equal(model.jnt_range[:7, 1], C.JOINT_HIGH)
    # The start is the ready pose: hand straight down, in front of the robot.
    ee = kin.end_effector(np.array(C.START_POSE))
    np.testing.assert_allclose(ee, [0.307, 0.0, 0.487], atol=1e-3)


def test_forward_kinematics_matches_mj_kinematics(kin):
    model = kin.model
    data = mujoco.MjData(model)
    ids = [model.body(name).id for name in C.CHAIN_BODIES]
    site = model.site(C.END_EFFECTOR_SITE).id
    q = random_configurations(40)
    q[:5] *= 1.5  # FK does not care about the limits
    pos, rot = kin.chain(q)
    ee = kin.end_effector(q)
    assert pos.shape == (40, 8, 3) and rot.shape == (40, 8, 3, 3) and ee.shape == (40, 3)
    for i in range(len(q)):
        data.qpos[:7] = q[i]
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(pos[i], data.xpos[ids], atol=1e-6)
        np.testing.assert_allclose(rot[i], data.xmat[ids].reshape(-1, 3, 3), atol=1e-6)
        np.testing.assert_allclose(ee[i], data.site_xpos[site], atol=1e-6)
    # Batched over (samples, time) as the rollouts are.
    np.testing.assert_allclose(kin.end_effector(q.reshape(8, 5, 7)), ee.reshape(8, 5, 3))


def test_a_hinge_off_its_axis_and_off_its_origin_is_followed_too():
    """The FK's general path (a hinge not along z, not at the body's origin), which the
    Panda does not use, against MuJoCo on a small chain."""
    model = mujoco.MjModel.from_xml_string("""
    <mujoco><worldbody><body name="b0" pos="0.1 0.2 0.3" euler="0.3 0.2 0.1">
      <body name="b1" pos="0 0 0.2" euler="0.5 0 0">
        <joint type="hinge" axis="1 1 0" pos="0.05 0 0.1"/><geom size="0.1"/>
        <body name="b2" pos="0.3 0 0"><joint type="hinge" axis="0 0 1"/><geom size="0.1"/>
          <site name="tip" pos="0.1 0.2 0"/></body></body></body></worldbody></mujoco>""")
    chain = K.ChainKinematics(model, ("b0", "b1", "b2"), "tip")
    data = mujoco.MjData(model)
    q = np.random.default_rng(1).uniform(-3, 3, (10, 2))
    pos, rot = chain(q)
    for i in range(10):
        data.qpos[:] = q[i]
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(pos[i], data.xpos[1:], atol=1e-9)
        np.testing.assert_allclose(rot[i], data.xmat[1:].reshape(-1, 3, 3), atol=1e-9)


def test_each_capsule_encloses_its_collision_geometry(kin):
    """Every vertex of each link's collision mesh lies inside that link's capsule: a capsule
    clear of the pole means the mesh is clear too."""
    model = kin.model
    caps = kin.capsules
    assert caps.names[-1] == "fingers" and len(caps.names) == 10
    for k, name in enumerate(caps.names[:-1]):
        mesh = model.mesh(name).id
        g = int(np.flatnonzero(model.geom_dataid == mesh)[0])
        start = model.mesh_vertadr[mesh]
        verts = model.mesh_vert[start : start + model.mesh_vertnum[mesh]]
        points = verts @ K._mat(model.geom_quat[g]).T + model.geom_pos[g]
        assert model.body(int(model.geom_bodyid[g])).name == C.CHAIN_BODIES[caps.body[k]]
        dist = segment_distance(points, caps.a[k], caps.b[k])
        assert dist.max() <= caps.radius[k] + 1e-9, name
        assert dist.max() >= caps.radius[k] - 1e-6, name  # and is no larger than needed
    assert 0.02 < caps.radius[-1] < 0.05


def segment_distance(points, a, b):
    ab = b - a
    t = np.clip((points - a) @ ab / max(ab @ ab, 1e-300), 0.0, 1.0)
    return np.linalg.norm(points - (a + t[:, None] * ab), axis=-1)


# --- pole and floor against brute force ----------------------------------------------------

DENSE = 2001  # points along each capsule's segment (odd: the midpoint is one of them)


def brute_pole_distance(a, b, pole):
    """Smallest Euclidean distance (..., K) from dense points of the segments to the solid
    pole (below its top; below the floor is the floor's business)."""
    t = np.linspace(0.0, 1.0, DENSE)[:, None]
    points = a[..., None, :] + t * (b - a)[..., None, :]  # (..., K, DENSE, 3)
    pole = pole[..., None, None, :]
    rho = np.linalg.norm(points[..., :2] - pole[..., :2], axis=-1)
    out = np.maximum(rho - pole[..., 2], 0.0)
    up = np.maximum(points[..., 2] - pole[..., 3], 0.0)
    return np.sqrt(out * out + up * up).min(axis=-1)


def test_pole_test_is_exact_for_contacts_placed_on_the_pole_side(kin):
    """A tall pole placed just short of and just beyond touching a capsule at its middle:
    the test flips exactly there, as brute force does."""
    radius = kin.capsules.radius
    for q in random_configurations(12, seed=2):
        _, a, b = kin.geometry(q)
        for k in range(len(radius)):
            mid = 0.5 * (a[k] + b[k])
            way = b[k, :2] - a[k, :2]
            side = (np.array([-way[1], way[0]]) / np.linalg.norm(way)
                    if np.linalg.norm(way) > 1e-9 else np.array([1.0, 0.0]))
            for delta, touching in ((-1e-4, True), (1e-4, False)):
                centre = mid[:2] + (0.05 + radius[k] + delta) * side
                pole = np.array([*centre, 0.05, 3.0])
                gap = K.pole_gaps(a, b, radius, pole)[k]
                assert gap == pytest.approx(delta, abs=1e-9)
                brute = brute_pole_distance(a[k], b[k], pole)
                assert (brute < radius[k]) == touching
                assert (gap < 0) == touching


def test_pole_test_against_brute_force_on_random_arms_and_poles(kin):
    """Random arms against random short poles, where the top matters: every brute-force
    contact is found, and a contact found is within sqrt(2) x the capsule's radius of the
    pole (the top-rim bound of ``pole_gaps``); most agree outright."""
    rng = np.random.default_rng(3)
    n = 400
    _, a, b = kin.geometry(random_configurations(n, seed=4))
    radius = kin.capsules.radius
    near = rng.integers(2, len(radius), n)  # a pole near a random moving link
    centre = 0.5 * (a + b)[np.arange(n), near, :2] + rng.uniform(-0.15, 0.15, (n, 2))
    poles = np.column_stack([centre, rng.uniform(0.03, 0.1, n), rng.uniform(0.1, 0.9, n)])
    ours = K.pole_gaps(a, b, radius, poles) < 0
    brute = brute_pole_distance(a, b, poles)
    spacing = np.linalg.norm(b - a, axis=-1) / (DENSE - 1)
    assert ours[brute < radius].all()
    assert (brute[ours] < np.sqrt(2) * np.broadcast_to(radius, ours.shape)[ours]
            + spacing[ours]).all()
    assert 0.2 < ours.any(axis=1).mean() < 0.8  # the sample tests both sides
    assert (ours.any(axis=1) == (brute < radius).any(axis=1)).mean() > 0.95


def test_pole_gaps_are_horizontal_distances_below_the_top():
    a = np.array([[0.0, 0.0, 0.2]])
    b = np.array([[0.0, 0.0, 0.8]])  # a vertical segment from 0.2 to 0.8 m
    r = np.array([0.05])
    assert K.pole_gaps(a, b, r, np.array([0.3, 0.0, 0.1, 1.0]))[0] == pytest.approx(0.15)
    assert K.pole_gaps(a, b, r, np.array([0.3, 0.0, 0.1, 0.3]))[0] == pytest.approx(0.15)
    # Over a short pole: the capsule's lowest point (0.15 m) is just below or above its top.
    assert K.pole_gaps(a, b, r, np.array([0.1, 0.0, 0.1, 0.16]))[0] < 0
    assert K.pole_gaps(a, b, r, np.array([0.1, 0.0, 0.1, 0.14]))[0] == np.inf
    # A slanted segment: only its part below the top counts.
    a2, b2 = np.array([[0.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 1.0]])
    gap = K.pole_gaps(a2, b2, r, np.array([0.9, 0.0, 0.05, 0.45]))[0]
    assert gap == pytest.approx(0.9 - 0.5 - 0.05 - 0.05)


def test_floor_test_against_brute_force(kin):
    _, a, b = kin.geometry(random_configurations(200, seed=5))
    radius = kin.capsules.radius
    t = np.linspace(0.0, 1.0, DENSE)[:, None]
    lowest = (a[..., None, 2] + t[:, 0] * (b - a)[..., None, 2]).min(axis=-1) - radius
    np.testing.assert_allclose(K.floor_gaps(a, b, radius), lowest, atol=1e-12)
    assert (lowest < 0).any() and (lowest > 0).any()


def test_missing_asset_package_is_a_one_line_config_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None
                        if name == "gymnasium_robotics" else real(name, *args))
    for call in (K.franka_assets_dir, K.load_franka_spec):
        with pytest.raises(ConfigError, match="gymnasium-robotics is not installed") as err:
            call()
        assert "bash scripts/setup.sh" in str(err.value) and "\n" not in str(err.value)


def test_the_asset_package_is_read_not_imported():
    K.load_franka_spec()
    import sys

    assert "gymnasium_robotics" not in sys.modules
