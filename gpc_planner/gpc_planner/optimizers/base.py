"""The optimizer interface shared by every sampling-based planner.

An optimizer is three methods (hydrax-style): ``sample`` candidate knot
sequences, ``update`` its distribution from their costs, and ``plan`` the
sequence to execute. ``reset`` and ``shift`` handle the start of an episode
and the warm start between replanning steps; ``reseed`` restarts its random
streams (a seeded run repeats); ``stats`` reports method-specific figures of the
last planning step. An optimizer whose samples depend on where the system is
(the GPC methods) is a ``ConditionedOptimizer``: the planner gives it the
observation and the history before each planning step.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from gpc_planner.control import ControlSpline


@dataclass
class OptimizerConfig:
    """Settings every optimizer has.

    ``sigma`` is a standard deviation in units of half the action range, so one
    value suits actions of different scales (metres, radians).
    """

    num_rollouts: int = 32
    iterations: int = 1  # optimization iterations per planning step
    sigma: float = 0.3  # initial sampling std, in half-ranges


class Optimizer(ABC):
    """A distribution over knot sequences (K, m), improved from rollout costs."""

    # Names of the figures ``stats`` reports (e.g. GPC-CEM's "cem_sample_ratio"): evaluation
    # and collection summarise each of them per episode and over episodes.
    STATS: tuple[str, ...] = ()

    def __init__(self, config: OptimizerConfig, spline: ControlSpline, low: np.ndarray,
                 high: np.ndarray, rng: np.random.Generator) -> None:
        if config.num_rollouts < 2:
            raise ValueError("num_rollouts must be at least 2")
        self.config = config
        self.spline = spline
        self.low = np.asarray(low, dtype=np.float64)
        self.high = np.asarray(high, dtype=np.float64)
        self.scale = (self.high - self.low) / 2.0
        self.rng = rng
        shape = (spline.num_knots, self.low.shape[0])
        self.mean = np.zeros(shape)
        self.best_knots = np.zeros(shape)
        self.best_cost = np.inf

    @property
    def iterations(self) -> int:
        return self.config.iterations

    def reset(self, nominal: np.ndarray) -> None:
        """Start from ``nominal`` knots (K, m) with the initial spread."""
        self.mean = self.clip(np.array(nominal, dtype=np.float64))
        self.best_knots = self.mean.copy()
        self.best_cost = np.inf

    def reseed(self, seed: int | np.random.SeedSequence) -> None:
        """Restart every random stream this optimizer owns from ``seed``.

        Afterwards the optimizer draws what one built with ``np.random.default_rng(seed)``
        would: a reset with the same seed followed by the same planning calls repeats the
        same plans. Subclasses with streams of their own (a torch generator) restart
        them here too.
        """
        self.rng = np.random.default_rng(seed)

    def stats(self) -> dict[str, float]:
        """Method-specific figures of the last planning step (keys from ``STATS``; a
        figure without a value yet is left out)."""
        return {}

    def shift(self, elapsed: float) -> None:
        """Re-anchor the distribution ``elapsed`` seconds later (warm start)."""
        self.mean = self.spline.shift(self.mean, elapsed)
        self.best_knots = self.spline.shift(self.best_knots, elapsed)

    def clip(self, knots: np.ndarray) -> np.ndarray:
        return np.clip(knots, self.low, self.high)

    def gaussian(self, n: int, std: np.ndarray, include_mean: bool = True) -> np.ndarray:
        """``n`` samples around the mean with per-knot std (K, m); row 0 is the mean."""
        eps = self.rng.standard_normal((n, *self.mean.shape))
        samples = self.mean + eps * std
        if include_mean:
            samples[0] = self.mean
        return self.clip(samples)

    def record_best(self, knots: np.ndarray, costs: np.ndarray) -> int:
        """Remember the cheapest candidate; returns its index."""
        i = int(np.argmin(costs))
        self.best_knots = knots[i].copy()
        self.best_cost = float(costs[i])
        return i

    @abstractmethod
    def sample(self, iteration: int) -> np.ndarray:
        """Candidate knots (N, K, m) for optimization iteration ``iteration``, in the order
        an anytime planning step should roll them out (``SamplingPlanner``): the ones it
        would least like to miss first."""

    @abstractmethod
    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        """Move the distribution given candidates (n, K, m) and their costs (n,): the first
        n <= N rows of the last ``sample`` (fewer when an anytime budget ran out)."""

    def plan(self) -> np.ndarray:
        """The knots to execute: the mean by default."""
        return self.mean


class ConditionedOptimizer(Optimizer):
    """An optimizer whose samples depend on where the system is.

    ``SamplingPlanner.plan`` calls ``set_context`` before each planning step's
    first ``sample``; optimizers that are not conditioned never get one.
    """

    @abstractmethod
    def set_context(self, observation: np.ndarray, history: np.ndarray) -> None:
        """The current observation (d,) and the history (d,): the observation at the
        previous replanning step, or the current one at an episode's first step."""


def softmax_weights(costs: np.ndarray, temperature: float) -> np.ndarray:
    """MPPI weights with costs normalised to [0, 1], so ``temperature`` is scale-free."""
    spread = max(float(costs.max() - costs.min()), 1e-12)
    w = np.exp(-(costs - costs.min()) / (spread * temperature))
    return w / w.sum()
