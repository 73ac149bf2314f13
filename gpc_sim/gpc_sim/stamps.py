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

A clock that jumps back (a simulation restarted under a running graph starts its
``/clock`` from zero again; a looped bag) defeats the rule the other way round: every new
message is older than the last one kept, so it is dropped as stale news, and the last one
kept looks fresh (ages are never negative) until the new clock has caught up with the old
one (a sim restarted at 32 s of sim time stood for 32 s, refusing the bridge's commands as
from the future). ``ClockWatch`` notices the jump, and the node then forgets everything it
holds on the old clock (tf2's buffer does the same on a jump back).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
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


CLOCK_JUMP_TOLERANCE = 0.05  # s a clock may seem to go back (readers racing) without a reset


class ClockWatch:
    """Notices a clock that goes back by more than ``tolerance`` seconds (module docstring).

    Feed it every reading that a node's time-based state depends on; thread-safe through
    ``check``, which reads the clock under its own lock (two threads reading the same clock
    one after the other can otherwise hand it their readings in the wrong order).
    """

    def __init__(self, tolerance: float = CLOCK_JUMP_TOLERANCE) -> None:
        if not (math.isfinite(tolerance) and tolerance >= 0.0):
            raise ConfigError(f"clock jump tolerance must be >= 0 s, got {tolerance}")
        self.tolerance = tolerance
        self.latest = -math.inf  # the latest reading
        self.jumps = 0  # jumps back seen so far (an epoch: what changed since a plan began)
        self._lock = threading.Lock()

    def went_back(self, now: float) -> float | None:
        """How far (s) the clock went back since the latest reading, if beyond the
        tolerance (None: it did not). ``now`` becomes the latest reading either way."""
        back = self.latest - now
        self.latest = now if math.isfinite(now) else self.latest
        if math.isfinite(back) and back > self.tolerance:
            self.jumps += 1
            return back
        return None

    def check(self, read: Callable[[], float]) -> float | None:
        """``went_back(read())``, the clock read under this watch's lock."""
        with self._lock:
            return self.went_back(read())
