"""What names an evaluation when its journal is resumed (``eval_journal``)."""

from gpc_planner.eval_journal import header_difference


def _model_header(path: str, digest: str, horizon: float = 4.0) -> dict:
    return {"spec": {"task": "spot_chair", "horizon": horizon, "model": [path]},
            "model_sha256": [digest]}


def test_a_journal_resumes_from_a_model_file_elsewhere_with_the_same_digest():
    """The digest names the model: a clone in another folder resumes its journal."""
    old = _model_header("/work/main/models/spot_chair.pt", "ab12")
    assert header_difference(old, _model_header("/tmp/clone/models/spot_chair.pt", "ab12")) \
        is None


def test_a_retrained_model_or_another_setting_is_another_evaluation():
    old = _model_header("/m/spot_chair.pt", "ab12")
    assert header_difference(old, _model_header("/m/spot_chair.pt", "cd34")) == \
        "model_sha256: ['ab12'] there, ['cd34'] here"
    assert header_difference(old, _model_header("/m/spot_chair.pt", "ab12", 3.0)) == \
        "spec.horizon: 4.0 there, 3.0 here"
    assert header_difference({"spec": {"task": "a"}}, {"spec": {"task": "a", "seed": 1}}) == \
        "spec.seed: (absent) there, 1 here"
    assert header_difference([1], {"spec": {}}) == "the header is not a JSON object"


def test_without_digests_the_model_path_still_counts():
    old = {"spec": {"model": ["/a.pt"]}}
    assert header_difference(old, {"spec": {"model": ["/b.pt"]}}) == \
        "spec.model: ['/a.pt'] there, ['/b.pt'] here"
