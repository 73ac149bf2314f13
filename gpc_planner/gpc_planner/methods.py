"""From a method's name to a planner: the one way in, for every method.

A method (``gpc_planner.registry.METHODS``) is an optimizer plus the task's control
parametrisation and, for a method that needs one, a proposal model sampled with the
model's recommended settings (``gpc_planner.sampling``) unless told otherwise.
``build_planner`` is the one place that turns a method name into a ``SamplingPlanner``:
the CLI, evaluation, data collection, the benchmarks and the planner node all call it.
"""

from __future__ import annotations

import math
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

from gpc_planner.control import ControlSpline
from gpc_planner.planner import SamplingPlanner, check_planning_sizes, task_spline
from gpc_planner.registry import METHODS, MethodSpec, make_optimizer, method_spec
from gpc_planner.sampling import (
    SamplingSettings,
    agreed_sampling,
    check_flow_noise,
    check_flow_steps,
    recommended_sampling,
)
from gpc_sim.errors import ConfigError
from gpc_sim.task import Task

__all__ = ["METHODS", "build_planner", "load_model_for", "model_sampling", "model_variant",
           "resolve_model_path", "sampling_for"]


def resolve_model_path(task_name: str, method: str, model: str | None) -> str:
    """The model file a method that needs one uses: ``model``, else the task's shipped one."""
    if model is not None:
        return str(model)
    from gpc_planner.proposals.shipped import MODELS_DIR, default_model_path

    path = default_model_path(task_name)
    if path is None:
        raise ConfigError(f"{method} needs a proposal model: set model to a model file (no "
                          f"shipped model for {task_name} in {MODELS_DIR})", setting="model")
    return str(path)


@lru_cache(maxsize=8)
def _cached_model(path: str, mtime_ns: int, size: int):
    import torch

    from gpc_planner.proposals.model_files import load_model_file

    # Sampling runs the network in numpy; torch only draws the initial noise (tens of
    # numbers), for which an intra-op thread pool gains nothing and competes with the
    # rollout threads.
    torch.set_num_threads(1)
    return load_model_file(path)


def _load(path: str):
    """The model at ``path``, cached per file version: evaluation builds a planner per
    trial, and loading is the slow part."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"proposal model {path} not found", setting="model")
    st = os.stat(p)
    model = _cached_model(str(p.resolve()), st.st_mtime_ns, st.st_size)
    model.source = str(path)
    return model


def model_variant(path: str) -> str | None:
    """What sets the model file at ``path`` apart from its method's plain model ("fixed
    shift": NFMPC's ablation), or None: results carry it so that reports tell them apart."""
    return getattr(_load(path), "variant", None)


def load_model_for(task: Task, path: str, spline: ControlSpline, kind: str = "gpc"):
    """The proposal model at ``path``, checked against ``task``, for ``spline``'s knots.

    ``kind``: the kind of model the method samples (``MethodSpec.model_kind``); a file
    of another kind is a ConfigError. A GPC model trained for a longer horizon serves a
    shorter one through ``ProposalModel.window``.
    """
    model = _load(path)
    if model.kind != kind:
        raise ConfigError(f"proposal model {path} comes from training method {model.kind}; "
                          f"this method samples models of training method {kind}",
                          setting="model")
    model.check_compatible(task, spline.horizon)
    return model.window(spline.knot_times)


def model_sampling(path: str, method: str, task: str | None = None) -> SamplingSettings:
    """What the model file at ``path`` recommends for sampling it with ``method`` on
    ``task`` (its ``sampling`` entry: the task's own recommendation, else the method's;
    the paper's settings when it has neither)."""
    return recommended_sampling(_load(path).sampling, method, task)


def sampling_for(method: str, paths: list[str], flow_noise: float | None = None,
                 flow_steps: int | None = None, task: str | None = None) -> SamplingSettings:
    """The settings ``method`` samples the models at ``paths`` with on ``task``: those
    given, else the models' recommendation (they must agree: ``sampling.agreed_sampling``)."""
    if flow_noise is not None:
        check_flow_noise(flow_noise)
    if flow_steps is not None:
        check_flow_steps(flow_steps)
    return agreed_sampling(method, [(p, model_sampling(p, method, task)) for p in paths],
                           flow_noise=flow_noise, flow_steps=flow_steps)


def _rollouts_of(spec: MethodSpec, num_rollouts: int | None, overrides: dict) -> int:
    """The batch size the method will plan with: the argument, an override, or its default."""
    if num_rollouts is not None:
        return num_rollouts
    if "num_rollouts" in overrides:
        return int(overrides["num_rollouts"])  # type: ignore[call-overload]
    return spec.config().num_rollouts


def build_planner(task: Task, method: str, rng: np.random.Generator,
                  horizon: float | None = None, num_rollouts: int | None = None,
                  model: str | None = None, flow_steps: int | None = None,
                  flow_noise: float | None = None, **overrides: object) -> SamplingPlanner:
    """The planner for ``method`` on ``task`` (paper defaults unless overridden).

    A method that needs a proposal model loads ``model`` (default: the task's shipped
    model) and samples it with ``flow_steps`` Euler steps from initial noise of std
    ``flow_noise``; either left None comes from the model file's recommendation for the
    method on the task (``model_sampling``), else the paper's (10 steps, noise 1). Methods without a
    model ignore the three, and a method whose config lacks one of the two flow settings
    (NFMPC's and FlowMPPI's coupling flows have no Euler steps) ignores that one.
    ``overrides`` replace optimizer settings; where none is given, the task's own
    (``Task.method_settings``) replace the method's defaults.
    """
    spec = method_spec(method)
    if horizon is not None and not (math.isfinite(horizon) and horizon > 0):
        raise ConfigError(f"horizon must be a positive number of seconds, got {horizon}",
                          setting="horizon")
    if num_rollouts is not None and num_rollouts < 2:
        raise ConfigError(f"rollouts must be at least 2, got {num_rollouts}",
                          setting="rollouts")
    check_planning_sizes(task, _rollouts_of(spec, num_rollouts, overrides), horizon)
    spline = task_spline(task, horizon)
    # The task's tuned settings for the method, under every explicit one.
    overrides = {**task.method_settings.get(method, {}), **overrides}
    if num_rollouts is not None:
        overrides["num_rollouts"] = num_rollouts
    proposal = None
    if spec.needs_model:  # what the method needs, as its registry entry says
        path = resolve_model_path(task.name, method, model)
        proposal = load_model_for(task, path, spline, spec.model_kind)
        sampling = sampling_for(method, [path], flow_noise=flow_noise, flow_steps=flow_steps,
                                task=task.name)
        overrides = {**spec.own_settings(sampling.as_dict()), **overrides}
    optimizer = make_optimizer(method, spline, task.action_low, task.action_high, rng,
                               proposal=proposal, **overrides)
    return SamplingPlanner(task, optimizer)
