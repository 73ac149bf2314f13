"""``gpc bench rollout`` on Spot: the engine against bare physics and judo's compiled rollout.

Tiny batches (2 worlds, 0.1 s, 1 repeat): the figures' presence and consistency are
tested, not their values (a shared machine makes timings noise at this size).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gpc_planner.bench as bench
from gpc_sim.errors import ConfigError
from gpc_sim.spot.bench import judo_unavailable
from gpc_sim.spot.native_lane import native_unavailable


def test_spot_bench_prints_engine_physics_ratio_and_judo():
    result = subprocess.run(
        [sys.executable, "-m", "gpc_planner.cli.main", "bench", "rollout", "--task",
         "spot_chair", "--rollouts", "2", "--horizon", "0.1", "--repeats", "1", "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["steps"] == 5 and figures["physics_steps"] == 10
    assert figures["engine_ms"] > 0 and figures["physics_ms"] > 0
    assert figures["ratio"] == pytest.approx(figures["engine_ms"] / figures["physics_ms"], rel=1e-2)
    assert figures["engine"] == ("native" if native_unavailable() is None else "numpy")
    if judo_unavailable() is None:
        assert figures["judo_ms"] > 0 and figures["judo_threads"] == 2
    else:
        assert figures["judo_ms"] is None and figures["judo_note"]


def test_spot_bench_reports_judo_as_null_with_a_reason_when_it_cannot_run(monkeypatch):
    monkeypatch.setattr(bench, "judo_unavailable", lambda: "no judo here")
    figures = bench.bench_rollout("spot_chair", rollouts=2, horizon=0.06, repeats=1, nthread=1)
    assert figures["judo_ms"] is None and figures["judo_note"] == "no judo here"
    assert figures["threads"] == 1 and figures["physics_ms"] > 0
    assert "judo_threads" not in figures


def test_spot_bench_runs_the_engine_it_is_asked_for():
    figures = bench.bench_rollout("spot_chair", rollouts=2, horizon=0.06, repeats=1, nthread=1,
                                  engine="numpy")  # fmt: skip
    assert figures["engine"] == "numpy" and figures["engine_ms"] > 0
    with pytest.raises(ConfigError, match="Spot tasks"):
        bench.bench_rollout("push_t", rollouts=2, horizon=0.06, repeats=1, engine="numpy")


def test_spot_bench_in_another_world_keeps_judo_and_reference_physics_on_the_original():
    figures = bench.bench_rollout("spot_chair", rollouts=2, horizon=0.06, repeats=1, nthread=1,
                                  world="fast")  # fmt: skip
    assert figures["world"] == "fast" and figures["physics_steps"] == 3  # one 0.02 s step each
    assert figures["physics_ms"] > 0 and figures["physics_ref_ms"] > 0
    assert figures["physics_ref_ms"] != figures["physics_ms"]  # timed on the original world
    if judo_unavailable() is None:
        assert figures["judo_over_engine"] == pytest.approx(
            figures["judo_ms"] / figures["engine_ms"], rel=1e-2)
    original = bench.bench_rollout("spot_chair", rollouts=2, horizon=0.06, repeats=1, nthread=1,
                                   world="original")  # fmt: skip
    assert original["world"] == "original" and original["physics_steps"] == 6
    assert original["physics_ref_ms"] == original["physics_ms"]  # the same measurement
    default = bench.bench_rollout("spot_chair", rollouts=2, horizon=0.06, repeats=1, nthread=1)
    assert default["world"] == "balanced"  # the default world, judo still on the original
    assert default["physics_ref_ms"] != default["physics_ms"]
    with pytest.raises(ConfigError, match="unknown Spot world"):
        bench.bench_rollout("spot_chair", rollouts=2, horizon=0.06, repeats=1, world="nope")
    with pytest.raises(ConfigError, match="Spot tasks"):
        bench.bench_rollout("push_t", rollouts=2, horizon=0.06, repeats=1, world="fast")


def _gpc(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gpc_planner.cli.main", *args],
                          capture_output=True, text=True, timeout=120)


def test_bench_physics_prints_stage_times_and_contacts():
    result = _gpc("bench", "physics", "--task", "spot_chair", "--world", "fast", "--rollouts",
                  "2", "--horizon", "0.2", "--lead-in", "0", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["world"] == "fast" and figures["settings"]["integrator"] == "euler"
    assert figures["physics_steps"] == 2 * 10
    assert figures["us_per_step"]["step"] > 0 and figures["contacts_per_step"]["feet-floor"] > 0


def test_bench_fidelity_compares_a_world_with_the_original():
    result = _gpc("bench", "fidelity", "--task", "spot_chair", "--world", "original",
                  "--world-option", "tolerance=1e-9", "--rollouts", "3", "--horizon", "4",
                  "--seeds", "1", "--trials", "1", "--lead-in", "0", "--threads", "1", "--json")
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["reference"] == "original" and figures["world"] == "original+tolerance=1e-9"
    assert figures["rollouts"] == 3 and set(figures["errors"]) == {"1s", "2s", "4s"}
    assert figures["rank_corr_cost"]["mean"] > 0.9  # a solver tolerance changes nothing


def test_bench_world_errors_are_one_line():
    for args in (("bench", "physics", "--task", "spot_chair", "--world", "nope"),
                 ("bench", "rollout", "--task", "spot_chair", "--world-option", "colour=red"),
                 ("bench", "fidelity", "--task", "spot_chair", "--world", "fast",
                  "--reference", "nope")):
        result = _gpc(*args)
        assert result.returncode == 2
        assert result.stderr.count("\n") == 1 and "error" in result.stderr
