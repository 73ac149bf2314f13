"""The normalizing-flow sampling distributions of NFMPC and FlowMPPI, and their file format.

One class serves both methods (``kind``): a conditional RealNVP flow h(z; c) from a latent
vector to a whole knot sequence, conditioned on the task's observation (NFMPC paper,
Sec. 5.1: obstacle positions, current state and goal), and, for NFMPC, the learnt latent
shift model Phi. NFMPC's flow ends in the bounded sigmoid map (Sec. 3.3); FlowMPPI's in
an affine one (Power & Berenson sample freely and clip).

Planning uses the numpy-facing methods (``push``, ``shift_latent``) under no_grad;
training (``gpc_planner.proposals.nf_train``) uses the torch modules and ``log_prob``.

Model file (a torch zip read with ``weights_only=True``), beside GPC's (``flow_model``)::

    format_version    int, NF_FORMAT_VERSION
    kind              "nfmpc" | "flow_mppi" (GPC's files have no kind)
    task, task_family, observation_names, obs_dim, knot_shape, knot_times,
    interpolation, action_low, action_high     as in GPC's model files
    bounded           bool, the sigmoid output map
    config            dict, RealNVPConfig
    normalization     dict, obs_mean, obs_std (d): the context's affine normalisation
    state_dict        the flow's weights (and its output map's buffers)
    shift             dict {config: ShiftConfig, state_dict, period: s} (nfmpc), or None
    controller        dict, the optimizer settings the model was trained with
    sampling          dict, recommended sampling per method (``gpc_planner.sampling``)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from gpc_planner.optimizers.gpc import check_finite_samples
from gpc_planner.proposals.flow_model import ModelInfo
from gpc_planner.proposals.model_files import (
    NF_KINDS,
    building,
    check_finite,
    check_fits_task,
    check_header,
    check_normalization,
    read_model_file,
    unknown_kind,
)
from gpc_planner.proposals.realnvp import (
    ConditionalRealNVP,
    OutputMap,
    RealNVPConfig,
    ShiftConfig,
    ShiftModel,
    gaussian_log_prob,
)
from gpc_planner.sampling import check_sampling_entry
from gpc_sim.errors import ConfigError

NF_FORMAT_VERSION = 1
REQUIRED_KEYS = ("format_version", "kind", "task", "task_family", "observation_names",
                 "obs_dim", "knot_shape", "knot_times", "interpolation", "action_low",
                 "action_high", "bounded", "config", "normalization", "state_dict", "shift")


@dataclass
class ContextNormalization:
    """An affine map of observations to zero mean and unit spread (floored)."""

    obs_mean: np.ndarray
    obs_std: np.ndarray

    @classmethod
    def fit(cls, obs: np.ndarray, floor: float = 1e-3) -> ContextNormalization:
        return cls(obs.mean(0), np.maximum(obs.std(0), floor))

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        return (obs - self.obs_mean) / self.obs_std

    def to_dict(self) -> dict[str, list[float]]:
        return {f.name: [float(v) for v in getattr(self, f.name)] for f in fields(self)}

    @classmethod
    def from_dict(cls, d: dict) -> ContextNormalization:
        return cls(**{f.name: np.asarray(d[f.name], dtype=np.float64) for f in fields(cls)})


class NormalizingFlowModel:
    """A conditional flow over knot sequences (n, K, m), with NFMPC's shift model."""

    def __init__(self, kind: str, flow: ConditionalRealNVP, output: OutputMap,
                 norm: ContextNormalization, knot_shape: tuple[int, int], info: ModelInfo,
                 shift: ShiftModel | None = None, shift_period: float | None = None,
                 controller: dict | None = None, source: str = "<memory>",
                 sampling: dict | None = None) -> None:
        if kind not in NF_KINDS:
            raise ValueError(f"unknown flow model kind {kind!r}")
        self.kind = kind
        self.flow = flow
        self.output = output
        self.shift = shift
        self.shift_period = shift_period
        self.norm = norm
        self.knot_shape = (int(knot_shape[0]), int(knot_shape[1]))
        self.info = info
        self.controller = dict(controller or {})
        self.source = source
        self.sampling: dict[str, dict[str, float | int]] = check_sampling_entry(
            sampling or {}, source)

    @property
    def latent_dim(self) -> int:
        return self.knot_shape[0] * self.knot_shape[1]

    @property
    def dtype(self) -> torch.dtype:
        return next(self.flow.parameters()).dtype

    def modules(self) -> list[torch.nn.Module]:
        """The trainable parts: the flow, and the shift model if there is one."""
        return [self.flow] + ([self.shift] if self.shift is not None else [])

    def parameters(self) -> list[torch.nn.Parameter]:
        return [p for m in self.modules() for p in m.parameters()]

    # --- planning (numpy in, numpy out) ----------------------------------
    def context(self, obs: np.ndarray) -> torch.Tensor:
        """Normalised contexts (..., 1, d) for observations (..., d)."""
        c = torch.as_tensor(self.norm(np.asarray(obs, dtype=np.float64)), dtype=self.dtype)
        return c.unsqueeze(-2)

    def push(self, z: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Latents z (n, D) -> (y, knots): the flow's outputs y (n, D), before the output
        map (what training evaluates densities at), and knot sequences (n, K, m)."""
        with torch.no_grad():
            y, _ = self.flow(torch.as_tensor(z, dtype=self.dtype), self.context(obs))
            u = self.output(y)
        knots = u.numpy().astype(np.float64).reshape(len(z), *self.knot_shape)
        check_finite_samples(knots, self.source)
        return y.numpy(), knots

    @property
    def variant(self) -> str | None:
        """What sets this model apart from its method's plain one, for result labels:
        "fixed shift" for NFMPC trained with its shift kept fixed (the paper's ablation)."""
        if self.shift is not None and not self.shift.config.learnt:
            return "fixed shift"
        return None

    def shift_latent(self, mean: np.ndarray) -> np.ndarray:
        """The latent mean one replanning period later, Phi(mu) (NFMPC only)."""
        if self.shift is None:
            raise ConfigError(f"flow model {self.source} has no shift model (kind {self.kind})")
        with torch.no_grad():
            out = self.shift(torch.as_tensor(mean, dtype=self.dtype))
        return out.numpy().astype(np.float64)

    # --- densities (torch, differentiable) --------------------------------
    def log_prob(self, y: torch.Tensor, context: torch.Tensor, mean: torch.Tensor | float,
                 std: float) -> tuple[torch.Tensor, torch.Tensor]:
        """(log pi(u | c), z) at the flow outputs y (..., D) (u = output map of y), for
        the latent distribution N(mean, std^2 I): Eq. 9, the output map's log|det| in."""
        z, log_det = self.flow.inverse(y, context)
        mean_t = torch.as_tensor(mean, dtype=y.dtype)
        return gaussian_log_prob(z, mean_t, std) + log_det - self.output.log_det(y), z

    # --- files -------------------------------------------------------------
    def to_dict(self) -> dict:
        shift = None
        if self.shift is not None:
            shift = {"config": asdict(self.shift.config), "period": float(self.shift_period),
                     "state_dict": {k: v.detach().clone()
                                    for k, v in self.shift.state_dict().items()}}
        return {
            "format_version": NF_FORMAT_VERSION,
            "kind": self.kind,
            "task": self.info.task,
            "task_family": self.info.task_family,
            "observation_names": list(self.info.observation_names),
            "obs_dim": len(self.norm.obs_mean),
            "knot_shape": list(self.knot_shape),
            "knot_times": [float(t) for t in self.info.knot_times],
            "interpolation": self.info.interpolation,
            "action_low": [float(v) for v in self.info.action_low],
            "action_high": [float(v) for v in self.info.action_high],
            "bounded": self.output.bounded,
            "config": asdict(self.flow.config),
            "normalization": self.norm.to_dict(),
            "state_dict": {k: v.detach().clone() for k, v in self.flow.state_dict().items()},
            "shift": shift,
            "controller": dict(self.controller),
            "sampling": {method: dict(s) for method, s in self.sampling.items()},
        }

    def save(self, path: str | Path) -> None:
        """Write the model file atomically."""
        from gpc_planner.proposals.torch_io import save_atomic

        save_atomic(self.to_dict(), path)

    def check_compatible(self, task, horizon: float | None = None) -> None:
        """ConfigError naming the file unless the model fits ``task`` and ``horizon`` (s):
        the same task (or family with the same observations), knot shape and horizon.
        A flow over whole sequences serves only the horizon it was trained for (the
        paper's Sec. 6 names this limitation)."""
        where = f"flow model {self.source}"
        check_fits_task(where, self.info, len(self.norm.obs_mean), self.knot_shape, task)
        if horizon is not None and not np.isclose(horizon, self.info.horizon, rtol=1e-6):
            raise ConfigError(f"{where} was trained for a {self.info.horizon:g} s horizon, "
                              f"not {horizon:g} s (a flow over whole sequences serves only "
                              "its own horizon)", setting="horizon")

    def window(self, knot_times: np.ndarray) -> NormalizingFlowModel:
        """This model, for a planner whose knots are the trained ones (no other)."""
        if not np.allclose(knot_times, self.info.knot_times, rtol=1e-6, atol=1e-9):
            raise ConfigError(f"flow model {self.source} was trained for knots at "
                              f"{list(self.info.knot_times)} s, not {list(knot_times)}",
                              setting="horizon")
        return self


def build_nf_model(kind: str, obs_dim: int, knot_shape: tuple[int, int], info: ModelInfo,
                   norm: ContextNormalization, config: RealNVPConfig,
                   shift_config: ShiftConfig | None = None, shift_initial: np.ndarray | None
                   = None, shift_period: float | None = None, controller: dict | None = None,
                   seed: int = 0) -> NormalizingFlowModel:
    """A fresh (untrained: identity flow, time-shift warm start) model, seeded weights.

    ``kind`` "nfmpc" gets the bounded output map and a shift model (``shift_initial``,
    ``time_shift_matrix``); "flow_mppi" the affine output map and none.
    """
    dim = knot_shape[0] * knot_shape[1]
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        flow = ConditionalRealNVP(dim, obs_dim, config)
        shift = (ShiftModel(dim, shift_config or ShiftConfig(), shift_initial)
                 if kind == "nfmpc" else None)
    output = OutputMap(np.asarray(info.action_low), np.asarray(info.action_high),
                       knot_shape[0], bounded=kind == "nfmpc")
    return NormalizingFlowModel(kind, flow.float(), output.float(), norm, knot_shape, info,
                                shift.float() if shift is not None else None, shift_period,
                                controller)


def control_spread(model: NormalizingFlowModel, observations: np.ndarray,
                   low: np.ndarray, high: np.ndarray, latent_std: float = 1.0,
                   samples: int = 256, rng: np.random.Generator | None = None
                   ) -> tuple[float, float]:
    """How wide ``model`` samples at the latent's centre: the per-entry standard deviation
    of its controls as a share of the control half-range (the median over ``observations``
    (n, d): a trained flow's width depends on the context, on Push-T from 0.03 to 0.25), and
    the share of entries within 2 % of the range from a bound (the mean).

    Why: NFMPC's objective (Eq. 7) is lowest for a distribution collapsed on the best plan,
    so training can narrow the flow (on Push-T to 0.1 of the half-range, from 0.41
    untrained; docs/NFMPC.md), and the bounded sigmoid can pile samples on a bound: both
    show here. ``scripts/nf_flow_spread.py`` prints it for a model file."""
    rng = rng or np.random.default_rng(0)
    low, high = np.asarray(low, dtype=np.float64), np.asarray(high, dtype=np.float64)
    half = (high - low) / 2
    spreads, at_bound = [], []
    for obs in np.atleast_2d(observations):
        z = latent_std * rng.standard_normal((samples, model.latent_dim))
        u = model.push(z, obs)[1].reshape(samples, -1, len(low))
        spreads.append((u.std(0) / half).mean())
        at_bound.append((np.minimum(u - low, high - u) < 0.04 * half).mean())
    return float(np.median(spreads)), float(np.mean(at_bound))


def nf_model_from_dict(d: dict, source: str = "<memory>") -> NormalizingFlowModel:
    """Rebuild a flow model from its file contents; ConfigError naming ``source`` if the
    contents are not a whole, finite model of this format."""
    where = f"flow model {source}"
    check_header(d, where, REQUIRED_KEYS, NF_FORMAT_VERSION)
    kind = d["kind"]
    if kind not in NF_KINDS:
        raise unknown_kind(where, kind, NF_KINDS)
    with building(where):
        shape = (int(d["knot_shape"][0]), int(d["knot_shape"][1]))
        info = ModelInfo(d["task"], d["task_family"], list(d["observation_names"]),
                         list(d["knot_times"]), d["interpolation"], list(d["action_low"]),
                         list(d["action_high"]))
        norm = ContextNormalization.from_dict(d["normalization"])
        shift_entry = d["shift"]
        if (kind == "nfmpc") != isinstance(shift_entry, dict):
            raise ValueError("an nfmpc model has a shift model, a flow_mppi model none")
        if bool(d["bounded"]) != (kind == "nfmpc"):
            raise ValueError(f"bounded={d['bounded']} does not match kind {kind}")
        model = build_nf_model(
            kind, int(d["obs_dim"]), shape, info, norm, RealNVPConfig(**d["config"]),
            ShiftConfig(**shift_entry["config"]) if shift_entry else None,
            shift_period=float(shift_entry["period"]) if shift_entry else None,
            controller=dict(d.get("controller") or {}))
        model.flow.load_state_dict(d["state_dict"])
        if model.shift is not None:
            model.shift.load_state_dict(shift_entry["state_dict"])
    check_normalization(where, int(d["obs_dim"]), norm.obs_mean, norm.obs_std)
    check_finite(where, [t for m in model.modules() for t in m.state_dict().values()],
                 [norm.obs_mean, norm.obs_std])
    model.source = source
    model.sampling = check_sampling_entry(d.get("sampling", {}), source)
    return model


def load_nf_model(path: str | Path, task=None, horizon: float | None = None
                  ) -> NormalizingFlowModel:
    """Load a flow model file (and check it against ``task``/``horizon``); every problem is
    a ConfigError naming the file."""
    model = nf_model_from_dict(read_model_file(path), source=str(path))
    if task is not None:
        model.check_compatible(task, horizon)
    return model


__all__ = ["NF_FORMAT_VERSION", "NF_KINDS", "ContextNormalization", "NormalizingFlowModel",
           "build_nf_model", "control_spread", "load_nf_model", "nf_model_from_dict"]
