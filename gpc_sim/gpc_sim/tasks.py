"""Registry of tasks: name -> (class, default config)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, replace

from gpc_sim.errors import ConfigError
from gpc_sim.franka.task import FrankaObstaclesConfig, FrankaObstaclesTask
from gpc_sim.limits import check_parallel
from gpc_sim.nav.task import NavDynConfig, NavDynTask
from gpc_sim.push.task import PushTask, PushTaskConfig
from gpc_sim.spot.task import SpotChairConfig, SpotChairTask
from gpc_sim.task import Task, TaskConfig

TASKS: dict[str, tuple[type[Task], Callable[[], TaskConfig]]] = {
    "push_t": (PushTask, lambda: PushTaskConfig(shape="t")),
    "push_k": (PushTask, lambda: PushTaskConfig(shape="k")),
    "spot_chair": (SpotChairTask, SpotChairConfig),
    # The paper's variant with an obstacle-avoidance cost (its Table II, last block).
    "spot_chair_avoid": (SpotChairTask, lambda: SpotChairConfig(w_obstacle=300.0)),
    # The NFMPC paper's PNRANDDYN: a point robot among eight randomly moving obstacles.
    "nav_dyn": (NavDynTask, NavDynConfig),
    # The NFMPC paper's FRANKA: a Panda reaches a random goal past one random pole.
    "franka_obstacles": (FrankaObstaclesTask, FrankaObstaclesConfig),
}


def check_task_name(name: str, setting: str | None = None) -> None:
    """ConfigError listing the known tasks unless ``name`` is one (``setting``: the
    setting that named it, for front ends that map it to their option)."""
    if name not in TASKS:
        raise ConfigError(f"unknown task {name!r}; known: {', '.join(TASKS)}", setting=setting)


def make_task(name: str, nthread: int | None = None, **overrides: object) -> Task:
    """Build task ``name``; ``overrides`` replace fields of its default config.

    ``nthread`` (rollout threads; None: the cores available) is bounded like worker
    processes: a thread pool of a hundred thousand never starts, it hangs.
    """
    if nthread is not None:
        check_parallel(nthread, "rollout threads")
    check_task_name(name)
    cls, default = TASKS[name]
    config = default()
    unknown = set(overrides) - {f.name for f in fields(config)}
    if unknown:
        raise ConfigError(f"task {name} has no setting {', '.join(sorted(unknown))}")
    return cls(replace(config, **overrides), nthread=nthread)  # type: ignore[call-arg]


def has_setting(task_name: str, setting: str) -> bool:
    """Whether task ``task_name``'s config has ``setting`` (the Spot tasks' ``world``)."""
    if task_name not in TASKS:
        return False
    return setting in {f.name for f in fields(TASKS[task_name][1]())}


def task_method_settings(task_name: str, method: str) -> dict[str, object]:
    """The optimizer settings task ``task_name`` gives ``method`` over its defaults
    (``Task.method_settings``); {} for most, and for an unknown task."""
    if task_name not in TASKS:
        return {}
    return dict(TASKS[task_name][0].method_settings.get(method, {}))


def setting_default(task_name: str, setting: str) -> object:
    """The default of ``setting`` in task ``task_name``'s config: what a run that does not
    set it gets, so that its record can say so (a default may change between versions)."""
    if not has_setting(task_name, setting):
        raise ConfigError(f"task {task_name} has no setting {setting}")
    return getattr(TASKS[task_name][1](), setting)


# Task settings a run records even when left at the task's default, each with the value it
# had before it was recorded: the Spot cost's goal distance, whose default changed from the
# paper's straight line to the way around the obstacle, and its yaw weight (6, then 15). A
# record (journal header, dataset meta) leaves that old value out, as every record written
# before did, so those runs still resume in the setting they were started in, and a plain
# run never joins them.
RECORDED_SETTINGS = {"goal_distance": "euclidean", "w_yaw": 6.0}


def with_recorded_defaults(task_name: str, options: dict) -> dict:
    """``options`` plus the default of each ``RECORDED_SETTINGS`` entry the task has."""
    filled = dict(options)
    for name in RECORDED_SETTINGS:
        if has_setting(task_name, name) and name not in filled:
            filled[name] = setting_default(task_name, name)
    return filled


def without_old_defaults(options: dict) -> dict:
    """``options`` as a record writes them: the values records meant before they named them
    are left out (``RECORDED_SETTINGS``)."""
    return {name: value for name, value in options.items()
            if name not in RECORDED_SETTINGS or RECORDED_SETTINGS[name] != value}


def with_old_defaults(task_name: str, options: dict) -> dict:
    """The inverse of ``without_old_defaults``: a record's options with the values its
    silence meant put back (for a task that has the setting)."""
    return {**{name: old for name, old in RECORDED_SETTINGS.items()
               if has_setting(task_name, name)}, **options}


def task_options(options: object) -> tuple[tuple[str, object], ...]:
    """Task settings given as a dict or (name, value) pairs, as one hashable, ordered
    tuple (lists become tuples): how a spec that is part of a run's identity keeps them."""
    items = options.items() if isinstance(options, dict) else options
    return tuple(sorted((str(k), tuple(v) if isinstance(v, list) else v) for k, v in items))
