"""MuJoCo worlds, costs and batched rollouts for Generative Predictive Control.

This package is the planner's model of the world. It never imports rclpy (the
ROS node lives in ``gpc_sim.nodes``) and never imports ``gpc_planner``.
"""
