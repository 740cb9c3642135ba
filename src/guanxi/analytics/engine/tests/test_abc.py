"""ABC classes, the Pareto curve and value tiers, with worked examples X3 and X4."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from guanxi.analytics.engine.abc import (
    ABC_SOURCE_RANGES,
    VALUE_TIERS,
    abc_analysis,
    pareto_curve,
    rank_order,
    tier_sizes,
    value_tiers,
)
from guanxi.analytics.engine.errors import InputError


def test_abc_by_hand() -> None:
    # Total 100: ranked 50, 30, 10, 5, 5 -> cumulative 50, 80, 90, 95, 100.
    value = np.array([5.0, 30.0, 50.0, 5.0, 10.0])
    result = abc_analysis(value)
    assert result.labels().tolist() == ["B", "A", "A", "C", "B"]
    assert result.rank.tolist() == [4, 2, 1, 5, 3]  # equal values keep input order
    assert result.cumulative_share.tolist() == pytest.approx([0.95, 0.8, 0.5, 1.0, 0.9])
    a, b, c = result.classes
    assert (a.customers, a.value_share, b.customers, b.value_share, c.customers) == (
        2,
        pytest.approx(0.8),
        2,
        pytest.approx(0.15),
        1,
    )


def test_abc_top_customer_is_always_a_and_losses_are_c() -> None:
    result = abc_analysis(np.array([90.0, 5.0, 5.0]))
    assert result.labels().tolist() == ["A", "B", "C"]
    profit = np.array([60.0, -10.0, 30.0, 20.0])  # total 100, cumulative 60, 90, 110, 100
    result = abc_analysis(profit)
    assert result.labels().tolist() == ["A", "C", "B", "C"]
    with pytest.raises(InputError, match="total value must be positive"):
        abc_analysis(np.array([-1.0, 0.5]))


def x4_profit() -> np.ndarray:
    """X4: 7% of customers earn 77% of profit, the next 15% earn 17.5%, the other 78% 5.5%."""
    rng = np.random.default_rng(4)
    top = np.full(70, 0.77 / 70)
    middle = np.full(150, 0.175 / 150)
    tail = np.full(780, 0.055 / 780)
    profit = np.concatenate([top, middle, tail]) * 1_000_000
    return profit[rng.permutation(len(profit))]


def test_x4_abc_shares_fall_in_the_source_ranges() -> None:
    result = abc_analysis(x4_profit())
    for group in result.classes:
        (c_low, c_high), (v_low, v_high) = ABC_SOURCE_RANGES[group.label]
        assert c_low <= group.customer_share <= c_high, group
        assert v_low - 1e-9 <= group.value_share <= v_high + 1e-9, group
    a = result.classes[0]
    assert a.value_share <= 0.80 + 1e-12


def test_x3_value_tiers() -> None:
    rng = np.random.default_rng(3)
    amount = rng.lognormal(6.0, 1.5, 1000)
    result = value_tiers(amount)
    assert [g.customers for g in result.tiers] == [10, 40, 150, 800]
    assert [t.label_zh for t in VALUE_TIERS] == ["重要客户", "主要客户", "普通客户", "小客户"]
    ranked = np.argsort(-amount, kind="stable")
    assert set(np.flatnonzero(result.tier == 0)) == set(ranked[:10])
    assert result.codes()[ranked[10]] == "major"


def test_tier_sizes_and_basis() -> None:
    assert tier_sizes(1000) == (10, 40, 150, 800)
    assert tier_sizes(150) == (2, 6, 22, 120)  # ceil(1.5) = 2, ceil(7.5) = 8, ceil(30) = 30
    assert tier_sizes(100, (0.07, 0.1, 0.3)) == (7, 3, 20, 70)  # no float creep: 0.07 * 100
    counts = np.array([1.0, 9.0, 3.0, 3.0])
    result = value_tiers(counts, cuts=(0.25, 0.5, 0.75))
    assert result.codes().tolist() == ["minor", "vip", "major", "common"]


def test_pareto_curve() -> None:
    curve = pareto_curve(np.array([50.0, 30.0, 20.0]))
    assert curve.customer_share.tolist() == pytest.approx([0, 1 / 3, 2 / 3, 1])
    assert curve.value_share.tolist() == pytest.approx([0, 0.5, 0.8, 1.0])
    big = pareto_curve(np.arange(1.0, 10_001.0), points=11)
    assert len(big.customer_share) == 11
    assert big.value_share[0] == 0 and big.value_share[-1] == pytest.approx(1.0)
    assert np.all(np.diff(big.value_share) > 0)


def test_shared_order_gives_the_same_result() -> None:
    value = np.array([3.0, 1.0, 3.0, 2.0])
    order = rank_order(value)
    assert order.tolist() == [0, 2, 3, 1]
    assert (
        abc_analysis(value, order=order).labels().tolist() == abc_analysis(value).labels().tolist()
    )
    assert value_tiers(value, order=order).codes().tolist() == value_tiers(value).codes().tolist()


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64,
        st.integers(1, 300),
        elements=st.floats(0.01, 1e6, allow_nan=False, allow_infinity=False),
    )
)
def test_abc_and_tier_properties(value: np.ndarray) -> None:
    result = abc_analysis(value)
    labels = result.abc_class[np.argsort(result.rank)]
    assert np.all(np.diff(labels) >= 0)  # A before B before C along the ranking
    assert sum(g.customers for g in result.classes) == len(value)
    assert sum(g.value_share for g in result.classes) == pytest.approx(1.0)
    tiers = value_tiers(value)
    assert [g.customers for g in tiers.tiers] == list(tier_sizes(len(value)))
    ranked_tiers = tiers.tier[np.argsort(tiers.rank)]
    assert np.all(np.diff(ranked_tiers) >= 0)
