"""Sizes a run can afford, checked before any work starts.

A setting that cannot fit (a batch larger than the machine's memory, a hundred
thousand worker processes, a seed no generator takes) fails later as a hang, an
out-of-memory kill or a traceback deep inside numpy, torch or MuJoCo, often hours
in. These checks turn it into a one-line ``ConfigError`` that names the setting and
the limit, at the moment the setting is read.
"""

from __future__ import annotations

import os
from pathlib import Path

from gpc_sim.errors import ConfigError

MAX_PARALLEL = 256  # processes or threads, whatever the machine
PARALLEL_PER_CORE = 4
SEED_MAX = 2**32 - 1  # numpy's legacy seeding and torch's generators both take this range
MEMORY_SHARE = 0.5  # a run may plan to use this share of the machine's memory
CGROUP_MEMORY_MAX = Path("/sys/fs/cgroup/memory.max")


def available_cores() -> int:
    """The cores this process may run on (its affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


def max_parallel() -> int:
    """The most worker processes or threads a run may ask for.

    Past a few per core they only compete for the cores, and each one holds its own
    simulator (and, for processes, its own interpreter and models): a typo such as
    ``--workers 100000`` would exhaust the machine's memory and process table.
    """
    return min(MAX_PARALLEL, PARALLEL_PER_CORE * available_cores())


def check_parallel(count: int, setting: str) -> None:
    """ConfigError unless ``count`` processes or threads (``setting``) are in [1, max_parallel]."""
    limit = max_parallel()
    if count < 1:
        raise ConfigError(f"{setting} must be at least 1, got {count}", setting=setting)
    if count > limit:
        raise ConfigError(
            f"{setting} must be at most {limit} ({PARALLEL_PER_CORE} x the "
            f"{available_cores()} cores available, at most {MAX_PARALLEL}: more only compete "
            f"for the cores, each with its own simulator), got {count}", setting=setting)


def check_seed(seed: int, setting: str = "seed") -> None:
    """ConfigError unless ``seed`` is an integer every generator of the project accepts."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= SEED_MAX:
        raise ConfigError(f"{setting} must be an integer in [0, {SEED_MAX}], got {seed!r}",
                          setting=setting)


def check_at_most(value: int, limit: int, setting: str, why: str) -> None:
    """ConfigError naming ``setting`` and ``why`` the limit exists when ``value`` > ``limit``."""
    if value > limit:
        raise ConfigError(f"{setting} must be at most {limit} ({why}), got {value}",
                          setting=setting)


def machine_memory() -> int:
    """Bytes of memory this process can have: the machine's, or its cgroup's limit if lower."""
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    try:
        text = CGROUP_MEMORY_MAX.read_text().strip()
    except OSError:
        return total
    return min(total, int(text)) if text.isdigit() else total


def format_bytes(n: float) -> str:
    """``n`` bytes in words: 1.5 GB, 336 TB."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.3g} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def require_memory(nbytes: float, what: str) -> None:
    """ConfigError when ``what`` (an estimate of ``nbytes``) exceeds the memory a run may use.

    The estimate is made from the sizes before anything is allocated, so a batch that
    cannot fit fails in a line instead of swapping, being killed, or hanging.
    """
    budget = MEMORY_SHARE * machine_memory()
    if nbytes > budget:
        raise ConfigError(f"{what} needs about {format_bytes(nbytes)} of memory, more than "
                          f"half of this machine's ({format_bytes(budget)} of "
                          f"{format_bytes(machine_memory())}); use smaller sizes")
