"""``gpc launch``: bring up a launch scenario's nodes without ``ros2 launch``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gpc_planner.bringup import SCENARIOS, SPOT_PUSH_ARGUMENTS
from gpc_planner.cli.args import positive_float
from gpc_planner.cli.launch_args import add_launch_arguments, describe_arguments, given_arguments
from gpc_sim.errors import ConfigError


def add_parser(sub: argparse._SubParsersAction) -> None:
    known = describe_arguments(SPOT_PUSH_ARGUMENTS)
    p = sub.add_parser(
        "launch",
        help="bring up a launch scenario's node graph (as ros2 launch gpc_planner "
        "spot_push.launch.py does)",
        description="Start the nodes of SCENARIO from the same description and parameter file "
        "as launch/spot_push.launch.py, follow the run, and with --duration stop everything "
        "cleanly at the end and write a summary (planning cycles, commands, deadline "
        "misses, chair distance and yaw error to the goal, success) and a picture of the "
        "episode. Launch arguments (name:=value):\n" + known,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("scenario", choices=tuple(SCENARIOS), help="launch scenario")
    add_launch_arguments(p, "launch arguments, as for ros2 launch")
    p.add_argument("--lockstep", action="store_true",
                   help="lock-step the simulation with the planner (lockstep:=true)")
    p.add_argument("--headless", action="store_true", help="no rviz (rviz:=false)")
    p.add_argument("--duration", type=positive_float, default=None, metavar="SEC",
                   help="stop after SEC seconds of sim time (wall time with use_sim:=false)")
    p.add_argument("--summary", default=None, metavar="FILE.json",
                   help="write the summary here (default: RUN_DIR/summary.json)")
    p.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="folder for the node logs, states and pictures (default: "
                   "runs/launch/<date-time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from gpc_planner.ros.launcher import launch_spot_push

    given = given_arguments(args)
    for flag, name, value in ((args.lockstep, "lockstep", "true"),
                              (args.headless, "rviz", "false")):
        if flag:
            if given.get(name, value) != value:
                raise ConfigError(f"--{'lockstep' if name == 'lockstep' else 'headless'} "
                                  f"contradicts {name}:={given[name]}")
            given[name] = value
    if args.duration is not None:
        given["duration"] = repr(args.duration)
    run_dir = Path(args.out or Path("runs") / "launch" / time.strftime("%Y%m%d-%H%M%S"))
    summary = Path(args.summary) if args.summary else None
    return launch_spot_push(given, run_dir, summary, progress=not args.no_progress)
