"""Argument types shared by subcommands: checked early, reported in one line."""

from __future__ import annotations

import argparse

from gpc_sim.limits import SEED_MAX


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def nonnegative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def seed(text: str) -> int:
    """A seed: an integer in [0, 2**32 - 1], the range every generator of the project takes
    (a larger one makes torch's manual_seed overflow deep inside a run)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 0 <= value <= SEED_MAX:
        raise argparse.ArgumentTypeError(f"expected a seed, an integer in [0, {SEED_MAX}], "
                                         f"got {text!r}")
    return value


def add_model_arguments(p: argparse.ArgumentParser, several: bool = False) -> None:
    """``--model``, ``--flow-steps`` and ``--flow-noise``, the proposal-model options of the
    GPC methods.

    With ``several``, ``--model`` takes one or more files (model seeds) that the
    trials of an evaluation rotate over.
    """
    if several:
        p.add_argument("--model", default=None, nargs="+", metavar="MODEL.pt",
                       help="proposal model(s) of gpc_shoot/gpc_cem (gpc train) or of "
                       "nfmpc/flow_mppi (gpc train --method nfmpc|flow_mppi); with several (model "
                       "seeds), trial i uses model i mod their number, so a row of 200 "
                       "trials spans the seeds over the same initial states (default: the "
                       "task's shipped model, gpc_planner/models/TASK.pt)")
    else:
        p.add_argument("--model", default=None, metavar="MODEL.pt",
                       help="proposal model of gpc_shoot/gpc_cem, or of nfmpc/flow_mppi "
                       "(default: the task's "
                       "shipped model, gpc_planner/models/TASK.pt)")
    add_flow_arguments(p, "the proposal model")


def add_flow_arguments(p: argparse.ArgumentParser, model: str,
                       from_card: bool = True) -> None:
    """``--flow-steps`` and ``--flow-noise``. By default (None) what ``model``'s card
    recommends for the method (``gpc model set-sampling``), else the paper's 10 and 1;
    without ``from_card`` (models that never have a recommendation) the paper's."""
    source = "what its model card recommends for the method, else " if from_card else ""
    p.add_argument("--flow-steps", type=positive_int, default=None,
                   help=f"Euler steps when sampling {model} (default: {source}10, the "
                   "paper's)")
    p.add_argument("--flow-noise", type=positive_float, default=None,
                   help=f"std of the flow's initial noise when sampling {model} (default: "
                   f"{source}1, the paper's; larger spreads the samples wider)")
