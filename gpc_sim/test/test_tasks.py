"""The task registry's record of settings: the Spot cost's default changed, and a record
must say which cost it used while records written before still mean what they meant."""

from __future__ import annotations

import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.tasks import (
    has_setting,
    setting_default,
    with_old_defaults,
    with_recorded_defaults,
    without_old_defaults,
)


def test_spot_tasks_default_to_the_way_around_and_push_tasks_have_no_such_setting():
    for task in ("spot_chair", "spot_chair_avoid"):
        assert setting_default(task, "goal_distance") == "geodesic"
    assert not has_setting("push_t", "goal_distance")
    with pytest.raises(ConfigError, match="no setting goal_distance"):
        setting_default("push_t", "goal_distance")


def test_a_record_names_the_default_cost_and_leaves_out_the_old_one():
    plain = with_recorded_defaults("spot_chair", {"world": "fast"})
    assert plain == {"world": "fast", "goal_distance": "geodesic", "w_yaw": 15.0}
    assert with_recorded_defaults("push_t", {}) == {}
    # Written: the new defaults are named, the old ones (straight line, yaw weight 6) left
    # out as before.
    assert without_old_defaults(plain) == plain
    straight = {"world": "fast", "goal_distance": "euclidean", "w_yaw": 6.0}
    assert without_old_defaults(straight) == {"world": "fast"}
    assert without_old_defaults({"goal_distance": "euclidean", "w_yaw": 15.0}) == {
        "w_yaw": 15.0}
    # Read back: silence means the old values, for the tasks that have the settings.
    assert with_old_defaults("spot_chair", without_old_defaults(straight)) == straight
    assert with_old_defaults("spot_chair", plain) == plain
    assert with_old_defaults("push_t", {}) == {}
