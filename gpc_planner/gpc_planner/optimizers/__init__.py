"""Registry of sampling optimizers: name -> (class, config class)."""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from gpc_planner.control import ControlSpline
from gpc_planner.optimizers.base import Optimizer, OptimizerConfig
from gpc_planner.optimizers.cem import CEMConfig, CrossEntropyMethod
from gpc_planner.optimizers.dial import DIALMPC, DIALConfig
from gpc_planner.optimizers.mppi import MPPI, MPPIConfig
from gpc_planner.optimizers.predictive_sampling import (
    PredictiveSampling,
    PredictiveSamplingConfig,
)

OPTIMIZERS: dict[str, tuple[type[Optimizer], type[OptimizerConfig]]] = {
    "ps": (PredictiveSampling, PredictiveSamplingConfig),
    "cem": (CrossEntropyMethod, CEMConfig),
    "mppi": (MPPI, MPPIConfig),
    "dial": (DIALMPC, DIALConfig),
}


def make_optimizer(name: str, spline: ControlSpline, low: np.ndarray, high: np.ndarray,
                   rng: np.random.Generator, **overrides: object) -> Optimizer:
    """Build optimizer ``name`` with its default config updated by ``overrides``."""
    if name not in OPTIMIZERS:
        raise KeyError(f"unknown optimizer {name!r}; known: {', '.join(OPTIMIZERS)}")
    cls, config_cls = OPTIMIZERS[name]
    known = {f.name for f in fields(config_cls)}
    unknown = set(overrides) - known
    if unknown:
        raise KeyError(f"{name} has no setting {', '.join(sorted(unknown))}")
    config = replace(config_cls(), **overrides)
    return cls(config, spline, low, high, rng)


__all__ = ["OPTIMIZERS", "Optimizer", "OptimizerConfig", "make_optimizer"]
