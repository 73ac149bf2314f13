"""Episodes as tasks of a Ray cluster: ``--backend ray`` of gpc eval, collect and iterate.

Why it is only another way to run ``workers.run_jobs``: evaluation and collection journal
each result as the iterator yields it, so the Ray backend inherits their resumption. The
driver submits one task per episode (trial), each reserving ``task_cpus`` CPUs of a node and
planning with as many rollout threads, and yields results in completion order
(``ray.wait``): a killed driver loses no finished episode and the same command resumes
(under either backend: the backend is not a setting of the results); a task whose worker
process or node dies is run again (``TASK_RETRIES``). Each Ray worker process builds the
per-process state (task, models) once and keeps it for the run's next tasks, as a local
worker does (``workers._init``).

What the workers need (docs/SCALING.md): this checkout and its venv at the same path on
every node (one shared file system, or ``scripts/setup.sh --ray`` on each), since the
source tree reaches them through ``PYTHONPATH`` (the runtime environment's ``env_vars``),
model files and relative paths are read there (a task works in the driver's working
directory where the node has it), and the Spot engine's C lane loop is compiled per node
(``gpc_sim.spot.native_build``, keyed on the node's CPU).

Ray is an optional extra (``bash scripts/setup.sh --ray``, pinned in
``requirements-ray.lock``), imported here only, and only when the backend is chosen.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpc_planner.atomic import warn
from gpc_sim.errors import ConfigError
from gpc_sim.rollout import default_threads

RAY_EXTRA = "bash scripts/setup.sh --ray (the pinned requirements-ray.lock)"
TASK_RETRIES = 3  # runs of a task after its worker process or node died (Ray's max_retries)
WAIT_S = 1.0  # ray.wait in slices, so Ctrl-C and SIGTERM reach the driver promptly
PROBE_S = 5.0  # a HOST:PORT that does not answer in this time is an error, not a long retry
# Environment the workers get from the driver (beyond PYTHONPATH): the Spot engine's choice
# of lane loop and its cache folder.
FORWARDED_ENV = ("GPC_SPOT_NATIVE", "GPC_SIM_CACHE_DIR")

_state: tuple[Any, Any] | None = None  # (make_state, its state) of this worker process
_connected: str | None = None  # the address this driver connected with


class RayBackendError(ConfigError):
    """The Ray backend cannot go on (no Ray, no cluster, a task lost for good): one line."""


@dataclass(frozen=True)
class RayBackend:
    """Where and how episode tasks run on Ray (none of it determines results).

    ``address``: ``HOST:PORT`` of a running cluster's head node, or ``auto`` (the cluster
    ``ray start`` runs on this machine); None: ``$RAY_ADDRESS`` if set, else a private Ray
    instance on this machine (loopback only, no dashboard) that ends with the command.
    ``task_cpus``: CPUs each episode task reserves, and its rollout threads.
    ``max_tasks``: the most tasks submitted at once (None: all; the cluster runs as many
    as its CPUs allow, and takes the rest as they free up).
    """

    address: str | None = None
    task_cpus: int = 1
    max_tasks: int | None = None

    def resolved_address(self) -> str:
        return self.address or os.environ.get("RAY_ADDRESS") or "local"


def import_ray():
    """The ray module, or a one-line error naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise RayBackendError(
            f"backend ray needs Ray, which is not installed: install the Ray extra with "
            f"{RAY_EXTRA}", setting="backend") from None
    return ray


def check_backend(backend: RayBackend) -> None:
    """Before any work: the settings, that Ray imports and that the cluster answers."""
    if isinstance(backend.task_cpus, bool) or not isinstance(backend.task_cpus, int) \
            or backend.task_cpus < 1:
        raise RayBackendError(f"ray_task_cpus must be a positive integer, got "
                              f"{backend.task_cpus!r}", setting="ray_task_cpus")
    if backend.max_tasks is not None and (isinstance(backend.max_tasks, bool)
                                          or not isinstance(backend.max_tasks, int)
                                          or backend.max_tasks < 1):
        raise RayBackendError(f"workers must be a positive integer, got {backend.max_tasks!r}",
                              setting="workers")
    ray = connect(backend)
    sizes = [node.get("Resources", {}).get("CPU", 0) for node in ray.nodes() if node.get("Alive")]
    if not sizes or max(sizes) < backend.task_cpus:
        message = (f"no node of the Ray cluster has {backend.task_cpus} CPUs (largest: "
                   f"{max(sizes, default=0):g})")
        if backend.resolved_address() == "local":  # no node will ever join a private one
            raise RayBackendError(message, setting="ray_task_cpus")
        warn(f"{message} now: episode tasks wait until such a node joins")


def connect(backend: RayBackend):
    """Connect this driver to the backend's cluster (once per address); returns ray."""
    global _connected
    address = backend.resolved_address()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address == "local" and "ray" not in sys.modules:
        # A private instance serves this machine only: its node address, and so every
        # server it starts, is then the loopback one (Ray's setting for single-machine
        # platforms; read when ray is imported).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    if address != "local" and "RAY_AUTH_MODE" not in os.environ and _token_available():
        # Ray sends its token to a cluster it finds itself (auto) but not to one named; with
        # a token here, send it to any (a cluster without authentication accepts it too).
        os.environ["RAY_AUTH_MODE"] = "token"
    ray = import_ray()
    if ray.is_initialized():
        if _connected in (None, address):  # connected here before, or by the caller
            return ray
        ray.shutdown()
    _probe(address)
    options: dict[str, Any] = {}
    if address == "local":
        options = {"num_cpus": default_threads(), "include_dashboard": False}
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        ray.init(address=address, runtime_env=runtime_env(), logging_level=logging.WARNING,
                 **options)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as err:
        raise RayBackendError(
            f"cannot connect to the Ray cluster at {address}: {_first_line(err)} (is it "
            "running? A cluster with token authentication, Ray's default, needs its token "
            "here: ~/.ray/auth_token or RAY_AUTH_TOKEN; docs/SCALING.md)",
            setting="ray_address") from None
    finally:
        # Ray's core installs a SIGTERM handler that ends the process at once; the caller's
        # (gpc's: Ctrl-C's path, finished work kept, one line) is put back.
        if sigterm is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, sigterm)
    _connected = address
    return ray


def _token_available() -> bool:
    """Whether Ray would find a cluster token here (its variables, or ~/.ray/auth_token)."""
    return bool(os.environ.get("RAY_AUTH_TOKEN") or os.environ.get("RAY_AUTH_TOKEN_PATH")
                or (Path.home() / ".ray" / "auth_token").is_file())


def _probe(address: str) -> None:
    """A one-line error now for a HOST:PORT where nothing listens (Ray itself retries
    connecting for many minutes)."""
    host, sep, port = address.rpartition(":")
    if address in ("local", "auto") or "://" in address or not sep or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_S).close()
    except OSError as err:
        raise RayBackendError(f"cannot connect to the Ray cluster at {address}: "
                              f"{err.strerror or err} (is its head node running? `ray start "
                              "--head` prints the address)", setting="ray_address") from None


def runtime_env() -> dict:
    """What every worker of this driver's job gets: the source tree on PYTHONPATH (the
    folders gpc_planner and gpc_sim are imported from here, then this PYTHONPATH), and
    the forwarded GPC settings."""
    import gpc_planner
    import gpc_sim

    roots = [str(Path(m.__file__).resolve().parent.parent) for m in (gpc_planner, gpc_sim)]
    paths = roots + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    env = {"PYTHONPATH": os.pathsep.join(dict.fromkeys(paths)),
           "RAY_USAGE_STATS_ENABLED": "0"}
    env.update({name: os.environ[name] for name in FORWARDED_ENV if name in os.environ})
    return {"env_vars": env}


def _run_task(make_state: Callable[[int | None], Any], job: Callable[[Any, Any], Any],
              item: Any, threads: int, cwd: str) -> Any:
    """One job in a Ray worker process: the state is built at its first task of a run."""
    global _state
    if cwd != os.getcwd() and os.path.isdir(cwd):  # relative paths read as on the driver
        os.chdir(cwd)
    if _state is None or _state[0] != make_state:
        _state = None  # let the previous run's task and models go first
        _state = (make_state, make_state(threads))
    return job(_state[1], item)


def run_jobs_ray(make_state: Callable[[int | None], Any], job: Callable[[Any, Any], Any],
                 items: Iterable[Any], backend: RayBackend) -> Iterator[Any]:
    """Yield ``job(state, item)`` for every item, in completion order, from Ray tasks.

    ``make_state(task_cpus)`` builds a worker's state; both callables must be module-level
    (workers import them). Tasks still running when the consumer stops (Ctrl-C, an
    error) end with the driver (Ray ends a job's tasks when its driver goes).
    """
    items = list(items)
    if not items:
        return
    ray = connect(backend)
    remote = ray.remote(_run_task).options(num_cpus=backend.task_cpus,
                                           max_retries=TASK_RETRIES, retry_exceptions=False)
    setup = ray.put(make_state)
    cwd = os.getcwd()
    queue = iter(items)
    limit = backend.max_tasks or len(items)
    pending: dict[Any, Any] = {}

    def submit() -> None:
        while len(pending) < limit:
            item = next(queue, _END)
            if item is _END:
                return
            pending[remote.remote(setup, job, item, backend.task_cpus, cwd)] = item

    try:
        submit()
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=WAIT_S)
            if not ready:
                continue
            item = pending.pop(ready[0])
            result = _result(ray, ready[0], item)
            submit()
            yield result
    finally:
        # Tasks still pending are not cancelled: a cancel racing a reply already on its way
        # aborts Ray's core in this driver ("Tried to complete task that was not pending",
        # Ray 2.60, seen at SIGTERM with force=False too). The driver is ending: Ray ends its
        # job's tasks with it, and a resumed run redoes what did not finish.
        pending.clear()


_END = object()


def _result(ray, ref: Any, item: Any) -> Any:
    """The task's value; its failure in the project's words where it is not a bug."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as err:
        cause = err.cause
        if isinstance(cause, ConfigError):
            raise ConfigError(str(cause)) from None
        system = isinstance(cause, ray.exceptions.RayError)  # e.g. arguments not unpickled
        if isinstance(cause, ImportError) or (system and "No module named" in str(cause)):
            raise RayBackendError(f"a Ray worker cannot import what episode {item} needs "
                                  f"({_first_line(cause)}): every node needs this checkout "
                                  "and its venv at the same path (docs/SCALING.md)") from None
        if system:
            raise RayBackendError(f"the Ray task of episode {item} failed ({_first_line(cause)})"
                                  "; finished episodes are kept, rerun the same command to "
                                  "resume") from None
        raise  # a bug: its traceback, with the worker's
    except ray.exceptions.RayError as err:  # the worker or node died more than it is retried
        raise RayBackendError(
            f"the Ray task of episode {item} failed ({type(err).__name__}: "
            f"{_first_line(err)}; a task is run again at most {TASK_RETRIES} times when its "
            "worker or node dies); finished episodes are kept, rerun the same command to "
            "resume") from None


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]
