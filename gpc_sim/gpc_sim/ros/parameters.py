"""Node parameters as data: a name, a default, a description, a range; declared from one table.

Each node's table lives in a plain module (``*_params.py``), so the YAML check, the
launcher and the docs read it without ROS. ``declare`` is the one place that turns a table
into declared parameters, each with its description and range (``ros2 param describe``).

A parameter does what it says, or says that it cannot: it is either read-only (fixed at
start-up; ``ros2 param set`` is refused) or live, applied by the node the moment it is set
through the node's ``apply`` function, which may refuse it too. Every number has a finite
range: a rate of ``.inf`` started a busy loop, a command validity of 1e9 s defeated the
robot's own stop, and NaN passes any comparison, so it is refused explicitly.
"""

from __future__ import annotations

import array
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Value = bool | int | float | str | list


@dataclass(frozen=True)
class ParamSpec:
    """One parameter: its name, default (which fixes its type), what it is for, whether it
    is fixed at start-up, and for numbers the closed range ``[low, high]`` it must lie in."""

    name: str
    default: Value
    description: str
    read_only: bool = False  # fixed at start-up (changing it would need a restart)
    low: float | None = None
    high: float | None = None

    def check(self, value: Any) -> str | None:
        """Why ``value`` does not fit this parameter (None if it does)."""
        want = type(self.default)
        if want is list and isinstance(value, (tuple, array.array)):
            value = list(value)  # rclpy hands arrays over as array.array
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            return f"{self.name}: {value!r} is an integer; write {float(value)!r} (a double)"
        if not isinstance(value, want) or (want is int and isinstance(value, bool)):
            return f"{self.name}: expected {want.__name__}, got {value!r}"
        if want is float and not math.isfinite(value):
            return f"{self.name}: {value} is not a finite number"
        if want in (int, float) and not self.in_range(value):
            return f"{self.name}: {value!r} is outside {self.range_text()}"
        return None

    def in_range(self, value: float) -> bool:
        return ((self.low is None or value >= self.low)
                and (self.high is None or value <= self.high))

    def range_text(self) -> str:
        def text(bound: float | None, missing: str) -> str:
            if bound is None:
                return missing
            return str(int(bound)) if type(self.default) is int else f"{bound:g}"

        return f"[{text(self.low, '-inf')}, {text(self.high, 'inf')}]"


Apply = Callable[[dict[str, Value]], None]


def declare(node, specs: tuple[ParamSpec, ...], apply: Apply | None = None
            ) -> dict[str, Value]:
    """Declare ``specs`` on ``node`` (an rclpy Node) and return their values by name.

    ``apply(changes)`` takes the live (not read-only) parameters a ``set_parameters`` call
    changes, already checked against their specs, and puts them into effect, or raises
    ``ConfigError`` to refuse them (the call then fails with that message and nothing
    changes). A table with live parameters needs it: a parameter that reads back a new
    value while the node keeps its old one is the defect this exists to prevent.
    """
    from rcl_interfaces.msg import ParameterDescriptor, SetParametersResult
    from rclpy.exceptions import InvalidParameterTypeException, InvalidParameterValueException

    from gpc_sim.errors import ConfigError

    live = {spec.name: spec for spec in specs if not spec.read_only}
    if live and apply is None:
        raise TypeError(f"live parameters {sorted(live)} need an apply function")
    values = {}
    for spec in specs:
        descriptor = ParameterDescriptor(description=spec.description, read_only=spec.read_only)
        _add_range(descriptor, spec)
        try:
            values[spec.name] = node.declare_parameter(spec.name, spec.default,
                                                       descriptor).value
        except InvalidParameterTypeException as err:
            raise ConfigError(
                f"parameter {spec.name}: {err.args[0].split(':')[0]} (a "
                f"{type(spec.default).__name__} is expected, like its default "
                f"{spec.default!r}; in YAML a double needs a decimal point)") from None
        except InvalidParameterValueException:
            value = node.get_parameter_or(spec.name).value
            raise ConfigError(f"parameter {spec.check(value) or spec.name}") from None
        problem = spec.check(values[spec.name])
        if problem is not None:
            raise ConfigError(f"parameter {problem}")

    def on_set(params) -> SetParametersResult:
        changes = {}
        for param in params:
            spec = live.get(param.name)
            if spec is None:
                continue  # read-only ones are refused by rclpy; others are not ours
            problem = spec.check(param.value)
            if problem is not None:
                return SetParametersResult(successful=False, reason=problem)
            value = param.value
            changes[param.name] = list(value) if isinstance(value, array.array) else value
        if changes:
            try:
                apply(changes)
            except ConfigError as err:
                return SetParametersResult(successful=False, reason=str(err))
        return SetParametersResult(successful=True)

    if live:
        node.add_on_set_parameters_callback(on_set)
    return values


def _add_range(descriptor, spec: ParamSpec) -> None:
    """The spec's range in the descriptor, so ``ros2 param describe`` shows it."""
    from rcl_interfaces.msg import FloatingPointRange, IntegerRange

    if spec.low is None or spec.high is None:
        return
    if type(spec.default) is float:
        descriptor.floating_point_range = [FloatingPointRange(
            from_value=float(spec.low), to_value=float(spec.high), step=0.0)]
    elif type(spec.default) is int:
        descriptor.integer_range = [IntegerRange(from_value=int(spec.low),
                                                 to_value=int(spec.high), step=1)]
