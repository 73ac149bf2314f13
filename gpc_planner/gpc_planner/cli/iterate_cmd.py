"""``gpc iterate``: alternate data collection with the partly trained model and retraining."""

from __future__ import annotations

import argparse

from gpc_planner.cli.args import backend_from_args, nonnegative_int, positive_int, seed
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
    add_collect_arguments(p, iterations_flag="--cem-iterations", iterating=True)
    add_train_arguments(p)
    p.add_argument("--train-seed", type=seed, default=0, help="training seed (default 0)")
    p.add_argument("--eval-trials", type=nonnegative_int, default=100,
                   help="evaluate each iteration's model online as GPC-CEM (32 rollouts, "
                   "the task's horizon) over this many trials of gpc eval's initial states, "
                   "as the paper's Fig. 4 (default 100; 0 skips)")
    p.add_argument("--eval-seed", type=seed, default=0,
                   help="seed of the evaluation's initial states (default 0, as gpc eval)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from gpc_planner.evaluation import EvalSpec
    from gpc_planner.iterate import iterate

    torch.set_num_threads(1)  # small MLP: see gpc train --threads
    # The rounds' models are trained here, with no recommended sampling: the flags or the
    # paper's settings, the same for every round's collection and evaluation.
    spec = spec_from_args(args, args.episodes, None)
    backend = backend_from_args(args)
    evaluation = None
    if args.eval_trials > 0:
        evaluation = EvalSpec(task=args.task, method="gpc_cem", trials=args.eval_trials,
                              seed=args.eval_seed, flow_steps=spec.flow_steps,
                              flow_noise=spec.flow_noise)

    summary = iterate(spec, args.rounds,
                      config_from_args(args), args.out, workers=args.workers,
                      progress=not args.no_progress, evaluation=evaluation, backend=backend)
    for row in summary["iterations"]:
        ratio = row["cem_sample_ratio_mean"]
        line = (f"iteration {row['iteration']} ({row['method']}): collection success "
                f"{row['successes']}/{row['episodes']}, CEM sample ratio "
                f"{'-' if ratio is None else format(ratio, '.2f')}, "
                f"final loss {row['final_loss']:.4f}")
        if "eval" in row:
            e = row["eval"]
            line += (f"; GPC-CEM eval {e['successes']}/{e['trials']} "
                     f"({e['ci_low']:.2f}-{e['ci_high']:.2f}), CEM sample ratio "
                     f"{e['cem_sample_ratio_mean']:.2f}")
        print(line)
    print(f"wrote {args.out}/iterations.json")
    return 0
