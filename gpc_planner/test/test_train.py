"""gpc train (resume, files), GPC methods in evaluation, and the new CLI commands."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from gpc_planner.cli.main import main
from gpc_planner.collect import CollectSpec, collect, load_dataset
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_planner.methods import build_planner
from gpc_planner.proposals import default_model_path, load_proposal_model, shipped
from gpc_planner.proposals.train import TrainConfig, lr_factor, mirrored, train
from gpc_sim.errors import ConfigError
from gpc_sim.push.task import PushTask
from gpc_sim.task import initial_state_rng
from gpc_sim.tasks import make_task

torch.set_num_threads(1)

TINY = dict(task="push_t", rollouts=4, horizon=0.3, iterations=1, max_steps=40)
CONFIG = TrainConfig(epochs=4, batch_size=4, warmup_steps=2, hidden=16, layers=2,
                     checkpoint_every=1, lr=1e-3)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    mp = pytest.MonkeyPatch()
    mp.setattr(PushTask, "success", lambda self, state: state[0] >= 0.25 - 1e-9)
    try:
        collect(CollectSpec(episodes=3, **TINY), out, progress=False)
    finally:
        mp.undo()
    return out


def test_lr_schedule_warms_up_then_decays_to_zero():
    assert lr_factor(0, 10, 100) == pytest.approx(0.1)
    assert lr_factor(9, 10, 100) == pytest.approx(1.0)
    assert lr_factor(10, 10, 100) == pytest.approx(1.0)
    assert lr_factor(100, 10, 100) == pytest.approx(0.0, abs=1e-12)


def test_training_resumes_from_its_checkpoint_and_continues_the_step_count(tmp_path, data_dir):
    data = load_dataset(data_dir)  # 9 samples: 3 steps of 4 per epoch
    whole = train(data, CONFIG, tmp_path / "whole", progress=False)

    def stop_after_2(epoch, loss):
        if epoch == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(data, CONFIG, tmp_path / "cut", progress=False, on_epoch=stop_after_2)
    ckpt = torch.load(tmp_path / "cut" / "checkpoint.pt", weights_only=True)
    assert ckpt["epoch"] == 2 and ckpt["step"] == 6
    epochs = []
    resumed = train(data, CONFIG, tmp_path / "cut", progress=False,
                    on_epoch=lambda e, loss: epochs.append(e))
    assert epochs == [3, 4] and resumed["steps"] == whole["steps"] == 12
    a = torch.load(tmp_path / "whole" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(tmp_path / "cut" / "model.pt", weights_only=True)["state_dict"]
    for k in a:
        torch.testing.assert_close(a[k], b[k])  # same weights as without the interruption
    for name in ("model.pt", "loss.png", "model_card.md", "model_card.json"):
        assert (tmp_path / "cut" / name).is_file()
    card = json.loads((tmp_path / "cut" / "model_card.json").read_text())
    assert card["dataset"]["samples"] == 9 and card["seed"] == 0
    model = load_proposal_model(tmp_path / "cut" / "model.pt")
    assert model.knot_shape == (4, 2) and model.obs_dim == 6 and model.info.horizon == 0.3


def test_training_refuses_a_checkpoint_of_other_settings(tmp_path, data_dir):
    data = load_dataset(data_dir)
    train(data, CONFIG, tmp_path, progress=False)
    from gpc_sim.errors import ConfigError

    with pytest.raises(ConfigError, match="checkpoint.pt"):
        train(data, TrainConfig(**{**CONFIG.__dict__, "hidden": 8}), tmp_path, progress=False)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory, data_dir):
    out = tmp_path_factory.mktemp("model")
    train(load_dataset(data_dir), CONFIG, out, progress=False)
    return out / "model.pt"


@pytest.mark.parametrize("method", ["gpc_cem", "gpc_shoot"])
def test_gpc_methods_run_in_evaluation(tmp_path, model_path, method):
    spec = EvalSpec(task="push_t", method=method, trials=2, rollouts=4, horizon=0.3,
                    max_steps=25, model=str(model_path), flow_steps=2)
    summary = evaluate(spec, out=tmp_path / "r.json", progress=False)
    assert summary["trials"] == 2
    if method == "gpc_cem":
        assert 0.0 <= summary["cem_sample_ratio_mean"] <= 1.0
    else:
        assert summary["cem_sample_ratio_mean"] is None
    assert list(summary["settings"]["model"]) == [str(model_path)]


def test_trials_rotate_over_several_model_seeds(tmp_path, data_dir, model_path):
    """A GPC row spans model seeds: trial i uses model i mod n, on the same initial states."""
    other = tmp_path / "seed1"
    train(load_dataset(data_dir), TrainConfig(**{**CONFIG.__dict__, "seed": 1}), other,
          progress=False)
    models = (str(model_path), str(other / "model.pt"))
    spec = EvalSpec(task="push_t", method="gpc_cem", trials=3, rollouts=4, horizon=0.3,
                    max_steps=15, model=models, flow_steps=2)
    summary = evaluate(spec, out=tmp_path / "r.json", progress=False)
    assert [r["model_index"] for r in summary["per_trial"]] == [0, 1, 0]
    assert [m["trials"] for m in summary["per_model"]] == [2, 1]
    assert [m["model"] for m in summary["per_model"]] == list(models)
    header = spec.header("push_t")
    assert len(header["model_sha256"]) == 2 and header["model_sha256"][0] != header[
        "model_sha256"][1]
    single = EvalSpec(task="push_t", method="gpc_cem", trials=3, seed=0, rollouts=4,
                      horizon=0.3, max_steps=15, model=str(model_path), flow_steps=2)
    same_states = evaluate(single, progress=False)
    assert [r["initial_state"] for r in same_states["per_trial"]] == [
        r["initial_state"] for r in summary["per_trial"]]


def test_collection_with_a_proposal_records_the_cem_sample_ratio(tmp_path, model_path,
                                                                  monkeypatch):
    monkeypatch.setattr(PushTask, "success", lambda self, state: state[0] >= 0.25 - 1e-9)
    stats = collect(CollectSpec(episodes=1, proposal=str(model_path), **TINY), tmp_path,
                    progress=False)
    assert stats["successes"] == 1 and 0.0 <= stats["cem_sample_ratio_mean"] <= 1.0
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["method"] == "gpc_cem" and len(meta["settings"]["proposal_sha256"]) == 64


def test_the_classical_eval_journal_header_is_unchanged():
    spec = EvalSpec(task="push_t", method="cem")
    assert set(spec.header("push_t")["spec"]) == {"task", "method", "trials", "seed", "rollouts",
                                                   "horizon", "shape", "max_steps"}


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gpc_planner.cli.main", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [["collect"], ["train"], ["iterate"], ["bench", "proposal"]])
def test_help_of_the_gpc_commands(args, capsys):
    with pytest.raises(SystemExit) as code:
        main([*args, "--help"])
    assert code.value.code == 0
    assert "usage: gpc" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["eval", "--task", "push_t", "--method", "gpc_cem", "--model", "/no/such.pt"],
     "/no/such.pt not found"),
    (["train", "--data", "/no/such/dir", "--out", "/tmp/never"], "meta.json not found"),
])
def test_missing_files_give_one_line_errors(args, needle):
    result = run_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert needle in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_gpc_without_a_model_asks_for_one(capsys, monkeypatch, tmp_path):
    monkeypatch.setattr(shipped, "MODELS_DIR", tmp_path)  # an install without models
    assert main(["eval", "--task", "push_t", "--method", "gpc_cem", "--trials", "1"]) == 2
    assert "--model" in capsys.readouterr().err


def test_the_shipped_push_t_model_serves_push_t_and_push_k_with_its_card():
    path = default_model_path("push_t")
    assert path is not None and default_model_path("push_k") == path
    assert path.with_suffix(".model_card.md").is_file()
    for task, horizon in (("push_t", 3.0), ("push_k", 1.0)):
        model = load_proposal_model(path, make_task(task, nthread=1), horizon)
    knots = model.sample(np.zeros(6), np.zeros(6), 5, flow_steps=2)
    assert knots.shape == (5, 4, 2) and np.all(np.abs(knots) <= 0.35)


def test_the_shipped_spot_models_serve_both_chair_tasks_with_their_sampling():
    """Both chair tasks plan with the same three trained models (one file each); each
    file records the sampling measured best on each task: 2 flow steps for GPC-CEM,
    flow noise 1 on the chair push, 2 with the avoidance term (docs/SPOT_DATA.md)."""
    path = default_model_path("spot_chair")
    avoid_path = default_model_path("spot_chair_avoid")
    assert path is not None and avoid_path == path
    for seed in ("", "_seed1", "_seed2"):
        model_file = path.parent / f"spot_chair{seed}.pt"
        card = model_file.with_suffix(".model_card.md").read_text()
        assert "| gpc_cem | any | 1 | 2 |" in card
        assert "| gpc_cem | spot_chair_avoid | 2 | 2 |" in card
        for task_name, noise in (("spot_chair", 1.0), ("spot_chair_avoid", 2.0)):
            # No flow flags: the card's recommendation, not the paper's (10 steps, noise 1).
            planner = build_planner(make_task(task_name, nthread=1), "gpc_cem",
                                    np.random.default_rng(0), num_rollouts=8,
                                    model=str(model_file))
            assert planner.optimizer.config.flow_steps == 2
            assert planner.optimizer.config.flow_noise == noise
    task = make_task("spot_chair_avoid", nthread=1)
    state = task.sample_initial_state(initial_state_rng(0, 0))
    model = load_proposal_model(avoid_path, task, 4.0)
    knots = model.sample(task.observation(state), task.observation(state), 6)
    assert knots.shape == (6, 4, 9) and np.all(np.isfinite(knots))


def test_bench_proposal_prints_the_figures(model_path):
    result = run_cli("bench", "proposal", "--task", "push_t", "--rollouts", "4", "--horizon",
                     "0.3", "--repeats", "2", "--flow-steps", "2", "--model", str(model_path),
                     "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert set(figures["plan_iteration_ms"]) == {"cem", "gpc_cem", "gpc_cem_predrawn"}
    assert figures["sampling_ms"] > 0
    ms = figures["plan_iteration_ms"]
    # The ratios are computed before the times are rounded to 1 us (+-0.0005 ms each), and
    # rounded to 1e-4 themselves: g/c moves by at most 0.0005 (1 + g/c) / c.
    def ratio_ok(value: float, g: float, c: float) -> bool:
        return abs(value - (g / c - 1)) <= 1e-4 + 6e-4 * (1 + g / c) / c

    assert ratio_ok(figures["overhead"], ms["gpc_cem"], ms["gpc_cem_predrawn"])
    assert ratio_ok(figures["vs_cem"], ms["gpc_cem"], ms["cem"])
    assert np.isfinite(figures["overhead"])
    share = figures["sampling_share"]
    assert 0 < share and abs(share - figures["sampling_ms"] / ms["gpc_cem_predrawn"]) <= 1e-3


def test_pre_drawn_proposals_are_handed_out_set_after_set():
    from gpc_planner.bench import _PreDrawn

    sets = [np.full((3, 4, 2), float(i)) for i in range(2)]
    stand_in = _PreDrawn(sets)
    got = [stand_in.sample(None, None, 2)[0, 0, 0] for _ in range(3)]
    assert got == [0.0, 1.0, 0.0]


def test_mirror_doubles_the_data_with_reflected_samples(tmp_path, data_dir):
    data = load_dataset(data_dir)
    both = mirrored(data)
    n = len(data)
    assert len(both) == 2 * n
    np.testing.assert_array_equal(both.obs[n:, 0], -data.obs[:, 0])  # pusher x
    np.testing.assert_array_equal(both.obs[n:, 4], -data.obs[:, 4])  # sin yaw
    np.testing.assert_array_equal(both.hist[n:, 1], data.hist[:, 1])  # pusher y kept
    np.testing.assert_array_equal(both.knots[n:, :, 0], -data.knots[:, :, 0])
    card = train(data, replace(CONFIG, epochs=1, mirror=True), tmp_path / "m", progress=False)
    assert card["dataset"]["samples"] == 2 * n and card["settings"]["mirror"] is True
    assert "mirror images" in (tmp_path / "m" / "model_card.md").read_text()


def test_mirror_is_refused_for_a_task_without_the_symmetry(data_dir):
    data = load_dataset(data_dir)
    data.meta = {**data.meta, "task": "push_k"}
    with pytest.raises(ConfigError, match="no mirror symmetry"):
        mirrored(data)


def test_train_with_near_goal_failures_says_so_in_its_card(tmp_path, monkeypatch, capsys):
    """gpc train --failures-within M: the failures that ended within M of the goal join the
    successes, the card counts them, and a checkpoint of successes only is not continued."""
    out = tmp_path / "data"
    monkeypatch.setattr(PushTask, "success", lambda self, s: False)
    collect(CollectSpec(episodes=2, **{**TINY, "max_steps": 20}), out, progress=False)
    args = ["train", "--data", str(out), "--out", str(tmp_path / "m"), "--epochs", "1",
            "--batch-size", "4", "--hidden", "8", "--layers", "1", "--no-progress",
            "--failures-within", "10"]
    assert main(args) == 0
    card = json.loads((tmp_path / "m" / "model_card.json").read_text())
    assert card["dataset"]["failed_episodes"] == card["dataset"]["episodes"] == 2
    assert card["dataset"]["failures_within_m"] == 10.0
    assert main([*args[:-2], "--epochs", "1"]) == 2  # successes only: none here
    assert "no successful episodes" in capsys.readouterr().err
