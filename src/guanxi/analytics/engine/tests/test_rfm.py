"""RFM values, quintile and threshold scores, the tie rule and the eight classes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from guanxi.analytics.engine.abc import rank_order
from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.rfm import (
    RFM_CLASSES,
    RfmThresholds,
    quintile_scores,
    rfm_analysis,
    rfm_classes,
    threshold_scores,
)

AS_OF = day_number("2024-06-30")


def test_values_by_hand() -> None:
    # Customer 0 buys twice (last 10 days ago), 1 once (30 days ago), 2 after the as-of date
    # only, 3 long ago (outside a 100-day window).
    customer = np.array([0, 0, 1, 2, 3, 0])
    day = np.array([AS_OF - 40, AS_OF - 10, AS_OF - 30, AS_OF + 1, AS_OF - 200, AS_OF])
    amount = np.array([10.0, 20.0, 5.0, 99.0, 7.0, 1.0])
    result = rfm_analysis(customer, day, amount, as_of=AS_OF, n_customers=4)
    assert result.customer.tolist() == [0, 1, 3]
    assert result.recency_days.tolist() == [0, 30, 200]
    assert result.frequency.tolist() == [3, 1, 1]
    assert result.monetary.tolist() == [31.0, 5.0, 7.0]
    windowed = rfm_analysis(
        customer, day, amount, as_of="2024-06-30", window_days=100, n_customers=4
    )
    assert windowed.customer.tolist() == [0, 1]
    edge = rfm_analysis(customer, day, amount, as_of=AS_OF, window_days=30, n_customers=4)
    assert edge.customer.tolist() == [0]  # the window is (as_of - 30, as_of]
    assert edge.frequency.tolist() == [2]


def test_quintile_scores_of_ten_distinct_values() -> None:
    assert quintile_scores(np.arange(10)).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(np.arange(10), higher_is_better=False).tolist() == [
        5,
        5,
        4,
        4,
        3,
        3,
        2,
        2,
        1,
        1,
    ]
    assert quintile_scores(np.arange(10.0) / 3).tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]


def test_ties_take_the_score_of_their_lowest_position() -> None:
    # Six of ten customers bought once: all six score 1, the next value starts at 6/10.
    frequency = np.array([1, 1, 1, 1, 1, 1, 2, 2, 3, 9])
    assert quintile_scores(frequency).tolist() == [1, 1, 1, 1, 1, 1, 4, 4, 5, 5]
    assert quintile_scores(np.full(7, 3.5)).tolist() == [1] * 7
    recency = np.array([0, 0, 5, 5, 5])
    assert quintile_scores(recency, higher_is_better=False).tolist() == [4, 4, 1, 1, 1]


def test_threshold_scores() -> None:
    cuts = (2, 4, 8, 16)
    assert threshold_scores([0, 2, 3, 4, 15, 16, 100], cuts).tolist() == [1, 2, 2, 3, 4, 5, 5]
    recency_cuts = (30, 90, 180, 365)
    assert threshold_scores(
        [0, 30, 31, 90, 365, 366], recency_cuts, higher_is_better=False
    ).tolist() == [5, 5, 4, 4, 2, 1]
    with pytest.raises(InputError, match="rise strictly"):
        RfmThresholds((1, 1, 2, 3), cuts, cuts)


def test_classes_compare_with_the_mean_strictly() -> None:
    r = np.array([5, 1, 3], dtype=np.int8)  # mean 3: only 5 is high
    f = np.array([1, 5, 3], dtype=np.int8)
    m = np.array([5, 5, 3], dtype=np.int8)  # mean 4.33
    index, means = rfm_classes(r, f, m)
    codes = [RFM_CLASSES[i].code for i in index]
    assert codes == ["important_development", "important_retention", "general_win_back"]
    assert means == pytest.approx((3.0, 3.0, 13 / 3))


def test_class_table_is_complete() -> None:
    patterns = {(c.r_high, c.f_high, c.m_high) for c in RFM_CLASSES}
    assert len(patterns) == 8 and len({c.code for c in RFM_CLASSES}) == 8
    labels = {c.label_zh for c in RFM_CLASSES}
    assert {
        "重要价值客户",
        "重要发展客户",
        "重要保持客户",
        "重要挽留客户",
        "一般价值客户",
        "一般发展客户",
        "一般保持客户",
        "一般挽留客户",
    } == labels
    value = next(c for c in RFM_CLASSES if c.code == "important_value")
    assert (value.r_high, value.f_high, value.m_high) == (True, True, True)
    assert value.playbook == "keep: priority service"


def test_thresholds_mode_and_summary() -> None:
    customer = np.array([0, 1, 1, 2])
    day = np.array([AS_OF - 5, AS_OF - 100, AS_OF - 50, AS_OF - 400])
    amount = np.array([500.0, 20.0, 30.0, 5.0])
    cuts = RfmThresholds((30, 90, 180, 365), (2, 3, 5, 10), (10, 50, 100, 1000))
    result = rfm_analysis(customer, day, amount, as_of=AS_OF, thresholds=cuts)
    assert result.r_score.tolist() == [5, 4, 1]  # recency 5, 50, 400 days
    assert result.f_score.tolist() == [1, 2, 1]
    assert result.m_score.tolist() == [4, 3, 1]
    summary = {s.rfm_class.code: (s.customers, s.spend) for s in result.class_summary()}
    assert sum(c for c, _ in summary.values()) == 3
    assert sum(s for _, s in summary.values()) == pytest.approx(555.0)


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(np.int64, st.integers(1, 200), elements=st.integers(0, 30)),
    st.integers(0, 2**32 - 1),
)
def test_scores_and_classes_properties(customer: np.ndarray, seed: int) -> None:
    rng = np.random.default_rng(seed)
    day = rng.integers(AS_OF - 400, AS_OF + 10, len(customer))
    amount = np.round(rng.gamma(1.0, 50.0, len(customer)), 2)
    result = rfm_analysis(customer, day, amount, as_of=AS_OF, window_days=365)
    for scores in (result.r_score, result.f_score, result.m_score):
        assert scores.min(initial=1) >= 1 and scores.max(initial=5) <= 5
    # Classes partition the scored customers.
    counts = [s.customers for s in result.class_summary()]
    assert sum(counts) == result.n == len(np.unique(result.customer))
    assert np.all((result.class_index >= 0) & (result.class_index < 8))
    # Equal values, equal scores; a better value never scores lower.
    order = np.argsort(result.monetary, kind="stable")
    assert np.all(np.diff(result.m_score[order]) >= 0)
    order = np.argsort(result.recency_days, kind="stable")
    assert np.all(np.diff(result.r_score[order]) <= 0)
    for value in np.unique(result.frequency):
        assert len(np.unique(result.f_score[result.frequency == value])) == 1
    # Permuting the customers' codes permutes the scores and nothing else.
    relabel = rng.permutation(31)
    again = rfm_analysis(relabel[customer], day, amount, as_of=AS_OF, window_days=365)
    back = {int(relabel[c]): i for i, c in enumerate(result.customer)}
    for i, c in enumerate(again.customer):
        j = back[int(c)]
        assert (again.r_score[i], again.f_score[i], again.m_score[i], again.class_index[i]) == (
            result.r_score[j],
            result.f_score[j],
            result.m_score[j],
            result.class_index[j],
        )


@settings(max_examples=60, deadline=None)
@given(
    hnp.arrays(
        np.float64, st.integers(1, 300), elements=st.sampled_from([0.0, 1.5, 2.0, 7.25, 9.0, 100.0])
    )
)
def test_scores_from_a_shared_order_are_the_same(values: np.ndarray) -> None:
    assert np.array_equal(
        quintile_scores(values, descending_order=rank_order(values)), quintile_scores(values)
    )
