"""NFMPC's optimizer: the latent MPPI update reaches a known optimum; the learnt shift is
the warm start, once per replanning period; training's record of each step."""

import numpy as np
import pytest

from gpc_planner.control import ControlSpline
from gpc_planner.optimizers.nfmpc import NFMPC, latent_mppi_update
from gpc_planner.registry import METHODS, make_optimizer
from gpc_sim.errors import ConfigError

SPLINE = ControlSpline(horizon=1.0, num_knots=2, dt=0.1, kind="linear")
LOW, HIGH = -5.0 * np.ones(2), 5.0 * np.ones(2)


class AffineFlow:
    """u = A z + b on flattened knots (2, 2): an invertible flow with a known inverse, and
    a shift that counts its calls (the identity)."""

    latent_dim = 4
    shift_period = 0.1

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.a = np.eye(4) + 0.4 * rng.normal(size=(4, 4))
        self.b = rng.normal(size=4)
        self.shifts = 0

    def push(self, z, obs):
        u = z @ self.a.T + self.b
        return z.astype(np.float32), u.reshape(len(z), 2, 2)

    def shift_latent(self, mean):
        self.shifts += 1
        return mean


def nfmpc(flow, **overrides) -> NFMPC:
    opt = make_optimizer("nfmpc", SPLINE, LOW, HIGH, np.random.default_rng(0), proposal=flow,
                         **overrides)
    opt.reset(np.zeros((2, 2)))
    opt.set_context(np.zeros(3), np.zeros(3))
    return opt


def test_the_latent_update_reaches_the_known_optimum_in_latent_space():
    """Cost |u - u*|^2 through u = A z + b: the optimum latent is A^-1 (u* - b), which
    the latent mean reaches; the plan is its image, u*."""
    flow = AffineFlow()
    target = np.array([[1.0, -2.0], [0.5, 3.0]])
    opt = nfmpc(flow, num_rollouts=256, flow_noise=0.3, temperature=0.05)
    for step in range(40):
        if step:
            opt.shift(0.1)
        knots = opt.sample(0)
        opt.update(knots, ((knots - target) ** 2).sum(axis=(1, 2)), 0)
    optimum = np.linalg.solve(flow.a, target.ravel() - flow.b)
    np.testing.assert_allclose(opt.latent, optimum, atol=0.05)
    np.testing.assert_allclose(opt.plan(), target, atol=0.1)
    assert flow.shifts == 39


def test_one_update_is_eq_5_on_the_latent_samples():
    opt = nfmpc(AffineFlow(), num_rollouts=8, step_size=0.5)
    opt.latent = np.ones(4)
    knots = opt.sample(0)
    costs = np.arange(8.0)
    latents = opt._latents.copy()
    from gpc_planner.optimizers.base import softmax_weights

    opt.update(knots, costs, 0)
    w = softmax_weights(costs, opt.config.temperature)
    np.testing.assert_allclose(opt.latent, latent_mppi_update(np.ones(4), latents, w, 0.5))
    np.testing.assert_allclose(opt.latent, 0.5 * np.ones(4) + 0.5 * w @ latents)
    assert opt.best_cost == 0.0


def test_the_shift_runs_once_per_trained_period_and_a_reset_restarts_at_zero():
    flow = AffineFlow()
    opt = nfmpc(flow)
    opt.latent = np.ones(4)
    opt.shift(0.1)
    opt.shift(0.3)  # three periods
    assert flow.shifts == 4
    opt.reset(np.zeros((2, 2)))
    np.testing.assert_array_equal(opt.latent, 0.0)


def test_training_records_each_update_and_draws_from_the_updated_mean():
    opt = nfmpc(AffineFlow(), num_rollouts=6)
    opt.trace = []
    knots = opt.sample(0)
    opt.update(knots, np.arange(6.0), 0)
    (step,) = opt.trace
    assert step.outputs.shape == (6, 4) and step.weights.sum() == pytest.approx(1.0)
    z, y, drawn = opt.draw(4000, np.random.default_rng(1))
    np.testing.assert_allclose(z.mean(0), opt.latent, atol=0.05)
    assert drawn.shape == (4000, 2, 2)


def test_execute_best_plans_the_cheapest_sample_and_bad_settings_are_refused():
    opt = nfmpc(AffineFlow(), num_rollouts=6, execute="best")
    knots = opt.sample(0)
    opt.update(knots, np.array([3.0, 1.0, 0.5, 2.0, 4.0, 9.0]), 0)
    np.testing.assert_array_equal(opt.plan(), knots[2])
    for bad in ({"step_size": 0.0}, {"flow_noise": -1.0}, {"execute": "mode"}):
        with pytest.raises(ConfigError):
            nfmpc(AffineFlow(), **bad)


def test_the_registry_knows_both_flow_methods_and_their_model_kinds():
    assert METHODS["nfmpc"].needs_model and METHODS["nfmpc"].model_kind == "nfmpc"
    assert METHODS["flow_mppi"].needs_model and METHODS["flow_mppi"].model_kind == "flow_mppi"
    assert METHODS["gpc_cem"].model_kind == "gpc"
    assert METHODS["nfmpc"].takes("flow_noise") and not METHODS["nfmpc"].takes("flow_steps")
    assert METHODS["nfmpc"].own_settings({"flow_noise": 2.0, "flow_steps": 3}) == {
        "flow_noise": 2.0}
    with pytest.raises(ConfigError, match="nfmpc needs proposal model"):
        make_optimizer("nfmpc", SPLINE, LOW, HIGH, np.random.default_rng(0))
