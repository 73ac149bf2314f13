"""Output paths: checked before any work starts, and written by one run at a time.

An evaluation or a collection runs for hours and writes its output as it goes, or
only at the end. An output that cannot be written (a folder under a regular file,
a kernel pseudo-filesystem, a directory where a file is due) must fail before the
first trial, not after the last one; and two runs writing the same output interleave
their journals, so the second run is refused while the first holds the output's lock.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gpc_sim.errors import ConfigError

# Kernel pseudo-filesystems: files there are kernel interfaces, never results.
PSEUDO_FILESYSTEMS = (Path("/proc"), Path("/sys"))


def check_output_file(path: str | Path, what: str) -> Path:
    """``path`` as a file ``what`` (e.g. "evaluation output") can be written to, or a
    ConfigError saying why not. Creates the missing parent folders (the run would)."""
    path = Path(path)
    _refuse_pseudo_filesystem(path, what)
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a directory; give a file name")
    _check_writable_folder(path.parent, path, what)
    return path


def check_output_dir(path: str | Path, what: str) -> Path:
    """``path`` as a folder ``what`` (e.g. "dataset folder") can be written into, or a
    ConfigError saying why not. Creates it (and its parents) when missing."""
    path = Path(path)
    _refuse_pseudo_filesystem(path, what)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{what} {path} exists and is not a directory")
    _check_writable_folder(path, path, what)
    return path


def _refuse_pseudo_filesystem(path: Path, what: str) -> None:
    resolved = path.resolve()
    for root in PSEUDO_FILESYSTEMS:
        if resolved == root or root in resolved.parents:
            raise ConfigError(f"{what} {path} is on {root}, a kernel pseudo-filesystem, not "
                              "a place for results")


def _first_existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _check_writable_folder(folder: Path, path: Path, what: str) -> None:
    """Create ``folder`` and a file in it (removed at once): the only sure test of a write."""
    existing = _first_existing(folder)
    if not existing.is_dir():
        raise ConfigError(f"{what} {path} lies under {existing}, which is a file, not a "
                          "directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".gpc-write-test-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ConfigError(f"cannot write {what} {path}: {err.strerror}") from None


@contextmanager
def exclusive_output(output: str | Path, lock: str | Path) -> Iterator[None]:
    """Hold ``lock`` (a sidecar file of ``output``) for the block, or fail at once.

    ``flock`` is released by the kernel when the process ends however it ends (Ctrl-C,
    kill -9, a crash), so a stale lock never blocks a rerun. The lock file names the
    run that holds it, for the message of the run that is refused.
    """
    lock = Path(lock)
    fd = _acquire(lock, output)
    try:
        yield
    finally:
        lock.unlink(missing_ok=True)  # while still holding it: see _acquire
        os.close(fd)


def _acquire(lock: Path, output: str | Path) -> int:
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 500, 0).decode(errors="replace").strip()
            os.close(fd)
            raise ConfigError(f"{output} is being written by another run "
                              f"({holder + '; ' if holder else ''}lock {lock}); wait for it "
                              "to end or stop it") from None
        # The holder before us removes the file when it is done; if it did so between our
        # open and our flock, we hold a lock on a file nobody else will open: try again.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()}: {_command()}\n".encode(), 0)
    return fd


def _command() -> str:
    """This process's command line, short: what a refused run tells its user."""
    argv = [Path(sys.argv[0]).name, *sys.argv[1:]] if sys.argv and sys.argv[0] else ["python"]
    text = shlex.join(argv)
    return text if len(text) <= 160 else text[:157] + "..."
