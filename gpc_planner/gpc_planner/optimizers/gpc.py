"""GPC-Shoot and GPC-CEM: sampling planners that draw from a learnt proposal.

Both are ``ConditionedOptimizer``s: ``SamplingPlanner.plan`` calls
``set_context(observation, history)`` (current observation, previous replanning
observation) before sampling. The proposal is any object with
``sample(obs, hist, n, flow_steps, generator, noise) -> (n, K, m)``, normally a
``gpc_planner.proposals.ProposalModel``; tests pass fakes. They are built with
``proposal=``: their ``MethodSpec`` in ``gpc_planner.registry`` says they need a
model, and ``gpc_planner.methods.build_planner`` loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from gpc_planner.optimizers.base import ConditionedOptimizer, OptimizerConfig
from gpc_planner.optimizers.cem import CEMConfig, CrossEntropyMethod
from gpc_sim.errors import ConfigError


class Proposal(Protocol):
    def sample(self, obs: np.ndarray, hist: np.ndarray, n: int, flow_steps: int = 10,
               generator=None, noise: float = 1.0) -> np.ndarray: ...


class NonFiniteProposal(ConfigError):
    """A proposal model produced NaN or infinite controls: planning with them is meaningless."""


def check_finite_samples(knots: np.ndarray, source: str) -> None:
    """NonFiniteProposal naming the model unless every sampled value is finite.

    A model with corrupt weights, or one given observations far outside its training
    data, can overflow float32; rolled out, NaN controls make MuJoCo reset the world
    and the planner would go on planning with garbage, silently.
    """
    finite = np.isfinite(knots).all(axis=tuple(range(1, knots.ndim)))
    if not finite.all():
        raise NonFiniteProposal(f"proposal model {source} produced non-finite controls (NaN "
                                f"or inf) in {int((~finite).sum())} of {len(knots)} samples; "
                                "its weights may be corrupt, or the state is far outside "
                                "its training data")


def _torch_generator(rng: np.random.Generator):
    """A torch generator seeded from the optimizer's numpy stream (reproducible runs)."""
    import torch

    return torch.Generator().manual_seed(int(rng.integers(2**62)))


class ProposalOptimizer(ConditionedOptimizer):
    """What both GPC optimizers share: the proposal, its torch generator, the context.

    The generator is drawn from the optimizer's numpy stream, so one seed fixes both;
    ``reseed`` restarts both.
    """

    _obs: np.ndarray | None = None
    _hist: np.ndarray | None = None
    proposal: Proposal
    generator: object  # torch.Generator (torch is imported only when one is made)

    def _attach(self, proposal: Proposal) -> None:
        self.proposal = proposal
        self.generator = _torch_generator(self.rng)

    def reseed(self, seed: int | np.random.SeedSequence) -> None:
        super().reseed(seed)
        self.generator = _torch_generator(self.rng)

    def set_context(self, observation: np.ndarray, history: np.ndarray) -> None:
        """Observation and history the next samples are conditioned on."""
        self._obs = np.asarray(observation, dtype=np.float64)
        self._hist = np.asarray(history, dtype=np.float64)

    def _proposals(self, n: int) -> np.ndarray:
        if self._obs is None or self._hist is None:
            raise RuntimeError("set_context(obs, hist) must be called before sampling")
        knots = np.asarray(self.proposal.sample(self._obs, self._hist, n, self.config.flow_steps,
                                                self.generator, self.config.flow_noise),
                           dtype=np.float64)
        check_finite_samples(knots, getattr(self.proposal, "source", type(self.proposal).__name__))
        return self.clip(knots)


@dataclass
class GPCShootConfig(OptimizerConfig):
    flow_steps: int = 10  # Euler steps of the flow ODE
    flow_noise: float = 1.0  # std of the flow's initial noise (1: the paper's)


class GPCShoot(ProposalOptimizer):
    """Random shooting from the model: N proposals, execute the cheapest."""

    config: GPCShootConfig

    def __init__(self, config: GPCShootConfig, spline, low, high, rng,
                 proposal: Proposal) -> None:
        super().__init__(config, spline, low, high, rng)
        self._attach(proposal)

    def sample(self, iteration: int) -> np.ndarray:
        return self._proposals(self.config.num_rollouts)

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.record_best(knots, costs)
        self.mean = self.best_knots.copy()

    def plan(self) -> np.ndarray:
        return self.best_knots


@dataclass
class GPCCEMConfig(CEMConfig):
    flow_share: float = 0.5  # N_flow / N; N_CEM = round((1 - share) N), paper 0.5
    flow_steps: int = 10  # Euler steps of the flow ODE
    flow_noise: float = 1.0  # std of the flow's initial noise (1: the paper's)
    execute: str = "best"  # Algorithm 1 executes the best candidate
    # Floor of the Gaussian half's std, in half-ranges (CEM's is 0.05). GPC-CEM executes
    # its best candidate, not the elite mean, so a wider Gaussian costs it nothing on the
    # plan executed and keeps its samples from collapsing onto the best plan: Push-T,
    # seed 1, 100 trials, 0.95 -> 0.99 (docs/GPC.md); CEM itself drops from 0.74 to ~0.3.
    sigma_min: float = 0.15
    # Whether one Gaussian row is the shifted best plan itself, as in classic CEM (and
    # judo's). Algorithm 1 only draws from N(mean, Sigma); re-evaluating the exact plan
    # keeps it alive against proposals whose pay-off lies beyond the horizon (docs/GPC.md).
    include_mean: bool = False


class GPCCEM(ProposalOptimizer, CrossEntropyMethod):
    """The paper's Algorithm 1 on top of CEM (floors, annealing, resets reused).

    Each iteration samples N_flow proposals and N_CEM Gaussian candidates around the
    shifted mean (the mean itself among them only with ``include_mean``), proposals
    first: under an anytime budget they are rolled out first (the model's guesses are
    what a short step needs most). Elites come from the union; the mean becomes
    the best candidate (``Optimizer.shift`` moves it forward at the next
    planning step) and the spread comes from the elites. ``cem_sample_ratio``
    is the share of the elites that came from the Gaussian.
    """

    config: GPCCEMConfig
    STATS = ("cem_sample_ratio",)

    def __init__(self, config: GPCCEMConfig, spline, low, high, rng,
                 proposal: Proposal) -> None:
        super().__init__(config, spline, low, high, rng)
        if not 0.0 <= config.flow_share <= 1.0:
            raise ValueError("flow_share must be in [0, 1]")
        self._attach(proposal)
        self.num_gaussian = int(round((1.0 - config.flow_share) * config.num_rollouts))
        self.cem_sample_ratio: float | None = None

    def reset(self, nominal: np.ndarray) -> None:
        super().reset(nominal)
        self.cem_sample_ratio = None

    def stats(self) -> dict[str, float]:
        return {} if self.cem_sample_ratio is None else {"cem_sample_ratio":
                                                          self.cem_sample_ratio}

    @property
    def num_flow(self) -> int:
        return self.config.num_rollouts - self.num_gaussian

    def sample(self, iteration: int) -> np.ndarray:
        parts = []
        if self.num_flow > 0:
            parts.append(self._proposals(self.num_flow))
        if self.num_gaussian > 0:
            parts.append(self.gaussian(self.num_gaussian, self.std,
                                       include_mean=self.config.include_mean))
        return np.concatenate(parts, axis=0)

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        """Rows [0, num_flow) of ``knots`` are proposals, the rest Gaussian (a prefix of
        ``sample``'s rows under an anytime budget)."""
        best = self.record_best(knots, costs)
        order = np.argsort(costs, kind="stable")[: self.elites_of(len(costs))]
        self.cem_sample_ratio = float(np.mean(order >= self.num_flow))
        elites = knots[order]
        self.mean = knots[best].copy()
        self.std = np.maximum(elites.std(axis=0), self.std_min)
        self._reset_on_stall()
