"""``gpc soak``'s figures: memory growth per process after the warm-up, the samples CSV
(appended, a torn last line skipped), the fault counts, the picture, the log watch."""

import math

import pytest

from gpc_planner.soak.log_watch import LogWatch
from gpc_planner.soak.report import cpu_usage, fault_figures, memory_growth, plot_memory
from gpc_planner.soak.samples import Sample, SampleLog, read_samples


def samples(node, pid, start, t0, t1, rss, slope_mb_per_s=0.0, every=5.0, cpu=20.0):
    n = int((t1 - t0) / every) + 1
    return [Sample(t0 + i * every, node, pid, start, rss + slope_mb_per_s * i * every, cpu,
                   "S") for i in range(n)]


def test_growth_counts_from_the_warm_up_and_takes_the_largest_later_sample():
    rows = samples("gpc_planner", 10, 1, 0.0, 3600.0, 300.0)
    rows[:10] = [Sample(r.t_s, r.node, r.pid, 1, 100.0 + r.t_s, 50.0, "R") for r in rows[:10]]
    rows[400] = Sample(rows[400].t_s, "gpc_planner", 10, 1, 330.0, 20.0, "S")  # a bulge
    out = memory_growth(rows, warmup_s=300.0)["gpc_planner"]
    assert out["baseline_mb"] == 300.0 and out["growth_mb"] == 30.0
    assert out["end_growth_mb"] == 0.0 and out["max_mb"] == 330.0
    assert out["measured_s"] == 3300.0 and out["processes"] == 1


def test_a_leak_is_seen_in_the_process_that_lived_longest_and_short_ones_are_not_measured():
    rows = (samples("spot_bridge", 1, 1, 0.0, 1200.0, 70.0, slope_mb_per_s=0.05)
            + samples("spot_bridge", 2, 2, 1205.0, 1400.0, 70.0)
            + samples("gpc_sim", 3, 1, 0.0, 200.0, 290.0))
    out = memory_growth(rows, warmup_s=300.0)
    assert out["spot_bridge"]["growth_mb"] == pytest.approx(45.0)  # 900 s at 0.05 MB/s
    assert out["spot_bridge"]["processes"] == 2
    assert out["gpc_sim"]["growth_mb"] is None and out["gpc_sim"]["max_mb"] == 290.0


def test_cpu_usage_after_the_warm_up():
    rows = samples("gpc_sim", 3, 1, 0.0, 100.0, 290.0, every=10.0)
    rows[0] = Sample(0.0, "gpc_sim", 3, 1, 290.0, math.nan, "R")
    rows[1] = Sample(10.0, "gpc_sim", 3, 1, 290.0, 95.0, "R")
    assert cpu_usage(rows) == {"gpc_sim": {"mean_percent": 27.5, "max_percent": 95.0}}
    assert cpu_usage(rows, warmup_s=20.0)["gpc_sim"]["max_percent"] == 20.0


def test_samples_are_appended_and_a_torn_line_is_skipped(tmp_path):
    path = tmp_path / "samples.csv"
    log = SampleLog(path)
    log.write([Sample(1.0, "gpc_sim", 3, 1, 290.5, math.nan, "S")])
    log.close()
    log = SampleLog(path)  # a second writer appends, no second header
    log.write([Sample(6.0, "gpc_sim", 3, 1, 291.0, 12.5, "R")])
    log.close()
    with open(path, "a") as f:
        f.write("11.00,gpc_sim,3,1,29")  # cut short by a crash
    rows = read_samples(path)
    assert [r.t_s for r in rows] == [1.0, 6.0] and math.isnan(rows[0].cpu_percent)
    assert rows[1].cpu_percent == 12.5 and path.read_text().count("t_s,") == 1


def record(kind, survived=True, stop=0.3, resume=2.0, killed=False):
    return {"kind": kind, "survived": survived, "stop_s": stop, "stop_wall_s": stop,
            "resume_s": resume, "robot_killed": killed, "injected_s": 60.0}


def test_fault_figures_by_kind_leave_the_killed_robot_out_of_the_stop_times():
    rows = [record("kill_planner", stop=0.3), record("kill_planner", stop=0.5, resume=4.0),
            record("kill_sim", stop=0.0, killed=True),
            record("mocap_dropout", survived=False, stop=None, resume=None)]
    out = fault_figures(rows)
    assert out["injected"] == 4 and out["survived"] == 3
    assert out["stop_s_max"] == 0.5 and out["stop_s_median"] == 0.4
    assert out["by_kind"]["kill_sim"]["stop_s_max"] is None
    assert out["by_kind"]["kill_planner"]["resume_s_max"] == 4.0
    assert out["by_kind"]["mocap_dropout"]["survived"] == 0


def test_the_picture_is_drawn(tmp_path):
    rows = samples("gpc_planner", 10, 1, 0.0, 600.0, 300.0) + samples(
        "gpc_planner", 11, 2, 605.0, 900.0, 310.0)
    path = plot_memory(rows, [record("kill_planner"), record("kill_sim", survived=False)],
                       tmp_path / "memory.png", "test")
    assert path.stat().st_size > 10_000


def test_the_log_watch_reads_on_and_finds_crashes(tmp_path):
    log = tmp_path / "gpc_planner.log"
    log.write_text("[INFO] up\nTraceback (most recent call last):\n  File x\n")
    watch = LogWatch()
    found = watch.new_problems({"gpc_planner": log})
    assert found == ["gpc_planner: Traceback (most recent call last):"]
    with open(log, "a") as f:
        f.write("[FATAL] [gpc_planner]: planning thread stopped\n[INFO] half a li")
    assert watch.new_problems({"gpc_planner": log}) == [
        "gpc_planner: [FATAL] [gpc_planner]: planning thread stopped"]
    assert watch.new_problems({"gpc_planner": log}) == []
    assert watch.new_problems({"gone": tmp_path / "nope.log"}) == []
