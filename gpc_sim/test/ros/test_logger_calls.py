"""No node logs through rclpy's deprecated ``warn``.

``RcutilsLogger.warn`` is a deprecation wrapper around ``warning``, and rclpy tells call
sites apart by the frame that called the logging function: through the wrapper every
``warn(...)`` in a process is one call site. Two of them with different filters (one
throttled, one not) then raise "Requested logging filters cannot be changed between calls"
in a node's callback: the bridge died so on its first refused target.
"""

import re
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = ("gpc_planner/gpc_planner", "gpc_sim/gpc_sim", "gpc_spot_bridge/gpc_spot_bridge")


def test_the_wrapper_shares_one_call_site():
    """Why the rule exists (if rclpy fixes this, the rule can go)."""
    rclpy.init()
    try:
        node = rclpy.create_node("gpc_test_logger")
        log = node.get_logger()

        def throttled():
            log.warn("a", throttle_duration_sec=5.0)

        def plain():
            log.warn("b")

        throttled()
        with pytest.raises(ValueError, match="filters cannot be changed"):
            plain()
        node.destroy_node()
    finally:
        rclpy.shutdown()


def test_one_call_site_keeps_one_severity():
    """rclpy also refuses a call site whose severity changes between calls: a logging call
    that picks its method by a condition crashed the bridge's second bring-up service."""
    pattern = re.compile(r"\((get_logger\(\)|\blog|\blogger)\.\w+ if ")
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert not offenders, f"one logging call per severity: {offenders}"


def test_no_source_calls_warn_on_a_logger():
    pattern = re.compile(r"(get_logger\(\)|\blog|\blogger)\.warn\(")
    offenders = [f"{path.relative_to(ROOT)}:{n}"
                 for package in PACKAGES for path in (ROOT / package).rglob("*.py")
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if pattern.search(line)]
    assert not offenders, f"use .warning(), not .warn(): {offenders}"
