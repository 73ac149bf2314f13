"""SamplingPlanner: costs of candidates, including rollouts the physics lost; seeded resets."""

import numpy as np
import pytest
from test_gpc_optimizers import FakeProposal  # the GPC optimizers' fake proposal

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


# --- anytime planning (a wall-clock budget per step) ----------------------------------------

@pytest.mark.parametrize("method", list(METHODS))
def test_a_budget_never_reached_gives_the_plans_of_no_budget(push_t, flow_models, method):
    """Rollouts are per candidate: rolling them out in chunks changes no cost, so every
    method plans exactly as without a budget while the budget is not reached."""
    task, states = push_t
    kind = METHODS[method].model_kind
    model = {"model": flow_models[kind], "horizon": None} if kind in flow_models else {
        "horizon": 0.3}

    def plans(budget):
        planner = build_planner(task, method, np.random.default_rng(5), num_rollouts=10,
                                flow_steps=2, **model)
        planner.chunk = 3  # a last chunk shorter than the others too
        results = [planner.plan(s, 0.1 * i, budget=budget) for i, s in enumerate(states)]
        return results, planner.optimizer.iterations

    free, iterations = plans(None)
    bounded, _ = plans(1e6)
    for a, b in zip(free, bounded, strict=True):
        np.testing.assert_array_equal(a.knots, b.knots)
        assert a.best_cost == b.best_cost
        assert a.evaluated == b.evaluated == 10 * iterations


class SlowTask(LossyTask):
    """LossyTask whose rollouts take 10 ms of a fake clock per candidate (no real waiting)."""

    def __init__(self):
        self.now = 0.0
        self.rolled_out: list[np.ndarray] = []

    def clock(self):
        return self.now

    def rollout(self, state, controls):
        self.now += 0.01 * len(controls)
        self.rolled_out.append(controls[:, 0, 0].copy())
        return controls

    def diverged(self, state, states):
        return np.zeros(len(states), dtype=bool)

    def observation(self, state):
        return np.zeros(1)


def _slow_planner(method="cem", iterations=1, chunk=4, **config):
    task = SlowTask()
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.1)
    opt = make_optimizer(method, spline, task.action_low, task.action_high,
                         np.random.default_rng(0), num_rollouts=32, iterations=iterations,
                         **config)
    planner = SamplingPlanner(task, opt, chunk=chunk)
    planner.clock = task.clock
    return planner, task


def test_a_step_stops_at_its_budget_and_updates_from_what_it_rolled_out():
    planner, task = _slow_planner(chunk=4)  # a chunk: 40 ms
    result = planner.plan(np.zeros(1), 0.0, budget=0.1)
    assert result.evaluated == 8  # two chunks fit in 100 ms, a third would not
    assert result.plan_time <= 0.1
    assert len(result.samples) == len(result.sample_costs) == 8
    # The optimizer saw exactly those candidates: its best is the cheapest of them.
    rolled = np.concatenate(task.rolled_out)
    assert result.best_cost == pytest.approx(-rolled.max())


def test_the_first_chunk_is_always_rolled_out():
    planner, _ = _slow_planner(chunk=4)
    result = planner.plan(np.zeros(1), 0.0, budget=1e-6)
    assert result.evaluated == 4 and np.isfinite(result.best_cost)


def test_a_further_iteration_starts_only_if_a_chunk_of_it_fits():
    planner, _ = _slow_planner(iterations=3, chunk=8)  # 32 per iteration: 320 ms each
    result = planner.plan(np.zeros(1), 0.0, budget=0.45)
    assert result.evaluated == 32 + 8  # all of the first, one chunk of the second
    assert result.plan_time <= 0.45


def test_gpc_cem_rolls_out_its_proposals_first():
    proposal = FakeProposal(np.full((4, 1), 0.5), noise=0.0)
    planner, _ = _slow_planner("gpc_cem", chunk=4, proposal=proposal)
    result = planner.plan(np.zeros(1), 0.0, budget=0.1)
    assert result.evaluated == 8
    np.testing.assert_array_equal(result.samples, 0.5)  # every one a proposal
    assert result.stats["cem_sample_ratio"] == 0.0


def test_a_short_step_keeps_cem_s_share_of_elites():
    """6 elites of 32: a step cut to 8 candidates keeps the best 2 (the same share), not 6
    of 8 (nearly their plain mean)."""
    planner, _ = _slow_planner(chunk=4, num_elites=6)
    result = planner.plan(np.zeros(1), 0.0, budget=0.1)
    assert result.evaluated == 8
    best_two = result.samples[np.argsort(result.sample_costs)[:2]]
    np.testing.assert_allclose(planner.optimizer.mean, best_two.mean(axis=0))
