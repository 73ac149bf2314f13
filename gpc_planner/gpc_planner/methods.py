"""Methods by name, as the CLI and the planner node know them.

A method is a planner recipe: an optimizer plus the task's control
parametrisation (and, for the GPC methods, a proposal model). This is the one
place that turns a method name into a ``SamplingPlanner``.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from gpc_planner.control import ControlSpline
from gpc_planner.optimizers import OPTIMIZERS
from gpc_planner.planner import (
    SamplingPlanner,
    check_planning_sizes,
    make_planner,
    task_spline,
)
from gpc_sim.errors import ConfigError
from gpc_sim.task import Task

GPC_METHODS = ("gpc_shoot", "gpc_cem")
METHODS = (*OPTIMIZERS, *GPC_METHODS)


def resolve_model_path(task_name: str, method: str, model: str | None) -> str:
    """The model file a GPC method uses: ``model``, else the task's shipped model."""
    if model is not None:
        return str(model)
    from gpc_planner.proposals.shipped import MODELS_DIR, default_model_path

    path = default_model_path(task_name)
    if path is None:
        raise ConfigError(f"{method} needs a proposal model: pass --model PATH (no shipped "
                          f"model for {task_name} in {MODELS_DIR})")
    return str(path)


@lru_cache(maxsize=8)
def _cached_model(path: str, mtime_ns: int, size: int):
    import torch

    from gpc_planner.proposals import load_proposal_model

    # Sampling runs the network in numpy; torch only draws the initial noise (tens of
    # numbers), for which an intra-op thread pool gains nothing and competes with the
    # rollout threads.
    torch.set_num_threads(1)
    return load_proposal_model(path)


def load_model_for(task: Task, path: str, spline: ControlSpline):
    """The proposal model at ``path``, checked against ``task``, for ``spline``'s knots.

    A model trained for a longer horizon serves a shorter one through
    ``ProposalModel.window``. Cached per file version: evaluation builds a
    planner per trial, and loading is the slow part.
    """
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"proposal model {path} not found")
    st = os.stat(p)
    model = _cached_model(str(p.resolve()), st.st_mtime_ns, st.st_size)
    model.source = str(path)
    model.check_compatible(task, spline.horizon)
    return model.window(spline.knot_times)


def _rollouts_of(method: str, num_rollouts: int | None, overrides: dict) -> int:
    """The batch size ``method`` will plan with: the argument, an override, or its default."""
    if num_rollouts is not None:
        return num_rollouts
    if "num_rollouts" in overrides:
        return int(overrides["num_rollouts"])  # type: ignore[call-overload]
    if method in OPTIMIZERS:
        return OPTIMIZERS[method][1]().num_rollouts
    from gpc_planner.optimizers.gpc import GPC_OPTIMIZERS

    return GPC_OPTIMIZERS[method][1]().num_rollouts


def build_planner(task: Task, method: str, rng: np.random.Generator,
                  horizon: float | None = None, num_rollouts: int | None = None,
                  model: str | None = None, flow_steps: int = 10, flow_noise: float = 1.0,
                  **overrides: object) -> SamplingPlanner:
    """The planner for ``method`` on ``task`` (paper defaults unless overridden).

    GPC methods load ``model`` (default: the task's shipped model) and sample
    it with ``flow_steps`` Euler steps from initial noise of std ``flow_noise``;
    ``overrides`` replace optimizer settings.
    """
    if method not in METHODS:
        raise ConfigError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    if horizon is not None and not (math.isfinite(horizon) and horizon > 0):
        raise ConfigError(f"horizon must be a positive number of seconds, got {horizon}")
    if num_rollouts is not None and num_rollouts < 2:
        raise ConfigError(f"rollouts must be at least 2, got {num_rollouts}")
    check_planning_sizes(task, _rollouts_of(method, num_rollouts, overrides), horizon)
    if method not in GPC_METHODS:
        return make_planner(task, method, rng, horizon=horizon, num_rollouts=num_rollouts,
                            **overrides)
    if flow_steps < 1:
        raise ConfigError(f"flow_steps must be at least 1, got {flow_steps}")
    if not (math.isfinite(flow_noise) and flow_noise > 0.0):
        raise ConfigError(f"flow_noise must be a positive number, got {flow_noise}")
    from gpc_planner.optimizers.gpc import make_gpc_optimizer

    spline = task_spline(task, horizon)
    proposal = load_model_for(task, resolve_model_path(task.name, method, model), spline)
    if num_rollouts is not None:
        overrides["num_rollouts"] = num_rollouts
    optimizer = make_gpc_optimizer(method, spline, task.action_low, task.action_high, rng,
                                   proposal, flow_steps=flow_steps, flow_noise=flow_noise,
                                   **overrides)
    return SamplingPlanner(task, optimizer)
