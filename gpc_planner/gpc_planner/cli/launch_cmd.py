"""``gpc launch``: bring up a launch scenario's nodes without ``ros2 launch``."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gpc_planner.bringup import SPOT_PUSH_ARGUMENTS
from gpc_planner.cli.args import positive_float
from gpc_sim.errors import ConfigError

SCENARIOS = ("spot_push",)


def _launch_argument(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected name:=value, got {text!r}")
    return name, value


def add_parser(sub: argparse._SubParsersAction) -> None:
    known = "\n".join(f"  {a.name}:={a.default or repr('')}  {a.description}"
                      for a in SPOT_PUSH_ARGUMENTS)
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
    p.add_argument("scenario", choices=SCENARIOS, help="launch scenario")
    p.add_argument("arguments", nargs="*", type=_launch_argument, metavar="name:=value",
                   help="launch arguments, as for ros2 launch")
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
    p.set_defaults(run=run, accepts_extra=_take_extra)


def _take_extra(args: argparse.Namespace, extra: list[str]) -> bool:
    """name:=value arguments after options (argparse leaves them over): take them."""
    try:
        args.arguments += [_launch_argument(e) for e in extra]
    except argparse.ArgumentTypeError:
        return False
    return True


def run(args: argparse.Namespace) -> int:
    from gpc_planner.ros.launcher import launch_spot_push

    given = dict(args.arguments)
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
