"""ROS 2 adapters shared by the stack's nodes (topics, QoS, parameters, conversions) and the
sim node. Only modules named ``*_node``, ``qos`` and ``convert`` import ROS; the rest (topic
names, parameter tables) is plain Python, so tests and tools read it without rclpy."""
