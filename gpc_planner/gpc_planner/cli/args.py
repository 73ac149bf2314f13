"""Argument types shared by subcommands: checked early, reported in one line."""

from __future__ import annotations

import argparse

from gpc_sim.limits import SEED_MAX


def _bounded_number(text: str, kind: type, least: float, inclusive: bool,
                    wording: str) -> int | float:
    """``text`` as ``kind`` (int or float) if it is finite and above ``least`` (or equal to
    it when ``inclusive``); else the one-line ArgumentTypeError "expected WORDING, got ..."
    (NaN fails every comparison, so it is refused too)."""
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {wording}, got {text!r}") from None
    above = value >= least if inclusive else value > least
    if not above or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected {wording}, got {text}")
    return value


def positive_int(text: str) -> int:
    return _bounded_number(text, int, 0, False, "a positive integer")


def positive_float(text: str) -> float:
    return _bounded_number(text, float, 0.0, False, "a positive number")


def nonnegative_float(text: str) -> float:
    return _bounded_number(text, float, 0.0, True, "a number >= 0")


def nonnegative_int(text: str) -> int:
    return _bounded_number(text, int, 0, True, "an integer >= 0")


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
    recommends for the method on the task (``gpc model set-sampling``), else the paper's
    10 and 1;
    without ``from_card`` (models that never have a recommendation) the paper's."""
    source = ("what its model card recommends for the method on the task, else "
              if from_card else "")
    p.add_argument("--flow-steps", type=positive_int, default=None,
                   help=f"Euler steps when sampling {model} (default: {source}10, the "
                   "paper's)")
    p.add_argument("--flow-noise", type=positive_float, default=None,
                   help=f"std of the flow's initial noise when sampling {model} (default: "
                   f"{source}1, the paper's; larger spreads the samples wider)")


def add_backend_arguments(p: argparse.ArgumentParser) -> None:
    """``--workers``, ``--backend``, ``--ray-address`` and ``--ray-task-cpus``: where the
    episodes run. None of them is a setting of the results (a run resumes under another)."""
    p.add_argument("--workers", type=positive_int, default=None,
                   help="parallel episode processes (default: cores available); with "
                   "--backend ray, the most episode tasks submitted at once (default: all, "
                   "run as the cluster's CPUs allow)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where episodes run: local (processes on this machine, default) or "
                   "ray (one task per episode on a Ray cluster; needs the Ray extra, bash "
                   "scripts/setup.sh --ray; docs/SCALING.md)")
    p.add_argument("--ray-address", default=None, metavar="ADDR",
                   help="with --backend ray: the cluster, HOST:PORT of its head node or "
                   "auto (the one `ray start` runs on this machine) (default: $RAY_ADDRESS, "
                   "else a private Ray instance on this machine)")
    p.add_argument("--ray-task-cpus", type=positive_int, default=None, metavar="K",
                   help="with --backend ray: CPUs each episode task reserves, and its rollout "
                   "threads (default 1: one episode per core, the most episodes per hour)")


def backend_from_args(args: argparse.Namespace):
    """The ``RayBackend`` the flags ask for (None: local), and ``args.workers`` resolved for
    the local pool (the cores available by default; 1 on Ray, where it is not used)."""
    from gpc_sim.errors import ConfigError
    from gpc_sim.rollout import default_threads

    if args.backend == "local":
        for flag, setting in (("--ray-address", "ray_address"),
                              ("--ray-task-cpus", "ray_task_cpus")):
            if getattr(args, setting) is not None:
                raise ConfigError(f"{flag} applies to backend ray only (add --backend ray)")
        args.workers = args.workers or default_threads()
        return None
    from gpc_planner.ray_backend import RayBackend

    backend = RayBackend(address=args.ray_address, task_cpus=args.ray_task_cpus or 1,
                         max_tasks=args.workers)
    args.workers = 1
    return backend
