"""franka_obstacles: joint-velocity dynamics within the limits, rollouts equal to the plant,
collisions, success and failure, seeded environments."""

import numpy as np
import pytest

from gpc_sim.franka import constants as C
from gpc_sim.franka.task import GOAL, POLE, STATE_SIZE, FrankaObstaclesConfig, Q
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import TASKS, make_task

FAR_POLE = (2.0, 2.0, 0.05, 0.8)  # out of the arm's reach


@pytest.fixture(scope="module")
def task():
    return make_task("franka_obstacles", nthread=1)


def world(q=C.START_POSE, goal=(0.5, 0.2, 0.4), pole=FAR_POLE):
    """A state by hand: joint angles, goal, pole."""
    return np.concatenate([q, goal, pole]).astype(np.float64)


def test_registered_with_its_config_and_overrides():
    cls, default = TASKS["franka_obstacles"]
    assert isinstance(default(), FrankaObstaclesConfig)
    task = make_task("franka_obstacles", w_goal=3.0, goal_tolerance=0.02)
    assert task.config.w_goal == 3.0 and task.config.goal_tolerance == 0.02
    assert task.name == "franka_obstacles" and task.family == "franka"
    # One knot per control step over the horizon, replanning every step (as nav_dyn).
    c = task.config
    assert c.num_knots == round(c.horizon / task.dt) + 1 and c.replan_hz * task.dt == 1.0
    np.testing.assert_array_equal(task.action_high, -task.action_low)
    np.testing.assert_allclose(task.action_high, C.VELOCITY_LIMIT)


def test_joint_velocities_integrate_exactly(task):
    start = world()
    velocity = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 3, 7))
    states = task.rollout(start, velocity)
    expected = start[Q] + task.dt * np.cumsum(velocity, axis=1)
    np.testing.assert_allclose(states[..., Q], expected, atol=1e-12)
    np.testing.assert_array_equal(states[..., GOAL.start:],
                                  np.broadcast_to(start[GOAL.start:], (2, 3, 7)))


def test_controls_are_saturated_and_joints_stay_within_their_limits(task):
    start = world()
    states = task.rollout(start, np.full((1, 1, 7), 100.0))
    np.testing.assert_allclose(states[0, 0, Q], np.minimum(
        start[Q] + task.dt * C.VELOCITY_LIMIT, C.JOINT_HIGH))
    rng = np.random.default_rng(1)
    controls = rng.choice([-1.0, 1.0], (16, 1, 7)) * rng.uniform(1, 5, (16, 1, 7))
    states = task.rollout(start, np.repeat(controls, 200, axis=1))  # pushed hard, for 10 s
    q = states[..., Q]
    assert (q >= C.JOINT_LOW).all() and (q <= C.JOINT_HIGH).all()
    at_limit = np.where(controls[:, 0] > 0, C.JOINT_HIGH, C.JOINT_LOW)
    np.testing.assert_array_equal(q[:, -1], at_limit)  # every joint ends at the limit ...
    np.testing.assert_array_equal(q[:, -2], at_limit)  # ... and stays there


def test_a_batch_rollout_equals_the_plant_stepped(task):
    start = task.sample_initial_state(initial_state_rng(0, 0))
    controls = np.random.default_rng(2).uniform(-3, 3, (4, 30, 7))  # beyond the bounds too
    states = task.rollout(start, controls)
    for i in range(len(controls)):
        plant = task.make_plant(start)
        for k, u in enumerate(controls[i]):
            plant.step(u)
            np.testing.assert_array_equal(plant.state(), states[i, k])
    np.testing.assert_array_equal(start, task.sample_initial_state(initial_state_rng(0, 0)))


def reach(task, q):
    return task.end_effector(np.asarray(q, dtype=np.float64))


def test_success_is_the_goal_reached_without_a_collision(task):
    q = np.array(C.START_POSE)
    ee = reach(task, q)
    tol = task.config.goal_tolerance
    at_goal = world(goal=ee + [0.0, 0.9 * tol, 0.0])
    assert task.success(at_goal) and not task.failed(at_goal)
    assert task.metrics(at_goal)["position_error"] == pytest.approx(0.9 * tol)
    assert not task.success(world(goal=ee + [0.0, 1.1 * tol, 0.0]))
    # The pole through the hand: at the goal, but a collision ends the episode.
    blocked = world(goal=ee, pole=(ee[0], ee[1], 0.05, 1.0))
    assert task.failed(blocked) and not task.success(blocked)
    assert task.metrics(blocked)["collided"] == 1.0 and task.metrics(blocked)["clearance"] < 0


def test_collisions_with_the_pole_and_the_floor(task):
    start = world()
    assert not task.collided(start)
    ee = reach(task, C.START_POSE)
    r = 0.05

    def pole_at_clearance(gap):
        """A tall pole in front of the hand, moved until the arm's clearance is ``gap``."""
        x = ee[0] + 0.5
        for _ in range(30):  # the clearance falls about as fast as the pole comes closer
            x -= task.metrics(world(pole=(x, ee[1], r, 1.0)))["clearance"] - gap
        return world(pole=(x, ee[1], r, 1.0))

    beside, touching = pole_at_clearance(0.01), pole_at_clearance(-0.01)
    assert task.metrics(beside)["clearance"] == pytest.approx(0.01, abs=1e-6)
    assert task.metrics(touching)["clearance"] == pytest.approx(-0.01, abs=1e-6)
    assert not task.failed(beside) and task.failed(touching)
    # A low pole under the hand is passed over.
    low = world(pole=(ee[0], ee[1], r, 0.2))
    assert not task.failed(low)
    # Shoulder folded forward and down: the hand goes through the floor.
    down = np.array(C.START_POSE)
    down[1], down[3] = 1.7, -1.0
    assert reach(task, down)[2] < 0 and task.failed(world(q=down))
    # The running cost charges the penalty, per second, for each step in collision.
    batch = np.stack([beside, touching])[None]
    costs = task.running_cost(batch, np.zeros((1, 2, 7)))
    assert costs[0, 1] - costs[0, 0] == pytest.approx(task.config.w_collision)
    np.testing.assert_array_equal(task.collided(batch), [[False, True]])


def test_seeded_environments_are_reproducible_distinct_and_valid(task):
    c = task.config
    a = task.sample_initial_state(initial_state_rng(7, 3))
    np.testing.assert_array_equal(a, task.sample_initial_state(initial_state_rng(7, 3)))
    assert not np.allclose(a, task.sample_initial_state(initial_state_rng(7, 4)))
    assert not np.allclose(a, task.sample_initial_state(initial_state_rng(8, 3)))
    start_ee = reach(task, C.START_POSE)
    for trial in range(40):
        s = task.sample_initial_state(initial_state_rng(0, trial))
        assert s.shape == (STATE_SIZE,) == (len(task.observation_names),)
        np.testing.assert_array_equal(s[Q], C.START_POSE)  # the fixed start
        goal, pole = s[GOAL], s[POLE]
        assert (goal >= C.GOAL_LOW).all() and (goal <= C.GOAL_HIGH).all()
        assert np.linalg.norm(goal - start_ee) >= c.min_start_goal_distance
        assert c.pole_radius[0] <= pole[2] <= c.pole_radius[1]
        assert c.pole_height[0] <= pole[3] <= c.pole_height[1]
        assert task.metrics(s)["clearance"] >= min(c.start_clearance, 0.2)
        assert not task.success(s) and not task.failed(s)
        np.testing.assert_array_equal(task.observation(s), s)
        np.testing.assert_allclose(task.object_position(s), start_ee[:2])
        np.testing.assert_array_equal(task.nominal_action(s), np.zeros(7))


def test_the_pole_stands_in_the_way(task):
    """The pole's centre lies near the straight way from the start to the goal (from
    above): on the segment's middle part, at most ``pole_sideways`` off it."""
    c = task.config
    start_ee = reach(task, C.START_POSE)[:2]
    for trial in range(40):
        s = task.sample_initial_state(initial_state_rng(1, trial))
        way = s[GOAL][:2] - start_ee
        rel = s[POLE][:2] - start_ee
        along = rel @ way / (way @ way)
        assert c.pole_along[0] - 1e-9 <= along <= c.pole_along[1] + 1e-9
        assert np.linalg.norm(rel - along * way) <= c.pole_sideways + 1e-9
