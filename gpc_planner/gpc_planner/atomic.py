"""Crash-safe file writes: long jobs never leave a half-written result behind."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path


def _umask() -> int:
    """The process umask (read by setting it, so set it straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp makes the file private (0600); give it the mode open() would have.
        os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json_atomic(path: str | Path, obj: object) -> None:
    write_atomic(path, (json.dumps(obj, indent=2) + "\n").encode())


EVAL_JOURNAL_SUFFIX = ".partial.jsonl"  # gpc eval journals OUT.json to OUT.json + this


class JsonlLog:
    """An append-only journal of JSON records, one per line, fsynced per record.

    A line cut short by a crash is ignored when reading, so every record that
    was fully written survives and none is duplicated on resume.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def read_numbered(self) -> tuple[list[tuple[int, object]], list[int]]:
        """((line number, value) of every JSON line, numbers of the lines that are not JSON).

        Line numbers start at 1 and blank lines are skipped, so a reader can say which
        lines it could not use. A torn last line from an interrupted write is one of
        the non-JSON lines.
        """
        if not self.path.exists():
            return [], []
        values: list[tuple[int, object]] = []
        bad: list[int] = []
        with open(self.path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    values.append((number, json.loads(line)))
                except json.JSONDecodeError:
                    bad.append(number)
        return values, bad

    def read(self) -> list:
        """The values of the lines that are JSON (a torn last line is skipped)."""
        return [value for _, value in self.read_numbered()[0]]

    def append(self, record: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            # A line torn by a crash has no newline: end it first, or this record would
            # be glued to it and lost with it at the next read.
            torn = f.tell() > 0 and not _ends_with_newline(f)
            f.write((("\n" if torn else "") + json.dumps(record) + "\n").encode())
            f.flush()
            os.fsync(f.fileno())


def warn(message: str) -> None:
    """A warning on stderr (stdout may carry a table or JSON): what a journal's reader says
    about the lines it skipped."""
    print(f"warning: {message}", file=sys.stderr, flush=True)


def _ends_with_newline(f) -> bool:
    """Whether the file open in ``f`` (binary, at its end) ends with a newline."""
    f.seek(-1, os.SEEK_END)
    return f.read(1) == b"\n"
