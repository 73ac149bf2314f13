"""Statistics for honest reporting: the Wilson score interval and summary moments."""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054  # two-sided 95% normal quantile


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (95% by default).

    Unlike the normal approximation it stays inside [0, 1] and is sensible at
    0 or ``trials`` successes, which is where planners often sit.
    """
    if trials <= 0:
        return (0.0, 1.0)
    if not 0 <= successes <= trials:
        raise ValueError("successes must be between 0 and trials")
    p = successes / trials
    denom = 1.0 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    # At 0 or all successes the bound is exactly 0 or 1; rounding must not move it.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == trials else min(1.0, centre + half)
    return (lo, hi)


def mean_std(values: Sequence[float]) -> tuple[float | None, float | None]:
    """Mean and population std, or (None, None) for no values (JSON null, not NaN)."""
    if not values:
        return (None, None)
    m = sum(values) / len(values)
    return (m, math.sqrt(sum((v - m) ** 2 for v in values) / len(values)))
