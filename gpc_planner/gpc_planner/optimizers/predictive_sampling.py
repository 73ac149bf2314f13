"""Predictive sampling (Howell et al. 2022): Gaussian samples around the last best."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpc_planner.optimizers.base import Optimizer, OptimizerConfig


@dataclass
class PredictiveSamplingConfig(OptimizerConfig):
    sigma: float = 0.2


class PredictiveSampling(Optimizer):
    """Fixed-spread sampling around the nominal; the nominal becomes the best sample."""

    def sample(self, iteration: int) -> np.ndarray:
        return self.gaussian(self.config.num_rollouts, self.config.sigma * self.scale)

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        self.mean = self.best_knots.copy()
