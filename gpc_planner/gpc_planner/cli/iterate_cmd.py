"""``gpc iterate``: alternate data collection with the partly trained model and retraining."""

from __future__ import annotations

import argparse

from gpc_planner.cli.args import positive_int
from gpc_planner.cli.collect_cmd import add_collect_arguments, spec_from_args
from gpc_planner.cli.train_cmd import add_train_arguments, config_from_args


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "iterate",
        help="iterative training (Kurtz & Burdick): collect with GPC-CEM, retrain, repeat",
        description="Iteration 0 collects with CEM and trains; each later iteration collects "
        "with GPC-CEM using the previous model and retrains on all data so far. Writes "
        "OUT/iterations.json (success rate and CEM sample ratio per iteration) and a plot. "
        "Rerunning the same command resumes.",
    )
    p.add_argument("--iterations", dest="rounds", type=positive_int, required=True,
                   help="rounds of collect + train")
    p.add_argument("--episodes", type=positive_int, required=True,
                   help="episodes collected per iteration")
    add_collect_arguments(p, iterations_flag="--cem-iterations")
    add_train_arguments(p)
    p.add_argument("--train-seed", type=int, default=0, help="training seed (default 0)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from gpc_planner.iterate import iterate

    torch.set_num_threads(1)  # small MLP: see gpc train --threads

    summary = iterate(spec_from_args(args, args.episodes, None), args.rounds,
                      config_from_args(args), args.out, workers=args.workers,
                      progress=not args.no_progress)
    for row in summary["iterations"]:
        ratio = row["cem_sample_ratio_mean"]
        print(f"iteration {row['iteration']} ({row['method']}): success "
              f"{row['successes']}/{row['episodes']}, CEM sample ratio "
              f"{'-' if ratio is None else format(ratio, '.2f')}, "
              f"final loss {row['final_loss']:.4f}")
    print(f"wrote {args.out}/iterations.json")
    return 0
