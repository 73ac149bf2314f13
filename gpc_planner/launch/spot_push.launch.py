"""Spot chair push with GPC: ``ros2 launch gpc_planner spot_push.launch.py [name:=value ...]``.

The nodes, their names, executables, parameter overrides and stop timeouts come from
``gpc_planner.bringup.spot_push_nodes``, the same description ``gpc launch spot_push`` starts
on machines without ``ros2 launch``; every node also gets the parameter file
(``params_file``, default: the installed ``config/spot_push.yaml``). Arguments:
``ros2 launch gpc_planner spot_push.launch.py --show-args``.

It ends as ``gpc launch`` does: any node that exits shuts the whole launch down (the sim
exits at the end of ``duration``), and each node gets longer than its worst clean shutdown
before SIGTERM and SIGKILL (the bridge sits a real Spot down and returns its lease).

    ros2 launch gpc_planner spot_push.launch.py                      # sim, CEM, rviz
    ros2 launch gpc_planner spot_push.launch.py method:=gpc_cem model:=/path/model.pt
    ros2 launch gpc_planner spot_push.launch.py use_sim:=false rviz:=false   # a real Spot
"""

import os

from ament_index_python.packages import get_package_share_directory
from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument, OpaqueFunction, Shutdown
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from gpc_planner.bringup import SPOT_PUSH_ARGUMENTS, resolve_arguments, spot_push_nodes


def _nodes(context):
    """The node actions, once the arguments are known (OpaqueFunction)."""
    given = {a.name: LaunchConfiguration(a.name).perform(context) for a in SPOT_PUSH_ARGUMENTS}
    args = resolve_arguments(given)
    share = get_package_share_directory("gpc_planner")
    params_file = args["params_file"] or os.path.join(share, "config", "spot_push.yaml")
    rviz_config = os.path.join(share, "config", "gpc.rviz")
    actions = []
    for node in spot_push_nodes(args, rviz_config=rviz_config):
        parameters = [node.parameters] if node.package == "rviz2" else [params_file,
                                                                         node.parameters]
        actions.append(Node(
            package=node.package,
            executable=node.executable,
            name=node.name,
            namespace=args["namespace"],
            parameters=parameters,
            arguments=list(node.arguments),
            output="screen",
            emulate_tty=True,
            # Any node that ends (the sim at the end of `duration`, a crash) ends the launch.
            on_exit=[Shutdown(reason=f"{node.name} exited")],
            sigterm_timeout=str(node.sigterm_timeout),
            sigkill_timeout=str(node.sigkill_timeout),
        ))
    return actions


def generate_launch_description():
    return LaunchDescription(
        [DeclareLaunchArgument(a.name, default_value=a.default, description=a.description)
         for a in SPOT_PUSH_ARGUMENTS]
        + [OpaqueFunction(function=_nodes)]
    )
