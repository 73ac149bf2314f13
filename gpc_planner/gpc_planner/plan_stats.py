"""Method-specific figures of plans (``PlanResult.stats``), summarised alike everywhere.

A method declares the figures its plans report (``Optimizer.STATS``, e.g. GPC-CEM's
``cem_sample_ratio``). An episode keeps each figure's mean over its replanning steps
(key: the figure's name); a set of episodes keeps the mean and std of those
(``NAME_mean``, ``NAME_std``). ``CONTRACT_STATS`` are in every evaluation JSON and
dataset whatever the method (None or NaN where it has none): the evaluation JSON that
README.md's "Command line" documents has ``cem_sample_ratio_mean``/``_std`` for every
method, and datasets a ``cem_sample_ratio`` array in every episode.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gpc_planner.registry import METHODS
from gpc_planner.stats import mean_std

CONTRACT_STATS = ("cem_sample_ratio",)


def stat_names(method: str) -> tuple[str, ...]:
    """The figures recorded for ``method``: the contract's, then the method's own."""
    spec = METHODS.get(method)
    return tuple(dict.fromkeys((*CONTRACT_STATS, *(spec.stats if spec else ()))))


def episode_means(stats: dict[str, list[float]], names: Sequence[str]) -> dict[str, float | None]:
    """Each figure's mean over an episode's replanning steps (None when it never had one)."""
    return {name: float(np.mean(stats[name])) if stats.get(name) else None for name in names}


def over_episodes(records: Sequence[dict], names: Sequence[str]) -> dict[str, float | None]:
    """``NAME_mean`` and ``NAME_std`` over the episodes whose record has a value for NAME."""
    out: dict[str, float | None] = {}
    for name in names:
        values = [r[name] for r in records if r.get(name) is not None]
        out[f"{name}_mean"], out[f"{name}_std"] = mean_std(values)
    return out
