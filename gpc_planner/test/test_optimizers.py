"""Each optimizer must find the minimum of a toy quadratic over knots."""

import numpy as np
import pytest

from gpc_planner.control import ControlSpline
from gpc_planner.registry import METHODS, make_optimizer
from gpc_sim.errors import ConfigError

LOW, HIGH = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
TARGET = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.6], [0.2, -0.7]])


def quadratic(knots: np.ndarray) -> np.ndarray:
    return np.sum((knots - TARGET) ** 2, axis=(1, 2))


def optimize(name: str, steps: int, **overrides) -> np.ndarray:
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01, kind="linear")
    opt = make_optimizer(name, spline, LOW, HIGH, np.random.default_rng(0), num_rollouts=64,
                         **overrides)
    opt.reset(np.zeros((4, 2)))
    for _ in range(steps):
        for i in range(opt.iterations):
            knots = opt.sample(i)
            assert knots.shape == (64, 4, 2)
            assert np.all(knots >= LOW) and np.all(knots <= HIGH)
            opt.update(knots, quadratic(knots), i)
    return opt.plan()


@pytest.mark.parametrize("name", sorted(n for n, m in METHODS.items() if not m.needs_model))
def test_optimizer_finds_the_known_optimum(name):
    plan = optimize(name, steps=60)
    start_error = np.abs(TARGET).max()
    assert np.abs(plan - TARGET).max() < 0.1 * start_error / 0.7 + 0.05, plan


def test_cem_std_collapses_towards_the_floor_on_a_convex_problem():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    opt = make_optimizer("cem", spline, LOW, HIGH, np.random.default_rng(1), num_rollouts=64,
                         sigma_min=0.01, reset_patience=1000)
    opt.reset(np.zeros((4, 2)))
    for _ in range(40):
        k = opt.sample(0)
        opt.update(k, quadratic(k), 0)
    assert np.all(opt.std < opt.std_init)


def test_cem_resets_its_spread_when_progress_stalls():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    opt = make_optimizer("cem", spline, LOW, HIGH, np.random.default_rng(2), num_rollouts=64,
                         reset_patience=3, sigma_min=0.01)
    opt.reset(np.zeros((4, 2)))
    for _ in range(30):  # converge: the spread collapses
        k = opt.sample(0)
        opt.update(k, quadratic(k), 0)
    assert np.all(opt.std < 0.5 * opt.std_init)
    flat = np.ones(64)  # then no progress at all
    for _ in range(2):
        opt.update(opt.sample(0), flat, 0)
    assert np.all(opt.std < 0.5 * opt.std_init)  # two stalled steps: patience not exhausted
    opt.update(opt.sample(0), flat, 0)  # the third: reset to the initial spread
    assert np.all(opt.std >= opt.std_init)


def test_cem_anneals_more_spread_into_later_knots():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    opt = make_optimizer("cem", spline, LOW, HIGH, np.random.default_rng(3), anneal=1.0)
    np.testing.assert_allclose(opt.std_init[:, 0] / opt.std_init[0, 0], [1, 4 / 3, 5 / 3, 2])


def test_cem_executes_the_best_candidate_when_asked():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    opt = make_optimizer("cem", spline, LOW, HIGH, np.random.default_rng(4), execute="best")
    opt.reset(np.zeros((4, 2)))
    k = opt.sample(0)
    costs = quadratic(k)
    opt.update(k, costs, 0)
    np.testing.assert_array_equal(opt.plan(), k[np.argmin(costs)])


def test_unknown_optimizer_or_setting_is_refused():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    with pytest.raises(ConfigError, match="unknown method 'nope'"):
        make_optimizer("nope", spline, LOW, HIGH, np.random.default_rng())
    with pytest.raises(ConfigError, match="no setting bogus"):
        make_optimizer("cem", spline, LOW, HIGH, np.random.default_rng(), bogus=1)
