"""--backend ray: a small Ray cluster on 127.0.0.1 gives the local backend's records and data,
a killed driver resumes from its journal, a killed worker's task runs again; without Ray
installed the backend is a one-line error naming the extra."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from gpc_planner import ray_backend
from gpc_planner.cli.main import main
from gpc_planner.collect import CollectSpec, collect, episode_path, finished_episodes
from gpc_planner.evaluation import EvalSpec, evaluate
from gpc_planner.ray_backend import RayBackend

# The cluster serves this machine only. With the first setting Ray keeps 127.0.0.1 as the
# node address (and binds its servers there) instead of swapping in the machine's external
# one; the head and every driver need it. No tokens, usage reports or dashboard either.
LOOPBACK = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_AUTH_MODE": "disabled",
            "RAY_USAGE_STATS_ENABLED": "0"}
# Push-T episodes of ~0.2 s (bookkeeping) and of ~1 s (long enough to kill mid-run).
QUICK = dict(task="push_t", method="cem", seed=5, rollouts=16, horizon=1.0, max_steps=200)
SLOW = dict(task="push_t", method="cem", seed=5, rollouts=64, horizon=1.0, max_steps=400)
# Collection: episode 5 of seed 0 succeeds (388 steps), 0-4 fail at the limit.
COLLECT = dict(task="push_t", seed=0, rollouts=16, horizon=1.0, iterations=1, max_steps=600)
COST_KEYS = ("wall_s", "cpu_s", "wall_time_s", "plan_time_ms_median")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def ray_cluster():
    """A head node with 2 CPUs on 127.0.0.1 (``ray start --block`` in its own session,
    stopped by SIGTERM at the end), this process connected to it as a driver."""
    saved = {k: os.environ.get(k) for k in LOOPBACK}
    os.environ.update(LOOPBACK)  # before ray is imported: the node address is read then
    try:
        ray = pytest.importorskip("ray")  # a developer without the extra (setup.sh --ray)
    except BaseException:
        restore(saved)
        raise
    temp = tempfile.mkdtemp(prefix="gpcray")  # short: Ray's socket paths must fit 107 bytes
    port = free_port()
    log_path = Path(temp) / "head.log"
    ray_cli = str(Path(sys.executable).parent / "ray")
    with open(log_path, "w") as log:
        head = subprocess.Popen(
            [ray_cli, "start", "--head", "--block", "--node-ip-address=127.0.0.1",
             f"--port={port}", f"--ray-client-server-port={free_port()}", "--num-cpus=2",
             "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, **LOOPBACK})
    address = f"127.0.0.1:{port}"
    try:
        wait_for(lambda: head.poll() is not None or "Ray runtime started" in log_path.read_text(),
                 90, "the Ray head node")
        assert head.poll() is None, log_path.read_text()[-2000:]
        ray_backend.connect(RayBackend(address=address))  # from the main thread
        yield SimpleNamespace(address=address, pgid=head.pid, ray=ray)
    finally:
        if ray.is_initialized():
            ray.shutdown()
        ray_backend._connected = None
        head.send_signal(signal.SIGTERM)  # ray start --block drains and stops its processes
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)  # the session this fixture started
            head.wait()
        shutil.rmtree(temp, ignore_errors=True)
        restore(saved)


def restore(saved: dict) -> None:
    """The environment variables as they were (None: unset)."""
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def deterministic(record: dict) -> dict:
    """A result record without what measures time."""
    return {k: v for k, v in record.items() if k not in COST_KEYS}


def test_ray_eval_gives_the_local_records_trial_for_trial(ray_cluster, tmp_path):
    spec = EvalSpec(trials=3, **QUICK)
    local = evaluate(spec, workers=1, out=tmp_path / "local.json", progress=False)
    remote = evaluate(spec, out=tmp_path / "ray.json", progress=False,
                      backend=RayBackend(address=ray_cluster.address))
    assert [r["trial"] for r in remote["per_trial"]] == [0, 1, 2]
    assert [deterministic(r) for r in remote["per_trial"]] == \
        [deterministic(r) for r in local["per_trial"]]
    # The backend is no setting: the same header, so either journal resumes under the other.
    assert remote["header"] == local["header"] and remote["settings"] == local["settings"]
    for key in ("successes", "success_rate", "ci_low", "ci_high", "steps_mean"):
        assert remote[key] == local[key]


def test_ray_collect_writes_the_local_data(ray_cluster, tmp_path):
    spec = CollectSpec(episodes=6, **COLLECT)
    collect(spec, tmp_path / "local", workers=1, progress=False)
    collect(spec, tmp_path / "ray", progress=False,
            backend=RayBackend(address=ray_cluster.address))
    ok, failed = finished_episodes(tmp_path / "local")
    assert (ok, failed) == finished_episodes(tmp_path / "ray")
    assert ok == {5} and failed == {0, 1, 2, 3, 4}
    for episode in ok:
        with np.load(episode_path(tmp_path / "local", episode)) as a, \
                np.load(episode_path(tmp_path / "ray", episode)) as b:
            assert set(a.files) == set(b.files)
            for name in set(a.files) - set(COST_KEYS):
                np.testing.assert_array_equal(a[name], b[name], err_msg=name)

    def failures(folder):
        lines = (tmp_path / folder / "failed.jsonl").read_text().splitlines()
        return sorted((deterministic(json.loads(line)) for line in lines),
                      key=lambda r: r["episode"])

    assert failures("ray") == failures("local")
    meta = [json.loads((tmp_path / f / "meta.json").read_text()) for f in ("local", "ray")]
    assert meta[0]["settings"] == meta[1]["settings"]


def test_ray_iterate_collects_and_evaluates_as_local(ray_cluster, tmp_path):
    """Collection and the round's GPC-CEM evaluation on Ray (the model file read by the
    workers), training here: the local run's figures."""
    from gpc_planner.iterate import iterate
    from gpc_planner.proposals.train import TrainConfig

    spec = CollectSpec(episodes=6, flow_steps=2, **COLLECT)
    evaluation = EvalSpec(task="push_t", method="gpc_cem", trials=2, rollouts=8, horizon=1.0,
                          max_steps=50, flow_steps=2)
    config = TrainConfig(epochs=2, batch_size=8, warmup_steps=1, hidden=16, layers=2, lr=1e-3)
    rows = [iterate(spec, 1, config, tmp_path / name, progress=False, evaluation=evaluation,
                    backend=backend)["iterations"]
            for name, backend in (("local", None),
                                  ("ray", RayBackend(address=ray_cluster.address)))]
    costs = ("wall_hours", "core_hours")
    assert [{k: v for k, v in r.items() if k not in costs} for r in rows[1]] == \
        [{k: v for k, v in r.items() if k not in costs} for r in rows[0]]
    assert rows[1][0]["successes"] == 1 and rows[1][0]["eval"]["trials"] == 2


def running_tasks(head_pgid: int) -> list[int]:
    """Pids of the cluster's worker processes running an episode task now (Ray titles a
    worker after the task it runs; the workers are the head's raylet's children)."""
    procs = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmd = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid, pgrp = (int(v) for v in stat[stat.rindex(")") + 2:].split()[1:3])
        procs.append((int(entry.name), ppid, pgrp, cmd))
    raylets = {pid for pid, _, pgrp, cmd in procs
               if pgrp == head_pgid and cmd.split(b"\0")[0].endswith(b"/raylet")}
    return [pid for pid, ppid, _, cmd in procs
            if ppid in raylets and cmd.startswith(b"ray::_run_task")]


def test_a_task_whose_worker_is_killed_runs_again(ray_cluster, tmp_path):
    spec = EvalSpec(trials=2, **SLOW)
    outcome: dict = {}

    def run() -> None:
        try:
            outcome["summary"] = evaluate(spec, out=tmp_path / "ray.json", progress=False,
                                          backend=RayBackend(address=ray_cluster.address))
        except BaseException as err:  # noqa: BLE001 - reported by the test below
            outcome["error"] = err

    driver = threading.Thread(target=run)
    driver.start()
    victim = wait_for(lambda: running_tasks(ray_cluster.pgid), 120, "a running task")[0]
    os.kill(victim, signal.SIGKILL)  # a worker process of this test's cluster, mid-episode
    driver.join(300)
    assert not driver.is_alive() and "error" not in outcome, outcome.get("error")
    local = evaluate(spec, workers=1, progress=False)
    assert [deterministic(r) for r in outcome["summary"]["per_trial"]] == \
        [deterministic(r) for r in local["per_trial"]]
    with pytest.raises(ProcessLookupError):
        os.kill(victim, 0)


def test_a_stopped_or_killed_driver_resumes_from_the_journal(ray_cluster, tmp_path):
    out = tmp_path / "e.json"
    journal = tmp_path / "e.json.partial.jsonl"
    trials = 8
    args = ["eval", "--task", "push_t", "--method", "cem", "--trials", str(trials), "--seed",
            "5", "--rollouts", "64", "--horizon", "1.0", "--max-steps", "400", "--backend",
            "ray", "--ray-address", ray_cluster.address, "--out", str(out), "--no-progress"]
    command = [sys.executable, "-m", "gpc_planner.cli.main", *args]
    env = {**os.environ, **LOOPBACK}

    def start() -> subprocess.Popen:
        return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)

    def finished() -> int:
        return len(journal.read_text().splitlines()) - 1 if journal.exists() else 0

    # SIGTERM (`kill PID`, a job scheduler): Ctrl-C's path, one line (not Ray's own handler).
    driver = start()
    try:
        wait_for(lambda: finished() >= 1, 180, "the first finished trial")
    finally:
        driver.send_signal(signal.SIGTERM)
        _, err = driver.communicate(timeout=60)
    assert driver.returncode == 130, err
    assert err.strip().splitlines()[-1].endswith("rerun the same command to resume")
    assert "Traceback" not in err
    first = finished()
    # SIGKILL: no cleanup of any kind; the dead driver's tasks stop too.
    driver = start()
    try:
        wait_for(lambda: finished() > first, 180, "a trial of the second run")
    finally:
        driver.kill()
        driver.communicate()
    wait_for(lambda: not running_tasks(ray_cluster.pgid), 60, "the killed driver's tasks to stop")
    done = finished()
    assert not out.exists() and first < done < trials
    rerun = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{done} of {trials} trials done" in rerun.stderr  # resumed, not restarted
    summary = json.loads(out.read_text())
    assert [r["trial"] for r in summary["per_trial"]] == list(range(trials))
    local = evaluate(EvalSpec(trials=trials, **SLOW), workers=1, progress=False)
    assert [deterministic(r) for r in summary["per_trial"]] == \
        [deterministic(r) for r in local["per_trial"]]


@pytest.mark.parametrize("command", [
    ["eval", "--task", "push_t", "--method", "cem", "--trials", "1"],
    ["collect", "--task", "push_t", "--episodes", "1"],
])
def test_without_ray_the_ray_backend_is_a_one_line_error(command, tmp_path, monkeypatch,
                                                         capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` fails as if not installed
    out = tmp_path / ("e.json" if command[0] == "eval" else "data")
    code = main([*command, "--backend", "ray", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "Ray" in err and "scripts/setup.sh --ray" in err and "Traceback" not in err
    assert not out.exists() and not Path(f"{out}.partial.jsonl").exists()


def test_ray_flags_without_the_ray_backend_are_refused(capsys):
    code = main(["eval", "--task", "push_t", "--method", "cem", "--ray-address", "auto"])
    assert code == 2 and "--backend ray" in capsys.readouterr().err
