"""The cross-entropy method with the paper's two heuristics.

* Progress-based variance reset: when the best cost stops improving for
  ``reset_patience`` planning steps, the spread goes back to its initial value,
  which avoids the early collapse onto one mode.
* Action-level annealing: knots further into the horizon get proportionally
  more spread (up to ``1 + anneal`` times at the last knot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gpc_planner.optimizers.base import Optimizer, OptimizerConfig


@dataclass
class CEMConfig(OptimizerConfig):
    num_elites: int = 6
    sigma: float = 0.3  # initial / reset std, in half-ranges
    sigma_min: float = 0.05  # floor of the std, in half-ranges
    anneal: float = 1.0  # last knot gets (1 + anneal) x the first knot's spread
    reset_patience: int = 3  # planning steps without progress before a reset
    reset_tolerance: float = 0.01  # relative cost decrease that counts as progress
    execute: str = "mean"  # "mean" (classic CEM) or "best" (the best candidate)


class CrossEntropyMethod(Optimizer):
    """Diagonal-Gaussian CEM over knots with elites, floors, resets and annealing."""

    config: CEMConfig

    def __init__(self, config: CEMConfig, *args, **kwargs) -> None:
        super().__init__(config, *args, **kwargs)
        if config.num_elites < 1:
            raise ValueError("num_elites must be at least 1")
        # Fewer rollouts than elites (a small benchmark, say): every sample is an elite.
        self.num_elites = min(config.num_elites, config.num_rollouts)
        if config.execute not in ("mean", "best"):
            raise ValueError("execute must be 'mean' or 'best'")
        k = self.spline.num_knots
        knot_scale = np.linspace(1.0, 1.0 + config.anneal, k)[:, None]
        self.std_init = config.sigma * self.scale * knot_scale
        self.std_min = config.sigma_min * self.scale * knot_scale
        self.std = self.std_init.copy()
        self._stalled = 0
        self._last_best = np.inf

    def reset(self, nominal: np.ndarray) -> None:
        super().reset(nominal)
        self.std = self.std_init.copy()
        self._stalled = 0
        self._last_best = np.inf

    def sample(self, iteration: int) -> np.ndarray:
        return self.gaussian(self.config.num_rollouts, self.std)

    def elites_of(self, count: int) -> int:
        """Elites among ``count`` rolled-out candidates: ``num_elites`` of a full batch, the
        same share of a batch an anytime budget cut short (at least one), so that a short
        step still selects instead of averaging nearly everything it saw."""
        if count >= self.config.num_rollouts:
            return self.num_elites
        return max(1, int(round(self.num_elites * count / self.config.num_rollouts)))

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        elites = knots[np.argsort(costs)[: self.elites_of(len(costs))]]
        self.mean = elites.mean(axis=0)
        self.std = np.maximum(elites.std(axis=0), self.std_min)
        self._reset_on_stall()

    def _reset_on_stall(self) -> None:
        progressed = self.best_cost < self._last_best - self.config.reset_tolerance * abs(
            self._last_best
        ) if np.isfinite(self._last_best) else True
        self._last_best = self.best_cost
        self._stalled = 0 if progressed else self._stalled + 1
        if self._stalled >= self.config.reset_patience:
            self.std = np.maximum(self.std, self.std_init)
            self._stalled = 0

    def plan(self) -> np.ndarray:
        return self.best_knots if self.config.execute == "best" else self.mean
