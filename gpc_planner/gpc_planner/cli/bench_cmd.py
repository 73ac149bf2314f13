"""``gpc bench``: speed figures of the rollout engine and the planning loop."""

from __future__ import annotations

import argparse
import json

from gpc_planner.bench import ENGINES, bench_proposal, bench_rollout
from gpc_planner.cli.args import add_model_arguments, positive_float, positive_int
from gpc_planner.methods import METHODS
from gpc_sim.tasks import TASKS


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
    r.set_defaults(run=run_rollout)
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


def run_rollout(args: argparse.Namespace) -> int:
    _print(bench_rollout(args.task, args.rollouts, args.horizon, args.repeats, args.method,
                         nthread=args.threads, engine=args.engine), args.json)
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
