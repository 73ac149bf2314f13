"""The planner node and the parameter table it declares (``planner_params``, plain Python)."""
