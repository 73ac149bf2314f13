"""``gpc collect``: offline CEM data collection for the proposal model."""

from __future__ import annotations

import argparse
import json

from gpc_planner.cli.args import (
    add_backend_arguments,
    add_flow_arguments,
    backend_from_args,
    positive_float,
    positive_int,
    seed,
)
from gpc_planner.collect import CollectSpec, collect
from gpc_planner.sampling import SamplingSettings
from gpc_sim.tasks import TASKS


def add_collect_arguments(p: argparse.ArgumentParser, iterations_flag: str = "--iterations",
                          iterating: bool = False) -> None:
    """The settings of a collection (shared with ``gpc iterate``, which names the CEM
    iterations ``--cem-iterations`` since its ``--iterations`` counts rounds, and samples
    each round's freshly trained model, which has no recommended sampling)."""
    p.add_argument("--task", required=True, choices=sorted(TASKS), help="task name")
    p.add_argument("--seed", type=seed, default=0,
                   help="seed of initial states (stream seed + 1000000, disjoint from "
                   "gpc eval's) and planners (default 0)")
    p.add_argument("--rollouts", type=positive_int, default=128,
                   help="rollouts per CEM iteration (default 128)")
    p.add_argument("--horizon", type=positive_float, default=3.0,
                   help="planning horizon in seconds (default 3.0)")
    p.add_argument(iterations_flag, dest="iterations", type=positive_int, default=2,
                   help="CEM iterations per planning step (default 2)")
    p.add_argument("--max-steps", type=positive_int, default=None,
                   help="episode limit in control steps (default: the task's, 2500 for push)")
    if iterating:
        add_flow_arguments(p, "each round's model", from_card=False)
    else:
        add_flow_arguments(p, "a --proposal model")
    p.add_argument("--stall", type=positive_float, default=None, metavar="SECONDS",
                   help="end an episode as hopeless once its object (chair, block) has moved "
                   "less than --stall-distance in the last SECONDS (default: never; "
                   "docs/SPOT_DATA.md gives the Spot recipe's)")
    p.add_argument("--stall-distance", type=positive_float, default=0.15, metavar="M",
                   help="metres the object must move within --stall seconds (default 0.15)")
    p.add_argument("--task-option", action="append", default=[], metavar="KEY=VALUE",
                   type=task_option,
                   help="a task setting other than its default, e.g. world=balanced or "
                   "chair_start_y=1.0 (Spot); repeatable; part of the folder's settings")
    add_backend_arguments(p)
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def task_option(text: str) -> tuple[str, object]:
    """``KEY=VALUE`` -> (key, value); the value is read as JSON (numbers, lists, true),
    else kept as a string (a world's name). The task checks the key."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = value
    return key.strip(), parsed


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "collect",
        help="collect (x, h, U*) training data with offline CEM (successful episodes only)",
        description="Run CEM episodes from seeded random initial states at offline settings "
        "and store, per successful episode, the observation, the previous replanning "
        "observation and the CEM mean knot sequence of every replanning step (see "
        "docs/DATASET.md). Rerunning the same command resumes; --episodes may grow.",
    )
    add_collect_arguments(p)
    p.add_argument("--episodes", type=positive_int, required=True,
                   help="episodes to run (ids 0..N-1; failures are recorded, not kept)")
    p.add_argument("--proposal", default=None, metavar="MODEL.pt",
                   help="collect with GPC-CEM using this model (iterative training) "
                   "instead of CEM")
    p.add_argument("--out", required=True, metavar="DIR", help="dataset folder")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(run=run)


def collection_sampling(args: argparse.Namespace, proposal: str | None) -> SamplingSettings:
    """The flow settings a collection records and samples with: the flags, else (with a
    proposal) what the model recommends for GPC-CEM, else the paper's (CollectSpec's)."""
    if proposal is None:
        default = CollectSpec(task=args.task)
        return SamplingSettings(
            flow_noise=default.flow_noise if args.flow_noise is None else args.flow_noise,
            flow_steps=default.flow_steps if args.flow_steps is None else args.flow_steps)
    from gpc_planner.methods import sampling_for

    method = CollectSpec(task=args.task, proposal=proposal).method
    return sampling_for(method, [proposal], flow_noise=args.flow_noise,
                        flow_steps=args.flow_steps, task=args.task)


def spec_from_args(args: argparse.Namespace, episodes: int, proposal: str | None) -> CollectSpec:
    sampling = collection_sampling(args, proposal)
    return CollectSpec(task=args.task, episodes=episodes, seed=args.seed,
                       rollouts=args.rollouts, horizon=args.horizon, iterations=args.iterations,
                       max_steps=args.max_steps, proposal=proposal,
                       flow_steps=sampling.flow_steps, flow_noise=sampling.flow_noise,
                       stall_window=args.stall,
                       stall_distance=args.stall_distance,
                       task_options=tuple(args.task_option))


def run(args: argparse.Namespace) -> int:
    spec = spec_from_args(args, args.episodes, args.proposal)
    backend = backend_from_args(args)
    stats = collect(spec, args.out, workers=args.workers, progress=not args.no_progress,
                    backend=backend)
    if args.json:
        print(json.dumps(stats, indent=2))
    else:
        print(f"{args.out}: {stats['successes']}/{stats['episodes']} successful episodes, "
              f"{stats['samples']} samples, {stats['stopped_early']} ended early as "
              f"hopeless; {stats['core_hours']:.2f} core-hours (data card: "
              f"{args.out}/card.md)")
    return 0
