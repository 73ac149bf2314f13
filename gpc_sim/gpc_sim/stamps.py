"""Time stamps checked against the receiver's clock: the one rule every node applies.

A message's stamp says when its content was true (a mocap frame's capture time, the time a
target is for). Receivers compare it with their own clock to decide whether the content is
fresh enough to act on, so a stamp from the future is dangerous: taken at face value it
makes the message look fresh for longer than it is, and with "keep the newest" logic it
makes every later, correctly stamped message look older and be dropped. One frame from a
mocap clock glitch or a skewed host would then switch a watchdog off for good.

The rule, shared by the planner's state estimate, the planner node and the bridge:

* a stamp more than ``future_tolerance`` ahead of the receiver's clock is rejected (the
  message counts as not received), with a reason for a throttled warning;
* an accepted stamp counts as fresh from ``fresh_from(stamp, now)``, never later than the
  moment it arrived, so a stamp within the tolerance cannot extend a timeout either;
* ages are ``age(now, stamp)`` and never negative.

The tolerance absorbs what is normal: the order in which ``/clock`` and a frame reach a
node under sim time (one 0.02 s step), and the offset between two well-synchronised hosts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gpc_sim.errors import ConfigError

DEFAULT_FUTURE_TOLERANCE = 0.1  # s
MAX_FUTURE_TOLERANCE = 5.0  # s: beyond this a "tolerance" would itself defeat timeouts


@dataclass(frozen=True)
class StampCheck:
    """How far ahead of the receiver's clock (s) a stamp may be and still be believed."""

    future_tolerance: float = DEFAULT_FUTURE_TOLERANCE

    def __post_init__(self) -> None:
        value = self.future_tolerance
        if not (math.isfinite(value) and 0.0 <= value <= MAX_FUTURE_TOLERANCE):
            raise ConfigError(f"future_tolerance must be in [0, {MAX_FUTURE_TOLERANCE:g}] s, "
                              f"got {value}")

    def problem(self, stamp: float, now: float, what: str = "message") -> str | None:
        """Why a ``what`` stamped ``stamp`` cannot be believed at ``now`` (None: it can)."""
        if not math.isfinite(stamp):
            return f"{what} with a non-finite stamp ({stamp})"
        ahead = stamp - now
        if ahead > self.future_tolerance:
            return (f"{what} stamped {ahead:.3f} s in the future (clock {now:.3f} s, "
                    f"tolerance {self.future_tolerance:g} s): ignored")
        return None


def fresh_from(stamp: float, now: float) -> float:
    """The time from which a message received at ``now`` counts towards a timeout: its
    stamp, but never later than its arrival (a stamp ahead of the clock earns nothing)."""
    return min(stamp, now)


def age(now: float, stamp: float) -> float:
    """Seconds since ``stamp`` by the clock reading ``now``; never negative (inf: never)."""
    if not math.isfinite(stamp):
        return math.inf
    return max(0.0, now - stamp)
