"""The node graph of a launch scenario, as data: one description for two launchers.

``launch/spot_push.launch.py`` (real ROS 2 installs, ``ros2 launch``) and ``gpc launch
spot_push`` (machines without ``launch``) both build their processes from
``spot_push_nodes``: the same nodes, executables, names and parameter overrides on top of
the same YAML file, so the two cannot drift (a test runs the launch file against stand-in
``launch`` modules and compares). Plain Python: no ROS import.

Launch arguments are strings, as ``ros2 launch`` hands them over; an empty string means
"as in the parameter file".

How the graph ends is part of the description too, so that both launchers end it alike: any
node that exits ends the launch (the sim exits by itself at the end of ``duration``:
``exit_on_finish``), and each node is given ``sigterm_timeout`` seconds after SIGINT to exit
before SIGTERM, then ``sigkill_timeout`` more before SIGKILL: longer than its worst clean
shutdown (the bridge hands a real Spot back: ``bridge_params.WORST_SHUTDOWN``). Bring-up is
safe on a robot: the planner starts disabled (``gpc/enable``) and the bridge moves nothing
until told (``spot/power_on``, ``spot/stand``); in simulation the one command runs it all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from gpc_sim.errors import ConfigError
from gpc_sim.ros.sim_params import SIM_PARAMETERS
from gpc_spot_bridge.bridge_params import WORST_SHUTDOWN as BRIDGE_WORST_SHUTDOWN

#: Worst clean shutdown (s) of each node, from SIGINT to its exit. The planner joins its
#: planning thread (a 4 s plan on a loaded machine; at most 10 s); the sim joins its loop
#: (at most 5 s) and writes the record; rviz2 is ros2 launch's default.
WORST_SHUTDOWN = {"gpc_sim": 6.0, "spot_bridge": BRIDGE_WORST_SHUTDOWN, "gpc_planner": 10.5,
                  "rviz2": 3.0}
STOP_MARGIN = 3.0  # s a node gets beyond its worst clean shutdown before SIGTERM
SIGKILL_TIMEOUT = 10.0  # s after SIGTERM before SIGKILL (SIGTERM ends a node as SIGINT does)


@dataclass(frozen=True)
class LaunchArgument:
    """One ``name:=value`` argument of a scenario."""

    name: str
    default: str
    description: str


@dataclass(frozen=True)
class NodeLaunch:
    """One process: ``package``'s ``executable`` as node ``name``, with parameter overrides
    applied on top of the scenario's parameter file (``arguments``: extra command line)."""

    package: str
    executable: str
    name: str
    parameters: dict = field(default_factory=dict)
    arguments: tuple[str, ...] = ()

    @property
    def sigterm_timeout(self) -> float:
        """Seconds after SIGINT before SIGTERM: longer than its worst clean shutdown."""
        return float(math.ceil(WORST_SHUTDOWN.get(self.name, 3.0) + STOP_MARGIN))

    @property
    def sigkill_timeout(self) -> float:
        """Seconds after SIGTERM before SIGKILL."""
        return SIGKILL_TIMEOUT


SPOT_PUSH_ARGUMENTS = (
    LaunchArgument("use_sim", "true", "true: the MuJoCo sim node stands in for Spot and the "
                   "mocap (bridge in sim mode); false: a real Spot (bridge in real mode)"),
    LaunchArgument("lockstep", "false", "lock-step the simulation with the planner: sim time "
                   "waits for every plan (reproducible; slower than real time on a small "
                   "machine)"),
    LaunchArgument("method", "", "planning method (ps, cem, mppi, dial, gpc_shoot, gpc_cem); "
                   "empty: the parameter file's"),
    LaunchArgument("model", "", "proposal model file of the GPC methods; empty: the parameter "
                   "file's"),
    LaunchArgument("goal_distance", "", "the planner's goal distance in the cost: euclidean "
                   "or geodesic (around the obstacle); empty: the parameter file's"),
    LaunchArgument("hold_at_goal", "", "planner: true stops pushing once the chair is at the "
                   "goal, false plans on; empty: the parameter file's"),
    LaunchArgument("seed", "", "sim: seed of the initial state; empty: the parameter file's"),
    LaunchArgument("trial", "", "sim: trial of the initial state; empty: the parameter "
                   "file's"),
    LaunchArgument("duration", "", "sim: seconds of sim time to run, then stop (0: forever); "
                   "empty: the parameter file's"),
    LaunchArgument("rviz", "true", "start rviz2 with config/gpc.rviz"),
    LaunchArgument("namespace", "", "namespace of every node (topics are relative)"),
    LaunchArgument("params_file", "", "parameter YAML of the nodes; empty: the installed "
                   "config/spot_push.yaml"),
    LaunchArgument("use_sim_time", "", "nodes run on /clock; empty: the same as use_sim"),
)

#: The launch scenarios, by name, with the arguments each takes (``gpc launch SCENARIO``).
SCENARIOS: dict[str, tuple[LaunchArgument, ...]] = {"spot_push": SPOT_PUSH_ARGUMENTS}


def parse_bool(name: str, value: str) -> bool:
    """A launch argument's boolean (true/false, as ros2 launch writes them)."""
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise ConfigError(f"launch argument {name}:={value!r} is not true or false")


def _sim_number(name: str, value: str) -> int | float:
    """A number for the sim's parameter ``name``, checked against that parameter's type and
    range (the one table, ``sim_params``): no NaN durations, no seeds that do not fit."""
    spec = next(s for s in SIM_PARAMETERS if s.name == name)
    kind = type(spec.default)
    try:
        number = kind(value)
    except ValueError:
        raise ConfigError(f"launch argument {name}:={value!r} is not "
                          f"{'an integer' if kind is int else 'a number'}") from None
    problem = spec.check(number)
    if problem is not None:
        raise ConfigError(f"launch argument {name}:={value!r}: {problem.split(': ', 1)[1]}")
    return number


def resolve_arguments(given: dict[str, str],
                      arguments: tuple[LaunchArgument, ...] = SPOT_PUSH_ARGUMENTS
                      ) -> dict[str, str]:
    """Every argument's value: ``given`` on top of the defaults; unknown names refused."""
    known = {a.name: a.default for a in arguments}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigError(f"unknown launch argument(s) {', '.join(unknown)}; known: "
                          f"{', '.join(known)}")
    return {**known, **{k: str(v) for k, v in given.items()}}


def spot_push_nodes(args: dict[str, str], rviz_config: str = "") -> list[NodeLaunch]:
    """The nodes of the Spot chair push for resolved launch ``args`` (``resolve_arguments``).

    rviz2 comes last, only with ``rviz:=true``; ``rviz_config`` is its display file.
    """
    use_sim = parse_bool("use_sim", args["use_sim"])
    lockstep = parse_bool("lockstep", args["lockstep"])
    if lockstep and not use_sim:
        raise ConfigError("lockstep:=true needs the simulation (use_sim:=true)")
    sim_time = use_sim if args["use_sim_time"] == "" else parse_bool("use_sim_time",
                                                                     args["use_sim_time"])
    # On a robot the planner starts disabled: it drives only after gpc/enable.
    planner = {"use_sim_time": sim_time, "synchronous": lockstep, "enabled": use_sim}
    for key in ("method", "model", "goal_distance"):
        if args[key] != "":
            planner[key] = args[key]
    if args["hold_at_goal"] != "":
        planner["hold_at_goal"] = parse_bool("hold_at_goal", args["hold_at_goal"])
    nodes = []
    if use_sim:
        # The sim is the clock; at the end of a duration it exits, and the launch with it.
        sim = {"use_sim_time": False, "lockstep": lockstep, "exit_on_finish": True}
        for key in ("seed", "trial", "duration"):
            if args[key] != "":
                sim[key] = _sim_number(key, args[key])
        nodes.append(NodeLaunch("gpc_sim", "sim_node", "gpc_sim", sim))
    nodes.append(NodeLaunch("gpc_spot_bridge", "spot_bridge", "spot_bridge",
                            {"use_sim_time": sim_time, "mode": "sim" if use_sim else "real"}))
    nodes.append(NodeLaunch("gpc_planner", "planner_node", "gpc_planner", planner))
    if parse_bool("rviz", args["rviz"]):
        nodes.append(NodeLaunch("rviz2", "rviz2", "rviz2", {"use_sim_time": sim_time},
                                ("-d", rviz_config) if rviz_config else ()))
    return nodes
