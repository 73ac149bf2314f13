"""Episode-level parallelism shared by evaluation and data collection.

Jobs run inline (one process, rollouts on every core) or in ``workers``
spawned processes (one rollout thread each), each holding a per-process state
(its task, models) built once by ``make_state``. Spawn, not fork: no forked
thread pools or torch state. Workers ignore Ctrl-C, which reaches the whole
process group: the parent alone handles it, keeps what finished and stops the
pool, so the user sees one line instead of a traceback per worker.
"""

from __future__ import annotations

import multiprocessing as mp
import signal
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_state: Any = None


def _init(make_state: Callable[[int | None], Any]) -> None:
    global _state
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _state = make_state(1)


def _call(job_and_item: tuple[Callable[[Any, Any], Any], Any]) -> Any:
    job, item = job_and_item
    return job(_state, item)


def run_jobs(make_state: Callable[[int | None], Any], job: Callable[[Any, Any], Any],
             items: Iterable[Any], workers: int) -> Iterator[Any]:
    """Yield ``job(state, item)`` for every item, in completion order.

    ``make_state(nthread)`` builds the per-process state (``nthread`` None:
    all cores, inline; 1: one per worker). Both callables must be module-level
    functions (picklable) when ``workers > 1``.
    """
    if workers <= 1:
        state = make_state(None)
        for item in items:
            yield job(state, item)
        return
    with mp.get_context("spawn").Pool(workers, initializer=_init, initargs=(make_state,)) as pool:
        yield from pool.imap_unordered(_call, [(job, item) for item in items])
