"""A motion-capture system's imperfections, for the sim node's ``rigid_bodies``.

The paper's robot localises the torso and the chair with motion capture. A real system
samples at its own rate, adds noise, delivers each frame some latency after it was taken,
and now and then loses one. ``MocapChannel`` reproduces those four effects on top of the
simulation's true poses, seeded, so a test or an evaluation can ask how the planner copes.
Each frame carries its capture time: the planner's state estimate (and its staleness
check) uses that stamp, as with a real system whose frames are stamped at exposure.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np

from gpc_sim.errors import ConfigError

Pose = tuple[np.ndarray, np.ndarray]  # position (3,), orientation (w, x, y, z)


@dataclass(frozen=True)
class MocapConfig:
    """rate: frames per second. position_noise: m, std per axis. yaw_noise: rad, std of a
    rotation about the vertical. latency: s from capture to delivery. dropout: probability
    that a frame is lost."""

    rate: float = 50.0
    position_noise: float = 0.0
    yaw_noise: float = 0.0
    latency: float = 0.0
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate) and self.rate > 0.0):
            raise ConfigError(f"mocap rate must be > 0 Hz, got {self.rate}")
        for name in ("position_noise", "yaw_noise", "latency"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ConfigError(f"mocap {name} must be >= 0, got {value}")
        if not 0.0 <= self.dropout < 1.0:
            raise ConfigError(f"mocap dropout must be in [0, 1), got {self.dropout}")


@dataclass(frozen=True)
class MocapFrame:
    """One delivered frame: capture time (s), its number, and the bodies' poses."""

    stamp: float
    number: int
    bodies: dict[str, Pose]


def rotate_yaw(quat: np.ndarray, angle: float) -> np.ndarray:
    """(w, x, y, z) ``quat`` turned by ``angle`` (rad) about the world's vertical."""
    c, s = math.cos(angle / 2.0), math.sin(angle / 2.0)
    w, x, y, z = quat
    return np.array([c * w - s * z, c * x - s * y, c * y + s * x, c * z + s * w])


class MocapChannel:
    """Captures true poses at ``rate``, degrades them, and delivers them after ``latency``."""

    def __init__(self, config: MocapConfig, seed: int = 0) -> None:
        self.config = config
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self) -> None:
        """Forget frames in flight and restart the capture clock (a new episode)."""
        self._queue: deque[MocapFrame] = deque()
        self._next_capture: float | None = None
        self.captured = 0
        self.dropped = 0

    def capture(self, time: float, bodies: dict[str, Pose]) -> bool:
        """Offer the true poses at ``time``; returns whether a frame was taken.

        Frames are taken every 1/rate s (the first at the first offer); a lost frame is
        decided here, so a delivered frame's number shows the gaps.
        """
        if self._next_capture is None:
            self._next_capture = time
        if time < self._next_capture - 1e-9:
            return False
        period = 1.0 / self.config.rate
        while self._next_capture <= time + 1e-9:  # the first capture instant after this one
            self._next_capture += period
        self.captured += 1
        if self.config.dropout and self.rng.random() < self.config.dropout:
            self.dropped += 1
            return True
        noisy = {}
        for name, (pos, quat) in bodies.items():
            pos = np.array(pos, dtype=np.float64)
            quat = np.array(quat, dtype=np.float64)
            if self.config.position_noise:
                pos = pos + self.rng.normal(0.0, self.config.position_noise, 3)
            if self.config.yaw_noise:
                quat = rotate_yaw(quat, float(self.rng.normal(0.0, self.config.yaw_noise)))
            noisy[name] = (pos, quat)
        self._queue.append(MocapFrame(stamp=time, number=self.captured, bodies=noisy))
        return True

    def deliver(self, time: float) -> list[MocapFrame]:
        """The frames due by ``time`` (capture time + latency), oldest first."""
        out = []
        while self._queue and self._queue[0].stamp + self.config.latency <= time + 1e-9:
            out.append(self._queue.popleft())
        return out
