"""Model cards and ``set_model_sampling``: the file and its card always say the same."""

import json

import pytest
import torch

from gpc_planner.proposals import load_proposal_model
from gpc_planner.proposals.model_card import (
    SAMPLING_HEADING,
    model_card_paths,
    render_model_card,
    set_model_sampling,
)
from gpc_sim.errors import ConfigError

CARD = {"task": "push_t", "data": ["runs/d"], "seed": 0, "steps": 12, "final_loss": 1.0,
        "min_loss": 0.9, "wall_time_s": 3.0, "versions": {"torch": "x"}, "created": "today",
        "dataset": {"samples": 9, "episodes": 1, "collection_settings": {"seed": 0}},
        "settings": {"hidden": 8, "layers": 2, "time_features": 4, "epochs": 1,
                     "batch_size": 4, "lr": 1e-3, "warmup_steps": 0, "mirror": False},
        "sampling": {}}


@pytest.fixture
def shipped_like(tmp_path):
    """NAME.pt with a NAME.model_card.md written before cards had a sampling section."""
    from test_flow_model import push_model

    path = tmp_path / "push_t.pt"
    push_model(seed=1).save(path)
    (tmp_path / "push_t.model_card.md").write_text("# Proposal model: push_t\n\n- data: x\n")
    return path


def test_a_new_card_says_the_paper_settings_apply():
    text = render_model_card(CARD)
    assert text.startswith("# Proposal model: push_t") and SAMPLING_HEADING in text
    assert "None recorded" in text and "flow noise 1, 10 flow steps" in text


def test_set_sampling_rewrites_the_file_and_its_card(shipped_like):
    before = torch.load(shipped_like, weights_only=True)
    set_model_sampling(shipped_like, "gpc_cem", flow_noise=2.0, flow_steps=10)
    set_model_sampling(shipped_like, "gpc_shoot", flow_noise=2.5)  # steps: the paper's 10
    after = torch.load(shipped_like, weights_only=True)
    assert after["sampling"] == {"gpc_cem": {"flow_noise": 2.0, "flow_steps": 10},
                                 "gpc_shoot": {"flow_noise": 2.5, "flow_steps": 10}}
    for key, tensor in before["state_dict"].items():  # the weights are untouched
        assert torch.equal(tensor, after["state_dict"][key])
    assert load_proposal_model(shipped_like).sampling == after["sampling"]
    card = (shipped_like.parent / "push_t.model_card.md").read_text()
    assert card.startswith("# Proposal model: push_t\n\n- data: x\n")  # the rest is kept
    assert card.count(SAMPLING_HEADING) == 1  # regenerated, not appended again
    assert "| gpc_cem | any | 2 | 10 |" in card and "| gpc_shoot | any | 2.5 | 10 |" in card

    set_model_sampling(shipped_like, "gpc_cem", flow_steps=2)  # noise kept
    set_model_sampling(shipped_like, "gpc_shoot", clear=True)
    card = (shipped_like.parent / "push_t.model_card.md").read_text()
    assert "| gpc_cem | any | 2 | 2 |" in card and "gpc_shoot |" not in card
    assert card.count(SAMPLING_HEADING) == 1


def test_a_task_of_its_own_gets_its_row_and_inherits_the_rest(shipped_like):
    set_model_sampling(shipped_like, "gpc_cem", flow_noise=1.0, flow_steps=2)
    sampling = set_model_sampling(shipped_like, "gpc_cem", flow_noise=2.0, task="push_k")
    assert sampling == {"gpc_cem": {"flow_noise": 1.0, "flow_steps": 2},
                        "gpc_cem@push_k": {"flow_noise": 2.0, "flow_steps": 2}}  # steps kept
    assert load_proposal_model(shipped_like).sampling == sampling
    card = (shipped_like.parent / "push_t.model_card.md").read_text()
    assert "| gpc_cem | any | 1 | 2 |" in card and "| gpc_cem | push_k | 2 | 2 |" in card
    sampling = set_model_sampling(shipped_like, "gpc_cem", clear=True, task="push_k")
    assert sampling == {"gpc_cem": {"flow_noise": 1.0, "flow_steps": 2}}  # the method's kept
    assert "push_k |" not in (shipped_like.parent / "push_t.model_card.md").read_text()


def test_a_train_folder_card_and_its_json_follow(tmp_path):
    from test_flow_model import push_model

    path = tmp_path / "model.pt"
    push_model(seed=1).save(path)
    (tmp_path / "model_card.json").write_text(json.dumps(CARD))
    (tmp_path / "model_card.md").write_text(render_model_card(CARD))
    assert model_card_paths(path) == (tmp_path / "model_card.md", tmp_path / "model_card.json")
    set_model_sampling(path, "gpc_cem", flow_noise=2.0)
    card = json.loads((tmp_path / "model_card.json").read_text())
    assert card["sampling"] == {"gpc_cem": {"flow_noise": 2.0, "flow_steps": 10}}
    assert (tmp_path / "model_card.md").read_text() == render_model_card(card)


def test_a_model_without_a_card_gets_one(tmp_path):
    from test_flow_model import push_model

    path = tmp_path / "m.pt"
    push_model(seed=1).save(path)
    set_model_sampling(path, "gpc_cem", flow_noise=3.0)
    card = (tmp_path / "m.model_card.md").read_text()
    assert card.startswith("# Proposal model: push_t") and "| gpc_cem | any | 3 | 10 |" in card


@pytest.mark.parametrize("kwargs, needle", [
    ({"method": "cem", "flow_noise": 2.0}, "samples no proposal model"),
    ({"method": "gpc_cem"}, "nothing to set"),
    ({"method": "gpc_cem", "flow_noise": 2.0, "clear": True}, "clear drops"),
    ({"method": "gpc_cem", "flow_noise": -2.0}, "flow_noise must be a positive number"),
    ({"method": "gpc_cem", "flow_noise": 2.0, "task": "push_q"}, "unknown task 'push_q'"),
])
def test_bad_requests_change_nothing(shipped_like, kwargs, needle):
    before = shipped_like.read_bytes()
    with pytest.raises(ConfigError, match=needle):
        set_model_sampling(shipped_like, **kwargs)
    assert shipped_like.read_bytes() == before
