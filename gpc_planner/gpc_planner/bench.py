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
which ``engine=`` can pin, and the world (``spot.worlds``) the engine runs:
``engine_ms``, ``physics_ms`` and ``ratio`` are that world's, while ``judo_ms``
and ``physics_ref_ms`` (bare physics) always run the original world, the fixed
yardstick a cheaper world is measured against.

``bench_physics`` profiles a physics step of a Spot world (MuJoCo's stage
timers, solver work, contacts by kind) and ``bench_fidelity`` compares a world's
rollouts with the original's on the same command sequences (docs/SPOT_PHYSICS.md).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict

import mujoco
import numpy as np
from mujoco import rollout as mj_rollout

from gpc_planner.methods import build_planner
from gpc_planner.planner import SamplingPlanner
from gpc_sim.errors import ConfigError
from gpc_sim.spot.bench import JudoRollout, PhysicsOnly, applied_inputs, judo_unavailable
from gpc_sim.spot.fidelity import approach, compare_worlds
from gpc_sim.spot.physics_profile import profile_physics
from gpc_sim.spot.rollout import SpotRolloutEngine
from gpc_sim.spot.task import SpotChairTask
from gpc_sim.spot.world import build_chair_world, convert_state
from gpc_sim.spot.worlds import DEFAULT_WORLD, REFERENCE_WORLD, SpotWorld, spot_world
from gpc_sim.task import Task, initial_state_rng
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


def _make_task(task_name: str, nthread: int | None, horizon: float,
               world: str | SpotWorld | None) -> Task:
    """The task at ``horizon``; ``world`` (a Spot preset, or a SpotWorld) for Spot tasks only."""
    if world is None:
        return make_task(task_name, nthread=nthread, horizon=horizon)
    task = make_task(task_name, nthread=nthread, horizon=horizon,
                     **({"world": world} if _is_spot(task_name) else {}))
    if not isinstance(task, SpotChairTask):
        raise ConfigError(f"{task_name} has one world; a world preset is for Spot tasks "
                          "only", setting="world")
    return task


def _is_spot(task_name: str) -> bool:
    from gpc_sim.tasks import TASKS

    return task_name in TASKS and issubclass(TASKS[task_name][0], SpotChairTask)


def first_sample(task: Task, state: np.ndarray, method: str, rollouts: int, horizon: float,
                 rng: np.random.Generator) -> tuple[SamplingPlanner, np.ndarray]:
    """A planner of ``method`` and the knots (N, K, m) of its first sample from ``state``:
    the batch a planning step rolls out first (``planner.spline.interpolate`` them)."""
    planner = build_planner(task, method, rng, horizon, rollouts)
    opt = planner.optimizer
    opt.reset(np.broadcast_to(task.nominal_action(state), opt.mean.shape))
    return planner, opt.sample(0)


def bench_rollout(task_name: str, rollouts: int = 32, horizon: float = 3.0, repeats: int = 20,
                  method: str = "cem", seed: int = 0, nthread: int | None = None,
                  engine: str | None = None, world: str | SpotWorld | None = None) -> dict:
    """Time engine vs bare physics (and judo's engine, for Spot) vs a planning iteration.

    The batch is one optimizer sample of ``rollouts`` control sequences. The baselines
    depend on what a task's control is: actuator inputs (push tasks) are replayed as they
    are; Spot's 9-DoF targets go through the locomotion policy, so its baselines replay
    the actuator targets and commands the engine derived from them (``_spot_baselines``).
    ``engine``: Spot's lane loop, "native" or "numpy" (None: the engine's default, the
    compiled loop where it builds); other tasks have one engine and take None only.
    ``world``: the Spot world the engine runs (None: the task's default, ``DEFAULT_WORLD``).
    """
    task = _make_task(task_name, nthread, horizon, world)
    spot = isinstance(task.engine, SpotRolloutEngine)  # type: ignore[attr-defined]
    if engine is not None:
        if not spot:
            raise ConfigError(f"{task_name} has one rollout engine; choosing an engine is "
                              "for Spot tasks only", setting="engine")
        if engine not in ENGINES:
            raise ConfigError(f"unknown engine {engine!r}; known: {', '.join(ENGINES)}")
        task.engine.native = engine == "native"  # type: ignore[attr-defined]
    state = task.sample_initial_state(initial_state_rng(seed, 0))
    planner, knots = first_sample(task, state, method, rollouts, horizon,
                                  np.random.default_rng(seed))
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
    if spot:
        result.setdefault("physics_ref_ms", result["physics_ms"])
        if "judo_ms" in result:  # the yardstick: how much faster than judo
            result["judo_over_engine"] = round(result["judo_ms"] / e, 4)
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


def _spot_baselines(task: SpotChairTask, state: np.ndarray, targets: np.ndarray):
    """Spot: bare physics of the actuator targets the engine applied, and judo's engine.

    One engine run recovers the per-step commands and actuator targets
    (``spot.bench.applied_inputs``). ``physics`` replays the targets open-loop for the
    world's physics steps per command on the engine's thread count; ``judo`` runs judo's
    compiled rollout (ONNX policy in the loop) with the same commands, or is reported as
    null with the reason when it cannot run here.

    judo and ``physics_ref`` always run the original world: in another world (``task.world``)
    the same targets are rolled out once more in the original (its own engine, same policy
    and lane loop) to recover that world's commands and actuator targets, so that the
    yardsticks do the original's physical work. In the original world ``physics_ref`` is
    ``physics`` itself (one measurement, reported twice).
    """
    engine = task.engine
    physics_only = PhysicsOnly(task.model, engine.nthread)
    physics_only.prepare(state, applied_inputs(engine, state, targets,
                                               engine.rollout_batch(state, targets).copy())[1])
    baselines = {"physics": physics_only.run}
    closers = [physics_only.close]
    figures: dict = {"world": task.world.name,
                     "physics_steps": int(targets.shape[1] * engine.substeps)}
    if task.world == spot_world(REFERENCE_WORLD):
        ref_engine, ref_state = engine, state
    else:
        ref_model = build_chair_world(REFERENCE_WORLD)
        ref_engine = SpotRolloutEngine(ref_model, engine.nthread, engine.policy,
                                       engine.action_config, native=engine.native)
        ref_state = convert_state(state, task.model, ref_model)
        closers.append(ref_engine.close)
    commands, ctrl = applied_inputs(ref_engine, ref_state, targets,
                                    ref_engine.rollout_batch(ref_state, targets).copy())
    if ref_engine is not engine:
        physics_ref = PhysicsOnly(ref_engine.model, engine.nthread)
        physics_ref.prepare(ref_state, ctrl)
        baselines["physics_ref"] = physics_ref.run
        closers.append(physics_ref.close)
    reason = judo_unavailable()
    if reason is None:
        judo = JudoRollout(ref_engine.model, targets.shape[0])
        layout = ref_engine.layout
        start = np.concatenate([layout.qpos(ref_state), layout.qvel(ref_state)])
        prev = layout.prev_out(ref_state)

        def judo_rollout() -> None:
            judo.rollout(start, commands, prev)

        baselines["judo"] = judo_rollout
        figures["judo_threads"] = judo.n
    else:
        figures["judo_ms"] = None
        figures["judo_note"] = reason

    def close() -> None:
        for closer in closers:
            closer()

    return baselines, figures, close


# Starts of the physics profile and the fidelity comparison: trials of probe seeds, never
# seed 0's (the evaluation's), so that choosing a world does not tune it to the test set.
PROBE_SEEDS = (1, 2, 3)
PROBE_TRIALS = 4
FIDELITY_LEAD_IN = 3.0  # s of walking at the chair before the compared batch (pushing it)


def _spot_task(task_name: str, world: str | SpotWorld, nthread: int | None,
               horizon: float) -> SpotChairTask:
    if not _is_spot(task_name):
        raise ConfigError(f"{task_name} is not a Spot task: this benchmark is for Spot worlds")
    return make_task(task_name, nthread=nthread, horizon=horizon, world=world)  # type: ignore[return-value]


def _probe_batch(task: SpotChairTask, seed: int, trial: int, rollouts: int,
                 horizon: float, lead_in: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Trial ``trial`` of seed ``seed``'s start, after ``lead_in`` s of walking at the chair
    (``spot.fidelity.approach``), and CEM's first batch of targets from there (the planner
    seeded by the same pair): fixed command sequences, the kind CEM ranks."""
    state = approach(task, task.sample_initial_state(initial_state_rng(seed, trial)), lead_in)
    rng = np.random.default_rng(np.random.SeedSequence([seed, trial, 18]))
    planner, knots = first_sample(task, state, "cem", rollouts, horizon, rng)
    return state, planner.spline.interpolate(knots)


def bench_physics(task_name: str, world: str | SpotWorld = DEFAULT_WORLD, rollouts: int = 32,
                  horizon: float = 4.0, seed: int = PROBE_SEEDS[0], trial: int = 0,
                  lead_in: float = FIDELITY_LEAD_IN, nthread: int | None = None) -> dict:
    """Where a physics step of a Spot ``world`` goes (``spot.physics_profile``).

    The workload is the planner's: CEM's first batch of ``rollouts`` target sequences
    from trial ``trial`` of ``seed`` after ``lead_in`` s of walking at the chair (as
    ``bench_fidelity``'s), rolled out once by the engine (policy in the loop) to get the
    actuator targets, which are then replayed step by step with MuJoCo's timers.
    """
    task = _spot_task(task_name, world, nthread, horizon)
    state, targets = _probe_batch(task, seed, trial, rollouts, horizon, lead_in)
    engine = task.engine
    _, ctrl = applied_inputs(engine, state, targets, engine.rollout_batch(state, targets).copy())
    profile = profile_physics(task.model, engine.layout.physics(state), ctrl)
    return {"task": task_name, "world": task.world.name, "settings": asdict(task.world),
            "rollouts": rollouts, "horizon_s": horizon, "seed": seed, "trial": trial,
            "lead_in_s": lead_in} | profile


def bench_fidelity(task_name: str, world: str | SpotWorld, reference: str | SpotWorld =
                   REFERENCE_WORLD, rollouts: int = 32, horizon: float = 4.0,
                   seeds: tuple[int, ...] = PROBE_SEEDS, trials: int = PROBE_TRIALS,
                   lead_in: float = FIDELITY_LEAD_IN, nthread: int | None = None) -> dict:
    """Trajectories and rankings of ``world`` against ``reference`` (``spot.fidelity``),
    with the rollout time of each world over the same batches.

    Batches: CEM's first ``rollouts`` target sequences from trials 0..``trials``-1 of each
    seed in ``seeds``, each after ``lead_in`` s of walking at the chair (``_probe_batch``,
    in the reference world): 0 compares walking from the sampler's starts, the default 3 s
    pushing the chair.
    """
    ref_task = _spot_task(task_name, reference, nthread, horizon)
    task = _spot_task(task_name, world, nthread, horizon)
    starts, batches = [], []
    for seed in seeds:
        for trial in range(trials):
            state, targets = _probe_batch(ref_task, seed, trial, rollouts, horizon, lead_in)
            starts.append(state)
            batches.append(targets)
    result = compare_worlds(ref_task, task, starts, batches)
    return {"task": task_name, **result, "settings": asdict(task.world), "seeds": list(seeds),
            "trials_per_seed": trials, "lead_in_s": lead_in, "threads": task.engine.nthread}


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
                   horizon: float = 3.0, flow_steps: int | None = None, repeats: int = 20,
                   seed: int = 0, nthread: int | None = None,
                   flow_noise: float | None = None) -> dict:
    """What sampling the proposal model adds to a GPC-CEM planning iteration.

    ``overhead`` = GPC-CEM / GPC-CEM with the same model's proposals drawn
    beforehand - 1: the two iterations do the same work (same optimizer,
    proposals from the same distribution, so rollouts of the same kind) except
    for sampling the model. ``sampling_share`` = the timed sampling call alone
    over the pre-drawn iteration: the same quantity, without the rollouts'
    variance. Comparing with CEM instead (``vs_cem``) also counts
    that proposals make contact-rich rollouts, which cost MuJoCo more than
    CEM's early free-space samples: a property of the task, not of sampling.
    ``flow_steps`` / ``flow_noise`` left None: the model's recommendation for GPC-CEM.
    """
    from gpc_planner.methods import resolve_model_path, sampling_for

    task = make_task(task_name, nthread=nthread, horizon=horizon)
    state = task.sample_initial_state(initial_state_rng(seed, 0))
    path = resolve_model_path(task.name, "gpc_cem", model)
    sampling = sampling_for("gpc_cem", [path], flow_noise=flow_noise, flow_steps=flow_steps,
                            task=task.name)
    flow_steps, flow_noise = sampling.flow_steps, sampling.flow_noise

    def gpc_planner():
        return build_planner(task, "gpc_cem", np.random.default_rng(seed), horizon, rollouts,
                             model=path, flow_steps=flow_steps, flow_noise=flow_noise)

    cem = build_planner(task, "cem", np.random.default_rng(seed), horizon, rollouts)
    gpc = gpc_planner()
    predrawn = gpc_planner()
    proposal = gpc.optimizer.proposal  # type: ignore[attr-defined]
    n_flow = gpc.optimizer.num_flow  # type: ignore[attr-defined]
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
