"""The soak's memory and CPU samples: one CSV row per node per sampling round.

Appended line by line and flushed (fsynced once a round), so a run that dies, however it
dies, leaves every complete round on disk; a torn last line is skipped when reading.
Columns: ``t_s`` (s since the soak started), ``node``, ``pid``, ``start`` (1 for the first
process of that node, 2 after its first restart, ...), ``rss_mb``, ``cpu_percent`` (since
the process's previous sample; empty for its first), ``state`` (/proc's letter: R running,
S sleeping, T stopped ...).
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path

COLUMNS = ("t_s", "node", "pid", "start", "rss_mb", "cpu_percent", "state")


@dataclass(frozen=True)
class Sample:
    """One row."""

    t_s: float
    node: str
    pid: int
    start: int
    rss_mb: float
    cpu_percent: float  # NaN for a process's first sample
    state: str

    def row(self) -> list[str]:
        cpu = "" if math.isnan(self.cpu_percent) else f"{self.cpu_percent:.1f}"
        return [f"{self.t_s:.2f}", self.node, str(self.pid), str(self.start),
                f"{self.rss_mb:.2f}", cpu, self.state]


class SampleLog:
    """The CSV, appended to (a header first when the file is new)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        new = not path.exists() or path.stat().st_size == 0
        self._file = open(path, "a", newline="")  # noqa: SIM115 - open for the run
        self._writer = csv.writer(self._file)
        if new:
            self._writer.writerow(COLUMNS)
            self._file.flush()

    def write(self, samples: list[Sample]) -> None:
        for sample in samples:
            self._writer.writerow(sample.row())
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


def read_samples(path: Path) -> list[Sample]:
    """Every complete row of a samples CSV (a torn or malformed row is skipped)."""
    text = path.read_text()
    text = text[:text.rfind("\n") + 1]  # a last line without its newline was cut short
    out = []
    for row in csv.DictReader(io.StringIO(text, newline="")):
        if None in row.values():
            continue  # fewer fields than columns
        try:
            cpu = row["cpu_percent"]
            out.append(Sample(float(row["t_s"]), row["node"], int(row["pid"]),
                              int(row["start"]), float(row["rss_mb"]),
                              float(cpu) if cpu else math.nan, row["state"] or "?"))
        except (KeyError, TypeError, ValueError):
            continue
    return out
