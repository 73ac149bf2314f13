"""A receding-horizon planner: an optimizer, a task's rollouts, and warm starts.

``SamplingPlanner.plan(state, time)`` runs the optimizer's iterations from the
current state and returns the knots to execute from ``time`` on. It is the one
planning loop used by evaluation, data collection and the ROS planner node; it is
built from a method's name by ``gpc_planner.methods.build_planner``.
"""

from __future__ import annotations

import os
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
    # Candidates rolled out in this step, over all its iterations: rollouts x iterations,
    # fewer when an anytime budget ran out first (``SamplingPlanner.plan``).
    evaluated: int = 0


def sanitize_costs(costs: np.ndarray) -> np.ndarray:
    """Replace NaN/inf costs (diverged rollouts) by a value worse than every finite one."""
    finite = np.isfinite(costs)
    if finite.all():
        return costs
    worst = costs[finite].max() if finite.any() else 0.0
    return np.where(finite, costs, worst + 1e6 * (1.0 + abs(worst)))


class SamplingPlanner:
    """Wraps an optimizer with a task's rollouts and the time-shift warm start.

    Anytime planning: ``plan(..., budget=s)`` rolls the candidates out in chunks of
    ``chunk`` and stops before a chunk that would not finish within ``s`` seconds of the
    step's start (by the chunks' measured cost); the optimizer then updates from the
    candidates rolled out so far, the first ones ``sample`` returned (its order is the
    order of preference: the mean first for CEM, the proposals first for GPC-CEM). Rollouts
    are per-candidate, so a budget never reached gives exactly the plans of no budget.
    """

    def __init__(self, task: Task, optimizer: Optimizer, chunk: int | None = None) -> None:
        """``chunk``: candidates per rollout call under a budget; None: one per core this
        process may use (each rollout thread gets one; smaller chunks waste less of a
        budget's end, larger ones leave cores idle)."""
        chunk = max(1, len(os.sched_getaffinity(0))) if chunk is None else chunk
        if chunk < 1:
            raise ValueError(f"chunk must be at least 1, got {chunk}")
        self.task = task
        self.optimizer = optimizer
        self.spline = optimizer.spline
        self.chunk = int(chunk)
        self._last_time: float | None = None
        self._last_obs: np.ndarray | None = None  # observation at the previous replanning
        self._chunk_seconds: float | None = None  # running estimate of one chunk's cost
        self.clock = _time.perf_counter  # wall seconds (tests give a clock of their own)

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
        return sanitize_costs(self._raw_costs(state, knots))

    def _raw_costs(self, state: np.ndarray, knots: np.ndarray) -> np.ndarray:
        """Costs with inf for diverged rollouts (MuJoCo reset them: not a plan); a fresh
        array (the task's may be a buffer the next rollout overwrites)."""
        controls = self.spline.interpolate(knots)
        states = self.task.rollout(state, controls)
        costs = np.array(self.task.cost(states, controls), dtype=np.float64)
        costs[self.task.diverged(state, states)] = np.inf
        return costs

    def plan(self, state: np.ndarray, time: float, budget: float | None = None) -> PlanResult:
        """Optimize from ``state`` at ``time`` (s) and return the plan to execute.

        ``budget``: wall seconds the step may take (anytime planning, class docstring);
        None or 0: every candidate of every iteration is rolled out. Under a budget the
        first chunk is always rolled out (a plan needs candidates), and an iteration after
        the first starts only if one chunk of it still fits.
        """
        start = self.clock()
        deadline = start + budget if budget else None
        opt = self.optimizer
        if self._last_time is None:
            nominal = np.broadcast_to(self.task.nominal_action(state), opt.mean.shape)
            opt.reset(nominal)
        else:
            opt.shift(time - self._last_time)
        self._last_time = time
        self._give_context(state)
        knots = costs = None
        evaluated = 0
        for i in range(opt.iterations):
            if i > 0 and deadline is not None and not self._fits(deadline):
                break
            knots = opt.sample(i)
            if deadline is None:
                costs = self.evaluate(state, knots)
            else:
                costs = self._evaluate_until(state, knots, deadline)
                knots = knots[: len(costs)]
            opt.update(knots, costs, i)
            evaluated += len(costs)
        return PlanResult(
            knots=opt.plan().copy(),
            time=time,
            best_cost=opt.best_cost,
            plan_time=self.clock() - start,
            stats=dict(opt.stats()),
            samples=knots,
            sample_costs=costs,
            evaluated=evaluated,
        )

    def _fits(self, deadline: float) -> bool:
        """Whether one more chunk is expected to finish by ``deadline`` (perf_counter s)."""
        expected = self._chunk_seconds if self._chunk_seconds is not None else 0.0
        return self.clock() + expected <= deadline

    def _evaluate_until(self, state: np.ndarray, knots: np.ndarray,
                        deadline: float) -> np.ndarray:
        """Costs of the first candidates of ``knots`` that fit before ``deadline``, rolled
        out ``chunk`` at a time (at least one chunk); updates the chunk-cost estimate."""
        parts: list[np.ndarray] = []
        for lo in range(0, len(knots), self.chunk):
            if parts and not self._fits(deadline):
                break
            began = self.clock()
            parts.append(self._raw_costs(state, knots[lo : lo + self.chunk]))
            took = (self.clock() - began) * self.chunk / len(parts[-1])
            # The slowest recent chunk counts most: under-estimating it is a missed deadline.
            self._chunk_seconds = took if self._chunk_seconds is None else max(
                took, 0.8 * self._chunk_seconds + 0.2 * took)
        return sanitize_costs(np.concatenate(parts))  # "worse than every finite" over all


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
