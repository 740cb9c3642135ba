"""Per-customer grouping: the daily log the models share."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from guanxi.analytics.engine.groups import daily_log


def _naive(customer, day, amount):
    sums: dict[tuple[int, int], float] = {}
    for c, d, a in zip(customer.tolist(), day.tolist(), amount.tolist(), strict=True):
        sums[(c, d)] = sums.get((c, d), 0.0) + a
    return sorted(sums.items())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 40), st.integers(19000, 19030),
                          st.integers(1, 1000)), min_size=1, max_size=60),
       st.booleans())
def test_daily_log_merges_days_and_orders_rows(rows, presorted):
    if presorted:
        rows = sorted(rows)
    customer = np.array([r[0] for r in rows], dtype=np.int64)
    day = np.array([r[1] for r in rows], dtype=np.int32)
    amount = np.array([r[2] / 4 for r in rows], dtype=np.float64)
    ids, code, d, a = daily_log(customer, day, amount)
    got = [((int(ids[c]), int(x)), float(y)) for c, x, y in zip(code, d, a, strict=True)]
    want = _naive(customer, day, amount)
    assert [k for k, _ in got] == [k for k, _ in want]
    assert np.allclose([v for _, v in got], [v for _, v in want])
    assert list(ids) == sorted(set(customer.tolist()))
    assert (np.diff(code) >= 0).all() and code[0] == 0 and code[-1] == len(ids) - 1


def test_daily_log_ordered_input_is_not_copied():
    customer = np.array([3, 3, 7, 9], dtype=np.int64)
    day = np.array([1, 2, 1, 5], dtype=np.int32)
    amount = np.array([1.0, 2.0, 3.0, 4.0])
    ids, code, d, a = daily_log(customer, day, amount)
    assert a is amount and d is day
    assert ids.tolist() == [3, 7, 9] and code.tolist() == [0, 0, 1, 2]


def test_daily_log_huge_ids_fall_back_to_factorising():
    customer = np.array([2**62, -(2**62), 2**62], dtype=np.int64)
    day = np.array([5, 6, 5], dtype=np.int32)
    amount = np.array([1.0, 2.0, 3.0])
    ids, code, d, a = daily_log(customer, day, amount)
    assert ids.tolist() == [-(2**62), 2**62]
    assert code.tolist() == [0, 1] and d.tolist() == [6, 5] and a.tolist() == [2.0, 4.0]
