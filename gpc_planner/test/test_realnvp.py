"""Coupling layers and flows: inverses and log-determinants against brute force (autograd)."""

import numpy as np
import pytest
import torch

from gpc_planner.control import ControlSpline, time_shift_matrix
from gpc_planner.proposals.flow_model import ModelInfo
from gpc_planner.proposals.nf_model import ContextNormalization, build_nf_model
from gpc_planner.proposals.realnvp import (
    AffineCoupling,
    ConditionalRealNVP,
    RealNVPConfig,
    ShiftConfig,
    ShiftModel,
    coupling_masks,
    gaussian_log_prob,
    soft_clamp,
)

torch.set_num_threads(1)
CONFIG = RealNVPConfig(couplings=4, hidden=8, layers=2, scale_limit=2.0)


def randomised(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``module`` in float64 with every weight drawn at random (the last layers start at
    zero, which would make each coupling the identity and the test vacuous)."""
    gen = torch.Generator().manual_seed(seed)
    module = module.double()
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def test_masks_alternate_a_random_half_and_its_complement():
    masks = coupling_masks(7, 4, seed=3)
    assert [int(m.sum()) for m in masks] == [3, 4, 3, 4]
    torch.testing.assert_close(masks[0] + masks[1], torch.ones(7, dtype=masks[0].dtype))
    assert not torch.equal(masks[0], masks[2])


def test_a_coupling_layer_inverts_and_its_log_det_is_the_jacobians():
    mask = coupling_masks(5, 2, seed=0)[0]
    layer = randomised(AffineCoupling(mask, 3, CONFIG))
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, generator=gen, dtype=torch.float64)
    c = torch.randn(3, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        y, log_det = layer(x, c)
        back, log_det_inv = layer.inverse(y, c)
    jac = torch.autograd.functional.jacobian(lambda v: layer(v, c)[0], x)
    assert float(log_det) == pytest.approx(float(torch.linalg.slogdet(jac)[1]), abs=1e-10)
    assert float(torch.linalg.slogdet(jac)[0]) == 1.0
    torch.testing.assert_close(back, x, rtol=0, atol=1e-12)
    assert float(log_det_inv) == pytest.approx(-float(log_det), abs=1e-12)
    np.testing.assert_array_equal((y - x)[mask.bool()].numpy(), 0.0)  # I1 passes unchanged


def test_a_flow_of_couplings_inverts_and_its_log_det_is_the_jacobians():
    flow = randomised(ConditionalRealNVP(6, 2, CONFIG), seed=4)
    gen = torch.Generator().manual_seed(5)
    z = torch.randn(3, 6, generator=gen, dtype=torch.float64)  # a batch of 3, one context
    c = torch.randn(1, 2, generator=gen, dtype=torch.float64)
    with torch.no_grad():
        y, log_det = flow(z, c)
        back, log_det_inv = flow.inverse(y, c)
    for i in range(3):
        jac = torch.autograd.functional.jacobian(lambda v: flow(v, c[0])[0], z[i])
        assert float(log_det[i]) == pytest.approx(float(torch.linalg.slogdet(jac)[1]),
                                                  abs=1e-9)
    torch.testing.assert_close(back, z, rtol=0, atol=1e-10)
    torch.testing.assert_close(log_det_inv, -log_det, rtol=0, atol=1e-10)


def tiny_model(kind: str, seed: int = 0):
    """A 3-knot, 2-channel model with random weights, in float64."""
    times = [0.0, 0.5, 1.0]
    info = ModelInfo("toy", "", ["a", "b"], times, "linear", [-1.0, -2.0], [1.0, 2.0])
    norm = ContextNormalization(np.zeros(2), np.ones(2))
    model = build_nf_model(kind, 2, (3, 2), info, norm, CONFIG, ShiftConfig(4, 1),
                           shift_period=0.5)
    randomised(model.flow, seed)
    model.output.double()
    return model


@pytest.mark.parametrize("kind", ["nfmpc", "flow_mppi"])
def test_the_density_of_controls_is_eq_9_against_brute_force(kind):
    """log pi(u|c) = log N(z; mu, s^2) + log|det dz/du|, the Jacobian by autograd through
    the inverse output map (logit for NFMPC's bounded controls) and the inverse flow."""
    model = tiny_model(kind, seed=2)
    gen = torch.Generator().manual_seed(3)
    y = torch.randn(6, generator=gen, dtype=torch.float64)
    c = torch.tensor([[0.3, -0.7]], dtype=torch.float64)
    mean, std = torch.full((6,), 0.2, dtype=torch.float64), 0.7
    with torch.no_grad():
        log_p, z = model.log_prob(y[None], c, mean, std)
        u = model.output(y)
    low, span = model.output.low, model.output.span

    def to_latent(controls):
        if model.output.bounded:
            s = (controls - low) / span
            pre = torch.log(s) - torch.log1p(-s)
        else:
            pre = 2.0 * (controls - low) / span - 1.0
        return model.flow.inverse(pre[None], c)[0][0]

    jac = torch.autograd.functional.jacobian(to_latent, u)
    with torch.no_grad():
        latent = to_latent(u)
        brute = gaussian_log_prob(latent, mean, std) + torch.linalg.slogdet(jac)[1]
    assert float(log_p[0]) == pytest.approx(float(brute), abs=1e-8)
    torch.testing.assert_close(z[0], latent, rtol=0, atol=1e-9)


def test_an_untrained_flow_is_the_identity_then_the_output_map():
    info = ModelInfo("toy", "", ["a"], [0.0, 1.0], "linear", [-2.0], [2.0])
    model = build_nf_model("nfmpc", 1, (2, 1), info, ContextNormalization(np.zeros(1),
                           np.ones(1)), RealNVPConfig(), ShiftConfig())
    z = np.random.default_rng(0).normal(size=(5, 2))
    y, knots = model.push(z, np.array([0.4]))
    np.testing.assert_allclose(y, z, atol=1e-6)
    np.testing.assert_allclose(knots[..., 0], -2.0 + 4.0 / (1.0 + np.exp(-z)), atol=1e-5)
    assert np.all(np.abs(knots) < 2.0)  # the bounds hold by construction


def test_the_shift_model_starts_as_the_time_shift_of_the_knots():
    spline = ControlSpline(horizon=0.4, num_knots=5, dt=0.1, kind="linear")
    matrix = time_shift_matrix(spline.knot_times, 0.1, "linear", 2)
    shift = ShiftModel(10, ShiftConfig(hidden=8, layers=1), matrix).double()
    # Within the bound's knee, where the bounded shift is exactly the linear map.
    knots = np.random.default_rng(0).uniform(-1.0, 1.0, size=(5, 2))
    with torch.no_grad():
        out = shift(torch.as_tensor(knots.ravel())).numpy()
    np.testing.assert_allclose(out.reshape(5, 2), spline.shift(knots, 0.1), atol=1e-12)


def test_soft_clamp_is_the_identity_inside_its_knee_and_never_passes_its_limit():
    x = torch.linspace(-50.0, 50.0, 2001, dtype=torch.float64, requires_grad=True)
    y = soft_clamp(x, 3.0, 5.0)
    inside = x.abs() <= 3.0
    torch.testing.assert_close(y[inside], x[inside])
    assert float(y.detach().abs().max()) <= 5.0
    assert torch.all(torch.diff(y.detach()) >= 0)  # monotone: the order of latents is kept
    (grad,) = torch.autograd.grad(y.sum(), x)
    near_knee = (x.abs() - 3.0).abs() < 0.06
    torch.testing.assert_close(grad[near_knee], torch.ones_like(grad[near_knee]),
                               atol=0.05, rtol=0)  # no kink at the knee
    with pytest.raises(ValueError, match="knee"):
        soft_clamp(x, 5.0, 3.0)


def test_a_shift_with_a_gain_above_one_keeps_the_latent_mean_bounded():
    """Phi runs once per replanning step: a learnt gain of 1.05 (what a diverged nav_dyn
    training had) would grow an unbounded mean ~e^50 over 1,000 steps; bounded, it stays
    at the config's limit."""
    config = ShiftConfig(hidden=8, layers=1, knee=3.0, limit=5.0)
    shift = ShiftModel(6, config, 1.05 * np.eye(6)).double()
    mean = torch.full((6,), 0.5, dtype=torch.float64)
    with torch.no_grad():
        for _ in range(1000):
            mean = shift(mean)
    assert torch.all(torch.isfinite(mean))
    assert float(mean.abs().max()) <= 5.0
    assert float(mean.abs().min()) > 3.0  # it did grow: the bound, not the map, held it
    with pytest.raises(ValueError, match="knee"):
        ShiftModel(6, ShiftConfig(knee=5.0, limit=5.0))
