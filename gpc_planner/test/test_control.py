import numpy as np
import pytest

from gpc_planner.control import ControlSpline, interpolation_matrix, time_shift_matrix

KNOT_TIMES = np.array([0.0, 1.0, 2.0, 3.0])


@pytest.mark.parametrize("kind", ["zero", "linear", "cubic"])
def test_interpolation_passes_through_knots(kind):
    knots = np.array([[0.0], [1.0], [-2.0], [0.5]])
    w = interpolation_matrix(KNOT_TIMES, KNOT_TIMES, kind)
    np.testing.assert_allclose(w @ knots, knots, atol=1e-12)


def test_zero_order_hold_holds_until_next_knot():
    knots = np.array([1.0, 2.0, 3.0, 4.0])
    w = interpolation_matrix(KNOT_TIMES, np.array([0.0, 0.99, 1.0, 2.5, 3.0]), "zero")
    np.testing.assert_allclose(w @ knots, [1.0, 1.0, 2.0, 3.0, 4.0])


def test_linear_is_midpoint_between_knots():
    knots = np.array([0.0, 2.0, 4.0, -4.0])
    w = interpolation_matrix(KNOT_TIMES, np.array([0.5, 1.5, 2.5]), "linear")
    np.testing.assert_allclose(w @ knots, [1.0, 3.0, 0.0])


def test_cubic_reproduces_a_line_and_is_smooth():
    # A natural cubic spline through collinear points is that line.
    knots = 2.0 * KNOT_TIMES - 1.0
    t = np.linspace(0, 3, 31)
    np.testing.assert_allclose(interpolation_matrix(KNOT_TIMES, t, "cubic") @ knots, 2 * t - 1,
                               atol=1e-12)
    # Through non-collinear points it differs from linear between knots.
    bumpy = np.array([0.0, 1.0, 0.0, 1.0])
    mid = np.array([0.5])
    assert abs((interpolation_matrix(KNOT_TIMES, mid, "cubic") @ bumpy)[0] - 0.5) > 0.05


def test_queries_beyond_the_horizon_hold_the_last_value():
    knots = np.array([0.0, 1.0, 2.0, 5.0])
    for kind in ("zero", "linear", "cubic"):
        w = interpolation_matrix(KNOT_TIMES, np.array([3.0, 4.0, 10.0]), kind)
        np.testing.assert_allclose(w @ knots, [5.0, 5.0, 5.0], atol=1e-12)


def test_spline_interpolates_batches_at_dt():
    spline = ControlSpline(horizon=3.0, num_knots=4, dt=0.01, kind="linear")
    knots = np.random.default_rng(0).normal(size=(5, 4, 2))
    controls = spline.interpolate(knots)
    assert controls.shape == (5, 300, 2)
    np.testing.assert_allclose(controls[:, 100], knots[:, 1], atol=1e-12)  # t = 1.0 s
    np.testing.assert_allclose(controls[:, 50], (knots[:, 0] + knots[:, 1]) / 2, atol=1e-12)


@pytest.mark.parametrize("kind", ["zero", "linear", "cubic"])
def test_shift_keeps_the_curve(kind):
    """After a time shift, the new knots describe the same curve from the later time."""
    spline = ControlSpline(horizon=3.0, num_knots=4, dt=0.01, kind=kind)
    knots = np.array([[0.0], [1.0], [3.0], [2.0]])
    shifted = spline.shift(knots, 0.5)
    if kind == "linear":  # exact for piecewise-linear curves at the new knot times
        np.testing.assert_allclose(spline.value_at(shifted, 0.0), spline.value_at(knots, 0.5))
    np.testing.assert_allclose(shifted[:, 0], [spline.value_at(knots, t)[0]
                                                for t in spline.knot_times + 0.5], atol=1e-12)
    assert shifted[-1, 0] == pytest.approx(2.0)  # past the horizon: the last value held


def test_bad_interpolation_is_refused():
    with pytest.raises(ValueError, match="unknown interpolation"):
        ControlSpline(horizon=1.0, num_knots=4, dt=0.01, kind="quintic")


def test_nav_dyn_plans_one_knot_per_control_step():
    """K = H + 1 linear knots on the step times: step k applies knot k, and the warm
    start moves every knot one step on and holds the last (the paper's per-step controls)."""
    from gpc_planner.planner import task_spline
    from gpc_sim.tasks import make_task

    task = make_task("nav_dyn", nthread=1)
    spline = task_spline(task)
    assert spline.num_steps == task.config.num_knots - 1 == 20
    knots = np.random.default_rng(0).normal(size=(task.config.num_knots, 2))
    np.testing.assert_allclose(spline.interpolate(knots), knots[:-1], atol=1e-12)
    shifted = spline.shift(knots, task.dt)
    np.testing.assert_allclose(shifted[:-1], knots[1:], atol=1e-12)
    np.testing.assert_allclose(shifted[-1], knots[-1], atol=1e-12)
    assert task.config.replan_hz * task.dt == pytest.approx(1.0)  # replans every step


def test_the_zero_tail_shifts_the_knots_and_appends_a_zero():
    """The paper's normal shift: forward one period, a zero where the plan ran out (the
    latent's centre), instead of the held last knot."""
    spline = ControlSpline(horizon=0.4, num_knots=5, dt=0.1, kind="linear")
    knots = np.random.default_rng(1).uniform(-1.0, 1.0, size=(5, 2))
    zero = time_shift_matrix(spline.knot_times, 0.1, "linear", 2, tail="zero")
    shifted = (zero @ knots.ravel()).reshape(5, 2)
    np.testing.assert_allclose(shifted[:4], knots[1:], atol=1e-12)
    np.testing.assert_array_equal(shifted[4], [0.0, 0.0])
    held = time_shift_matrix(spline.knot_times, 0.1, "linear", 2, tail="hold")
    np.testing.assert_allclose((held @ knots.ravel()).reshape(5, 2)[4], knots[4], atol=1e-12)
    assert np.linalg.norm(zero, 2) == pytest.approx(1.0)  # never amplifies; hold: sqrt(2)
    with pytest.raises(ValueError, match="unknown shift tail"):
        time_shift_matrix(spline.knot_times, 0.1, "linear", 2, tail="wrap")
