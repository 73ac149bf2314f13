"""Sampling optimizers: the interface (``base``) and its implementations.

Methods are found by name through ``gpc_planner.registry`` (``METHODS``, ``make_optimizer``),
which registers each optimizer class once with its config and what it needs.
"""

from gpc_planner.optimizers.base import ConditionedOptimizer, Optimizer, OptimizerConfig

__all__ = ["ConditionedOptimizer", "Optimizer", "OptimizerConfig"]
