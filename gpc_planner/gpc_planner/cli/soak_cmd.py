"""``gpc soak``: run the Spot chair-push graph in real time for long, injecting faults."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from gpc_planner.cli.args import nonnegative_int, positive_float, seed
from gpc_planner.cli.launch_args import add_launch_arguments, given_arguments
from gpc_planner.soak.faults import KINDS, parse_kinds
from gpc_sim.errors import ConfigError

DESCRIPTION = """\
Start the three nodes of spot_push (sim, Spot bridge, planner; no rviz) as separate
processes in real time, the sim running forever, and watch them for --duration seconds of
wall time: every --sample-every seconds each process's memory (RSS) and CPU go to
RUN_DIR/samples.csv. With --faults N, N faults are injected one at a time at random times
drawn from --seed, each undone after a random 2-5 s (--down-min, --down-max):

  kill_planner, kill_bridge, kill_sim  SIGKILL the node, start it again
  freeze_planner                       SIGSTOP the planner, then SIGCONT
  mocap_dropout                        the sim's live mocap_blackout parameter: no
                                       rigid_bodies frame while the world runs on

Each fault is judged from spot/locomotion_command, what the simulated robot is told: the
robot must stop within the bridge's command_timeout + valid_for (sim clock; a killed sim
takes the robot with it), no node may exit by itself or log a traceback, and the robot
must be driven by a plan again once the process is back. At the end (or Ctrl-C) it writes
RUN_DIR/summary.json (faults by kind, survived, times to stop and resume; memory growth
per node after its first --warmup seconds; CPU) and RUN_DIR/memory.png (memory and CPU
over time, the faults marked). Exit status 0 when every fault survived, nothing crashed
and no node grew more than --max-growth MB; 1 otherwise; 130 when interrupted.

Launch arguments (name:=value, as for gpc launch) choose the method, the trial, the
parameter file ...; the sim seed is seed:=S, the fault schedule's --seed S.
Examples:
  gpc soak --duration 3600 --faults 36          # the one-hour soak with faults
  gpc soak --duration 3600                      # memory only, no fault
  gpc soak --duration 240 --faults 4 --fault-start 40 --min-gap 30 --warmup 60"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "soak", help="run the ROS graph in real time for long, sample memory and CPU, "
        "inject faults (kills, a frozen planner, mocap dropouts) and judge each",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_launch_arguments(p, "launch arguments of spot_push (gpc launch --help lists them)")
    p.add_argument("--duration", type=positive_float, default=3600.0, metavar="SEC",
                   help="wall seconds to run (default: 3600)")
    p.add_argument("--faults", type=nonnegative_int, default=0, metavar="N",
                   help="faults to inject (default: 0, a memory soak only)")
    p.add_argument("--kinds", type=str, default="all", metavar="K[,K...]",
                   help=f"fault kinds to draw from: all, or some of {', '.join(KINDS)}")
    p.add_argument("--seed", type=seed, default=0, metavar="S",
                   help="seed of the fault schedule: kinds, times, down times (default: 0)")
    p.add_argument("--fault-start", type=positive_float, default=60.0, metavar="SEC",
                   help="no fault before this many seconds (default: 60)")
    p.add_argument("--min-gap", type=positive_float, default=40.0, metavar="SEC",
                   help="at least this many seconds between two faults, and after the last "
                   "one before the end (default: 40)")
    p.add_argument("--down-min", type=positive_float, default=2.0, metavar="SEC",
                   help="shortest time a fault lasts (default: 2)")
    p.add_argument("--down-max", type=positive_float, default=5.0, metavar="SEC",
                   help="longest time a fault lasts (default: 5)")
    p.add_argument("--resume-timeout", type=positive_float, default=90.0, metavar="SEC",
                   help="how long the graph may take to drive the robot again after a "
                   "fault (default: 90; a restarted planner loads torch and its model)")
    p.add_argument("--sample-every", type=positive_float, default=5.0, metavar="SEC",
                   help="seconds between two memory and CPU samples (default: 5)")
    p.add_argument("--warmup", type=positive_float, default=300.0, metavar="SEC",
                   help="memory growth counts from this many seconds into each process's "
                   "life (default: 300)")
    p.add_argument("--max-growth", type=positive_float, default=50.0, metavar="MB",
                   help="largest memory growth per node that passes (default: 50)")
    p.add_argument("--out", default=None, metavar="RUN_DIR",
                   help="folder for the summary, samples, picture and logs (default: "
                   "runs/soak/<date-time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def settings_from(args: argparse.Namespace):
    """The run's settings from the command line (ConfigError names the option at fault)."""
    from gpc_planner.ros.soak import SoakSettings

    if args.down_min > args.down_max:
        raise ConfigError(f"--down-min {args.down_min:g} is more than --down-max "
                          f"{args.down_max:g}")
    return SoakSettings(
        duration_s=args.duration, faults=args.faults, kinds=parse_kinds(args.kinds),
        seed=args.seed, sample_every_s=args.sample_every, fault_start_s=args.fault_start,
        min_gap_s=args.min_gap, down_s=(args.down_min, args.down_max),
        resume_timeout_s=args.resume_timeout, warmup_s=args.warmup,
        max_growth_mb=args.max_growth)


def run(args: argparse.Namespace) -> int:
    from gpc_planner.ros.soak import Soak

    run_dir = Path(args.out or Path("runs") / "soak" / time.strftime("%Y%m%d-%H%M%S"))
    soak = Soak(given_arguments(args), settings_from(args), run_dir,
                progress=not args.no_progress)
    return soak.run()
