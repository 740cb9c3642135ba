"""Lifecycle stages and the decline flag (implicit churn) from a customer's own trend."""

from __future__ import annotations

import numpy as np
import pytest

from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.lifecycle import STAGES, LifecycleSettings, lifecycle_stages

AS_OF = day_number("2024-12-31")


def test_stages_by_hand() -> None:
    rows = [
        (0, AS_OF - 10, 10.0),  # one purchase day: first-time
        (0, AS_OF - 10, 5.0),
        (1, AS_OF - 100, 10.0),
        (1, AS_OF - 20, 10.0),  # two days: repeat
        (3, AS_OF - 400, 1.0),  # nothing for 400 days: lost
        (3, AS_OF - 380, 1.0),
        (4, AS_OF + 5, 1.0),  # buys only after the as-of date
    ]
    rows += [(2, AS_OF - d, 20.0) for d in (700, 600, 500, 300, 100, 50, 3)]  # loyal
    customer, day, amount = (np.array(c) for c in zip(*rows, strict=True))
    result = lifecycle_stages(customer, day, amount, as_of=AS_OF)
    assert result.customer.tolist() == [0, 1, 2, 3]
    assert result.stage_codes().tolist() == ["first_time", "repeat", "loyal", "lost"]
    assert result.purchase_days.tolist() == [1, 2, 7, 2]
    assert [s.label_zh for s in STAGES] == ["首次购买客户", "重复购买客户", "忠诚客户", "流失客户"]


def test_decline_from_the_customers_own_trend() -> None:
    # Monthly buyer for two years, then once in the last 180 days: frequency trend about 1/6.
    monthly = [(0, AS_OF - 720 + 30 * k, 50.0) for k in range(18)]
    recent = [(0, AS_OF - 90, 50.0)]
    # Steady customer: the same rhythm throughout.
    steady = [(1, AS_OF - 720 + 30 * k, 50.0) for k in range(24)]
    # Buys as often, but spends a tenth.
    thrifty = [(2, AS_OF - 720 + 30 * k, 50.0 if k < 18 else 5.0) for k in range(24)]
    customer, day, amount = (
        np.array(c) for c in zip(*(monthly + recent + steady + thrifty), strict=True)
    )
    result = lifecycle_stages(customer, day, amount, as_of=AS_OF)
    assert result.declining.tolist() == [True, False, True]
    # 18 purchase days over the 541 days from the first purchase to the window's start.
    assert result.frequency_trend[0] == pytest.approx((1 / 180) / (18 / 541))
    assert 0.5 < result.frequency_trend[1] < 1.5
    assert result.spend_trend[2] < 0.5 <= result.frequency_trend[2]


def test_short_history_has_no_trend_and_settings_are_checked() -> None:
    result = lifecycle_stages(
        np.array([0, 0]), np.array([AS_OF - 10, AS_OF - 5]), np.array([1.0, 1.0]), as_of=AS_OF
    )
    assert np.isnan(result.frequency_trend[0]) and not result.declining[0]
    with pytest.raises(InputError, match="column 'decline_ratio'"):
        LifecycleSettings(decline_ratio=0.0)
    strict = lifecycle_stages(
        np.array([0, 0]),
        np.array([AS_OF - 10, AS_OF - 5]),
        np.array([1.0, 1.0]),
        as_of=AS_OF,
        settings=LifecycleSettings(lost_after_days=3),
    )
    assert strict.stage_codes().tolist() == ["lost"]
