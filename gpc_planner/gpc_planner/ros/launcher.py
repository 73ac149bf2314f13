"""``gpc launch``: bring up a scenario's node graph without ``ros2 launch``.

The processes are those of ``bringup.spot_push_nodes`` (the launch file builds the same),
each started as ``ros2 run`` would (the executable from the ament index) with the scenario's
parameter file and a second file of overrides, in a run folder that keeps their logs. A
small monitor node follows ``sim/status`` and ``gpc/status`` for the progress bar and the
summary. With a duration the simulation stops itself there and exits (``exit_on_finish``,
as under ``ros2 launch``); then every node gets SIGINT (as ``ros2 launch`` does), and
SIGTERM / SIGKILL only after the node's own timeouts of the description (longer than its
worst clean shutdown), the summary is written (atomically) and the states are drawn. Any
other node that exits ends the run with its log's last lines; Ctrl-C ends it cleanly; and
if the launcher itself is killed (even by SIGKILL) its nodes notice and end by themselves.
The summary's goal is the one the sim measured against: the goal topic's, which the planner
planned for too.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from gpc_planner.atomic import write_json_atomic
from gpc_planner.bringup import NodeLaunch, resolve_arguments, spot_push_nodes
from gpc_planner.ros.retried_call import RetriedCall
from gpc_sim.errors import ConfigError
from gpc_sim.ros.run import LAUNCHER_PID_ENV
from gpc_sim.spot.constants import COMMAND_DT

RESUME_RESEND = 1.0  # s between requests to resume the sim until one is answered


def ament_prefixes() -> list[Path]:
    return [Path(p) for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]


def find_executable(package: str, executable: str) -> str | None:
    """Where ``ros2 run package executable`` would find it (lib/<package>/ of a prefix)."""
    for prefix in ament_prefixes():
        path = prefix / "lib" / package / executable
        if path.is_file() and os.access(path, os.X_OK):
            return str(path)
    return shutil.which(executable) if package == executable else None


def share_file(package: str, relative: str) -> str:
    """A file installed in ``share/<package>/`` (ConfigError if no prefix has it)."""
    for prefix in ament_prefixes():
        path = prefix / "share" / package / relative
        if path.is_file():
            return str(path)
    raise ConfigError(f"share/{package}/{relative} not found on AMENT_PREFIX_PATH (run "
                      "bash scripts/setup.sh, then source env.sh)")


def node_command(node: NodeLaunch, executable: str, params_file: str | None,
                 overrides_file: str, namespace: str) -> list[str]:
    """The command line of one node: remappings, then the parameter files in order."""
    cmd = [executable, *node.arguments, "--ros-args", "-r", f"__node:={node.name}"]
    if namespace:
        cmd += ["-r", f"__ns:=/{namespace.strip('/')}"]
    if params_file:
        cmd += ["--params-file", params_file]
    return cmd + ["--params-file", overrides_file]


def overrides_document(nodes: list[NodeLaunch]) -> dict:
    """The overrides file: each node's parameters under ``/**/<name>`` (any namespace)."""
    return {f"/**/{n.name}": {"ros__parameters": dict(n.parameters)} for n in nodes}


@dataclass
class RunRecord:
    """What the monitor saw."""

    sim: object | None = None  # last gpc_msgs/SimStatus
    planner: object | None = None  # last gpc_msgs/PlannerStatus
    plan_times_ms: list[float] = field(default_factory=list)
    samples_per_plan: list[int] = field(default_factory=list)  # candidates rolled out
    holds: dict[str, int] = field(default_factory=dict)
    planner_messages: int = 0
    error: str | None = None  # why the monitor stopped (the run ends: no summary without it)


def _watch(record: RunRecord, stop: threading.Event, ready: threading.Event,
           namespace: str, unpause: bool) -> None:
    """The monitor's thread: a monitor that dies says why and ends the run (not a run that
    goes on with a frozen progress bar and an empty summary)."""
    try:
        _monitor(record, stop, ready, namespace, unpause)
    except Exception as err:  # noqa: BLE001 - reported by the launcher's loop
        record.error = f"{type(err).__name__}: {err}"
        ready.set()


class SimResumer:
    """Asks the paused sim to run until an answer says it does (``RetriedCall``: a lost
    request would leave the sim paused for good), once ``wanted`` (the planner is up)."""

    def __init__(self, call: Callable[[], Any], clock: Callable[[], float] = time.monotonic,
                 resend: float = RESUME_RESEND) -> None:
        self.wanted = False  # set once the planner is up
        self._request = RetriedCall(
            call, accept=lambda response: response is not None and response.success,
            clock=clock, resend=resend)

    @property
    def done(self) -> bool:
        return self._request.done

    def poll(self) -> None:
        if self.wanted:
            self._request.poll()


def _monitor(record: RunRecord, stop: threading.Event, ready: threading.Event,
             namespace: str, unpause: bool) -> None:
    """Spin a monitor node until ``stop`` (its own context: the launcher's process).

    With ``unpause``, the sim (started paused) is resumed once the planner is up: its first
    status (the planner then has its model loaded and its rollouts built).
    """
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.signals import SignalHandlerOptions
    from std_srvs.srv import SetBool

    from gpc_msgs.msg import PlannerStatus, SimStatus
    from gpc_sim.ros import qos, topics

    context = rclpy.Context()
    # No rclpy signal handlers: Ctrl-C and SIGTERM are the launcher's (they must stop the
    # nodes and write the summary); rclpy's would only shut this monitor down.
    rclpy.init(context=context, args=[], signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("gpc_launch_monitor", namespace=namespace or "/",
                             context=context)

    def on_sim(msg: SimStatus) -> None:
        record.sim = msg

    def on_planner(msg: PlannerStatus) -> None:
        last = record.planner
        if (last is None or msg.iteration != last.iteration) and msg.state == "running" \
                and math.isfinite(msg.plan_time_ms):
            record.plan_times_ms.append(msg.plan_time_ms)  # one per plan
            record.samples_per_plan.append(msg.samples_evaluated)
        if msg.state not in ("running", "starting") and (last is None
                                                         or msg.state != last.state):
            record.holds[msg.state] = record.holds.get(msg.state, 0) + 1  # one per spell
        record.planner = msg
        record.planner_messages += 1
        resumer.wanted = unpause

    pause = node.create_client(SetBool, topics.PAUSE_SIM)
    resumer = SimResumer(lambda: pause.call_async(SetBool.Request(data=False)))
    node.create_subscription(SimStatus, topics.SIM_STATUS, on_sim, qos.RELIABLE)
    node.create_subscription(PlannerStatus, topics.PLANNER_STATUS, on_planner, qos.RELIABLE)
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    ready.set()
    try:
        while not stop.is_set():
            executor.spin_once(timeout_sec=0.1)
            resumer.poll()
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown(context=context)


def _settle(record: RunRecord, timeout: float = 3.0) -> None:
    """After the sim's end, wait for one more planner status (its counters are then final:
    the planner publishes one per plan and one per second)."""
    seen = record.planner_messages
    end = time.monotonic() + timeout
    while record.planner_messages == seen and time.monotonic() < end:
        time.sleep(0.05)


def _await_exit(proc: subprocess.Popen, timeout: float) -> None:
    """Wait up to ``timeout`` s for a node that is ending by itself (then ``_stop``)."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass


def _stop(procs: dict[str, subprocess.Popen], nodes: dict[str, NodeLaunch]
          ) -> dict[str, int | None]:
    """SIGINT every node, then SIGTERM / SIGKILL what has not exited after the node's own
    ``sigterm_timeout`` / ``sigkill_timeout`` (as ``ros2 launch`` does); their exit codes."""
    for proc in procs.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    codes = {}
    for name, proc in procs.items():
        node = nodes[name]
        try:
            codes[name] = proc.wait(timeout=max(0.1, start + node.sigterm_timeout
                                                - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                codes[name] = proc.wait(timeout=node.sigkill_timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
    return codes


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def summarize(args: dict[str, str], record: RunRecord, wall_s: float, codes: dict,
              interrupted: bool, run_dir: Path) -> dict:
    """The run's summary (the JSON written at the end)."""
    sim, planner = record.sim, record.planner
    out: dict = {"scenario": "spot_push", "arguments": args, "run_dir": str(run_dir),
                 "wall_time_s": round(wall_s, 1), "interrupted": interrupted,
                 "exit_codes": codes}
    if planner is not None:
        times, samples = record.plan_times_ms, record.samples_per_plan
        cycles = planner.iteration
        out.update(method=planner.method, planning_cycles=cycles,
                   commands_sent=planner.commands_sent,
                   deadline_misses=planner.deadline_misses,
                   on_time_share=round(1.0 - planner.deadline_misses / cycles, 4)
                   if cycles else None,
                   plan_time_ms_median=round(statistics.median(times), 1) if times else None,
                   plan_time_ms_p95=round(float(np.percentile(times, 95)), 1) if times
                   else None,
                   samples_per_plan_median=statistics.median(samples) if samples else None,
                   samples_per_plan_min=min(samples) if samples else None,
                   planner_holds=record.holds)  # spells of each hold reason
    if sim is not None:
        out.update(
            seed=sim.seed, trial=sim.trial, sim_time_s=round(sim.step * COMMAND_DT, 2),
            goal=[sim.goal_x, sim.goal_y, sim.goal_yaw],
            chair_start_distance=round(sim.start_position_error, 4),
            chair_final_distance=round(sim.position_error, 4),
            chair_start_yaw_error_deg=round(math.degrees(sim.start_yaw_error), 2),
            chair_final_yaw_error_deg=round(math.degrees(sim.yaw_error), 2),
            success=bool(not math.isnan(sim.success_time)),
            success_time_s=None if math.isnan(sim.success_time) else round(sim.success_time, 2),
            final_success=bool(sim.success), fallen=bool(sim.fallen), tipped=bool(sim.tipped),
            diverged=bool(sim.diverged), lockstep_timeouts=sim.lockstep_timeouts)
    return out


def format_summary(s: dict) -> str:
    lines = [f"spot_push: {s.get('method', '?')}, {s.get('sim_time_s', '?')} s of sim time in "
             f"{s['wall_time_s']} s of wall time" + (" (interrupted)" if s["interrupted"]
                                                      else "")]
    if "planning_cycles" in s:
        lines.append(f"  planning cycles {s['planning_cycles']}, commands sent "
                     f"{s['commands_sent']}, deadline misses {s['deadline_misses']}, plan time "
                     f"median {s['plan_time_ms_median']} ms, candidates per plan median "
                     f"{s.get('samples_per_plan_median')}")
    holds = s.get("planner_holds") or {}
    if holds:  # e.g. the hold at the goal, or a stale-state hold: spells of each
        lines.append("  planner held: " + ", ".join(
            f"{why} ({n} spell{'s' if n != 1 else ''})" for why, n in sorted(holds.items())))
    if "chair_start_distance" in s:
        reached = (f"reached at {s['success_time_s']} s" if s["success"] else "not reached")
        if s["success"] and "final_success" in s:
            reached += ", there at the end" if s["final_success"] else ", left by the end"
        x, y, yaw = s["goal"]
        lines.append(f"  goal x {x:.2f} m, y {y:.2f} m, yaw {math.degrees(yaw):.0f} deg; "
                     f"chair to goal: {s['chair_start_distance']:.2f} m -> "
                     f"{s['chair_final_distance']:.2f} m, yaw error "
                     f"{s['chair_start_yaw_error_deg']:.0f} -> "
                     f"{s['chair_final_yaw_error_deg']:.0f} deg; goal {reached}")
    return "\n".join(lines)


def plan_spot_push(given: dict[str, str]) -> tuple[dict[str, str], str, list[NodeLaunch]]:
    """The resolved arguments, the parameter file and the nodes, as the launch file has them
    (the same defaults: the installed config/spot_push.yaml and config/gpc.rviz)."""
    args = resolve_arguments(given)
    params_file = args["params_file"] or share_file("gpc_planner", "config/spot_push.yaml")
    if not Path(params_file).is_file():
        raise ConfigError(f"parameter file {params_file} not found")
    rviz_config = share_file("gpc_planner", "config/gpc.rviz")
    return args, params_file, spot_push_nodes(args, rviz_config=rviz_config)


def launch_spot_push(given: dict[str, str], run_dir: Path, summary_path: Path | None,
                     progress: bool = True) -> int:
    """Run the Spot chair-push graph (module docstring); returns an exit status."""
    args, params_file, nodes = plan_spot_push(given)
    if nodes[-1].package == "rviz2" and find_executable("rviz2", "rviz2") is None:
        print("[launch] rviz2 is not installed here: running headless", flush=True)
        nodes = nodes[:-1]
    run_dir.mkdir(parents=True, exist_ok=True)
    # Two things only this launcher does (the launch file has no use for them): the sim
    # records the episode for the pictures, and in real time it starts paused until the
    # planner is up (so a --duration run is not spent waiting for the planner to load).
    use_sim = nodes[0].package == "gpc_sim"
    unpause = use_sim and not nodes[0].parameters["lockstep"]
    if use_sim:
        nodes[0].parameters.setdefault("record", str(run_dir / "states.npz"))
        if unpause:
            nodes[0].parameters["start_paused"] = True
    overrides = run_dir / "overrides.yaml"
    overrides.write_text(yaml.safe_dump(overrides_document(nodes), sort_keys=False))
    # The nodes end with this process however it ends (gpc_sim.ros.run, LAUNCHER_PID_ENV).
    env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST", PYTHONUNBUFFERED="1",
               **{LAUNCHER_PID_ENV: str(os.getpid())})
    by_name = {node.name: node for node in nodes}
    commands = {}
    for node in nodes:
        exe = find_executable(node.package, node.executable)
        if exe is None:
            raise ConfigError(f"executable {node.executable} of {node.package} not found "
                              "(run bash scripts/setup.sh, then source env.sh)")
        files = None if node.package == "rviz2" else params_file
        commands[node.name] = node_command(node, exe, files, str(overrides), args["namespace"])

    duration = float(nodes[0].parameters.get("duration", 0.0)) if use_sim else 0.0
    print(f"[launch] spot_push: {', '.join(commands)} (ROS_DOMAIN_ID "
          f"{env.get('ROS_DOMAIN_ID', '0')}); logs in {run_dir}", flush=True)
    record, stop, ready = RunRecord(), threading.Event(), threading.Event()
    monitor = threading.Thread(target=_watch, daemon=True,
                               args=(record, stop, ready, args["namespace"], unpause))
    monitor.start()
    ready.wait(timeout=30.0)
    procs: dict[str, subprocess.Popen] = {}
    logs = {}
    start = time.monotonic()
    interrupted, failed = False, None
    bar = None
    try:
        for name, cmd in commands.items():
            logs[name] = run_dir / f"{name}.log"
            with open(logs[name], "w") as log:
                procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                               env=env, start_new_session=True)
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=duration or None, unit="sim s", dynamic_ncols=True,
                       bar_format="{l_bar}{bar}| {n:.1f}/{total_fmt} sim s [{elapsed}]{postfix}"
                       if duration else "{n:.1f} sim s [{elapsed}]{postfix}")
        while record.error is None:
            exited = _exited(procs)
            if exited is not None:
                if _finished(exited, procs[exited], use_sim, duration):
                    _settle(record)  # the sim's end of the duration: the run's normal end
                else:
                    failed = exited
                break
            sim = record.sim
            if bar is not None and sim is not None:
                bar.n = min(sim.step * COMMAND_DT, duration or math.inf)
                postfix = f" chair {sim.position_error:.2f} m"
                if record.planner is not None:
                    postfix += (f", plans {record.planner.iteration}, "
                                f"{record.planner.state}")
                bar.postfix = postfix
                bar.refresh()
            if sim is not None and sim.finished:
                _settle(record)
                if use_sim and duration > 0.0:
                    # It ends by itself (exit_on_finish) after the finished status: a SIGINT
                    # in its interpreter's last moments would kill it (exit -2, seen on CI).
                    _await_exit(procs["gpc_sim"], by_name["gpc_sim"].sigterm_timeout)
                break
            if not use_sim and given.get("duration") and \
                    time.monotonic() - start >= float(given["duration"]):
                break
            time.sleep(0.2)
    except KeyboardInterrupt:
        interrupted = True
        print("\n[launch] interrupted: stopping the nodes", flush=True)
    finally:
        if bar is not None:
            bar.close()
        codes = _stop(procs, by_name)
        time.sleep(0.3)  # the monitor takes the last messages in flight
        stop.set()
        monitor.join(timeout=5.0)
    wall_s = time.monotonic() - start
    if record.error is not None:
        print(f"[launch] the monitor stopped: {record.error}", file=sys.stderr, flush=True)
    if use_sim and record.sim is None:
        print("[launch] no sim status reached the monitor: the summary has no chair "
              "distances (the sim's own log has its last line)", file=sys.stderr, flush=True)
    if failed:
        print(f"[launch] node {failed} exited early with code {codes.get(failed)}; the end "
              f"of {logs[failed]}:\n{_tail(logs[failed])}", file=sys.stderr, flush=True)
    summary = summarize(args, record, wall_s, codes, interrupted, run_dir)
    summary_path = summary_path or run_dir / "summary.json"
    summary["pictures"] = _draw(run_dir, summary.get("method", "?"), args) if use_sim else []
    write_json_atomic(summary_path, summary)
    print(format_summary(summary), flush=True)
    for picture in summary["pictures"]:
        print(f"[launch] picture: {picture}", flush=True)
    print(f"[launch] summary: {summary_path}", flush=True)
    if failed or record.error is not None:
        return 1
    return 130 if interrupted else 0


def _exited(procs: dict[str, subprocess.Popen]) -> str | None:
    """The name of a node that has exited (None: all run)."""
    return next((name for name, proc in procs.items() if proc.poll() is not None), None)


def _finished(name: str, proc: subprocess.Popen, use_sim: bool, duration: float) -> bool:
    """Whether a node's exit is the run's normal end: the sim, exiting cleanly at the end of
    its duration (``exit_on_finish``)."""
    return use_sim and name == "gpc_sim" and duration > 0.0 and proc.returncode == 0


def _draw(run_dir: Path, method: str, args: dict[str, str]) -> list[str]:
    """The recorded episode as a top-view picture and an image strip (if it was recorded)."""
    path = run_dir / "states.npz"
    if not path.is_file():
        return []
    import numpy as np

    from gpc_planner.plotting import plot_spot_episode, plot_spot_strip
    from gpc_sim.tasks import make_task

    with np.load(path) as data:
        states, task_name = data["states"], str(data["task"])
        seed, trial = int(data["seed"]), int(data["trial"])
        goal = tuple(float(v) for v in data["goal"]) if "goal" in data else None
    if len(states) < 2:
        return []
    task = make_task(task_name, nthread=1, **({"goal": goal} if goal else {}))
    title = (f"gpc launch spot_push: {method}, trial {trial} of seed {seed}"
             f"{', lock-step' if args['lockstep'] == 'true' else ''}")
    return [str(plot_spot_episode(task, states, run_dir / "episode.png", title)),
            str(plot_spot_strip(task, states, run_dir / "strip.png", title))]
