"""Rollout and planning benchmarks (``gpc bench``): figures, not pass/fail tests.

``engine_ms`` times the project's rollout of a batch (knot interpolation plus
``Task.rollout``), ``physics_ms`` times bare ``mujoco.rollout`` on the same
batch, step count and threads, and ``ratio`` is their quotient: the overhead
the engine adds over the physics floor. Both are medians over interleaved
repeats, so slow drift of the machine affects both alike.
"""

from __future__ import annotations

import statistics
import time

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_planner.methods import build_planner
from gpc_sim.errors import ConfigError
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def interleaved_medians(fns: list, repeats: int) -> list[float]:
    """Median ms of each function over ``repeats`` rounds that run them in turn.

    One warm-up call each first (caches, thread pools); interleaving makes slow
    drift of a shared machine affect every figure alike.
    """
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeats):
        for fn, t in zip(fns, times, strict=True):
            t.append(_timed(fn))
    return [statistics.median(t) for t in times]


def bench_rollout(task_name: str, rollouts: int = 32, horizon: float = 3.0, repeats: int = 20,
                  method: str = "cem", seed: int = 0, nthread: int | None = None) -> dict:
    """Time engine vs bare physics vs a full planning iteration."""
    task = make_task(task_name, nthread=nthread, horizon=horizon)
    state = task.sample_initial_state(initial_state_rng(seed, 0))
    planner = build_planner(task, method, np.random.default_rng(seed), horizon, rollouts)
    opt = planner.optimizer
    opt.reset(np.broadcast_to(task.nominal_action(state), opt.mean.shape))
    knots = opt.sample(0)
    controls = planner.spline.interpolate(knots)

    model = task.model  # type: ignore[attr-defined]
    if controls.shape[-1] != model.nu or state.shape[-1] != task.engine.layout.size:  # type: ignore[attr-defined]
        # The bare-physics baseline replays the controls as actuator inputs; a task whose
        # control is a high-level target (Spot: 9-DoF targets through a policy) needs its own.
        raise ConfigError(f"gpc bench rollout has no bare-physics baseline for {task_name} yet "
                          "(its controls are not actuator inputs)")
    nthread_used = task.engine.nthread  # type: ignore[attr-defined]
    pool = mj_rollout.Rollout(nthread=nthread_used)
    datas = [mujoco.MjData(model) for _ in range(nthread_used)]
    init = np.tile(state, (rollouts, 1))
    fixed = np.ascontiguousarray(controls)

    def engine() -> None:
        task.rollout(state, planner.spline.interpolate(knots))

    def physics() -> None:
        pool.rollout(model, datas, init, fixed)

    def iteration() -> None:
        planner.plan(state, 0.0)

    e, p, plan_ms = interleaved_medians([engine, physics, iteration], repeats)
    pool.close()
    return {
        "task": task_name,
        "rollouts": rollouts,
        "horizon_s": horizon,
        "steps": int(controls.shape[1]),
        "threads": nthread_used,
        "repeats": repeats,
        "engine_ms": round(e, 3),
        "physics_ms": round(p, 3),
        "ratio": round(e / p, 4),
        "plan_iteration_ms": round(plan_ms, 3),
        "method": method,
    }


class _PreDrawn:
    """A stand-in proposal that returns samples drawn once: sampling costs nothing."""

    def __init__(self, knots: np.ndarray) -> None:
        self.knots = knots

    def sample(self, obs, hist, n, flow_steps=10, generator=None) -> np.ndarray:
        return self.knots[:n]


def bench_proposal(task_name: str, model: str | None = None, rollouts: int = 32,
                   horizon: float = 3.0, flow_steps: int = 10, repeats: int = 20,
                   seed: int = 0, nthread: int | None = None) -> dict:
    """What sampling the proposal model adds to a GPC-CEM planning iteration.

    ``overhead`` = GPC-CEM / GPC-CEM with the same model's proposals drawn
    once beforehand - 1: the two iterations do the same work (same optimizer,
    proposals from the same distribution, so rollouts of the same kind) except
    for sampling the model. Comparing with CEM instead (``vs_cem``) also counts
    that proposals make contact-rich rollouts, which cost MuJoCo more than
    CEM's early free-space samples: a property of the task, not of sampling.
    """
    from gpc_planner.methods import resolve_model_path

    task = make_task(task_name, nthread=nthread, horizon=horizon)
    state = task.sample_initial_state(initial_state_rng(seed, 0))
    path = resolve_model_path(task.name, "gpc_cem", model)

    def gpc_planner():
        return build_planner(task, "gpc_cem", np.random.default_rng(seed), horizon, rollouts,
                             model=path, flow_steps=flow_steps)

    cem = build_planner(task, "cem", np.random.default_rng(seed), horizon, rollouts)
    gpc = gpc_planner()
    predrawn = gpc_planner()
    proposal = gpc.optimizer.proposal  # type: ignore[attr-defined]
    n_flow = rollouts - gpc.optimizer.num_gaussian  # type: ignore[attr-defined]
    obs = task.observation(state)
    gen = gpc.optimizer.generator  # type: ignore[attr-defined]
    predrawn.optimizer.proposal = _PreDrawn(  # type: ignore[attr-defined]
        proposal.sample(obs, obs, n_flow, flow_steps, gen))

    def cem_step() -> None:
        cem.plan(state, 0.0)

    def gpc_step() -> None:
        gpc.plan(state, 0.0)

    def predrawn_step() -> None:
        predrawn.plan(state, 0.0)

    def sampling() -> None:
        proposal.sample(obs, obs, n_flow, flow_steps, gen)

    c, g, f, sample_ms = interleaved_medians([cem_step, gpc_step, predrawn_step, sampling],
                                             repeats)
    return {
        "task": task_name,
        "model": path,
        "rollouts": rollouts,
        "flow_samples": n_flow,
        "horizon_s": horizon,
        "flow_steps": flow_steps,
        "repeats": repeats,
        "plan_iteration_ms": {"cem": round(c, 3), "gpc_cem": round(g, 3),
                              "gpc_cem_predrawn": round(f, 3)},
        "sampling_ms": round(sample_ms, 3),
        "overhead": round(g / f - 1.0, 4),
        "vs_cem": round(g / c - 1.0, 4),
    }
