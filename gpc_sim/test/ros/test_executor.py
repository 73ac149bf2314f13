"""PoolExecutor: a node's spinning thread stays idle between messages, also while another
thread of the process wants the GIL (the bridge's Spot loop, gRPC's threads).

rclpy 9.1's MultiThreadedExecutor, in the same setup (two 50 Hz subscriptions, a side
thread doing a little Python work every millisecond): its spinning thread used 107 % of a
core and 4 of the 98 messages a second reached their callback (2 % and 98 with
PoolExecutor); with no side thread both are idle. The test fails with it.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

rclpy = pytest.importorskip("rclpy")

from rclpy.qos import QoSProfile, ReliabilityPolicy  # noqa: E402
from std_msgs.msg import Float64  # noqa: E402

from gpc_sim.ros.executor import PoolExecutor  # noqa: E402
from gpc_sim.ros.testing import ProbeNode, domain_id  # noqa: E402

RATE = 50.0  # Hz per topic, the mocap's and the planner's rate
MEASURE = 3.0  # s


def thread_cpu(native_id: int) -> float:
    """CPU seconds used so far by this process's thread ``native_id`` (Linux)."""
    with open(f"/proc/self/task/{native_id}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


@pytest.fixture
def probe():
    with ProbeNode(domain_id(), "gpc_test_executor_talker") as p:  # publishes, never spun
        yield p


def test_the_spinning_thread_idles_while_another_thread_wants_the_gil(probe):
    qos = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT)
    node = rclpy.create_node("gpc_test_executor", context=probe.context)
    received = [0]

    def on_message(_msg: Float64) -> None:
        received[0] += 1

    for topic in ("a", "b"):
        node.create_subscription(Float64, topic, on_message, qos)
    publishers = [probe.node.create_publisher(Float64, topic, qos) for topic in ("a", "b")]
    done = threading.Event()

    def publish() -> None:
        while not done.wait(1.0 / RATE):
            for pub in publishers:
                pub.publish(Float64(data=1.0))

    def busy() -> None:  # a thread that keeps asking for the GIL
        while not done.wait(0.001):
            sum(range(1000))

    executor = PoolExecutor(num_threads=4, context=probe.context)
    executor.add_node(node)
    spinner_id: list[int] = []

    def spin() -> None:
        spinner_id.append(threading.get_native_id())
        executor.spin()

    threads = [threading.Thread(target=f, daemon=True) for f in (publish, busy, spin)]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 20.0
        while received[0] < 10 and time.monotonic() < deadline:  # discovery
            time.sleep(0.05)
        assert received[0] >= 10, "no messages reached the node"
        cpu0, count0, t0 = thread_cpu(spinner_id[0]), received[0], time.monotonic()
        time.sleep(MEASURE)
        elapsed = time.monotonic() - t0
        cpu = (thread_cpu(spinner_id[0]) - cpu0) / elapsed
        rate = (received[0] - count0) / elapsed
    finally:
        done.set()
        executor.shutdown(timeout_sec=2.0)
        node.destroy_node()
    assert cpu < 0.5, f"the spinning thread used {100 * cpu:.0f} % of a core"
    assert rate > 0.8 * 2 * RATE, f"{rate:.0f} of {2 * RATE:.0f} messages/s handled"
