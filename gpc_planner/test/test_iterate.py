"""gpc iterate: rounds of collection and training, with an online evaluation per round."""

import json
from dataclasses import replace

import pytest
import torch

from gpc_planner.collect import CollectSpec
from gpc_planner.evaluation import EvalSpec
from gpc_planner.iterate import iterate
from gpc_planner.proposals.train import TrainConfig
from gpc_sim.errors import ConfigError
from gpc_sim.push.task import PushTask

torch.set_num_threads(1)

TINY = CollectSpec(task="push_t", episodes=2, rollouts=4, horizon=0.3, iterations=1,
                   max_steps=40, flow_steps=2)
EVAL = EvalSpec(task="push_t", method="gpc_cem", trials=2, rollouts=4, horizon=0.3,
                max_steps=20, flow_steps=2)
CONFIG = TrainConfig(epochs=2, batch_size=4, warmup_steps=1, hidden=16, layers=2, lr=1e-3)


def test_rounds_collect_with_the_previous_model_and_evaluate_it(tmp_path, monkeypatch):
    # Success = the pusher reaches x >= 0.25: reachable within a tiny episode.
    monkeypatch.setattr(PushTask, "success", lambda self, state: state[0] >= 0.25 - 1e-9)
    summary = iterate(TINY, 2, CONFIG, tmp_path, progress=False, evaluation=EVAL)
    rows = summary["iterations"]
    assert [r["method"] for r in rows] == ["cem", "gpc_cem"]
    assert rows[1]["proposal"] == str(tmp_path / "iter_00" / "model" / "model.pt")
    assert rows[0]["cem_sample_ratio_mean"] is None
    assert 0.0 <= rows[1]["cem_sample_ratio_mean"] <= 1.0
    for r in rows:
        assert r["eval"]["trials"] == 2 and 0.0 <= r["eval"]["cem_sample_ratio_mean"] <= 1.0
    assert (tmp_path / "iterations.png").is_file()
    assert json.loads((tmp_path / "iterations.json").read_text())["iterations"] == rows

    # A rerun finds every round done: nothing is collected, trained or evaluated again.
    stamps = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*")
              if p.suffix in (".npz", ".pt") or p.name == "eval.json"}
    assert sum(p.name == "eval.json" for p in stamps) == 2
    again = iterate(TINY, 2, CONFIG, tmp_path, progress=False, evaluation=EVAL)
    assert again["iterations"] == rows
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps

    # A finished round's evaluation is reused only for the same evaluation settings.
    with pytest.raises(ConfigError, match="eval.json is an evaluation with other settings"):
        iterate(TINY, 2, CONFIG, tmp_path, progress=False, evaluation=replace(EVAL, trials=3))


def test_rounds_without_evaluation_have_no_eval_entry(tmp_path, monkeypatch):
    monkeypatch.setattr(PushTask, "success", lambda self, state: state[0] >= 0.25 - 1e-9)
    summary = iterate(TINY, 1, CONFIG, tmp_path, progress=False)
    assert "eval" not in summary["iterations"][0]
    with pytest.raises(KeyError):
        summary["iterations"][0]["eval"]
