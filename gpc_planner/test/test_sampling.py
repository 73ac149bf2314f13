"""Recommended sampling settings: checked entries, and one setting per run of several models."""

import pytest

from gpc_planner.sampling import (
    PAPER_SAMPLING,
    SamplingSettings,
    agreed_sampling,
    check_sampling_entry,
    recommended_sampling,
    sampling_key,
    split_sampling_key,
)
from gpc_sim.errors import ConfigError

WIDE = SamplingSettings(flow_noise=2.0, flow_steps=10)


def test_without_a_recommendation_the_paper_settings_apply():
    assert PAPER_SAMPLING == SamplingSettings(flow_noise=1.0, flow_steps=10)
    assert recommended_sampling({}, "gpc_cem") == PAPER_SAMPLING
    entry = {"gpc_shoot": {"flow_noise": 2.5, "flow_steps": 2}}
    assert recommended_sampling(entry, "gpc_shoot") == SamplingSettings(2.5, 2)
    assert recommended_sampling(entry, "gpc_cem") == PAPER_SAMPLING


def test_a_tasks_own_recommendation_comes_before_the_methods():
    entry = {"gpc_cem": {"flow_noise": 1.0, "flow_steps": 2},
             sampling_key("gpc_cem", "spot_chair_avoid"): {"flow_noise": 2.0, "flow_steps": 2}}
    assert recommended_sampling(entry, "gpc_cem", "spot_chair_avoid") == SamplingSettings(2.0, 2)
    assert recommended_sampling(entry, "gpc_cem", "spot_chair") == SamplingSettings(1.0, 2)
    assert recommended_sampling(entry, "gpc_cem") == SamplingSettings(1.0, 2)
    # A task's row alone: other tasks get the paper's, not the task's.
    only_task = {"gpc_shoot@push_k": {"flow_noise": 3.0, "flow_steps": 10}}
    assert recommended_sampling(only_task, "gpc_shoot", "push_t") == PAPER_SAMPLING
    assert recommended_sampling(only_task, "gpc_shoot", "push_k") == SamplingSettings(3.0, 10)


def test_sampling_keys_round_trip():
    assert sampling_key("gpc_cem") == "gpc_cem"
    assert sampling_key("gpc_cem", "push_k") == "gpc_cem@push_k"
    assert split_sampling_key("gpc_cem@push_k") == ("gpc_cem", "push_k")
    assert split_sampling_key("gpc_cem") == ("gpc_cem", None)


def test_given_settings_win_over_the_models_and_models_must_agree_on_the_rest():
    same = [("a.pt", WIDE), ("b.pt", WIDE)]
    assert agreed_sampling("gpc_cem", same) == WIDE
    assert agreed_sampling("gpc_cem", same, flow_noise=3.0) == SamplingSettings(3.0, 10)
    assert agreed_sampling("gpc_cem", []) == PAPER_SAMPLING
    mixed = [("a.pt", WIDE), ("b.pt", PAPER_SAMPLING)]
    with pytest.raises(ConfigError, match=r"different flow_noise \(a.pt: 2, b.pt: 1\)") as err:
        agreed_sampling("gpc_cem", mixed)
    assert err.value.setting == "flow_noise"
    assert agreed_sampling("gpc_cem", mixed, flow_noise=1.5) == SamplingSettings(1.5, 10)


@pytest.mark.parametrize("entry, needle", [
    ([1, 2], "must be a dict of methods"),
    ({"gpc_cem": 2.0}, "must be a dict of flow_noise and flow_steps"),
    ({"gpc_cem@": {"flow_noise": 2.0}}, "neither a method nor method@task"),
    ({"@push_t": {"flow_noise": 2.0}}, "neither a method nor method@task"),
    ({"a@b@c": {"flow_noise": 2.0}}, "neither a method nor method@task"),
    ({3: {"flow_noise": 2.0}}, "neither a method nor method@task"),
    ({"gpc_cem": {"noise": 2.0}}, "unknown keys noise"),
    ({"gpc_cem": {"flow_noise": 0.0}}, "flow_noise must be a positive number"),
    ({"gpc_cem": {"flow_steps": 2.5}}, "flow_steps must be an integer of at least 1"),
])
def test_a_malformed_entry_is_refused_naming_the_file(entry, needle):
    with pytest.raises(ConfigError, match=needle) as err:
        check_sampling_entry(entry, "m.pt")
    assert "m.pt" in str(err.value)


def test_an_entry_is_stored_complete():
    assert check_sampling_entry({"gpc_cem": {"flow_noise": 2}}, "m.pt") == {
        "gpc_cem": {"flow_noise": 2.0, "flow_steps": 10}}
