"""The online planner: the plan in force, read at any time; deadline misses; holds."""

import numpy as np
import pytest

from gpc_planner.methods import build_planner
from gpc_planner.online import NonFinitePlanError, OnlinePlanner
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


@pytest.fixture(scope="module")
def task():
    return make_task("push_t", nthread=1)


def planner(task, period):
    return OnlinePlanner(build_planner(task, "cem", np.random.default_rng(0)), period)


def test_nothing_to_execute_before_the_first_plan(task):
    assert planner(task, 0.1).target_at(0.0) is None


def test_the_plan_is_read_along_its_curve_and_held_past_its_horizon(task):
    online = planner(task, 0.1)
    state = task.sample_initial_state(initial_state_rng(0, 0))
    result = online.plan(state, stamp=5.0)
    spline = online.planner.spline
    assert online.active.plan_id == 1 and online.active.start == 5.0
    for t in (0.0, 0.35, 1.2, spline.horizon):
        np.testing.assert_allclose(online.target_at(5.0 + t), spline.value_at(result.knots, t))
    np.testing.assert_allclose(online.target_at(5.0 + 10 * spline.horizon), result.knots[-1])
    np.testing.assert_allclose(online.target_at(4.0), result.knots[0])


def test_a_plan_longer_than_the_period_is_a_deadline_miss(task):
    state = task.sample_initial_state(initial_state_rng(0, 1))
    slow = planner(task, 1e-9)  # every plan overruns
    fast = planner(task, 1e9)  # none does
    for k in range(3):
        slow.plan(state, 0.1 * k)
        fast.plan(state, 0.1 * k)
    assert (slow.iterations, slow.deadline_misses) == (3, 3)
    assert (fast.iterations, fast.deadline_misses) == (3, 0)
    stats = slow.stats()
    assert stats.count == 3 and 0.0 < stats.median_ms <= stats.p95_ms <= stats.max_ms



def test_a_reset_with_a_seed_repeats_the_plans_and_clears_the_counters(task):
    """What the planner node's gpc/reset service does with a seed (0 there: no seed)."""
    state = task.sample_initial_state(initial_state_rng(0, 2))
    online = OnlinePlanner(build_planner(task, "cem", np.random.default_rng(0), horizon=0.3,
                                         num_rollouts=4), 0.1)

    def run(seed):
        online.reset(seed=seed)
        assert (online.iterations, online.active) == (0, None)
        return [online.plan(state, 0.1 * k).knots for k in range(2)]

    first = run(7)
    np.testing.assert_array_equal(run(7), first)
    assert not np.array_equal(run(8), first)


def test_deadlines_are_counted_against_the_given_clock(task):
    """Lock-step: the sim's clock stands still while it waits for a plan, so no plan is late
    however long it takes in wall time; a clock that runs past the period while planning is a
    miss however fast the plan was."""
    state = task.sample_initial_state(initial_state_rng(0, 1))
    still = OnlinePlanner(build_planner(task, "cem", np.random.default_rng(0)), 1e-9,
                          clock=lambda: 7.0)
    ticks = iter(np.arange(0.0, 100.0, 0.3))  # each reading 0.3 s later than the last
    late = OnlinePlanner(build_planner(task, "cem", np.random.default_rng(0)), 0.2,
                         clock=lambda: float(next(ticks)))
    for k in range(3):
        still.plan(state, 0.1 * k)
        late.plan(state, 0.1 * k)
    assert (still.iterations, still.deadline_misses) == (3, 0)
    assert (late.iterations, late.deadline_misses) == (3, 3)
    assert still.stats().median_ms > 0.0  # plan times stay wall times

def test_between_plans_the_previous_plan_is_executed_time_shifted(task):
    online = planner(task, 0.1)
    state = task.sample_initial_state(initial_state_rng(0, 2))
    first = online.plan(state, 0.0)
    # A plan that is late: until it lands the old plan is read 0.3 s along its curve.
    np.testing.assert_allclose(online.target_at(0.3),
                               online.planner.spline.value_at(first.knots, 0.3))
    second = online.plan(state, 0.3)
    assert online.active.plan_id == 2
    np.testing.assert_allclose(online.target_at(0.3), second.knots[0])


def test_hold_stands_still_and_reset_forgets(task):
    online = planner(task, 0.1)
    state = task.sample_initial_state(initial_state_rng(0, 3))
    online.plan(state, 0.0)
    held = online.hold(state, 0.2)
    assert held.holding and held.plan_id == 1
    np.testing.assert_allclose(online.target_at(1.0), task.nominal_action(state))
    online.reset()
    assert online.target_at(1.0) is None and online.iterations == 0
    assert np.isnan(online.stats().median_ms)


def test_the_period_must_be_positive(task):
    with pytest.raises(ValueError, match="replan_period"):
        planner(task, 0.0)


def test_a_non_finite_plan_is_never_put_in_force(task, monkeypatch):
    online = planner(task, 0.1)
    state = task.sample_initial_state(initial_state_rng(0, 2))
    good = online.plan(state, stamp=1.0)
    plan = online.planner.plan

    def poisoned(*args, **kwargs):
        result = plan(*args, **kwargs)
        result.knots[1, 0] = np.nan
        return result

    monkeypatch.setattr(online.planner, "plan", poisoned)
    with pytest.raises(NonFinitePlanError, match="non-finite"):
        online.plan(state, stamp=1.1)
    assert online.active.holding  # the robot holds instead
    assert np.all(np.isfinite(online.target_at(1.2)))
    assert not np.allclose(online.target_at(1.2), good.knots[0])


def test_plan_age_counts_from_the_state_of_the_plan_in_force(task):
    online = planner(task, 0.1)
    assert online.plan_age(100.0) == 0.0  # nothing in force
    state = task.sample_initial_state(initial_state_rng(0, 3))
    online.plan(state, stamp=2.0)
    assert online.plan_age(2.5) == pytest.approx(0.5)
    assert online.plan_age(1.0) == 0.0  # never negative
    online.hold(state, 2.5)
    assert online.plan_age(10.0) == 0.0  # a hold does not run stale
