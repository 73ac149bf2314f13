"""FlowMPPI (Power & Berenson), as the NFMPC paper describes it: a flow in control space.

A conditional flow u = h(z; c), z ~ N(0, sigma^2 I), is a fixed sampling distribution:
its latent never moves. Every update happens in control space: half the samples come
from the flow, half are Gaussian perturbations of the current control-space mean
(the heuristic the NFMPC paper names, Sec. 1 and 4), the MPPI step moves that mean, and
the warm start is the usual time shift of the plan. The flow is trained on the
likelihood-ratio gradient of the MPPI objective (Eq. 3) over its own samples
(``gpc train --method flow_mppi``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpc_planner.optimizers.base import ConditionedOptimizer, softmax_weights
from gpc_planner.optimizers.mppi import MPPIConfig
from gpc_planner.optimizers.nfmpc import LatentFlow, StepTrace
from gpc_sim.errors import ConfigError


@dataclass
class FlowMPPIConfig(MPPIConfig):
    flow_share: float = 0.5  # share of the samples drawn from the flow (Power & Berenson: half)
    flow_noise: float = 1.0  # std of the flow's latent, z ~ N(0, sigma^2 I)


class FlowMPPI(ConditionedOptimizer):
    """MPPI in control space over flow samples and Gaussian perturbations of the mean.

    ``flow_weight``: the share of the MPPI weight that fell on flow samples.
    """

    config: FlowMPPIConfig
    STATS = ("flow_weight",)

    def __init__(self, config: FlowMPPIConfig, spline, low, high, rng,
                 proposal: LatentFlow) -> None:
        super().__init__(config, spline, low, high, rng)
        if not 0.0 <= config.flow_share <= 1.0:
            raise ConfigError(f"flow_share must be in [0, 1], got {config.flow_share}",
                              setting="flow_share")
        if not config.flow_noise > 0.0:
            raise ConfigError(f"flow_noise must be positive, got {config.flow_noise}",
                              setting="flow_noise")
        self.proposal = proposal
        self.num_flow = int(round(config.flow_share * config.num_rollouts))
        self._obs: np.ndarray | None = None
        self._outputs: np.ndarray | None = None
        self.flow_weight: float | None = None
        self.trace: list[StepTrace] | None = None  # training's record, or None

    def reset(self, nominal: np.ndarray) -> None:
        super().reset(nominal)
        self.flow_weight = None

    def stats(self) -> dict[str, float]:
        return {} if self.flow_weight is None else {"flow_weight": self.flow_weight}

    def set_context(self, observation: np.ndarray, history: np.ndarray) -> None:
        """The flow is conditioned on the observation only (the paper's context)."""
        self._obs = np.asarray(observation, dtype=np.float64)

    def sample(self, iteration: int) -> np.ndarray:
        """Rows [0, N - num_flow) Gaussian around the mean (row 0 the mean), the rest flow."""
        if self._obs is None:
            raise RuntimeError("set_context(obs, hist) must be called before sampling")
        parts = []
        num_gaussian = self.config.num_rollouts - self.num_flow
        if num_gaussian > 0:
            parts.append(self.gaussian(num_gaussian, self.config.sigma * self.scale))
        if self.num_flow > 0:
            z = self.config.flow_noise * self.rng.standard_normal(
                (self.num_flow, self.proposal.latent_dim))
            self._outputs, knots = self.proposal.push(z, self._obs)
            parts.append(self.clip(knots))
        return np.concatenate(parts, axis=0)

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        w = softmax_weights(costs, self.config.temperature)
        self.mean = self.clip(np.einsum("n,nkm->km", w, knots))
        first_flow = self.config.num_rollouts - self.num_flow
        self.flow_weight = float(w[first_flow:].sum())  # 0 if a budget stopped before them
        if self.trace is not None and len(costs) > first_flow:
            # Eq. 3 over the flow's own samples: their weights among themselves.
            own = softmax_weights(costs[first_flow:], self.config.temperature)
            self.trace.append(StepTrace(self._obs, self._outputs[: len(own)], own))
