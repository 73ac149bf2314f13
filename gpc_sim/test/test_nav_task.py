"""nav_dyn: the double integrator, noise in the plant only, collisions, seeded starts."""

import numpy as np
import pytest

from gpc_sim.nav import dynamics as D
from gpc_sim.nav.task import NavDynConfig, NavDynTask
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


@pytest.fixture(scope="module")
def task():
    return make_task("nav_dyn", nthread=1)


def world(robot=(0.0, 0.0), velocity=(0.0, 0.0), goal=(3.0, 3.0), obstacles=None):
    """A state by hand: robot, goal, and the 8 obstacles (default: far in a corner)."""
    if obstacles is None:
        obstacles = [(-4.5, -4.5)] * 8
    return np.concatenate([robot, velocity, goal, np.ravel(obstacles)]).astype(np.float64)


def test_the_double_integrator_is_exact_against_a_hand_computation(task):
    start = world(robot=(1.0, 2.0), velocity=(0.5, -1.0))
    accels = np.array([[[2.0, -1.0], [-1.0, 0.5]]])  # two steps of 0.1 s
    states = task.rollout(start, accels)
    # step 1: p = p0 + v0 dt + a dt^2 / 2, v = v0 + a dt
    np.testing.assert_allclose(states[0, 0, :4], [1.0 + 0.05 + 0.01, 2.0 - 0.1 - 0.005,
                                                  0.5 + 0.2, -1.0 - 0.1], atol=1e-12)
    # step 2 from there
    np.testing.assert_allclose(states[0, 1, :4], [1.06 + 0.07 - 0.005, 1.895 - 0.11 + 0.0025,
                                                  0.7 - 0.1, -1.1 + 0.05], atol=1e-12)
    np.testing.assert_array_equal(states[0, :, 4:], np.broadcast_to(start[4:], (2, 18)))


def test_controls_beyond_the_bounds_are_saturated_in_model_and_plant(task):
    start = world()
    states = task.rollout(start, np.array([[[10.0, -10.0]]]))
    np.testing.assert_allclose(states[0, 0, 2:4], [0.2, -0.2])  # 2 m/s^2 for 0.1 s
    quiet = NavDynTask(NavDynConfig(accel_noise=0.0, obstacle_noise=0.0))
    plant = quiet.make_plant(start)
    plant.step(np.array([10.0, -10.0]))
    np.testing.assert_allclose(plant.state(), states[0, 0])


def test_noise_is_in_the_plant_only(task):
    start = task.sample_initial_state(initial_state_rng(0, 0))
    controls = np.random.default_rng(1).uniform(-2, 2, (1, 30, 2))
    model = task.rollout(start, controls)
    np.testing.assert_array_equal(model, task.rollout(start, controls))  # deterministic
    np.testing.assert_array_equal(model[0, :, 4:], np.broadcast_to(start[4:], (30, 18)))

    def drive(t):
        plant = t.make_plant(start)
        out = []
        for u in controls[0]:
            plant.step(u)
            out.append(plant.state())
        return np.array(out)

    noisy = drive(task)
    assert not np.allclose(noisy[:, :4], model[0, :, :4])  # the accelerations were perturbed
    assert not np.allclose(noisy[:, 6:], start[6:])  # the obstacles moved
    np.testing.assert_array_equal(noisy, drive(task))  # the same start, the same noise
    quiet = NavDynTask(NavDynConfig(accel_noise=0.0, obstacle_noise=0.0))
    np.testing.assert_allclose(drive(quiet), model[0], atol=1e-12)  # noise is all it adds


def test_obstacles_random_walk_stays_in_the_map():
    rng = np.random.default_rng(0)
    obstacles = np.array([4.99, -4.99] * 8)
    for _ in range(50):
        obstacles = D.random_walk(obstacles, 0.5, 5.0, rng)
        assert np.all(np.abs(obstacles) <= 5.0)


def test_collisions_with_obstacles_and_walls(task):
    r = task.config.obstacle_radius
    obstacles = [(1.0, 1.0)] + [(-4.5, -4.5)] * 7
    inside = world(robot=(1.0 + 0.9 * r, 1.0), obstacles=obstacles)
    outside = world(robot=(1.0 + 1.1 * r, 1.0), obstacles=obstacles)
    beyond = world(robot=(5.2, 0.0))
    assert task.collided(inside) and task.failed(inside)
    assert not task.collided(outside) and not task.failed(outside)
    assert task.collided(beyond) and task.failed(beyond)
    batch = np.stack([inside, outside, beyond])[None]
    np.testing.assert_array_equal(task.collided(batch), [[True, False, True]])
    assert task.metrics(inside)["clearance"] == pytest.approx(-0.1 * r)
    assert task.metrics(outside)["clearance"] == pytest.approx(0.1 * r)
    # the running cost charges the penalty, per second, for each step in collision
    costs = task.running_cost(batch, np.zeros((1, 3, 2)))
    assert costs[0, 0] - costs[0, 1] == pytest.approx(task.config.w_collision, abs=0.2)


def test_success_is_the_goal_reached_without_a_collision(task):
    at_goal = world(robot=(3.1, 3.0))
    assert task.success(at_goal) and not task.failed(at_goal)
    assert not task.success(world(robot=(2.5, 3.0)))
    blocked = world(robot=(3.1, 3.0), obstacles=[(3.0, 3.0)] * 8)
    assert not task.success(blocked) and task.failed(blocked)


def test_seeded_starts_are_reproducible_distinct_and_valid(task):
    c = task.config
    a = task.sample_initial_state(initial_state_rng(7, 3))
    np.testing.assert_array_equal(a, task.sample_initial_state(initial_state_rng(7, 3)))
    assert not np.allclose(a, task.sample_initial_state(initial_state_rng(7, 4)))
    assert not np.allclose(a, task.sample_initial_state(initial_state_rng(8, 3)))
    for trial in range(30):
        s = task.sample_initial_state(initial_state_rng(0, trial))
        assert s.shape == (task.state_size,) == (len(task.observation_names),)
        np.testing.assert_array_equal(s[2:4], 0.0)  # at rest
        start, goal = s[:2], s[4:6]
        assert np.linalg.norm(goal - start) >= c.min_start_goal_distance
        assert np.all(np.abs(s[:2]) <= c.map_half_extent - c.spawn_margin)
        assert np.all(np.abs(s[6:]) <= c.map_half_extent)
        for point in (start, goal):
            assert D.obstacle_distances(point, s[6:]).min() >= c.obstacle_radius + c.spawn_clearance
        assert not task.success(s) and not task.failed(s)
        np.testing.assert_array_equal(task.observation(s), s)
        np.testing.assert_array_equal(task.object_position(s), start)

