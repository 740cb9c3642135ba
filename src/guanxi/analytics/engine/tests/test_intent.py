"""Stated intent in CLV, with worked example X5 (source 003 §6.2.2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.analytics.engine.abc import abc_analysis
from guanxi.analytics.engine.bgnbd import BgNbdFit
from guanxi.analytics.engine.clv import bgnbd_gamma_gamma_clv
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.gammagamma import GammaGammaFit
from guanxi.analytics.engine.intent import (
    change_for,
    intent_multipliers,
    model_clv_with_intent,
    projected_value,
)
from guanxi.analytics.engine.rfm import rfm_analysis

BG = BgNbdFit(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258, log_likelihood=0.0, n=1, converged=True)
GG = GammaGammaFit(p=6.2488, q=3.7446, v=15.4477, log_likelihood=0.0, n=1, converged=True)
X = np.array([0, 1, 2, 7, 30])
T_X = np.array([0.0, 1.71, 30.43, 20.0, 38.0])
T = np.array([38.86, 38.86, 38.86, 32.0, 38.86])
M = np.array([0.0, 11.77, 22.35, 40.0, 15.0])


def test_x5_clv_with_intent_ranks_b_above_a() -> None:
    """X5: A buys ¥1,000 a month in 5 purchases, is seeking other suppliers and will cut back
    after 3 months; B buys ¥500 a month in 3 purchases and plans to buy more, more often.
    RFM and ABC on the last month rank A above B; CLV with intent ranks B above A."""
    a_days, b_days = [2, 8, 14, 20, 26], [5, 15, 25]
    customer = np.array([0] * 5 + [1] * 3)
    day = np.array(a_days + b_days, dtype=np.int32) + 20_000
    amount = np.array([200.0] * 5 + [500.0 / 3] * 3)
    rfm = rfm_analysis(customer, day, amount, as_of=20_030, window_days=30)
    a, b = 0, 1
    assert rfm.frequency.tolist() == [5, 3]
    assert rfm.monetary == pytest.approx([1000.0, 500.0])
    assert (rfm.f_score[a], rfm.m_score[a]) > (rfm.f_score[b], rfm.m_score[b])
    abc = abc_analysis(rfm.monetary)
    assert abc.rank[a] < abc.rank[b] and abc.abc_class[a] <= abc.abc_class[b]

    # Twelve months ahead at 10% a year; each keeps their current monthly value unless
    # their intent changes it.
    monthly_rate = 1.1 ** (1 / 12) - 1
    per_month = np.repeat(rfm.monetary[:, None], 12, axis=1)
    without = projected_value(per_month, [0.0, 0.0], [0, 0], discount_rate=monthly_rate)
    assert without[a] > without[b]
    change = [change_for("leaving"), change_for("more")]
    with_intent = projected_value(per_month, change, [3, 0], discount_rate=monthly_rate)
    assert with_intent[b] > with_intent[a]
    # A keeps three full months, then fades out over the next three.
    assert intent_multipliers([-1.0], [3], horizon_periods=7)[0] == pytest.approx(
        [1, 1, 1, 2 / 3, 1 / 3, 0, 0])


def test_change_for_kinds_and_stated_figures() -> None:
    assert change_for("") == 0.0 and change_for("steady") == 0.0
    assert change_for("leaving") == -1.0 and change_for("more") > 0 > change_for("less")
    assert change_for("more", 20) == pytest.approx(0.2)
    assert change_for("leaving", -30) == pytest.approx(-0.3)
    with pytest.raises(InputError, match="column 'intent'"):
        change_for("bored")
    with pytest.raises(InputError, match="column 'change_pct'"):
        change_for("less", -150)


def test_model_clv_with_no_change_is_the_model_clv() -> None:
    base = bgnbd_gamma_gamma_clv(BG, GG, X, T_X, T, M, horizon_periods=26, discount_rate=0.002)
    same = model_clv_with_intent(BG, GG, X, T_X, T, M, np.zeros(5), np.zeros(5),
                                 horizon_periods=26, discount_rate=0.002)
    assert same == pytest.approx(base.clv, rel=1e-10)
    gone = model_clv_with_intent(BG, GG, X, T_X, T, M, -np.ones(5), np.zeros(5),
                                 horizon_periods=26, discount_rate=0.002, ramp_periods=0)
    assert gone == pytest.approx(np.zeros(5), abs=1e-12)
    double = model_clv_with_intent(BG, GG, X, T_X, T, M, np.ones(5), np.zeros(5),
                                   horizon_periods=26, discount_rate=0.002, ramp_periods=0)
    assert double == pytest.approx(2 * base.clv, rel=1e-10)


@settings(max_examples=60, deadline=None)
@given(st.floats(-1, 3), st.integers(0, 20), st.floats(0, 10), st.integers(1, 30))
def test_more_intent_never_lowers_value(change: float, start: int, ramp: float, h: int) -> None:
    per = np.full((1, h), 100.0)
    lower = projected_value(per, [change], [start], discount_rate=0.01, ramp_periods=ramp)
    higher = projected_value(per, [change + 0.25], [start], discount_rate=0.01,
                             ramp_periods=ramp)
    assert higher[0] >= lower[0] >= 0


def test_input_checks_name_the_field() -> None:
    with pytest.raises(InputError, match="column 'change'"):
        intent_multipliers([-2.0], [0], horizon_periods=3)
    with pytest.raises(InputError, match="column 'start'"):
        intent_multipliers([0.1], [-1], horizon_periods=3)
    with pytest.raises(InputError, match="column 'horizon_periods'"):
        intent_multipliers([0.1], [0], horizon_periods=0)
    with pytest.raises(InputError, match="column 'per_period'"):
        projected_value([1.0, 2.0], [0.0], [0], discount_rate=0.1)
