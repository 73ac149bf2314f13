"""The planner as a robot runs it: replanning at a rate while the last plan is executed.

In ``gpc eval`` the world waits for the planner. On a robot it does not: a planning step
takes what it takes, and meanwhile the robot must be told something. ``OnlinePlanner`` keeps
the plan in force (its knots and the time they start at) and answers ``target_at(t)``
from it for any time, so between plans, and when a plan overruns its replanning period
(a deadline miss), the previous plan keeps being executed, read further along its curve
(time-shifted); past its horizon it holds the last knot. A new plan replaces it only when
finished. To keep to its period, a step may be given a budget (anytime planning): it then
updates from the candidates it could roll out in time (``SamplingPlanner.plan``). When the
state cannot be trusted, ``hold(state)`` replaces the plan by the
task's nominal action at that state (stand where you are, arm where it is).

The ROS planner node (``gpc_planner.ros.planner_node``) is a thin adapter around this:
it owns the thread, the clock and the messages; the logic and its bookkeeping (plan ids,
deadline misses, plan-time statistics) live here and are unit-tested without ROS.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from gpc_planner.planner import PlanResult, SamplingPlanner


class NonFinitePlanError(ValueError):
    """A planning step produced NaN or inf; the robot holds instead of executing it."""


@dataclass(frozen=True)
class ActivePlan:
    """The plan in force: knots (K, m) starting at ``start`` (s, the state's time)."""

    knots: np.ndarray
    start: float
    plan_id: int  # the planning iteration that made it; 0 for a hold
    holding: bool = False


@dataclass(frozen=True)
class PlanTimeStats:
    """Wall-clock plan times over the recent window, in milliseconds."""

    count: int
    median_ms: float
    p95_ms: float
    max_ms: float


class OnlinePlanner:
    """A ``SamplingPlanner`` run against the clock (module docstring)."""

    def __init__(self, planner: SamplingPlanner, replan_period: float, window: int = 100,
                 clock: Callable[[], float] | None = None, budget: float = 0.0) -> None:
        """``clock``: the time (s) the robot lives by, which deadlines are counted against
        (a node's ROS clock: sim time under a lock-stepped sim, which waits for every plan,
        so no plan there misses; wall time on a robot); None: each plan's wall time.
        ``budget``: wall seconds a planning step may take (anytime planning,
        ``SamplingPlanner.plan``); 0: every candidate, however long it takes."""
        if not (math.isfinite(replan_period) and replan_period > 0.0):
            raise ValueError(f"replan_period must be > 0 s, got {replan_period}")
        if not (math.isfinite(budget) and budget >= 0.0):
            raise ValueError(f"budget must be >= 0 s, got {budget}")
        self.planner = planner
        self.replan_period = float(replan_period)
        self.clock = clock
        self.budget = float(budget)
        self._times: deque[float] = deque(maxlen=window)
        self.reset()

    def reset(self, seed: int | None = None) -> None:
        """A new episode: no plan, no warm start, no history, counters from zero.

        With ``seed``, every random stream of the planner restarts from it
        (``SamplingPlanner.reset``): the same states then give the same plans again.
        """
        self.planner.reset(seed)
        self.active: ActivePlan | None = None
        self.iterations = 0
        self.deadline_misses = 0
        self.last: PlanResult | None = None
        self._times.clear()

    def plan(self, state: np.ndarray, stamp: float) -> PlanResult:
        """Plan from ``state`` measured at ``stamp`` (s) and put the result in force.

        A plan that took longer than the replanning period by ``clock`` (else by its wall
        time) is a deadline miss: the robot went on executing the previous plan meanwhile,
        which is what ``target_at`` did.
        A plan with a non-finite number is never put in force: the robot holds at ``state``
        instead and ``NonFinitePlanError`` says so.
        """
        started = self.clock() if self.clock is not None else math.nan
        result = self.planner.plan(state, stamp, budget=self.budget or None)
        took = self.clock() - started if self.clock is not None else result.plan_time
        self.iterations += 1
        if took > self.replan_period:
            self.deadline_misses += 1
        self._times.append(result.plan_time)
        self.last = result
        if not np.all(np.isfinite(result.knots)):
            self.hold(state, stamp)
            raise NonFinitePlanError(f"plan {self.iterations} has non-finite knots; holding")
        self.active = ActivePlan(result.knots.copy(), stamp, self.iterations)
        return result

    def plan_age(self, time: float) -> float:
        """Seconds by ``time`` since the state the plan in force started from (0 while
        holding or before any plan: nothing is being executed that could run stale)."""
        if self.active is None or self.active.holding:
            return 0.0
        return max(0.0, time - self.active.start)

    def hold(self, state: np.ndarray, stamp: float) -> ActivePlan:
        """Replace the plan by the nominal action at ``state`` (stand still, arm held)."""
        nominal = self.planner.task.nominal_action(state)
        knots = np.broadcast_to(nominal, self.planner.spline.knot_times.shape + nominal.shape)
        self.active = ActivePlan(knots.copy(), stamp, self.iterations, holding=True)
        return self.active

    def target_at(self, time: float) -> np.ndarray | None:
        """The control (m,) the plan in force asks for at ``time`` (None before any plan).

        Before the plan's start (a command for an older frame) its first knot; past its
        horizon its last knot.
        """
        if self.active is None:
            return None
        offset = min(max(time - self.active.start, 0.0), self.planner.spline.horizon)
        return self.planner.spline.value_at(self.active.knots, offset)

    def stats(self) -> PlanTimeStats:
        """Plan-time statistics over the last ``window`` plans (NaN before the first)."""
        if not self._times:
            return PlanTimeStats(0, math.nan, math.nan, math.nan)
        ms = np.asarray(self._times) * 1e3
        return PlanTimeStats(len(ms), float(np.median(ms)), float(np.percentile(ms, 95)),
                             float(ms.max()))
