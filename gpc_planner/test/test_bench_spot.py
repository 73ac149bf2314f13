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
