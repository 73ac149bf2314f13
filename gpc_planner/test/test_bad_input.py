"""Bad input never passes silently (issue 22): hostile arguments and files give one line.

Each case runs the CLI in-process (``main(argv)``) or calls the library, at tiny sizes:
every refusal must come before any real work. Checked: the exit code, that stderr holds
exactly the one error line (no traceback), and the words of the message.
"""

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from gpc_planner import evaluation
from gpc_planner.atomic import JsonlLog
from gpc_planner.cli.main import main
from gpc_planner.collect import CollectSpec, collect, dataset_meta, load_dataset, write_episode
from gpc_planner.control import ControlSpline
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_planner.optimizers.gpc import NonFiniteProposal
from gpc_planner.outputs import check_output_dir, check_output_file, exclusive_output
from gpc_planner.proposals import load_proposal_model
from gpc_planner.proposals import train as train_mod
from gpc_planner.proposals.flow_model import FlowConfig, ModelInfo, Normalization, build_model
from gpc_planner.proposals.train import TrainConfig, TrainingDiverged, train
from gpc_planner.registry import make_optimizer
from gpc_planner.report import load_results
from gpc_sim import plant
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task

torch.set_num_threads(1)

EVAL = ["eval", "--task", "push_t", "--method", "cem", "--trials", "1", "--rollouts", "4",
        "--horizon", "0.3", "--max-steps", "3", "--workers", "1", "--no-progress"]
TINY_TRAIN = TrainConfig(epochs=3, batch_size=4, warmup_steps=1, hidden=8, layers=1,
                         checkpoint_every=1, lr=1e-3)


@pytest.fixture
def gpc(capsys):
    """``gpc ARGS`` in-process: (exit code, stdout, stderr); SIGTERM's handler restored."""
    def run(*args):
        previous = signal.getsignal(signal.SIGTERM)
        try:
            code = main([str(a) for a in args])
        except SystemExit as exit_:
            code = exit_.code
        finally:
            signal.signal(signal.SIGTERM, previous)
        out, err = capsys.readouterr()
        return code, out, err
    return run


def assert_one_line_error(result, needle):
    """Exit code 2 and stderr exactly one line, ``gpc CMD: error: ...``, holding ``needle``."""
    code, _, err = result
    lines = err.strip().splitlines()
    assert code == 2, err
    assert "Traceback" not in err
    assert len(lines) == 1 and ": error: " in lines[0], err
    assert needle in lines[0], lines[0]


def assert_argparse_error(result, needle):
    """argparse's usage lines plus one error line holding ``needle``; exit code 2."""
    code, _, err = result
    assert code == 2 and "Traceback" not in err
    errors = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(errors) == 1 and needle in errors[0], err


# --- journals: one writer, de-duplicated and validated on resume and in reports -------------

def spec(trials=2):
    return EvalSpec(task="push_t", method="cem", trials=trials, seed=0, rollouts=4, horizon=0.3,
                    max_steps=3)


def record(trial, success=False):
    return {"trial": trial, "success": success, "steps": 3, "final_error": 0.1,
            "cem_sample_ratio": None, "plan_time_ms": [1.0], "wall_time_s": 0.1,
            "initial_state": "x"}


def write_journal(path, lines):
    path.write_text("\n".join(ln if isinstance(ln, str) else json.dumps(ln) for ln in lines)
                    + "\n")


@pytest.fixture
def fake_trials(monkeypatch):
    """Trials that return at once (these tests check bookkeeping); records which ran."""
    ran = []

    def run_trial(task, s, trial):
        ran.append(trial)
        return record(trial, success=True)

    monkeypatch.setattr(evaluation, "run_trial", run_trial)
    return ran


def test_a_second_writer_of_the_same_output_is_refused_at_once(tmp_path, gpc, fake_trials):
    out = tmp_path / "e.json"
    with exclusive_output(out, f"{out}.lock"):
        with pytest.raises(ConfigError, match=r"is being written by another run \(pid "
                           rf"{os.getpid()}: .*lock {out}\.lock\)"):
            evaluate(spec(), out=out, progress=False)
        assert_one_line_error(gpc(*EVAL, "--out", out), "is being written by another run")
    assert fake_trials == [] and not out.exists()
    evaluate(spec(), out=out, progress=False)  # the lock is free again
    assert json.loads(out.read_text())["trials"] == 2
    assert not Path(f"{out}.lock").exists()


def test_a_second_collection_into_the_same_folder_is_refused(tmp_path):
    with exclusive_output(tmp_path, tmp_path / "collect.lock"):
        with pytest.raises(ConfigError, match="being written by another run"):
            collect(CollectSpec(task="push_t", episodes=1, rollouts=4, horizon=0.3,
                                max_steps=3), tmp_path, progress=False)
    assert not (tmp_path / "meta.json").exists()


def test_the_lock_of_a_killed_run_is_free(tmp_path):
    out, lock = tmp_path / "e.json", tmp_path / "e.json.lock"
    code = ("import sys, time\nfrom gpc_planner.outputs import exclusive_output\n"
            f"with exclusive_output({str(out)!r}, {str(lock)!r}):\n"
            "    print('locked', flush=True)\n    time.sleep(60)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ConfigError, match=f"pid {holder.pid}"):
            with exclusive_output(out, lock):
                pass
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, the kernel drops the flock
        holder.wait()
    assert lock.exists()  # left behind, but not held
    with exclusive_output(out, lock):
        pass


def test_resume_keeps_one_record_per_trial_in_range(tmp_path, fake_trials, capsys):
    """Two runs on one --out interleaved their journals: 8 trials must not report 9."""
    out = tmp_path / "e.json"
    journal = tmp_path / "e.json.partial.jsonl"
    write_journal(journal, [spec(3).header("push_t"), record(0), record(1), record(0),
                            record(-1), record(9)])
    summary = evaluate(spec(3), out=out, progress=False)
    assert fake_trials == [2]  # only the missing trial ran
    assert summary["trials"] == 3 and [r["trial"] for r in summary["per_trial"]] == [0, 1, 2]
    warning = [ln for ln in capsys.readouterr().err.splitlines() if "warning" in ln]
    assert len(warning) == 1
    assert "1 repeated record" in warning[0] and "line 4: trial 0" in warning[0]
    assert "2 records of trials outside 0..2" in warning[0]
    assert "line 5: trial -1" in warning[0] and "line 6: trial 9" in warning[0]


def test_invalid_records_are_reported_in_one_line_and_rerun(tmp_path, fake_trials, capsys):
    out = tmp_path / "e.json"
    write_journal(tmp_path / "e.json.partial.jsonl", [
        spec(4).header("push_t"), record(0), {"trial": 1}, "not json", [1, 2],
        {**record(2), "steps": "many"}, {**record(3), "trial": True}])
    summary = evaluate(spec(4), out=out, progress=False)
    assert sorted(fake_trials) == [1, 2, 3] and summary["trials"] == 4
    err = capsys.readouterr().err
    assert "Traceback" not in err
    (warning,) = [ln for ln in err.splitlines() if "warning" in ln]
    assert "skipped 5 invalid records" in warning
    for text in ("line 3: missing success", "line 4: not JSON", "line 5: a JSON list",
                 "line 6: steps is 'many'"):
        assert text in warning
    assert "and 1 more" in warning  # line 7 (trial true), past the four listed


def test_report_of_a_journal_with_bad_lines_counts_the_good_ones(tmp_path, gpc):
    path = tmp_path / "run.json.partial.jsonl"
    write_journal(path, [spec(5).header("push_t"), record(0, True), "{torn", record(0),
                         {"trial": "x"}, record(1), record(7)])
    code, out, err = gpc("report", path)
    assert code == 0 and "Traceback" not in err
    assert "| 2 of 5 (in progress) |" in out
    (warning,) = err.strip().splitlines()
    assert warning.startswith(f"warning: {path}: skipped 2 invalid records (line 3: not JSON")
    assert "line 4: trial 0" in warning and "line 7: trial 7" in warning


def test_an_append_after_a_torn_line_is_not_lost(tmp_path):
    log = JsonlLog(tmp_path / "j.jsonl")
    log.path.write_text('{"trial": 0}\n{"trial": 1, "succ')
    log.append({"trial": 2})
    assert log.read() == [{"trial": 0}, {"trial": 2}]
    assert log.read_numbered() == ([(1, {"trial": 0}), (3, {"trial": 2})], [2])


# --- gpc train: non-finite data, a diverging loss, corrupt files ---------------------------

@pytest.fixture
def data_dir(tmp_path):
    """A two-episode collection folder written directly (no episodes run)."""
    task = make_task("push_t", nthread=1)
    cspec = CollectSpec(task="push_t", episodes=2, rollouts=4, horizon=0.3, iterations=1)
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "meta.json").write_text(json.dumps(dataset_meta(task, cspec, 0.3)))
    rng = np.random.default_rng(0)
    for e in range(2):
        obs = rng.uniform(-0.2, 0.2, (5, 6))
        knots = rng.uniform(-0.2, 0.2, (5, 4, 2))
        write_episode(folder, e, {"obs": obs, "hist": obs, "knots": knots,
                                  "step": np.arange(5) * 10, "steps": np.asarray(50),
                                  "cem_sample_ratio": np.full(5, np.nan)})
    return folder


def rewrite_episode(folder, episode, **changes):
    path = folder / "episodes" / f"ep_{episode:06d}.npz"
    with np.load(path) as f:
        arrays = dict(f)
    arrays.update(changes)
    np.savez(path, **arrays)
    return path


def test_train_refuses_non_finite_data_naming_file_array_and_count(data_dir, tmp_path, gpc):
    with np.load(data_dir / "episodes" / "ep_000001.npz") as f:
        knots, obs = f["knots"].copy(), f["obs"].copy()
    knots[0, 1, 0] = np.nan
    knots[2, 0, 1] = np.inf
    obs[3, 2] = np.nan
    path = rewrite_episode(data_dir, 1, knots=knots, obs=obs)
    with pytest.raises(ConfigError, match="3 non-finite values") as err:
        load_dataset(data_dir)
    assert f"{path}: obs 1, knots 2" in str(err.value)
    assert_one_line_error(gpc("train", "--data", data_dir, "--out", tmp_path / "m",
                              "--no-progress"), "ep_000001.npz: obs 1, knots 2")
    assert not (tmp_path / "m" / "model.pt").exists()


def test_train_stops_when_the_loss_becomes_non_finite(data_dir, tmp_path, monkeypatch):
    real, calls = train_mod.flow_matching_loss, []

    def diverging(*args):
        calls.append(1)
        loss = real(*args)
        return loss * float("nan") if len(calls) > 3 else loss  # 3 steps an epoch

    monkeypatch.setattr(train_mod, "flow_matching_loss", diverging)
    out = tmp_path / "m"
    with pytest.raises(TrainingDiverged, match="loss became nan at epoch 2, step 4") as err:
        train(load_dataset(data_dir), TINY_TRAIN, out, progress=False)
    assert isinstance(err.value, ConfigError)  # one line from the CLI, exit code 2
    assert not (out / "model.pt").exists()
    ckpt = torch.load(out / "checkpoint.pt", weights_only=True)  # epoch 1's, still finite
    assert ckpt["epoch"] == 1
    assert all(torch.isfinite(v).all() for v in ckpt["state_dict"].values())


def test_train_cli_with_a_huge_learning_rate_writes_no_nan_model(data_dir, tmp_path, gpc):
    out = tmp_path / "m"
    assert_one_line_error(gpc("train", "--data", data_dir, "--out", out, "--epochs", "20",
                              "--batch-size", "4", "--hidden", "8", "--layers", "1",
                              "--warmup", "0", "--lr", "1e30", "--no-progress"),
                          "training diverged")
    assert not (out / "model.pt").exists()


@pytest.mark.parametrize("damage, needle", [
    ("truncate", "not a readable episode file (truncated or corrupt"),
    ("garbage", "not a readable episode file"),
    ("no_knots", "no array knots"),
    ("shape", "knots is float64 (5, 3, 2), expected float (5, 4, 2)"),
])
def test_corrupt_episode_files_are_named(data_dir, tmp_path, gpc, damage, needle):
    path = data_dir / "episodes" / "ep_000000.npz"
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(os.urandom(500))
    elif damage == "no_knots":
        with np.load(path) as f:
            arrays = {k: v for k, v in f.items() if k != "knots"}
        np.savez(path, **arrays)
    else:
        rewrite_episode(data_dir, 0, knots=np.zeros((5, 3, 2)))
    with pytest.raises(ConfigError, match="ep_000000.npz") as err:
        load_dataset(data_dir)
    assert needle in str(err.value)
    assert_one_line_error(gpc("train", "--data", data_dir, "--out", tmp_path / "m",
                              "--no-progress"), "ep_000000.npz")


@pytest.mark.parametrize("meta, needle", [
    (b"\x80\x81\x00binary", "is not valid JSON"), (b"[1, 2]", "not a JSON object"),
    (b'{"format_version": 1, "task": "push_t"}', "lacks observation_names"),
])
def test_bad_meta_json_is_one_line(data_dir, meta, needle):
    (data_dir / "meta.json").write_bytes(meta)
    with pytest.raises(ConfigError, match=needle):
        load_dataset(data_dir)


def test_invalid_failure_lines_of_a_collection_are_skipped_with_a_warning(tmp_path, capsys):
    from gpc_planner.collect import finished_episodes

    (tmp_path / "failed.jsonl").write_text('{"episode": 3}\n{"episode": "x"}\n[1]\n{"ep\n')
    assert finished_episodes(tmp_path) == (set(), {3})
    (warning,) = capsys.readouterr().err.strip().splitlines()
    assert "skipped 3 invalid lines (line 2, 3, 4" in warning


# --- proposal models: non-finite output, files that are not models --------------------------

def tiny_model():
    info = ModelInfo("push_t", "push", [f"o{i}" for i in range(6)], [0.0, 0.1, 0.2, 0.3],
                     "cubic", [-0.35, -0.35], [0.35, 0.35])
    norm = Normalization(np.zeros(6), np.ones(6), np.zeros(8), np.ones(8))
    return build_model(6, (4, 2), FlowConfig(hidden=8, layers=1, time_features=2), norm, info)


def test_a_model_that_outputs_non_finite_controls_is_an_error_when_sampled():
    model = tiny_model()
    with torch.no_grad():
        model.net.net[-1].weight.fill_(3e38)  # finite, but float32 overflows to inf
    model.source = "huge.pt"
    with pytest.raises(NonFiniteProposal, match="huge.pt produced non-finite controls"):
        model.sample(np.ones(6), np.ones(6), 8)


class NaNProposal:
    source = "fake.pt"

    def sample(self, obs, hist, n, flow_steps=10, generator=None, noise=1.0):
        knots = np.zeros((n, 4, 2))
        knots[1, 2, 0] = np.nan
        return knots


@pytest.mark.parametrize("method", ["gpc_shoot", "gpc_cem"])
def test_gpc_optimizers_refuse_non_finite_proposals(method):
    spline = ControlSpline(horizon=1.0, num_knots=4, dt=0.01, kind="linear")
    opt = make_optimizer(method, spline, -np.ones(2), np.ones(2), np.random.default_rng(0),
                         proposal=NaNProposal(), num_rollouts=8)
    opt.reset(np.zeros((4, 2)))
    opt.set_context(np.zeros(6), np.zeros(6))
    with pytest.raises(NonFiniteProposal, match=r"fake.pt .* in 1 of \d samples"):
        opt.sample(0)


@pytest.mark.parametrize("content, needle", [
    ("nan", "non-finite weights or normalization values"),
    ("garbage", "is not a readable model file"),
    ("wrong_keys", "lacks format_version"),
    ("not_dict", "no dict inside"),
    (None, "not found"),
])
def test_model_files_that_are_not_models_are_one_line(tmp_path, gpc, content, needle):
    path = tmp_path / "m.pt"
    if content == "nan":
        model = tiny_model()
        with torch.no_grad():
            model.net.net[0].weight[0, 0] = float("nan")
        model.save(path)
    elif content == "garbage":
        path.write_bytes(b"\x00garbage" * 64)
    elif content == "wrong_keys":
        torch.save({"hello": 1}, path)
    elif content == "not_dict":
        torch.save([1, 2], path)
    with pytest.raises(ConfigError, match=needle):
        load_proposal_model(path)
    assert_one_line_error(gpc(*EVAL[:4], "gpc_shoot", *EVAL[5:], "--model", path), needle)


# --- MuJoCo's warnings stay off stdout ------------------------------------------------------

def test_mujoco_warnings_do_not_break_eval_json(monkeypatch, capfd, caplog, tmp_path):
    """NaN controls make MuJoCo warn; its printf went to stdout, into the JSON."""
    monkeypatch.chdir(tmp_path)
    step = plant.MujocoPlant.step
    monkeypatch.setattr(plant.MujocoPlant, "step",
                        lambda self, control: step(self, np.full_like(control, np.nan)))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert main([*EVAL, "--json"]) == 0
    finally:
        signal.signal(signal.SIGTERM, previous)
    out, _ = capfd.readouterr()
    assert json.loads(out)["trials"] == 1
    assert "MuJoCo: Nan, Inf or huge value in CTRL" in caplog.text  # logged (stderr), not printed
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()


def test_mujoco_warnings_from_rollout_threads_go_to_the_log(capfd, caplog, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    task = make_task("push_t", nthread=2)
    state = task.sample_initial_state(np.random.default_rng(0))
    task.rollout(state, np.full((4, 3, 2), np.nan))
    assert capfd.readouterr().out == ""
    assert [r.name for r in caplog.records] == ["gpc_sim.mujoco"] * 4  # one per rollout


# --- outputs that cannot be written: refused before any work -------------------------------

def under_a_file(tmp_path):
    (tmp_path / "plain").write_text("x")
    return tmp_path / "plain" / "x"


BAD_OUTPUTS = {
    "proc": (lambda tmp: Path("/proc/gpc_x"), "kernel pseudo-filesystem"),
    "sys": (lambda tmp: Path("/sys/gpc_x"), "kernel pseudo-filesystem"),
    "under a file": (under_a_file, "which is a file, not a directory"),
}


@pytest.mark.parametrize("where", BAD_OUTPUTS)
@pytest.mark.parametrize("command", ["eval", "collect", "train", "iterate", "demo", "report"])
def test_outputs_that_cannot_be_written_are_refused_up_front(tmp_path, gpc, command, where):
    make, needle = BAD_OUTPUTS[where]
    out = make(tmp_path)
    args = {
        "eval": [*EVAL, "--out", f"{out}.json"],
        "collect": ["collect", "--task", "push_t", "--episodes", "1", "--out", out],
        "train": ["train", "--data", tmp_path / "no_data", "--out", out],
        "iterate": ["iterate", "--task", "push_t", "--iterations", "1", "--episodes", "1",
                    "--out", out],
        "demo": ["demo", "--out", out],
        "report": ["report", tmp_path / "none.json", "--plot", f"{out}.png"],
    }[command]
    assert_one_line_error(gpc(*args), needle)


def test_a_directory_is_no_output_file_and_a_file_no_output_folder(tmp_path, gpc):
    assert_one_line_error(gpc(*EVAL, "--out", tmp_path), "is a directory; give a file name")
    (tmp_path / "f").write_text("x")
    assert_one_line_error(gpc("train", "--data", tmp_path, "--out", tmp_path / "f"),
                          "exists and is not a directory")
    assert check_output_file(tmp_path / "new" / "e.json", "x") == tmp_path / "new" / "e.json"
    assert check_output_dir(tmp_path / "d", "x").is_dir()
    assert os.listdir(tmp_path / "new") == []  # the write test leaves nothing behind


# --- sizes that cannot fit, numbers that do not parse ---------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["--rollouts", "100000000"], "a planning batch of 100000000 rollouts x 30 steps needs "
                                  "about 360 GB of memory"),
    (["--horizon", "1e9"], "rollouts x 100000000000 steps needs about"),
    (["--horizon", "1e-9"], "horizon must be at least one control step (0.01 s)"),
    (["--workers", "100000"], "workers must be at most"),
    (["--trials", "1000000000000"], "trials must be at most 1000000"),
    (["--max-steps", "1000000000000"], "max_steps must be at most 10000000"),
])
def test_sizes_that_cannot_fit_are_refused_with_the_estimate(gpc, args, needle):
    result = gpc(*EVAL, *args)
    assert_one_line_error(result, needle)


@pytest.mark.parametrize("value", ["1e23", str(2**32), "-1", "1.5"])
def test_seeds_must_fit_every_generator(gpc, value):
    assert_argparse_error(gpc(*EVAL, "--seed", value), "expected a seed, an integer in [0, "
                                                       "4294967295]")


@pytest.mark.parametrize("args, needle", [
    (["bench", "rollout", "--task", "push_t", "--threads", "100000"],
     "rollout threads must be at most"),
    (["bench", "rollout", "--task", "push_t", "--rollouts", "100000000", "--horizon", "0.3"],
     "needs about 360 GB"),
    (["collect", "--task", "push_t", "--episodes", "1", "--rollouts", "100000000",
      "--horizon", "0.3", "--out", "{tmp}/c"], "needs about 360 GB"),
    (["collect", "--task", "push_t", "--episodes", "10000000", "--out", "{tmp}/c"],
     "episodes must be at most 1000000"),
    (["train", "--data", "{tmp}", "--out", "{tmp}/m", "--threads", "100000"],
     "threads must be at most"),
])
def test_other_commands_refuse_sizes_too(tmp_path, gpc, args, needle):
    assert_one_line_error(gpc(*[a.format(tmp=tmp_path) for a in args]), needle)


def test_a_network_that_cannot_fit_is_refused(data_dir, tmp_path):
    config = TrainConfig(epochs=1, hidden=1_000_000, layers=3)
    with pytest.raises(ConfigError, match="a 3 x 1000000 network .* needs about .* TB"):
        train(load_dataset(data_dir), config, tmp_path / "m", progress=False)
    assert not (tmp_path / "m").exists()  # refused before the output was touched


# --- gpc report: inputs of the wrong shape ---------------------------------------------------

@pytest.mark.parametrize("content, needle", [
    ("[1, 2]", "not a gpc eval result (a JSON list, not an object)"),
    ('{"a": 1}', "missing task, method"),
    ("", "not valid JSON"),
    (b"\x80\x00\xff", "not valid JSON (not a text file)"),
    ('{"task": 1, "method": "cem", "trials": 2, "success_rate": 0.5, "ci_low": 0, '
     '"ci_high": 1}', "task is 1"),
    ('{"task": "t", "method": "cem", "trials": 2, "success_rate": "a", "ci_low": 0, '
     '"ci_high": 1}', "success_rate is 'a'"),
    (None, "no such file"),
    ("dir", "cannot read"),
])
def test_report_inputs_of_the_wrong_shape_are_one_line(tmp_path, gpc, content, needle):
    path = tmp_path / "r.json"
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match="r.json"):
        load_results([str(path)])
    assert_one_line_error(gpc("report", path), needle)

