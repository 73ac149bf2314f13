"""``gpc soak``: the Spot chair-push graph in real time for a long while, with faults.

The three nodes of ``bringup.spot_push_nodes`` (sim, bridge, planner; no rviz) run as
separate processes in real time, the sim forever, each restartable on its own (a node that
dies unasked is logged as a crash and started again, so the run goes on). Every
``sample_every`` seconds each process's RSS and CPU go to ``samples.csv``
(``gpc_planner.soak.samples``). A probe node in this process (its own rclpy context, on
its own thread) follows ``/clock``, ``spot/locomotion_command`` (what the robot is told),
``spot/status`` and ``sim/status``.

Faults (``gpc_planner.soak.faults``) come at seeded random times, one at a time: after the
graph drives the robot again, the fault is injected, undone after its ``down_s`` (the
process restarted, SIGCONT, the mocap back), and judged (``gpc_planner.soak.judge``) once
the robot is driven by a plan again or ``resume_timeout_s`` ran out: the robot stopped
within the bridge's watchdog bound (``command_timeout + valid_for``, read from the
parameter file), nothing crashed (no node exited unasked, no traceback or ``[FATAL]`` in a
log), the graph resumed. A fault whose turn comes while the previous one is still being
judged waits for it.

Ends: at ``duration_s``, at Ctrl-C or SIGTERM (the summary is still written), or with
this process, however it dies: the nodes carry ``GPC_LAUNCHER_PID`` and end when their
parent is gone (``gpc_sim.ros.run``); a frozen planner is thawed before the nodes are
stopped (a stopped process cannot notice anything; if this process is SIGKILLed during a
freeze, that planner stays stopped until someone sends it SIGCONT or SIGKILL).
Outputs in the run folder: ``summary.json`` (rewritten after every fault, atomically),
``samples.csv``, ``memory.png``, each node's log (all its processes, one after the
other).
"""

from __future__ import annotations

import collections
import math
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from gpc_planner.atomic import write_atomic, write_json_atomic
from gpc_planner.bringup import NodeLaunch
from gpc_planner.ros.launcher import (
    _stop,
    find_executable,
    node_command,
    overrides_document,
    plan_spot_push,
)
from gpc_planner.ros.retried_call import RetriedCall
from gpc_planner.soak import faults as F
from gpc_planner.soak.judge import CommandEvent, accepted, judge
from gpc_planner.soak.log_watch import LogWatch
from gpc_planner.soak.proc_stats import cpu_percent, read_proc
from gpc_planner.soak.report import cpu_usage, fault_figures, memory_growth, plot_memory
from gpc_planner.soak.samples import Sample, SampleLog, read_samples
from gpc_sim.errors import ConfigError
from gpc_sim.ros.run import LAUNCHER_PID_ENV
from gpc_sim.stamps import DEFAULT_FUTURE_TOLERANCE
from gpc_spot_bridge.bridge_params import BRIDGE_PARAMETERS

READY_TIMEOUT = 240.0  # s for the graph to drive the robot at the start
FOLLOWING_WAIT = 30.0  # s a fault waits for the robot to be driven before it is injected
SETTLE_S = 2.0  # s watched after the graph resumed, before the verdict
EVENTS_KEPT = 60_000  # locomotion commands remembered (8 min at the bridge's <= 120 Hz)
TICK = 0.1  # s between two looks at the processes
MAX_UNASKED_EXITS = 5  # a node that exits by itself this often is in a crash loop: give up


class SoakAborted(Exception):
    """The run cannot go on (a crash loop, a graph that never drives the robot)."""


@dataclass(frozen=True)
class SoakSettings:
    """What ``gpc soak`` was asked for (see its --help)."""

    duration_s: float
    faults: int
    kinds: tuple[str, ...] = F.KINDS
    seed: int = 0
    sample_every_s: float = 5.0
    fault_start_s: float = 60.0
    min_gap_s: float = 40.0
    down_s: tuple[float, float] = (2.0, 5.0)
    resume_timeout_s: float = 90.0
    warmup_s: float = 300.0
    max_growth_mb: float = 50.0


def bridge_limits(params_file: str) -> dict[str, float]:
    """The bridge's ``command_timeout``, ``valid_for`` and ``pose_timeout`` as the nodes
    get them: the parameter file's, else the declared defaults."""
    doc = yaml.safe_load(Path(params_file).read_text()) or {}
    values = {s.name: s.default for s in BRIDGE_PARAMETERS}
    for key in ("/**", "/**/spot_bridge"):
        values.update((doc.get(key) or {}).get("ros__parameters") or {})
    return {k: float(values[k]) for k in ("command_timeout", "valid_for", "pose_timeout")}


class NodeRunner:
    """One node's process, started, killed, frozen and started again; one log for all."""

    def __init__(self, node: NodeLaunch, command: list[str], log: Path,
                 env: dict[str, str]) -> None:
        self.node, self.command, self.log, self.env = node, command, log, env
        self.proc: subprocess.Popen | None = None
        self.starts = 0
        self.down = False  # killed on purpose, not started again yet
        self.frozen = False

    @property
    def name(self) -> str:
        return self.node.name

    def start(self, t_s: float) -> None:
        self.starts += 1
        with open(self.log, "a") as log:
            log.write(f"[soak] start {self.starts} at {t_s:.1f} s\n")
            log.flush()
            self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env, start_new_session=True)
        self.down = self.frozen = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        self.down = True
        if self.alive():
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait()

    def freeze(self, frozen: bool) -> None:
        if self.alive():
            self.proc.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)
        self.frozen = frozen


@dataclass
class ProbeState:
    """What the probe heard (written by its thread, read by the soak's)."""

    sim_now: float = math.nan  # the sim's clock, last /clock
    events: collections.deque = field(
        default_factory=lambda: collections.deque(maxlen=EVENTS_KEPT))
    chair_distance: float = math.nan
    bridge_following: bool = False
    stop_causes: collections.deque = field(  # (wall, the bridge's stop cause) at changes
        default_factory=lambda: collections.deque(maxlen=1000))
    error: str | None = None


class Probe:
    """The soak's own node (module docstring), spun on a thread of its own."""

    def __init__(self, namespace: str) -> None:
        self.state = ProbeState()
        self.namespace = namespace
        self._requests: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="soak-probe", daemon=True)

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(timeout=30.0)
        if self.state.error:
            raise SoakAborted(f"the probe node did not start: {self.state.error}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)

    def events_since(self, wall: float) -> list[CommandEvent]:
        """The commands that arrived at or after ``wall``, oldest first (read from the newest
        back: the soak asks ten times a second while it waits)."""
        out = []
        with self._lock:
            for event in reversed(self.state.events):
                if event.wall < wall:
                    break
                out.append(event)
        out.reverse()
        return out

    def stop_causes(self, start: float, end: float) -> list[str]:
        """The bridge's stop causes reported between two wall times, each once, in order."""
        with self._lock:
            causes = [c for t, c in self.state.stop_causes if start <= t <= end and c]
        return list(dict.fromkeys(causes))

    def set_sim_parameter(self, name: str, value: bool, timeout: float = 10.0) -> str | None:
        """``ros2 param set gpc_sim name value``; returns why not, or None."""
        done: Future = Future()
        self._requests.put((name, value, done))
        try:
            return done.result(timeout=timeout)
        except TimeoutError:
            done.cancel()  # the probe stops resending it
            return f"setting {name} on gpc_sim timed out after {timeout:g} s"

    def _run(self) -> None:
        try:
            self._spin()
        except Exception as err:  # noqa: BLE001 - the soak's loop reports it
            self.state.error = f"{type(err).__name__}: {err}"
            self._ready.set()

    def _spin(self) -> None:
        import rclpy
        from rcl_interfaces.srv import SetParameters
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.parameter import Parameter
        from rclpy.qos import HistoryPolicy, QoSProfile, ReliabilityPolicy
        from rclpy.signals import SignalHandlerOptions
        from rosgraph_msgs.msg import Clock

        from gpc_msgs.msg import BridgeStatus, LocomotionCommand, SimStatus
        from gpc_sim.ros import qos, topics
        from gpc_sim.ros.convert import to_seconds

        context = rclpy.Context()
        # No rclpy signal handlers: Ctrl-C and SIGTERM are the soak's.
        rclpy.init(context=context, args=[], signal_handler_options=SignalHandlerOptions.NO)
        node = rclpy.create_node("gpc_soak_probe", namespace=self.namespace or "/",
                                 context=context)
        # Best effort (matches any publisher), deep enough not to lose commands while this
        # process's other thread holds the GIL.
        deep = QoSProfile(depth=200, history=HistoryPolicy.KEEP_LAST,
                          reliability=ReliabilityPolicy.BEST_EFFORT)
        state = self.state

        def on_clock(msg: Clock) -> None:
            state.sim_now = to_seconds(msg.clock)

        def on_command(msg: LocomotionCommand) -> None:
            event = CommandEvent(time.monotonic(), state.sim_now, to_seconds(msg.header.stamp),
                                 int(msg.plan_id), max(abs(msg.vx), abs(msg.vy),
                                                       abs(msg.yaw_rate)), msg.valid_for)
            with self._lock:
                state.events.append(event)

        def on_bridge(msg: BridgeStatus) -> None:
            state.bridge_following = bool(msg.following)
            with self._lock:
                if not state.stop_causes or state.stop_causes[-1][1] != msg.stop_cause:
                    state.stop_causes.append((time.monotonic(), msg.stop_cause))

        def on_sim(msg: SimStatus) -> None:
            state.chair_distance = msg.position_error

        node.create_subscription(Clock, topics.CLOCK, on_clock, deep)
        node.create_subscription(LocomotionCommand, topics.LOCOMOTION_COMMAND, on_command, deep)
        node.create_subscription(BridgeStatus, topics.BRIDGE_STATUS, on_bridge, qos.RELIABLE)
        node.create_subscription(SimStatus, topics.SIM_STATUS, on_sim, qos.RELIABLE)
        client = node.create_client(SetParameters, "gpc_sim/set_parameters")
        executor = SingleThreadedExecutor(context=context)
        executor.add_node(node)
        self._ready.set()
        # Setting a parameter is idempotent: a request or answer lost to discovery is sent
        # again (``RetriedCall``) instead of timing the fault out.
        pending: list[tuple[RetriedCall, Future, str]] = []
        try:
            while not self._stop.is_set():
                executor.spin_once(timeout_sec=0.02)
                while not self._requests.empty():
                    name, value, done = self._requests.get()
                    if not client.wait_for_service(timeout_sec=2.0):
                        done.set_result("the sim's parameter service is not there")
                        continue
                    request = SetParameters.Request(
                        parameters=[Parameter(name, value=value).to_parameter_msg()])
                    pending.append((RetriedCall(lambda r=request: client.call_async(r)),
                                    done, name))
                for item in list(pending):
                    call, done, name = item
                    if done.done():  # the caller gave up waiting
                        pending.remove(item)
                    elif call.poll():
                        pending.remove(item)
                        result = call.response.results[0]
                        done.set_result(None if result.successful else
                                        f"gpc_sim refused {name}: {result.reason}")
        finally:
            executor.shutdown()
            node.destroy_node()
            rclpy.try_shutdown(context=context)


class Soak:
    """One soak run (module docstring)."""

    def __init__(self, given: dict[str, str], settings: SoakSettings, run_dir: Path,
                 progress: bool = True) -> None:
        for name, value in (("lockstep", "false"), ("use_sim", "true")):
            if given.get(name, value) != value:
                raise ConfigError(f"the soak runs the simulated graph in real time: "
                                  f"{name}:={given[name]} is not possible")
        if "duration" in given:
            raise ConfigError("the soak runs the sim forever: give the run's wall time as "
                              "its duration, not duration:=", setting="duration")
        # A soak judges how the graph stops and resumes a robot it is driving: a planner
        # that held at the goal would leave it standing for most of the run (the chair is
        # there within a minute), so it plans on unless told otherwise.
        given = {"hold_at_goal": "false", **given, "rviz": "false"}
        self.args, self.params_file, nodes = plan_spot_push(given)
        self.settings = settings
        self.run_dir = run_dir
        self.progress = progress
        self.limits = bridge_limits(self.params_file)
        self.bound_s = self.limits["command_timeout"] + self.limits["valid_for"]
        self.schedule = F.fault_schedule(
            settings.seed, settings.faults, settings.fault_start_s,
            settings.duration_s - settings.min_gap_s, settings.min_gap_s, settings.kinds,
            settings.down_s)
        run_dir.mkdir(parents=True, exist_ok=True)
        overrides = run_dir / "overrides.yaml"
        overrides.write_text(yaml.safe_dump(overrides_document(nodes), sort_keys=False))
        env = dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
                   PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1",
                   **{LAUNCHER_PID_ENV: str(os.getpid())})
        self.runners: dict[str, NodeRunner] = {}
        for node in nodes:
            exe = find_executable(node.package, node.executable)
            if exe is None:
                raise ConfigError(f"executable {node.executable} of {node.package} not found "
                                  "(run bash scripts/setup.sh, then source env.sh)")
            command = node_command(node, exe, self.params_file, str(overrides),
                                   self.args["namespace"])
            self.runners[node.name] = NodeRunner(node, command,
                                                 run_dir / f"{node.name}.log", env)
        self.probe = Probe(self.args["namespace"])
        self.samples = SampleLog(run_dir / "samples.csv")
        self.logs = LogWatch()
        self.records: list[dict] = []
        self.crashes: list[dict] = []
        self.log_problems: list[str] = []
        self._fault_problems: list[str] | None = None  # collects while a fault is judged
        self._last_cpu: dict[int, tuple[float, float]] = {}
        self._next_sample = 0.0
        self._t0 = time.monotonic()
        self._bar = None
        self._status = "starting"
        self.shm_mb = {"start": fastdds_shm_mb()}
        self._last_rss: dict[str, float] = {}

    # --- time and the regular work ------------------------------------------------------
    def elapsed(self) -> float:
        return time.monotonic() - self._t0

    def _tick(self) -> None:
        """The work of every moment: crashes, samples, the progress bar."""
        if self.probe.state.error:
            raise SoakAborted(f"the probe node stopped: {self.probe.state.error}")
        for runner in self.runners.values():
            if runner.down or runner.alive():
                continue
            code = runner.proc.returncode if runner.proc is not None else None
            crash = {"node": runner.name, "exit_code": code, "at_s": round(self.elapsed(), 1),
                     "start": runner.starts, "log_tail": _tail(runner.log)}
            self.crashes.append(crash)
            problem = f"{runner.name} exited by itself with code {code}"
            print(f"\n[soak] {problem}; the end of its log:\n{crash['log_tail']}",
                  file=sys.stderr, flush=True)
            if self._fault_problems is not None:
                self._fault_problems.append(problem)
            if sum(c["node"] == runner.name for c in self.crashes) >= MAX_UNASKED_EXITS:
                raise SoakAborted(f"{runner.name} exited by itself {MAX_UNASKED_EXITS} times "
                                  "(a crash loop): giving up")
            runner.start(self.elapsed())
        if self.elapsed() >= self._next_sample:
            self._sample()
            self._next_sample = self.elapsed() + self.settings.sample_every_s
        if self._bar is not None:
            self._bar.n = min(self.elapsed(), self.settings.duration_s)
            self._bar.postfix = self._postfix()
            self._bar.refresh()

    def _sleep(self, seconds: float, until=None) -> bool:
        """Tick for ``seconds`` or until ``until()``; returns whether ``until`` came true."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if until is not None and until():
                return True
            self._tick()
            time.sleep(TICK)
        return until is not None and until()

    def _sample(self) -> None:
        now = self.elapsed()
        rows = []
        for runner in self.runners.values():
            if not runner.alive():
                continue
            pid = runner.proc.pid
            got = read_proc(pid)
            if got is None:
                continue
            before = self._last_cpu.get(pid)
            self._last_cpu[pid] = (now, got.cpu_s)
            cpu = cpu_percent(before, (now, got.cpu_s)) if before else math.nan
            rows.append(Sample(now, runner.name, pid, runner.starts, got.rss_mb, cpu,
                               got.state))
        self.samples.write(rows)
        self._last_rss = {r.node: r.rss_mb for r in rows}

    def _postfix(self) -> str:
        done = len(self.records)
        ok = sum(r["survived"] for r in self.records)
        stops = [r["stop_s"] for r in self.records
                 if r["stop_s"] is not None and not r["robot_killed"]]
        text = f" faults {done}/{len(self.schedule)} ok {ok}"
        if stops:
            text += f", stop max {max(stops):.2f} s"
        if self._last_rss:
            text += ", RSS " + " ".join(f"{n.split('_')[-1]} {v:.0f}"
                                        for n, v in self._last_rss.items())
        return text + f", {self._status}"

    # --- the robot ----------------------------------------------------------------------
    def _driven_since(self, wall: float) -> bool:
        """Whether the robot got a command that follows a plan after ``wall``."""
        return any(e.plan_id > 0 and accepted(e, DEFAULT_FUTURE_TOLERANCE)
                   for e in self.probe.events_since(wall))

    # --- a fault ------------------------------------------------------------------------
    def _inject(self, fault: F.Fault) -> dict:
        target = self.runners[F.TARGET[fault.kind]]
        self._status = f"fault {fault.index + 1}: waiting for the robot to move"
        driven = self._sleep(FOLLOWING_WAIT, lambda: self._driven_since(time.monotonic()
                                                                         - 0.5))
        self.log_problems += self.logs.new_problems(self._logs())  # before this fault
        self._fault_problems = []
        self._status = f"fault {fault.index + 1}: {fault.kind}"
        fault_wall, fault_sim = time.monotonic(), self.probe.state.sim_now
        injected_s = self.elapsed()
        if fault.kind in F.KILLS:
            target.kill()
            self._sleep(fault.down_s)
            target.start(self.elapsed())
        elif fault.kind == F.FREEZE_PLANNER:
            target.freeze(True)
            try:
                self._sleep(fault.down_s)
            finally:
                target.freeze(False)
        else:  # mocap dropout
            problem = self.probe.set_sim_parameter("mocap_blackout", True)
            if problem is not None:
                self._fault_problems.append(f"could not start the dropout: {problem}")
            self._sleep(fault.down_s)
            problem = self.probe.set_sim_parameter("mocap_blackout", False)
            if problem is not None:
                self._fault_problems.append(f"could not end the dropout: {problem}")
        back_wall, back_sim = time.monotonic(), self.probe.state.sim_now
        self._status = f"fault {fault.index + 1}: {fault.kind}, waiting for the graph"
        self._sleep(self.settings.resume_timeout_s, lambda: self._driven_since(back_wall))
        self._sleep(SETTLE_S)
        problems = self._fault_problems + self.logs.new_problems(self._logs())
        problems += [f"{r.name} is not running" for r in self.runners.values()
                     if not r.alive()]
        self._fault_problems = None
        events = self.probe.events_since(fault_wall - 10.0)
        verdict = judge(events, fault.kind == F.KILL_SIM, fault_wall, fault_sim, back_wall,
                        back_sim, self.bound_s, DEFAULT_FUTURE_TOLERANCE, problems)
        evidence = write_events(self.run_dir / "faults" / f"fault_{fault.index + 1:02d}_"
                                f"{fault.kind}.csv", events, fault_wall, fault_sim)
        record = {**fault.as_dict(), "injected_s": round(injected_s, 2),
                  "robot_driven_before": driven, "robot_killed": fault.kind == F.KILL_SIM,
                  "was_moving": verdict.was_moving,
                  "stop_s": _round(verdict.stop_s), "stop_wall_s": _round(verdict.stop_wall_s),
                  "resume_s": _round(verdict.resume_s), "survived": verdict.survived,
                  "problems": verdict.problems,
                  "bridge_stop_causes": self.probe.stop_causes(fault_wall, back_wall + 1.0),
                  "events": str(evidence)}
        self.records.append(record)
        stop = ("the robot died with the sim" if fault.kind == F.KILL_SIM else
                f"stop {_text(verdict.stop_s)} (wall {_text(verdict.stop_wall_s)})")
        line = (f"[soak] fault {fault.index + 1}/{len(self.schedule)} {fault.kind} at "
                f"{injected_s:.0f} s ({fault.down_s:.1f} s): {stop}, resumed after "
                f"{_text(verdict.resume_s)}: "
                + ("survived" if verdict.survived else "FAILED: " + "; ".join(verdict.problems)))
        self._print(line)
        self._write_summary(interrupted=False, final=False)
        self._status = "running"
        return record

    def _logs(self) -> dict[str, Path]:
        return {name: r.log for name, r in self.runners.items()}

    def _print(self, line: str) -> None:
        if self._bar is not None:
            self._bar.write(line)
        else:
            print(line, flush=True)

    # --- the run ------------------------------------------------------------------------
    def run(self) -> int:
        """Run the soak; returns the exit status (0: every fault survived, no crash, memory
        within bounds; 1: not; 130: interrupted)."""
        interrupted, failed = False, None
        s = self.settings
        print(f"[soak] spot_push for {s.duration_s:g} s, {len(self.schedule)} faults "
              f"({', '.join(s.kinds)}), seed {s.seed}; robot stop bound {self.bound_s:g} s "
              f"(command_timeout {self.limits['command_timeout']:g} + valid_for "
              f"{self.limits['valid_for']:g}); ROS_DOMAIN_ID "
              f"{os.environ.get('ROS_DOMAIN_ID', '0')}; output in {self.run_dir}", flush=True)
        try:
            self.probe.start()
            self._t0 = time.monotonic()
            for runner in self.runners.values():
                runner.start(self.elapsed())
            if self.progress:
                from tqdm import tqdm

                self._bar = tqdm(total=s.duration_s, unit="s", dynamic_ncols=True,
                                 bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s "
                                 "[{elapsed}]{postfix}")
            self._status = "waiting for the graph to drive the robot"
            if not self._sleep(READY_TIMEOUT, lambda: self._driven_since(self._t0)):
                raise SoakAborted(f"the graph did not drive the robot within "
                                  f"{READY_TIMEOUT:g} s")
            self._status = "running"
            for fault in self.schedule:
                self._sleep(self._t0 + fault.at_s - time.monotonic())
                if self.elapsed() >= s.duration_s:
                    break
                self._inject(fault)
            self._sleep(self._t0 + s.duration_s - time.monotonic())
        except KeyboardInterrupt:
            interrupted = True
            self._print("[soak] interrupted: stopping the nodes")
        except SoakAborted as err:
            failed = str(err)
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self._shutdown()
        if failed:
            print(f"[soak] {failed}", file=sys.stderr, flush=True)
        summary = self._write_summary(interrupted, final=True, aborted=failed)
        print(format_summary(summary), flush=True)
        if interrupted:
            return 130
        return 0 if summary["acceptance"]["passed"] and not failed else 1

    def _shutdown(self) -> None:
        self.log_problems += self.logs.new_problems(self._logs())  # while running
        for runner in self.runners.values():
            if runner.frozen:
                runner.freeze(False)  # a stopped process cannot take SIGINT
        procs = {n: r.proc for n, r in self.runners.items() if r.proc is not None}
        self.exit_codes = _stop(procs, {n: r.node for n, r in self.runners.items()})
        # Reported apart: the end of the run, not a fault's doing (nor counted against it).
        self.shutdown_log_problems = self.logs.new_problems(self._logs())
        self.probe.close()
        self.samples.close()
        self.shm_mb["end"] = fastdds_shm_mb()

    # --- outputs ------------------------------------------------------------------------
    def _write_summary(self, interrupted: bool, final: bool, aborted: str | None = None
                       ) -> dict:
        s = self.settings
        samples = read_samples(self.samples.path)
        memory = memory_growth(samples, s.warmup_s)
        figures = fault_figures(self.records)
        growths = [m["growth_mb"] for m in memory.values() if m["growth_mb"] is not None]
        stops = [r["stop_s"] for r in self.records
                 if r["stop_s"] is not None and not r["robot_killed"]]
        acceptance = {
            "faults_injected": len(self.records),
            "all_survived": all(r["survived"] for r in self.records),
            "stop_within_bound": all(x <= self.bound_s for x in stops),
            "no_unasked_exit": not self.crashes,
            "no_log_problem": not self.log_problems,
            "memory_growth_mb_max": max(growths) if growths else None,
            "memory_within_bound": (max(growths) <= s.max_growth_mb) if growths else None,
        }
        exits = getattr(self, "exit_codes", {})
        acceptance["clean_exit"] = all(code == 0 for code in exits.values()) if final else None
        acceptance["passed"] = bool(
            not aborted and not interrupted and acceptance["all_survived"]
            and acceptance["stop_within_bound"] and acceptance["no_unasked_exit"]
            and acceptance["no_log_problem"] and acceptance["memory_within_bound"] is not False
            and acceptance["clean_exit"] is not False)
        summary = {
            "scenario": "spot_push", "arguments": self.args, "params_file": self.params_file,
            "settings": {**asdict(s), "kinds": list(s.kinds), "down_s": list(s.down_s)},
            "run_dir": str(self.run_dir), "wall_time_s": round(self.elapsed(), 1),
            "final": final, "interrupted": interrupted, "aborted": aborted,
            "bound_s": self.bound_s, **{f"{k}_s": v for k, v in self.limits.items()},
            "faults": {"planned": len(self.schedule), **figures},
            "fault_log": self.records,
            "crashes": self.crashes, "log_problems": self.log_problems,
            "shutdown_log_problems": getattr(self, "shutdown_log_problems", []),
            "starts": {n: r.starts for n, r in self.runners.items()},
            # Fast DDS's shared-memory segments: a killed process leaves its own behind.
            "dev_shm_fastdds_mb": self.shm_mb,
            "memory_warmup_s": s.warmup_s, "memory": memory,
            # CPU after the start-up (imports, model loading), if the run lasted past it.
            "cpu": cpu_usage(samples, min(s.warmup_s, self.elapsed() / 2.0)),
            "acceptance": acceptance, "samples": str(self.samples.path),
        }
        if final:
            summary["exit_codes"] = getattr(self, "exit_codes", {})
            picture = self.run_dir / "memory.png"
            if samples:
                title = (f"gpc soak: {len(self.records)} faults, seed {s.seed}, "
                         f"{self.elapsed() / 60.0:.0f} min")
                summary["pictures"] = [str(plot_memory(samples, self.records, picture,
                                                       title))]
        write_json_atomic(self.run_dir / "summary.json", summary)
        return summary


def fastdds_shm_mb(root: Path = Path("/dev/shm")) -> float | None:
    """MB of Fast DDS shared-memory files in ``root`` (None where there is no such folder)."""
    try:
        files = list(root.glob("fastdds_*"))
    except OSError:
        return None
    total = 0
    for f in files:
        try:
            total += f.stat().st_size
        except OSError:
            continue  # removed meanwhile
    return round(total / 2**20, 1)


def write_events(path: Path, events: list[CommandEvent], fault_wall: float,
                 fault_sim: float) -> Path:
    """The locomotion commands around a fault, the evidence of its verdict: arrival (wall s
    from the fault; sim clock s from the fault), stamp, plan id, speed, validity."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["wall_from_fault_s,sim_from_fault_s,sim_s,stamp_s,plan_id,speed,valid_for_s"]
    for e in events:
        lines.append(f"{e.wall - fault_wall:.4f},{e.sim - fault_sim:.4f},{e.sim:.4f},"
                     f"{e.stamp:.4f},{e.plan_id},{e.speed:.5f},{e.valid_for:.3f}")
    write_atomic(path, ("\n".join(lines) + "\n").encode())
    return path


def format_summary(s: dict) -> str:
    """The summary for people: the fault counts and times, memory, the verdict."""
    f = s["faults"]
    lines = [f"soak: {s['wall_time_s']:.0f} s" + (" (interrupted)" if s["interrupted"] else "")
             + f"; faults injected {f['injected']} of {f['planned']}, survived "
             f"{f['survived']}; time to stop (sim clock) max {_text(f['stop_s_max'])}, median "
             f"{_text(f['stop_s_median'])} (bound {s['bound_s']:g} s; wall max "
             f"{_text(f['stop_wall_s_max'])}); resumed after median "
             f"{_text(f['resume_s_median'])}, max {_text(f['resume_s_max'])}"]
    for kind, k in f["by_kind"].items():
        lines.append(f"  {kind}: {k['survived']}/{k['injected']} survived, stop max "
                     f"{_text(k['stop_s_max'])}, resume max {_text(k['resume_s_max'])}")
    for node, m in s["memory"].items():
        warmup = s["memory_warmup_s"]
        growth = (f"growth not measured (no process lived past {warmup:g} s)"
                  if m["growth_mb"] is None else f"grew {m['growth_mb']:.1f} MB in the "
                  f"{m['measured_s']:.0f} s after its first {warmup:g} s")
        cpu = s["cpu"].get(node, {})
        lines.append(f"  {node}: RSS max {m['max_mb']:.0f} MB, {growth}; {m['processes']} "
                     f"process(es); CPU mean {cpu.get('mean_percent', math.nan):.0f} %")
    for crash in s["crashes"]:
        lines.append(f"  crash: {crash['node']} exited with {crash['exit_code']} at "
                     f"{crash['at_s']} s")
    for problem in s["log_problems"]:
        lines.append(f"  log: {problem}")
    for problem in s["shutdown_log_problems"]:
        lines.append(f"  log at the final shutdown (not counted): {problem}")
    lines.append(f"  acceptance: {'passed' if s['acceptance']['passed'] else 'NOT passed'}; "
                 f"summary {Path(s['run_dir']) / 'summary.json'}"
                 + "".join(f"; picture {p}" for p in s.get("pictures", [])))
    return "\n".join(lines)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _text(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
