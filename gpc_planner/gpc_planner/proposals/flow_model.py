"""The conditional flow-matching proposal model and its file format.

A velocity field v(U_t, x, h, t) over flattened, normalised knot sequences
(K * m values) is learnt with the flow-matching loss of the paper (eq. 1):

    || v(t U1 + (1 - t) U0, x, h, t) - (U1 - U0) ||^2,   U0 ~ N(0, I),

where U1 is a recorded CEM mean sequence, x the current observation and h the
previous replanning observation. Sampling integrates dU/dt = v from t = 0 to 1
with ``flow_steps`` Euler steps and maps the result back to world units.

Model file (``model.pt``, a torch zip read with ``weights_only=True``, so it
holds only tensors, numbers, strings, lists and dicts)::

    format_version   int, MODEL_FORMAT_VERSION
    task             str, the task the data came from (e.g. "push_t")
    task_family      str, tasks that share observation and action layouts
    observation_names list[str], d entries
    obs_dim          int, d
    knot_shape       [K, m]
    knot_times       list[float], s (the planning horizon is the last one)
    interpolation    str
    action_low/high  list[float], m each: samples are clipped to them
    config           dict, FlowConfig (network shape)
    normalization    dict of lists: obs_mean, obs_std (d), knot_mean, knot_std (K*m)
    state_dict       the network weights
    sampling         optional dict, {method: {"flow_noise": float, "flow_steps": int}}: the
                     recommended sampling settings per method (``gpc_planner.sampling``;
                     empty or absent: the paper's), set by ``gpc model set-sampling``
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch
from torch import nn

from gpc_planner.optimizers.gpc import check_finite_samples
from gpc_planner.proposals.model_files import (
    building,
    check_finite,
    check_fits_task,
    check_header,
    check_normalization,
    read_model_file,
)
from gpc_planner.sampling import check_sampling_entry
from gpc_sim.blas import single_blas_thread
from gpc_sim.errors import ConfigError

MODEL_FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "task", "task_family", "observation_names", "obs_dim",
                 "knot_shape", "knot_times", "interpolation", "action_low", "action_high",
                 "config", "normalization", "state_dict")


@dataclass
class FlowConfig:
    """Shape of the velocity network."""

    hidden: int = 256  # units per hidden layer
    layers: int = 3  # hidden layers
    time_features: int = 16  # sinusoidal frequencies of the flow time t


@dataclass
class Normalization:
    """Per-dimension affine maps to zero mean and unit spread.

    One map serves both the observation and the history (the same quantity a
    replanning step apart); knots get their own, over the flattened K*m values.
    """

    obs_mean: np.ndarray
    obs_std: np.ndarray
    knot_mean: np.ndarray
    knot_std: np.ndarray

    @classmethod
    def fit(cls, obs: np.ndarray, knots: np.ndarray, floor: float = 1e-3) -> Normalization:
        """Statistics of observations (N, d) and knots (N, K, m); spreads floored."""
        flat = knots.reshape(len(knots), -1)
        return cls(obs.mean(0), np.maximum(obs.std(0), floor),
                   flat.mean(0), np.maximum(flat.std(0), floor))

    def to_dict(self) -> dict[str, list[float]]:
        return {f.name: [float(v) for v in getattr(self, f.name)] for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> Normalization:
        return cls(**{f.name: np.asarray(d[f.name], dtype=np.float64) for f in fields(cls)})

    def obs(self, obs: np.ndarray) -> np.ndarray:
        return (obs - self.obs_mean) / self.obs_std

    def knots(self, knots: np.ndarray) -> np.ndarray:
        """Normalised flat knots (N, K*m) from knots (N, K, m)."""
        return (knots.reshape(len(knots), -1) - self.knot_mean) / self.knot_std

    def unknots(self, flat: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        """Knots (N, K, m) in world units from normalised flat knots (N, K*m)."""
        return (flat * self.knot_std + self.knot_mean).reshape(len(flat), *shape)


def time_embedding(t: torch.Tensor, features: int) -> torch.Tensor:
    """Sin/cos features (N, 2 * features) of flow times t (N,) in [0, 1]."""
    freqs = torch.exp(torch.linspace(0.0, math.log(1000.0), features, dtype=t.dtype,
                                     device=t.device))
    angles = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=-1)


class VelocityMLP(nn.Module):
    """v(U_t, x, h, t): an MLP over [U_t, x, h, embed(t)] with SiLU activations."""

    def __init__(self, knot_dim: int, obs_dim: int, config: FlowConfig) -> None:
        super().__init__()
        self.config = config
        width = knot_dim + 2 * obs_dim + 2 * config.time_features
        layers: list[nn.Module] = []
        for _ in range(config.layers):
            layers += [nn.Linear(width, config.hidden), nn.SiLU()]
            width = config.hidden
        layers.append(nn.Linear(width, knot_dim))
        self.net = nn.Sequential(*layers)

    def forward(self, u: torch.Tensor, obs: torch.Tensor, hist: torch.Tensor,
                t: torch.Tensor) -> torch.Tensor:
        emb = time_embedding(t, self.config.time_features)
        return self.net(torch.cat([u, obs, hist, emb], dim=-1))


def parameter_count(knot_dim: int, obs_dim: int, config: FlowConfig) -> int:
    """Weights and biases of ``VelocityMLP(knot_dim, obs_dim, config)``, without building it."""
    width = knot_dim + 2 * obs_dim + 2 * config.time_features
    hidden, layers = config.hidden, config.layers
    return ((width + 1) * hidden + (layers - 1) * (hidden + 1) * hidden
            + (hidden + 1) * knot_dim)


def flow_matching_loss(net: VelocityMLP, u1: torch.Tensor, obs: torch.Tensor,
                       hist: torch.Tensor, generator: torch.Generator | None = None
                       ) -> torch.Tensor:
    """The paper's loss on a batch of normalised knots u1 (B, K*m)."""
    u0 = torch.randn(u1.shape, generator=generator, dtype=u1.dtype)
    t = torch.rand(u1.shape[0], generator=generator, dtype=u1.dtype)
    ut = t[:, None] * u1 + (1.0 - t[:, None]) * u0
    return ((net(ut, obs, hist, t) - (u1 - u0)) ** 2).sum(-1).mean()


@dataclass
class ModelInfo:
    """What a model was trained for: checked against the task it is used with."""

    task: str
    task_family: str
    observation_names: list[str]
    knot_times: list[float]
    interpolation: str
    action_low: list[float]
    action_high: list[float]

    @property
    def horizon(self) -> float:
        return float(self.knot_times[-1])


class NumpyVelocity:
    """The velocity network's forward pass in float32 numpy, for sampling.

    A planning step asks for a few tens of samples; at that size torch's
    per-operation overhead costs several times the arithmetic (2.2 ms against
    a 22 ms planning iteration for 10 Euler steps). Here the first layer is
    split by input block: the condition [x, h] is the same for every sample and
    every Euler step, and the time embedding the same for every sample, so
    their products are computed once per call (``prepare``) and each step
    costs one small matmul per layer. Training keeps the torch module;
    ``ProposalModel.velocity`` copies its weights here whenever they change.
    """

    def __init__(self, net: VelocityMLP, knot_dim: int) -> None:
        linears = [m for m in net.net if isinstance(m, nn.Linear)]
        weights = [lin.weight.detach().numpy().astype(np.float32).T.copy() for lin in linears]
        self.biases = [lin.bias.detach().numpy().astype(np.float32).copy() for lin in linears]
        self.time_features = features = net.config.time_features
        first = weights[0]  # rows: [u (knot_dim), x and h (2d), time embedding (2 features)]
        self.w_knots = first[:knot_dim]
        self.w_cond = first[knot_dim: first.shape[0] - 2 * features]
        self.w_time = first[first.shape[0] - 2 * features:]
        self.weights = weights[1:]

    def prepare(self, cond: np.ndarray, times: np.ndarray) -> np.ndarray:
        """First-layer offsets (steps, hidden) for condition (2d,) at flow times (steps,)."""
        emb = time_embedding(torch.from_numpy(times.astype(np.float32)),
                             self.time_features).numpy()
        return (cond.astype(np.float32) @ self.w_cond + self.biases[0]) + emb @ self.w_time

    def __call__(self, u: np.ndarray, offset: np.ndarray) -> np.ndarray:
        """v for knots u (n, K*m) given one row of ``prepare`` (the condition and time)."""
        z = u @ self.w_knots + offset
        for w, b in zip(self.weights, self.biases[1:], strict=True):
            z = _silu(z) @ w + b  # SiLU, then the next layer
        return z


_HALF = np.float32(0.5)


def _silu(z: np.ndarray) -> np.ndarray:
    """SiLU z * sigmoid(z) in float32, written as z * (1 + tanh(z / 2)) / 2.

    numpy's float32 tanh is vectorised; scipy's expit is not, and at the sampler's sizes
    (tens of rows x 256) it took a third of a proposal call. Agrees with torch's SiLU to
    float32 rounding (~5e-7). ``z`` is left unchanged.
    """
    y = np.multiply(z, _HALF)
    np.tanh(y, out=y)
    y *= _HALF
    y += _HALF
    y *= z
    return y


class ProposalModel:
    """A trained flow model that samples knot sequences (n, K, m) given (x, h)."""

    kind = "gpc"  # the training that makes it (``proposals.model_files``)

    def __init__(self, net: VelocityMLP, norm: Normalization, knot_shape: tuple[int, int],
                 info: ModelInfo, source: str = "<memory>",
                 sampling: dict | None = None) -> None:
        self.net = net.float().eval()
        self._velocity: tuple[tuple[int, ...], NumpyVelocity] | None = None
        self.norm = norm
        self.knot_shape = (int(knot_shape[0]), int(knot_shape[1]))
        self.obs_dim = len(norm.obs_mean)
        self.info = info
        self.source = source
        # Recommended sampling settings per method (``gpc_planner.sampling``): {} = the paper's.
        self.sampling: dict[str, dict[str, float | int]] = check_sampling_entry(
            sampling or {}, source)
        self._low = np.asarray(info.action_low, dtype=np.float64)
        self._high = np.asarray(info.action_high, dtype=np.float64)

    @property
    def velocity(self) -> NumpyVelocity:
        """The numpy copy of the network, rebuilt when torch's weights have changed.

        Every in-place update of a parameter (an optimizer step, load_state_dict)
        bumps its version counter, so a model trained after it was built never
        samples with stale weights.
        """
        key = tuple(p._version for p in self.net.parameters())
        if self._velocity is None or self._velocity[0] != key:
            self._velocity = (key, NumpyVelocity(self.net, self.knot_shape[0] * self.knot_shape[1]))
        return self._velocity[1]

    def sample(self, obs: np.ndarray, hist: np.ndarray, n: int, flow_steps: int = 10,
               generator: torch.Generator | None = None, noise: float = 1.0) -> np.ndarray:
        """``n`` knot sequences (n, K, m) in world units for one observation (d,) and history.

        Euler integration with ``flow_steps`` steps in float32, batched over n
        (the network in numpy, see ``NumpyVelocity``; the initial noise from
        torch's ``generator``, so seeded runs repeat); the result is clipped to
        the action bounds the model was trained with.

        ``noise`` scales the initial noise, x0 ~ N(0, noise^2 I): 1 is the paper's
        (and the training) distribution; above 1 the flow carries wider starts to
        samples spread further around what the data did, a sampling temperature.
        """
        if flow_steps < 1:
            raise ValueError("flow_steps must be at least 1")
        if not (math.isfinite(noise) and noise > 0.0):
            raise ValueError(f"noise must be a positive number, got {noise}")
        cond = np.concatenate([self.norm.obs(np.asarray(obs, dtype=np.float64)),
                               self.norm.obs(np.asarray(hist, dtype=np.float64))])
        dim = self.knot_shape[0] * self.knot_shape[1]
        u = torch.randn((n, dim), generator=generator, dtype=torch.float32).numpy()
        if noise != 1.0:
            u *= np.float32(noise)
        dt = np.float32(1.0 / flow_steps)
        velocity = self.velocity
        offsets = velocity.prepare(cond, np.arange(flow_steps) * dt)
        # tens of rows: BLAS threads cost more than they give; an overflow is not warned
        # about here but refused below, with the model's name (check_finite_samples)
        with single_blas_thread(), np.errstate(over="ignore", invalid="ignore"):
            for i in range(flow_steps):
                u = u + dt * velocity(u, offsets[i])
        knots = self.norm.unknots(u.astype(np.float64), self.knot_shape)
        check_finite_samples(knots, self.source)  # clip would pass NaN through
        return np.clip(knots, self._low, self._high)

    # --- files ---------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format_version": MODEL_FORMAT_VERSION,
            "task": self.info.task,
            "task_family": self.info.task_family,
            "observation_names": list(self.info.observation_names),
            "obs_dim": self.obs_dim,
            "knot_shape": list(self.knot_shape),
            "knot_times": [float(t) for t in self.info.knot_times],
            "interpolation": self.info.interpolation,
            "action_low": [float(v) for v in self.info.action_low],
            "action_high": [float(v) for v in self.info.action_high],
            "config": asdict(self.net.config),
            "normalization": self.norm.to_dict(),
            "state_dict": {k: v.detach().clone() for k, v in self.net.state_dict().items()},
            "sampling": {method: dict(s) for method, s in self.sampling.items()},
        }

    def save(self, path: str | Path) -> None:
        """Write the model file atomically (see the module docstring for its keys)."""
        from gpc_planner.proposals.torch_io import save_atomic

        save_atomic(self.to_dict(), path)

    def check_compatible(self, task, horizon: float | None = None) -> None:
        """ConfigError naming the file unless the model fits ``task`` (and ``horizon``, s).

        Same task, or a task of the same family with the same observation
        layout; same knot shape and observation size; a horizon no longer than
        the trained one (``window`` serves a shorter one).
        """
        check_fits_task(f"proposal model {self.source}", self.info, self.obs_dim,
                        self.knot_shape, task)
        if horizon is not None:
            self._check_horizon(horizon)

    def _check_horizon(self, horizon: float) -> None:
        """A model's curves end at its trained horizon: it cannot serve a longer one."""
        if horizon > self.info.horizon * (1 + 1e-6):
            raise ConfigError(f"proposal model {self.source} was trained for a "
                              f"{self.info.horizon:g} s horizon, not {horizon:g} s (a model "
                              "serves its horizon or a shorter one)")

    def window(self, knot_times: np.ndarray) -> ProposalModel | WindowedProposal:
        """This model for a planner whose knots sit at ``knot_times`` (s).

        A sampled knot sequence is a curve over the trained horizon; a planner
        with a shorter horizon gets that curve's values at its own knot times
        (its first part). This is how the paper's 1 s ablation reuses the 3 s
        model at inference time.
        """
        knot_times = np.asarray(knot_times, dtype=np.float64)
        if np.allclose(knot_times, self.info.knot_times, rtol=1e-6, atol=1e-9):
            return self
        self._check_horizon(float(knot_times[-1]))
        return WindowedProposal(self, knot_times)


class WindowedProposal:
    """A model's samples re-read at other (earlier) knot times: one matrix product."""

    def __init__(self, model: ProposalModel, knot_times: np.ndarray) -> None:
        from gpc_planner.control import interpolation_matrix

        self.model = model
        self.knot_times = np.asarray(knot_times, dtype=np.float64)
        self.weights = interpolation_matrix(np.asarray(model.info.knot_times), self.knot_times,
                                            model.info.interpolation)

    @property
    def source(self) -> str:
        return self.model.source

    @property
    def kind(self) -> str:
        return self.model.kind

    def sample(self, obs: np.ndarray, hist: np.ndarray, n: int, flow_steps: int = 10,
               generator: torch.Generator | None = None, noise: float = 1.0) -> np.ndarray:
        """(n, len(knot_times), m) knots: the model's curves at this window's times."""
        return self.weights @ self.model.sample(obs, hist, n, flow_steps, generator, noise)


def build_model(obs_dim: int, knot_shape: tuple[int, int], config: FlowConfig,
                norm: Normalization, info: ModelInfo, seed: int = 0) -> ProposalModel:
    """A fresh (untrained) model with seeded initial weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = VelocityMLP(knot_shape[0] * knot_shape[1], obs_dim, config)
    return ProposalModel(net, norm, knot_shape, info)


def model_from_dict(d: dict, source: str = "<memory>") -> ProposalModel:
    """Rebuild a model from its file contents; ConfigError naming ``source`` if the
    contents are not a whole, finite model of this format (``model_files``' checks)."""
    where = f"proposal model {source}"
    check_header(d, where, REQUIRED_KEYS, MODEL_FORMAT_VERSION)
    with building(where):
        config = FlowConfig(**d["config"])
        norm = Normalization.from_dict(d["normalization"])
        shape = (int(d["knot_shape"][0]), int(d["knot_shape"][1]))
        net = VelocityMLP(shape[0] * shape[1], int(d["obs_dim"]), config)
        net.load_state_dict(d["state_dict"])
        info = ModelInfo(d["task"], d["task_family"], list(d["observation_names"]),
                         list(d["knot_times"]), d["interpolation"], list(d["action_low"]),
                         list(d["action_high"]))
    check_normalization(where, int(d["obs_dim"]), norm.obs_mean, norm.obs_std)
    check_finite(where, net.state_dict().values(),
                 [getattr(norm, f.name) for f in fields(norm)])
    return ProposalModel(net, norm, shape, info, source=source,
                         sampling=check_sampling_entry(d.get("sampling", {}), source))


def load_proposal_model(path: str | Path, task=None, horizon: float | None = None
                        ) -> ProposalModel:
    """Load a model file; with ``task`` (and ``horizon``), also check that it fits.

    Every problem (missing file, not a torch file, a missing key, another
    format version, a task mismatch) is a ConfigError that names the file.
    """
    path = Path(path)
    model = model_from_dict(read_model_file(path), source=str(path))
    if task is not None:
        model.check_compatible(task, horizon)
    return model
