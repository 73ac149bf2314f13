"""The method registry: every method once, what it needs declared, one line to add one."""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gpc_planner.cli.main import build_parser
from gpc_planner.control import ControlSpline
from gpc_planner.methods import build_planner
from gpc_planner.optimizers import ConditionedOptimizer, Optimizer, OptimizerConfig
from gpc_planner.registry import METHODS, MODEL_METHODS, MethodSpec, make_optimizer, needs_model
from gpc_sim.errors import ConfigError
from gpc_sim.tasks import make_task

LOW, HIGH = -np.ones(2), np.ones(2)
SPLINE = ControlSpline(horizon=1.0, num_knots=4, dt=0.01, kind="linear")


def test_every_method_of_the_paper_is_registered_with_what_it_needs():
    assert list(METHODS) == ["ps", "cem", "mppi", "dial", "gpc_shoot", "gpc_cem", "nfmpc",
                             "flow_mppi"]
    assert MODEL_METHODS == ("gpc_shoot", "gpc_cem", "nfmpc", "flow_mppi")
    for name, spec in METHODS.items():
        assert issubclass(spec.optimizer, Optimizer) and issubclass(spec.config, OptimizerConfig)
        # Only the flow methods sample a model, and those take the observation and history.
        assert spec.needs_model == needs_model(name) == (name in MODEL_METHODS)
        assert spec.conditioned == spec.needs_model
    assert METHODS["gpc_cem"].stats == ("cem_sample_ratio",) and METHODS["cem"].stats == ()
    assert not needs_model("nope")


def test_the_command_line_offers_exactly_the_registered_methods():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for command in ("eval", "demo"):
        method = next(a for a in commands[command]._actions if a.dest == "method")
        assert list(method.choices) == list(METHODS)


def test_a_model_goes_to_the_methods_that_need_one_only():
    with pytest.raises(ConfigError, match="cem takes no proposal model"):
        make_optimizer("cem", SPLINE, LOW, HIGH, np.random.default_rng(0), proposal=object())
    with pytest.raises(ConfigError, match="gpc_cem needs proposal model"):
        make_optimizer("gpc_cem", SPLINE, LOW, HIGH, np.random.default_rng(0))


def test_a_method_that_samples_a_model_must_be_conditioned():
    from gpc_planner.optimizers.mppi import MPPI, MPPIConfig

    with pytest.raises(TypeError, match="ConditionedOptimizer"):
        MethodSpec(MPPI, MPPIConfig, needs_model=True)


@dataclass
class WalkConfig(OptimizerConfig):
    step: float = 0.1  # a random walk's step, in half-ranges


class RandomWalk(Optimizer):
    """README's example, plus a figure of its own: samples around the best so far."""

    config: WalkConfig
    STATS = ("spread",)

    def sample(self, iteration: int) -> np.ndarray:
        return self.gaussian(self.config.num_rollouts, self.config.step * self.scale)

    def update(self, knots: np.ndarray, costs: np.ndarray, iteration: int) -> None:
        self.mean = knots[self.record_best(knots, costs)].copy()

    def stats(self) -> dict[str, float]:
        return {"spread": self.config.step}


def readme_example() -> tuple[type, type, str]:
    """The classes and the registry line of README's "Adding a planning method", run."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = text.split("## Adding a planning method", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - our own README
    return namespace["RandomWalk"], namespace["RandomWalkConfig"], blocks[1].strip()


def test_adding_a_method_is_a_class_a_config_and_one_registry_line(monkeypatch):
    optimizer, config, line = readme_example()
    assert line == '"walk": MethodSpec(RandomWalk, RandomWalkConfig),'
    monkeypatch.setitem(METHODS, "walk", MethodSpec(optimizer, config))
    task = make_task("push_t", nthread=1)
    planner = build_planner(task, "walk", np.random.default_rng(0), horizon=0.3,
                            num_rollouts=4, step=0.2)
    assert isinstance(planner.optimizer, optimizer) and planner.optimizer.config.step == 0.2
    state = task.sample_initial_state(np.random.default_rng(0))
    plan = planner.plan(state, 0.0)
    assert plan.knots.shape == (4, task.action_dim) and plan.stats == {}
    parser = build_parser()  # and the command line offers it
    args = parser.parse_args(["eval", "--task", "push_t", "--method", "walk"])
    assert args.method == "walk"
    monkeypatch.setitem(METHODS, "walk2", MethodSpec(RandomWalk, WalkConfig))
    assert build_planner(task, "walk2", np.random.default_rng(0), horizon=0.3,
                         num_rollouts=4).plan(state, 0.0).stats == {"spread": 0.1}


def test_conditioned_is_a_declared_interface_not_a_probe():
    class Looks:  # a set_context method alone does not make an optimizer conditioned
        def set_context(self, observation, history): ...

    assert not isinstance(Looks(), ConditionedOptimizer)
    with pytest.raises(TypeError):  # and a conditioned optimizer must implement it
        type("Half", (ConditionedOptimizer,), {"sample": lambda s, i: None,
                                               "update": lambda s, k, c, i: None})(
            OptimizerConfig(), SPLINE, LOW, HIGH, np.random.default_rng(0))
