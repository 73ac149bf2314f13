"""FlowMPPI: flow samples beside Gaussian perturbations of the control-space mean."""

import numpy as np
import pytest
from test_nfmpc import AffineFlow

from gpc_planner.control import ControlSpline
from gpc_planner.registry import make_optimizer

SPLINE = ControlSpline(horizon=1.0, num_knots=2, dt=0.1, kind="linear")
LOW, HIGH = -5.0 * np.ones(2), 5.0 * np.ones(2)


def build(name: str, **overrides):
    extra = {"proposal": AffineFlow()} if name == "flow_mppi" else {}
    opt = make_optimizer(name, SPLINE, LOW, HIGH, np.random.default_rng(3), num_rollouts=8,
                         **extra, **overrides)
    opt.reset(np.full((2, 2), 0.5))
    if name == "flow_mppi":
        opt.set_context(np.zeros(3), np.zeros(3))
    return opt


def test_half_the_samples_come_from_the_flow_and_the_mean_moves_in_control_space():
    opt = build("flow_mppi")
    opt.trace = []
    knots = opt.sample(0)
    assert knots.shape == (8, 2, 2) and opt.num_flow == 4
    np.testing.assert_array_equal(knots[0], np.full((2, 2), 0.5))  # row 0: the mean
    flow_knots = opt.proposal.push(opt._outputs.astype(np.float64), None)[1]
    np.testing.assert_allclose(knots[4:], np.clip(flow_knots, LOW[0], HIGH[0]), atol=1e-6)
    costs = np.array([5.0, 4.0, 6.0, 7.0, 0.0, 1.0, 8.0, 9.0])
    opt.update(knots, costs, 0)
    from gpc_planner.optimizers.base import softmax_weights

    w = softmax_weights(costs, opt.config.temperature)
    np.testing.assert_allclose(opt.mean, np.einsum("n,nkm->km", w, knots))
    assert opt.stats()["flow_weight"] == pytest.approx(w[4:].sum())
    (step,) = opt.trace  # Eq. 3 over the flow's own samples, weighted among themselves
    assert step.outputs.shape == (4, 4) and step.weights.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(step.weights, softmax_weights(costs[4:], opt.config.temperature))


def test_the_warm_start_is_the_time_shift_of_the_plan():
    opt = build("flow_mppi")
    opt.mean = np.array([[1.0, 2.0], [3.0, 4.0]])
    opt.shift(0.5)
    np.testing.assert_allclose(opt.mean, SPLINE.shift(np.array([[1.0, 2.0], [3.0, 4.0]]), 0.5))


def test_without_flow_samples_it_is_mppi():
    flow, mppi = build("flow_mppi", flow_share=0.0), build("mppi")
    for _ in range(3):
        a, b = flow.sample(0), mppi.sample(0)
        np.testing.assert_array_equal(a, b)
        costs = ((a - 1.0) ** 2).sum(axis=(1, 2))
        flow.update(a, costs, 0)
        mppi.update(b, costs, 0)
    np.testing.assert_array_equal(flow.plan(), mppi.plan())
