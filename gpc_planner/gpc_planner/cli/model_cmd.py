"""``gpc model``: what a proposal model file records about itself.

``gpc model set-sampling MODEL.pt --method gpc_cem --flow-noise 2 --flow-steps 10`` records
how a method should sample the model (``gpc_planner.sampling``), ``--task T`` on one task
only: runs given no flow setting use it. The model file is rewritten atomically and its
card's sampling section regenerated.
"""

from __future__ import annotations

import argparse

from gpc_planner.cli.args import positive_float, positive_int
from gpc_planner.registry import MODEL_METHODS
from gpc_sim.tasks import TASKS


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("model", help="proposal model files: record their sampling settings",
                       description="Settings that live with a proposal model file.")
    model = p.add_subparsers(dest="model_command", required=True, metavar="ACTION")
    s = model.add_parser(
        "set-sampling",
        help="record how a method should sample the model (its model card shows it)",
        description="Record in MODEL.pt the flow settings METHOD samples it with when a run "
        "(gpc eval, demo, collect --proposal, bench proposal, the planner node) is given "
        "none; without a recommendation the paper's (flow noise 1, 10 flow steps) apply. "
        "With --task the settings hold on that task only and come before the method's "
        "own (one model file serving two tasks, each sampled as measured best on it). "
        "The file is rewritten atomically (same weights, a new sha256) and its model card "
        "(NAME.model_card.md beside NAME.pt, or model_card.md in a gpc train folder) gets "
        "the new 'Recommended sampling' section.",
    )
    s.add_argument("model", metavar="MODEL.pt", help="the proposal model file")
    s.add_argument("--method", required=True, choices=MODEL_METHODS,
                   help="the method the settings are for")
    s.add_argument("--task", choices=sorted(TASKS), default=None,
                   help="record the settings for this task only (default: for every task "
                   "without its own)")
    s.add_argument("--flow-noise", type=positive_float, default=None,
                   help="std of the flow's initial noise (default: keep the current "
                   "recommendation, or the paper's 1)")
    s.add_argument("--flow-steps", type=positive_int, default=None,
                   help="Euler steps (default: keep the current recommendation, or the "
                   "paper's 10)")
    s.add_argument("--clear", action="store_true",
                   help="drop the method's recommendation (back to the paper's settings)")
    s.set_defaults(run=run_set_sampling)


def run_set_sampling(args: argparse.Namespace) -> int:
    from gpc_planner.proposals.model_card import model_card_paths, set_model_sampling
    from gpc_planner.sampling import recommended_sampling

    sampling = set_model_sampling(args.model, args.method, flow_noise=args.flow_noise,
                                  flow_steps=args.flow_steps, clear=args.clear,
                                  task=args.task)
    card = model_card_paths(args.model)[0]
    chosen = recommended_sampling(sampling, args.method, args.task)
    where = "" if args.task is None else f" on {args.task}"
    print(f"{args.model}: {args.method}{where} samples it with flow noise "
          f"{chosen.flow_noise:g}, {chosen.flow_steps} flow steps; card: {card}")
    return 0
