"""One closed-loop episode: the plant is the simulator, the planner replans at a fixed rate."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from gpc_planner.early_stop import StallDetector, StallRule
from gpc_planner.planner import PlanResult, SamplingPlanner
from gpc_sim.task import Task


@dataclass
class EpisodeResult:
    """Outcome of one episode, with what evaluation and plots need."""

    success: bool
    steps: int  # control steps run (to success, or the limit)
    final_metrics: dict[str, float]
    plan_times: list[float] = field(default_factory=list)  # s, one per replanning step
    # Each method-specific figure (``PlanResult.stats``) over the replanning steps that
    # reported it, e.g. {"cem_sample_ratio": [0.5, 0.25, ...]} for GPC-CEM.
    stats: dict[str, list[float]] = field(default_factory=dict)
    states: np.ndarray | None = None  # (steps + 1, nstate) if recorded
    diverged: bool = False  # the simulation blew up (NaN, or MuJoCo reset the world)
    failed: bool = False  # the task's failure condition ended it (``Task.failed``: a collision)
    stopped: str | None = None  # why a hopeless episode was ended early (``stall``)
    wall_s: float = 0.0  # what the episode cost: wall seconds
    cpu_s: float = 0.0  # and CPU seconds of this process, all its threads
    # The executed trajectory's cost under the task's own cost (``Task.cost`` of the states
    # reached and the controls applied: running integral + terminal), the NFMPC paper's
    # figure of merit; None when the physics blew up (NaN states).
    trajectory_cost: float | None = None


def replan_every(task: Task) -> int:
    """Control steps per replanning period (the task's replanning rate, at least 1): the
    closed loop's cadence, which NFMPC's latent shift is trained for."""
    return max(1, int(round(1.0 / (task.config.replan_hz * task.dt))))


def run_episode(planner: SamplingPlanner, initial_state: np.ndarray, max_steps: int | None = None,
                record: bool = False,
                on_plan: Callable[[int, np.ndarray, PlanResult], None] | None = None,
                stall: StallRule | None = None) -> EpisodeResult:
    """Run until success, failure (``Task.failed``) or ``max_steps`` control steps,
    replanning at the task's rate.

    ``on_plan(step, state, result)`` is called after each replanning step (data
    collection records there; the demo prints progress). With ``stall``, an episode whose
    object has stopped moving is ended at a replanning step as a failure (``stopped``
    says why): data collection keeps only successes, so the rest of it would be waste.
    """
    wall, cpu = time.perf_counter(), time.process_time()
    result = _run_episode(planner, initial_state, max_steps, record, on_plan, stall)
    result.wall_s = time.perf_counter() - wall
    result.cpu_s = time.process_time() - cpu
    return result


def _run_episode(planner: SamplingPlanner, initial_state: np.ndarray, max_steps: int | None,
                 record: bool, on_plan: Callable[[int, np.ndarray, PlanResult], None] | None,
                 stall: StallRule | None) -> EpisodeResult:
    task = planner.task
    max_steps = max_steps or task.config.max_steps
    every = replan_every(task)
    plant = task.make_plant(initial_state)
    planner.reset()
    result = EpisodeResult(False, 0, {})
    start = plant.state()
    reached: list[np.ndarray] = []  # the state after each step (trajectory cost, record)
    applied: list[np.ndarray] = []  # and the control applied in it
    controls = np.empty((0, task.action_dim))
    detector = StallDetector(stall) if stall is not None else None
    for step in range(max_steps):
        if step % every == 0:
            state = plant.state()
            if detector is not None:
                result.stopped = detector.update(step * task.dt, task.object_position(state))
                if result.stopped is not None:
                    break
            plan = planner.plan(state, step * task.dt)
            controls = planner.spline.interpolate(plan.knots, num_steps=every)
            result.plan_times.append(plan.plan_time)
            for name, value in plan.stats.items():
                result.stats.setdefault(name, []).append(value)
            if on_plan is not None:
                on_plan(step, state, plan)
        before = state
        plant.step(controls[step % every])
        result.steps = step + 1
        state = plant.state()
        reached.append(state)
        applied.append(controls[step % every])
        if not np.all(np.isfinite(state)) or task.diverged(before, state[None, None])[0]:
            result.diverged = True  # the simulation blew up: a failure, not a crash
            break
        if task.failed(state):
            result.failed = True  # e.g. a collision: the episode cannot succeed any more
            break
        if task.success(state):
            result.success = True
            break
    result.final_metrics = task.metrics(plant.state())
    result.trajectory_cost = executed_cost(task, reached, applied)
    if record:
        result.states = np.asarray([start, *reached])
    return result


def executed_cost(task: Task, reached: list[np.ndarray], applied: list[np.ndarray]) -> float | None:
    """``Task.cost`` of one executed trajectory (states reached, controls applied); None for
    an empty or non-finite one (a blown-up simulation has no meaningful cost)."""
    if not reached:
        return None
    cost = float(task.cost(np.asarray(reached)[None], np.asarray(applied)[None])[0])
    return cost if np.isfinite(cost) else None
