"""Evaluation: shared initial states, resume after interruption, the JSON contract."""

import json

import numpy as np
import pytest

from gpc_planner import evaluation
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_sim.errors import ConfigError

CONTRACT = {"task", "method", "trials", "seed", "successes", "success_rate", "ci_low", "ci_high",
            "steps_mean", "steps_std", "cem_sample_ratio_mean", "cem_sample_ratio_std",
            "plan_time_ms_median", "cost_median", "cost_q1", "cost_q3", "per_trial"}


def spec(method="cem", trials=3, seed=5):
    """Short episodes (30 steps): these tests check bookkeeping, not success."""
    return EvalSpec(task="push_t", method=method, trials=trials, seed=seed, rollouts=8,
                    horizon=0.5, max_steps=30)


def test_same_trials_get_the_same_initial_states_whatever_the_method():
    a = evaluate(spec("cem"), progress=False)
    b = evaluate(spec("mppi"), progress=False)
    assert [r["initial_state"] for r in a["per_trial"]] == [r["initial_state"]
                                                            for r in b["per_trial"]]
    c = evaluate(spec("cem", seed=6), progress=False)
    assert a["per_trial"][0]["initial_state"] != c["per_trial"][0]["initial_state"]


def test_summary_follows_the_contract(tmp_path):
    out = tmp_path / "e.json"
    summary = evaluate(spec(), out=out, progress=False)
    on_disk = json.loads(out.read_text())
    assert CONTRACT <= set(on_disk)
    assert on_disk["trials"] == 3 and len(on_disk["per_trial"]) == 3
    assert on_disk["ci_low"] <= on_disk["success_rate"] <= on_disk["ci_high"]
    assert {"success", "steps", "final_error", "coverage"} <= set(on_disk["per_trial"][0])
    assert summary["successes"] == sum(r["success"] for r in on_disk["per_trial"])
    assert not (tmp_path / "e.json.partial.jsonl").exists()
    walls = [r["wall_time_s"] for r in on_disk["per_trial"]]
    assert min(walls) > 0.0
    assert on_disk["trial_time_s_mean"] == pytest.approx(np.mean(walls))
    assert on_disk["trial_time_s_std"] == pytest.approx(np.std(walls))


def test_interrupted_run_resumes_without_repeating_trials(tmp_path, monkeypatch):
    out = tmp_path / "e.json"
    calls = []
    real = evaluation.run_trial

    def flaky(task, s, trial):
        calls.append(trial)
        if len(calls) == 3:
            raise KeyboardInterrupt  # the user presses Ctrl-C during the third trial
        return real(task, s, trial)

    monkeypatch.setattr(evaluation, "run_trial", flaky)
    with pytest.raises(KeyboardInterrupt):
        evaluate(spec(trials=4), out=out, progress=False)
    assert not out.exists()
    journal = (tmp_path / "e.json.partial.jsonl").read_text().splitlines()
    assert len(journal) == 3  # header + two finished trials
    with open(tmp_path / "e.json.partial.jsonl", "a") as f:
        f.write('{"trial": 9, "succ')  # and a torn line from the crash
    calls.clear()
    monkeypatch.setattr(evaluation, "run_trial", real)
    summary = evaluate(spec(trials=4), out=out, progress=False)
    assert [r["trial"] for r in summary["per_trial"]] == [0, 1, 2, 3]
    assert json.loads(out.read_text())["trials"] == 4


def test_a_finished_evaluation_is_read_back_not_run_again(tmp_path, monkeypatch, capsys):
    out = tmp_path / "e.json"
    first = evaluate(spec(), out=out, progress=False)
    stamp = out.stat().st_mtime_ns

    def no_trials(*args):
        raise AssertionError("a trial ran again")

    monkeypatch.setattr(evaluation, "run_trial", no_trials)
    assert evaluate(spec(), out=out, progress=False) == json.loads(out.read_text()) == first
    assert out.stat().st_mtime_ns == stamp
    assert "already holds this evaluation" in capsys.readouterr().err
    # Another evaluation into the same file is refused before any trial, the result kept.
    with pytest.raises(ConfigError, match=r"holds a finished evaluation with other settings "
                       r"\(spec.trials: 3 there"):
        evaluate(spec(trials=2), out=out, progress=False)
    assert out.stat().st_mtime_ns == stamp
    assert not (tmp_path / "e.json.partial.jsonl").exists()


def test_resume_refuses_a_journal_of_another_evaluation(tmp_path, monkeypatch):
    out = tmp_path / "e.json"
    (tmp_path / "e.json.partial.jsonl").write_text(json.dumps({"spec": {"task": "other"}}) + "\n")
    with pytest.raises(ConfigError, match=r"different evaluation \(spec.task: other there"):
        evaluate(spec(), out=out, progress=False)


def test_parallel_workers_give_the_same_records_as_one():
    one = evaluate(spec(trials=2), workers=1, progress=False)
    two = evaluate(spec(trials=2), workers=2, progress=False)
    for a, b in zip(one["per_trial"], two["per_trial"], strict=True):
        assert a["initial_state"] == b["initial_state"]
        assert a["steps"] == b["steps"]
        assert a["coverage"] == pytest.approx(b["coverage"], abs=1e-9)


def test_unknown_method_fails_before_any_work():
    with pytest.raises(ConfigError, match="unknown method"):
        evaluate(EvalSpec(task="push_t", method="nope", trials=1), progress=False)


def test_state_digest_is_stable():
    s = np.arange(5.0)
    assert evaluation.state_digest(s) == evaluation.state_digest(s.copy())
    assert evaluation.state_digest(s) != evaluation.state_digest(s + 1e-12)



def test_flow_noise_belongs_to_gpc_evaluations_only(tmp_path):
    from test_flow_model import push_model

    cem = EvalSpec("push_t", "cem")
    assert "flow_noise" not in cem.header("push_t")["spec"]
    assert EvalSpec("push_t", "cem", flow_noise=2.0).header("push_t") == cem.header("push_t")
    path = str(tmp_path / "model.pt")
    push_model(seed=1).save(path)
    paper = EvalSpec("push_t", "gpc_shoot", model=(path,))
    wide = EvalSpec("push_t", "gpc_shoot", model=(path,), flow_noise=2.0)
    assert paper.header("push_t")["spec"]["flow_noise"] == 1.0
    assert wide.header("push_t") != paper.header("push_t")  # a journal of one is not the other


def test_without_a_progress_bar_each_trial_is_logged_and_a_resume_says_so(
        tmp_path, capsys, monkeypatch):
    out = tmp_path / "e.json"
    real = evaluation.run_trial

    def stop_at_second(task, s, trial):
        if trial == 1:
            raise KeyboardInterrupt
        return real(task, s, trial)

    monkeypatch.setattr(evaluation, "run_trial", stop_at_second)
    with pytest.raises(KeyboardInterrupt):
        evaluate(spec(trials=3), out=out, progress=False)
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("gpc eval: push_t/cem: trial 0: ")
    assert "after 30 steps" in line and "final error" in line and "1 of 3 done" in line
    monkeypatch.setattr(evaluation, "run_trial", real)
    evaluate(spec(trials=3), out=out, progress=False)
    log = capsys.readouterr().err.splitlines()
    assert "resuming from" in log[0] and "1 of 3 trials done" in log[0]
    assert [entry.split(": ")[2] for entry in log[1:]] == ["trial 1", "trial 2"]
    assert "3 of 3 done" in log[-1]


def _carded(tmp_path, name, **sampling):
    """A toy push_t model file recommending ``sampling`` for GPC-CEM (none if empty)."""
    from test_flow_model import push_model

    from gpc_planner.proposals.model_card import set_model_sampling

    path = tmp_path / name
    push_model(seed=1).save(path)
    if sampling:
        set_model_sampling(path, "gpc_cem", **sampling)
    return str(path)


def tiny_gpc(model, trials=1, **flow):
    return EvalSpec(task="push_t", method="gpc_cem", trials=trials, rollouts=4, horizon=0.3,
                    max_steps=10, model=model, **flow)


def test_without_flow_settings_the_model_card_decides_and_the_json_says_so(tmp_path):
    carded = _carded(tmp_path, "a.pt", flow_noise=2.0, flow_steps=3)
    summary = evaluate(tiny_gpc((carded,)), progress=False)
    assert (summary["settings"]["flow_noise"], summary["settings"]["flow_steps"]) == (2.0, 3)
    assert summary["header"]["spec"]["flow_noise"] == 2.0
    given = evaluate(tiny_gpc((carded,), flow_noise=1.5), progress=False)
    assert (given["settings"]["flow_noise"], given["settings"]["flow_steps"]) == (1.5, 3)
    plain = tiny_gpc((_carded(tmp_path, "b.pt"),)).with_sampling("push_t")
    assert (plain.flow_noise, plain.flow_steps) == (1.0, 10)  # no card entry: the paper's
    cem = EvalSpec(task="push_t", method="cem").with_sampling("push_t")
    assert (cem.flow_noise, cem.flow_steps) == (1.0, 10)  # recorded as before, unused


def test_models_of_one_evaluation_must_agree_on_what_is_not_given(tmp_path):
    a = _carded(tmp_path, "a.pt", flow_noise=2.0)
    b = _carded(tmp_path, "b.pt", flow_noise=2.5)
    with pytest.raises(ConfigError, match="recommend different flow_noise") as err:
        evaluate(tiny_gpc((a, b), trials=2), out=tmp_path / "e.json", progress=False)
    assert err.value.setting == "flow_noise" and not (tmp_path / "e.json").exists()
    agreed = tiny_gpc((a, b), flow_noise=2.0).with_sampling("push_t")
    assert (agreed.flow_noise, agreed.flow_steps) == (2.0, 10)


def test_every_stat_a_method_reports_is_summarised(monkeypatch):
    """A method's own figures (``Optimizer.STATS``) get per-trial means and NAME_mean/_std
    without evaluation knowing them; cem_sample_ratio stays in the JSON for every method."""
    from test_registry import RandomWalk, WalkConfig

    from gpc_planner.registry import METHODS, MethodSpec

    monkeypatch.setitem(METHODS, "walk", MethodSpec(RandomWalk, WalkConfig))
    summary = evaluate(spec("walk", trials=2), progress=False)
    assert [r["spread"] for r in summary["per_trial"]] == pytest.approx([0.1, 0.1])
    assert summary["spread_mean"] == pytest.approx(0.1)
    assert summary["spread_std"] == pytest.approx(0.0, abs=1e-12)
    assert summary["cem_sample_ratio_mean"] is None and summary["per_trial"][0][
        "cem_sample_ratio"] is None


def test_cost_quartiles_are_over_the_successful_trials_that_recorded_a_cost():
    from gpc_planner.evaluation import success_cost_quartiles

    records = [{"success": True, "trajectory_cost": c} for c in (1.0, 2.0, 3.0, 4.0, 5.0)]
    records += [{"success": False, "trajectory_cost": 100.0},  # failures do not count
                {"success": True, "trajectory_cost": None},  # a blown-up one
                {"success": True}]  # a journal from before the cost was recorded
    assert success_cost_quartiles(records) == (2.0, 3.0, 4.0)
    assert success_cost_quartiles(records[5:]) == (None, None, None)


def test_a_method_option_plans_with_it_and_is_part_of_the_run(tmp_path):
    """``--method-option sigma=0.05``: the trials plan with it (other trajectories on the
    same starts), the journal's header and the result's settings name it, and a run
    without it is another evaluation; a plain run's header has no such field (older
    journals resume)."""
    from gpc_planner.report import label

    plain = evaluate(spec(trials=2), progress=False)
    narrow_spec = EvalSpec(task="push_t", method="cem", trials=2, seed=5, rollouts=8,
                           horizon=0.5, max_steps=30, method_options=(("sigma", 0.05),))
    narrow = evaluate(narrow_spec, out=tmp_path / "n.json", progress=False)
    assert [r["initial_state"] for r in narrow["per_trial"]] == [
        r["initial_state"] for r in plain["per_trial"]]
    assert [r["final_error"] for r in narrow["per_trial"]] != [
        r["final_error"] for r in plain["per_trial"]]
    assert narrow["settings"]["method_options"] == {"sigma": 0.05}
    assert "method_options" not in plain["settings"]
    assert narrow_spec.header("push_t")["spec"]["method_options"] == {"sigma": 0.05}
    assert "method_options" not in spec().header("push_t")["spec"]
    assert label(narrow) == "CEM, H=0.5 s, N=8, sigma=0.05"
    with pytest.raises(ConfigError, match="other settings"):
        evaluate(spec(trials=2), out=tmp_path / "n.json", progress=False)


@pytest.mark.parametrize(("options", "message"), [
    ((("temprature", 0.01),), r"MPPI has no setting temprature \(its settings: .*temperature"),
    ((("temperature", "low"),), "temperature must be like its default 0.02, got 'low'"),
    ((("iterations", 1.5),), "iterations must be like its default 1, got 1.5"),
    ((("num_rollouts", 64),), "num_rollouts has a setting of its own: use --rollouts"),
])
def test_a_bad_method_option_is_one_line_before_any_trial(monkeypatch, options, message):
    def no_trials(*args):
        raise AssertionError("a trial ran")

    monkeypatch.setattr(evaluation, "run_trial", no_trials)
    with pytest.raises(ConfigError, match=message):
        evaluate(EvalSpec(task="push_t", method="mppi", trials=1, method_options=options),
                 progress=False)
