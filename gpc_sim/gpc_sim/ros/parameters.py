"""Node parameters as data: a name, a default, a description; declared from one table.

Each node's table lives in a plain module (``*_params.py``), so the YAML check, the
launcher and the docs read it without ROS. ``declare`` is the one place that turns a table
into declared parameters, each with its description (``ros2 param describe``) and type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Value = bool | int | float | str | list


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its name, default (which fixes its type) and what it is for."""

    name: str
    default: Value
    description: str
    read_only: bool = False  # fixed at start-up (changing it would need a restart)

    def check(self, value: Any) -> str | None:
        """Why ``value`` does not fit this parameter's type (None if it does)."""
        want = type(self.default)
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            return f"{self.name}: {value!r} is an integer; write {float(value)!r} (a double)"
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            return f"{self.name}: expected {want.__name__}, got {value!r}"
        return None


def declare(node, specs: tuple[ParamSpec, ...]) -> dict[str, Value]:
    """Declare ``specs`` on ``node`` (an rclpy Node) and return their values by name."""
    from rcl_interfaces.msg import ParameterDescriptor
    from rclpy.exceptions import InvalidParameterTypeException

    from gpc_sim.errors import ConfigError

    values = {}
    for spec in specs:
        descriptor = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
        try:
            values[spec.name] = node.declare_parameter(spec.name, spec.default,
                                                       descriptor).value
        except InvalidParameterTypeException as err:
            raise ConfigError(
                f"parameter {spec.name}: {err.args[0].split(':')[0]} (a "
                f"{type(spec.default).__name__} is expected, like its default "
                f"{spec.default!r}; in YAML a double needs a decimal point)") from None
    return values
