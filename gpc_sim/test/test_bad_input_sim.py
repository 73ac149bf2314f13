"""Bad input never passes silently, the simulation side (issue 22): block shapes, samplers
that cannot succeed, sizes, and MuJoCo's warnings."""

import logging

import mujoco
import numpy as np
import pytest

from gpc_sim import limits
from gpc_sim.errors import ConfigError
from gpc_sim.push.shapes import load_shape
from gpc_sim.push.task import PushTask, PushTaskConfig
from gpc_sim.task import SamplingError, sample_until
from gpc_sim.tasks import make_task


def rect(center="[0, 0]", size="[0.05, 0.05]"):
    return f"  - {{center: {center}, size: {size}}}\n"


@pytest.mark.parametrize("content, needle", [
    (bytes(range(256)) * 4, "not a text file"),
    ("rectangles: [oops", "not valid YAML"),
    ("- 1\n- 2\n", "expected a mapping"),
    ("rectangles:\n  - 5\n", "rectangle 0 needs center: [x, y] and size: [w, h] numbers"),
    ("rectangles:\n" + rect(size="'ab'"), "needs center: [x, y] and size: [w, h] numbers"),
    ("rectangles:\n" + rect(size="[1.0e-9, 1.0e-9]"),
     "rectangle 0: sizes must be in [0.005, 1] m, got 1e-09 x 1e-09"),
    ("rectangles:\n" + rect(size="[.nan, 0.1]"), "center and size must be finite"),
    ("rectangles:\n" + rect(center="[.inf, 0]"), "center and size must be finite"),
    ("rectangles:\n" + rect(size="[-0.1, 0.1]"), "sizes must be in [0.005, 1] m"),
    ("rectangles:\n" + rect(size="[2.0, 0.1]"), "sizes must be in [0.005, 1] m"),
    ("rectangles:\n" + rect() * 65, "non-empty list of at most 64 rectangles"),
    ("name: 'a\"<b'\nrectangles:\n" + rect(), "name must be 1-40 letters"),
])
def test_bad_shape_files_are_one_line_errors_naming_the_file(tmp_path, content, needle):
    path = tmp_path / "s.yaml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    with pytest.raises(ConfigError) as err:
        load_shape(str(path))
    message = str(err.value)
    assert "\n" not in message and str(path) in message and needle in message


def test_the_smallest_allowed_rectangle_makes_a_world(tmp_path):
    path = tmp_path / "small.yaml"
    path.write_text("rectangles:\n" + rect(size="[0.005, 0.005]"))
    task = PushTask(PushTaskConfig(shape=str(path)), nthread=1)
    assert np.isfinite(task.sample_initial_state(np.random.default_rng(0))).all()


def test_a_block_that_always_covers_the_pusher_is_an_error_not_a_hang(tmp_path):
    """Four 1 m squares: no pusher start in [-0.3, 0.3]^2 is ever clear of the block."""
    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\nrectangles:\n" + "".join(
        rect(f"[{x}, {y}]", "[1.0, 1.0]") for x in (-0.45, 0.45) for y in (-0.45, 0.45)))
    task = PushTask(PushTaskConfig(shape=str(path)), nthread=1)
    with pytest.raises(SamplingError, match=r"could not sample a valid initial state of "
                       r"push_huge in 10000 attempts: the pusher overlaps block 'huge' "
                       r"\(10000 times\)"):
        task.sample_initial_state(np.random.default_rng(0))


def test_sample_until_returns_the_first_accepted_draw_and_counts_the_reasons():
    draws = iter(range(10))
    assert sample_until(lambda: next(draws), lambda v: None if v == 3 else "too small",
                        "number") == 3
    with pytest.raises(SamplingError, match=r"valid number in 5 attempts: odd \(3 times\); "
                                            r"even \(2 times\)"):
        sample_until(iter(range(5)).__next__, lambda v: "odd" if v % 2 == 0 else "even",
                     "number", attempts=5)
    assert issubclass(SamplingError, ConfigError)


def test_rollout_threads_are_bounded():
    with pytest.raises(ConfigError, match=r"rollout threads must be at most \d+ \(4 x the "):
        make_task("push_t", nthread=100_000)
    with pytest.raises(ConfigError, match="rollout threads must be at least 1"):
        make_task("push_t", nthread=0)


def test_limits_name_the_setting_and_the_estimate(monkeypatch):
    monkeypatch.setattr(limits, "available_cores", lambda: 3)
    assert limits.max_parallel() == 12
    with pytest.raises(ConfigError, match=r"workers must be at most 12 \(4 x the 3 cores"):
        limits.check_parallel(13, "workers")
    monkeypatch.setattr(limits, "available_cores", lambda: 1000)
    assert limits.max_parallel() == limits.MAX_PARALLEL
    monkeypatch.setattr(limits, "machine_memory", lambda: 8e9)
    limits.require_memory(4e9, "a batch")
    with pytest.raises(ConfigError, match=r"a batch needs about 4\.01 GB of memory, more than "
                                          r"half of this machine's \(4 GB of 8 GB\)"):
        limits.require_memory(4.01e9, "a batch")
    for bad in (-1, 2**32, 1.5, True, "3"):
        with pytest.raises(ConfigError, match=r"seed must be an integer in \[0, 4294967295\]"):
            limits.check_seed(bad)
    limits.check_seed(2**32 - 1)
    assert limits.format_bytes(3.6e11) == "360 GB"


def test_mujoco_warnings_go_to_logging_not_stdout(capfd, caplog, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where MuJoCo's own handler writes MUJOCO_LOG.TXT
    task = make_task("push_t", nthread=1)
    data = mujoco.MjData(task.model)
    data.ctrl[:] = np.nan
    with caplog.at_level(logging.WARNING, logger="gpc_sim.mujoco"):
        mujoco.mj_step(task.model, data)
    assert capfd.readouterr().out == ""
    assert "MuJoCo: Nan, Inf or huge value in CTRL at ACTUATOR 0" in caplog.text
    assert not (tmp_path / "MUJOCO_LOG.TXT").exists()
