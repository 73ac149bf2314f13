"""Episode-level parallelism shared by evaluation and data collection.

Jobs run inline (one process, rollouts on every core) or in ``workers``
spawned processes (one rollout thread each), each holding a per-process state
(its task, models) built once by ``make_state``. Spawn, not fork: no forked
thread pools or torch state. Workers ignore Ctrl-C, which reaches the whole
process group: the parent alone handles it, keeps what finished and stops the
pool, so the user sees one line instead of a traceback per worker. With a
``RayBackend`` the same jobs run as tasks of a Ray cluster instead
(``gpc_planner.ray_backend``; Ray is imported only then).
"""

from __future__ import annotations

import multiprocessing as mp
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gpc_sim.task import Task
from gpc_sim.tasks import make_task

if TYPE_CHECKING:
    from gpc_planner.ray_backend import RayBackend

_state: Any = None


def _init(make_state: Callable[[int | None], Any]) -> None:
    global _state
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _state = make_state(1)


@contextmanager
def _sigint_ignored_in_children():
    """Start processes with SIGINT ignored from their first instruction.

    An ignored signal stays ignored across exec, and Python keeps it so at
    start-up: a worker still importing when Ctrl-C comes does not die with a
    traceback either. The parent's own handler is back as soon as they run.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _call(job_and_item: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    job, item = job_and_item
    return job(_state, item)


def run_jobs(make_state: Callable[[int | None], Any], job: Callable[[Any, Any], Any],
             items: Iterable[Any], workers: int,
             backend: RayBackend | None = None) -> Iterator[Any]:
    """Yield ``job(state, item)`` for every item, in completion order.

    ``make_state(nthread)`` builds the per-process state (``nthread`` None:
    all cores, inline; 1: one per worker; on Ray: the backend's ``task_cpus``).
    Both callables must be module-level functions (picklable) when ``workers > 1``
    or on Ray, where ``workers`` is not used (the backend says how many run).
    """
    if backend is not None:
        from gpc_planner.ray_backend import run_jobs_ray

        yield from run_jobs_ray(make_state, job, items, backend)
        return
    if workers <= 1:
        state = make_state(None)
        for item in items:
            yield job(state, item)
        return
    with _sigint_ignored_in_children():
        pool = mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(make_state,))
    with pool:
        yield from pool.imap_unordered(_call, [(job, item) for item in items])


@dataclass(frozen=True)
class TaskJob:
    """A worker's state for episode jobs: the task to run on and the spec to follow."""

    task: Task
    spec: Any


@dataclass(frozen=True)
class TaskJobSetup:
    """Picklable ``make_state`` for ``run_jobs``: builds a ``TaskJob`` once per process.

    (Torch threads need no setting here: loading a proposal model sets one,
    ``gpc_planner.methods``.)
    """

    spec: Any
    task_name: str
    task_overrides: tuple[tuple[str, Any], ...] = ()

    def __call__(self, nthread: int | None) -> TaskJob:
        task = make_task(self.task_name, nthread=nthread, **dict(self.task_overrides))
        return TaskJob(task, self.spec)
