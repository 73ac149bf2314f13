"""``gpc train``: fit the flow-matching proposal model to ``gpc collect`` data (``--method
gpc``, the default), or train an NFMPC / FlowMPPI flow on its own episodes."""

from __future__ import annotations

import argparse

from gpc_planner.cli.args import (
    nonnegative_float,
    nonnegative_int,
    positive_float,
    positive_int,
    seed,
)
from gpc_planner.control import SHIFT_TAILS

TRAIN_METHODS = ("gpc", "nfmpc", "flow_mppi")
# Options of one kind of training only: (dest, flag). The others are shared.
GPC_ONLY = (("data", "--data"), ("epochs", "--epochs"), ("batch_size", "--batch-size"),
            ("warmup", "--warmup"), ("mirror", "--mirror"),
            ("failures_within", "--failures-within"))
# Of NFMPC's training only (FlowMPPI has no latent shift model).
NFMPC_ONLY = (("fixed_shift", "--fixed-shift"), ("shift_tail", "--shift-tail"),
              ("bptt_steps", "--bptt-steps"), ("shift_anchor", "--shift-anchor"))
NF_ONLY = (("task", "--task"), ("episodes", "--episodes"), ("rollouts", "--rollouts"),
           ("couplings", "--couplings"), ("select_window", "--select-window"), *NFMPC_ONLY)


def add_train_arguments(p: argparse.ArgumentParser, by_method: bool = False) -> None:
    """The training settings (shared with ``gpc iterate``).

    ``by_method`` (``gpc train``): every default is None, resolved by the training method
    (``config_from_args``, ``nf_config_from_args``), so that an option given to the
    training it does not belong to is refused rather than ignored.
    """

    def default(value):
        return None if by_method else value

    p.add_argument("--epochs", type=positive_int, default=default(200),
                   help="epochs (default 200)")
    p.add_argument("--batch-size", type=positive_int, default=default(2048),
                   help="samples per step (default 2048; the paper: 40000)")
    p.add_argument("--lr", type=positive_float, default=default(1e-4),
                   help="Adam learning rate (default 1e-4" + (
                       "; nfmpc and flow_mppi: 3e-4)" if by_method else ")"))
    p.add_argument("--warmup", type=nonnegative_int, default=default(500),
                   help="linear warm-up steps before the cosine decay (default 500)")
    p.add_argument("--hidden", type=positive_int, default=default(256),
                   help="units per layer (default 256" + (
                       "; nfmpc and flow_mppi: 128)" if by_method else ")"))
    p.add_argument("--layers", type=positive_int, default=default(3),
                   help="hidden layers (default 3" + (
                       "; nfmpc and flow_mppi: 2 per coupling network)" if by_method
                       else ")"))
    p.add_argument("--mirror", action="store_true", default=default(False),
                   help="also train on every sample's mirror image, for tasks that are "
                   "mirror-symmetric (push_t: x -> -x); doubles the data")
    p.add_argument("--checkpoint-every", type=positive_int, default=default(10),
                   help="epochs between checkpoints (default 10" + (
                       "; nfmpc and flow_mppi: episodes, default 25)" if by_method
                       else ")"))


def config_from_args(args: argparse.Namespace):
    """GPC's TrainConfig from the options (those left None: its defaults)."""
    from gpc_planner.proposals.train import TrainConfig

    given = {"epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
             "warmup_steps": args.warmup, "hidden": args.hidden, "layers": args.layers,
             "checkpoint_every": args.checkpoint_every}
    return TrainConfig(seed=args.train_seed, mirror=bool(args.mirror),
                       **{k: v for k, v in given.items() if v is not None})


def nf_config_from_args(args: argparse.Namespace):
    """The NFTrainConfig of ``gpc train --method nfmpc|flow_mppi`` (None: its defaults)."""
    from gpc_planner.proposals.nf_train import NFTrainConfig

    given = {"task": args.task, "episodes": args.episodes, "rollouts": args.rollouts,
             "couplings": args.couplings, "lr": args.lr, "hidden": args.hidden,
             "layers": args.layers, "checkpoint_every": args.checkpoint_every,
             "select_window": args.select_window, "shift_tail": args.shift_tail,
             "bptt_steps": args.bptt_steps, "shift_anchor": args.shift_anchor}
    return NFTrainConfig(method=args.method, seed=args.train_seed,
                         learn_shift=not args.fixed_shift,
                         **{k: v for k, v in given.items() if v is not None})


def add_parser(sub: argparse._SubParsersAction) -> None:
    from gpc_sim.tasks import TASKS

    p = sub.add_parser(
        "train",
        help="train a proposal model: GPC's flow matching on collected data, or an "
        "NFMPC / FlowMPPI flow on its own episodes",
        description="--method gpc (default): train a conditional flow-matching model "
        "v(U, x, h, t) on the (x, h, U*) tuples of one or more gpc collect folders. "
        "--method nfmpc or flow_mppi: train a conditional RealNVP flow (with NFMPC's latent "
        "shift model) on closed-loop episodes of TASK, with the likelihood-ratio gradient "
        "of Sacks & Boots (Eqs. 11-14); no data needed. OUT gets model.pt, checkpoint.pt, "
        "a plot and a model card; rerunning the same command resumes from the checkpoint.",
    )
    p.add_argument("--method", choices=TRAIN_METHODS, default="gpc",
                   help="what to train (default gpc: the flow-matching proposal of the GPC "
                   "methods)")
    p.add_argument("--data", nargs="+", metavar="DIR",
                   help="gpc collect folder(s) (--method gpc; required there)")
    p.add_argument("--failures-within", type=positive_float, default=None, metavar="M",
                   help="--method gpc: also train on the failed episodes that ended with the "
                   "object within M metres of the goal position (their arrays in "
                   "DIR/failed/, e.g. a chair brought around the obstacle but not turned); "
                   "default: successes only, as the paper")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_train_arguments(p, by_method=True)
    p.add_argument("--task", choices=sorted(TASKS), default=None,
                   help="nfmpc/flow_mppi: the task whose episodes train the flow (default "
                   "nav_dyn)")
    p.add_argument("--episodes", type=positive_int, default=None,
                   help="nfmpc/flow_mppi: training episodes, one Adam step each (default "
                   "4000)")
    p.add_argument("--rollouts", type=positive_int, default=None,
                   help="nfmpc/flow_mppi: samples per planning step while training "
                   "(default 128)")
    p.add_argument("--couplings", type=positive_int, default=None,
                   help="nfmpc/flow_mppi: affine coupling layers of the flow (default 6)")
    p.add_argument("--fixed-shift", action="store_const", const=True, default=None,
                   help="nfmpc: keep the latent shift model at the plain time shift of the "
                   "plan instead of learning it (the paper's ablation, its App. A.4)")
    p.add_argument("--shift-tail", choices=SHIFT_TAILS, default=None,
                   help="nfmpc: what the latent shift model starts as (and the ablation "
                   "keeps): the plan's time shift with a zero appended (default, the "
                   "paper's normal shift) or with the last knot held")
    p.add_argument("--bptt-steps", type=nonnegative_int, default=None, metavar="K",
                   help="nfmpc: backpropagate through the latent recursion at most K steps "
                   "(default 5; 0: the whole episode, whose gradients explode)")
    p.add_argument("--shift-anchor", type=nonnegative_float, default=None, metavar="W",
                   help="nfmpc: add W x sum((theta - theta_0)^2) over the latent shift "
                   "model's weights to the loss, keeping it near the time shift it starts "
                   "as (default 0: none, the paper's method)")
    p.add_argument("--select-window", type=nonnegative_int, default=None, metavar="N",
                   help="nfmpc/flow_mppi: the model file holds the weights at the end of the "
                   "N training episodes with the highest success (default 100; 0: the last "
                   "weights); training starts only, never evaluation's")
    p.add_argument("--seed", dest="train_seed", type=seed, default=0,
                   help="seed of weights, batches and noise (default 0)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads (default 1: the MLP is small, and extra threads on a "
                   "busy machine slow it down many times)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def _refuse_foreign_options(args: argparse.Namespace) -> None:
    """ConfigError for an option of the other kind of training (it would be ignored)."""
    from gpc_sim.errors import ConfigError

    foreign = NF_ONLY if args.method == "gpc" else GPC_ONLY
    given = [flag for dest, flag in foreign if getattr(args, dest) is not None]
    if given:
        raise ConfigError(f"not an option of training method {args.method}: "
                          f"{', '.join(given)}")
    nfmpc_only = [flag for dest, flag in NFMPC_ONLY if getattr(args, dest) is not None]
    if args.method == "flow_mppi" and nfmpc_only:
        raise ConfigError(f"flow_mppi has no latent shift model: {', '.join(nfmpc_only)} is "
                          "an option of nfmpc only")
    if args.method == "gpc" and not args.data:
        raise ConfigError("the following arguments are required: --data")


def run(args: argparse.Namespace) -> int:
    import torch

    from gpc_sim.limits import check_parallel

    _refuse_foreign_options(args)
    check_parallel(args.threads, "threads")
    torch.set_num_threads(args.threads)
    if args.method != "gpc":
        from gpc_planner.proposals.nf_train import train_nf

        card = train_nf(nf_config_from_args(args), args.out, progress=not args.no_progress)
        recent = card["recent"]
        print(f"{args.out}/model.pt: {card['method']} on {card['task']}, {card['episodes']} "
              f"episodes, success {recent['success_rate']:.2f} over the last "
              f"{recent['episodes']}, {card['wall_time_s']} s")
        return 0

    from gpc_planner.proposals.train import train_from_dirs

    card = train_from_dirs(args.data, config_from_args(args), args.out,
                           progress=not args.no_progress,
                           failures_within=args.failures_within)
    print(f"{args.out}/model.pt: {card['dataset']['samples']} samples, {card['steps']} steps, "
          f"final loss {card['final_loss']:.4f}, {card['wall_time_s']} s")
    return 0
