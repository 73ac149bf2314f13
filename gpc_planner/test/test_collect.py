"""gpc collect: the documented arrays, resuming without duplicates, refusing other settings."""

import json

import numpy as np
import pytest

from gpc_planner import collect as collect_mod
from gpc_planner.collect import (
    COLLECT_SEED_OFFSET,
    CollectSpec,
    collect,
    episode_path,
    failed_episode_path,
    load_dataset,
)
from gpc_sim.errors import ConfigError
from gpc_sim.push.task import PushTask
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task

TINY = dict(task="push_t", rollouts=4, horizon=0.3, iterations=1, max_steps=40)


@pytest.fixture
def succeed_after_025s(monkeypatch):
    """Every episode "succeeds" at t = 0.25 s (3 replanning steps at 10 Hz)."""
    monkeypatch.setattr(PushTask, "success", lambda self, state: state[0] >= 0.25 - 1e-9)


def test_collection_writes_the_documented_arrays(tmp_path, succeed_after_025s):
    stats = collect(CollectSpec(episodes=2, **TINY), tmp_path, progress=False)
    assert stats["successes"] == 2 and stats["samples"] == 6
    with np.load(episode_path(tmp_path, 1)) as f:
        assert f["obs"].shape == (3, 6) and f["hist"].shape == (3, 6)
        assert f["knots"].shape == (3, 4, 2)
        assert list(f["step"]) == [0, 10, 20]
        np.testing.assert_array_equal(f["hist"][0], f["obs"][0])  # h_0 = x_0
        np.testing.assert_array_equal(f["hist"][1:], f["obs"][:-1])  # then the previous x
        assert int(f["steps"]) == 25
        assert np.all(np.isnan(f["cem_sample_ratio"]))  # plain CEM
        obs = f["obs"]
    task = make_task("push_t", nthread=1)
    start = task.sample_initial_state(initial_state_rng(COLLECT_SEED_OFFSET, 1))
    np.testing.assert_allclose(obs[0], task.observation(start))  # the collection's seed stream
    np.testing.assert_allclose(obs[:, 4] ** 2 + obs[:, 5] ** 2, 1.0)  # sin, cos of yaw
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["settings"]["rollouts"] == 4 and meta["knot_shape"] == [4, 2]
    assert meta["observation_names"][-2:] == ["block_sin_yaw", "block_cos_yaw"]
    assert {"numpy", "mujoco", "torch"} <= set(meta["versions"])
    data = load_dataset(tmp_path)
    assert data.obs.shape == (6, 6) and data.knots.shape == (6, 4, 2) and data.episodes == 2


def test_resume_skips_finished_and_failed_episodes(tmp_path, monkeypatch):
    monkeypatch.setattr(PushTask, "success", lambda self, s: False)
    spec = CollectSpec(episodes=2, **{**TINY, "max_steps": 5})
    assert collect(spec, tmp_path, progress=False)["successes"] == 0
    failed = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
    assert sorted(r["episode"] for r in failed) == [0, 1]
    monkeypatch.setattr(PushTask, "success", lambda self, s: s[0] >= 0.25 - 1e-9)
    ran = []
    real = collect_mod.collect_episode
    monkeypatch.setattr(collect_mod, "collect_episode",
                        lambda task, spec, e: ran.append(e) or real(task, spec, e))
    collect(CollectSpec(episodes=3, **{**TINY, "max_steps": 5}), tmp_path, progress=False)
    assert ran == [2]  # failures are not retried
    ran.clear()

    def interrupt_at_4(task, spec, e):
        if e == 4:
            raise KeyboardInterrupt
        ran.append(e)
        return real(task, spec, e)

    monkeypatch.setattr(collect_mod, "collect_episode", interrupt_at_4)
    with pytest.raises(KeyboardInterrupt):
        collect(CollectSpec(episodes=6, **{**TINY, "max_steps": 5}), tmp_path, progress=False)
    assert ran == [3]
    # The card counts what the interrupted run finished, not what the run before it did.
    assert json.loads((tmp_path / "card.json").read_text())["episodes"] == 4
    monkeypatch.setattr(collect_mod, "collect_episode",
                        lambda task, spec, e: ran.append(e) or real(task, spec, e))
    stats = collect(CollectSpec(episodes=6, **{**TINY, "max_steps": 5}), tmp_path, progress=False)
    assert ran == [3, 4, 5]
    assert stats["episodes"] == 6 and stats["successes"] == 0  # max 5 steps < 0.25 s
    lines = (tmp_path / "failed.jsonl").read_text().splitlines()
    assert sorted(json.loads(x)["episode"] for x in lines) == list(range(6))  # no duplicates


def test_other_settings_are_refused(tmp_path, succeed_after_025s):
    collect(CollectSpec(episodes=1, **TINY), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="rollouts"):
        collect(CollectSpec(episodes=1, **{**TINY, "rollouts": 8}), tmp_path, progress=False)


def test_loading_a_folder_without_meta_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="meta.json"):
        load_dataset(tmp_path)


def test_stopped_episodes_and_costs_reach_the_journal_and_the_data_card(tmp_path,
                                                                        monkeypatch):
    """A hopeless episode is ended early (the stall rule), recorded with why and what it
    cost; successes carry their cost and object path; the card adds them up and gives the
    command that rebuilds the folder."""
    running = {}
    real = collect_mod.collect_episode
    monkeypatch.setattr(collect_mod, "collect_episode",
                        lambda task, spec, e: running.update(e=e) or real(task, spec, e))
    # Episode 0 "succeeds" at 0.15 s; episode 1 never does, and its block never moves.
    monkeypatch.setattr(PushTask, "success",
                        lambda self, s: running["e"] == 0 and s[0] >= 0.15 - 1e-9)
    monkeypatch.setattr(PushTask, "object_position", lambda self, state: np.zeros(2))
    spec = CollectSpec(episodes=2, stall_window=0.2, stall_distance=0.05,
                       **{**TINY, "max_steps": 40})
    stats = collect(spec, tmp_path, progress=False)
    assert stats["episodes"] == 2 and stats["stopped_early"] == 1 and stats["successes"] == 1
    failed = [json.loads(line) for line in (tmp_path / "failed.jsonl").read_text().splitlines()]
    assert failed[0]["stopped"].startswith("stalled") and failed[0]["steps"] == 20
    assert failed[0]["wall_s"] > 0 and failed[0]["cpu_s"] > 0
    # The failure's data is kept apart from what training reads (it cost as much).
    with np.load(failed_episode_path(tmp_path, 1)) as f:
        assert len(f["obs"]) == 2 and int(f["steps"]) == 20 and float(f["cpu_s"]) > 0
    assert not episode_path(tmp_path, 1).exists()
    assert load_dataset(tmp_path).episodes == 1
    with np.load(episode_path(tmp_path, 0)) as f:
        assert f["obs"].dtype == np.float32 and f["knots"].dtype == np.float32
        assert f["object_xy"].shape == (len(f["obs"]), 2) and float(f["cpu_s"]) > 0
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["episodes"] == 2 and card["costed_episodes"] == 2
    assert card["core_hours"] == pytest.approx(stats["core_hours"]) and card["core_hours"] > 0
    assert card["settings"]["stall_window"] == 0.2
    text = (tmp_path / "card.md").read_text()
    assert "--stall 0.2 --stall-distance 0.05" in text and "--episodes 2" in text
    assert "1 ended early as hopeless" in text
    assert load_dataset(tmp_path).obs.dtype == np.float32


def test_task_options_pick_the_starts_and_are_part_of_the_settings(tmp_path, monkeypatch):
    spec = CollectSpec(episodes=1, task_options={"shape": "k"}, **{**TINY, "max_steps": 3})
    collect(spec, tmp_path, progress=False)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["settings"]["task_options"] == {"shape": "k"}
    with pytest.raises(ConfigError, match="other settings"):
        collect(CollectSpec(episodes=1, **{**TINY, "max_steps": 3}), tmp_path, progress=False)
    with pytest.raises(ConfigError, match="no setting colour"):
        collect(CollectSpec(episodes=1, task_options={"colour": 1}, **TINY), tmp_path / "b",
                progress=False)


def test_task_option_flags_read_json_values_or_keep_strings():
    import argparse

    from gpc_planner.cli.collect_cmd import task_option

    assert task_option("chair_start_y=1.0") == ("chair_start_y", 1.0)
    assert task_option("world=balanced") == ("world", "balanced")
    assert task_option("goal=[1, 0, 0]") == ("goal", [1, 0, 0])
    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        task_option("balanced")


def test_spot_data_names_its_world_even_the_default():
    """meta.json pins the Spot world whatever the default is by then: a folder started in
    one physics never grows in another (push tasks have no worlds)."""
    assert CollectSpec(task="spot_chair").settings()["task_options"] == {
        "world": "balanced", "goal_distance": "geodesic", "w_yaw": 15.0}
    assert CollectSpec(task="spot_chair", task_options={"world": "original"}).settings()[
        "task_options"] == {"world": "original", "goal_distance": "geodesic", "w_yaw": 15.0}
    assert "task_options" not in CollectSpec(task="push_t").settings()


def test_failures_near_the_goal_train_only_when_asked(tmp_path, monkeypatch):
    """Training reads successes only, as the paper; failures_within adds the failed episodes
    that ended within that distance of the goal position (and only those with their
    arrays kept), and says how many."""
    monkeypatch.setattr(PushTask, "success", lambda self, s: False)
    collect(CollectSpec(episodes=3, **{**TINY, "max_steps": 20}), tmp_path, progress=False)
    errors = {r["episode"]: r["position_error"]
              for r in map(json.loads, (tmp_path / "failed.jsonl").read_text().splitlines())}
    with pytest.raises(ConfigError, match="no successful episodes"):
        load_dataset(tmp_path)
    radius = sorted(errors.values())[1] + 1e-9  # the two nearest of the three
    near = load_dataset(tmp_path, failures_within=radius)
    assert near.episodes == near.failures == 2 and near.failures_within == radius
    assert sorted(set(near.episode.tolist())) == sorted(e for e, d in errors.items()
                                                        if d <= radius)
    failed_episode_path(tmp_path, min(errors, key=errors.get)).unlink()  # arrays not kept
    assert load_dataset(tmp_path, failures_within=radius).failures == 1
    with pytest.raises(ConfigError, match="failures_within"):
        load_dataset(tmp_path, failures_within=float("nan"))


def test_a_spot_dataset_names_its_cost_and_one_on_the_straight_line_reads_as_before():
    """meta.json of a plain Spot collection says geodesic and its yaw weight; one on the
    straight line at the old yaw weight says neither, as folders collected before the
    defaults changed, so those resume and their card's command rebuilds them so."""
    from gpc_planner.collect import CollectSpec, render_data_card

    plain = CollectSpec(task="spot_chair", episodes=1)
    assert plain.settings()["task_options"]["goal_distance"] == "geodesic"
    assert plain.settings()["task_options"]["w_yaw"] == 15.0
    straight = CollectSpec(task="spot_chair", episodes=1,
                           task_options={"goal_distance": "euclidean", "w_yaw": 6.0})
    assert "goal_distance" not in straight.settings()["task_options"]
    assert "w_yaw" not in straight.settings()["task_options"]
    card = {"task": "spot_chair", "episodes": 1, "successes": 1, "success_rate": 1.0,
            "stopped_early": 0, "samples": 1, "core_hours": 0.0, "wall_hours": 0.0,
            "costed_episodes": 1, "settings": straight.settings()}
    command = render_data_card(card, "d")
    assert "--task-option goal_distance=euclidean" in command
    assert "--task-option w_yaw=6.0" in command


def test_a_task_s_tuned_settings_for_the_collecting_method_are_part_of_the_settings():
    """nav_dyn's CEM starts from its own spread (``Task.method_settings``): the folder
    pins it, so a collection never resumes under another; push's meta is as before."""
    from gpc_planner.collect import CollectSpec

    nav = CollectSpec(task="nav_dyn", episodes=1).settings()
    assert nav["method_settings"] == make_task("nav_dyn", nthread=1).method_settings["cem"]
    assert "method_settings" not in CollectSpec(task="push_t", episodes=1).settings()
