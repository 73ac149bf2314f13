"""config/gpc.rviz speaks rviz2: its displays use rviz2's property names (an rviz1 name such
as "Axes Length" is silently ignored by rviz2), read the topics the planner and the sim
publish with a QoS that matches, show TF and the sim's robot markers, and its goal tool
publishes the goal where the planner and the sim listen."""

from pathlib import Path

import yaml

from gpc_sim.ros import topics

RVIZ = Path(__file__).resolve().parents[1] / "config" / "gpc.rviz"
# rviz_default_plugins' property names, per display class (rviz2, Humble to Kilted).
COMMON = {"Class", "Name", "Enabled", "Value", "Topic"}
PROPERTIES = {
    "rviz_default_plugins/Grid": {"Reference Frame", "Plane", "Cell Size", "Plane Cell Count",
                                  "Color", "Alpha", "Line Style", "Normal Cell Count",
                                  "Offset"},
    "rviz_default_plugins/MarkerArray": {"Namespaces"},
    # TFDisplay (tf_display.cpp): "Frames" holds "All Enabled" and one entry per frame.
    "rviz_default_plugins/TF": {"Show Names", "Show Axes", "Show Arrows", "Marker Scale",
                                "Update Interval", "Frame Timeout", "Frames", "Tree"},
    "rviz_default_plugins/Path": {"Color", "Alpha", "Line Style", "Line Width",
                                  "Buffer Length", "Offset", "Pose Style", "Length", "Radius",
                                  "Pose Color", "Shaft Length", "Shaft Diameter",
                                  "Head Length", "Head Diameter"},
}
TOPIC_KEYS = {"Value", "Depth", "History Policy", "Reliability Policy", "Durability Policy",
              "Filter size"}


def config() -> dict:
    return yaml.safe_load(RVIZ.read_text())


def test_displays_use_rviz2_property_names():
    for display in config()["Visualization Manager"]["Displays"]:
        known = COMMON | PROPERTIES[display["Class"]]
        unknown = set(display) - known
        assert not unknown, f"{display['Name']}: not rviz2 properties: {sorted(unknown)}"
        assert set(display.get("Topic", {})) <= TOPIC_KEYS
        if display["Class"] == "rviz_default_plugins/TF":
            assert "Topic" not in display  # TF reads /tf and /tf_static, nothing to set
            assert set(display.get("Frames", {})) <= {"All Enabled"}


def test_displays_read_the_planners_topics_with_a_matching_qos():
    displays = {d["Topic"]["Value"]: d["Topic"] for d in
                config()["Visualization Manager"]["Displays"] if "Topic" in d}
    assert set(displays) == {topics.SCENE_MARKERS, topics.PLAN_MARKERS, topics.PLAN_PATH,
                             topics.ROBOT_MARKERS}
    for latched in (topics.SCENE_MARKERS, topics.ROBOT_MARKERS):  # published once, latched
        assert displays[latched]["Durability Policy"] == "Transient Local"
    assert all(t["Reliability Policy"] == "Reliable" for t in displays.values())


def test_the_goal_tool_publishes_the_one_goal():
    tools = {t["Class"]: t for t in config()["Visualization Manager"]["Tools"]}
    goal = tools["rviz_default_plugins/SetGoal"]["Topic"]
    assert goal["Value"] == topics.GOAL
    # The planner and the sim subscribe transient local (a late node still gets the goal):
    # a volatile publisher would not match them.
    assert (goal["Reliability Policy"], goal["Durability Policy"]) == ("Reliable",
                                                                      "Transient Local")


def test_tf_and_the_robot_markers_are_shown():
    """The sim draws the robot as markers on its TF frames (rviz places them through TF
    with or without a TF display); the TF display shows the frames themselves."""
    displays = config()["Visualization Manager"]["Displays"]
    classes = [d["Class"] for d in displays]
    assert "rviz_default_plugins/TF" in classes
    robot = next(d for d in displays if d.get("Topic", {}).get("Value") == topics.ROBOT_MARKERS)
    assert robot["Class"] == "rviz_default_plugins/MarkerArray" and robot["Enabled"]
    assert set(robot["Namespaces"]) == {"robot", "chair"}  # model_shapes' groups in sim_node
