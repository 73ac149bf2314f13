import json

import pytest

from gpc_planner.report import load_results, markdown_table, plot_success
from gpc_sim.errors import ConfigError


def result(method="cem", rate=0.85, horizon=None):
    return {"task": "push_t", "method": method, "trials": 200, "seed": 0, "success_rate": rate,
            "ci_low": rate - 0.05, "ci_high": rate + 0.04, "steps_mean": 1000.0,
            "steps_std": 500.0, "cem_sample_ratio_mean": None, "cem_sample_ratio_std": None,
            "plan_time_ms_median": 21.5, "settings": {"horizon": horizon, "rollouts": None}}


def test_table_has_one_row_per_result_with_interval_and_settings(tmp_path):
    files = []
    for i, r in enumerate([result(), result("mppi", 0.5, horizon=1.0)]):
        f = tmp_path / f"{i}.json"
        f.write_text(json.dumps(r))
        files.append(str(f))
    table = markdown_table(load_results(files))
    rows = table.splitlines()[2:]
    assert len(rows) == 2
    assert "0.850 (0.800, 0.890)" in rows[0] and "1000.0 ± 500.0" in rows[0]
    assert "MPPI, H=1 s" in rows[1]


def test_gpc_rows_name_their_euler_steps_and_model_seeds():
    r = result("gpc_cem", 0.99)
    r["settings"].update(flow_steps=2, model=["a.pt", "b.pt", "c.pt"])
    r["cem_sample_ratio_mean"], r["cem_sample_ratio_std"] = 0.33, 0.1
    row = markdown_table([r]).splitlines()[2]
    assert "GPC-CEM (2), 3 model seeds" in row and "0.33 ± 0.10" in row


def test_plot_is_written(tmp_path):
    path = plot_success([result(), result("dial", 0.7)], tmp_path / "p.png")
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("text, needle", [("{", "not valid JSON"), ('{"task": 1}', "missing")])
def test_bad_result_files_are_named(tmp_path, text, needle):
    f = tmp_path / "bad.json"
    f.write_text(text)
    with pytest.raises(ConfigError, match=needle) as err:
        load_results([str(f)])
    assert "bad.json" in str(err.value)


def journal(tmp_path, records, header=None):
    f = tmp_path / "run.json.partial.jsonl"
    header = header if header is not None else {
        "spec": {"task": "spot_chair", "method": "mppi", "trials": 50, "seed": 0,
                 "rollouts": None, "horizon": None, "shape": None, "max_steps": None}}
    lines = [json.dumps(header)] + [json.dumps(r) for r in records]
    f.write_text("\n".join(lines) + "\n")
    return str(f)


def trial(i, success, wall=700.0):
    return {"trial": i, "success": success, "steps": 900 if success else 2500,
            "final_error": 0.1, "cem_sample_ratio": None, "plan_time_ms": [2000.0, 3000.0],
            "wall_time_s": wall}


def test_an_unfinished_journal_is_reported_so_far_and_marked(tmp_path):
    path = journal(tmp_path, [trial(0, False, 600.0), trial(1, True, 800.0), trial(2, False)])
    with open(path, "a") as f:
        f.write('{"trial": 3, "succ')  # a line torn by the interrupted run
    (r,) = load_results([path])
    assert (r["trials"], r["successes"], r["trials_planned"]) == (3, 1, 50)
    assert r["in_progress"] and r["steps_mean"] == 900
    row = markdown_table([r]).splitlines()[2]
    assert "| 3 of 50 (in progress) |" in row
    assert "0.333 (0.061, 0.792)" in row  # Wilson 95 % of 1 of 3
    assert "| 700 |" in row  # mean wall seconds per trial
    assert "MPPI" in row and "2500.0" in row  # median of all plan times


@pytest.mark.parametrize("content, needle", [
    (None, "no such file"), ("", "no header"), ('{"trial": 0}\n', "no header"),
    ('{"spec": {"task": "spot_chair", "method": "cem", "bogus": 1}}\n', "no finished trial"),
    ('{"spec": {"method": "cem"}}\n{"trial": 0}\n', "not a gpc eval journal"),
])
def test_bad_journals_are_named(tmp_path, content, needle):
    f = tmp_path / "x.json.partial.jsonl"
    if content is not None:
        f.write_text(content)
    with pytest.raises(ConfigError, match=needle) as err:
        load_results([str(f)])
    assert "x.json.partial.jsonl" in str(err.value)


def test_spot_rows_say_which_goal_distance_they_were_planned_on():
    """The default cost changed: a Spot result that names none is a straight-line one, and
    one that names no yaw weight ran at the old 6."""
    from gpc_planner.report import label

    old = {"task": "spot_chair", "method": "cem", "settings": {"horizon": 3}}
    new = {"task": "spot_chair_avoid", "method": "cem",
           "settings": {"task_options": {"goal_distance": "geodesic"}}}
    push = {"task": "push_t", "method": "cem", "settings": {}}
    assert label(old) == "CEM, H=3 s, euclidean cost, w_yaw=6.0"  # both old defaults
    assert label(new) == "CEM, geodesic cost, w_yaw=6.0"
    assert label(push) == "CEM"


def test_rows_name_a_flow_noise_and_task_options_off_the_defaults():
    """Two probes that differ by their flow noise or a cost weight get two labels; a setting
    at the task's default is not named."""
    from gpc_planner.report import label

    def gpc(noise, **options):
        return {"task": "spot_chair_avoid", "method": "gpc_cem",
                "settings": {"flow_steps": 2, "flow_noise": noise,
                             "task_options": {"goal_distance": "geodesic", **options}}}

    assert label(gpc(1.0, w_yaw=15.0)) == "GPC-CEM (2), geodesic cost"  # the defaults
    assert label(gpc(2.0, w_yaw=15)) == "GPC-CEM (2), flow noise 2, geodesic cost"
    assert label(gpc(2.0, w_yaw=6.0)) == "GPC-CEM (2), flow noise 2, geodesic cost, w_yaw=6.0"
    assert label(gpc(1.0, w_yaw=15.0, chair_start_y=1.0)) == (
        "GPC-CEM (2), geodesic cost, chair_start_y=1.0")
    cem = {"task": "push_t", "method": "cem", "settings": {"flow_noise": 2.0}}
    assert label(cem) == "CEM"  # recorded but unused without a model


def test_results_over_sample_counts_make_one_series_per_method_and_a_figure(tmp_path):
    """The NFMPC paper's Figs. 1/3: success and cost of successes over samples per method."""
    from gpc_planner.report import plot_over_samples, samples_of, series_over_samples

    rows = []
    for method in ("mppi", "nfmpc"):
        for n in (64, 16, None):  # None: the method's default, 32
            r = result(method, 0.5)
            r["task"] = "nav_dyn"
            r["settings"]["rollouts"] = n
            r.update(cost_median=10.0, cost_q1=8.0, cost_q3=13.0)
            rows.append(r)
    series = series_over_samples(rows)
    assert list(series) == [("nav_dyn", "MPPI"), ("nav_dyn", "NFMPC")]
    assert [samples_of(r) for r in series[("nav_dyn", "MPPI")]] == [16, 32, 64]
    table = markdown_table(rows[:1])
    assert "cost of successes" in table and "10 (8, 13)" in table.splitlines()[2]
    assert "cost of successes" not in markdown_table([result()])  # no cost, no column
    assert plot_over_samples(rows, tmp_path / "fig.png").stat().st_size > 1000
    with pytest.raises(ConfigError, match="same sample count"):
        series_over_samples([rows[0], dict(rows[0])])
