"""``gpc soak``: the graph in real time for a long while, with faults injected into it.

The pure parts, without ROS: the fault schedule (``faults``), the processes' memory and CPU
from /proc (``proc_stats``), the verdict on each fault from the commands the robot received
(``judge``), memory growth and the summary (``report``). The run itself, which starts the
nodes and the probe node, is ``gpc_planner.ros.soak``.
"""
