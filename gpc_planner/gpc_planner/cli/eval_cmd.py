"""``gpc eval``: closed-loop success rate of a method, with a Wilson interval."""

from __future__ import annotations

import argparse
import json

from gpc_planner.cli.args import (
    add_backend_arguments,
    add_model_arguments,
    backend_from_args,
    positive_float,
    positive_int,
    seed,
)
from gpc_planner.cli.collect_cmd import task_option
from gpc_planner.evaluation import EvalSpec, evaluate, format_summary
from gpc_planner.methods import METHODS
from gpc_sim.spot.worlds import DEFAULT_WORLD, SPOT_WORLDS
from gpc_sim.tasks import TASKS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "eval",
        help="closed-loop evaluation of a planner (success rate, Wilson 95%% CI, steps)",
        description="Run closed-loop episodes (plant = simulator, planner = METHOD) from a "
        "fixed, seeded set of initial states shared by all methods, and report the success "
        "rate with a Wilson 95% interval. With --out, finished trials are journaled and an "
        "interrupted run resumes where it stopped.",
    )
    p.add_argument("--task", required=True, choices=sorted(TASKS), help="task name")
    p.add_argument("--method", required=True, choices=METHODS, help="planning method")
    p.add_argument("--trials", type=positive_int, default=200, help="episodes (default 200)")
    p.add_argument("--seed", type=seed, default=0,
                   help="seed of the initial states and planners (default 0)")
    p.add_argument("--rollouts", type=positive_int, default=None,
                   help="rollouts per planning iteration (default: the method's, 32)")
    p.add_argument("--horizon", type=positive_float, default=None,
                   help="planning horizon in seconds (default: the task's)")
    p.add_argument("--shape", default=None, metavar="FILE.yaml",
                   help="block shape for push tasks: preset t|k or a YAML file of rectangles")
    p.add_argument("--max-steps", type=positive_int, default=None,
                   help="episode limit in control steps (default: the task's, 2500 for push)")
    add_model_arguments(p, several=True)
    p.add_argument("--world", default=None,
                   help=f"Spot tasks: the world preset the planner's rollouts simulate, one of "
                   f"{', '.join(SPOT_WORLDS)} (default {DEFAULT_WORLD}; docs/SPOT_PHYSICS.md)")
    p.add_argument("--plant-world", default=None,
                   help="Spot tasks: the world preset of the simulated robot (default: the "
                   "same as --world); a cheaper --world against the original plant measures "
                   "what planning on it costs")
    p.add_argument("--task-option", action="append", default=[], metavar="KEY=VALUE",
                   type=task_option,
                   help="a task setting other than its default (repeatable), e.g. "
                   "goal_distance=euclidean (the paper's straight-line Spot cost; default "
                   "geodesic, around the obstacle); part of the run's settings")
    p.add_argument("--method-option", action="append", default=[], metavar="KEY=VALUE",
                   type=task_option,
                   help="an optimizer setting other than the method's default and the "
                   "task's tuned one (repeatable), e.g. temperature=0.01 or execute=best; "
                   "part of the run's settings, in its label; --rollouts, --flow-steps and "
                   "--flow-noise set their own")
    add_backend_arguments(p)
    p.add_argument("--out", default=None, metavar="FILE.json",
                   help="write the summary JSON here (and resume from FILE.json.partial.jsonl)")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar: one log line per finished trial instead")
    p.add_argument("--json", action="store_true", help="print the summary JSON to stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    spec = EvalSpec(task=args.task, method=args.method, trials=args.trials, seed=args.seed,
                    rollouts=args.rollouts, horizon=args.horizon, shape=args.shape,
                    max_steps=args.max_steps, model=tuple(args.model) if args.model else None,
                    flow_steps=args.flow_steps, flow_noise=args.flow_noise,
                    world=args.world, plant_world=args.plant_world,
                    task_options=tuple(args.task_option),
                    method_options=tuple(args.method_option))
    backend = backend_from_args(args)
    summary = evaluate(spec, workers=args.workers, out=args.out, progress=not args.no_progress,
                       backend=backend)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(format_summary(summary))
        if args.out:
            print(f"wrote {args.out}")
    return 0
