"""gpc train --method nfmpc|flow_mppi: episodic training, resume, files, and the trained
flows planning in gpc eval."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from gpc_planner.cli.main import main
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_planner.proposals.model_files import load_model_file
from gpc_planner.proposals.nf_train import NFTrainConfig, train_nf
from gpc_sim.errors import ConfigError

torch.set_num_threads(1)
TINY = NFTrainConfig(episodes=2, rollouts=4, couplings=2, hidden=8, layers=1,
                     checkpoint_every=1, max_steps=6)


def weights(path):
    return torch.load(path, weights_only=True)


@pytest.fixture(scope="module", params=["nfmpc", "flow_mppi"])
def trained(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param)
    records = []
    card = train_nf(replace(TINY, method=request.param), out, progress=False,
                    on_episode=lambda e, r: records.append(r))
    return request.param, out, card, records


def test_training_writes_the_model_its_card_and_a_plot(trained):
    method, out, card, records = trained
    for name in ("model.pt", "checkpoint.pt", "model_card.md", "model_card.json",
                 "training.png"):
        assert (out / name).is_file(), name
    assert load_model_file(out / "model.pt").kind == method
    assert json.loads((out / "model_card.json").read_text())["episodes"] == 2 == len(records)
    assert card["controller"]["num_rollouts"] == 4
    assert all(r["steps"] <= 6 for r in records)
    text = (out / "model_card.md").read_text()
    assert f"gpc train --method {method}" in text
    # NFMPC's card says how its shift was trained; FlowMPPI has none.
    shift = "- latent shift: learnt from the time shift, zero appended; backpropagation " \
        "through 5 steps"
    assert (shift in text) == (method == "nfmpc")


def test_a_resumed_training_ends_with_the_weights_of_an_uninterrupted_one(trained, tmp_path):
    method, out, _, records = trained
    config = replace(TINY, method=method)
    resumed = tmp_path / "resumed"
    train_nf(replace(config, episodes=1), resumed, progress=False)
    with pytest.raises(ConfigError, match="other settings"):  # 1 episode != 2 episodes
        train_nf(config, resumed, progress=False)
    ckpt = weights(resumed / "checkpoint.pt")
    ckpt["header"]["config"]["episodes"] = 2  # same run, stopped after its first episode
    torch.save(ckpt, resumed / "checkpoint.pt")
    seen = []
    train_nf(config, resumed, progress=False, on_episode=lambda e, r: seen.append(e))
    assert seen == [2]  # only the second episode ran
    a, b = weights(out / "model.pt"), weights(resumed / "model.pt")
    for key in a["state_dict"]:
        torch.testing.assert_close(a["state_dict"][key], b["state_dict"][key], rtol=0, atol=0)
    assert weights(resumed / "checkpoint.pt")["history"][1]["loss"] == records[1]["loss"]


def test_a_trained_flow_plans_a_trial_of_gpc_eval(trained):
    method, out, _, _ = trained
    summary = evaluate(EvalSpec(task="nav_dyn", method=method, trials=1, max_steps=5,
                                rollouts=8, model=(str(out / "model.pt"),)), progress=False)
    assert summary["trials"] == 1 and summary["per_trial"][0]["steps"] <= 5
    assert summary["header"]["model_sha256"]
    if method == "flow_mppi":
        assert summary["flow_weight_mean"] is not None


def test_the_methods_and_the_training_are_on_the_command_line(capsys):
    with pytest.raises(SystemExit):
        main(["eval", "--help"])
    text = capsys.readouterr().out
    assert "nfmpc" in text and "flow_mppi" in text and "nav_dyn" in text
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--method {gpc,nfmpc,flow_mppi}" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["--method", "nfmpc", "--epochs", "3"], "not an option of training method nfmpc: --epochs"),
    (["--method", "flow_mppi", "--data", "/x"], "flow_mppi: --data"),
    (["--method", "nfmpc", "--failures-within", "0.2"], "nfmpc: --failures-within"),
    (["--episodes", "3", "--data", "/x"], "training method gpc: --episodes"),
    ([], "the following arguments are required: --data"),
    (["--method", "flow_mppi", "--shift-tail", "hold"], "--shift-tail is an option of nfmpc"),
    (["--method", "flow_mppi", "--fixed-shift"], "--fixed-shift is an option of nfmpc"),
    (["--method", "gpc", "--shift-tail", "zero", "--data", "/x"], "gpc: --shift-tail"),
    (["--method", "flow_mppi", "--shift-anchor", "1"], "--shift-anchor is an option of nfmpc"),
])
def test_options_of_the_other_training_are_refused(args, needle, tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "m"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and needle in err, err


def test_gpc_train_method_nfmpc_runs_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["train", "--method", "nfmpc", "--task", "nav_dyn", "--out", str(out),
                 "--episodes", "1", "--rollouts", "3", "--couplings", "2", "--hidden", "8",
                 "--layers", "1", "--no-progress"]) == 0
    assert "nfmpc on nav_dyn, 1 episodes" in capsys.readouterr().out
    card = json.loads((out / "model_card.json").read_text())
    assert card["settings"]["hidden"] == 8 and card["settings"]["lr"] == 3e-4


def test_the_shift_ablation_trains_the_flow_and_keeps_the_time_shift(tmp_path):
    """--fixed-shift (the paper's App. A.4 ablation): the flow learns, the latent shift stays
    the plain time shift it starts as; FlowMPPI has no shift to keep fixed."""
    from gpc_planner.proposals.nf_train import new_model
    from gpc_sim.tasks import make_task

    config = replace(TINY, learn_shift=False)
    train_nf(config, tmp_path / "fixed", progress=False)
    trained = load_model_file(tmp_path / "fixed" / "model.pt")
    initial = new_model(make_task("nav_dyn", nthread=1), config)
    for name, value in initial.shift.state_dict().items():
        assert torch.equal(trained.shift.state_dict()[name], value), name
    assert any(not torch.equal(trained.flow.state_dict()[name], value)
               for name, value in initial.flow.state_dict().items())
    card_text = (tmp_path / "fixed" / "model_card.md").read_text()
    assert "kept at the time shift" in card_text
    assert "its latent shift kept fixed" in card_text and "learnt latent shift" not in card_text
    train_nf(TINY, tmp_path / "learnt", progress=False)  # the method itself moves the shift
    learnt = load_model_file(tmp_path / "learnt" / "model.pt")
    assert any(not torch.equal(learnt.shift.state_dict()[name], value)
               for name, value in initial.shift.state_dict().items())
    with pytest.raises(ConfigError, match="no latent shift model"):
        train_nf(replace(config, method="flow_mppi"), tmp_path / "f", progress=False)
    # The fixed shift is the one training starts from: the zero tail by default.
    task = make_task("nav_dyn", nthread=1)
    weight = initial.shift.linear.weight.detach().numpy()
    assert np.all(weight[-task.action_dim:] == 0.0)  # nothing held past the plan's end
    held = new_model(task, replace(config, shift_tail="hold")).shift.linear.weight
    assert np.all(held.detach().numpy()[-task.action_dim:].sum(1) == 1.0)
    # Results say which: the ablation's row is labelled apart from the method's.
    from gpc_planner.report import label

    rows = {}
    for name in ("fixed", "learnt"):
        spec = EvalSpec("nav_dyn", "nfmpc", trials=1, rollouts=4, max_steps=6,
                        model=str(tmp_path / name / "model.pt"))
        rows[name] = evaluate(spec, out=tmp_path / f"{name}.json", progress=False)
    assert rows["fixed"]["model_variant"] == "fixed shift"
    assert "model_variant" not in rows["learnt"]
    assert label(rows["fixed"]) == label(rows["learnt"]).replace("NFMPC", "NFMPC (fixed shift)")
    assert label(rows["fixed"]) != label(rows["learnt"])


def test_the_shift_anchor_holds_the_learnt_shift_near_its_start(tmp_path):
    """--shift-anchor W adds W x sum((theta - theta_0)^2) over the shift's weights: zero at
    the start, its gradient pointing back; a strong anchor moves the shift less than none;
    it is named on the card and refused without a learnt shift."""
    from gpc_planner.proposals.nf_train import anchor_penalty, new_model
    from gpc_sim.tasks import make_task

    initial = new_model(make_task("nav_dyn", nthread=1), TINY).shift
    start = [p.detach().clone() for p in initial.parameters()]
    assert anchor_penalty(initial, start).item() == 0.0
    with torch.no_grad():
        initial.linear.bias.add_(0.5)
    penalty = anchor_penalty(initial, start)
    assert penalty.item() == pytest.approx(0.25 * initial.linear.bias.numel())
    penalty.backward()
    assert torch.allclose(initial.linear.bias.grad, torch.full_like(initial.linear.bias, 1.0))

    def moved(name):
        shift = load_model_file(tmp_path / name / "model.pt").shift
        return anchor_penalty(shift, start).item()

    config = replace(TINY, episodes=3, select_window=0, lr=3e-2)
    train_nf(config, tmp_path / "free", progress=False)
    train_nf(replace(config, shift_anchor=1e4), tmp_path / "held", progress=False)
    assert moved("held") < 0.1 * moved("free")
    card = (tmp_path / "held" / "model_card.md").read_text()
    assert "held near it (penalty 10000" in card
    with pytest.raises(ConfigError, match="needs a learnt latent shift"):
        train_nf(replace(config, shift_anchor=1.0, learn_shift=False), tmp_path / "x",
                 progress=False)
    with pytest.raises(ConfigError, match="shift_anchor must be a number >= 0"):
        train_nf(replace(config, shift_anchor=float("nan")), tmp_path / "y", progress=False)


def test_the_model_file_holds_the_weights_of_the_best_training_window(tmp_path):
    """With select_window w, model.pt holds the weights after the episode that ended the
    w-episode window with the highest training success (the first of equals); the
    checkpoint keeps the last weights, and the card says which."""
    from gpc_planner.proposals.nf_train import better_window

    snapshots, records = [], []

    def keep(episode, record):
        records.append(record)
        ckpt = weights(tmp_path / "sel" / "checkpoint.pt")  # written before the callback
        snapshots.append(ckpt["flow"])

    config = replace(TINY, episodes=4, select_window=2)
    card = train_nf(config, tmp_path / "sel", progress=False, on_episode=keep)
    rates = [sum(r["success"] for r in records[i - 1:i + 1]) / 2 for i in range(1, 4)]
    chosen = 2 + rates.index(max(rates))  # episodes counted from 1
    assert card["selected"] == {"episode": chosen, "window": 2, "success_rate": max(rates)}
    saved = weights(tmp_path / "sel" / "model.pt")["state_dict"]
    for name, value in snapshots[chosen - 1].items():
        torch.testing.assert_close(saved[name], value)
    assert "highest training success" in (tmp_path / "sel" / "model_card.md").read_text()
    # The rule itself: a full, strictly better window replaces the best.
    history = [{"success": s} for s in (True, False, True, True)]
    model = load_model_file(tmp_path / "sel" / "model.pt")
    assert better_window(None, history[:1], 2, model) is None  # no full window yet
    first = better_window(None, history[:2], 2, model)
    assert first["episode"] == 2 and first["success_rate"] == 0.5
    assert better_window(first, history[:3], 2, model) is first  # a tie keeps the first
    assert better_window(first, history, 2, model)["episode"] == 4
    assert better_window(None, history, 0, model) is None  # 0: the last weights
    with pytest.raises(ConfigError, match="select_window"):
        train_nf(replace(TINY, select_window=-1), tmp_path / "bad", progress=False)
