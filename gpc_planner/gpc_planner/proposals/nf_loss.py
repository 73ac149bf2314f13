"""Training losses of NFMPC (Sacks & Boots, Eqs. 11-14) and FlowMPPI, from recorded episodes.

An episode is run with the current weights, no gradient (Eq. 11 fixes the outer
expectation to the current policy's state distribution); each planning step leaves a
``StepTrace``: the context c_t, the flow outputs y_i of its N samples (u_i is their
image under the output map) and their MPPI weights w_i. The loss is then rebuilt with
gradients, treating the samples as fixed points, so neither the dynamics nor the cost
need be differentiable: only the densities are (the likelihood-ratio gradient).

NFMPC (``nfmpc_episode_loss``), per step t, re-running the latent recursion of the
optimizer with the flow's parameters lambda live:

    mu~_t = Phi_lambda(mu_{t-1})                         (mu~_0 = 0, no shift at the start)
    mu_t  = (1 - gamma) mu~_t + gamma Delta mu_t         (Eq. 13, the update's batch u_i)
    L_t   = -sum_j w'_j log pi_{mu_t, lambda}(u'_j | c_t)  (Eq. 12)

and the episode's loss is the mean of L_t over its steps (Eq. 7), backpropagated through
time: mu_t depends on lambda through Delta mu_t and, by the shift, through every earlier
step. Delta mu_t (``delta_mu``) is the weighted mean of the latents h^-1(u_i; c_t) (the
paper's Eq. 13 writes h for the map from controls to latents), an expectation under the
pre-update distribution pi_{mu~_t, lambda}, which also depends on lambda: its gradient is
Eq. 14, M1 - M2 M3.

Eq. 12 estimates the gradient of J(theta_t), the MPPI objective of the *updated*
distribution, so its samples u'_j (with their weights w'_j) are a second batch, drawn
from pi_{mu_t} after the update (Sec. 2: MPC samples from the updated distribution), not
the update's own batch. With the update's own batch and gamma = 1 the estimate's
derivative with respect to mu_t is sum_i w_i (z_i - mu_t) / sigma^2 = 0 exactly (mu_t
is their weighted mean), so no gradient would ever reach the shift model.

FlowMPPI (``flow_mppi_episode_loss``): the same steps' flow samples, the fixed latent
N(0, sigma^2 I), L_t = -sum_i w_i log pi_lambda(u_i | c_t): the likelihood-ratio gradient
of the MPPI objective (Eq. 3) for the flow alone, no latent update, no shift.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from gpc_planner.optimizers.nfmpc import StepTrace
from gpc_planner.proposals.nf_model import NormalizingFlowModel
from gpc_planner.proposals.realnvp import gaussian_log_prob


def delta_mu(latents: torch.Tensor, log_density: torch.Tensor,
             weights: torch.Tensor) -> torch.Tensor:
    """Eq. 13's Delta mu (D,) from latents z_i = h^-1(u_i) (N, D), the samples'
    log-densities under the distribution they were drawn from, ell_i (N,), and their
    weights w_i (N,) (constants, from the costs).

    Written as sum_i w_i r_i z_i / sum_i w_i r_i with r_i = exp(ell_i - ell_i.detach()):
    r_i = 1, so the value is sum_i w_i z_i, and autograd gives Eq. 14,
    M1 - M2 M3 = sum_i w_i (dz_i + z_i dell_i) - (sum_i w_i z_i)(sum_i w_i dell_i):
    the derivative of the self-normalised expectation when the sampling distribution
    moves with lambda and the samples u_i stay where they are.
    """
    ratio = torch.exp(log_density - log_density.detach())
    weighted = weights * ratio
    return (weighted[..., None] * latents).sum(-2) / weighted.sum(-1, keepdim=True)


def _latents(model: NormalizingFlowModel, obs: np.ndarray, outputs: list[np.ndarray]
             ) -> tuple[torch.Tensor, torch.Tensor]:
    """Latents z = h^-1(y; c) (T, N, D) of flow outputs y (T x (N, D)) under contexts
    (T, d), and their log-density terms other than the Gaussian's, log|det dz/dy| -
    log|det du/dy| (T, N): one batched inverse pass over the whole episode."""
    y = torch.as_tensor(np.stack(outputs), dtype=model.dtype)
    z, log_det = model.flow.inverse(y, model.context(obs))
    return z, log_det - model.output.log_det(y)


def _weights(model: NormalizingFlowModel, weights: list[np.ndarray]) -> torch.Tensor:
    return torch.as_tensor(np.stack(weights), dtype=model.dtype)


def nfmpc_episode_loss(model: NormalizingFlowModel, trace: Sequence[StepTrace],
                       step_size: float, sigma: float, bptt_steps: int = 0) -> torch.Tensor:
    """The episode's NFMPC loss (see the module docstring), divided by D so that its
    scale does not grow with the horizon. Every step needs its objective batch.

    ``bptt_steps`` k > 0 truncates the backpropagation through time: the latent mean is
    cut from the graph every k steps (its value stays), so a step's loss reaches the
    shift model and the flow through at most k updates. Through a whole episode the
    derivative of mu_t by mu_{t-1} (the shift times the update's weighted covariance over
    sigma^2) multiplies up: on nav_dyn a trained model's episode gradients ran from 1 to
    7e5 in norm (six episodes), so that clipped steps went wherever the largest product
    pointed; cut every step or five they stay within 0.05-1.3. 0: the whole episode."""
    if model.shift is None:
        raise ValueError("an NFMPC loss needs a model with a shift model")
    if any(s.objective_outputs is None or s.objective_weights is None for s in trace):
        raise ValueError("an NFMPC loss needs every step's batch from the updated "
                         "distribution (StepTrace.objective_outputs and _weights)")
    obs = np.stack([s.observation for s in trace])
    z, log_det = _latents(model, obs, [s.outputs for s in trace])
    w = _weights(model, [s.weights for s in trace])
    z_obj, log_det_obj = _latents(model, obs, [s.objective_outputs for s in trace])
    w_obj = _weights(model, [s.objective_weights for s in trace])
    dim = z.shape[-1]
    mean = torch.zeros(dim, dtype=z.dtype)
    losses = []
    for t in range(z.shape[0]):
        if bptt_steps and t % bptt_steps == 0:
            mean = mean.detach()
        shifted = mean if t == 0 else model.shift(mean)
        before = gaussian_log_prob(z[t], shifted, sigma) + log_det[t]  # pi_{mu~_t, lambda}
        mean = (1.0 - step_size) * shifted + step_size * delta_mu(z[t], before, w[t])
        after = gaussian_log_prob(z_obj[t], mean, sigma) + log_det_obj[t]  # pi_{mu_t(lambda)}
        losses.append(-(w_obj[t] * after).sum())
    return torch.stack(losses).mean() / dim


def flow_mppi_episode_loss(model: NormalizingFlowModel, trace: Sequence[StepTrace],
                           sigma: float) -> torch.Tensor:
    """The episode's FlowMPPI loss: -sum_i w_i log pi(u_i | c_t), mean over steps, / D."""
    obs = np.stack([s.observation for s in trace])
    z, log_det = _latents(model, obs, [s.outputs for s in trace])
    w = _weights(model, [s.weights for s in trace])
    log_density = gaussian_log_prob(z, torch.zeros(z.shape[-1], dtype=z.dtype), sigma) + log_det
    return -(w * log_density).sum(-1).mean() / z.shape[-1]


__all__ = ["delta_mu", "flow_mppi_episode_loss", "nfmpc_episode_loss"]
