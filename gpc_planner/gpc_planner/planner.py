"""A receding-horizon planner: an optimizer, a task's rollouts, and warm starts.

``SamplingPlanner.plan(state, time)`` runs the optimizer's iterations from the
current state and returns the knots to execute from ``time`` on. It is the one
planning loop used by evaluation, data collection and the ROS planner node; it is
built from a method's name by ``gpc_planner.methods.build_planner``.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, field

import numpy as np

from gpc_planner.control import ControlSpline
from gpc_planner.optimizers import ConditionedOptimizer, Optimizer
from gpc_sim.errors import ConfigError
from gpc_sim.limits import require_memory
from gpc_sim.task import Task


@dataclass
class PlanResult:
    """What one planning step produced."""

    knots: np.ndarray  # (K, m) to execute from ``time``
    time: float  # s, when the plan starts
    best_cost: float
    plan_time: float  # s, wall-clock
    # Method-specific figures (``Optimizer.stats``), e.g. GPC-CEM's {"cem_sample_ratio": 0.4}
    # (the share of elites drawn from the Gaussian); evaluation and collection summarise
    # each one per episode and over episodes.
    stats: dict[str, float] = field(default_factory=dict)
    # The last optimization iteration's candidates (N, K, m) and their costs (N,): what a
    # visualisation shows as "samples" (the optimizer's own buffers may change later).
    samples: np.ndarray | None = None
    sample_costs: np.ndarray | None = None


def sanitize_costs(costs: np.ndarray) -> np.ndarray:
    """Replace NaN/inf costs (diverged rollouts) by a value worse than every finite one."""
    finite = np.isfinite(costs)
    if finite.all():
        return costs
    worst = costs[finite].max() if finite.any() else 0.0
    return np.where(finite, costs, worst + 1e6 * (1.0 + abs(worst)))


class SamplingPlanner:
    """Wraps an optimizer with a task's rollouts and the time-shift warm start."""

    def __init__(self, task: Task, optimizer: Optimizer) -> None:
        self.task = task
        self.optimizer = optimizer
        self.spline = optimizer.spline
        self._last_time: float | None = None
        self._last_obs: np.ndarray | None = None  # observation at the previous replanning

    def reset(self, seed: int | np.random.SeedSequence | None = None) -> None:
        """Forget the warm start and the history (new episode).

        With ``seed``, also restart every random stream the planner owns from it
        (``Optimizer.reseed``): a reset with the same seed followed by the same ``plan``
        calls gives the same plans, whatever ran before.
        """
        self._last_time = None
        self._last_obs = None
        if seed is not None:
            self.optimizer.reseed(seed)

    def _give_context(self, state: np.ndarray) -> None:
        """Tell a ``ConditionedOptimizer`` (GPC) the observation and the history.

        History has length 1: the previous replanning state's observation, or
        the current one at an episode's first step, as in data collection.
        Other optimizers get nothing.
        """
        if not isinstance(self.optimizer, ConditionedOptimizer):
            return
        obs = self.task.observation(state)
        self.optimizer.set_context(obs, obs if self._last_obs is None else self._last_obs)
        self._last_obs = obs

    def evaluate(self, state: np.ndarray, knots: np.ndarray) -> np.ndarray:
        """Costs (N,) of candidate knots (N, K, m) from ``state``."""
        controls = self.spline.interpolate(knots)
        states = self.task.rollout(state, controls)
        costs = self.task.cost(states, controls)
        costs[self.task.diverged(state, states)] = np.inf  # MuJoCo reset them: not a plan
        return sanitize_costs(costs)

    def plan(self, state: np.ndarray, time: float) -> PlanResult:
        """Optimize from ``state`` at ``time`` (s) and return the plan to execute."""
        start = _time.perf_counter()
        opt = self.optimizer
        if self._last_time is None:
            nominal = np.broadcast_to(self.task.nominal_action(state), opt.mean.shape)
            opt.reset(nominal)
        else:
            opt.shift(time - self._last_time)
        self._last_time = time
        self._give_context(state)
        knots = costs = None
        for i in range(opt.iterations):
            knots = opt.sample(i)
            costs = self.evaluate(state, knots)
            opt.update(knots, costs, i)
        return PlanResult(
            knots=opt.plan().copy(),
            time=time,
            best_cost=opt.best_cost,
            plan_time=_time.perf_counter() - start,
            stats=dict(opt.stats()),
            samples=knots,
            sample_costs=costs,
        )


def task_spline(task: Task, horizon: float | None = None) -> ControlSpline:
    """The task's control parametrisation (knots, interpolation, dt) over ``horizon``."""
    cfg = task.config
    return ControlSpline(horizon or cfg.horizon, cfg.num_knots, task.dt, cfg.interpolation)


def rollout_batch_bytes(task: Task, num_rollouts: int, num_steps: int) -> int:
    """Bytes of one planning iteration's batch: the states of every rollout step and the
    controls (twice: interpolated, and the contiguous copy handed to the engine)."""
    state_size = task.layout.size if task.layout is not None else len(task.observation_names)
    return 8 * num_rollouts * num_steps * (state_size + 2 * task.action_dim)


def check_planning_sizes(task: Task, num_rollouts: int, horizon: float | None = None,
                         processes: int = 1) -> None:
    """ConfigError when a horizon or a batch cannot work, before anything is allocated.

    A horizon shorter than one control step has no step to plan; a batch larger than the
    machine's memory hangs in swap or dies (``--rollouts 100000000``, ``--horizon 1e9``).
    ``processes``: how many planners run at once (evaluation workers), each with a batch.
    """
    horizon = task.config.horizon if horizon is None else horizon
    if not horizon >= task.dt:
        raise ConfigError(f"horizon must be at least one control step ({task.dt:g} s), "
                          f"got {horizon:g} s", setting="horizon")
    steps = int(round(horizon / task.dt))
    each = "" if processes == 1 else f" in each of {processes} processes"
    require_memory(processes * rollout_batch_bytes(task, num_rollouts, steps),
                   f"a planning batch of {num_rollouts} rollouts x {steps} steps{each}")
