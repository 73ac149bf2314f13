"""NFMPC (Sacks & Boots, "Learning Sampling Distributions for MPC"): MPPI in a flow's latent space.

The sampling distribution is a learnt conditional flow pushed forward from a Gaussian
latent, u = h(z; c), z ~ N(mu, sigma^2 I) (the paper's Eq. 6); the context c is the
task's observation. Every update and warm start happens in the latent space (Sec. 3):

* update: the MPPI step of Eq. 5 on the latent mean, with the latent samples in the
  weighted sum, mu = (1 - gamma) mu~ + gamma sum_i w_i z_i (the paper proves in its
  Appendix A.6 that this is the DMD update of the latent Gaussian when h is invertible);
* warm start: the learnt latent shift model, mu~ = Phi(mu) (Sec. 3.2), in place of the
  time shift of a plan in control space;
* plan: the flow's image of the updated mean, h(mu; c) (or the cheapest sample).

Only the mean moves; sigma stays fixed (``flow_noise``). The flow and the shift model
come from ``gpc train --method nfmpc`` (``gpc_planner.proposals.nf_train``), which trains
them through this very optimizer (``trace``). Weights are the project's MPPI weights
(costs normalised to [0, 1], ``softmax_weights``), so that NFMPC, FlowMPPI and MPPI
share one temperature convention.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gpc_planner.optimizers.base import ConditionedOptimizer, OptimizerConfig, softmax_weights
from gpc_sim.errors import ConfigError

EXECUTE = ("mean", "best")


class LatentFlow(Protocol):
    """What NFMPC needs of its model (``proposals.nf_model.NormalizingFlowModel``)."""

    latent_dim: int
    shift_period: float | None

    def push(self, z: np.ndarray, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...

    def shift_latent(self, mean: np.ndarray) -> np.ndarray: ...


@dataclass
class StepTrace:
    """One planning step as training needs it (``gpc_planner.proposals.nf_loss``): the
    context, the flow outputs y (N, D) of the step's samples and their weights (N,) (the
    batch of the update, Eq. 13), and, for NFMPC, a batch drawn after the update from
    the updated distribution with its weights (the batch of Eq. 12; the trainer adds it).
    """

    observation: np.ndarray
    outputs: np.ndarray
    weights: np.ndarray
    objective_outputs: np.ndarray | None = None
    objective_weights: np.ndarray | None = None


@dataclass
class NFMPCConfig(OptimizerConfig):
    temperature: float = 0.02  # on costs normalised to [0, 1], as MPPI's
    step_size: float = 1.0  # gamma of Eq. 5 / Eq. 13
    flow_noise: float = 1.0  # sigma: the latent's std, z ~ N(mu, sigma^2 I)
    execute: str = "mean"  # "mean": h(mu; c); "best": the cheapest sample


def latent_mppi_update(shifted: np.ndarray, latents: np.ndarray, weights: np.ndarray,
                       step_size: float) -> np.ndarray:
    """Eq. 5 with latent samples: (1 - gamma) mu~ + gamma sum_i w_i z_i (Appendix A.6)."""
    return (1.0 - step_size) * shifted + step_size * (weights @ latents)


class NFMPC(ConditionedOptimizer):
    """MPPI on the latent mean of a conditional flow, warm-started by a learnt shift."""

    config: NFMPCConfig

    def __init__(self, config: NFMPCConfig, spline, low, high, rng,
                 proposal: LatentFlow) -> None:
        super().__init__(config, spline, low, high, rng)
        if not 0.0 < config.step_size <= 1.0:
            raise ConfigError(f"step_size must be in (0, 1], got {config.step_size}",
                              setting="step_size")
        if not config.flow_noise > 0.0:
            raise ConfigError(f"flow_noise must be positive, got {config.flow_noise}",
                              setting="flow_noise")
        if config.execute not in EXECUTE:
            raise ConfigError(f"execute must be one of {', '.join(EXECUTE)}, got "
                              f"{config.execute!r}", setting="execute")
        self.proposal = proposal
        self.latent = np.zeros(proposal.latent_dim)  # mu
        self._obs: np.ndarray | None = None
        self._latents: np.ndarray | None = None  # the last samples' z (N, D)
        self._outputs: np.ndarray | None = None  # and their flow outputs y (N, D)
        # A list to append a StepTrace to at every update (training), or None.
        self.trace: list[StepTrace] | None = None

    def reset(self, nominal: np.ndarray) -> None:
        """A new episode starts from the latent's centre, mu = 0 (as training does); the
        plan is ``nominal`` until the first update."""
        super().reset(nominal)
        self.latent = np.zeros(self.proposal.latent_dim)

    def set_context(self, observation: np.ndarray, history: np.ndarray) -> None:
        """The flow is conditioned on the observation only (the paper's context)."""
        self._obs = np.asarray(observation, dtype=np.float64)

    def shift(self, elapsed: float) -> None:
        """The learnt warm start: Phi once per replanning period it was trained for."""
        super().shift(elapsed)
        period = self.proposal.shift_period
        times = 1 if not period else max(1, int(round(elapsed / period)))
        for _ in range(times):
            self.latent = self.proposal.shift_latent(self.latent)

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``n`` samples of the current latent distribution N(mu, sigma^2 I), pushed
        through the flow: (latents z, flow outputs y, knots (n, K, m))."""
        if self._obs is None:
            raise RuntimeError("set_context(obs, hist) must be called before sampling")
        z = self.latent + self.config.flow_noise * rng.standard_normal((n, self.latent.shape[0]))
        y, knots = self.proposal.push(z, self._obs)
        return z, y, self.clip(knots)

    def sample(self, iteration: int) -> np.ndarray:
        self._latents, self._outputs, knots = self.draw(self.config.num_rollouts, self.rng)
        return knots

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        w = softmax_weights(costs, self.config.temperature)
        n = len(costs)  # a prefix of the samples under an anytime budget
        self.latent = latent_mppi_update(self.latent, self._latents[:n], w,
                                         self.config.step_size)
        self.mean = self.clip(self.proposal.push(self.latent[None], self._obs)[1][0])
        if self.trace is not None:
            self.trace.append(StepTrace(self._obs, self._outputs[:n], w))

    def plan(self) -> np.ndarray:
        return self.best_knots if self.config.execute == "best" else self.mean
