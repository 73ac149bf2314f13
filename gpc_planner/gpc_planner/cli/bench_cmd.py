"""``gpc bench``: speed figures of the rollout engine and the planning loop."""

from __future__ import annotations

import argparse
import json
from dataclasses import fields

from gpc_planner.bench import (
    ENGINES,
    FIDELITY_LEAD_IN,
    PROBE_SEEDS,
    PROBE_TRIALS,
    bench_fidelity,
    bench_physics,
    bench_proposal,
    bench_rollout,
)
from gpc_planner.cli.args import (
    add_model_arguments,
    nonnegative_int,
    positive_float,
    positive_int,
)
from gpc_planner.methods import METHODS
from gpc_sim.spot.worlds import (
    DEFAULT_WORLD,
    REFERENCE_WORLD,
    SPOT_WORLDS,
    SpotWorld,
    world_with_options,
)
from gpc_sim.tasks import TASKS

_SPOT_TASKS = ("spot_chair", "spot_chair_avoid")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="benchmarks that print figures (rollout engine, planning)")
    bench = p.add_subparsers(dest="bench", required=True, metavar="BENCH")
    r = bench.add_parser(
        "rollout",
        help="engine vs bare mujoco.rollout time for one batch, and a planning iteration",
        description="Times the project's batched rollout (engine_ms), bare mujoco.rollout on "
        "the same batch (physics_ms), their ratio, and a full planning iteration, as medians "
        "of interleaved repeats. Spot tasks: physics_ms replays the actuator targets the "
        "policy produced, and judo_ms times judo's compiled rollout (policy in the loop) on "
        "the same world and commands (null with judo_note where it cannot run).",
    )
    _add_common_arguments(r)
    r.add_argument("--method", choices=METHODS, default="cem",
                   help="optimizer for the planning-iteration figure")
    r.add_argument("--engine", choices=ENGINES, default=None,
                   help="Spot tasks: the rollout engine's lane loop, compiled (native) or "
                   "numpy (default: native where it builds; the result's engine says which)")
    _add_world_arguments(r, required=False,
                         extra=" (judo_ms and physics_ref_ms always run the original world)")
    r.set_defaults(run=run_rollout)
    ph = bench.add_parser(
        "physics",
        help="where a physics step of a Spot world goes (MuJoCo's stage timers, contacts)",
        description="Replays the actuator targets of CEM's first batch (from a probe seed's "
        "start, after a lead-in of walking at the chair) step by step on one thread with "
        "MuJoCo's stage timers on, and prints microseconds per physics step by stage (step = "
        "forward + advance; collision, constraint make, constraint solve, ...), the solver's "
        "iterations and constraint rows, and the contacts per step by kind of pair "
        "(feet-floor, casters-floor, chair-robot, chair-obstacle, ...).",
    )
    ph.add_argument("--task", required=True, choices=_SPOT_TASKS)
    _add_world_arguments(ph, required=False)
    ph.add_argument("--rollouts", type=positive_int, default=32)
    ph.add_argument("--horizon", type=positive_float, default=4.0, help="seconds (default 4)")
    ph.add_argument("--seed", type=nonnegative_int, default=PROBE_SEEDS[0],
                    help=f"seed of the start (default {PROBE_SEEDS[0]}, a probe seed)")
    ph.add_argument("--trial", type=nonnegative_int, default=0, help="trial of the start")
    ph.add_argument("--lead-in", type=_seconds, default=FIDELITY_LEAD_IN,
                    help=f"seconds of walking at the chair before the batch (default "
                    f"{FIDELITY_LEAD_IN:g}: the samples push the chair)")
    ph.add_argument("--json", action="store_true", help="print JSON only")
    ph.set_defaults(run=run_physics)
    f = bench.add_parser(
        "fidelity",
        help="how far a Spot world's rollouts drift from the original world's",
        description="Rolls the same command sequences (CEM's first batch of --rollouts from "
        "each start: trials 0..--trials-1 of every --seeds, after a lead-in of walking at the "
        "chair) out in the original world and in --world, and prints the torso and chair "
        "position and yaw errors at 1, 2 and 4 s (mean, max), the falls and chair tips in "
        "each world, per start the rank correlation of the final chair-goal distance and of "
        "the task's cost across the samples and the overlap of CEM's 6 elites (mean, min), "
        "and each world's rollout time.",
    )
    f.add_argument("--task", required=True, choices=_SPOT_TASKS)
    _add_world_arguments(f, required=True)
    f.add_argument("--reference", default=REFERENCE_WORLD,
                   help=f"the world compared against (default {REFERENCE_WORLD}, judo's)")
    f.add_argument("--rollouts", type=positive_int, default=32, help="samples per start")
    f.add_argument("--horizon", type=positive_float, default=4.0, help="seconds (default 4)")
    f.add_argument("--seeds", type=nonnegative_int, nargs="+", default=list(PROBE_SEEDS),
                   help="seeds of the starts (default: the probe seeds 1 2 3, never the "
                   "evaluation's 0)")
    f.add_argument("--trials", type=positive_int, default=PROBE_TRIALS,
                   help=f"starts per seed (default {PROBE_TRIALS})")
    f.add_argument("--lead-in", type=_seconds, default=FIDELITY_LEAD_IN,
                   help=f"seconds of walking at the chair before the batch (default "
                   f"{FIDELITY_LEAD_IN:g}: the samples push the chair; 0: from the starts)")
    f.add_argument("--threads", type=positive_int, default=None,
                   help="rollout threads (default: cores available)")
    f.add_argument("--json", action="store_true", help="print JSON only")
    f.set_defaults(run=run_fidelity)
    g = bench.add_parser(
        "proposal",
        help="what sampling the proposal model adds to a GPC-CEM planning iteration",
        description="Times a planning step of GPC-CEM, of the same GPC-CEM with the "
        "model's proposals drawn once beforehand, and of CEM, at the same rollouts and "
        "horizon, and sampling the model alone (medians of interleaved repeats). overhead = "
        "GPC-CEM / pre-drawn GPC-CEM - 1 (what sampling adds); vs_cem = GPC-CEM / CEM - 1.",
    )
    _add_common_arguments(g)
    add_model_arguments(g)
    g.set_defaults(run=run_proposal)


def _add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, choices=sorted(TASKS))
    p.add_argument("--rollouts", type=positive_int, default=32)
    p.add_argument("--horizon", type=positive_float, default=3.0, help="seconds")
    p.add_argument("--repeats", type=positive_int, default=20)
    p.add_argument("--threads", type=positive_int, default=None,
                   help="rollout threads (default: cores available)")
    p.add_argument("--json", action="store_true", help="print JSON only")


def _seconds(text: str) -> float:
    """A duration >= 0 (a lead-in may be none)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text!r}") from None
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0, got {text}")
    return value


def _add_world_arguments(p: argparse.ArgumentParser, required: bool, extra: str = "") -> None:
    default = "" if required else f" (default: {DEFAULT_WORLD})"
    p.add_argument("--world", required=required, default=None,
                   help=f"Spot tasks: the world preset, one of {', '.join(SPOT_WORLDS)}"
                   f"{default}{extra}")
    settings = ", ".join(f.name for f in fields(SpotWorld) if f.name != "name")
    p.add_argument("--world-option", action="append", default=[], metavar="KEY=VALUE",
                   help="change one setting of the world for this measurement (a lever, "
                   f"not a preset; repeatable): {settings}")


def _world(args: argparse.Namespace):
    """The world of ``--world`` with ``--world-option`` changes; None when neither is given."""
    if args.world is None and not args.world_option:
        return None
    return world_with_options(args.world or DEFAULT_WORLD, args.world_option)


def run_rollout(args: argparse.Namespace) -> int:
    _print(bench_rollout(args.task, args.rollouts, args.horizon, args.repeats, args.method,
                         nthread=args.threads, engine=args.engine, world=_world(args)),
           args.json)
    return 0


def run_physics(args: argparse.Namespace) -> int:
    _print(bench_physics(args.task, _world(args) or DEFAULT_WORLD, args.rollouts, args.horizon,
                         args.seed, args.trial, args.lead_in), args.json)
    return 0


def run_fidelity(args: argparse.Namespace) -> int:
    _print(bench_fidelity(args.task, _world(args), args.reference, args.rollouts, args.horizon,
                          tuple(args.seeds), args.trials, args.lead_in, nthread=args.threads),
           args.json)
    return 0


def run_proposal(args: argparse.Namespace) -> int:
    _print(bench_proposal(args.task, args.model, args.rollouts, args.horizon, args.flow_steps,
                          args.repeats, nthread=args.threads, flow_noise=args.flow_noise),
           args.json)
    return 0


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
