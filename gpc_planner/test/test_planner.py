"""SamplingPlanner: costs of candidates, including rollouts the physics lost; seeded resets."""

import numpy as np
import pytest

from gpc_planner.control import ControlSpline
from gpc_planner.methods import build_planner
from gpc_planner.planner import SamplingPlanner
from gpc_planner.registry import METHODS, make_optimizer


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


# --- seeded resets -------------------------------------------------------------------------

def _plans(planner, states, seed=None) -> list[np.ndarray]:
    """Reset (with ``seed``), then plan from each state in turn (warm starts included)."""
    planner.reset(seed)
    return [planner.plan(s, 0.1 * i).knots for i, s in enumerate(states)]


@pytest.fixture(scope="module")
def push_t():
    from gpc_sim.tasks import make_task

    task = make_task("push_t", nthread=1)
    rng = np.random.default_rng(0)
    return task, [task.sample_initial_state(rng) for _ in range(3)]


@pytest.fixture(scope="module")
def flow_models(push_t, tmp_path_factory):
    """Untrained NFMPC and FlowMPPI models for push_t (its own horizon: such a flow serves
    only the horizon it was made for)."""
    from gpc_planner.proposals.nf_train import NFTrainConfig, new_model

    out = tmp_path_factory.mktemp("flows")
    paths = {}
    for kind in ("nfmpc", "flow_mppi"):
        paths[kind] = str(out / f"{kind}.pt")
        new_model(push_t[0], NFTrainConfig(method=kind, task="push_t", couplings=2, hidden=8,
                                           layers=1)).save(paths[kind])
    return paths


@pytest.mark.parametrize("method", list(METHODS))
def test_a_seeded_reset_repeats_the_plans_of_every_method(push_t, flow_models, method):
    """Every random stream restarts from the seed: the numpy stream and, for the GPC
    methods, the torch generator of the flow's noise (shipped push_t model)."""
    task, states = push_t
    kind = METHODS[method].model_kind
    model = {"model": flow_models[kind], "horizon": None} if kind in flow_models else {
        "horizon": 0.3}
    planner = build_planner(task, method, np.random.default_rng(3), num_rollouts=4,
                            flow_steps=2, **model)
    fresh = [planner.plan(s, 0.1 * i).knots for i, s in enumerate(states)]
    again = _plans(planner, states, seed=3)
    np.testing.assert_array_equal(np.array(again), np.array(fresh))  # = built with seed 3
    _plans(planner, states[::-1], seed=99)  # whatever ran in between
    np.testing.assert_array_equal(np.array(_plans(planner, states, seed=3)), np.array(again))
    other = _plans(planner, states, seed=4)
    assert not np.array_equal(np.array(other), np.array(again))
    unseeded = _plans(planner, states)  # a reset without a seed goes on with the stream
    assert not np.array_equal(np.array(unseeded), np.array(other))
