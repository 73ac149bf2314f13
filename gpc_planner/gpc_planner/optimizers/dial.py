"""DIAL-MPC (Xue et al. 2024): MPPI with diffusion-style annealing.

Each planning step runs ``iterations`` MPPI updates whose spread shrinks from
one iteration to the next (optimization-level annealing) and grows towards
the end of the horizon (trajectory-level annealing):

    sigma(i, k) = sigma * exp(-i / (beta_opt * n)) * exp(-(K - 1 - k) / (beta_traj * K))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpc_planner.optimizers.base import Optimizer, OptimizerConfig, softmax_weights


@dataclass
class DIALConfig(OptimizerConfig):
    iterations: int = 2  # inner annealing iterations: twice the simulation of the others
    sigma: float = 0.3
    temperature: float = 0.02
    beta_opt: float = 1.0
    beta_traj: float = 1.0


class DIALMPC(Optimizer):
    """Annealed MPPI."""

    config: DIALConfig

    def _std(self, iteration: int) -> np.ndarray:
        c = self.config
        k = self.spline.num_knots
        knot = np.exp(-(k - 1 - np.arange(k)) / (c.beta_traj * k))[:, None]
        level = np.exp(-iteration / (c.beta_opt * c.iterations))
        return c.sigma * self.scale * level * knot

    def sample(self, iteration: int) -> np.ndarray:
        return self.gaussian(self.config.num_rollouts, self._std(iteration))

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        w = softmax_weights(costs, self.config.temperature)
        self.mean = self.clip(np.einsum("n,nkm->km", w, knots))
