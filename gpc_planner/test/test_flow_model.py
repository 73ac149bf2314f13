"""The flow-matching proposal model: learning, sampling, normalisation and its file format."""

import numpy as np
import pytest
import torch

from gpc_planner.proposals.flow_model import (
    FlowConfig,
    ModelInfo,
    Normalization,
    build_model,
    flow_matching_loss,
    load_proposal_model,
)
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task

torch.set_num_threads(1)  # tiny batches: intra-op threads only add contention on small machines

PUSH_NAMES = ["pusher_x", "pusher_y", "block_x", "block_y", "block_sin_yaw", "block_cos_yaw"]


def toy_info(task="toy", names=("a",), low=(-1.0,), high=(1.0,), times=(0.0, 1.0)):
    return ModelInfo(task, "", list(names), list(times), "linear", list(low), list(high))


def two_mode_data(n: int, rng: np.random.Generator):
    """Knots (n, 2, 1) = sign(obs) * 0.5 +- 0.3: two modes per condition."""
    obs = rng.choice([-1.0, 1.0], size=(n, 1)) + 0.05 * rng.standard_normal((n, 1))
    mode = rng.choice([-1.0, 1.0], size=(n, 1))
    centre = np.sign(obs) * 0.5 + 0.3 * mode
    knots = (centre + 0.02 * rng.standard_normal((n, 2)))[..., None]
    return obs, knots


def fit(obs, knots, steps: int, lr: float = 1e-2, seed: int = 0):
    norm = Normalization.fit(obs, knots)
    model = build_model(1, (2, 1), FlowConfig(hidden=64, layers=3, time_features=8), norm,
                        toy_info(), seed=seed)
    net = model.net.train()
    x = torch.as_tensor(norm.obs(obs), dtype=torch.float32)
    u1 = torch.as_tensor(norm.knots(knots), dtype=torch.float32)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(steps):
        idx = torch.randint(0, len(x), (256,), generator=gen)
        loss = flow_matching_loss(net, u1[idx], x[idx], x[idx], gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    net.eval()
    return model, losses


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    obs, knots = two_mode_data(4000, np.random.default_rng(0))
    return fit(obs, knots, steps=800)


def test_flow_matching_loss_decreases(trained):
    _, losses = trained
    assert np.mean(losses[-50:]) < 0.6 * np.mean(losses[:20])


@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_trained_model_reproduces_both_modes_of_its_condition(trained, sign):
    model, _ = trained
    x = np.array([sign])
    samples = model.sample(x, x, 400, flow_steps=10,
                           generator=torch.Generator().manual_seed(1))[:, 0, 0] * sign
    near_outer = np.mean(np.abs(samples - 0.8) < 0.15)
    near_inner = np.mean(np.abs(samples - 0.2) < 0.15)
    assert near_outer > 0.3 and near_inner > 0.3, (near_outer, near_inner)
    assert near_outer + near_inner > 0.8  # little mass between the modes or on the other side


def test_wider_initial_noise_spreads_samples_around_the_same_modes(trained):
    model, _ = trained
    x = np.array([1.0])

    def draws(noise: float) -> np.ndarray:
        return model.sample(x, x, 2000, flow_steps=10, generator=torch.Generator().manual_seed(1),
                            noise=noise)[:, 0, 0]

    narrow, paper, wide = draws(0.5), draws(1.0), draws(2.0)
    assert np.std(narrow) < np.std(paper) < np.std(wide)
    # Still the two modes' side of the condition: the flow carries wider starts further out.
    assert abs(np.median(wide) - np.median(paper)) < 0.2
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="noise"):
            model.sample(x, x, 4, noise=bad)


def test_sampling_shapes_bounds_and_determinism():
    norm = Normalization(np.zeros(6), np.ones(6), np.zeros(8), 5.0 * np.ones(8))
    info = toy_info("push_t", PUSH_NAMES, (-0.35, -0.35), (0.35, 0.35), (0.0, 1.0, 2.0, 3.0))
    model = build_model(6, (4, 2), FlowConfig(hidden=16, layers=2), norm, info, seed=3)
    obs = np.zeros(6)
    a = model.sample(obs, obs, 50, 4, torch.Generator().manual_seed(7))
    b = model.sample(obs, obs, 50, 4, torch.Generator().manual_seed(7))
    c = model.sample(obs, obs, 50, 4, torch.Generator().manual_seed(8))
    assert a.shape == (50, 4, 2) and a.dtype == np.float64
    assert np.all(a >= -0.35) and np.all(a <= 0.35)
    assert np.any(np.abs(a) == 0.35)  # a wide knot spread: clipping did happen
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_numpy_sampler_matches_the_torch_network_and_follows_training(trained):
    """Sampling runs the network in numpy; it must be the torch module's function."""
    model, _ = trained
    rng = np.random.default_rng(0)
    u = rng.standard_normal((7, 2)).astype(np.float32)
    cond = np.repeat(rng.standard_normal((1, 2)).astype(np.float32), 7, axis=0)
    for t in (0.0, 0.3, 0.9):
        with torch.no_grad():
            ref = model.net(torch.from_numpy(u), torch.from_numpy(cond[:, :1]),
                            torch.from_numpy(cond[:, 1:]), torch.full((7,), t)).numpy()
        got = model.velocity(u, model.velocity.prepare(cond[0], np.array([t]))[0])
        np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)

    def v(t):
        return model.velocity(u, model.velocity.prepare(cond[0], np.array([t]))[0])

    before = v(0.5)
    with torch.no_grad():  # an in-place change, as an optimizer step makes
        for p in model.net.parameters():
            p.add_(0.01)
    after = v(0.5)
    with torch.no_grad():
        for p in model.net.parameters():
            p.sub_(0.01)
    assert not np.allclose(before, after)
    np.testing.assert_allclose(v(0.5), before, atol=1e-6)


def test_normalization_round_trip():
    rng = np.random.default_rng(0)
    obs = rng.normal(3.0, 2.0, (100, 6))
    knots = rng.normal(-1.0, 0.1, (100, 4, 2))
    norm = Normalization.fit(obs, knots)
    flat = norm.knots(knots)
    assert np.allclose(flat.mean(0), 0.0, atol=1e-9) and np.allclose(flat.std(0), 1.0)
    np.testing.assert_allclose(norm.unknots(flat, (4, 2)), knots)
    again = Normalization.from_dict(norm.to_dict())
    np.testing.assert_allclose(again.obs(obs), norm.obs(obs))


def push_model(seed: int = 0, task="push_t", shape=(4, 2), horizon=3.0):
    k, m = shape
    norm = Normalization(np.zeros(6), np.ones(6), np.zeros(k * m), 0.1 * np.ones(k * m))
    info = toy_info(task, PUSH_NAMES, (-0.35,) * m, (0.35,) * m,
                    tuple(np.linspace(0.0, horizon, k)))
    info.task_family = "push"
    return build_model(6, shape, FlowConfig(hidden=16, layers=2), norm, info, seed=seed)


def test_save_load_round_trip(tmp_path):
    model = push_model(seed=1)
    path = tmp_path / "model.pt"
    model.save(path)
    loaded = load_proposal_model(path, make_task("push_t", nthread=1), horizon=3.0)
    obs = np.linspace(-0.1, 0.1, 6)
    np.testing.assert_array_equal(
        model.sample(obs, obs, 8, 3, torch.Generator().manual_seed(0)),
        loaded.sample(obs, obs, 8, 3, torch.Generator().manual_seed(0)))
    assert loaded.knot_shape == (4, 2) and loaded.info.task == "push_t"


def test_push_k_may_use_a_push_t_model(tmp_path):
    push_model().save(tmp_path / "m.pt")
    load_proposal_model(tmp_path / "m.pt", make_task("push_k", nthread=1), horizon=3.0)


def test_a_model_serves_a_shorter_horizon_with_the_first_part_of_its_curves(tmp_path):
    """The 1 s ablation reuses the 3 s model: knots re-read at the planner's times."""
    from gpc_planner.control import ControlSpline
    from gpc_planner.methods import build_planner

    model = push_model(seed=2)
    assert model.window(np.linspace(0.0, 3.0, 4)) is model
    short = model.window(np.linspace(0.0, 1.0, 4))
    obs = np.linspace(-0.1, 0.1, 6)
    full = model.sample(obs, obs, 5, 2, torch.Generator().manual_seed(3))
    part = short.sample(obs, obs, 5, 2, torch.Generator().manual_seed(3))
    spline = ControlSpline(3.0, 4, 0.01, "linear")  # toy_info's interpolation
    for k, t in enumerate(np.linspace(0.0, 1.0, 4)):
        np.testing.assert_allclose(part[:, k], spline.value_at(full, t), atol=1e-12)
    path = tmp_path / "m.pt"
    model.save(path)
    planner = build_planner(make_task("push_t", nthread=1), "gpc_cem",
                            np.random.default_rng(0), horizon=1.0, num_rollouts=4,
                            model=str(path), flow_steps=2)
    assert planner.optimizer.spline.horizon == 1.0


def _bad_files(tmp_path):
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"this is not a torch file")
    other_task = tmp_path / "other_task.pt"
    d = push_model(task="spot_chair").to_dict()
    d["task_family"] = "spot"
    torch.save(d, other_task)
    wrong_shape = tmp_path / "wrong_shape.pt"
    push_model(shape=(5, 2)).save(wrong_shape)
    wrong_horizon = tmp_path / "wrong_horizon.pt"
    push_model(horizon=1.0).save(wrong_horizon)
    no_key = tmp_path / "no_key.pt"
    d = push_model().to_dict()
    del d["normalization"]
    torch.save(d, no_key)
    version = tmp_path / "version.pt"
    d = push_model().to_dict()
    d["format_version"] = 99
    torch.save(d, version)
    return [
        (tmp_path / "missing.pt", "not found"),
        (corrupt, "not a readable model file"),
        (other_task, "trained on task 'spot_chair'"),
        (wrong_shape, "knot shape (5, 2)"),
        (wrong_horizon, "1 s horizon"),
        (no_key, "lacks normalization"),
        (version, "format version 99"),
    ]


def test_bad_model_files_are_config_errors_naming_the_file(tmp_path):
    task = make_task("push_t", nthread=1)
    for path, needle in _bad_files(tmp_path):
        with pytest.raises(ConfigError) as err:
            load_proposal_model(path, task, horizon=3.0)
        assert str(path) in str(err.value) and needle in str(err.value), str(err.value)
        assert "\n" not in str(err.value)
