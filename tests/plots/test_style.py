"""The shared scale rule and tick values of the pictures (plots.style)."""

from __future__ import annotations

import numpy as np
import pytest

from losstopo.names import CriticalType
from losstopo.plots.style import CRITICAL, colour_ticks, fmt_loss, log_ticks, loss_scale


@pytest.mark.parametrize("values, kind", [
    ([0.5, 2.0, 40.0], "linear"),            # under two decades
    ([0.02, 0.5, 337.0], "log"),             # the exploding border of a trained basin
    ([0.0, 0.01, 300.0], "symlog"),          # a zero loss: no log axis
    ([-2.0, 0.5, 500.0], "symlog"),          # negative values
    ([-1.0, 0.0, 1.0], "linear"),
    ([np.inf, np.nan, 1.0, 1000.0], "log"),  # non-finite values do not count
])
def test_loss_scale_rule(values, kind):
    assert loss_scale(np.array(values)).kind == kind


def test_symlog_round_trip_and_threshold():
    s = loss_scale(np.array([0.0, 0.01, 300.0]))
    assert s.linthresh == pytest.approx(0.01)
    v = np.array([-50.0, -0.005, 0.0, 0.003, 7.0, 300.0])
    np.testing.assert_allclose(s.inverse(s.forward(v)), v)


def test_log_ticks_are_readable_loss_values():
    assert log_ticks(0.05, 20.0) == pytest.approx([0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0])
    assert log_ticks(2.04, 6e9)[0] == pytest.approx(10.0 ** 2)  # every other decade, none below 2.04
    assert [fmt_loss(t) for t in log_ticks(0.1, 10.0)][::3] == ["0.1", "1", "10"]
    assert colour_ticks(2.04, 6e9, loss_scale(np.array([2.04, 6e9])))[0] == 2.04  # the minimum shown
    assert fmt_loss(1e6) == "$10^{6}$" and fmt_loss(0.25) == "0.25" and fmt_loss(5.99e9) == "6e9"


def test_one_colour_per_critical_type():
    colours = [CRITICAL[t]["color"] for t in CriticalType]
    assert len(set(colours)) == len(colours)
