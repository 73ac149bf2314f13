"""Control sequences as K knots interpolated to the simulation rate.

Interpolation is linear in the knot values for all three schemes, so each is a
fixed matrix W (T x K): controls = W @ knots. Precomputing W once per
(horizon, dt) makes interpolating a whole batch one matrix product, and the
warm-start time shift is the same product evaluated at shifted times.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.interpolate import CubicSpline

INTERPOLATIONS = ("zero", "linear", "cubic")


def interpolation_matrix(knot_times: np.ndarray, query_times: np.ndarray, kind: str) -> np.ndarray:
    """Weights W (len(query), K) with value(t) = sum_k W[t, k] * knot[k].

    Queries outside the knot span are clamped to its ends (hold the last value).
    ``zero`` holds each knot until the next (zero-order hold); ``linear``
    joins knots with segments; ``cubic`` is a natural cubic spline through them.
    """
    knot_times = np.asarray(knot_times, dtype=np.float64)
    t = np.clip(np.asarray(query_times, dtype=np.float64), knot_times[0], knot_times[-1])
    k = len(knot_times)
    if kind == "zero":
        idx = np.clip(np.searchsorted(knot_times, t, side="right") - 1, 0, k - 1)
        return np.eye(k)[idx]
    if kind == "linear":
        eye = np.eye(k)
        return np.stack([np.interp(t, knot_times, eye[j]) for j in range(k)], axis=-1)
    if kind == "cubic":
        if k < 3:
            return interpolation_matrix(knot_times, t, "linear")
        return CubicSpline(knot_times, np.eye(k), bc_type="natural")(t)
    raise ValueError(f"unknown interpolation {kind!r}; choose from {', '.join(INTERPOLATIONS)}")


SHIFT_TAILS = ("zero", "hold")


def time_shift_matrix(knot_times: np.ndarray, period: float, kind: str,
                      channels: int, tail: str = "hold") -> np.ndarray:
    """The (K m, K m) matrix of ``ControlSpline.shift`` by ``period`` on flattened knots
    (K, m) (row-major): kron(W, I_m).

    ``tail``: what the knots shifted in past the last one get. "hold": the last knot's
    value (``ControlSpline.shift``); "zero": 0, the paper's normal shift ("shifts the
    control sequence forward one time step and appends a zero", Sec. 3.2). In NFMPC's
    latent space 0 is the centre of the latent Gaussian, the middle of the control range
    under the sigmoid map; held instead, the latent mean's tail keeps every update's step
    and drifts to the bound, where the sigmoid's flat ends leave little spread.
    """
    if tail not in SHIFT_TAILS:
        raise ValueError(f"unknown shift tail {tail!r}; choose from {', '.join(SHIFT_TAILS)}")
    times = np.asarray(knot_times, dtype=np.float64)
    w = interpolation_matrix(times, times + period, kind)
    if tail == "zero":
        w[times + period > times[-1] + 1e-9] = 0.0
    return np.kron(w, np.eye(channels))


@dataclass(frozen=True)
class ControlSpline:
    """K knots evenly spread over a horizon, interpolated at step ``dt``."""

    horizon: float
    num_knots: int
    dt: float
    kind: str = "cubic"

    def __post_init__(self) -> None:
        if self.kind not in INTERPOLATIONS:
            raise ValueError(f"unknown interpolation {self.kind!r}")
        if self.num_knots < 1 or self.horizon <= 0 or self.dt <= 0:
            raise ValueError("need num_knots >= 1, horizon > 0 and dt > 0")

    @property
    def knot_times(self) -> np.ndarray:
        if self.num_knots == 1:
            return np.zeros(1)
        return np.linspace(0.0, self.horizon, self.num_knots)

    @property
    def num_steps(self) -> int:
        """Control steps covered by the horizon."""
        return int(round(self.horizon / self.dt))

    def matrix(self, offset: float = 0.0, num_steps: int | None = None) -> np.ndarray:
        """W for the steps t = offset + i * dt, i < num_steps (default: the horizon)."""
        n = self.num_steps if num_steps is None else num_steps
        return _cached_matrix(self, round(offset, 9), n)

    def interpolate(self, knots: np.ndarray, offset: float = 0.0,
                    num_steps: int | None = None) -> np.ndarray:
        """Controls (..., T, m) from knots (..., K, m)."""
        return self.matrix(offset, num_steps) @ knots  # matmul broadcasts; einsum is 30x slower

    def value_at(self, knots: np.ndarray, t: float) -> np.ndarray:
        """The control (..., m) at time ``t`` after the knots' start."""
        w = interpolation_matrix(self.knot_times, np.array([t]), self.kind)
        return (w @ knots)[..., 0, :]

    def shift(self, knots: np.ndarray, elapsed: float) -> np.ndarray:
        """Knots of the same curve re-anchored ``elapsed`` seconds later (warm start).

        The new knot k takes the old curve's value at knot_times[k] + elapsed;
        past the horizon the last value is held.
        """
        w = interpolation_matrix(self.knot_times, self.knot_times + elapsed, self.kind)
        return w @ knots


@lru_cache(maxsize=64)
def _cached_matrix(spline: ControlSpline, offset: float, num_steps: int) -> np.ndarray:
    times = offset + spline.dt * np.arange(num_steps)
    w = interpolation_matrix(spline.knot_times, times, spline.kind)
    w.setflags(write=False)
    return w
