"""The planner node: state estimate -> the configured method -> the 9-DoF command.

Thin adapter around the core (``SpotStateEstimator``, ``OnlinePlanner`` over any registered
method's ``SamplingPlanner``):

* ``rigid_bodies`` + ``joint_states`` feed the estimator. Every mocap frame is answered
  with a ``gpc/command`` read from the plan in force at the frame's time, unless a
  replanning step is due for it and ``synchronous`` (lock-step) is set, in which case the
  planning thread answers it with the new plan.
* Planning runs on its own thread (the rollouts release the GIL), at most once per
  replanning period, from the newest frame: subscriptions, services and command output are
  never blocked by it. A plan that overruns the period is a deadline miss; the previous
  plan kept being executed meanwhile, time-shifted (``OnlinePlanner.target_at``).
* Stale or invalid state (old frames, NaN, a jump) or a disabled planner: the command is a
  hold (stand where last seen, arm where it is) and ``gpc/status`` says why. So is a plan
  with a non-finite number, a planning step that failed, and a plan in force older than
  ``plan_timeout`` (a stalled planning thread must not keep the robot on its old plan
  under fresh stamps). A planning thread that dies ends the node (non-zero exit).
* Time: every incoming stamp is checked against the node's clock (``gpc_sim.stamps``): a
  frame from the future is ignored, never answered, so it cannot push its stamp into the
  commands. Commands are stamped with the node's own clock in real time, and in lock-step
  with the frame they answer (which passed that check). A clock that jumps back (the
  simulation, which is the clock, restarted: ``gpc_sim.stamps.ClockWatch``) is a new
  episode: the planner forgets its frames, its plan and its warm start as ``gpc/reset``
  does, and a plan that was being made meanwhile is never sent.
* Parameters: read-only, or live (``enabled``, ``goal``, the estimate's limits,
  ``future_tolerance``, ``plan_timeout``, ``visual_samples``): ``ros2 param set`` on those
  takes effect at once or is refused with the reason. ``enabled`` is false by default (a
  real robot's planner waits for ``gpc/enable``); the launchers set it in simulation.
* The goal: one, on the latched goal topic ``goal_pose`` (``gpc_sim.ros.goal``). The
  planner publishes its ``goal`` there at start and whenever it changes (the parameter,
  ``gpc/set_goal``), and takes a goal published by anyone else (rviz's goal tool) through
  the parameter, so that the sim and the launcher's summary measure the same goal it plans
  for.
* At the goal (``hold_at_goal``, on by default): once the chair is at the goal the planner
  stops pushing and holds (status ``at goal``), and plans again only after the chair has
  been off the goal for ``goal_hold_dwell`` seconds in a row, or at a new goal, a reset or
  a new episode (``gpc_planner.goal_hold``).
* Deadline misses are counted against the node's clock (``OnlinePlanner``'s ``clock``): in
  lock-step the sim's clock waits for each plan, so a plan is never late there.

Outputs besides the command: ``gpc/status`` after every decision, ``gpc/plan`` (knots and the
best samples), ``gpc/plan_path`` and ``gpc/plan_markers`` for rviz, ``gpc/scene_markers``
(goal, obstacle, the estimated torso and chair), ``/diagnostics`` with plan-time statistics
and deadline misses. Services: ``gpc/set_goal``, ``gpc/reset``, ``gpc/enable``
(std_srvs/SetBool).
"""

from __future__ import annotations

import dataclasses
import math
import threading

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Path
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import JointState
from std_srvs.srv import SetBool
from visualization_msgs.msg import MarkerArray

from gpc_msgs.msg import HighLevelCommand, Plan, PlannerStatus
from gpc_msgs.srv import ResetPlanner, SetGoal
from gpc_planner.goal_hold import GoalHold, check_dwell
from gpc_planner.methods import build_planner
from gpc_planner.online import NonFinitePlanError, OnlinePlanner
from gpc_planner.planner import PlanResult
from gpc_planner.registry import needs_model
from gpc_planner.ros import markers
from gpc_planner.ros.planner_params import PLANNER_PARAMETERS
from gpc_planner.scheduling import ReplanScheduler, SchedulerConfig
from gpc_sim.errors import ConfigError
from gpc_sim.ros import qos, topics
from gpc_sim.ros.convert import clock_seconds, pose_to_arrays, to_seconds, to_stamp
from gpc_sim.ros.goal import goal_from_message, goal_message, goal_text, same_goal
from gpc_sim.ros.parameters import Value, declare
from gpc_sim.ros.run import stop_node
from gpc_sim.spot.estimation import Estimate, EstimatorConfig, SpotStateEstimator
from gpc_sim.spot.task import SpotChairTask
from gpc_sim.stamps import ClockWatch
from gpc_sim.tasks import make_task
from mocap4r2_msgs.msg import RigidBodies

SPOT_TASKS = ("spot_chair", "spot_chair_avoid")
JOINT_WAIT = 0.2  # s of wall time a synchronous frame waits for its joint states


class PlannerNode(Node):
    """ROS adapter of the online planner (module docstring)."""

    NAME = "gpc_planner"  # the default node name (launch files may rename it)

    def __init__(self) -> None:
        super().__init__(self.NAME)
        p = declare(self, PLANNER_PARAMETERS, apply=self._apply_parameters)
        self.p = p
        if p["task"] not in SPOT_TASKS:
            raise ConfigError(f"the planner node plans the chair push ({', '.join(SPOT_TASKS)}"
                              f"), got task {p['task']!r}")
        goal = _goal(p["goal"])
        self.task: SpotChairTask = make_task(  # type: ignore[assignment]
            p["task"], nthread=p["threads"] or None, goal=goal,
            goal_distance=p["goal_distance"])
        planner = build_planner(
            self.task, p["method"], np.random.default_rng(p["seed"]),
            horizon=p["horizon"] or None, num_rollouts=p["rollouts"],
            model=p["model"] or None, flow_steps=p["flow_steps"] or None,
            flow_noise=p["flow_noise"] or None)  # 0: the model card's recommendation
        self.online = OnlinePlanner(planner, 1.0 / p["replan_rate"], clock=self._now,
                                    budget=self._budget(p))
        self.estimator = SpotStateEstimator(self.task, _estimator_config(p))
        self.goal_hold = GoalHold(p["goal_hold_dwell"])  # checks the dwell

        self._lock = threading.Lock()  # estimator, plan in force, scheduler, counters
        self._wake = threading.Condition(self._lock)
        self.schedule = ReplanScheduler(SchedulerConfig(
            1.0 / p["replan_rate"], p["synchronous"], p["plan_timeout"]))
        self._running = True
        self.enabled = bool(p["enabled"])
        self.commands_sent = 0
        self._last_valid: Estimate | None = None
        self._status = ("starting", "no state yet")
        self._clock_watch = ClockWatch()

        self.command_pub = self.create_publisher(HighLevelCommand, topics.COMMAND, qos.STREAM)
        self.status_pub = self.create_publisher(PlannerStatus, topics.PLANNER_STATUS,
                                                qos.RELIABLE)
        self.plan_pub = self.create_publisher(Plan, topics.PLAN, qos.RELIABLE)
        self.path_pub = self.create_publisher(Path, topics.PLAN_PATH, qos.RELIABLE)
        self.plan_markers_pub = self.create_publisher(MarkerArray, topics.PLAN_MARKERS,
                                                      qos.RELIABLE)
        self.scene_pub = self.create_publisher(MarkerArray, topics.SCENE_MARKERS, qos.LATCHED)
        self.diagnostics_pub = self.create_publisher(DiagnosticArray, topics.DIAGNOSTICS,
                                                     qos.RELIABLE)
        self.goal_pub = self.create_publisher(PoseStamped, topics.GOAL, qos.LATCHED)
        # Own groups: each stream in order, the two in parallel (a synchronous frame may wait
        # for its joint states, which must then still arrive).
        self._joints_seen = threading.Condition(self._lock)
        # Sensor data: best effort (REP 2003), so any driver's publisher matches.
        self.create_subscription(RigidBodies, topics.RIGID_BODIES, self._on_bodies,
                                 qos.SENSOR_DATA, callback_group=MutuallyExclusiveCallbackGroup())
        self.create_subscription(JointState, topics.JOINT_STATES, self._on_joints,
                                 qos.SENSOR_DATA, callback_group=MutuallyExclusiveCallbackGroup())
        services = MutuallyExclusiveCallbackGroup()  # may wait for a plan to finish
        self.create_subscription(PoseStamped, topics.GOAL, self._on_goal, qos.LATCHED,
                                 callback_group=services)
        self.create_service(SetGoal, topics.SET_GOAL, self._on_set_goal,
                            callback_group=services)
        self.create_service(ResetPlanner, topics.RESET_PLANNER, self._on_reset,
                            callback_group=services)
        self.create_service(SetBool, topics.ENABLE_PLANNER, self._on_enable,
                            callback_group=services)
        self.create_timer(1.0 / p["replan_rate"], self._on_tick)
        # Wall clock (steady), not sim time: a lock-stepped sim may run slower than real time.
        self.create_timer(1.0 / p["diagnostics_rate"], self._periodic,
                          clock=Clock(clock_type=ClockType.STEADY_TIME))
        self._publish_scene(None)
        self._publish_goal()
        self._thread = threading.Thread(target=self._loop, name="planning", daemon=True)
        self._thread.start()
        self.get_logger().info(
            f"{p['method']} on {p['task']}: {planner.optimizer.config.num_rollouts} rollouts x "
            f"{planner.spline.horizon:g} s at {p['replan_rate']:g} Hz"
            f"{', synchronous (lock-step)' if p['synchronous'] else ''}"
            f"{f', anytime budget {self.online.budget:g} s' if self.online.budget else ''}"
            f"; goal {goal}"
            f"{'' if self.enabled else '; disabled until gpc/enable'}")

    # --- parameters -------------------------------------------------------------------
    def _apply_parameters(self, changes: dict[str, Value]) -> None:
        """Put live parameters into effect (``parameters.declare``); ConfigError refuses."""
        goal = _goal(changes["goal"]) if "goal" in changes else None
        config = _estimator_config({**self.p, **changes})  # checks before anything changes
        self._wait_idle()
        try:
            if goal is not None:  # first: a goal the task refuses changes nothing
                self.task.set_goal(goal)
                self.goal_hold.reset()  # a new goal: plan for it at once
            self.estimator.configure(config)
            if "goal_hold_dwell" in changes:
                self.goal_hold.dwell = check_dwell(changes["goal_hold_dwell"])
            if changes.get("hold_at_goal") is False:
                self.goal_hold.reset()
            if "enabled" in changes:
                self.enabled = bool(changes["enabled"])
                self.schedule.plan_soon()
            if "plan_budget" in changes:
                self.online.budget = self._budget({**self.p, **changes})
            if "plan_timeout" in changes:
                self.schedule.config = dataclasses.replace(
                    self.schedule.config, plan_timeout=changes["plan_timeout"])
            self.p.update(changes)
        finally:
            self._lock.release()
        self.get_logger().info("parameters set: " + ", ".join(
            f"{name} = {value}" for name, value in changes.items()))
        if goal is not None:
            self._publish_scene(self._last_valid)
            self._publish_goal()

    @staticmethod
    def _budget(p: dict) -> float:
        """The anytime budget in force: none in lock-step, where the sim waits for every
        plan (a budget there would only make runs depend on the machine's speed)."""
        return 0.0 if p["synchronous"] else float(p["plan_budget"])

    # --- inputs -----------------------------------------------------------------------
    def _now(self) -> float:
        return clock_seconds(self.get_clock())

    def _check_clock(self) -> None:
        """If the clock went back (module docstring), forget everything of the old clock;
        call without the lock. The jump counter (``ClockWatch.jumps``) tells a planning step
        that began before it not to send its plan."""
        back = self._clock_watch.check(self._now)
        if back is None:
            return
        self._wait_idle()
        try:
            self.online.reset()
            self.estimator.reset()
            self.schedule.reset()
            self.goal_hold.reset()
            self._last_valid = None
            self._status = ("starting", f"the clock went back {back:.2f} s")
        finally:
            self._lock.release()
        self.get_logger().warning(f"the clock went back {back:.2f} s (the simulation "
                                  "restarted?): state, plan and warm start forgotten")

    def _on_goal(self, msg: PoseStamped) -> None:
        """A goal from the goal topic (rviz's tool, another node, this node's own): taken
        through the parameter, so that ``goal`` reads back what the planner plans for."""
        goal, problem = goal_from_message(msg, self.p["frame_id"])
        if problem is None and same_goal(goal, tuple(self.p["goal"])):
            return  # this node's own goal coming back, or nothing new
        if problem is None:
            problem = self._set_goal(goal)
        if problem is not None:
            self.get_logger().warning(f"goal_pose: {problem}", throttle_duration_sec=2.0)

    def _set_goal(self, goal: tuple[float, float, float]) -> str | None:
        """Set the ``goal`` parameter (which publishes it); returns why not, or None."""
        result = self.set_parameters([Parameter("goal", value=list(goal))])[0]
        return None if result.successful else result.reason

    def _on_joints(self, msg: JointState) -> None:
        self._check_clock()
        with self._lock:
            problem = self.estimator.update_joints(
                to_seconds(msg.header.stamp), list(msg.name), np.asarray(msg.position),
                np.asarray(msg.velocity) if len(msg.velocity) else None, now=self._now())
            self._joints_seen.notify_all()
        if problem:
            self.get_logger().warning(problem, throttle_duration_sec=2.0)

    def _on_bodies(self, msg: RigidBodies) -> None:
        bodies = {b.rigid_body_name: b.pose for b in msg.rigidbodies}
        torso, chair = bodies.get(self.p["torso_body"]), bodies.get(self.p["chair_body"])
        if torso is None or chair is None:
            self.get_logger().warning(
                f"rigid_bodies without {self.p['torso_body']!r} and {self.p['chair_body']!r} "
                f"(has {sorted(bodies)})", throttle_duration_sec=5.0)
            return
        self._check_clock()
        stamp = to_seconds(msg.header.stamp)
        future = self.estimator.stamp_problem(stamp, self._now())
        if future is not None:  # never answered: its stamp must not reach the commands
            self.get_logger().warning(future, throttle_duration_sec=2.0)
            return
        with self._lock:
            self._joints_seen.wait_for(lambda: not self.schedule.wait_for_joints(
                stamp, self.estimator.joint_stamp), timeout=JOINT_WAIT)
            problem = self.estimator.update_bodies(stamp, pose_to_arrays(torso),
                                                   pose_to_arrays(chair), now=self._now())
            answer_at = self.schedule.on_frame(stamp, self._now())
            if self.schedule.due is not None:
                self._wake.notify()
        if problem:
            self.get_logger().warning(problem, throttle_duration_sec=2.0)
        if answer_at is not None:  # else the coming plan answers it (lock-step)
            self._publish_command(answer_at)

    def _on_tick(self) -> None:
        """Without frames nothing would wake the planning thread: wake it to hold. A plan
        in force that has aged past ``plan_timeout`` is replaced by a hold here."""
        self._check_clock()
        with self._lock:
            self._expire_stale_plan()
            if not self.schedule.busy:
                estimate = self.estimator.estimate(self._now())
                if self.schedule.on_tick(estimate.problem is not None or not self.enabled,
                                         self.estimator.stamp):
                    self._wake.notify()

    # --- planning thread --------------------------------------------------------------
    def _expire_stale_plan(self) -> None:
        """Hold when the plan in force is older than ``plan_timeout`` (lock held)."""
        now = self._now()
        age = self.online.plan_age(now)
        if not self.schedule.plan_expired(age):
            return
        estimate = self.estimator.estimate(now)
        state = estimate.state if estimate.state is not None else (
            self._last_valid.state if self._last_valid is not None else None)
        if state is None:
            return
        self.online.hold(state, estimate.stamp if math.isfinite(estimate.stamp) else now)
        why = f"no new plan for {age:.1f} s (plan_timeout {self.p['plan_timeout']:g} s)"
        self._status = ("holding: planning stalled", why)
        self.get_logger().error(f"holding: {why}", throttle_duration_sec=5.0)

    def _loop(self) -> None:
        try:
            self._plan_forever()
        except Exception as err:  # noqa: BLE001 - after shutdown publishing fails: fine
            if self._running and self.context.ok():
                stop_node(self, f"planning thread stopped: {type(err).__name__}: {err}")

    def _plan_forever(self) -> None:
        while True:
            with self._wake:
                self._wake.wait_for(lambda: self.schedule.due is not None or not self._running)
                if not self._running:
                    return
                self.schedule.take()
                epoch = self._clock_watch.jumps
                now = self._now()
                estimate = self.estimator.estimate(max(now, self.estimator.stamp))
                enabled = self.enabled
            planned_from = None
            try:
                planned_from = self._decide(estimate, enabled)
            except Exception as err:  # noqa: BLE001 - report and hold, never die silently
                if not (self._running and self.context.ok()):
                    return
                self.get_logger().error(f"planning failed: {err}", throttle_duration_sec=5.0)
                with self._lock:
                    if not isinstance(err, NonFinitePlanError) and estimate.state is not None:
                        self.online.hold(estimate.state, estimate.stamp)
                    self._status = (("holding: non-finite plan", str(err)) if isinstance(
                        err, NonFinitePlanError) else ("error", str(err)))
            finally:
                with self._lock:
                    self.schedule.finish(planned_from)
            self._check_clock()
            self._publish_command(self.schedule.answer_time(self._now(), estimate.stamp),
                                  epoch)
            self._publish_status(estimate)

    def _decide(self, estimate: Estimate, enabled: bool) -> float | None:
        """Plan from ``estimate``, or hold, and say which in the status; returns the stamp
        of the state a plan put in force started from, or of the state found at the goal
        (the next check at the replanning rate); None for the other holds (plan again as
        soon as the state allows)."""
        if enabled and estimate.state is not None and self._holds_at_goal(estimate):
            with self._lock:
                self._last_valid = estimate
                self.online.hold(estimate.state, estimate.stamp)
                self._status = ("at goal", f"holding until the chair is off the goal for "
                                f"{self.goal_hold.dwell:g} s")
            return estimate.stamp  # checked again at the replanning rate
        if enabled and estimate.state is not None:
            result = self.online.plan(estimate.state, estimate.stamp)
            with self._lock:
                self._last_valid = estimate
                self._status = ("running", "")
            self._publish_plan(result, estimate)
            return estimate.stamp
        reason = "disabled" if not enabled else f"holding: {estimate.problem}"
        with self._lock:
            self._status = (reason, "")
            last = self._last_valid
            if estimate.state is not None:
                self._last_valid = last = estimate
            if last is not None:
                self.online.hold(last.state, estimate.stamp if math.isfinite(estimate.stamp)
                                 else last.stamp)
        return None  # plan again as soon as the state allows

    def _holds_at_goal(self, estimate: Estimate) -> bool:
        """Whether the chair is at the goal, or was and has not been off it for the dwell
        (``hold_at_goal``); logs the changes."""
        if not self.p["hold_at_goal"]:
            return False
        was = self.goal_hold.holding
        holds = self.goal_hold.update(self.task.success(estimate.state), estimate.stamp)
        if holds != was:
            self.get_logger().info(
                "at the goal: holding" if holds else
                f"the chair has been off the goal for {self.goal_hold.dwell:g} s: planning")
        return holds

    # --- outputs ----------------------------------------------------------------------
    def _publish_command(self, time: float, epoch: int | None = None) -> None:
        """The plan in force read at ``time``, as a 9-DoF command (nothing before a plan);
        nothing either if the clock went back since ``epoch`` (the plan is the old clock's)."""
        if not math.isfinite(time):
            return
        with self._lock:
            if epoch is not None and epoch != self._clock_watch.jumps:
                return
            target = self.online.target_at(time)
            active = self.online.active
            if target is None or active is None:
                return
            self.commands_sent += 1
        msg = HighLevelCommand(plan_id=active.plan_id, duration=self.task.action_config
                               .tracking_time)
        msg.header.stamp = to_stamp(time)
        msg.header.frame_id = self.p["frame_id"]
        msg.x, msg.y, msg.yaw = (float(v) for v in target[:3])
        msg.arm_joints = [float(v) for v in target[3:9]]
        self.command_pub.publish(msg)

    def _publish_status(self, estimate: Estimate) -> None:
        with self._lock:
            state, message = self._status
            last = self.online.last
            msg = PlannerStatus(
                method=self.p["method"], iteration=self.online.iterations,
                deadline_misses=self.online.deadline_misses,
                commands_sent=self.commands_sent, state=state, message=message)
        msg.header.stamp = to_stamp(estimate.stamp if math.isfinite(estimate.stamp) else 0.0)
        msg.header.frame_id = self.p["frame_id"]
        msg.plan_time_ms = last.plan_time * 1e3 if last else math.nan
        msg.samples_evaluated = last.evaluated if last else 0
        msg.best_cost = float(last.best_cost) if last else math.nan
        ratio = last.stats.get("cem_sample_ratio") if last else None
        msg.cem_sample_ratio = math.nan if ratio is None else float(ratio)
        msg.state_age_ms = estimate.age * 1e3 if math.isfinite(estimate.age) else math.nan
        self.status_pub.publish(msg)

    def _publish_plan(self, result: PlanResult, estimate: Estimate) -> None:
        stamp = to_stamp(estimate.stamp)
        frame = self.p["frame_id"]
        spline = self.online.planner.spline
        top = markers.best_samples(result, self.p["visual_samples"])
        msg = Plan(method=self.p["method"], knot_times=spline.knot_times.tolist(),
                   num_knots=spline.num_knots, action_dim=result.knots.shape[1],
                   best_knots=result.knots.ravel().tolist())
        msg.header.stamp, msg.header.frame_id = stamp, frame
        if top is not None:
            knots, costs = top
            msg.num_samples = len(costs)
            msg.sample_knots = knots.ravel().tolist()
            msg.sample_costs = costs.tolist()
        self.plan_pub.publish(msg)
        self.path_pub.publish(markers.plan_path(spline, result.knots, stamp, frame))
        self.plan_markers_pub.publish(markers.plan_markers(spline, result.knots, top, stamp,
                                                           frame))
        self._publish_scene(estimate)

    def _publish_goal(self) -> None:
        """The goal in force on the latched goal topic (the sim and the summary follow it)."""
        goal = tuple(float(v) for v in self.task.goal)
        self.goal_pub.publish(goal_message(goal, self.p["frame_id"], self._now()))

    def _publish_scene(self, estimate: Estimate | None) -> None:
        state = None if estimate is None else estimate.state
        stamp = to_stamp(0.0 if estimate is None else estimate.stamp)
        self.scene_pub.publish(markers.scene_markers(self.task, state, stamp,
                                                     self.p["frame_id"]))

    def _periodic(self) -> None:
        """Diagnostics, and the status again (its counters move between plans)."""
        with self._lock:
            estimate = self.estimator.estimate(max(self._now(), self.estimator.stamp))
        self._publish_status(estimate)
        self._publish_diagnostics()

    def _publish_diagnostics(self) -> None:
        with self._lock:
            stats = self.online.stats()
            state, message = self._status
            values = {
                "method": self.p["method"], "iterations": self.online.iterations,
                "deadline_misses": self.online.deadline_misses,
                "commands_sent": self.commands_sent,
                "plan_time_median_ms": stats.median_ms, "plan_time_p95_ms": stats.p95_ms,
                "plan_time_max_ms": stats.max_ms,
                "replan_period_ms": self.online.replan_period * 1e3,
            }
        level = DiagnosticStatus.OK
        if state not in ("running", "at goal"):
            level = DiagnosticStatus.WARN
        if state == "error":
            level = DiagnosticStatus.ERROR
        if state == "running" and stats.count and stats.median_ms > values["replan_period_ms"]:
            level, message = DiagnosticStatus.WARN, "plans overrun the replanning period"
        status = DiagnosticStatus(level=level, name=f"{self.get_name()}: planning",
                                  hardware_id="gpc_planner", message=message or state,
                                  values=[KeyValue(key=k, value=f"{v:.1f}" if isinstance(
                                      v, float) else str(v)) for k, v in values.items()])
        msg = DiagnosticArray(status=[status])
        msg.header.stamp = self.get_clock().now().to_msg()
        self.diagnostics_pub.publish(msg)

    # --- services ---------------------------------------------------------------------
    def _wait_idle(self) -> None:
        """Hold the lock with no plan in progress (services change what planning reads)."""
        self._lock.acquire()
        while self.schedule.planning:
            self._lock.release()
            threading.Event().wait(0.005)
            self._lock.acquire()

    def _on_set_goal(self, request: SetGoal.Request, response: SetGoal.Response):
        goal = (float(request.x), float(request.y), float(request.yaw))
        frame = request.frame_id.lstrip("/") or self.p["frame_id"]
        # Through the parameter, so that `goal` reads back what the planner plans for; the
        # parameter publishes it on the goal topic, which the sim follows.
        problem = (f"goal in frame {request.frame_id!r} refused: goals must be in "
                   f"{self.p['frame_id']!r} (no TF here)" if frame != self.p["frame_id"]
                   else self._set_goal(goal))
        if problem is not None:
            response.success, response.message = False, problem
            return response
        response.success = True
        response.message = f"goal set to {goal_text(goal)}"
        if needs_model(self.p["method"]):
            response.message += " (the proposal model was trained for the default goal)"
        self.get_logger().info(response.message)
        return response

    def _on_reset(self, request: ResetPlanner.Request, response: ResetPlanner.Response):
        self._wait_idle()
        try:
            # Every random stream of the planner restarts from the seed (0: keep them).
            self.online.reset(seed=request.seed or None)
            self.estimator.reset()
            self.goal_hold.reset()
            self.commands_sent = 0
            self.schedule.plan_soon()
            self._last_valid = None
            self._status = ("starting", "reset")
        finally:
            self._lock.release()
        response.success = True
        response.message = "planner reset" + (f" with seed {request.seed}" if request.seed
                                              else "")
        self.get_logger().info(response.message)
        return response

    def _on_enable(self, request: SetBool.Request, response: SetBool.Response):
        # Through the parameter, so that `enabled` reads back what the planner does.
        result = self.set_parameters([Parameter("enabled", value=bool(request.data))])[0]
        if not result.successful:
            response.success, response.message = False, result.reason
            return response
        response.success = True
        response.message = "planner enabled" if request.data else "planner disabled: holding"
        self.get_logger().info(response.message)
        return response

    def shutdown(self) -> None:
        with self._wake:
            self._running = False
            self._wake.notify_all()
        self._thread.join(timeout=10.0)


def _goal(value: object) -> tuple[float, float, float]:
    """The goal parameter as (x, y, yaw), or ConfigError."""
    goal = tuple(float(v) for v in value) if isinstance(value, (list, tuple)) else ()
    if len(goal) != 3 or not all(math.isfinite(v) for v in goal):
        raise ConfigError(f"goal must be 3 finite numbers (x, y, yaw), got {value}")
    return goal  # type: ignore[return-value]


def _estimator_config(p: dict) -> EstimatorConfig:
    return EstimatorConfig(velocity_filter=p["velocity_filter"], max_jump=p["max_jump"],
                           timeout=p["state_timeout"], joint_timeout=p["joint_timeout"],
                           future_tolerance=p["future_tolerance"])


def main(args: list[str] | None = None) -> int:
    """Console entry point ``planner_node``."""
    from gpc_sim.ros.run import node_main

    return node_main(PlannerNode, args)


if __name__ == "__main__":
    raise SystemExit(main())
