"""Generative Predictive Control: sampling-based MPC bootstrapped by flow matching.

The core library (everything outside ``gpc_planner.ros``, the nodes and the launcher)
never imports rclpy.
"""
