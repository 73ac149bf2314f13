"""NFMPC / FlowMPPI model files: round trip, kinds, and bad files as one-line errors."""

import signal

import numpy as np
import pytest
import torch

from gpc_planner.cli.main import main
from gpc_planner.proposals import default_model_path
from gpc_planner.proposals.model_files import load_model_file
from gpc_planner.proposals.nf_model import control_spread, load_nf_model
from gpc_planner.proposals.nf_train import NFTrainConfig, new_model
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task

torch.set_num_threads(1)
SMALL = dict(couplings=2, hidden=8, layers=1)


@pytest.fixture(scope="module")
def nav():
    return make_task("nav_dyn", nthread=1)


@pytest.fixture(scope="module")
def files(nav, tmp_path_factory):
    """An untrained model file of each kind for nav_dyn."""
    out = tmp_path_factory.mktemp("nf")
    paths = {}
    for kind in ("nfmpc", "flow_mppi"):
        paths[kind] = out / f"{kind}.pt"
        new_model(nav, NFTrainConfig(method=kind, **SMALL)).save(paths[kind])
    return paths


@pytest.mark.parametrize("kind", ["nfmpc", "flow_mppi"])
def test_a_model_file_round_trips_with_its_kind(nav, files, kind):
    model = load_model_file(files[kind])
    assert model.kind == kind and (model.shift is not None) == (kind == "nfmpc")
    model.check_compatible(nav, nav.config.horizon)
    again = new_model(nav, NFTrainConfig(method=kind, **SMALL))
    z = np.random.default_rng(0).normal(size=(3, model.latent_dim))
    obs = nav.sample_initial_state(np.random.default_rng(1))
    np.testing.assert_allclose(model.push(z, obs)[1], again.push(z, obs)[1], atol=1e-6)
    assert model.controller["num_rollouts"] == 128 and model.sampling == {}


def gpc(capsys, *args):
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    finally:
        signal.signal(signal.SIGTERM, previous)
    return code, capsys.readouterr().err


def bad_files(files, tmp_path):
    contents = torch.load(files["nfmpc"], weights_only=True)

    def write(name, change):
        d = dict(contents)
        change(d)
        path = tmp_path / name
        torch.save(d, path)
        return path

    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(files["nfmpc"].read_bytes()[:300])

    def nan(d):
        d["state_dict"] = {k: v.clone() for k, v in d["state_dict"].items()}
        first = next(iter(d["state_dict"]))
        d["state_dict"][first].fill_(float("nan"))

    return [
        (truncated, "not a readable model file"),
        (write("no_key.pt", lambda d: d.pop("normalization")), "lacks normalization"),
        (write("kind.pt", lambda d: d.update(kind="diffusion")), "unknown kind 'diffusion'"),
        (write("version.pt", lambda d: d.update(format_version=7)), "format version 7"),
        (write("nan.pt", nan), "non-finite"),
        (write("shape.pt", lambda d: d.update(config={**d["config"], "couplings": 3})),
         "malformed"),
        (write("noshift.pt", lambda d: d.update(shift=None)), "malformed"),
        (write("task.pt", lambda d: d.update(task="push_t", task_family="push")),
         "trained on task 'push_t'"),
        (write("horizon.pt", lambda d: d.update(knot_times=[t * 2 for t in d["knot_times"]])),
         "4 s horizon"),
        (files["flow_mppi"], "comes from training method flow_mppi"),
        (default_model_path("push_t"), "comes from training method gpc"),
    ]


def test_bad_model_files_are_one_line_errors_naming_the_file(files, tmp_path, capsys, nav):
    for path, needle in bad_files(files, tmp_path):
        code, err = gpc(capsys, "eval", "--task", "nav_dyn", "--method", "nfmpc", "--model",
                        path, "--trials", "1", "--workers", "1", "--max-steps", "2")
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and "Traceback" not in err, err
        assert str(path) in lines[0] and needle in lines[0], lines[0]
    with pytest.raises(ConfigError, match="lacks normalization"):  # and from Python
        load_nf_model(tmp_path / "no_key.pt", nav)


def test_the_sampling_entry_of_a_flow_model_is_set_like_gpcs(files, tmp_path, capsys):
    path = tmp_path / "flow.pt"
    path.write_bytes(files["nfmpc"].read_bytes())
    code, err = gpc(capsys, "model", "set-sampling", path, "--method", "nfmpc",
                    "--flow-noise", "0.5")
    assert code == 0, err
    assert load_model_file(path).sampling["nfmpc"]["flow_noise"] == 0.5
    assert "| nfmpc | any | 0.5 |" in (tmp_path / "flow.model_card.md").read_text()
    code, err = gpc(capsys, "model", "set-sampling", path, "--method", "gpc_cem",
                    "--flow-noise", "2")
    assert code == 2 and "comes from training method nfmpc" in err, err


def test_control_spread_of_an_untrained_nfmpc_flow_is_the_sigmoids(nav, files):
    """The untrained flow is the identity, so a control is the bounded sigmoid of its latent:
    centre + half-range x tanh(z / 2); its spread is the std of tanh(z / 2), z ~ N(0, s^2)."""
    model = load_model_file(files["nfmpc"])
    obs = np.stack([nav.observation(nav.sample_initial_state(np.random.default_rng(i)))
                    for i in range(3)])
    grid = np.linspace(-10, 10, 20001)
    for std in (1.0, 0.3):
        density = np.exp(-0.5 * (grid / std) ** 2)
        expected = np.sqrt((np.tanh(grid / 2) ** 2 * density).sum() / density.sum())
        spread, at_bound = control_spread(model, obs, nav.action_low, nav.action_high,
                                          latent_std=std, samples=4000,
                                          rng=np.random.default_rng(2))
        assert spread == pytest.approx(expected, rel=0.03)
        assert at_bound < 1e-3  # |z| > 3.9 puts tanh(z / 2) within 2 % of a bound
    # A latent far out on the sigmoid's flat ends piles the controls on the bounds.
    spread, at_bound = control_spread(model, obs, nav.action_low, nav.action_high,
                                      latent_std=50.0, samples=500)
    assert at_bound > 0.9 and spread > 0.9
