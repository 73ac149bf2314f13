import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.push.shapes import load_shape


def test_presets_load():
    assert load_shape("t").name == "T"
    assert load_shape("K").name == "K"


def test_user_shape_file(tmp_path):
    f = tmp_path / "l.yaml"
    f.write_text("name: L\nrectangles:\n  - {center: [0, 0], size: [0.1, 0.02]}\n"
                 "  - {center: [-0.04, 0.04], size: [0.02, 0.1]}\n")
    shape = load_shape(str(f))
    assert shape.name == "L" and len(shape.rectangles) == 2


@pytest.mark.parametrize("text, message", [
    ("rectangles: []", "non-empty"),
    ("rectangles:\n  - {center: [0, 0]}", "rectangle 0"),
    ("rectangles:\n  - {center: [0, 0], size: [-1, 0.1]}", "sizes must be"),
    ("rectangles:\n  - {center: [0, 0], size: [0.1, 0.1]}\n"
     "  - {center: [0.5, 0], size: [0.1, 0.1]}", "connected"),
    ("[1, 2", "not valid YAML"),
    ("just a string", "mapping"),
])
def test_malformed_shape_files_name_the_problem(tmp_path, text, message):
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError, match=message) as err:
        load_shape(str(f))
    assert str(f) in str(err.value)


def test_missing_shape_file():
    with pytest.raises(ConfigError, match="not found"):
        load_shape("/nonexistent/shape.yaml")
