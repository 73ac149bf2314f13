"""``gpc launch spot_push`` over real DDS: the whole graph lock-stepped on sim time with CEM.

Sim node, bridge (sim mode) and planner as separate processes, exactly as the README's
main command starts them, for a bounded number of planning cycles (6 s of sim time at 5 Hz:
30 plans; 16 rollouts x 2 s to keep it short). Lock-step makes the number of plans exact
and the run independent of the machine's speed (two runs gave the same states bit for bit);
the chair must end nearer the goal (trial 1 of seed 0: 2.72 m -> 1.99 m when measured).
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from gpc_sim.ros.testing import domain_id, ros_env

CONFIG = Path(__file__).resolve().parents[2] / "config" / "spot_push.yaml"


def params_with(tmp_path: Path, **planner) -> Path:
    """config/spot_push.yaml with cheaper planner settings, as a file of the test's."""
    doc = yaml.safe_load(CONFIG.read_text())
    doc["/**/gpc_planner"]["ros__parameters"].update(planner)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(doc))
    return params


def _logs_tail(run: Path, lines: int = 60) -> str:
    """The end of every node's log of a run, for a failure's message."""
    from gpc_planner.ros.launcher import _tail

    return "\n".join(f"--- {log.name}\n{_tail(log, lines)}" for log in sorted(run.glob("*.log")))


def launch_command(tmp_path: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "gpc_planner.cli.main", "launch", "spot_push", "--headless",
            "--no-progress", "--out", str(tmp_path / "run"), *args]


def test_lockstep_graph_pushes_the_chair_toward_the_goal(tmp_path):
    params = params_with(tmp_path, rollouts=16, horizon=2.0)
    summary_path = tmp_path / "summary.json"
    cmd = launch_command(tmp_path, "--lockstep", "--duration", "6", "--summary",
                         str(summary_path), f"params_file:={params}", "trial:=1")
    env = ros_env(domain_id())
    env.pop("ROS_AUTOMATIC_DISCOVERY_RANGE")  # the launcher sets it for every node itself
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["exit_codes"] == {"gpc_sim": 0, "spot_bridge": 0, "gpc_planner": 0}, \
        _logs_tail(tmp_path / "run")  # a hung shutdown's thread stacks are in its log
    assert summary["sim_time_s"] == 6.0
    assert summary["planning_cycles"] == 30  # 6 s at 5 Hz, one plan per replanning instant
    assert summary["lockstep_timeouts"] == 0
    # Plan time counts against the sim's clock, which waits for every plan: none is late
    # (against wall time all 30 were "misses").
    assert summary["deadline_misses"] == 0
    assert summary["goal"] == [1.2, 0.0, 0.0]
    assert summary["commands_sent"] >= 300  # one per mocap frame (50 Hz)
    assert summary["chair_final_distance"] < summary["chair_start_distance"] - 0.2
    assert not (summary["fallen"] or summary["tipped"] or summary["diverged"])
    assert "chair to goal:" in done.stdout and "summary:" in done.stdout
    for picture in summary["pictures"]:
        assert Path(picture).stat().st_size > 10_000
    assert os.path.isfile(tmp_path / "run" / "gpc_planner.log")


def test_one_goal_for_the_planner_the_sim_and_the_summary(tmp_path):
    """The planner's goal (its parameter here; gpc/set_goal or rviz's tool alike) reaches the
    sim through the goal topic: the summary's start and final distances are to that goal."""
    from gpc_sim.spot.simulation import ChairPushSimulation
    from gpc_sim.tasks import make_task

    goal = [1.6, 0.4, 0.3]
    params = params_with(tmp_path, rollouts=8, horizon=1.0, goal=goal)
    summary_path = tmp_path / "summary.json"
    cmd = launch_command(tmp_path, "--lockstep", "--duration", "1", "--summary",
                         str(summary_path), f"params_file:={params}")
    done = subprocess.run(cmd, env=ros_env(domain_id()), capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads(summary_path.read_text())
    assert summary["goal"] == goal
    start = ChairPushSimulation(make_task("spot_chair", nthread=1, goal=tuple(goal)), 0, 0)
    assert summary["chair_start_distance"] == round(start.truth().position_error, 4)
    assert "goal x 1.60 m, y 0.40 m" in done.stdout


def test_a_signal_stops_every_node_and_still_writes_the_summary(tmp_path):
    params = params_with(tmp_path, rollouts=8, horizon=1.0)
    run = tmp_path / "run"
    cmd = launch_command(tmp_path, f"params_file:={params}")
    proc = subprocess.Popen(cmd, env=ros_env(domain_id()), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120.0
        while not (run / "summary.json").exists() and time.monotonic() < deadline:
            log = run / "gpc_planner.log"
            if log.is_file() and "cem on spot_chair" in log.read_text():
                break
            time.sleep(0.2)
        time.sleep(2.0)  # the graph runs (real time, no duration: until stopped)
        proc.send_signal(signal.SIGTERM)  # as a job scheduler or `kill` would
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, out
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert set(summary["exit_codes"]) == {"gpc_sim", "spot_bridge", "gpc_planner"}
    assert all(code == 0 for code in summary["exit_codes"].values()), summary["exit_codes"]
    assert "interrupted: stopping the nodes" in out and "Traceback" not in out


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _running(pid: int) -> bool:
    """Alive and not a zombie (a container's init may not reap orphans at once)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return fields[0] != "Z"


def test_nodes_end_when_the_launcher_is_killed(tmp_path):
    """SIGKILL leaves the launcher no chance to stop anybody: the nodes notice by themselves."""
    params = params_with(tmp_path, rollouts=8, horizon=1.0)
    run = tmp_path / "run"
    proc = subprocess.Popen(launch_command(tmp_path, f"params_file:={params}"),
                            env=ros_env(domain_id()), stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    nodes: list[int] = []
    try:
        deadline = time.monotonic() + 120.0
        while time.monotonic() < deadline:
            nodes = _children(proc.pid)
            log = run / "gpc_planner.log"
            if len(nodes) == 3 and log.is_file() and "cem on spot_chair" in log.read_text():
                break
            time.sleep(0.2)
        assert len(nodes) == 3, f"the launcher started {nodes}"
        proc.kill()
        proc.wait()
        deadline = time.monotonic() + 15.0
        while any(_running(n) for n in nodes) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = [n for n in nodes if _running(n)]
        assert not alive, f"nodes {alive} outlived their launcher"
        assert "launcher" in (run / "gpc_sim.log").read_text()
    finally:
        for n in nodes:
            if _running(n):
                os.kill(n, signal.SIGKILL)


def test_the_printed_summary_names_the_holds_and_whether_the_chair_stayed():
    """What a user reads at the end of the main job: the planner's hold spells (why it made
    fewer plans) and whether a chair that reached the goal is still there."""
    from gpc_planner.ros.launcher import format_summary

    summary = {"method": "gpc_cem", "sim_time_s": 60.0, "wall_time_s": 51.6,
               "interrupted": False, "planning_cycles": 41, "commands_sent": 3000,
               "deadline_misses": 0, "plan_time_ms_median": 666.3,
               "samples_per_plan_median": 32, "planner_holds": {"at goal": 1},
               "goal": [1.2, 0.0, 0.0], "chair_start_distance": 2.97,
               "chair_final_distance": 0.06, "chair_start_yaw_error_deg": 9.0,
               "chair_final_yaw_error_deg": 9.0, "success": True, "success_time_s": 8.18,
               "final_success": True}
    text = format_summary(summary)
    assert "planner held: at goal (1 spell)" in text
    assert "goal reached at 8.18 s, there at the end" in text
    left = format_summary({**summary, "final_success": False, "planner_holds": {
        "at goal": 2, "holding: stale mocap": 1}})
    assert "at goal (2 spells), holding: stale mocap (1 spell)" in left
    assert "goal reached at 8.18 s, left by the end" in left
    plain = format_summary({**summary, "planner_holds": {}, "success": False})
    assert "held" not in plain and "goal not reached" in plain
