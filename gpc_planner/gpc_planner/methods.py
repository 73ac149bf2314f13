"""Methods by name, as the CLI and the planner node know them.

A method is a planner recipe: an optimizer plus the task's control
parametrisation (and, for the GPC methods, a proposal model). This is the one
place that turns a method name into a ``SamplingPlanner``.
"""

from __future__ import annotations

import numpy as np

from gpc_planner.optimizers import OPTIMIZERS
from gpc_planner.planner import SamplingPlanner, make_planner
from gpc_sim.errors import ConfigError
from gpc_sim.task import Task

METHODS = tuple(OPTIMIZERS)


def build_planner(task: Task, method: str, rng: np.random.Generator,
                  horizon: float | None = None, num_rollouts: int | None = None
                  ) -> SamplingPlanner:
    """The planner for ``method`` on ``task`` (paper defaults unless overridden)."""
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if horizon is not None and horizon <= 0:
        raise ConfigError("--horizon must be positive")
    if num_rollouts is not None and num_rollouts < 2:
        raise ConfigError("--rollouts must be at least 2")
    return make_planner(task, method, rng, horizon=horizon, num_rollouts=num_rollouts)
