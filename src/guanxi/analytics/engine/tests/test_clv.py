"""CLV: the discounted formula VK and the BG/NBD + Gamma-Gamma value over a horizon."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.analytics.engine.bgnbd import BgNbdFit, conditional_expected_purchases
from guanxi.analytics.engine.clv import bgnbd_gamma_gamma_clv, discounted_value
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.gammagamma import GammaGammaFit, conditional_expected_spend

BG = BgNbdFit(r=0.2426, alpha=4.4135, a=0.7929, b=2.4258, log_likelihood=0.0, n=1, converged=True)
GG = GammaGammaFit(p=6.2488, q=3.7446, v=15.4477, log_likelihood=0.0, n=1, converged=True)
X = np.array([0, 1, 2, 2, 7, 30])
T_X = np.array([0.0, 1.71, 30.43, 30.43, 20.0, 38.0])
T = np.array([38.86, 38.86, 38.86, 38.86, 32.0, 38.86])
M = np.array([0.0, 11.77, 22.35, 22.35, 40.0, 15.0])


def test_discounted_value_formula() -> None:
    # VK = sum_t (Q_t - C_t) / (1 + i)^t, t from 0.
    assert discounted_value([100.0, 100.0, 100.0], [20.0, 20.0, 20.0], discount_rate=0.1) == (
        pytest.approx(80 + 80 / 1.1 + 80 / 1.21)
    )
    rows = discounted_value(
        [[10.0, 10.0], [5.0, 0.0]], [[0.0, 30.0], [0.0, 0.0]], discount_rate=0.0
    )
    assert rows.tolist() == [-10.0, 5.0]  # signed: the first customer costs more than he brings
    with pytest.raises(InputError, match="column 'discount_rate'"):
        discounted_value([1.0], discount_rate=-1.0)
    with pytest.raises(InputError, match="column 'cost'"):
        discounted_value([1.0, 2.0], [1.0], discount_rate=0.0)


def test_model_clv_matches_the_sum_of_discounted_periods() -> None:
    rate, weeks = 0.002, 26
    result = bgnbd_gamma_gamma_clv(BG, GG, X, T_X, T, M, horizon_periods=weeks, discount_rate=rate)
    spend = conditional_expected_spend(GG, X, M)
    expected = np.zeros(len(X))
    previous = np.zeros(len(X))
    for k in range(1, weeks + 1):
        current = conditional_expected_purchases(BG, float(k), X, T_X, T)
        expected += spend * (current - previous) / (1 + rate) ** k
        previous = current
    assert result.clv == pytest.approx(expected, rel=1e-10)
    assert result.expected_purchases == pytest.approx(previous, rel=1e-10)
    assert result.expected_spend == pytest.approx(spend)
    assert result.clv[2] == result.clv[3]
    undiscounted = bgnbd_gamma_gamma_clv(
        BG, GG, X, T_X, T, M, horizon_periods=weeks, discount_rate=0.0
    )
    assert undiscounted.clv == pytest.approx(spend * previous, rel=1e-10)


def test_period_length_groups_time() -> None:
    monthly = bgnbd_gamma_gamma_clv(
        BG, GG, X, T_X, T, M, horizon_periods=12, discount_rate=0.0, period_length=4.345
    )
    horizon = conditional_expected_purchases(BG, 12 * 4.345, X, T_X, T)
    assert monthly.expected_purchases == pytest.approx(horizon, rel=1e-10)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 0.05), st.floats(0.0, 0.05), st.integers(1, 60))
def test_clv_falls_as_the_discount_rate_rises(low: float, extra: float, weeks: int) -> None:
    high = low + extra
    cheap = bgnbd_gamma_gamma_clv(BG, GG, X, T_X, T, M, horizon_periods=weeks, discount_rate=low)
    dear = bgnbd_gamma_gamma_clv(BG, GG, X, T_X, T, M, horizon_periods=weeks, discount_rate=high)
    assert np.all(dear.clv <= cheap.clv + 1e-12)
    assert np.all(cheap.clv >= 0)
    longer = bgnbd_gamma_gamma_clv(
        BG, GG, X, T_X, T, M, horizon_periods=weeks + 1, discount_rate=low
    )
    assert np.all(longer.clv >= cheap.clv - 1e-12)


def test_clv_input_checks() -> None:
    with pytest.raises(InputError, match="column 'horizon_periods'"):
        bgnbd_gamma_gamma_clv(BG, GG, X, T_X, T, M, horizon_periods=0, discount_rate=0.0)
    with pytest.raises(InputError, match="column 'recency', row 1"):
        bgnbd_gamma_gamma_clv(
            BG, GG, [0], [1.0], [2.0], [0.0], horizon_periods=1, discount_rate=0.0
        )
