"""Every planning method, registered once: its optimizer, its config and what it needs.

A method is an ``Optimizer`` class (``sample`` / ``update`` / ``plan``), the config
dataclass it is built from, and what building it takes beyond the task's control
parametrisation: a proposal model (``needs_model``, the GPC methods) and, for a
``ConditionedOptimizer``, the observation and history at every planning step.
Everything that turns a name into something that plans reads this table: the CLI's
choices, ``gpc_planner.methods.build_planner`` (evaluation, collection, the demo, the
planner node), the planner node's "needs a model" and evaluation's model settings.
Adding a method is a class, a config and one line here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace

import numpy as np

from gpc_planner.control import ControlSpline
from gpc_planner.optimizers.base import ConditionedOptimizer, Optimizer, OptimizerConfig
from gpc_planner.optimizers.cem import CEMConfig, CrossEntropyMethod
from gpc_planner.optimizers.dial import DIALMPC, DIALConfig
from gpc_planner.optimizers.flow_mppi import FlowMPPI, FlowMPPIConfig
from gpc_planner.optimizers.gpc import GPCCEM, GPCCEMConfig, GPCShoot, GPCShootConfig
from gpc_planner.optimizers.mppi import MPPI, MPPIConfig
from gpc_planner.optimizers.nfmpc import NFMPC, NFMPCConfig
from gpc_planner.optimizers.predictive_sampling import (
    PredictiveSampling,
    PredictiveSamplingConfig,
)
from gpc_sim.errors import ConfigError


@dataclass(frozen=True)
class MethodSpec:
    """One method: how to build its optimizer and what that takes.

    ``needs_model``: the optimizer is built with ``proposal=`` (a proposal model, sampled
    with the config's ``flow_steps`` and ``flow_noise`` where it has them); such a method
    must be a ``ConditionedOptimizer``, since a proposal is conditioned on the state.
    ``model_kind``: the kind of model file it samples, named by the training that makes
    it (``gpc train --method``; ``proposals.model_files``). ``label``: its name in report
    tables (default: the registry name).
    """

    optimizer: type[Optimizer]
    config: type[OptimizerConfig]
    needs_model: bool = False
    label: str = ""
    model_kind: str = "gpc"

    def __post_init__(self) -> None:
        if not issubclass(self.config, OptimizerConfig):
            raise TypeError(f"{self.config.__name__} is not an OptimizerConfig")
        if self.needs_model and not self.conditioned:
            raise TypeError(f"{self.optimizer.__name__} samples a proposal model, so it must "
                            "be a ConditionedOptimizer (the model is conditioned on the state)")

    @property
    def conditioned(self) -> bool:
        """Whether the optimizer takes the observation and history (``set_context``)."""
        return issubclass(self.optimizer, ConditionedOptimizer)

    @property
    def stats(self) -> tuple[str, ...]:
        """The method-specific figures its plans report (``Optimizer.STATS``)."""
        return self.optimizer.STATS

    def takes(self, setting: str) -> bool:
        """Whether the method's config has ``setting`` (e.g. "flow_steps")."""
        return setting in {f.name for f in fields(self.config)}

    def check_settings(self, settings: dict[str, object]) -> None:
        """ConfigError naming the first of ``settings`` the method's config has not, or
        whose value is not of the default's type (an integer is a number; a bool is
        not): so that a mistyped ``--method-option`` is a line before any work, not a
        TypeError deep in a trial."""
        self._check_known(settings)
        defaults = self.config()
        for key, value in settings.items():
            default = getattr(defaults, key)
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int):
                ok = isinstance(value, int) and not isinstance(value, bool)
            elif isinstance(default, float):
                ok = (isinstance(value, int | float) and not isinstance(value, bool)
                      and math.isfinite(value))
            elif isinstance(default, str):
                ok = isinstance(value, str)
            else:
                ok = True
            if not ok:
                raise ConfigError(f"{self.optimizer.__name__} setting {key} must be like its "
                                  f"default {default!r}, got {value!r}", setting=key)

    def own_settings(self, settings: dict[str, object]) -> dict[str, object]:
        """Those of ``settings`` the method's config has (the flow settings a model file
        recommends, for a method whose flow has no Euler steps)."""
        return {k: v for k, v in settings.items() if self.takes(k)}

    def _check_known(self, settings: dict[str, object]) -> None:
        """ConfigError naming the settings the method's config has not, and those it has."""
        known = {f.name for f in fields(self.config)}
        unknown = sorted(set(settings) - known)
        if unknown:
            raise ConfigError(f"{self.optimizer.__name__} has no setting {', '.join(unknown)} "
                              f"(its settings: {', '.join(sorted(known))})",
                              setting=unknown[0])

    def make_config(self, **overrides: object) -> OptimizerConfig:
        """The default config with ``overrides``; ConfigError naming an unknown setting."""
        self._check_known(overrides)
        return replace(self.config(), **overrides)


# Order: the CLI's choices and every "known:" list show it.
METHODS: dict[str, MethodSpec] = {
    "ps": MethodSpec(PredictiveSampling, PredictiveSamplingConfig, label="PS"),
    "cem": MethodSpec(CrossEntropyMethod, CEMConfig, label="CEM"),
    "mppi": MethodSpec(MPPI, MPPIConfig, label="MPPI"),
    "dial": MethodSpec(DIALMPC, DIALConfig, label="DIAL-MPC"),
    "gpc_shoot": MethodSpec(GPCShoot, GPCShootConfig, needs_model=True, label="GPC-Shoot"),
    "gpc_cem": MethodSpec(GPCCEM, GPCCEMConfig, needs_model=True, label="GPC-CEM"),
    # The second paper (Sacks & Boots): latent-space MPPI in a learnt flow, and its baseline.
    "nfmpc": MethodSpec(NFMPC, NFMPCConfig, needs_model=True, label="NFMPC",
                        model_kind="nfmpc"),
    "flow_mppi": MethodSpec(FlowMPPI, FlowMPPIConfig, needs_model=True, label="FlowMPPI",
                            model_kind="flow_mppi"),
}

# The methods that sample a proposal model (model files recommend settings for these).
MODEL_METHODS = tuple(name for name, spec in METHODS.items() if spec.needs_model)


def method_spec(name: str) -> MethodSpec:
    """The registered method ``name``; ConfigError listing the known ones otherwise."""
    if name not in METHODS:
        raise ConfigError(f"unknown method {name!r}; known: {', '.join(METHODS)}",
                          setting="method")
    return METHODS[name]


def needs_model(name: str) -> bool:
    """Whether method ``name`` samples a proposal model (False for unknown names)."""
    spec = METHODS.get(name)
    return spec is not None and spec.needs_model


def make_optimizer(name: str, spline: ControlSpline, low: np.ndarray, high: np.ndarray,
                   rng: np.random.Generator, proposal: object | None = None,
                   **overrides: object) -> Optimizer:
    """Build method ``name``'s optimizer: its default config updated by ``overrides``,
    with ``proposal`` for a method that needs a model (and only for one)."""
    spec = method_spec(name)
    config = spec.make_config(**overrides)
    if spec.needs_model != (proposal is not None):
        raise ConfigError(f"{name} {'needs' if spec.needs_model else 'takes no'} proposal "
                          "model", setting="model")
    extra = {"proposal": proposal} if spec.needs_model else {}
    return spec.optimizer(config, spline, low, high, rng, **extra)


__all__ = ["METHODS", "MODEL_METHODS", "MethodSpec", "make_optimizer", "method_spec",
           "needs_model"]
