"""Generative Predictive Control: sampling-based MPC bootstrapped by flow matching.

The core library (everything outside ``gpc_planner.nodes``) never imports rclpy.
"""
