"""Helpers for tests that run the stack's nodes over real DDS on loopback.

Every process gets ``ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST`` and the test's own
``ROS_DOMAIN_ID``; nodes run as separate processes, started as ``ros2 run`` would, with
their parameters in a YAML file; the test talks to them through a node of its own in a
private context. Nothing here is used at run time.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import yaml

_COUNTER = itertools.count()


def domain_id() -> int:
    """A ROS_DOMAIN_ID for one test (1..100, not env.sh's 42), different per call."""
    did = (os.getpid() + 7 * next(_COUNTER)) % 100 + 1
    return 43 if did == 42 else did


def ros_env(domain: int) -> dict[str, str]:
    return dict(os.environ, ROS_AUTOMATIC_DISCOVERY_RANGE="LOCALHOST",
                ROS_DOMAIN_ID=str(domain), PYTHONUNBUFFERED="1", PYTHONFAULTHANDLER="1")


def find_node(package: str, executable: str) -> str:
    for prefix in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep):
        path = Path(prefix) / "lib" / package / executable
        if path.is_file():
            return str(path)
    raise FileNotFoundError(f"{package}/{executable} not installed (run scripts/setup.sh)")


class NodeProcess:
    """One node in a subprocess, its output in ``log``; stopped (SIGINT) on exit."""

    def __init__(self, package: str, executable: str, name: str, parameters: dict,
                 folder: Path, domain: int, env: dict[str, str] | None = None,
                 params_files: tuple[str, ...] = ()) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        own = folder / f"{name}.params.yaml"
        own.write_text(yaml.safe_dump({f"/**/{name}": {"ros__parameters": parameters}}))
        self.log = folder / f"{name}.log"
        cmd = [find_node(package, executable), "--ros-args", "-r", f"__node:={name}"]
        for f in (*params_files, str(own)):
            cmd += ["--params-file", f]
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                         env={**ros_env(domain), **(env or {})})

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGINT, timeout: float = 20.0) -> int:
        """Send ``sig`` and wait for the exit code. A node still running after ``timeout``
        gets SIGABRT (faulthandler, on in ``ros_env``, writes every thread's stack to the
        log: where it hung), then SIGKILL."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.send_signal(signal.SIGABRT)
                try:
                    self.proc.wait(timeout=5.0)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        return self.proc.returncode

    def __enter__(self) -> NodeProcess:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class ProbeNode:
    """A node of the test's own, in a private context on ``domain``."""

    def __init__(self, domain: int, name: str = "gpc_test") -> None:
        import rclpy
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.signals import SignalHandlerOptions

        self.context = rclpy.Context()
        rclpy.init(context=self.context, domain_id=domain, args=[],
                   signal_handler_options=SignalHandlerOptions.NO)  # Ctrl-C stays pytest's
        self.node = rclpy.create_node(name, context=self.context)
        self.executor = SingleThreadedExecutor(context=self.context)
        self.executor.add_node(self.node)

    def spin_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.executor.spin_once(timeout_sec=min(0.01, max(end - time.monotonic(), 0)))

    def spin_until(self, done: Callable[[], bool], timeout: float, what: str,
                   every: Callable[[], None] | None = None, period: float = 0.02) -> None:
        """Spin until ``done()``, calling ``every()`` each ``period`` (a publisher's loop)."""
        end = time.monotonic() + timeout
        next_call = time.monotonic()
        while not done():
            now = time.monotonic()
            if now > end:
                raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
            if every is not None and now >= next_call:
                every()
                next_call += period
            self.executor.spin_once(timeout_sec=0.005)

    def call(self, srv_type, name: str, request, timeout: float = 30.0,
             resend_after: float = 2.0, qos_profile=None):
        """Call service ``name`` (waiting for it to appear) and return the response.

        ``service_is_ready`` turns true once the server's request reader has matched this
        client; the server's response writer may match this client's response reader a
        moment later, and an answer written before that is lost (seen on loaded CI
        machines). So the request is sent again every ``resend_after`` seconds until an
        answer comes or ``timeout`` passes: only for services whose answer depends on the
        request alone (setting a parameter to a value twice is setting it once).
        """
        extra = {} if qos_profile is None else {"qos_profile": qos_profile}
        client = self.node.create_client(srv_type, name, **extra)
        try:
            self.spin_until(client.service_is_ready, timeout, f"service {name}")
            end = time.monotonic() + timeout
            while True:
                future = client.call_async(request)
                resend_at = min(time.monotonic() + resend_after, end)
                try:
                    self.spin_until(lambda f=future, t=resend_at: f.done()
                                    or time.monotonic() > t,
                                    timeout, f"the answer of {name}")
                finally:
                    if not future.done():
                        client.remove_pending_request(future)
                if future.done():
                    return future.result()
                if time.monotonic() > end:
                    raise TimeoutError(f"timed out after {timeout} s waiting for the "
                                       f"answer of {name}")
        finally:
            self.node.destroy_client(client)

    def set_parameters(self, node: str, values: Mapping[str, object]) -> list:
        """``ros2 param set`` on node ``node``: the SetParametersResult of each value."""
        from rcl_interfaces.srv import SetParameters
        from rclpy.parameter import Parameter

        request = SetParameters.Request(parameters=[
            Parameter(name, value=value).to_parameter_msg() for name, value in values.items()])
        return list(self.call(SetParameters, f"/{node}/set_parameters", request).results)

    def get_parameters(self, node: str, names: Sequence[str]) -> list:
        """``ros2 param get`` on node ``node``: the values of ``names``, in order."""
        from rcl_interfaces.srv import GetParameters
        from rclpy.parameter import parameter_value_to_python

        answer = self.call(GetParameters, f"/{node}/get_parameters",
                           GetParameters.Request(names=list(names)))
        return [parameter_value_to_python(v) for v in answer.values]

    def close(self) -> None:
        import rclpy

        self.executor.shutdown()
        self.node.destroy_node()
        rclpy.try_shutdown(context=self.context)

    def __enter__(self) -> ProbeNode:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


Pose = tuple[Sequence[float], Sequence[float]]  # position (3,), quaternion (w, x, y, z)


def mocap_frame(stamp: float, bodies: Mapping[str, Pose]):
    """A ``RigidBodies`` frame in ``map`` at ``stamp`` (s) with the named bodies' poses."""
    from gpc_sim.ros.convert import arrays_to_pose, to_stamp
    from mocap4r2_msgs.msg import RigidBodies, RigidBody

    frame = RigidBodies()
    frame.header.stamp, frame.header.frame_id = to_stamp(stamp), "map"
    for name, (pos, quat) in bodies.items():
        frame.rigidbodies.append(RigidBody(rigid_body_name=name, pose=arrays_to_pose(
            [float(v) for v in pos], [float(v) for v in quat])))
    return frame


class RobotStream:
    """A standing robot's mocap frames and joint states, published from a process of its own.

    ``rate`` times a second, stamped with the wall clock, until the ``with`` block ends. Why a
    process: rclpy keeps the GIL inside ``publish``, and Fast DDS's shared-memory transport can
    block a publish to a reader whose process was killed (a health check of the dead port,
    up to about a second per writer; 3 s measured here). A test that streamed from its own
    process would then stop hearing the nodes as well, and time its own stall. On a robot the
    mocap system and the command receiver are separate too.
    """

    def __init__(self, domain: int, bodies: Mapping[str, Pose],
                 joints: tuple[Sequence[str], Sequence[float], Sequence[float]],
                 rate: float = 50.0) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no rclpy state
        self._stop = ctx.Event()
        bodies = {k: ([float(v) for v in p], [float(v) for v in q]) for k, (p, q) in
                  bodies.items()}
        names, q, v = joints
        joints = (list(names), [float(x) for x in q], [float(x) for x in v])
        self._proc = ctx.Process(target=_stream, args=(domain, bodies, joints, rate, self._stop),
                                 daemon=True)

    def __enter__(self) -> RobotStream:
        self._proc.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._proc.join(timeout=10.0)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join()


def _stream(domain: int, bodies: dict, joints: tuple, rate: float, stop) -> None:
    """RobotStream's process: publish until ``stop`` is set."""
    import rclpy
    from rclpy.signals import SignalHandlerOptions
    from sensor_msgs.msg import JointState

    from gpc_sim.ros import qos, topics
    from gpc_sim.ros.convert import clock_seconds, to_stamp
    from mocap4r2_msgs.msg import RigidBodies

    os.environ.update(ros_env(domain))
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain, args=[],
               signal_handler_options=SignalHandlerOptions.NO)
    node = rclpy.create_node("gpc_test_robot_stream", context=context)
    bodies_pub = node.create_publisher(RigidBodies, topics.RIGID_BODIES, qos.STREAM)
    joints_pub = node.create_publisher(JointState, topics.JOINT_STATES, qos.STREAM)
    names, q, v = joints
    try:
        while not stop.wait(1.0 / rate):
            t = clock_seconds(node.get_clock())
            msg = JointState(name=names, position=q, velocity=v)
            msg.header.stamp = to_stamp(t)
            joints_pub.publish(msg)
            bodies_pub.publish(mocap_frame(t, bodies))
    finally:
        node.destroy_node()
        rclpy.try_shutdown(context=context)
