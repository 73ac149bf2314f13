"""``gpc train``: fit the flow-matching proposal model to ``gpc collect`` data."""

from __future__ import annotations

import argparse

from gpc_planner.cli.args import nonnegative_int, positive_float, positive_int, seed


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The training settings (shared with ``gpc iterate``)."""
    p.add_argument("--epochs", type=positive_int, default=200, help="epochs (default 200)")
    p.add_argument("--batch-size", type=positive_int, default=2048,
                   help="samples per step (default 2048; the paper: 40000)")
    p.add_argument("--lr", type=positive_float, default=1e-4, help="Adam learning rate")
    p.add_argument("--warmup", type=nonnegative_int, default=500,
                   help="linear warm-up steps before the cosine decay (default 500)")
    p.add_argument("--hidden", type=positive_int, default=256, help="units per layer")
    p.add_argument("--layers", type=positive_int, default=3, help="hidden layers")
    p.add_argument("--mirror", action="store_true",
                   help="also train on every sample's mirror image, for tasks that are "
                   "mirror-symmetric (push_t: x -> -x); doubles the data")
    p.add_argument("--checkpoint-every", type=positive_int, default=10,
                   help="epochs between checkpoints (default 10)")


def config_from_args(args: argparse.Namespace):
    from gpc_planner.proposals.train import TrainConfig

    return TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                       warmup_steps=args.warmup, hidden=args.hidden, layers=args.layers,
                       seed=args.train_seed, checkpoint_every=args.checkpoint_every,
                       mirror=args.mirror)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train the flow-matching proposal model on collected data",
        description="Train a conditional flow-matching model v(U, x, h, t) on the (x, h, U*) "
        "tuples of one or more gpc collect folders. OUT gets model.pt, checkpoint.pt, "
        "loss.png and a model card; rerunning the same command resumes from the checkpoint.",
    )
    p.add_argument("--data", required=True, nargs="+", metavar="DIR",
                   help="gpc collect folder(s)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    add_train_arguments(p)
    p.add_argument("--seed", dest="train_seed", type=seed, default=0,
                   help="seed of weights, batches and noise (default 0)")
    p.add_argument("--threads", type=positive_int, default=1,
                   help="torch threads (default 1: the MLP is small, and extra threads on a "
                   "busy machine slow it down many times)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from gpc_planner.proposals.train import train_from_dirs
    from gpc_sim.limits import check_parallel

    check_parallel(args.threads, "threads")
    torch.set_num_threads(args.threads)

    card = train_from_dirs(args.data, config_from_args(args), args.out,
                           progress=not args.no_progress)
    print(f"{args.out}/model.pt: {card['dataset']['samples']} samples, {card['steps']} steps, "
          f"final loss {card['final_loss']:.4f}, {card['wall_time_s']} s")
    return 0
