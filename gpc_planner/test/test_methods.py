"""build_planner: the flow settings come from the model card unless given."""

import numpy as np
import pytest

from gpc_planner.methods import build_planner, model_sampling
from gpc_planner.proposals.model_card import set_model_sampling
from gpc_planner.proposals.shipped import MODELS_DIR
from gpc_planner.sampling import PAPER_SAMPLING, SamplingSettings
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task


@pytest.fixture(scope="module")
def task():
    return make_task("push_t", nthread=1)


@pytest.fixture
def models(tmp_path):
    """(plain, carded): a model file without sampling settings, and one recommending
    flow noise 2 with 4 steps for GPC-CEM."""
    from test_flow_model import push_model

    plain, carded = tmp_path / "plain.pt", tmp_path / "carded.pt"
    push_model(seed=1).save(plain)
    push_model(seed=1).save(carded)
    set_model_sampling(carded, "gpc_cem", flow_noise=2.0, flow_steps=4)
    return str(plain), str(carded)


def flow_of(planner) -> tuple[float, int]:
    return planner.optimizer.config.flow_noise, planner.optimizer.config.flow_steps


def build(task, method, model, **flow):
    return build_planner(task, method, np.random.default_rng(0), horizon=0.3, num_rollouts=4,
                         model=model, **flow)


def test_the_model_card_gives_the_defaults(task, models):
    plain, carded = models
    assert flow_of(build(task, "gpc_cem", plain)) == (1.0, 10)  # none recorded: the paper's
    assert flow_of(build(task, "gpc_cem", carded)) == (2.0, 4)
    assert flow_of(build(task, "gpc_shoot", carded)) == (1.0, 10)  # recorded for gpc_cem only
    assert model_sampling(carded, "gpc_cem") == SamplingSettings(2.0, 4)
    assert model_sampling(plain, "gpc_cem") == PAPER_SAMPLING


def test_a_task_samples_with_its_own_recommendation(task, models):
    """One model file serving two tasks (push_k plans with push_t's models): each task
    samples as the file recommends for it; the evaluation records what was used."""
    from gpc_planner.evaluation import EvalSpec

    _, carded = models
    set_model_sampling(carded, "gpc_cem", flow_noise=3.0, task="push_k")
    assert flow_of(build(task, "gpc_cem", carded)) == (2.0, 4)  # push_t: the method's row
    assert flow_of(build(make_task("push_k", nthread=1), "gpc_cem", carded)) == (3.0, 4)
    assert model_sampling(carded, "gpc_cem", "push_k") == SamplingSettings(3.0, 4)
    spec = EvalSpec(task="push_k", method="gpc_cem", model=(carded,))
    assert spec.with_sampling("push_k").flow_noise == 3.0
    assert spec.with_sampling("push_t").flow_noise == 2.0


def test_a_given_setting_overrides_the_card(task, models):
    _, carded = models
    assert flow_of(build(task, "gpc_cem", carded, flow_noise=1.5)) == (1.5, 4)
    assert flow_of(build(task, "gpc_cem", carded, flow_steps=2)) == (2.0, 2)
    with pytest.raises(ConfigError, match="flow_noise must be a positive number") as err:
        build(task, "gpc_cem", carded, flow_noise=-1.0)
    assert err.value.setting == "flow_noise"


def test_methods_without_a_model_ignore_the_flow_settings(task):
    planner = build(task, "cem", None, flow_noise=3.0)
    assert not hasattr(planner.optimizer.config, "flow_noise")


def test_the_shipped_push_t_models_recommend_the_table_settings():
    """README's Table I samples GPC-CEM at noise 2 and GPC-Shoot at 2.5, 10 Euler steps."""
    for name in ("push_t", "push_t_seed1", "push_t_seed2"):
        path = str(MODELS_DIR / f"{name}.pt")
        assert model_sampling(path, "gpc_cem") == SamplingSettings(2.0, 10)
        assert model_sampling(path, "gpc_shoot") == SamplingSettings(2.5, 10)
        card = (MODELS_DIR / f"{name}.model_card.md").read_text()
        assert "| gpc_cem | any | 2 | 10 |" in card and "| gpc_shoot | any | 2.5 | 10 |" in card


def test_errors_name_the_setting_not_a_flag(task):
    with pytest.raises(ConfigError) as err:
        build_planner(task, "cem", np.random.default_rng(0), horizon=-1.0)
    assert str(err.value) == "horizon must be a positive number of seconds, got -1.0"
    assert err.value.setting == "horizon"
    with pytest.raises(ConfigError, match="unknown method 'nope'; known: ps, cem"):
        build_planner(task, "nope", np.random.default_rng(0))
    spot_free = make_task("push_t", nthread=1)
    spot_free.name = "nowhere"  # a task without a shipped model
    with pytest.raises(ConfigError, match="gpc_cem needs a proposal model") as err:
        build_planner(spot_free, "gpc_cem", np.random.default_rng(0))
    assert "--" not in str(err.value) and err.value.setting == "model"


def test_a_task_s_tuned_settings_replace_the_method_defaults_under_explicit_ones(task):
    """nav_dyn gives MPPI a wider spread than the push-tuned default; a given sigma still
    wins, and a task without settings keeps the method's default. Evaluation journals
    record the task's settings, so a run never resumes under another spread."""
    from gpc_planner.evaluation import EvalSpec
    from gpc_planner.registry import method_spec

    nav = make_task("nav_dyn", nthread=1)
    default = method_spec("mppi").make_config().sigma
    tuned = nav.method_settings["mppi"]["sigma"]
    assert tuned != default
    rng = np.random.default_rng(0)
    assert build_planner(nav, "mppi", rng, num_rollouts=4).optimizer.config.sigma == tuned
    assert build_planner(nav, "mppi", rng, num_rollouts=4,
                         sigma=0.2).optimizer.config.sigma == 0.2
    assert build_planner(task, "mppi", rng, num_rollouts=4).optimizer.config.sigma == default
    assert build_planner(nav, "ps", rng, num_rollouts=4).optimizer.config.sigma == \
        method_spec("ps").make_config().sigma  # only the methods the task names
    header = EvalSpec("nav_dyn", "mppi").header("nav_dyn")
    assert header["spec"]["method_settings"] == {"sigma": tuned}
    assert "method_settings" not in EvalSpec("push_t", "mppi").header("push_t")["spec"]
