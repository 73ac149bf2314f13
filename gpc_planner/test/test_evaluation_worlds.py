"""``gpc eval`` and the Spot world presets: the settings name the worlds, a journal resumes
only in the physics it was started in, and headers of the original world are the ones
written before worlds existed (so those journals still resume). No episodes are run.
"""

from __future__ import annotations

import pytest

from gpc_planner.cli.main import build_parser
from gpc_planner.eval_journal import header_difference
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_sim.errors import ConfigError


def test_spot_specs_name_their_worlds_and_push_specs_have_none():
    spec = EvalSpec(task="spot_chair", method="cem")
    assert (spec.world, spec.plant_world) == ("balanced", "balanced")  # the default world
    assert spec.task_overrides() == {"world": "balanced", "plant_world": "balanced",
                                     "goal_distance": "geodesic",
                                     "w_yaw": 15.0}  # the defaults, recorded
    fast = EvalSpec(task="spot_chair_avoid", method="cem", world="fast")
    assert (fast.world, fast.plant_world) == ("fast", "fast")
    mixed = EvalSpec(task="spot_chair", method="cem", world="fast", plant_world="original")
    assert (mixed.world, mixed.plant_world) == ("fast", "original")
    push = EvalSpec(task="push_t", method="cem")
    assert (push.world, push.plant_world) == (None, None) and push.task_overrides() == {}


def test_headers_carry_the_worlds_unless_both_are_the_original():
    """A header without worlds means the original (journals from before worlds had names):
    the default world, balanced since, is named, so those journals never resume in it."""
    old_style = {"spec": {"task": "spot_chair", "method": "cem", "trials": 200, "seed": 0,
                          "rollouts": None, "horizon": None, "shape": None, "max_steps": None}}
    default = EvalSpec(task="spot_chair", method="cem").header("spot_chair")["spec"]
    assert (default["world"], default["plant_world"]) == ("balanced", "balanced")
    assert EvalSpec(task="spot_chair", method="cem", world="original", plant_world="original",
                    task_options={"goal_distance": "euclidean", "w_yaw": 6.0}
                    ).header("spot_chair") == old_style
    headers = [EvalSpec(task="spot_chair", method="cem", world=w, plant_world=p)
               .header("spot_chair")["spec"] for w, p in
               (("fast", None), ("fast", "original"), ("original", "fast"))]
    assert [(h["world"], h["plant_world"]) for h in headers] == [
        ("fast", "fast"), ("fast", "original"), ("original", "fast")]


def test_a_journal_of_another_world_is_not_resumed(tmp_path):
    out = tmp_path / "run.json"
    journal = tmp_path / "run.json.partial.jsonl"
    journal.write_text('{"spec": {"task": "spot_chair", "method": "cem", "trials": 1, '
                       '"seed": 0, "rollouts": null, "horizon": null, "shape": null, '
                       '"max_steps": null}}\n')
    spec = EvalSpec(task="spot_chair", method="cem", trials=1, world="fast")
    with pytest.raises(ConfigError, match="different evaluation"):
        evaluate(spec, workers=1, out=out, progress=False)


def test_eval_cli_takes_world_and_plant_world():
    args = build_parser().parse_args(["eval", "--task", "spot_chair", "--method", "cem",
                                      "--world", "fast", "--plant-world", "original"])
    assert (args.world, args.plant_world) == ("fast", "original")
    with pytest.raises(ConfigError, match="unknown Spot world"):
        evaluate(EvalSpec(task="spot_chair", method="cem", world="nope"), workers=1)
    with pytest.raises(ConfigError, match="no setting world"):
        evaluate(EvalSpec(task="push_t", method="cem", world="fast"), workers=1)


def test_task_options_reach_the_task_and_the_journal_and_a_resume_must_match(tmp_path):
    from gpc_planner.evaluation import EvalSpec
    from gpc_sim.errors import ConfigError
    from gpc_sim.tasks import make_task

    spec = EvalSpec(task="spot_chair", method="cem", trials=1,
                    task_options={"goal_distance": "geodesic"})
    assert spec.task_overrides()["goal_distance"] == "geodesic"
    assert make_task("spot_chair", nthread=1, **spec.task_overrides()).geodesic is not None
    header = spec.header("spot_chair")
    assert header["spec"]["task_options"] == {"goal_distance": "geodesic", "w_yaw": 15.0}
    plain = EvalSpec(task="spot_chair", method="cem", trials=1)
    assert plain.header("spot_chair")["spec"]["task_options"] == {"goal_distance": "geodesic",
                                                                  "w_yaw": 15.0}
    # A journal started with the yaw weight named (as the reruns of 2026-12-06 were) is the
    # plain run's: 15 and 15.0 are the same setting.
    named = EvalSpec(task="spot_chair", method="cem", trials=1, task_options={"w_yaw": 15})
    assert header_difference(named.header("spot_chair"), plain.header("spot_chair")) is None
    old = {"goal_distance": "euclidean", "w_yaw": 6.0}
    straight = EvalSpec(task="spot_chair", method="cem", trials=1, task_options=old)
    assert "task_options" not in straight.header("spot_chair")["spec"]  # as journals before
    assert dict(straight.settings_record()["task_options"]) == old
    with pytest.raises(ConfigError, match="no setting colour"):
        make_task("spot_chair", nthread=1,
                  **EvalSpec(task="spot_chair", method="cem",
                             task_options={"colour": 1}).task_overrides())
