"""``gpc bench``: speed figures of the rollout engine and the planning loop."""

from __future__ import annotations

import argparse
import json

from gpc_planner.bench import bench_proposal, bench_rollout
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
        "of interleaved repeats.",
    )
    r.add_argument("--task", required=True, choices=sorted(TASKS))
    r.add_argument("--rollouts", type=positive_int, default=32)
    r.add_argument("--horizon", type=positive_float, default=3.0, help="seconds")
    r.add_argument("--repeats", type=positive_int, default=20)
    r.add_argument("--method", choices=METHODS, default="cem",
                   help="optimizer for the planning-iteration figure")
    r.add_argument("--threads", type=positive_int, default=None,
                   help="rollout threads (default: cores available)")
    r.add_argument("--json", action="store_true", help="print JSON only")
    r.set_defaults(run=run_rollout)
    g = bench.add_parser(
        "proposal",
        help="planning iteration of CEM vs GPC-CEM and the model's sampling time",
        description="Times a planning step of CEM and of GPC-CEM at the same rollouts and "
        "horizon, and sampling the proposal model alone (medians of interleaved repeats); "
        "overhead = GPC-CEM / CEM - 1.",
    )
    g.add_argument("--task", required=True, choices=sorted(TASKS))
    g.add_argument("--rollouts", type=positive_int, default=32)
    g.add_argument("--horizon", type=positive_float, default=3.0, help="seconds")
    g.add_argument("--repeats", type=positive_int, default=20)
    add_model_arguments(g)
    g.add_argument("--threads", type=positive_int, default=None,
                   help="rollout threads (default: cores available)")
    g.add_argument("--json", action="store_true", help="print JSON only")
    g.set_defaults(run=run_proposal)


def run_rollout(args: argparse.Namespace) -> int:
    result = bench_rollout(args.task, args.rollouts, args.horizon, args.repeats, args.method,
                           nthread=args.threads)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    return 0


def run_proposal(args: argparse.Namespace) -> int:
    result = bench_proposal(args.task, args.model, args.rollouts, args.horizon, args.flow_steps,
                            args.repeats, nthread=args.threads)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>18}: {value}")
    return 0
