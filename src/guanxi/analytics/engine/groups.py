"""Per-customer aggregation over dense integer customer codes.

Group-bys run as unbuffered ``ufunc.at`` passes over blocks of rows, accumulating into arrays of
one element per customer, so that no temporary array the size of the whole log is created: on
logs of tens of millions of rows, touching fresh memory costs more than the arithmetic. Only
counting distinct (customer, day) pairs needs order; rows already ordered by customer and day
(as a database export ordered by customer gives them) are counted in the same single pass,
others are sorted first.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import polars as pl
from numpy.typing import NDArray

#: Rows per block: large enough to amortise the Python loop, small enough to stay in cache.
BLOCK_ROWS = 1 << 20

INT32_MIN = np.iinfo(np.int32).min
INT32_MAX = np.iinfo(np.int32).max


def blocks(n_rows: int) -> Iterator[slice]:
    """Consecutive slices of at most :data:`BLOCK_ROWS` rows covering ``n_rows``."""
    for start in range(0, n_rows, BLOCK_ROWS):
        yield slice(start, min(start + BLOCK_ROWS, n_rows))


def select_rows(
    where: NDArray[np.bool_] | None, part: slice, *arrays: NDArray[np.generic]
) -> tuple[NDArray[np.generic], ...]:
    """The rows of ``part`` in each array, only those where ``where`` is true (when given)."""
    if where is None:
        return tuple(a[part] for a in arrays)
    keep = where[part]
    if keep.all():
        return tuple(a[part] for a in arrays)
    return tuple(a[part][keep] for a in arrays)


def group_count(
    customer: NDArray[np.int64], n: int, where: NDArray[np.bool_] | None = None
) -> NDArray[np.int64]:
    """Rows per customer (only rows where ``where`` is true, when given)."""
    out = np.zeros(n, dtype=np.int64)
    for part in blocks(len(customer)):
        (c,) = select_rows(where, part, customer)
        np.add.at(out, c, 1)
    return out


def group_sum(
    customer: NDArray[np.int64],
    values: NDArray[np.float64],
    n: int,
    where: NDArray[np.bool_] | None = None,
) -> NDArray[np.float64]:
    """Sum of ``values`` per customer (0 for a customer without rows)."""
    out = np.zeros(n, dtype=np.float64)
    for part in blocks(len(customer)):
        c, v = select_rows(where, part, customer, values)
        np.add.at(out, c, v)
    return out


def group_max(
    customer: NDArray[np.int64],
    values: NDArray[np.int32],
    n: int,
    where: NDArray[np.bool_] | None = None,
) -> NDArray[np.int32]:
    """Largest value per customer (the int32 minimum for a customer without rows)."""
    out = np.full(n, INT32_MIN, dtype=np.int32)
    for part in blocks(len(customer)):
        c, v = select_rows(where, part, customer, values)
        np.maximum.at(out, c, v)
    return out


def group_min(
    customer: NDArray[np.int64],
    values: NDArray[np.int32],
    n: int,
    where: NDArray[np.bool_] | None = None,
) -> NDArray[np.int32]:
    """Smallest value per customer (the int32 maximum for a customer without rows)."""
    out = np.full(n, INT32_MAX, dtype=np.int32)
    for part in blocks(len(customer)):
        c, v = select_rows(where, part, customer, values)
        np.minimum.at(out, c, v)
    return out


def distinct_days(
    customer: NDArray[np.int64],
    day: NDArray[np.int32],
    n: int,
    where: NDArray[np.bool_] | None = None,
) -> NDArray[np.int64]:
    """Number of distinct days with at least one row, per customer."""
    out = np.zeros(n, dtype=np.int64)
    previous_customer, previous_day = -1, INT32_MIN
    for part in blocks(len(customer)):
        c, d = select_rows(where, part, customer, day)
        if len(c) == 0:
            continue
        same_customer = c[1:] == c[:-1]
        disorder = (c[1:] < c[:-1]) | (same_customer & (d[1:] < d[:-1]))
        first_c, first_d = int(c[0]), int(d[0])
        if disorder.any() or (first_c, first_d) < (previous_customer, previous_day):
            return _distinct_days_sorting(customer, day, n, where)
        new = np.empty(len(c), dtype=bool)
        new[0] = (first_c, first_d) != (previous_customer, previous_day)
        np.logical_or(~same_customer, d[1:] != d[:-1], out=new[1:])
        np.add.at(out, c[new], 1)
        previous_customer, previous_day = int(c[-1]), int(d[-1])
    return out


def _distinct_days_sorting(
    customer: NDArray[np.int64],
    day: NDArray[np.int32],
    n: int,
    where: NDArray[np.bool_] | None,
) -> NDArray[np.int64]:
    """distinct_days for rows in any order: sort (customer, day) keys, count the changes."""
    low, high = int(day.min()), int(day.max())
    span = high - low + 1
    rows = len(customer) if where is None else int(np.count_nonzero(where))
    key = np.empty(rows, dtype=np.int64)
    filled = 0
    for part in blocks(len(customer)):
        c, d = select_rows(where, part, customer, day)
        block = key[filled : filled + len(c)]
        np.multiply(c, span, out=block)
        block += d
        block -= low
        filled += len(c)
    ordered = pl.Series(key).sort().to_numpy()
    del key
    out = np.zeros(n, dtype=np.int64)
    previous = -1
    for part in blocks(len(ordered)):
        k = ordered[part]
        new = np.empty(len(k), dtype=bool)
        new[0] = k[0] != previous
        np.not_equal(k[1:], k[:-1], out=new[1:])
        np.add.at(out, k[new] // span, 1)
        previous = int(k[-1])
    return out


def daily_log(
    customer: NDArray[np.int64], day: NDArray[np.int32], amount: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int32], NDArray[np.float64]]:
    """The log as one row per (customer, day), amounts summed, ordered by customer then day.

    Returns ``(ids, code, day, amount)``: the distinct customer ids in ascending order, and per
    row the customer's dense code (its position in ``ids``), the day and the day's amount. A
    log already in that order (as a database export grouped by customer and day and ordered
    gives it) passes through without a copy; any other is sorted once on a single packed
    (customer, day) key, which is cheaper than sorting on two columns or factorising the ids
    separately.
    """
    customer = np.asarray(customer, dtype=np.int64)
    day = np.asarray(day, dtype=np.int32)
    amount = np.asarray(amount, dtype=np.float64)
    if len(customer) == 0:
        return customer, customer.copy(), day, amount
    new_customer = np.empty(len(customer), dtype=bool)
    new_customer[0] = True
    np.not_equal(customer[1:], customer[:-1], out=new_customer[1:])
    step_ok = (customer[1:] > customer[:-1]) | (~new_customer[1:] & (day[1:] > day[:-1]))
    if bool(step_ok.all()):
        return customer[new_customer], np.cumsum(new_customer) - 1, day, amount
    del step_ok
    low, high = int(day.min()), int(day.max())
    span = high - low + 1
    base = int(customer.min())
    if (int(customer.max()) - base) >= (2**62) // span:
        ids, customer = np.unique(customer, return_inverse=True)
        base = 0
    else:
        ids = None
    key = (customer - base) * span + (day - low)
    ordered = pl.DataFrame({"k": key, "a": amount}).sort("k")
    del key
    key = ordered["k"].to_numpy()
    amount = ordered["a"].to_numpy()
    del ordered
    new_day = np.empty(len(key), dtype=bool)
    new_day[0] = True
    np.not_equal(key[1:], key[:-1], out=new_day[1:])
    if not new_day.all():
        rows = np.flatnonzero(new_day)
        amount = np.add.reduceat(amount, rows)
        key = key[rows]
    owner = key // span
    day = (key - owner * span + low).astype(np.int32)
    new_customer = np.empty(len(owner), dtype=bool)
    new_customer[0] = True
    np.not_equal(owner[1:], owner[:-1], out=new_customer[1:])
    code = np.cumsum(new_customer) - 1
    distinct = owner[new_customer]
    ids = distinct + base if ids is None else ids[distinct]
    return ids.astype(np.int64), code, day, amount
