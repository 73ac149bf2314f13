"""How wide a trained NFMPC/FlowMPPI flow samples: the per-entry standard deviation of its
controls, as a share of the control half-range, at the latent's centre (the median over
starts; docs/NFMPC.md).

An untrained NFMPC flow (the identity through the bounded sigmoid) samples at 0.42 of the
half-range with the latent std 1; MPPI's default spread is 0.15. Samples 256 sequences at
each of 100 seeded starts of the task (seed 11, never an evaluation seed). Prints one JSON line.

    python scripts/nf_flow_spread.py --task push_t results/nfmpc/push_t/models/nfmpc_push_t.pt
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from gpc_planner.proposals.checkpoint import load_checkpoint
from gpc_planner.proposals.nf_model import control_spread, load_nf_model
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", help="an NFMPC or FlowMPPI model file")
    parser.add_argument("--task", default="nav_dyn", help="the task the model was trained on")
    parser.add_argument("--checkpoint", help="a training checkpoint.pt whose (last) weights "
                        "replace the model file's")
    parser.add_argument("--latent-std", type=float, default=1.0,
                        help="the latent std to sample at (gpc eval's --flow-noise)")
    parser.add_argument("--starts", type=int, default=100, help="task starts (contexts)")
    parser.add_argument("--samples", type=int, default=256, help="samples per start")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    try:
        task = make_task(args.task)
        model = load_nf_model(args.model, task)
    except ConfigError as err:
        print(f"nf_flow_spread: {err}", file=sys.stderr)
        return 2
    try:
        if args.checkpoint:
            state = load_checkpoint(Path(args.checkpoint), ["flow"])
            model.flow.load_state_dict(state["flow"])
    except (ConfigError, RuntimeError):
        print(f"nf_flow_spread: {args.checkpoint} is not a training checkpoint of a flow "
              f"shaped like {args.model}'s", file=sys.stderr)
        return 2
    rng = np.random.default_rng(11)
    observations = np.stack([task.observation(task.sample_initial_state(rng))
                             for _ in range(args.starts)])
    spread, at_bound = control_spread(model, observations, task.action_low, task.action_high,
                                      args.latent_std, args.samples, rng)
    print(json.dumps({"model": args.model, "checkpoint": args.checkpoint,
                      "latent_std": args.latent_std,
                      "spread_of_half_range": round(spread, 4),
                      "share_within_2pc_of_a_bound": round(at_bound, 4)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
