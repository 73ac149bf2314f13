"""NFMPC's training gradient: Eq. 14 against finite differences, and a shift that learns
the known optimal warm start of a toy problem."""

import numpy as np
import pytest
import torch
from torch.func import functional_call

from gpc_planner.optimizers.base import softmax_weights
from gpc_planner.optimizers.nfmpc import StepTrace, latent_mppi_update
from gpc_planner.proposals.flow_model import ModelInfo
from gpc_planner.proposals.nf_loss import delta_mu, nfmpc_episode_loss
from gpc_planner.proposals.nf_model import ContextNormalization, build_nf_model
from gpc_planner.proposals.realnvp import (
    ConditionalRealNVP,
    RealNVPConfig,
    ShiftConfig,
    ShiftModel,
    gaussian_log_prob,
)

torch.set_num_threads(1)
SIGMA = 1.0
TARGET = torch.tensor([0.8, -0.5], dtype=torch.float64)


def test_delta_mu_is_the_weighted_mean_of_the_latents():
    z = torch.randn(7, 3, dtype=torch.float64)
    w = torch.softmax(torch.randn(7, dtype=torch.float64), 0)
    ell = torch.randn(7, dtype=torch.float64)
    torch.testing.assert_close(delta_mu(z, ell, w), w @ z)
    np.testing.assert_allclose(latent_mppi_update(np.ones(3), z.numpy(), w.numpy(), 0.25),
                               0.75 + 0.25 * (w @ z).numpy())


def tiny_parts(seed: int = 0):
    """A 2-D conditional flow and a shift model (float64, random weights), a context and
    the previous latent mean: the pre-update latent mean is mu~ = Phi(mu_prev)."""
    gen = torch.Generator().manual_seed(seed)
    flow = ConditionalRealNVP(2, 1, RealNVPConfig(couplings=2, hidden=4, layers=1)).double()
    shift = ShiftModel(2, ShiftConfig(hidden=3, layers=1)).double()
    with torch.no_grad():
        for p in [*flow.parameters(), *shift.parameters()]:
            p.copy_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return flow, shift, torch.tensor([[0.4]], dtype=torch.float64), torch.tensor(
        [0.2, -0.1], dtype=torch.float64)


GRID = torch.linspace(-7.0, 7.0, 281, dtype=torch.float64)
Z_GRID = torch.stack(torch.meshgrid(GRID, GRID, indexing="ij"), -1).reshape(-1, 2)


def exact_delta_mu(flow, shift, params, context, previous):
    """Delta mu(lambda) = E_pi[f(u) h^-1(u)] / E_pi[f(u)], u ~ pi_{mu~(lambda), lambda}, by
    quadrature over the latent (u = h(z), h^-1(u) = z), f(u) = exp(-|u - u*|^2 / 2)."""
    flow_p = {k[5:]: v for k, v in params.items() if k.startswith("flow.")}
    shift_p = {k[6:]: v for k, v in params.items() if k.startswith("shift.")}
    mean = functional_call(shift, shift_p, (previous,))
    u = functional_call(flow, flow_p, (Z_GRID, context))[0]
    log_w = gaussian_log_prob(Z_GRID, mean, SIGMA) - 0.5 * ((u - TARGET) ** 2).sum(-1)
    w = torch.softmax(log_w, 0)
    return w @ Z_GRID


def test_the_gradient_of_delta_mu_is_eq_14_against_finite_differences():
    """Through the flow and through the shifted mean (the two ways lambda enters): the
    surrogate's autograd derivative at fixed samples u_j (here the latent grid's images,
    weighted by their probability and f) matches central differences of the exact
    Delta mu, both in a random direction of all the parameters."""
    flow, shift, context, previous = tiny_parts()
    params = {**{f"flow.{k}": v.detach() for k, v in flow.named_parameters()},
              **{f"shift.{k}": v.detach() for k, v in shift.named_parameters()}}
    gen = torch.Generator().manual_seed(9)
    direction = {k: torch.randn(v.shape, generator=gen, dtype=v.dtype) for k, v in params.items()}
    eps = 1e-5

    def moved(step: float) -> dict:
        return {k: v + step * direction[k] for k, v in params.items()}

    finite = (exact_delta_mu(flow, shift, moved(eps), context, previous)
              - exact_delta_mu(flow, shift, moved(-eps), context, previous)) / (2 * eps)

    with torch.no_grad():  # the samples and their weights, fixed at lambda_0
        mean0 = shift(previous)
        u = flow(Z_GRID, context)[0]
        weights = torch.softmax(gaussian_log_prob(Z_GRID, mean0, SIGMA)
                                - 0.5 * ((u - TARGET) ** 2).sum(-1), 0)
    step = torch.zeros((), dtype=torch.float64, requires_grad=True)
    p = moved(step)
    flow_p = {k[5:]: v for k, v in p.items() if k.startswith("flow.")}
    shift_p = {k[6:]: v for k, v in p.items() if k.startswith("shift.")}
    z, log_det = functional_call(Inverse(flow), {f"flow.{k}": v for k, v in flow_p.items()},
                                 (u, context))
    before = gaussian_log_prob(z, functional_call(shift, shift_p, (previous,)), SIGMA) + log_det
    estimate = delta_mu(z, before, weights)
    analytic = torch.stack([torch.autograd.grad(estimate[i], step, retain_graph=True)[0]
                            for i in range(2)])
    assert float(finite.abs().max()) > 1e-2  # not a vacuous comparison
    torch.testing.assert_close(analytic, finite, rtol=2e-3, atol=2e-5)


class Inverse(torch.nn.Module):
    """h^-1 as a module's forward (``functional_call`` calls forward only)."""

    def __init__(self, flow: ConditionalRealNVP) -> None:
        super().__init__()
        self.flow = flow

    def forward(self, y: torch.Tensor, context: torch.Tensor):
        return self.flow.inverse(y, context)


def toy_model():
    info = ModelInfo("toy", "", ["c"], [0.0, 1.0], "linear", [-1.0], [1.0])
    model = build_nf_model("nfmpc", 1, (2, 1), info,
                           ContextNormalization(np.zeros(1), np.ones(1)),
                           RealNVPConfig(couplings=2, hidden=4, layers=1),
                           # a bound past the toy's latents (up to 2.4): the map is linear
                           ShiftConfig(hidden=8, layers=1, knee=3.0, limit=5.0),
                           shift_period=0.1)
    return model


def toy_episode(model, rng, d, sigma=0.5, n=256, steps=6):
    """One episode of the toy below, as NFMPC runs it: its StepTraces."""
    mean, target, trace = np.zeros(2), np.zeros(2), []
    for t in range(steps):  # the optimizer's recursion
        shifted = mean if t == 0 else model.shift_latent(mean)
        z = shifted + sigma * rng.standard_normal((n, 2))
        w = softmax_weights(((z - target) ** 2).sum(1), 0.1)
        mean = latent_mppi_update(shifted, z, w, 1.0)
        z_obj = mean + sigma * rng.standard_normal((n, 2))  # Eq. 12's batch
        w_obj = softmax_weights(((z_obj - target) ** 2).sum(1), 0.1)
        trace.append(StepTrace(np.zeros(1), z.astype(np.float32), w,
                               z_obj.astype(np.float32), w_obj))
        target = target + d
    return trace


@pytest.mark.parametrize("bptt_steps", [0, 1])
def test_a_learnt_shift_finds_the_known_optimal_warm_start(bptt_steps):
    """Toy: the cost's minimum moves by d at every step, a_t = t d, and the flow is the
    identity. The optimal warm start is mu~_t = mu_{t-1} + d, exactly (then every update
    lands on a_t). The shift model starts as the identity, 0.5 away from it; training it
    with the NFMPC loss (Eqs. 12-14, through time, or cut at every step) brings it there."""
    model = toy_model()
    d = np.array([0.4, -0.3])
    points = np.arange(5)[:, None] * d

    def error() -> float:
        with torch.no_grad():
            out = model.shift(torch.as_tensor(points, dtype=torch.float32)).numpy()
        return float(np.linalg.norm(out - (points + d), axis=1).max())

    assert error() == pytest.approx(0.5, abs=1e-6)
    adam = torch.optim.Adam(model.shift.parameters(), lr=1e-2)
    episodes = 200
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(adam, episodes)
    rng = np.random.default_rng(0)
    for _ in range(episodes):
        trace = toy_episode(model, rng, d)
        loss = nfmpc_episode_loss(model, trace, step_size=1.0, sigma=0.5,
                                  bptt_steps=bptt_steps)
        adam.zero_grad()
        loss.backward()
        adam.step()
        schedule.step()
    assert error() < 0.1


def test_truncated_backpropagation_keeps_the_loss_and_cuts_the_paths_through_time():
    """bptt_steps cuts the latent mean from the graph, not its value: the loss is the
    same; a window as long as the episode is the whole episode; a shorter one drops the
    paths through earlier updates (another gradient)."""
    model = toy_model()
    trace = toy_episode(model, np.random.default_rng(3), np.array([0.4, -0.3]))

    def loss_and_grad(k):
        loss = nfmpc_episode_loss(model, trace, step_size=1.0, sigma=0.5, bptt_steps=k)
        grads = torch.autograd.grad(loss, list(model.shift.parameters()))
        return float(loss.detach()), torch.cat([g.ravel() for g in grads])

    whole, grad_whole = loss_and_grad(0)
    for k in (1, 2, 6):
        assert loss_and_grad(k)[0] == pytest.approx(whole, rel=1e-6)
    torch.testing.assert_close(loss_and_grad(6)[1], grad_whole)
    assert not torch.allclose(loss_and_grad(1)[1], grad_whole, rtol=1e-3, atol=1e-6)
