"""Stop an episode once it is hopeless: data collection keeps only successes, so every
second spent on an episode that will fail is thrown away.

On the chair push a failed episode is almost always the same picture: the chair pushed
into the obstacle's cup or against an arm's end, where CEM keeps pressing it for the rest
of the 50 s. The chair then hardly moves. ``StallRule`` calls an episode hopeless when the
task's object (the chair, the block) has moved less than ``distance`` over the last
``window`` seconds. Distance to the goal would be the wrong measure: getting around the
obstacle first takes the chair sideways, away from the goal.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from gpc_sim.errors import ConfigError


@dataclass(frozen=True)
class StallRule:
    """window: s of episode time looked back over. distance: m the object must move in it."""

    window: float = 10.0
    distance: float = 0.15

    def __post_init__(self) -> None:
        if not (math.isfinite(self.window) and self.window > 0.0):
            raise ConfigError(f"stall window must be a positive number of seconds, got "
                              f"{self.window}")
        if not (math.isfinite(self.distance) and self.distance > 0.0):
            raise ConfigError(f"stall distance must be a positive number of metres, got "
                              f"{self.distance}")


class StallDetector:
    """Feeds on (time, object position) samples; says when the episode has stalled."""

    def __init__(self, rule: StallRule) -> None:
        self.rule = rule
        self._path: deque[tuple[float, np.ndarray]] = deque()

    def update(self, time: float, position: np.ndarray) -> str | None:
        """Take the object's position at ``time`` (s); returns why the episode is hopeless,
        or None while it is not (before a whole window has passed it never is)."""
        position = np.asarray(position, dtype=np.float64)
        self._path.append((time, position))
        while self._path and self._path[0][0] < time - self.rule.window - 1e-9:
            self._path.popleft()
        start, _ = self._path[0]
        if time - start < self.rule.window - 1e-9:
            return None
        moved = max(float(np.linalg.norm(p - position)) for _, p in self._path)
        if moved < self.rule.distance:
            return (f"stalled: the object moved {moved:.2f} m in the last "
                    f"{self.rule.window:g} s (< {self.rule.distance:g} m)")
        return None


def stall_time(times: np.ndarray, positions: np.ndarray, rule: StallRule) -> float | None:
    """When ``rule`` would have stopped an episode recorded as (times, positions), or None:
    how the rule is calibrated on recorded episodes (how many successes it would have
    cut, how much time it saves on failures)."""
    detector = StallDetector(rule)
    for t, p in zip(times, positions, strict=True):
        if detector.update(float(t), p) is not None:
            return float(t)
    return None
