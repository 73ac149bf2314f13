"""The coverage metric on shapes whose overlap is known in closed form."""

import numpy as np
import pytest

from gpc_sim.push.coverage import coverage
from gpc_sim.push.shapes import BlockShape, Rectangle, load_shape

SQUARE = BlockShape("square", (Rectangle((0.0, 0.0), (0.1, 0.1)),))


def test_identical_pose_covers_fully():
    for shape in (SQUARE, load_shape("t"), load_shape("k")):
        assert coverage(shape, np.array([0.05, -0.02, 0.3]), np.array([0.05, -0.02, 0.3])) == (
            pytest.approx(1.0)
        )


def test_square_shifted_by_a_fraction_of_its_side():
    # Shifting a 10 cm square by 2.5 cm along x leaves 7.5 cm x 10 cm of overlap.
    assert coverage(SQUARE, np.array([0.025, 0.0, 0.0]), np.zeros(3)) == pytest.approx(0.75)
    # Diagonal shift (2 cm, 3 cm): (8 x 7) / (10 x 10).
    assert coverage(SQUARE, np.array([0.02, 0.03, 0.0]), np.zeros(3)) == pytest.approx(0.56)


def test_square_rotated_45_degrees_about_its_centre():
    # The overlap of a square and itself rotated by 45 deg is a regular octagon:
    # area = 2 (sqrt(2) - 1) s^2 for side s, i.e. 0.8284 of the square.
    cov = coverage(SQUARE, np.array([0.0, 0.0, np.pi / 4]), np.zeros(3))
    assert cov == pytest.approx(2 * (np.sqrt(2) - 1), rel=1e-9)


def test_disjoint_poses_cover_nothing():
    assert coverage(SQUARE, np.array([0.5, 0.0, 0.0]), np.zeros(3)) == 0.0


def test_t_shape_symmetry_and_half_turn():
    t = load_shape("t")
    # Mirror symmetry about the block's y axis does not make a half-turn a match:
    flipped = coverage(t, np.array([0.0, 0.0, np.pi]), np.zeros(3))
    assert 0.2 < flipped < 0.6
    # Full turn is the identity.
    assert coverage(t, np.array([0.0, 0.0, 2 * np.pi]), np.zeros(3)) == pytest.approx(1.0)


def test_t_shape_areas_are_the_sum_of_its_rectangles():
    t = load_shape("t")
    assert t.area == pytest.approx(0.20 * 0.05 + 0.05 * 0.15)
