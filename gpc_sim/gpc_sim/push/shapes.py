"""Block shapes as data: a list of axis-aligned rectangles in the block frame.

A shape is what distinguishes Push-T from Push-K, so it is loaded from YAML
(presets ship in ``push/shapes/``) and any user file of the same form works:

    name: MyShape
    rectangles:
      - {center: [x, y], size: [w, h]}   # metres, block frame
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

import numpy as np
import shapely
import yaml

from gpc_sim.errors import ConfigError

PRESETS = ("t", "k")
# Smallest rectangle side (m). Thinner boxes have too little mass and inertia for MuJoCo to
# compile, or let the pusher (a 15 mm sphere) tunnel through them in one 0.01 s step.
MIN_SIZE = 0.005
MAX_SIZE = 1.0  # m, larger than the table
MAX_RECTANGLES = 64  # each is a MuJoCo geom, checked in every contact test
NAME = re.compile(r"[A-Za-z0-9_-]{1,40}")


@dataclass(frozen=True)
class Rectangle:
    """An axis-aligned rectangle in the block frame."""

    center: tuple[float, float]
    size: tuple[float, float]


@dataclass(frozen=True)
class BlockShape:
    """A planar block: the union of its rectangles."""

    name: str
    rectangles: tuple[Rectangle, ...]

    @cached_property
    def polygon(self) -> shapely.Geometry:
        """The block outline in its own frame (a shapely geometry)."""
        boxes = [
            shapely.box(c[0] - s[0] / 2, c[1] - s[1] / 2, c[0] + s[0] / 2, c[1] + s[1] / 2)
            for c, s in ((r.center, r.size) for r in self.rectangles)
        ]
        return shapely.union_all(boxes)

    @property
    def area(self) -> float:
        return float(self.polygon.area)

    @property
    def radius(self) -> float:
        """Distance from the origin to the farthest corner (for spawning)."""
        corners = shapely.get_coordinates(self.polygon)
        return float(np.max(np.linalg.norm(corners, axis=-1)))


def shape_from_dict(data: object, source: str) -> BlockShape:
    """Validate a parsed YAML document and build a shape; errors name ``source``."""
    if not isinstance(data, dict) or "rectangles" not in data:
        raise ConfigError(f"{source}: expected a mapping with a 'rectangles' list")
    rects = data["rectangles"]
    if not isinstance(rects, list) or not 1 <= len(rects) <= MAX_RECTANGLES:
        raise ConfigError(f"{source}: 'rectangles' must be a non-empty list of at most "
                          f"{MAX_RECTANGLES} rectangles")
    parsed = []
    for i, r in enumerate(rects):
        try:
            center = tuple(float(v) for v in r["center"])
            size = tuple(float(v) for v in r["size"])
        except (TypeError, KeyError, ValueError) as err:
            raise ConfigError(
                f"{source}: rectangle {i} needs center: [x, y] and size: [w, h] numbers"
            ) from err
        if len(center) != 2 or len(size) != 2:
            raise ConfigError(f"{source}: rectangle {i}: center and size take two numbers")
        if not all(np.isfinite(center + size)):
            raise ConfigError(f"{source}: rectangle {i}: center and size must be finite")
        if not MIN_SIZE <= min(size) <= max(size) <= MAX_SIZE:
            raise ConfigError(f"{source}: rectangle {i}: sizes must be in [{MIN_SIZE:g}, "
                              f"{MAX_SIZE:g}] m, got {size[0]:g} x {size[1]:g}")
        parsed.append(Rectangle(center, size))  # type: ignore[arg-type]
    shape = BlockShape(_shape_name(data.get("name", Path(source).stem), source), tuple(parsed))
    if shape.polygon.geom_type != "Polygon":
        raise ConfigError(f"{source}: the rectangles must form one connected block")
    return shape


def _shape_name(name: object, source: str) -> str:
    """The shape's name, which names the task (push_<name>) and the MuJoCo model: letters,
    digits, ``_`` and ``-`` only, so it cannot break the generated XML."""
    text = str(name)
    if not isinstance(name, str | int) or not NAME.fullmatch(text):
        raise ConfigError(f"{source}: name must be 1-40 letters, digits, _ or -, got {text[:40]!r}")
    return text


def load_shape(name_or_path: str) -> BlockShape:
    """Load a preset by name (``t``, ``k``) or a YAML shape file by path."""
    key = name_or_path.lower()
    if key in PRESETS:
        text = resources.files("gpc_sim.push").joinpath(f"shapes/{key}.yaml").read_text()
        return shape_from_dict(yaml.safe_load(text), f"preset {key}")
    path = Path(name_or_path)
    if not path.is_file():
        raise ConfigError(f"shape file not found: {path} (presets: {', '.join(PRESETS)})")
    return shape_from_dict(_read_yaml(path), str(path))


def _read_yaml(path: Path) -> object:
    """The YAML document in ``path``; a file that is unreadable, binary or not YAML is a
    ConfigError naming it (yaml and the decoder raise three unrelated exception types)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text file (a YAML shape file is UTF-8 text)") from None
    except OSError as err:
        raise ConfigError(f"{path}: cannot read ({err.strerror})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML ({err.__class__.__name__})") from None
