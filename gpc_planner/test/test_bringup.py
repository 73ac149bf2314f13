"""The scenario description both launchers build from."""

import pytest

from gpc_planner.bringup import SPOT_PUSH_ARGUMENTS, resolve_arguments, spot_push_nodes
from gpc_sim.errors import ConfigError
from gpc_spot_bridge.bridge_params import WORST_SHUTDOWN


def nodes(**given):
    return {n.name: n for n in spot_push_nodes(resolve_arguments(given), rviz_config="r.rviz")}


def test_default_graph_is_sim_bridge_planner_and_rviz():
    graph = nodes()
    assert list(graph) == ["gpc_sim", "spot_bridge", "gpc_planner", "rviz2"]
    assert (graph["gpc_sim"].package, graph["gpc_sim"].executable) == ("gpc_sim", "sim_node")
    assert graph["spot_bridge"].parameters == {"use_sim_time": True, "mode": "sim"}
    # Simulation: one command runs it all (the planner enabled, the sim ends the launch).
    assert graph["gpc_planner"].parameters == {"use_sim_time": True, "synchronous": False,
                                               "enabled": True}
    assert graph["gpc_sim"].parameters == {"use_sim_time": False, "lockstep": False,
                                           "exit_on_finish": True}
    assert graph["rviz2"].arguments == ("-d", "r.rviz")


def test_lockstep_reaches_the_sim_and_the_planner_and_empty_means_the_yaml():
    graph = nodes(lockstep="true", method="gpc_cem", seed="3", trial="4", duration="60",
                  goal_distance="geodesic")
    assert graph["gpc_sim"].parameters == {"use_sim_time": False, "lockstep": True,
                                           "exit_on_finish": True, "seed": 3, "trial": 4,
                                           "duration": 60.0}
    assert graph["gpc_planner"].parameters == {"use_sim_time": True, "synchronous": True,
                                               "enabled": True, "method": "gpc_cem",
                                               "goal_distance": "geodesic"}


def test_hold_at_goal_reaches_the_planner_as_a_boolean_and_empty_means_the_yaml():
    assert "hold_at_goal" not in nodes()["gpc_planner"].parameters
    assert nodes(hold_at_goal="false")["gpc_planner"].parameters["hold_at_goal"] is False
    assert nodes(hold_at_goal="true")["gpc_planner"].parameters["hold_at_goal"] is True
    with pytest.raises(ConfigError, match="hold_at_goal:='later' is not true or false"):
        nodes(hold_at_goal="later")


def test_real_robot_graph_has_no_sim_and_a_real_bridge():
    graph = nodes(use_sim="false", rviz="false")
    assert list(graph) == ["spot_bridge", "gpc_planner"]
    # Nothing about the robot's lease, power or stance: the bridge's defaults are the safe
    # ones (a free lease only; power on and stand when told).
    assert graph["spot_bridge"].parameters == {"use_sim_time": False, "mode": "real"}
    assert graph["gpc_planner"].parameters["enabled"] is False  # drives after gpc/enable


@pytest.mark.parametrize("given", [{}, {"use_sim": "false", "rviz": "false"}])
def test_every_node_gets_longer_than_its_worst_clean_shutdown(given):
    graph = nodes(**given)
    bridge = graph["spot_bridge"]
    assert bridge.sigterm_timeout > WORST_SHUTDOWN  # a real Spot sits down meanwhile
    assert bridge.sigkill_timeout >= 5.0
    assert graph["gpc_planner"].sigterm_timeout > 10.0  # it joins its planning thread
    for node in graph.values():
        assert node.sigterm_timeout >= 5.0  # never shorter than ros2 launch's default


@pytest.mark.parametrize("given,match", [
    ({"use_sim": "maybe"}, "not true or false"),
    ({"lockstep": "true", "use_sim": "false"}, "needs the simulation"),
    ({"trial": "-1"}, r"-1 is outside \[0, 2147483647\]"),
    ({"seed": "100000000000000000000000"}, "is outside"),
    ({"seed": "1e23"}, "not an integer"),
    ({"duration": "long"}, "not a number"),
    ({"duration": "nan"}, "not a finite number"),
    ({"duration": "inf"}, "not a finite number"),
    ({"duration": "1e9"}, "is outside"),
])
def test_bad_arguments_are_one_line_errors(given, match):
    with pytest.raises(ConfigError, match=match):
        spot_push_nodes(resolve_arguments(given))


def test_unknown_arguments_are_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match="unknown launch argument.*metod.*known: use_sim"):
        resolve_arguments({"metod": "cem"})
    assert set(resolve_arguments({})) == {a.name for a in SPOT_PUSH_ARGUMENTS}
