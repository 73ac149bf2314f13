"""``gpc demo``: one headless episode with progress, a result line and a picture."""

from __future__ import annotations

import argparse
import io
import time

import numpy as np

from gpc_planner.atomic import write_atomic
from gpc_planner.cli.args import add_model_arguments, nonnegative_int, positive_int, seed
from gpc_planner.episode import run_episode
from gpc_planner.methods import METHODS, build_planner
from gpc_planner.outputs import check_output_dir
from gpc_planner.plotting import plot_episode, plot_spot_strip
from gpc_sim.errors import ConfigError
from gpc_sim.spot.task import SpotChairTask
from gpc_sim.spot.worlds import DEFAULT_WORLD, SPOT_WORLDS
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import TASKS, has_setting, make_task


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="one headless episode (Push-T by default) with a picture",
                       description="Run one closed-loop episode, print progress and the "
                       "result, and save a top-view picture of the trajectory (for Spot "
                       "tasks also an image strip of six moments) and the recorded states "
                       "(.npz).")
    p.add_argument("--task", choices=sorted(TASKS), default="push_t")
    p.add_argument("--method", choices=METHODS, default="cem")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--trial", type=nonnegative_int, default=0,
                   help="which initial state of the seeded set (as in gpc eval)")
    p.add_argument("--rollouts", type=positive_int, default=None)
    p.add_argument("--max-steps", type=positive_int, default=None,
                   help="episode limit in control steps (default: the task's)")
    p.add_argument("--world", choices=sorted(SPOT_WORLDS), default=None,
                   help=f"Spot tasks: the world of the robot and the rollouts (default "
                   f"{DEFAULT_WORLD}; original replays results made before the switch)")
    add_model_arguments(p)
    p.add_argument("--out", default="runs/demo", help="folder for the pictures and states")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    check_output_dir(args.out, "demo folder")  # before the episode, not after it
    if args.world is not None and not has_setting(args.task, "world"):
        raise ConfigError(f"task {args.task} has no worlds (--world is for the Spot tasks)",
                          setting="world")
    task = make_task(args.task, **({} if args.world is None else {"world": args.world}))
    max_steps = args.max_steps or task.config.max_steps
    state = task.sample_initial_state(initial_state_rng(args.seed, args.trial))
    rng = np.random.default_rng(np.random.SeedSequence([args.seed, args.trial, 1]))
    planner = build_planner(task, args.method, rng, num_rollouts=args.rollouts,
                            model=args.model, flow_steps=args.flow_steps,
                            flow_noise=args.flow_noise)
    print(f"[demo] {task.name} with {args.method}: seed {args.seed}, trial {args.trial}, "
          f"{planner.optimizer.config.num_rollouts} rollouts x {planner.spline.horizon:g} s, "
          f"replanning at {task.config.replan_hz:g} Hz, limit {max_steps} steps")
    bar = tqdm(total=max_steps, unit="step", desc="[demo] episode",
               dynamic_ncols=True, mininterval=0.5)

    def on_plan(step: int, state: np.ndarray, plan) -> None:
        metrics = task.metrics(state)
        shown = {k: f"{metrics[k]:.2f}" for k in ("coverage", "position_error") if k in metrics}
        bar.set_postfix(**shown, cost=f"{plan.best_cost:.2f}", refresh=False)
        bar.update(step - bar.n)

    start = time.perf_counter()
    result = run_episode(planner, state, max_steps=max_steps, record=True, on_plan=on_plan)
    bar.update(result.steps - bar.n)
    bar.close()
    wall = time.perf_counter() - start
    outcome = "SUCCESS" if result.success else "FAILURE"
    metrics = ", ".join(f"{k} {v:.3f}" for k, v in result.final_metrics.items())
    print(f"[demo] {outcome} after {result.steps} steps ({result.steps * task.dt:.1f} s simulated, "
          f"{wall:.1f} s wall); {metrics}; median plan time "
          f"{np.median(result.plan_times) * 1e3:.1f} ms")
    stem = f"{args.out}/{task.name}_{args.method}_seed{args.seed}_trial{args.trial}"
    title = f"{task.name} / {args.method}: {outcome.lower()} in {result.steps} steps"
    buffer = io.BytesIO()
    np.savez_compressed(buffer, states=result.states, dt=task.dt, success=result.success)
    write_atomic(f"{stem}.npz", buffer.getvalue())
    picture = plot_episode(task, result.states, f"{stem}.png", title)
    print(f"[demo] picture: {picture}; states: {stem}.npz")
    if isinstance(task, SpotChairTask):
        strip = plot_spot_strip(task, result.states, f"{stem}_strip.png", title)
        print(f"[demo] image strip: {strip}")
    return 0  # the demo ran; its outcome is in the log and the picture
