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
