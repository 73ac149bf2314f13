"""Conditional RealNVP flows and the latent shift model of NFMPC (Sacks & Boots, Sec. 3).

A flow h(z; c) maps a latent vector z (D = K * m: a whole knot sequence, flattened) to a
control sequence u, conditioned on a context c (the task's observation). It is a stack of
affine coupling layers (Dinh et al.'s RealNVP, the paper's Eq. 10),

    y_I1 = x_I1,   y_I2 = x_I2 * exp(s(x_I1, c)) + t(x_I1, c),

each invertible in closed form with log|det| = sum(s), followed by an output map from the
flow's space to control units: a sigmoid scaled to the control bounds (NFMPC, Sec. 3.3:
the box constraints hold by construction and are part of the learnt density) or an
affine map (FlowMPPI, whose samples are clipped). The log-density of a control sequence
is Eq. 9: log p(z) minus every layer's log|det|, the output map's included.

The coupling networks' last layers start at zero, so an untrained flow is the identity
followed by the output map: NFMPC then starts as MPPI in the output map's coordinates.

Shapes: vectors (..., N, D) with contexts (..., 1, C) that broadcast over the N samples,
so one call serves a planning step's N samples or a training episode's T steps x N.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn


@dataclass
class RealNVPConfig:
    """Shape of a conditional RealNVP flow."""

    couplings: int = 6  # affine coupling layers (Eq. 10); consecutive pairs share a split
    hidden: int = 128  # units per hidden layer of each coupling's s/t network
    layers: int = 2  # hidden layers of each coupling's s/t network
    scale_limit: float = 3.0  # |s| <= limit (a tanh): exp(s) stays finite while training
    mask_seed: int = 0  # seed of the random splits I1 / I2


@dataclass
class ShiftConfig:
    """Shape of the learnt latent shift model (NFMPC, Sec. 3.2)."""

    hidden: int = 128
    layers: int = 2
    # The shifted mean is the identity up to |mu~| = knee and saturates smoothly at limit
    # (latent units; the latent std is the controller's flow_noise, 1 by default). Phi is
    # applied once per replanning step, so an unbounded Phi with a gain above 1 grows the
    # mean geometrically over an episode: a training on nav_dyn reached |mu| ~ 400 and
    # non-finite controls after 850 episodes (its shift's largest eigenvalue was 1.05).
    # The bound also keeps the mean off the flat ends of NFMPC's sigmoid output map, where
    # the latent noise no longer moves the controls (the planner cannot brake). Untrained
    # NFMPC, nav_dyn, 40 training starts, 128 samples: knee/limit 3/5, 2/3, 1.5/2.5, 1/2,
    # 0.5/1.5 succeed 16, 24, 29, 29, 34 of 40, median cost 15.5 (2/3) to 16.9 (0.5/1.5),
    # 16.3 at 1.5/2.5 (MPPI: 37, 16.2). The flow can still scale its outputs (Eq. 10's
    # exp(s)), so a tight bound on the latent does not bound what a trained flow reaches.
    knee: float = 1.5
    limit: float = 2.5
    # Whether training updates it; False is the paper's ablation (App. A.4): the shift stays
    # the plain time shift of the plan it starts as. Recorded so results can say which.
    learnt: bool = True


def _mlp(width_in: int, hidden: int, layers: int, width_out: int) -> nn.Sequential:
    """An MLP with SiLU activations whose last layer starts at zero (outputs 0)."""
    mods: list[nn.Module] = []
    width = width_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.SiLU()]
        width = hidden
    last = nn.Linear(width, width_out)
    nn.init.zeros_(last.weight)
    nn.init.zeros_(last.bias)
    mods.append(last)
    return nn.Sequential(*mods)


class AffineCoupling(nn.Module):
    """One coupling layer (Eq. 10): the entries where ``mask`` is 1 (I1) pass unchanged
    and condition an elementwise affine map of the others (I2)."""

    def __init__(self, mask: torch.Tensor, context_dim: int, config: RealNVPConfig) -> None:
        super().__init__()
        dim = int(mask.numel())
        self.register_buffer("mask", mask.to(torch.get_default_dtype()))
        self.limit = float(config.scale_limit)
        # The first layer is split: the context's part is computed once per context and
        # broadcast over the samples that share it.
        self.inp = nn.Linear(dim, config.hidden)
        self.ctx = nn.Linear(context_dim, config.hidden, bias=False)
        self.body = _mlp(config.hidden, config.hidden, config.layers - 1, 2 * dim)

    def _scale_shift(self, kept: torch.Tensor, context: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
        h = nn.functional.silu(self.inp(kept) + self.ctx(context))
        s, t = self.body(h).chunk(2, dim=-1)
        free = 1.0 - self.mask
        return self.limit * torch.tanh(s / self.limit) * free, t * free

    def forward(self, x: torch.Tensor, context: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """y and log|det dy/dx| (...,) for x (..., D)."""
        kept = x * self.mask
        s, t = self._scale_shift(kept, context)
        return kept + (1.0 - self.mask) * (x * torch.exp(s) + t), s.sum(-1)

    def inverse(self, y: torch.Tensor, context: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """x and log|det dx/dy| (...,) for y (..., D): y_I1 = x_I1 gives s and t back."""
        kept = y * self.mask
        s, t = self._scale_shift(kept, context)
        return kept + (1.0 - self.mask) * ((y - t) * torch.exp(-s)), -s.sum(-1)


def coupling_masks(dim: int, couplings: int, seed: int) -> list[torch.Tensor]:
    """Splits I1 (1) / I2 (0) of ``dim`` entries: a random half, then its complement, for
    each consecutive pair of layers, so that every entry is transformed once per pair and
    each knot's entries are conditioned on other knots' (any time, any channel)."""
    rng = np.random.default_rng(seed)
    masks: list[torch.Tensor] = []
    for i in range(couplings):
        if i % 2 == 0:
            mask = np.zeros(dim)
            mask[rng.permutation(dim)[: dim // 2]] = 1.0
        else:
            mask = 1.0 - masks[-1].numpy()
        masks.append(torch.as_tensor(mask, dtype=torch.get_default_dtype()))
    return masks


class ConditionalRealNVP(nn.Module):
    """z -> y through ``couplings`` affine coupling layers conditioned on a context."""

    def __init__(self, dim: int, context_dim: int, config: RealNVPConfig) -> None:
        super().__init__()
        if dim < 2:
            raise ValueError("a coupling flow needs at least 2 dimensions")
        self.dim = dim
        self.context_dim = context_dim
        self.config = config
        self.layers = nn.ModuleList(AffineCoupling(m, context_dim, config)
                                    for m in coupling_masks(dim, config.couplings,
                                                            config.mask_seed))

    def forward(self, z: torch.Tensor, context: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """y = h(z; c) and the sum of the layers' log|det dy_i/dy_{i-1}| (Eq. 9)."""
        log_det = torch.zeros(z.shape[:-1], dtype=z.dtype)
        for layer in self.layers:
            z, ld = layer(z, context)
            log_det = log_det + ld
        return z, log_det

    def inverse(self, y: torch.Tensor, context: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """z = h^-1(y; c) and log|det dz/dy| (minus the forward sum)."""
        log_det = torch.zeros(y.shape[:-1], dtype=y.dtype)
        for layer in reversed(self.layers):
            y, ld = layer.inverse(y, context)
            log_det = log_det + ld
        return y, log_det


class OutputMap(nn.Module):
    """From the flow's space to control units, elementwise, with its log|det|.

    ``bounded``: u = low + (high - low) * sigmoid(y) (NFMPC's constrained distribution,
    Sec. 3.3; its log|det| per entry is log(high - low) + log sigmoid(y) + log sigmoid(-y)).
    Otherwise u = centre + half_range * y.
    """

    def __init__(self, low: np.ndarray, high: np.ndarray, knots: int, bounded: bool) -> None:
        super().__init__()
        low_t = torch.as_tensor(np.tile(low, knots), dtype=torch.get_default_dtype())
        high_t = torch.as_tensor(np.tile(high, knots), dtype=torch.get_default_dtype())
        self.bounded = bool(bounded)
        self.register_buffer("low", low_t)
        self.register_buffer("span", high_t - low_t)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        if self.bounded:
            return self.low + self.span * torch.sigmoid(y)
        return self.low + self.span * (0.5 + 0.5 * y)

    def log_det(self, y: torch.Tensor) -> torch.Tensor:
        """log|det du/dy| (...,) for y (..., D)."""
        if self.bounded:
            per = (torch.log(self.span) + nn.functional.logsigmoid(y)
                   + nn.functional.logsigmoid(-y))
            return per.sum(-1)
        return torch.log(0.5 * self.span).sum().expand(y.shape[:-1])


def gaussian_log_prob(z: torch.Tensor, mean: torch.Tensor, std: float) -> torch.Tensor:
    """log N(z; mean, std^2 I) (...,) of z (..., D): the latent density p_theta (Eq. 4)."""
    dim = z.shape[-1]
    return (-0.5 * ((z - mean) / std).pow(2).sum(-1)
            - dim * (math.log(std) + 0.5 * math.log(2.0 * math.pi)))


def check_clamp(knee: float, limit: float) -> None:
    """ValueError unless 0 < knee < limit (``soft_clamp``'s bound)."""
    if not 0.0 < knee < limit:
        raise ValueError(f"a soft clamp needs 0 < knee < limit, got knee {knee}, "
                         f"limit {limit}")


def soft_clamp(x: torch.Tensor, knee: float, limit: float) -> torch.Tensor:
    """x where |x| <= knee; beyond, knee + (limit - knee) tanh((|x| - knee) / (limit -
    knee)) with x's sign: continuous with its first derivative, and never past limit."""
    check_clamp(knee, limit)
    width = limit - knee
    outside = knee + width * torch.tanh((x.abs() - knee).clamp(min=0.0) / width)
    return torch.where(x.abs() <= knee, x, torch.sign(x) * outside)


class ShiftModel(nn.Module):
    """The learnt warm start in latent space, mu~ = Phi(mu) (NFMPC, Sec. 3.2).

    Phi(mu) = clamp(A mu + b + MLP(mu)), with A initialised to the time shift of one
    replanning period (the knot-space shift, ``ControlSpline.shift``, for each control
    channel) and the MLP to zero: with the identity flow an untrained flow is, the latent
    shift is then the usual shift-and-hold of the plan (exactly, while |mu~| <= the
    config's knee). ``soft_clamp`` bounds the mean: the shift is applied at every step and
    feeds back through the update, so without a bound a learnt gain above 1 diverges.
    Not conditioned on the context: the paper reports that conditioning it hurt (Sec. 5.1).
    """

    def __init__(self, dim: int, config: ShiftConfig, initial: np.ndarray | None = None
                 ) -> None:
        super().__init__()
        check_clamp(config.knee, config.limit)  # at construction, not at the first step
        self.config = config
        self.linear = nn.Linear(dim, dim)
        with torch.no_grad():
            start = np.eye(dim) if initial is None else np.asarray(initial)
            self.linear.weight.copy_(torch.as_tensor(start))
            self.linear.bias.zero_()
        self.residual = _mlp(dim, config.hidden, config.layers, dim)

    def forward(self, mean: torch.Tensor) -> torch.Tensor:
        return soft_clamp(self.linear(mean) + self.residual(mean), self.config.knee,
                          self.config.limit)


__all__ = ["AffineCoupling", "ConditionalRealNVP", "OutputMap", "RealNVPConfig",
           "ShiftConfig", "ShiftModel", "coupling_masks", "gaussian_log_prob", "soft_clamp"]
