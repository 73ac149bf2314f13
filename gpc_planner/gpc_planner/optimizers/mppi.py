"""Model predictive path integral control (Williams et al. 2017)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpc_planner.optimizers.base import Optimizer, OptimizerConfig, softmax_weights


@dataclass
class MPPIConfig(OptimizerConfig):
    sigma: float = 0.15
    temperature: float = 0.02  # on costs normalised to [0, 1]


class MPPI(Optimizer):
    """Fixed-spread Gaussian sampling; the mean is the cost-weighted average."""

    config: MPPIConfig

    def sample(self, iteration: int) -> np.ndarray:
        return self.gaussian(self.config.num_rollouts, self.config.sigma * self.scale)

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        w = softmax_weights(costs, self.config.temperature)
        self.mean = self.clip(np.einsum("n,nkm->km", w, knots))
