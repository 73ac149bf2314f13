"""The task interface every world implements (hydrax-style: two cost functions).

A task owns its MuJoCo model, its rollout engine, its costs, its success test
and a seeded initial-state sampler. Planners only see this interface, so a new
world is a new subclass plus a registry entry (``gpc_sim.tasks``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import ClassVar, TypeVar

import numpy as np

from gpc_sim.errors import ConfigError
from gpc_sim.rollout import StateLayout, diverged

T = TypeVar("T")
SAMPLING_ATTEMPTS = 10_000  # rejection-sampling draws before a sampler gives up


class SamplingError(ConfigError):
    """A rejection sampler found no acceptable draw: the settings make it (nearly) impossible."""


def sample_until(draw: Callable[[], T], reject: Callable[[T], str | None], what: str,
                 attempts: int = SAMPLING_ATTEMPTS) -> T:
    """The first of ``draw()``'s results that ``reject`` accepts (returns None for).

    ``reject`` returns why a draw is refused, in words. A sampler that can never succeed
    (a block too large for the pusher ever to be clear of it) would loop forever: after
    ``attempts`` draws this raises a SamplingError naming what was sampled and the most
    common reasons, so the settings get fixed instead of a run hanging.
    """
    reasons: Counter[str] = Counter()
    for _ in range(attempts):
        candidate = draw()
        why = reject(candidate)
        if why is None:
            return candidate
        reasons[why] += 1
    common = "; ".join(f"{why} ({n} times)" for why, n in reasons.most_common(2))
    raise SamplingError(f"could not sample a valid {what} in {attempts} attempts: {common}")


@dataclass(frozen=True)
class Reflection:
    """A mirror symmetry of a task: a reflection of the world that maps the task onto itself.

    ``observation`` and ``action`` hold one sign per entry (+1 kept, -1 negated) of an
    observation or a control point; ``state`` maps task states (..., n) to their mirror
    images (signs, and for a robot with left and right limbs a permutation too). If the
    task has the symmetry, reflecting a state and a control sequence gives the reflected
    trajectory, at the same cost and with the same success; so a successful episode
    reflected is another successful episode, which doubles a proposal model's training
    data for free (``gpc train --mirror``).
    """

    observation: np.ndarray
    action: np.ndarray
    state: Callable[[np.ndarray], np.ndarray]


@dataclass
class TaskConfig:
    """Settings common to every task; subclasses add cost weights and the like."""

    horizon: float = 3.0  # s, planning horizon
    num_knots: int = 4  # control points per sequence
    interpolation: str = "cubic"  # zero | linear | cubic
    replan_hz: float = 10.0  # closed-loop replanning rate
    max_steps: int = 2500  # episode length limit, in control steps


class Task(ABC):
    """A control problem: dynamics (through rollouts), costs and success."""

    name: str
    config: TaskConfig
    dt: float  # s, one control step
    layout: StateLayout | None = None  # where time, qpos, qvel sit in a state (MuJoCo tasks)
    action_low: np.ndarray  # (m,) lower bound of a control point
    action_high: np.ndarray  # (m,) upper bound of a control point
    # Names of the entries of ``observation``; a proposal model records them so
    # that it is never used with a task whose observation means something else.
    observation_names: tuple[str, ...] = ()
    # Tasks of one family share observation layout and action space, so a model
    # trained on one may serve another (the paper reuses its Push-T model on Push-K).
    family: str = ""
    # Optimizer settings in which this task's measured best differs from a method's
    # defaults (method name -> {setting: value}): planners built for the task start from
    # them, below any explicit setting. The defaults are tuned on the paper's tasks (push,
    # Spot); a world with other scales (nav_dyn's accelerations) needs its own spread.
    method_settings: ClassVar[Mapping[str, Mapping[str, object]]] = {}

    @property
    def action_dim(self) -> int:
        return int(self.action_low.shape[0])

    @abstractmethod
    def rollout(self, state: np.ndarray, controls: np.ndarray) -> np.ndarray:
        """States (N, T, nstate) reached by applying ``controls`` (N, T, m) from ``state``."""

    @abstractmethod
    def running_cost(self, states: np.ndarray, controls: np.ndarray) -> np.ndarray:
        """Cost per step, (N, T), of states (N, T, nstate) under controls (N, T, m)."""

    @abstractmethod
    def terminal_cost(self, final_states: np.ndarray) -> np.ndarray:
        """Cost (N,) of the last state of each rollout, (N, nstate)."""

    def diverged(self, state: np.ndarray, states: np.ndarray) -> np.ndarray:
        """Which rollouts (N,) from ``state`` the physics lost (``gpc_sim.rollout.diverged``).

        Needs ``layout`` (where time sits in the state vector); tasks without one claim none.
        """
        if self.layout is None:
            return np.zeros(len(states), dtype=bool)
        return diverged(self.layout, state, states, self.dt)

    def cost(self, states: np.ndarray, controls: np.ndarray) -> np.ndarray:
        """Total cost (N,) of rollouts: the time integral of running cost plus terminal."""
        running = self.running_cost(states, controls).sum(axis=1) * self.dt
        return running + self.terminal_cost(states[:, -1])

    @abstractmethod
    def success(self, state: np.ndarray) -> bool:
        """Whether ``state`` completes the task."""

    def failed(self, state: np.ndarray) -> bool:
        """Whether ``state`` ends the episode as a failure (a collision, for a task where
        one is fatal); False by default: most tasks fail only by running out of time."""
        return False

    @abstractmethod
    def metrics(self, state: np.ndarray) -> dict[str, float]:
        """Task-specific errors of ``state`` for logs and evaluation records."""

    @abstractmethod
    def sample_initial_state(self, rng: np.random.Generator) -> np.ndarray:
        """A random initial state; the same generator state gives the same state."""

    @abstractmethod
    def make_plant(self, state: np.ndarray) -> Plant:
        """A simulator of the real system, started at ``state``."""

    @abstractmethod
    def nominal_action(self, state: np.ndarray) -> np.ndarray:
        """A control point (m,) that holds the system roughly still at ``state``."""

    def reflection(self) -> Reflection | None:
        """The task's mirror symmetry, or None (the default: none is claimed)."""
        return None

    @abstractmethod
    def object_position(self, state: np.ndarray) -> np.ndarray:
        """Where the pushed object (block, chair) is, x and y (2,): whether an episode is
        still getting anywhere is judged on it (``gpc_planner.early_stop``)."""

    @abstractmethod
    def observation(self, state: np.ndarray) -> np.ndarray:
        """A compact world-frame vector (d,) of ``state``: what a proposal model is conditioned on.

        Angles appear as (sin, cos) so that the vector is continuous; the
        entries are named by ``observation_names``.
        """


class Plant(ABC):
    """The system being controlled in closed loop (here always a simulator)."""

    @abstractmethod
    def state(self) -> np.ndarray:
        """The current full state."""

    @abstractmethod
    def step(self, control: np.ndarray) -> None:
        """Advance one control step with ``control`` (m,)."""


def initial_state_rng(seed: int, trial: int) -> np.random.Generator:
    """The generator for trial ``trial`` of a run seeded ``seed``.

    Initial states depend only on (task, seed, trial), never on the method or
    on how many trials run in which worker, so every method sees the same set.
    """
    return np.random.default_rng(np.random.SeedSequence([int(seed), int(trial), 0x5EED]))
