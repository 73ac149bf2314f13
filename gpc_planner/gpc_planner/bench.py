"""Rollout and planning benchmarks (``gpc bench``): figures, not pass/fail tests.

``engine_ms`` times the project's rollout of a batch (knot interpolation plus
``Task.rollout``), ``physics_ms`` times bare ``mujoco.rollout`` on the same
batch, step count and threads, and ``ratio`` is their quotient: the overhead
the engine adds over the physics floor. For Spot tasks the physics replays
the actuator targets the policy produced (``physics_steps`` = 2 per command
step), and ``judo_ms`` times judo's compiled rollout with the policy in the
loop on the same world and commands (null, with ``judo_note``, where
``mujoco_extensions`` cannot run). All are medians over interleaved repeats,
so slow drift of the machine affects them alike. Spot results also name the
engine's lane loop (``engine``: "native", the compiled one, or "numpy"),
which ``engine=`` can pin.
"""

from __future__ import annotations

import statistics
import time

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_planner.methods import build_planner
from gpc_sim.errors import ConfigError
from gpc_sim.spot.bench import JudoRollout, PhysicsOnly, applied_inputs, judo_unavailable
from gpc_sim.spot.constants import SUBSTEPS
from gpc_sim.spot.rollout import SpotRolloutEngine
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task

ENGINES = ("native", "numpy")  # Spot's lane loops (SpotRolloutEngine.native)


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
                  method: str = "cem", seed: int = 0, nthread: int | None = None,
                  engine: str | None = None) -> dict:
    """Time engine vs bare physics (and judo's engine, for Spot) vs a planning iteration.

    The batch is one optimizer sample of ``rollouts`` control sequences. The baselines
    depend on what a task's control is: actuator inputs (push tasks) are replayed as they
    are; Spot's 9-DoF targets go through the locomotion policy, so its baselines replay
    the actuator targets and commands the engine derived from them (``_spot_baselines``).
    ``engine``: Spot's lane loop, "native" or "numpy" (None: the engine's default, the
    compiled loop where it builds); other tasks have one engine and take None only.
    """
    task = make_task(task_name, nthread=nthread, horizon=horizon)
    spot = isinstance(task.engine, SpotRolloutEngine)  # type: ignore[attr-defined]
    if engine is not None:
        if not spot:
            raise ConfigError(f"{task_name} has one rollout engine; --engine is for Spot tasks")
        if engine not in ENGINES:
            raise ConfigError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
        task.engine.native = engine == "native"  # type: ignore[attr-defined]
    state = task.sample_initial_state(initial_state_rng(seed, 0))
    planner = build_planner(task, method, np.random.default_rng(seed), horizon, rollouts)
    opt = planner.optimizer
    opt.reset(np.broadcast_to(task.nominal_action(state), opt.mean.shape))
    knots = opt.sample(0)
    controls = planner.spline.interpolate(knots)

    def engine() -> None:
        task.rollout(state, planner.spline.interpolate(knots))

    def iteration() -> None:
        planner.plan(state, 0.0)

    if spot:
        baselines, figures, close = _spot_baselines(task, state, controls)
        figures["engine"] = task.engine.engine_name  # type: ignore[attr-defined]
    else:
        baselines, figures, close = _actuator_baselines(task, state, controls)
    names = list(baselines)
    times = interleaved_medians([engine, *baselines.values(), iteration], repeats)
    close()
    e, plan_ms = times[0], times[-1]
    measured = dict(zip(names, times[1:-1], strict=True))
    p = measured["physics"]
    result = {
        "task": task_name,
        "rollouts": rollouts,
        "horizon_s": horizon,
        "steps": int(controls.shape[1]),
        "threads": task.engine.nthread,  # type: ignore[attr-defined]
        "repeats": repeats,
        "engine_ms": round(e, 3),
        "physics_ms": round(p, 3),
        "ratio": round(e / p, 4),
        "plan_iteration_ms": round(plan_ms, 3),
        "method": method,
    }
    for name, ms in measured.items():
        if name != "physics":
            result[f"{name}_ms"] = round(ms, 3)
    return result | figures


def _actuator_baselines(task, state: np.ndarray, controls: np.ndarray):
    """Bare ``mujoco.rollout`` of the controls themselves (they are actuator inputs)."""
    model = task.model
    if controls.shape[-1] != model.nu or state.shape[-1] != task.engine.layout.size:
        raise ConfigError(f"gpc bench rollout has no bare-physics baseline for {task.name} "
                          "(its controls are not actuator inputs)")
    pool = mj_rollout.Rollout(nthread=task.engine.nthread)
    datas = [mujoco.MjData(model) for _ in range(task.engine.nthread)]
    init = np.tile(state, (controls.shape[0], 1))
    fixed = np.ascontiguousarray(controls)

    def physics() -> None:
        pool.rollout(model, datas, init, fixed)

    return {"physics": physics}, {}, pool.close


def _spot_baselines(task, state: np.ndarray, targets: np.ndarray):
    """Spot: bare physics of the actuator targets the engine applied, and judo's engine.

    One engine run recovers the per-step commands and actuator targets
    (``spot.bench.applied_inputs``). ``physics`` replays the targets open-loop for the same
    ``SUBSTEPS`` physics steps per command on the engine's thread count; ``judo`` runs
    judo's compiled rollout (ONNX policy in the loop) on the same world with the same
    commands, or is reported as null with the reason when it cannot run here.
    """
    engine = task.engine
    states = engine.rollout_batch(state, targets).copy()
    commands, ctrl = applied_inputs(engine, state, targets, states)
    physics_only = PhysicsOnly(task.model, engine.nthread)
    physics_only.prepare(state, ctrl)
    baselines = {"physics": physics_only.run}
    figures: dict = {"physics_steps": int(targets.shape[1] * SUBSTEPS)}
    reason = judo_unavailable()
    if reason is None:
        judo = JudoRollout(task.model, targets.shape[0])
        start = np.concatenate([engine.layout.qpos(state), engine.layout.qvel(state)])
        prev = engine.layout.prev_out(state)

        def judo_rollout() -> None:
            judo.rollout(start, commands, prev)

        baselines["judo"] = judo_rollout
        figures["judo_threads"] = judo.n
    else:
        figures["judo_ms"] = None
        figures["judo_note"] = reason
    return baselines, figures, physics_only.close


class _PreDrawn:
    """A stand-in proposal that hands out sets drawn beforehand: sampling costs nothing.

    It cycles through many sets, as the real sampler gives fresh ones every call: one
    fixed set would make every timed iteration roll out the same candidates, whose
    physics cost may sit above or below the average (measured: the overhead figure
    swung from 0.03 to 0.11 between runs with one set).
    """

    def __init__(self, sets: list[np.ndarray]) -> None:
        self.sets = sets
        self.calls = 0

    def sample(self, obs, hist, n, flow_steps=10, generator=None, noise=1.0) -> np.ndarray:
        knots = self.sets[self.calls % len(self.sets)]
        self.calls += 1
        return knots[:n]


def bench_proposal(task_name: str, model: str | None = None, rollouts: int = 32,
                   horizon: float = 3.0, flow_steps: int = 10, repeats: int = 20,
                   seed: int = 0, nthread: int | None = None, flow_noise: float = 1.0) -> dict:
    """What sampling the proposal model adds to a GPC-CEM planning iteration.

    ``overhead`` = GPC-CEM / GPC-CEM with the same model's proposals drawn
    beforehand - 1: the two iterations do the same work (same optimizer,
    proposals from the same distribution, so rollouts of the same kind) except
    for sampling the model. ``sampling_share`` = the timed sampling call alone
    over the pre-drawn iteration: the same quantity, without the rollouts'
    variance. Comparing with CEM instead (``vs_cem``) also counts
    that proposals make contact-rich rollouts, which cost MuJoCo more than
    CEM's early free-space samples: a property of the task, not of sampling.
    """
    from gpc_planner.methods import resolve_model_path

    task = make_task(task_name, nthread=nthread, horizon=horizon)
    state = task.sample_initial_state(initial_state_rng(seed, 0))
    path = resolve_model_path(task.name, "gpc_cem", model)

    def gpc_planner():
        return build_planner(task, "gpc_cem", np.random.default_rng(seed), horizon, rollouts,
                             model=path, flow_steps=flow_steps, flow_noise=flow_noise)

    cem = build_planner(task, "cem", np.random.default_rng(seed), horizon, rollouts)
    gpc = gpc_planner()
    predrawn = gpc_planner()
    proposal = gpc.optimizer.proposal  # type: ignore[attr-defined]
    n_flow = rollouts - gpc.optimizer.num_gaussian  # type: ignore[attr-defined]
    obs = task.observation(state)
    gen = gpc.optimizer.generator  # type: ignore[attr-defined]
    predrawn.optimizer.proposal = _PreDrawn(  # type: ignore[attr-defined]
        [proposal.sample(obs, obs, n_flow, flow_steps, gen, flow_noise) for _ in range(repeats)])

    # Every timed step is a first planning step from the same state (``reset`` drops the
    # warm start), so the planners do not drift apart over the repeats.
    def cem_step() -> None:
        cem.reset()
        cem.plan(state, 0.0)

    def gpc_step() -> None:
        gpc.reset()
        gpc.plan(state, 0.0)

    def predrawn_step() -> None:
        predrawn.reset()
        predrawn.plan(state, 0.0)

    def sampling() -> None:
        proposal.sample(obs, obs, n_flow, flow_steps, gen, flow_noise)

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
        "sampling_share": round(sample_ms / f, 4),  # the sampling call alone, of an iteration
        "vs_cem": round(g / c - 1.0, 4),
    }
