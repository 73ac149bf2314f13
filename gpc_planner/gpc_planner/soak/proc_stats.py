"""A process's memory and CPU from /proc, sampled by ``gpc soak`` (no psutil needed).

RSS from ``/proc/PID/status`` (``VmRSS``, kB); CPU time from ``/proc/PID/stat`` (user +
system, in clock ticks). CPU% is the CPU time between two samples of the same process over
the wall time between them: 100 % is one core. MB here are MiB (2^20 bytes).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcSample:
    """One reading of a process: RSS (MB), CPU time used so far (s), its state letter."""

    rss_mb: float
    cpu_s: float
    state: str


def parse_status_rss(text: str) -> float:
    """RSS in MB from the text of /proc/PID/status (NaN if it has no VmRSS line: a
    zombie or a kernel thread)."""
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            value, unit = line.split()[1:3]
            return float(value) / 1024.0 if unit == "kB" else math.nan
    return math.nan


def parse_stat(text: str, ticks: int = CLOCK_TICKS) -> tuple[str, float]:
    """(state letter, CPU seconds: utime + stime) from the text of /proc/PID/stat.

    The command name (field 2) is in parentheses and may itself hold spaces and ')', so
    the fields are counted from the last ')'."""
    fields = text.rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return fields[0], (int(fields[11]) + int(fields[12])) / ticks


def read_proc(pid: int, root: Path = Path("/proc")) -> ProcSample | None:
    """The process's sample now (None if it is gone)."""
    try:
        status = (root / str(pid) / "status").read_text()
        stat = (root / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    state, cpu_s = parse_stat(stat)
    return ProcSample(parse_status_rss(status), cpu_s, state)


def cpu_percent(before: tuple[float, float], after: tuple[float, float]) -> float:
    """CPU% between two (wall s, CPU s) readings of one process (NaN if no time passed)."""
    wall = after[0] - before[0]
    if wall <= 0.0:
        return math.nan
    return 100.0 * (after[1] - before[1]) / wall
