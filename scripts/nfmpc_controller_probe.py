"""NFMPC's controller driving FlowMPPI's trained flow: is it NFMPC's controller or its
training that keeps its cost up? (docs/NFMPC.md, "Controller or training?")

The FlowMPPI model's flow (trained with a fixed latent N(0, sigma^2 I)) is given the plain
time shift of the plan as its latent shift (the paper's fixed-shift ablation; ``--warm-start
none`` restarts the latent at 0 every step instead) and planned with NFMPC's latent MPPI
update, on the same seeded environments as ``gpc eval``. Prints one JSON line.

    python scripts/nfmpc_controller_probe.py --seed 3 --trials 100
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import torch

import gpc_planner.methods as methods
from gpc_planner.control import time_shift_matrix
from gpc_planner.episode import replan_every
from gpc_planner.evaluation import EvalSpec, run_trial
from gpc_planner.proposals.nf_model import load_nf_model
from gpc_planner.proposals.realnvp import ShiftConfig, ShiftModel
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task

PROBE = "<flow_mppi flow with a fixed latent shift>"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--task", default="nav_dyn", help="the task both models were trained on")
    parser.add_argument("--flow-model", default="results/nfmpc/nav_dyn/models/flow_mppi_nav_dyn.pt",
                        help="a FlowMPPI model file (its flow is driven by NFMPC)")
    parser.add_argument("--warm-start", choices=("shift", "none"), default="shift",
                        help="shift: the time shift of the plan; none: mu = 0 every step")
    parser.add_argument("--seed", type=int, default=3,
                        help="environment seed, as gpc eval's (0 is for reporting only)")
    parser.add_argument("--trials", type=int, default=100, help="environments")
    parser.add_argument("--rollouts", type=int, default=32, help="samples per planning step")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        task = make_task(args.task)
        model = load_nf_model(args.flow_model, task)
    except ConfigError as err:
        print(f"nfmpc_controller_probe: {err}", file=sys.stderr)
        return 2
    if model.kind != "flow_mppi":
        print(f"nfmpc_controller_probe: {args.flow_model} is a {model.kind} model, not "
              "flow_mppi", file=sys.stderr)
        return 2
    knots, channels = model.knot_shape
    period = replan_every(task) * task.dt  # what NFMPC's shift is trained for (nf_train)
    initial = time_shift_matrix(np.asarray(model.info.knot_times), period,
                                model.info.interpolation, channels, "zero")
    if args.warm_start == "none":
        initial = np.zeros_like(initial)
    model.shift = ShiftModel(knots * channels, ShiftConfig(learnt=False), initial).float()
    model.shift_period = period
    model.kind = "nfmpc"  # what NFMPC's loader asks for; the output map stays affine
    load = methods._load
    methods._load = lambda path: model if path == PROBE else load(path)
    spec = EvalSpec(task=args.task, method="nfmpc", trials=args.trials, seed=args.seed,
                    rollouts=args.rollouts, model=(PROBE,), flow_noise=1.0)
    records = [run_trial(task, spec, t) for t in range(args.trials)]
    costs = [r["trajectory_cost"] for r in records if r["success"]]
    print(json.dumps({"task": args.task, "warm_start": args.warm_start, "seed": args.seed,
                      "trials": args.trials, "rollouts": args.rollouts,
                      "successes": sum(r["success"] for r in records),
                      "cost_median": float(np.median(costs)) if costs else None}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
