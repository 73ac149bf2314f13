"""GPC-CEM and GPC-Shoot on the toy quadratic of test_optimizers, with fake proposals."""

import numpy as np
import pytest

from gpc_planner.control import ControlSpline
from gpc_planner.planner import SamplingPlanner
from gpc_planner.registry import make_optimizer

LOW, HIGH = np.array([-1.0, -1.0]), np.array([1.0, 1.0])
TARGET = np.array([[0.3, -0.2], [0.5, 0.1], [-0.4, 0.6], [0.2, -0.7]])


def quadratic(knots: np.ndarray) -> np.ndarray:
    return np.sum((knots - TARGET) ** 2, axis=(1, 2))


class FakeProposal:
    """Samples ``centre`` plus a little noise; records the contexts it was given."""

    def __init__(self, centre: np.ndarray, noise: float = 0.01) -> None:
        self.centre, self.noise = centre, noise
        self.rng = np.random.default_rng(0)
        self.contexts: list[tuple[np.ndarray, np.ndarray]] = []
        self.flow_noise: list[float] = []

    def sample(self, obs, hist, n, flow_steps=10, generator=None, noise=1.0):
        self.contexts.append((np.array(obs), np.array(hist)))
        self.flow_noise.append(noise)
        return self.centre + self.noise * self.rng.standard_normal((n, *self.centre.shape))


def make(name: str, proposal, **overrides):
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01, kind="linear")
    opt = make_optimizer(name, spline, LOW, HIGH, np.random.default_rng(0), proposal=proposal,
                         num_rollouts=64, **overrides)
    opt.reset(np.zeros((4, 2)))
    opt.set_context(np.zeros(3), np.zeros(3))
    return opt


def step(opt) -> np.ndarray:
    knots = opt.sample(0)
    costs = quadratic(knots)
    opt.update(knots, costs, 0)
    return knots, costs


def test_terrible_proposals_leave_all_elites_to_the_gaussian():
    opt = make("gpc_cem", FakeProposal(np.full((4, 2), 1.0)))  # a corner, far from TARGET
    for _ in range(5):
        step(opt)
        assert opt.cem_sample_ratio == 1.0


def test_optimal_proposals_take_most_elites_and_set_the_mean():
    opt = make("gpc_cem", FakeProposal(TARGET))
    for _ in range(3):
        knots, costs = step(opt)
        assert 0.0 <= opt.cem_sample_ratio < 0.5
        best = knots[np.argmin(costs)]
        np.testing.assert_array_equal(opt.mean, best)  # mean <- best candidate
        np.testing.assert_array_equal(opt.plan(), best)  # execute the best candidate
    assert np.abs(opt.plan() - TARGET).max() < 0.05


def test_elites_come_from_the_union_and_set_the_spread():
    # Half the proposals are optimal; the Gaussian is wide: elites mix both sources.
    opt = make("gpc_cem", FakeProposal(TARGET, noise=0.6), num_elites=16, sigma_min=0.0)
    knots, costs = step(opt)
    assert opt.num_gaussian == 32 and knots.shape == (64, 4, 2)
    order = np.argsort(costs, kind="stable")[:16]
    assert 0.0 < opt.cem_sample_ratio < 1.0
    assert opt.cem_sample_ratio == pytest.approx(np.mean(order >= opt.num_flow))
    np.testing.assert_allclose(opt.std, knots[order].std(axis=0))


def test_gaussian_part_draws_around_the_mean_and_samples_are_clipped():
    opt = make("gpc_cem", FakeProposal(np.full((4, 2), 5.0)))  # beyond the bounds
    opt.mean = TARGET.copy()
    knots = opt.sample(0)
    gaussian = knots[opt.num_flow:]
    # Algorithm 1 draws every CEM row from N(mean, Sigma): the plan itself is not re-run.
    assert not np.any(np.all(gaussian == opt.mean, axis=(1, 2)))
    assert np.abs(gaussian.mean(axis=0) - TARGET).max() < 3 * opt.std.max()
    assert np.all(knots <= HIGH) and np.all(knots >= LOW)
    assert np.all(knots[: opt.num_flow] == HIGH)  # the proposals (first), clipped


def test_include_mean_keeps_the_shifted_plan_among_the_gaussian_rows():
    opt = make("gpc_cem", FakeProposal(TARGET), include_mean=True)
    opt.mean = TARGET.copy()
    np.testing.assert_array_equal(opt.sample(0)[opt.num_flow], TARGET)


def test_cem_share_follows_the_flow_share_setting():
    opt = make("gpc_cem", FakeProposal(TARGET), flow_share=0.25)
    assert opt.num_gaussian == 48
    assert len(step(opt)[0]) == 64


def test_gpc_shoot_executes_the_best_proposal():
    proposal = FakeProposal(TARGET, noise=0.2)
    opt = make("gpc_shoot", proposal)
    knots, costs = step(opt)
    np.testing.assert_array_equal(opt.plan(), knots[np.argmin(costs)])
    assert getattr(opt, "cem_sample_ratio", None) is None and opt.stats() == {}


def test_sampling_without_context_is_an_error():
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    opt = make_optimizer("gpc_cem", spline, LOW, HIGH, np.random.default_rng(0),
                         proposal=FakeProposal(TARGET))
    opt.reset(np.zeros((4, 2)))
    with pytest.raises(RuntimeError, match="set_context"):
        opt.sample(0)


class ToyTask:
    """Just enough of a Task for SamplingPlanner: observation = the state itself."""

    config = type("C", (), {"num_knots": 4})()
    action_low, action_high = LOW, HIGH

    def nominal_action(self, state):
        return np.zeros(2)

    def observation(self, state):
        return np.asarray(state, dtype=float)

    def rollout(self, state, controls):
        return controls

    def diverged(self, state, states):
        return np.zeros(len(states), dtype=bool)

    def cost(self, states, controls):
        return np.zeros(len(states))


def test_planner_gives_observation_and_previous_replanning_observation():
    proposal = FakeProposal(TARGET)
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01)
    opt = make_optimizer("gpc_cem", spline, LOW, HIGH, np.random.default_rng(0),
                         proposal=proposal, num_rollouts=8)
    planner = SamplingPlanner(ToyTask(), opt)
    for t, s in enumerate([1.0, 2.0, 3.0]):
        planner.plan(np.array([s]), 0.1 * t)
    planner.reset()
    planner.plan(np.array([9.0]), 0.0)
    got = [(o[0], h[0]) for o, h in proposal.contexts]
    assert got == [(1.0, 1.0), (2.0, 1.0), (3.0, 2.0), (9.0, 9.0)]


def test_the_flow_noise_setting_reaches_the_proposal():
    for name in ("gpc_shoot", "gpc_cem"):
        default, wide = FakeProposal(TARGET), FakeProposal(TARGET)
        step(make(name, default))
        step(make(name, wide, flow_noise=2.0))
        assert default.flow_noise == [1.0] and wide.flow_noise == [2.0]
