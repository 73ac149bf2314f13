"""The command line: help everywhere, one-line errors, and the JSON contract."""

import json
import subprocess
import sys

import pytest

from gpc_planner.cli.main import main


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "gpc_planner.cli.main", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [[], ["eval"], ["bench"], ["bench", "rollout"], ["report"],
                                  ["demo"], ["model"], ["model", "set-sampling"]])
def test_help_everywhere(args, capsys):
    with pytest.raises(SystemExit) as code:
        main([*args, "--help"])
    assert code.value.code == 0
    assert "usage: gpc" in capsys.readouterr().out


@pytest.mark.parametrize("args, needle", [
    (["eval", "--task", "push_t", "--method", "cem", "--trials", "0"], "positive integer"),
    (["eval", "--task", "nowhere", "--method", "cem"], "invalid choice"),
    (["eval", "--task", "push_t", "--method", "cem", "--horizon", "nan"], "positive number"),
    (["eval", "--task", "push_t", "--method", "gpc_shoot", "--flow-noise", "0"],
     "positive number"),
    (["eval", "--task", "push_t", "--method", "cem", "--shape", "/no/such.yaml"], "not found"),
    (["eval", "--task", "push_t", "--method", "cem", "--method-option", "sigma"],
     "expected KEY=VALUE"),
    (["eval", "--task", "push_t", "--method", "mppi", "--method-option", "temprature=0.01"],
     "MPPI has no setting temprature"),
])
def test_bad_arguments_give_one_line_errors_not_tracebacks(args, needle):
    result = run_cli(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert needle in result.stderr
    assert len([ln for ln in result.stderr.splitlines() if "error" in ln]) == 1


def test_malformed_shape_file_is_one_line(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("rectangles: [oops")
    result = run_cli("eval", "--task", "push_t", "--method", "cem", "--shape", str(bad))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert str(bad) in result.stderr


def test_bench_rollout_prints_the_figures():
    result = run_cli("bench", "rollout", "--task", "push_t", "--rollouts", "4", "--horizon",
                     "0.2", "--repeats", "2", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert {"engine_ms", "physics_ms", "ratio", "plan_iteration_ms"} <= set(figures)
    assert figures["ratio"] == pytest.approx(figures["engine_ms"] / figures["physics_ms"], rel=1e-2)


def start_eval_with_trials_done(tmp_path, done=3):
    """A 100-trial, 2-worker ``gpc eval`` in its own session, once ``done`` trials are in."""
    import time

    out = tmp_path / "e.json"
    journal = tmp_path / "e.json.partial.jsonl"
    args = ["eval", "--task", "push_t", "--method", "cem", "--trials", "100", "--seed", "2",
            "--rollouts", "8", "--horizon", "0.5", "--max-steps", "30", "--workers", "2",
            "--no-progress", "--out", str(out)]
    import signal

    # SIGINT as in a terminal, whatever this test run inherited (a background job ignores
    # it, and Python then installs no KeyboardInterrupt handler in the child).
    proc = subprocess.Popen([sys.executable, "-m", "gpc_planner.cli.main", *args],
                            start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
            not journal.exists() or len(journal.read_text().splitlines()) < done):
        time.sleep(0.05)
    return proc, args, out, journal


def test_ctrl_c_prints_one_line_and_the_rerun_resumes(tmp_path):
    """Ctrl-C reaches the whole process group (parent and workers), as in a terminal."""
    import os
    import signal

    proc, args, out, journal = start_eval_with_trials_done(tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "interrupted" in err
    assert not out.exists()
    kept = len(journal.read_text().splitlines()) - 1
    assert 2 <= kept < 100
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    trials = [r["trial"] for r in json.loads(out.read_text())["per_trial"]]
    assert trials == list(range(100))


def test_sigterm_to_the_parent_alone_stops_its_workers_and_keeps_finished_trials(tmp_path):
    """``kill PID`` reaches only the parent: it must stop its pool itself, with one line."""
    import os
    import signal
    import time

    proc, _, _, journal = start_eval_with_trials_done(tmp_path)
    os.kill(proc.pid, signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "Traceback" not in err and "interrupted" in err
    gone = False  # no orphaned worker left in its session (the resource tracker exits last)
    deadline = time.monotonic() + 20
    while not gone and time.monotonic() < deadline:
        try:
            os.killpg(proc.pid, 0)
            time.sleep(0.1)
        except ProcessLookupError:
            gone = True
    assert gone
    kept = len(journal.read_text().splitlines()) - 1
    assert 2 <= kept < 100


def test_errors_in_the_library_words_get_the_flag_of_the_command_that_ran():
    from gpc_planner.cli.main import build_parser, option_for

    parser = build_parser()

    def flag(argv, setting):
        return option_for(parser, parser.parse_args(argv), setting)

    assert flag(["eval", "--task", "push_t", "--method", "cem"], "flow_noise") == "--flow-noise"
    assert flag(["eval", "--task", "push_t", "--method", "cem"], "trials") == "--trials"
    iterate = ["iterate", "--task", "push_t", "--iterations", "1", "--episodes", "1",
               "--out", "x"]
    assert flag(iterate, "iterations") == "--cem-iterations"  # its --iterations counts rounds
    assert flag(["model", "set-sampling", "m.pt", "--method", "gpc_cem"],
                "flow_steps") == "--flow-steps"
    assert flag(["report", "x.json"], "flow_noise") is None
    assert flag(["eval", "--task", "push_t", "--method", "cem"], None) is None


def test_model_set_sampling_and_an_eval_that_follows_it(tmp_path, capsys):
    from test_flow_model import push_model

    a, b = tmp_path / "a.pt", tmp_path / "b.pt"
    push_model(seed=1).save(a)
    push_model(seed=1).save(b)
    assert main(["model", "set-sampling", str(a), "--method", "gpc_cem", "--flow-noise", "2",
                 "--flow-steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "gpc_cem samples it with flow noise 2, 3 flow steps" in out
    assert "| gpc_cem | any | 2 | 3 |" in (tmp_path / "a.model_card.md").read_text()
    assert main(["model", "set-sampling", str(a), "--method", "gpc_cem"]) == 2
    assert "error: nothing to set" in capsys.readouterr().err
    assert main(["model", "set-sampling", str(a), "--method", "gpc_cem", "--task", "push_k",
                 "--flow-noise", "2.5"]) == 0
    assert "gpc_cem on push_k samples it with flow noise 2.5, 3 flow steps" in (
        capsys.readouterr().out)
    assert "| gpc_cem | push_k | 2.5 | 3 |" in (tmp_path / "a.model_card.md").read_text()
    # Two models of one evaluation that disagree: the library's words, then the flag.
    eval_args = ["eval", "--task", "push_t", "--method", "gpc_cem", "--trials", "1",
                 "--rollouts", "4", "--horizon", "0.3", "--max-steps", "5", "--workers", "1",
                 "--no-progress", "--json", "--model", str(a), str(b)]
    assert main(eval_args) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "recommend different flow_noise" in line and line.endswith("(option --flow-noise)")
    assert main([*eval_args[:-2], str(a)]) == 0
    settings = json.loads(capsys.readouterr().out)["settings"]
    assert (settings["flow_noise"], settings["flow_steps"]) == (2.0, 3)


def test_collect_with_a_proposal_samples_it_as_its_card_says(tmp_path):
    from test_flow_model import push_model

    from gpc_planner.cli.collect_cmd import spec_from_args
    from gpc_planner.cli.main import build_parser
    from gpc_planner.proposals.model_card import set_model_sampling

    model = tmp_path / "m.pt"
    push_model(seed=1).save(model)
    set_model_sampling(model, "gpc_cem", flow_noise=2.0)
    argv = ["collect", "--task", "push_t", "--episodes", "1", "--out", str(tmp_path / "d")]
    args = build_parser().parse_args([*argv, "--proposal", str(model)])
    spec = spec_from_args(args, 1, args.proposal)
    assert (spec.flow_noise, spec.flow_steps) == (2.0, 10)
    args = build_parser().parse_args([*argv, "--proposal", str(model), "--flow-noise", "1.5"])
    assert spec_from_args(args, 1, args.proposal).flow_noise == 1.5
    args = build_parser().parse_args(argv)  # plain CEM: the settings it always recorded
    spec = spec_from_args(args, 1, None)
    assert (spec.flow_noise, spec.flow_steps) == (1.0, 10)
