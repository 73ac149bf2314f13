"""The mocap channel: rate, latency, dropout and noise, seeded."""

import math

import numpy as np
import pytest

from gpc_sim.errors import ConfigError
from gpc_sim.mocap import MocapChannel, MocapConfig, rotate_yaw

POSE = {"spot": (np.array([1.0, 2.0, 0.5]), np.array([1.0, 0.0, 0.0, 0.0]))}
DT = 0.02


def run(channel: MocapChannel, seconds: float):
    """Offer the same pose every 0.02 s; the frames delivered at each step."""
    out = []
    for k in range(int(round(seconds / DT))):
        t = k * DT
        channel.capture(t, POSE)
        out.append((t, channel.deliver(t)))
    return out


def test_rate_takes_one_frame_per_period():
    delivered = [f for _, fs in run(MocapChannel(MocapConfig(rate=10.0)), 2.0) for f in fs]
    stamps = [f.stamp for f in delivered]
    assert len(stamps) == 20
    np.testing.assert_allclose(np.diff(stamps), 0.1, atol=1e-9)
    assert [f.number for f in delivered] == list(range(1, 21))


def test_latency_delays_delivery_and_keeps_the_capture_stamp():
    steps = run(MocapChannel(MocapConfig(rate=50.0, latency=0.1)), 1.0)
    for t, frames in steps:
        for f in frames:
            assert t == pytest.approx(f.stamp + 0.1, abs=1e-9)
    assert not any(frames for t, frames in steps if t < 0.1 - 1e-9)


def test_dropout_loses_that_share_and_numbers_show_the_gaps():
    channel = MocapChannel(MocapConfig(rate=50.0, dropout=0.3), seed=1)
    delivered = [f for _, fs in run(channel, 40.0) for f in fs]
    assert channel.captured == 2000
    assert len(delivered) == channel.captured - channel.dropped
    assert 0.25 < channel.dropped / channel.captured < 0.35
    assert len(delivered) < max(f.number for f in delivered)


def test_noise_has_the_configured_spread_and_is_seeded():
    config = MocapConfig(rate=50.0, position_noise=0.01, yaw_noise=0.05)
    a = [f for _, fs in run(MocapChannel(config, seed=3), 20.0) for f in fs]
    b = [f for _, fs in run(MocapChannel(config, seed=3), 20.0) for f in fs]
    pos = np.array([f.bodies["spot"][0] for f in a])
    assert np.std(pos - POSE["spot"][0], axis=0) == pytest.approx([0.01] * 3, rel=0.1)
    quats = np.array([f.bodies["spot"][1] for f in a])
    yaw = 2.0 * np.arctan2(quats[:, 3], quats[:, 0])
    assert np.std(yaw) == pytest.approx(0.05, rel=0.1)
    np.testing.assert_allclose(np.linalg.norm(quats, axis=1), 1.0)
    np.testing.assert_array_equal(pos, [f.bodies["spot"][0] for f in b])


def test_rotate_yaw_composes_about_the_vertical():
    q = rotate_yaw(rotate_yaw(np.array([1.0, 0.0, 0.0, 0.0]), 0.3), 0.4)
    assert 2.0 * math.atan2(q[3], q[0]) == pytest.approx(0.7)


@pytest.mark.parametrize("field,value", [("rate", 0.0), ("latency", -0.1), ("dropout", 1.0),
                                         ("position_noise", math.nan)])
def test_bad_settings_are_refused(field, value):
    with pytest.raises(ConfigError, match=field):
        MocapConfig(**{field: value})
