"""Stop at the goal: hold once the task is done, plan again only when the object has been
off the goal for a while.

Why: a sampling planner has no notion of "done". At the goal it goes on optimising a cost
already near its floor, and its pushes can carry the object out again: the main job's seed
4 (GPC-CEM, 2026-12-07) reached the goal at 9.0 s and had left it by the end of its 60 s.
A robot that has finished should stand. The dwell keeps an object settling on the edge of
the tolerance from flipping the robot between pushing and standing at every replanning
step; someone moving the chair away (or a new goal) wakes the planner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gpc_sim.errors import ConfigError


@dataclass
class GoalHold:
    """Whether to hold at the goal, decided from one success test per planning step."""

    dwell: float = 1.0  # s the object must be off the goal before planning resumes
    holding: bool = field(default=False, init=False)
    _left_at: float | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        check_dwell(self.dwell)

    def update(self, at_goal: bool, stamp: float) -> bool:
        """The decision for a state stamped ``stamp`` (s) that is (``at_goal``) or is not
        at the goal: True to hold. Holding starts at the first state at the goal and ends
        once the states have been off it for ``dwell`` seconds in a row."""
        if at_goal:
            self.holding, self._left_at = True, None
        elif self.holding:
            if self._left_at is None or stamp < self._left_at:  # a clock that went back
                self._left_at = stamp
            if stamp - self._left_at >= self.dwell:
                self.holding, self._left_at = False, None
        return self.holding

    def reset(self) -> None:
        """Forget the goal reached (a new goal, a reset, a new episode): plan at once."""
        self.holding, self._left_at = False, None


def check_dwell(dwell: float) -> float:
    """``dwell`` if it is a finite number of seconds >= 0, else a ConfigError."""
    if isinstance(dwell, bool) or not isinstance(dwell, int | float) or not (
            math.isfinite(dwell) and dwell >= 0.0):
        raise ConfigError(f"goal hold dwell must be a finite number of seconds >= 0, got "
                          f"{dwell!r}", setting="goal_hold_dwell")
    return float(dwell)
