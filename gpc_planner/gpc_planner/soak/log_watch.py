"""Signs of a crash in the nodes' logs, read as they grow.

A node that dies of an exception prints a Python traceback; one whose worker thread dies
logs a ``[FATAL]`` line (``gpc_sim.ros.run.stop_node``); the interpreter itself may report
a fatal error (faulthandler) or a segmentation fault; rclpy prints "The following exception
was never retrieved" for a callback that raised inside its executor. A SIGKILL leaves no
line at all: the soak tells those apart by who sent it.
"""

from __future__ import annotations

from pathlib import Path

PATTERNS = ("Traceback (most recent call last)", "[FATAL]", "Fatal Python error",
            "Segmentation fault",
            # rclpy: a callback raised and nobody looked (printed when its task is collected)
            "exception was never retrieved")


class LogWatch:
    """Remembers how far each log was read; ``new_problems`` reads on from there."""

    def __init__(self) -> None:
        self._offsets: dict[Path, int] = {}

    def new_problems(self, logs: dict[str, Path]) -> list[str]:
        """The lines matching ``PATTERNS`` written since the last call, as "node: line"
        (logs by node name; a log that shrank, a new file, is read from its start)."""
        found = []
        for name, path in logs.items():
            try:
                size = path.stat().st_size
            except OSError:
                continue
            offset = self._offsets.get(path, 0)
            if size < offset:
                offset = 0
            with open(path, "rb") as f:
                f.seek(offset)
                data = f.read(size - offset)
            # Only whole lines: a line being written is read next time.
            cut = data.rfind(b"\n") + 1
            self._offsets[path] = offset + cut
            for line in data[:cut].decode(errors="replace").splitlines():
                if any(p in line for p in PATTERNS):
                    found.append(f"{name}: {line.strip()[:300]}")
        return found
