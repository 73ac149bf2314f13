"""SamplingPlanner: costs of candidates, including rollouts the physics lost."""

import numpy as np

from gpc_planner.control import ControlSpline
from gpc_planner.optimizers import make_optimizer
from gpc_planner.planner import SamplingPlanner


class LossyTask:
    """Cost = the first control's value; rollouts whose first control is > 0.8 'blow up'."""

    config = type("C", (), {"num_knots": 4})()
    action_low, action_high = np.array([-1.0]), np.array([1.0])

    def nominal_action(self, state):
        return np.zeros(1)

    def rollout(self, state, controls):
        return controls

    def diverged(self, state, states):
        return states[:, 0, 0] > 0.8

    def cost(self, states, controls):
        return -states[:, 0, 0]  # the larger the first control, the cheaper


def test_rollouts_the_physics_lost_cost_more_than_every_other():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.1)
    opt = make_optimizer("cem", spline, LossyTask.action_low, LossyTask.action_high,
                         np.random.default_rng(0), num_rollouts=8)
    planner = SamplingPlanner(LossyTask(), opt)
    knots = np.linspace(-1.0, 1.0, 8)[:, None, None] * np.ones((8, 4, 1))
    costs = planner.evaluate(np.zeros(1), knots)
    lost = knots[:, 0, 0] > 0.8
    assert lost.sum() == 1 and np.all(np.isfinite(costs))
    assert costs[lost].min() > costs[~lost].max()  # cheapest on paper, never chosen
    np.testing.assert_allclose(costs[~lost], -knots[~lost, 0, 0])
