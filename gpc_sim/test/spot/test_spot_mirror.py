"""The chair push's mirror symmetry (y -> -y): states, observations, targets and rollouts."""

import mujoco
import numpy as np
import pytest

from gpc_sim.spot.mirror import mirror_observation, mirror_targets
from gpc_sim.spot.simulation import ChairPushSimulation
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task

M = np.array([1.0, -1.0, 1.0])


def _partner(name: str) -> str:
    """The body a body's mirror image is: left and right swap, casters k and -k swap."""
    for a, b in (("front_left", "front_right"), ("rear_left", "rear_right")):
        if name.startswith(a):
            return b + name[len(a):]
        if name.startswith(b):
            return a + name[len(b):]
    if name.startswith("chair_caster"):
        return f"chair_caster{(-int(name[-1])) % 5}"
    return name


@pytest.fixture(scope="module")
def reflection(task):
    r = task.reflection()
    assert r is not None
    return r


def _moving_state(task, trial: int) -> np.ndarray:
    """A state in the middle of things: walking, arm off its rest pose, chair turned."""
    sim = ChairPushSimulation(task, 3, trial)
    sim.command(np.array([0.4, 0.3, 0.4]), sim.truth_arm() + [0.3, 0.1, -0.2, 0.5, 0.2, -0.4],
                expires_at=100.0)
    for _ in range(40):
        sim.step()
    return sim.state()


def test_the_mirror_is_an_involution_and_mirrors_the_observation(task, reflection):
    state = _moving_state(task, 1)
    twice = reflection.state(reflection.state(state))
    np.testing.assert_array_equal(twice, state)
    np.testing.assert_allclose(task.observation(reflection.state(state)),
                               mirror_observation(task.observation(state)), atol=1e-12)
    knots = np.random.default_rng(0).normal(size=(4, 9))
    np.testing.assert_array_equal(mirror_targets(mirror_targets(knots)), knots)


def test_every_body_lands_on_its_partners_mirror_image(task, reflection):
    """Forward kinematics: the signs and the swaps of every joint are right."""
    model = task.model
    state = _moving_state(task, 2)
    data, mirrored = mujoco.MjData(model), mujoco.MjData(model)
    nq = model.nq
    data.qpos[:] = task.layout.qpos(state)
    mirrored.qpos[:] = task.layout.qpos(reflection.state(state))[:nq]
    mujoco.mj_kinematics(model, data)
    mujoco.mj_kinematics(model, mirrored)
    for body in range(1, model.nbody):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, body)
        partner = model.body(_partner(name)).id
        np.testing.assert_allclose(mirrored.xpos[body], data.xpos[partner] * M, atol=1e-9,
                                   err_msg=name)


def test_a_mirrored_start_under_mirrored_targets_walks_the_mirrored_path(task, reflection):
    """The physics is symmetric; the locomotion policy, a trained network, only nearly: 2 s
    of walking and turning end within a few centimetres of the mirror image."""
    start = task.sample_initial_state(initial_state_rng(5, 0))
    torso = task.torso_pose(start)
    knots = np.array([[torso[0], torso[1], torso[2], *task.nominal_action(start)[3:]]] * 4)
    knots[1:, 0] += [0.3, 0.6, 0.8]  # forward
    knots[1:, 1] += [0.1, 0.3, 0.4]  # and to the left
    knots[1:, 2] += [0.2, 0.4, 0.5]  # turning left
    spline = np.linspace(0.0, 1.0, 100)[:, None]
    controls = np.concatenate([knots[0] + (knots[1] - knots[0]) * spline,
                               knots[1] + (knots[2] - knots[1]) * spline])[None]  # (1, 200, 9)
    states = task.rollout(start, controls).copy()
    mirrored = task.rollout(reflection.state(start), controls * reflection.action).copy()
    path = np.array([task.torso_pose(s) for s in states[0]])
    mirror_path = np.array([task.torso_pose(s) for s in mirrored[0]])
    assert np.linalg.norm(path[-1, :2] - path[0, :2]) > 0.3  # it walked
    np.testing.assert_allclose(mirror_path[:, :2], path[:, :2] * [1.0, -1.0], atol=0.05)
    np.testing.assert_allclose(mirror_path[:, 2], -path[:, 2], atol=0.05)
    chair = np.array([task.chair_pose(s) for s in states[0]])
    mirror_chair = np.array([task.chair_pose(s) for s in mirrored[0]])
    np.testing.assert_allclose(mirror_chair[:, :2], chair[:, :2] * [1.0, -1.0], atol=1e-3)


def test_an_off_axis_goal_claims_no_symmetry():
    assert make_task("spot_chair", nthread=1, goal=(1.2, 0.3, 0.0)).reflection() is None
    assert make_task("spot_chair", nthread=1, goal=(1.2, 0.0, 0.5)).reflection() is None
