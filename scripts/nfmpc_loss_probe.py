"""NFMPC trained with a changed loss, to find out what makes its training success fall on
Push-T (docs/NFMPC.md, "Results: Push-T"). A probe, not a method: it swaps the trainer's
NFMPC loss in this process only and otherwise runs ``gpc train --method nfmpc``.

Variants (the paper's loss is Eqs. 11-14, ``gpc_planner.proposals.nf_loss``):

* ``detached``: Eq. 12 alone about latent means computed without gradient, i.e. no
  gradient through the latent update (Eqs. 13-14) or the shift: what is left is the
  weighted likelihood of the updated distribution's samples. Needs ``--fixed-shift``
  (nothing would train the shift model).
* ``entropy``: the paper's loss minus ``--beta`` times the flow's entropy per latent
  dimension, estimated by reparameterisation (32 fresh latents z ~ N(0, sigma^2 I) per
  step pushed through the flow with gradient: H(u) = H(z) + E log|det du/dz|, bounded on
  the control box). An estimate at the recorded samples instead (a fixed u) is not an
  entropy and can be gamed: tried first, its loss ran to -86 within 50 episodes.

    python scripts/nfmpc_loss_probe.py entropy --beta 1 --task push_t --episodes 110 \\
        --rollouts 32 --out runs/nfmpc/probes/nfmpc_entropy1.0_push_t
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

import gpc_planner.proposals.nf_loss as nf_loss
import gpc_planner.proposals.nf_train as nf_train
from gpc_planner.optimizers.nfmpc import latent_mppi_update
from gpc_planner.proposals.realnvp import gaussian_log_prob

ENTROPY_SAMPLES = 32  # fresh latents per step for the entropy estimate


def detached_loss(model, trace, step_size: float, sigma: float, bptt_steps: int = 0
                  ) -> torch.Tensor:
    """Eq. 12 about the latent means of the recorded episode, taken as constants."""
    obs = np.stack([s.observation for s in trace])
    w = nf_loss._weights(model, [s.weights for s in trace])
    z_obj, log_det_obj = nf_loss._latents(model, obs, [s.objective_outputs for s in trace])
    w_obj = nf_loss._weights(model, [s.objective_weights for s in trace])
    with torch.no_grad():  # the means are constants here: no graph for the update's batch
        z, _ = nf_loss._latents(model, obs, [s.outputs for s in trace])
        means, mean = [], torch.zeros(z.shape[-1], dtype=z.dtype)
        for t in range(z.shape[0]):
            shifted = mean if t == 0 else model.shift(mean)
            mean = latent_mppi_update(shifted, z[t], w[t], step_size)
            means.append(mean)
    losses = [-(w_obj[t] * (gaussian_log_prob(z_obj[t], means[t], sigma) + log_det_obj[t])
                ).sum() for t in range(z.shape[0])]
    return torch.stack(losses).mean() / z.shape[-1]


def entropy_loss(beta: float):
    """The paper's loss minus beta x the flow's entropy per dimension (reparameterised)."""
    paper = nf_loss.nfmpc_episode_loss

    def loss(model, trace, step_size: float, sigma: float, bptt_steps: int = 0
             ) -> torch.Tensor:
        context = model.context(np.stack([s.observation for s in trace]))
        dim = model.flow.dim
        z = sigma * torch.randn(len(trace), ENTROPY_SAMPLES, dim, dtype=model.dtype)
        y, log_det = model.flow(z, context)
        entropy = (log_det + model.output.log_det(y)).mean() / dim  # + H(z) / D, constant
        return paper(model, trace, step_size, sigma, bptt_steps) - beta * entropy

    return loss


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("variant", choices=("detached", "entropy"), help="the changed loss")
    parser.add_argument("--beta", type=float, default=1.0,
                        help="entropy: weight of the entropy per latent dimension")
    parser.add_argument("--task", default="push_t", help="task to train on")
    parser.add_argument("--episodes", type=int, default=110, help="training episodes")
    parser.add_argument("--rollouts", type=int, default=32, help="samples per planning step")
    parser.add_argument("--fixed-shift", action="store_true",
                        help="the plain time shift instead of a learnt one (detached: "
                        "required)")
    parser.add_argument("--out", required=True, help="training folder (resumes)")
    args = parser.parse_args(argv)
    if args.variant == "detached" and not args.fixed_shift:
        print("nfmpc_loss_probe: detached needs --fixed-shift (nothing would train the "
              "shift model)", file=sys.stderr)
        return 2
    if args.variant == "entropy" and not (np.isfinite(args.beta) and args.beta >= 0):
        print(f"nfmpc_loss_probe: --beta must be a number >= 0, got {args.beta}",
              file=sys.stderr)
        return 2
    nf_train.nfmpc_episode_loss = (detached_loss if args.variant == "detached"
                                   else entropy_loss(args.beta))
    from gpc_planner.cli.main import main as gpc_main

    command = ["train", "--method", "nfmpc", "--task", args.task, "--episodes",
               str(args.episodes), "--rollouts", str(args.rollouts), "--threads", "1",
               "--out", args.out]
    return gpc_main(command + (["--fixed-shift"] if args.fixed_shift else []))


if __name__ == "__main__":
    raise SystemExit(main())
