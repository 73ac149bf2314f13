"""The chair's geodesic distance to the goal: the straight line where it is clear, the way
around the obstacle where it is not, finite and leading out of the cup everywhere."""

import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.spot.constants import CHAIR_GOAL
from gpc_sim.spot.geodesic import DEFAULT_CLEARANCE, GeodesicDistance, blocked_cells
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task

GOAL = np.array(CHAIR_GOAL[:2])


@pytest.fixture(scope="module")
def geodesic() -> GeodesicDistance:
    return GeodesicDistance(tuple(GOAL))


def test_where_the_goal_is_in_sight_it_is_the_straight_line(geodesic):
    points = np.array([[2.5, 0.3], [1.0, -2.0], [0.6, 0.0], [3.0, 2.5], [-1.0, 2.5]])
    np.testing.assert_allclose(geodesic(points), np.linalg.norm(points - GOAL, axis=-1),
                               rtol=0.03, atol=0.02)


def test_in_front_of_the_cup_it_is_the_way_around(geodesic):
    start = np.array([-1.6, 0.0])
    # Around the inflated obstacle's corners: an upper bound (sharp corners), and well
    # above the straight line that runs through the obstacle.
    c = DEFAULT_CLEARANCE
    corners = [start, (-0.9 - c, 1.0 + c), (0.05 + c, 1.0 + c), GOAL]
    polygon = sum(np.linalg.norm(np.subtract(b, a))
                  for a, b in zip(corners[:-1], corners[1:], strict=True))
    value = float(geodesic(start))
    assert np.linalg.norm(start - GOAL) + 1.0 < value <= polygon * 1.03
    assert value > 0.9 * polygon
    # Symmetric about the obstacle's axis, and deeper in the cup is further.
    assert float(geodesic(np.array([-1.6, 0.4]))) == pytest.approx(
        float(geodesic(np.array([-1.6, -0.4]))), rel=1e-6)
    assert float(geodesic(np.array([-0.4, 0.0]))) > value


def test_it_falls_along_the_way_around_and_is_finite_everywhere(geodesic):
    # Sideways out of the cup's line, past the arm's end, along the arm, to the goal.
    path = np.concatenate([np.linspace([-1.6, 0.0], [-1.6, 1.1], 12)[:-1],
                           np.linspace([-1.6, 1.1], [-1.2, 1.4], 6)[:-1],
                           np.linspace([-1.2, 1.4], [0.4, 1.4], 20)[:-1],
                           np.linspace([0.4, 1.4], GOAL, 20)])
    values = geodesic(path)
    assert np.all(np.diff(values) < 0.0)
    grid = np.stack(np.meshgrid(np.linspace(-7, 6, 60), np.linspace(-5, 5, 50)), axis=-1)
    assert np.all(np.isfinite(geodesic(grid)))
    assert blocked_cells(DEFAULT_CLEARANCE).any()
    wall = np.array([-0.3, 0.0])  # inside the back wall's inflation: still leads out
    assert np.isfinite(geodesic(wall)) and geodesic(wall) > geodesic(np.array([-1.6, 0.0]))


def test_the_task_costs_the_way_around_by_default_and_succeeds_as_on_the_straight_line():
    plain = make_task("spot_chair", nthread=1, goal_distance="euclidean")
    around = make_task("spot_chair", nthread=1)
    assert around.config.goal_distance == "geodesic"
    state = plain.sample_initial_state(initial_state_rng(0, 0))
    assert around.terminal_cost(state[None])[0] > plain.terminal_cost(state[None])[0] + 20.0
    assert around.success(state) == plain.success(state)
    with pytest.raises(ConfigError, match="goal_distance"):
        make_task("spot_chair", nthread=1, goal_distance="manhattan")


def test_a_new_goal_moves_the_way_around_with_it():
    """The planner node and the sim move the goal at run time: the field must follow it."""
    task = make_task("spot_chair", nthread=1, goal_distance="geodesic")
    # A goal in front of the cup: nothing stands between it and a chair in front of it.
    task.set_goal((-2.5, 0.0, 0.0))
    chair = np.array([-2.0, 0.0])
    assert task.geodesic(chair) == pytest.approx(0.5, abs=0.03)
    assert tuple(task.goal) == (-2.5, 0.0, 0.0)
    for bad in [(-0.3, 0.0, 0.0), (np.nan, 0.0, 0.0), (1.0, 2.0)]:  # in the wall, NaN, short
        with pytest.raises(ConfigError):
            task.set_goal(bad)
        assert tuple(task.goal) == (-2.5, 0.0, 0.0)
        assert task.geodesic(chair) == pytest.approx(0.5, abs=0.03)
