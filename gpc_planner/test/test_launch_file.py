"""launch/spot_push.launch.py and ``gpc launch spot_push`` start the same graph.

``launch``/``launch_ros`` are not installable here, so the launch file runs against
stand-ins that record what it declares and creates (the same names and call signatures as
the real API: LaunchDescription, DeclareLaunchArgument, OpaqueFunction, Shutdown,
LaunchConfiguration.perform, launch_ros.actions.Node, get_package_share_directory). Its
nodes are then compared with the processes the launcher would start: package, executable,
name, namespace, extra arguments, parameter files and overrides, in order; and it must end
as the launcher does: any node's exit shuts the launch down (the sim exits at the end of its
duration), and each node gets longer than its worst clean shutdown before SIGTERM/SIGKILL.
"""

import importlib.util
import sys
import types
from pathlib import Path

import pytest

from gpc_planner.bringup import SPOT_PUSH_ARGUMENTS, WORST_SHUTDOWN
from gpc_planner.ros.launcher import node_command, overrides_document, plan_spot_push

LAUNCH_FILE = Path(__file__).resolve().parents[1] / "launch" / "spot_push.launch.py"


class _Entity:
    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs


class LaunchConfiguration:
    def __init__(self, name):
        self.name = name

    def perform(self, context):
        return context.launch_configurations[self.name]


def _stand_ins(share: str) -> dict[str, types.ModuleType]:
    modules = {}
    for name in ("launch", "launch.actions", "launch.substitutions", "launch_ros",
                 "launch_ros.actions", "ament_index_python", "ament_index_python.packages"):
        modules[name] = types.ModuleType(name)
    modules["launch"].LaunchDescription = type("LaunchDescription", (_Entity,), {})
    modules["launch.actions"].DeclareLaunchArgument = type("DeclareLaunchArgument", (_Entity,), {})
    modules["launch.actions"].OpaqueFunction = type("OpaqueFunction", (_Entity,), {})
    modules["launch.actions"].Shutdown = type("Shutdown", (_Entity,), {})
    modules["launch.substitutions"].LaunchConfiguration = LaunchConfiguration
    modules["launch_ros.actions"].Node = type("Node", (_Entity,), {})
    modules["ament_index_python.packages"].get_package_share_directory = (
        lambda package: str(Path(share).parent / package))
    return modules


@pytest.fixture
def launch_file(monkeypatch):
    """The launch file's module, loaded with the stand-ins and the installed share folder."""
    _, params_file, _ = plan_spot_push({})
    share = str(Path(params_file).parents[1])  # .../share/gpc_planner
    for name, module in _stand_ins(share).items():
        monkeypatch.setitem(sys.modules, name, module)
    spec = importlib.util.spec_from_file_location("spot_push_launch", LAUNCH_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def launched_nodes(module, given):
    """What ``ros2 launch ... name:=value`` would start: the Node actions' keyword args."""
    (entities,) = module.generate_launch_description().args
    declared = [e for e in entities if type(e).__name__ == "DeclareLaunchArgument"]
    configs = {e.args[0]: e.kwargs["default_value"] for e in declared}
    configs.update(given)
    (opaque,) = [e for e in entities if type(e).__name__ == "OpaqueFunction"]
    context = types.SimpleNamespace(launch_configurations=configs)
    return declared, [node.kwargs for node in opaque.kwargs["function"](context)]


def test_the_launch_file_declares_the_scenarios_arguments(launch_file):
    declared, _ = launched_nodes(launch_file, {})
    assert [(e.args[0], e.kwargs["default_value"], e.kwargs["description"]) for e in declared] \
        == [(a.name, a.default, a.description) for a in SPOT_PUSH_ARGUMENTS]


@pytest.mark.parametrize("given", [
    {},
    {"lockstep": "true", "method": "gpc_cem", "trial": "3", "duration": "60"},
    {"use_sim": "false", "rviz": "false", "namespace": "robot1"},
    {"params_file": "mine.yaml", "use_sim_time": "false"},
])
def test_launch_file_and_launcher_start_the_same_nodes(launch_file, given, tmp_path):
    if "params_file" in given:  # a user's own file (it must exist)
        mine = tmp_path / given["params_file"]
        mine.write_text("/**:\n  ros__parameters: {}\n")
        given = {**given, "params_file": str(mine)}
    _, launched = launched_nodes(launch_file, given)
    args, params_file, nodes = plan_spot_push(given)
    assert [(n["package"], n["executable"], n["name"]) for n in launched] == \
        [(n.package, n.executable, n.name) for n in nodes]
    overrides = overrides_document(nodes)
    for kwargs, node in zip(launched, nodes, strict=True):
        assert kwargs["namespace"] == args["namespace"]
        assert kwargs["arguments"] == list(node.arguments)
        files = [] if node.package == "rviz2" else [params_file]
        assert kwargs["parameters"] == files + [node.parameters]
        # The launcher's command line carries the same files and overrides, in that order.
        cmd = node_command(node, "/bin/exe", files[0] if files else None, "over.yaml",
                           args["namespace"])
        assert cmd[cmd.index("-r") + 1] == f"__node:={node.name}"
        assert [cmd[i + 1] for i, a in enumerate(cmd) if a == "--params-file"] == \
            files + ["over.yaml"]
        assert overrides[f"/**/{node.name}"]["ros__parameters"] == node.parameters
        if args["namespace"]:
            assert f"__ns:=/{args['namespace']}" in cmd


@pytest.mark.parametrize("given", [{}, {"use_sim": "false", "rviz": "false"},
                                   {"lockstep": "true", "duration": "60"}])
def test_any_node_that_exits_shuts_the_launch_down(launch_file, given):
    """What a launch service does when a process exits: run its on_exit actions. Every node
    has one, and it is a Shutdown (a node left up alone is no graph at all)."""
    _, launched = launched_nodes(launch_file, given)
    for kwargs in launched:
        actions = kwargs["on_exit"]
        assert [type(a).__name__ for a in actions] == ["Shutdown"], kwargs["name"]
        assert kwargs["name"] in actions[0].kwargs["reason"]


def test_the_sims_end_of_duration_ends_the_launch(launch_file):
    """`ros2 launch ... duration:=60` used to run forever: the sim stopped stepping but never
    exited. Now it exits (exit_on_finish) and its exit shuts the launch down."""
    _, launched = launched_nodes(launch_file, {"duration": "60"})
    (sim,) = [k for k in launched if k["name"] == "gpc_sim"]
    overrides = sim["parameters"][-1]
    assert overrides["duration"] == 60.0 and overrides["exit_on_finish"] is True
    assert type(sim["on_exit"][0]).__name__ == "Shutdown"


@pytest.mark.parametrize("given", [{}, {"use_sim": "false", "rviz": "false"}])
def test_each_node_gets_longer_than_its_worst_clean_shutdown(launch_file, given):
    """ros2 launch sends SIGTERM 5 s after SIGINT and SIGKILL 5 s later by default; the
    bridge's clean shutdown (a real Spot sat down, powered off, e-stop and lease returned)
    may take longer, so the launch file sets both timeouts per node."""
    _, launched = launched_nodes(launch_file, given)
    args, _, nodes = plan_spot_push(given)
    for kwargs, node in zip(launched, nodes, strict=True):
        sigterm, sigkill = float(kwargs["sigterm_timeout"]), float(kwargs["sigkill_timeout"])
        assert sigterm == node.sigterm_timeout and sigkill == node.sigkill_timeout
        assert sigterm > WORST_SHUTDOWN[node.name], node.name
        assert sigterm >= 5.0 and sigkill >= 5.0  # never shorter than ros2 launch's defaults
    (bridge,) = [k for k in launched if k["name"] == "spot_bridge"]
    assert float(bridge["sigterm_timeout"]) > WORST_SHUTDOWN["spot_bridge"] > 15.0
