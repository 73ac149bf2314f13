"""The sim node: the MuJoCo chair-push world standing in for the robot and the mocap system.

It steps ``ChairPushSimulation`` (Spot with its locomotion policy, the chair, the C-shaped
obstacle) with the bridge's ``spot/locomotion_command`` and publishes what the real system
would: ``rigid_bodies`` (torso and chair, with the mocap channel's rate, noise, latency and
dropout), ``joint_states`` (Spot's 19 joints), ``/clock`` (the simulation's time: every
other node runs with ``use_sim_time``), and the ground truth on ``sim/status``. For rviz
(``publish_tf``): ``/tf`` (map -> ``body`` and Spot's links, map -> ``chair``; the true
state, stamped with its sim time), ``/tf_static`` and ``sim/robot_markers``
(``gpc_sim.ros.tf_publisher``).

Two ways to run:

* real time (default): one command step (0.02 s) every 0.02 / ``realtime_factor`` wall
  seconds, whatever the planner does (it misses deadlines when slow, as on a robot);
* lock-step (``lockstep``): after publishing a mocap frame the simulation waits for the
  bridge's command that answers it (stamp >= the frame's, see ``gpc_msgs/LocomotionCommand``)
  before stepping, so a planner slower than real time still sees the world the way it
  would at its nominal rate, and a run is reproducible. At start it waits for the
  planner's first plan. A wait that runs out (``lockstep_timeout``) stops the robot,
  counts a ``lockstep_timeouts`` and goes on.

Services: ``sim/reset`` (trial ``trial`` of seed ``seed``, gpc eval's initial state; the
clock keeps running forward) and ``sim/pause`` (std_srvs/SetBool). One live parameter,
``mocap_blackout``: while set, no ``rigid_bodies`` frame goes out (the tracking system lost
every body) while the world, ``/clock`` and ``joint_states`` go on; unlike a pause, the
robot keeps executing its last command until it expires, as a real one would.

The goal: the latest on the latched goal topic (``goal_pose``, published by the planner and
by anything else that sets a goal), the task's default until one arrives. The ground truth's
errors, success and the start errors are measured against it (``gpc_sim.ros.goal``).

With ``duration`` and ``exit_on_finish`` (what both launchers set) the node ends by itself,
exit status 0, once the duration is reached and the record written: a launch ends with it.
It first publishes the finished status for a second, and until a subscriber of the status
has had it (at most 5 s more), so that a monitor that discovered the sim late still hears it.
"""

from __future__ import annotations

import math
import os
import threading
import time as wall

import numpy as np
import rclpy
from geometry_msgs.msg import PoseStamped
from rclpy.node import Node
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool

from gpc_msgs.msg import LocomotionCommand, SimStatus
from gpc_msgs.srv import ResetSim
from gpc_sim.errors import ConfigError
from gpc_sim.mocap import MocapChannel, MocapConfig
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import arrays_to_pose, to_seconds, to_stamp
from gpc_sim.ros.goal import goal_from_message, goal_text, same_goal
from gpc_sim.ros.model_shapes import model_shapes
from gpc_sim.ros.parameters import declare
from gpc_sim.ros.run import stop_node
from gpc_sim.ros.sim_params import SIM_PARAMETERS
from gpc_sim.ros.tf_frames import FrameTree
from gpc_sim.ros.tf_publisher import ModelFramePublisher
from gpc_sim.spot.constants import COMMAND_DT
from gpc_sim.spot.simulation import TORSO_BODY, ChairPushSimulation
from gpc_sim.spot.world import CHAIR_BODY
from gpc_sim.stamps import StampCheck, fresh_from
from gpc_sim.tasks import make_task
from mocap4r2_msgs.msg import RigidBodies, RigidBody

FINISH_LINGER = 1.0  # s of wall time the finished status is published before exit_on_finish
# s of wall time more that exit_on_finish waits for a subscriber of the status: a launcher's
# monitor whose discovery of the sim came late (a loaded machine) would otherwise never hear
# the finished status, and its summary would lack the sim's half.
FINISH_WAIT_FOR_LISTENER = 5.0
RESEND_PERIOD = 0.5  # s of wall time between re-sends of an unanswered lock-step frame
MAX_VALID_FOR = 2.0  # s: the longest a command keeps the simulated robot moving (the bridge's
# valid_for range); a larger one would defeat the robot-side stop
# What a record's ``commands`` rows hold: the applied LocomotionCommand, its stamp first.
COMMAND_FIELDS = ("stamp", "vx", "vy", "yaw_rate", "valid_for",
                  *(f"arm_joint_{i}" for i in range(6)))


class SimNode(Node):
    """ROS adapter of ``ChairPushSimulation`` and ``MocapChannel`` (module docstring)."""

    NAME = "gpc_sim"  # the default node name (launch files may rename it)

    def __init__(self) -> None:
        super().__init__(self.NAME)
        p = declare(self, SIM_PARAMETERS, apply=self._apply_parameters)
        self.p = p
        if p["task"] not in ("spot_chair", "spot_chair_avoid"):
            raise ConfigError(f"sim task must be spot_chair or spot_chair_avoid, got "
                              f"{p['task']!r}")
        self.mocap_config = MocapConfig(
            rate=min(p["mocap_rate"], 1.0 / COMMAND_DT), position_noise=p["mocap_position_noise"],
            yaw_noise=p["mocap_yaw_noise"], latency=p["mocap_latency"],
            dropout=p["mocap_dropout"])
        self.sim = ChairPushSimulation(make_task(p["task"], nthread=1), p["seed"], p["trial"])
        self.mocap = MocapChannel(self.mocap_config, seed=self._mocap_seed())
        self._names = {TORSO_BODY: p["torso_body"], CHAIR_BODY: p["chair_body"]}

        self._lock = threading.Condition()
        self._command: LocomotionCommand | None = None
        self._command_stamp = -math.inf
        self._command_expiry = -math.inf
        self._stamps = StampCheck()
        self._planner_seen = False  # a command that follows a plan arrived (lock-step start)
        self._answered = True  # the last lock-step wait was answered in time
        self.paused = bool(p["start_paused"])
        self.finished = False
        self._exit_at = math.inf  # wall time to end at (exit_on_finish, once finished)
        self._finish_heard = False  # the finished status went out to a matched subscriber
        self.lockstep_timeouts = 0
        self._next_status = 0.0
        self._running = True
        self._frame: tuple[Clock, JointState, list[RigidBodies]] = (Clock(), JointState(), [])
        self._recorded: list[np.ndarray] = [self.sim.state()] if p["record"] else []
        self._applied: list[np.ndarray] = []  # per step: the command applied (NaN: none new)
        self._start_errors = self._errors()

        self.clock_pub = self.create_publisher(Clock, topics.CLOCK, qos.RELIABLE)
        # A driver's sensor data: reliable (REP 2003; consumers subscribe best effort).
        self.bodies_pub = self.create_publisher(RigidBodies, topics.RIGID_BODIES, qos.DRIVER)
        self.joints_pub = self.create_publisher(JointState, topics.JOINT_STATES, qos.DRIVER)
        self.status_pub = self.create_publisher(SimStatus, topics.SIM_STATUS, qos.RELIABLE)
        self.create_subscription(LocomotionCommand, topics.LOCOMOTION_COMMAND,
                                 self._on_command, qos.STREAM)
        self.create_subscription(PoseStamped, topics.GOAL, self._on_goal, qos.LATCHED)
        self.create_service(ResetSim, topics.RESET_SIM, self._on_reset)
        self.create_service(SetBool, topics.PAUSE_SIM, self._on_pause)
        self.frames = self._frame_publisher() if p["publish_tf"] else None
        self._thread = threading.Thread(target=self._loop, name="sim-loop", daemon=True)
        mode = "lock-step" if p["lockstep"] else f"real time x{p['realtime_factor']:g}"
        truth = self.sim.truth()
        self.get_logger().info(
            f"chair push, trial {p['trial']} of seed {p['seed']}, {mode}; chair "
            f"{truth.position_error:.2f} m / {math.degrees(truth.yaw_error):.0f} deg from the "
            f"goal; mocap {self.mocap_config.rate:g} Hz")
        self._thread.start()

    def _frame_publisher(self) -> ModelFramePublisher:
        """TF of every body (Spot's frames with ``tf_prefix``) and the shapes of Spot and
        the chair, drawn on those frames."""
        tree = FrameTree(self.sim.model, self.p["frame_id"], {TORSO_BODY: self.p["tf_prefix"]})
        shapes = model_shapes(tree, {TORSO_BODY: "robot", CHAIR_BODY: "chair"})
        return ModelFramePublisher(self, tree, shapes, self.p["tf_rate"], self.sim.time)

    def _apply_parameters(self, changes: dict) -> None:
        """The live parameter (``mocap_blackout``) takes effect from the next frame."""
        with self._lock:
            self.p.update(changes)
        self.get_logger().info("parameters set: " + ", ".join(
            f"{name} = {value}" for name, value in changes.items()))

    def _mocap_seed(self) -> int:
        """The mocap noise stream of this trial: the same run gives the same noise."""
        seq = np.random.SeedSequence([self.sim.seed, self.sim.trial, 0x3C4])
        return int(seq.generate_state(1)[0])

    # --- callbacks (executor thread) ------------------------------------------------------
    def _on_command(self, msg: LocomotionCommand) -> None:
        stamp = to_seconds(msg.header.stamp)
        velocity = (msg.vx, msg.vy, msg.yaw_rate, msg.valid_for)
        if not all(math.isfinite(v) for v in velocity) or msg.valid_for < 0.0:
            self.get_logger().warning("refused a locomotion command with NaN/inf", once=True)
            return
        with self._lock:
            now = self.sim.time
            problem = self._stamps.problem(stamp, now, "locomotion command")
            if problem is not None:
                self.get_logger().warning(problem, throttle_duration_sec=2.0)
                return
            if stamp >= self._command_stamp:
                self._command, self._command_stamp = msg, stamp
                # The robot stops by itself valid_for after the command, counted as a real
                # Spot counts it: from no later than its arrival, for at most MAX_VALID_FOR.
                self._command_expiry = fresh_from(stamp, now) + min(msg.valid_for,
                                                                    MAX_VALID_FOR)
            self._planner_seen = self._planner_seen or msg.plan_id > 0
            self._lock.notify_all()

    def _on_goal(self, msg: PoseStamped) -> None:
        """A new goal: errors, success and the start errors are measured against it."""
        goal, problem = goal_from_message(msg, self.p["frame_id"])
        if problem is not None:
            self.get_logger().warning(problem, throttle_duration_sec=2.0)
            return
        with self._lock:
            if same_goal(goal, tuple(float(v) for v in self.sim.task.goal)):
                return
            self.sim.task.set_goal(goal)
            start = self.sim.task.metrics(self.sim.start_state)
            self._start_errors = start["position_error"], start["yaw_error"]
            self.sim.success_time = math.nan  # a success was one at the old goal
            self._next_status = self.sim.time
        self.get_logger().info(f"goal set to {goal_text(goal)}: chair "
                               f"{start['position_error']:.2f} m from it at the start")

    def _on_reset(self, request: ResetSim.Request, response: ResetSim.Response):
        with self._lock:
            self.sim.reset(request.seed, request.trial, time=self.sim.time)
            self.mocap = MocapChannel(self.mocap_config, seed=self._mocap_seed())
            self._command, self._command_stamp = None, -math.inf
            self.finished = False
            self._exit_at, self._finish_heard = math.inf, False
            self.lockstep_timeouts = 0
            self._next_status = self.sim.time
            if self.p["record"]:
                self._recorded = [self.sim.state()]
                self._applied = []
            self._start_errors = self._errors()
            truth = self.sim.truth()
            self._lock.notify_all()
        response.success = True
        response.message = (f"trial {request.trial} of seed {request.seed}: chair "
                            f"{truth.position_error:.2f} m from the goal")
        self.get_logger().info(response.message)
        return response

    def _on_pause(self, request: SetBool.Request, response: SetBool.Response):
        with self._lock:
            self.paused = bool(request.data)
            self._lock.notify_all()
        response.success = True
        response.message = "paused" if request.data else "running"
        return response

    # --- the simulation loop (its own thread) -------------------------------------------
    def _loop(self) -> None:
        try:
            self._run()
        except Exception as err:  # noqa: BLE001 - a dead loop must say why, not vanish
            if self._running and rclpy.ok(context=self.context):
                stop_node(self, f"simulation loop stopped: {type(err).__name__}: {err}")

    def _run(self) -> None:
        period = COMMAND_DT / self.p["realtime_factor"]
        deadline = wall.monotonic()
        idle_status = 0.0
        while self._running and rclpy.ok(context=self.context):
            with self._lock:
                idle = self.paused or self.finished
            if idle:  # paused or finished: the clock and (2 Hz) the status go on
                if self._ready_to_end(wall.monotonic()):
                    self._end()
                    return
                self._publish_clock()
                if wall.monotonic() >= idle_status:
                    listeners = self.status_pub.get_subscription_count()
                    self._publish_status(force=True)
                    self._finish_heard |= self.finished and listeners > 0
                    idle_status = wall.monotonic() + 0.5
                wall.sleep(0.05)
                deadline = wall.monotonic()
                continue
            idle_status = 0.0
            frame_stamp = self._publish_frame()
            if self.p["lockstep"]:
                self._wait_for_answer(frame_stamp)
            else:
                deadline += period
                delay = deadline - wall.monotonic()
                if delay > 0.0:
                    wall.sleep(delay)
                else:
                    deadline = wall.monotonic()  # fell behind: do not try to catch up
            with self._lock:
                applied = self._apply_command()
                self.sim.step()
                if self.p["record"]:
                    self._recorded.append(self.sim.state())
                    self._applied.append(applied)
                if self.p["duration"] > 0.0 and self._elapsed() >= self.p["duration"] - 1e-9:
                    self.finished = True
                    self.get_logger().info(self._summary_line())
            if self.finished:
                self._write_record()
                if self.p["exit_on_finish"]:
                    self._exit_at = wall.monotonic() + FINISH_LINGER

    def _ready_to_end(self, now: float) -> bool:
        """exit_on_finish: the linger is over and a subscriber has had the finished status
        (or none came within ``FINISH_WAIT_FOR_LISTENER`` s more: nobody is listening)."""
        if now < self._exit_at:
            return False
        if self._finish_heard:
            return True
        if now >= self._exit_at + FINISH_WAIT_FOR_LISTENER:
            self.get_logger().info("no subscriber of the sim status heard the finished status; "
                                   "ending without one")
            return True
        return False

    def _end(self) -> None:
        """exit_on_finish: end the node (status 0) after the finished status went out."""
        self.get_logger().info("duration reached: shutting down (exit_on_finish)")
        rclpy.try_shutdown(context=self.context)

    def _elapsed(self) -> float:
        return self.sim.time - self.sim.start_time

    def _wait_for_answer(self, frame_stamp: float | None) -> None:
        """Lock-step: wait for the planner's first plan, then for the frame's answer.

        The frame is re-sent every ``RESEND_PERIOD`` while waiting: mocap and commands are
        best effort, and a node that came up after the frame was sent never saw it.
        """
        with self._lock:
            if not self._planner_seen:
                self.get_logger().info("lock-step: waiting for the planner's first plan")
                if not self._wait(lambda: self._planner_seen,
                                  self.p["lockstep_start_timeout"]):
                    self.get_logger().warning("lock-step: no plan arrived; starting without one")
                    self._planner_seen = True
            if frame_stamp is None:
                return
            # After a wait ran out, the next ones are short until answers come again: a dead
            # planner costs the bridge's watchdog time (0.5 s of sim) in short waits.
            timeout = self.p["lockstep_timeout"] if self._answered else min(
                self.p["lockstep_timeout"], RESEND_PERIOD)
            self._answered = self._wait(lambda: self._command_stamp >= frame_stamp - 1e-9,
                                        timeout)
            if not self._answered:
                self.lockstep_timeouts += 1
                self.sim.stop()
                self._command = None
                self.get_logger().warning(
                    f"lock-step: no command answered the frame at {frame_stamp:.2f} s within "
                    f"{timeout:g} s; robot stopped ({self.lockstep_timeouts} so far)",
                    throttle_duration_sec=5.0)

    def _wait(self, answered, timeout: float) -> bool:
        """Wait (holding ``_lock``) until ``answered()``, re-sending the frame meanwhile.

        Returns False on timeout; True also when the node stops or is paused."""
        end = wall.monotonic() + timeout
        done = lambda: answered() or not self._running or self.paused  # noqa: E731
        while not done():
            left = end - wall.monotonic()
            if left <= 0.0:
                return False
            if not self._lock.wait_for(done, timeout=min(RESEND_PERIOD, left)):
                self._lock.release()
                try:
                    self._send(self._frame)
                finally:
                    self._lock.acquire()
        return True

    def _apply_command(self) -> np.ndarray:
        """Hand the newest command to the simulation; returns it as COMMAND_FIELDS (a record).

        NaN where no new command arrived: the simulation holds the last until it expires."""
        msg = self._command
        if msg is None:
            return np.full(len(COMMAND_FIELDS), np.nan)
        self.sim.command(np.array([msg.vx, msg.vy, msg.yaw_rate]),
                         np.asarray(msg.arm_joints, dtype=np.float64), self._command_expiry)
        self._command = None  # applied once; the simulation holds it until it expires
        return np.array([self._command_stamp, msg.vx, msg.vy, msg.yaw_rate, msg.valid_for,
                         *msg.arm_joints], dtype=np.float64)

    def _publish_clock(self) -> None:
        self.clock_pub.publish(Clock(clock=to_stamp(self.sim.time)))

    def _publish_frame(self) -> float | None:
        """Clock, joint states, the mocap frames due now and (at its rate) the status.

        Returns the newest mocap frame's stamp published, None if none was due."""
        with self._lock:
            t = self.sim.time
            names, q, v = self.sim.joints()
            self.mocap.capture(t, self.sim.body_poses())
            frames = self.mocap.deliver(t)
            if self.p["mocap_blackout"]:
                frames = []  # captured and lost: none is delivered late after the outage
            tf_due = self.frames is not None and self.frames.due(t)
            qpos = self.sim.data.qpos.copy() if tf_due else None
        joints = JointState(name=list(names), position=q.tolist(), velocity=v.tolist())
        joints.header.stamp = to_stamp(t)
        bodies = []
        for frame in frames:
            msg = RigidBodies(frame_number=frame.number)
            msg.header.stamp = to_stamp(frame.stamp)
            msg.header.frame_id = self.p["frame_id"]
            for body, (pos, quat) in frame.bodies.items():
                msg.rigidbodies.append(RigidBody(rigid_body_name=self._names[body],
                                                 pose=arrays_to_pose(pos, quat)))
            bodies.append(msg)
        self._frame = (Clock(clock=to_stamp(t)), joints, bodies[-1:])
        self._send((self._frame[0], joints, bodies))
        if qpos is not None:
            self.frames.publish(t, qpos)
        self._publish_status()
        return frames[-1].stamp if frames else None

    def _send(self, frame: tuple[Clock, JointState, list[RigidBodies]]) -> None:
        """Publish a frame: the clock first, then the joints, then the mocap (the planner
        plans on mocap and reads the newest joints then)."""
        clock, joints, bodies = frame
        self.clock_pub.publish(clock)
        self.joints_pub.publish(joints)
        for msg in bodies:
            self.bodies_pub.publish(msg)

    def _publish_status(self, force: bool = False) -> None:
        with self._lock:
            t = self.sim.time
            if not force and t < self._next_status - 1e-9:
                return
            self._next_status = t + 1.0 / self.p["status_rate"]
            truth = self.sim.truth()
            msg = SimStatus(step=truth.step, seed=self.sim.seed, trial=self.sim.trial,
                            paused=self.paused, finished=self.finished,
                            lockstep_timeouts=self.lockstep_timeouts)
            msg.goal_x, msg.goal_y, msg.goal_yaw = (float(v) for v in self.sim.task.goal)
        msg.header.stamp = to_stamp(t)
        msg.header.frame_id = self.p["frame_id"]
        msg.torso_x, msg.torso_y, msg.torso_yaw = truth.torso
        msg.torso_height = truth.torso_height
        msg.chair_x, msg.chair_y, msg.chair_yaw = truth.chair
        msg.chair_tilt = truth.chair_tilt
        msg.position_error, msg.yaw_error = truth.position_error, truth.yaw_error
        msg.start_position_error, msg.start_yaw_error = self._start_errors
        msg.success = truth.success
        msg.success_time = truth.success_time - self.sim.start_time
        msg.fallen, msg.tipped, msg.diverged = truth.fallen, truth.tipped, truth.diverged
        self.status_pub.publish(msg)

    def _errors(self) -> tuple[float, float]:
        truth = self.sim.truth()
        return truth.position_error, truth.yaw_error

    def _summary_line(self) -> str:
        truth = self.sim.truth()
        reached = ("never reached" if math.isnan(truth.success_time) else
                   f"reached at {truth.success_time - self.sim.start_time:.1f} s")
        return (f"finished after {self._elapsed():.1f} s of sim time: chair "
                f"{truth.position_error:.2f} m / {math.degrees(truth.yaw_error):.0f} deg from "
                f"the goal, goal {reached}")

    def _write_record(self) -> None:
        """The states since the last reset to ``record`` (atomically: a file there is whole).

        ``states``: (steps + 1, state size), the start then every command step; ``commands``:
        (steps, len(COMMAND_FIELDS)), the locomotion command applied before each step."""
        path = self.p["record"]
        if not path:
            return
        with self._lock:
            states = np.asarray(self._recorded)
            commands = np.asarray(self._applied).reshape(-1, len(COMMAND_FIELDS))
            seed, trial = self.sim.seed, self.sim.trial
            goal = np.array(self.sim.task.goal, dtype=np.float64)
        tmp = f"{path}.tmp.npz"
        np.savez_compressed(tmp, states=states, commands=commands,
                            command_fields=np.array(COMMAND_FIELDS), seed=seed, trial=trial,
                            task=self.p["task"], goal=goal)
        os.replace(tmp, path)

    def shutdown(self) -> None:
        with self._lock:
            self._running = False
            self._lock.notify_all()
        self._thread.join(timeout=5.0)
        if not self.finished:
            self._write_record()


def main(args: list[str] | None = None) -> int:
    """Console entry point ``sim_node``."""
    from gpc_sim.ros.run import node_main

    return node_main(SimNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
