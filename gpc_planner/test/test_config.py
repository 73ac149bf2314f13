"""config/spot_push.yaml documents every parameter the three nodes declare, with its default."""

from pathlib import Path

import pytest
import yaml

from gpc_planner.ros.planner_params import PLANNER_PARAMETERS
from gpc_sim.ros.sim_params import SIM_PARAMETERS
from gpc_spot_bridge.bridge_params import BRIDGE_PARAMETERS

CONFIG = Path(__file__).resolve().parents[1] / "config" / "spot_push.yaml"
NODES = {"gpc_planner": PLANNER_PARAMETERS, "spot_bridge": BRIDGE_PARAMETERS,
         "gpc_sim": SIM_PARAMETERS}


@pytest.fixture(scope="module")
def doc():
    return yaml.safe_load(CONFIG.read_text())


def test_sections_are_the_shared_one_and_one_per_node(doc):
    assert set(doc) == {"/**", *(f"/**/{name}" for name in NODES)}


@pytest.mark.parametrize("node", NODES)
def test_every_declared_parameter_is_there_once_with_its_default(doc, node):
    shared = doc["/**"]["ros__parameters"]
    own = doc[f"/**/{node}"]["ros__parameters"]
    specs = {spec.name: spec for spec in NODES[node]}
    assert not set(own) & set(shared), "a parameter in both the shared and the node section"
    assert set(own) <= set(specs), f"unknown parameters: {set(own) - set(specs)}"
    for name, spec in specs.items():
        assert name in own or name in shared, f"{node}.{name} is not in {CONFIG.name}"
        value = own.get(name, shared.get(name))
        assert spec.check(value) is None, spec.check(value)
        assert value == spec.default, f"{node}.{name}: {value!r} is not the default"


def test_shared_parameters_are_declared_by_some_node(doc):
    declared = {spec.name for specs in NODES.values() for spec in specs}
    assert set(doc["/**"]["ros__parameters"]) <= declared


def test_every_parameter_line_has_a_comment_above_it():
    lines = CONFIG.read_text().splitlines()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if line.startswith("    ") and not stripped.startswith("#") and ":" in stripped:
            assert lines[i - 1].strip().startswith("#"), f"line {i + 1} has no description"


def test_parameter_types_are_checked():
    spec = PLANNER_PARAMETERS[0].__class__("x", 1.0, "a double")
    assert spec.check(1.0) is None
    assert "integer" in spec.check(1)
    assert "expected float" in spec.check("1.0")


@pytest.mark.parametrize("node", NODES)
def test_every_rate_has_a_positive_finite_range(node):
    """A rate of 0 divides by zero in a timer or a worker thread (status_rate:=0.0 once
    killed the sim's loop): every rate is refused at 0 and at inf by its range."""
    rates = [spec for spec in NODES[node]  # frequencies (max_yaw_rate is a speed limit)
             if spec.name.endswith("rate") and not spec.name.startswith("max_")]
    assert rates
    for spec in rates:
        assert spec.low is not None and spec.low > 0.0 and spec.high is not None, spec.name
        assert "outside" in spec.check(0.0) and "finite" in spec.check(float("inf"))
