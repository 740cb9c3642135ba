"""RFM analysis: recency, frequency and monetary value, scores 1-5 and the eight classes.

DOMAIN.md section 4 (after source 003 §6.2.2): recency (最近一次购买) is the number of days from
a customer's last purchase to the as-of date, frequency (购买频率) the number of purchases in the
window, monetary (购买金额) the spend in the window. The window is the ``window_days`` days ending
on the as-of date (the as-of date included); without a window, all history up to the as-of date.
Transactions after the as-of date are ignored. Only customers with at least one transaction in
the window are scored.

Scores (1-5, 5 best; recent is best for recency, more is best for frequency and monetary):

* quintile mode (the default): a customer's score is ``1 + floor(5 * w / n)``, where ``n`` is the
  number of scored customers and ``w`` the number of them with a strictly worse value. Equal
  values therefore always get equal scores (a tie takes the score of its lowest position), and
  no random or order-dependent tie-break is used; with many ties some scores stay empty.
* threshold mode: four ascending cut points per measure set by an administrator. Frequency and
  monetary: the score is 1 plus the number of cut points at or below the value (value >= c4 is
  5). Recency, in days: the score is 5 minus the number of cut points strictly below the value
  (recency <= c1 is 5, recency > c4 is 1).

Classes: a score is high when it is strictly greater than the mean of that score over the scored
customers (``score > mean``; equal to the mean is low). The three high/low flags give one of the
eight classes of :data:`RFM_CLASSES`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.abc import rank_order
from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.groups import group_count, group_max, group_sum


@dataclass(frozen=True)
class RfmClass:
    """One of the eight RFM classes with its labels and default playbook (DOMAIN.md section 4)."""

    code: str
    r_high: bool
    f_high: bool
    m_high: bool
    label_zh: str
    label_en: str
    playbook: str


#: The eight RFM classes, DOMAIN.md section 4 (high R = bought recently). The one place that
#: holds the codes, the zh-Hans and English labels and the default playbooks.
# fmt: off
RFM_CLASSES: tuple[RfmClass, ...] = (
    #        code                    R high F high  M high
    RfmClass("important_value",       True,  True,  True,
             "重要价值客户", "important value", "keep: priority service"),
    RfmClass("important_development", True,  False, True,
             "重要发展客户", "important development", "raise frequency: cross-sell"),
    RfmClass("important_retention",   False, True,  True,
             "重要保持客户", "important retention", "re-engage now: personal contact"),
    RfmClass("important_win_back",    False, False, True,
             "重要挽留客户", "important win-back", "win back: call, special offer"),
    RfmClass("general_value",         True,  True,  False,
             "一般价值客户", "general value", "raise spend: up-sell, bundles"),
    RfmClass("general_development",   True,  False, False,
             "一般发展客户", "general development", "nurture by tech-touch"),
    RfmClass("general_retention",     False, True,  False,
             "一般保持客户", "general retention", "low-cost reminders"),
    RfmClass("general_win_back",      False, False, False,
             "一般挽留客户", "general win-back", "automated win-back, or let go"),
)
# fmt: on

# Position in RFM_CLASSES for the pattern index r_high * 4 + f_high * 2 + m_high.
_CLASS_BY_PATTERN = np.zeros(8, dtype=np.int8)
for _position, _cls in enumerate(RFM_CLASSES):
    _CLASS_BY_PATTERN[int(_cls.r_high) * 4 + int(_cls.f_high) * 2 + int(_cls.m_high)] = _position
del _position, _cls


@dataclass(frozen=True)
class RfmThresholds:
    """Administrator cut points: four strictly ascending values per measure."""

    recency: tuple[float, float, float, float]
    frequency: tuple[float, float, float, float]
    monetary: tuple[float, float, float, float]

    def __post_init__(self) -> None:
        for name in ("recency", "frequency", "monetary"):
            cuts = tuple(float(c) for c in getattr(self, name))
            if len(cuts) != 4 or not all(np.isfinite(cuts)):
                raise InputError(f"needs four finite cut points, got {cuts}", column=name)
            if any(b <= a for a, b in zip(cuts, cuts[1:], strict=False)):
                raise InputError(f"cut points must rise strictly, got {cuts}", column=name)
            object.__setattr__(self, name, cuts)


@dataclass(frozen=True)
class RfmClassSummary:
    """Customers and spend in one class."""

    rfm_class: RfmClass
    customers: int
    spend: float


@dataclass(frozen=True)
class RfmResult:
    """RFM values, scores and classes of the scored customers (ascending customer code)."""

    customer: NDArray[np.int64]
    recency_days: NDArray[np.int64]
    frequency: NDArray[np.int64]
    monetary: NDArray[np.float64]
    r_score: NDArray[np.int8]
    f_score: NDArray[np.int8]
    m_score: NDArray[np.int8]
    class_index: NDArray[np.int8]
    r_mean: float
    f_mean: float
    m_mean: float
    as_of_day: int
    window_days: int | None
    #: Positions (into these arrays) by monetary value, largest first, ties in customer order:
    #: the ranking that ABC analysis and value tiers by amount use (``order=`` there).
    monetary_order: NDArray[np.int64]

    @property
    def n(self) -> int:
        return int(len(self.customer))

    def class_codes(self) -> NDArray[np.str_]:
        """The class code of each scored customer."""
        codes = np.array([c.code for c in RFM_CLASSES])
        return codes[self.class_index]

    def class_summary(self) -> list[RfmClassSummary]:
        """Customers and spend per class, in the order of :data:`RFM_CLASSES`."""
        counts = np.bincount(self.class_index, minlength=len(RFM_CLASSES))
        spend = np.bincount(self.class_index, weights=self.monetary, minlength=len(RFM_CLASSES))
        return [
            RfmClassSummary(cls, int(counts[i]), float(spend[i]))
            for i, cls in enumerate(RFM_CLASSES)
        ]


def quintile_scores(
    values: ArrayLike,
    *,
    higher_is_better: bool = True,
    descending_order: NDArray[np.int64] | None = None,
) -> NDArray[np.int8]:
    """Scores 1-5 by quintile: ``1 + floor(5 * w / n)``, ``w`` = customers strictly worse.

    Equal values get equal scores. With ``higher_is_better`` False (recency) smaller is better.
    ``descending_order`` may pass the positions ordered by value, largest first
    (:func:`~guanxi.analytics.engine.abc.rank_order`), to count without another sort.
    """
    arr = np.asarray(values)
    n = len(arr)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    if descending_order is not None and higher_is_better:
        worse = _smaller_from_descending_order(arr, descending_order)
    else:
        worse = _strictly_worse(arr, higher_is_better)
    return (1 + (5 * worse) // n).astype(np.int8)


def _smaller_from_descending_order(
    arr: NDArray[np.generic], order: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Per value, how many values are strictly smaller, from an order largest first."""
    n = len(arr)
    ranked = arr[order]
    last_of_run = np.ones(n, dtype=bool)
    np.not_equal(ranked[1:], ranked[:-1], out=last_of_run[:-1])
    ends = np.flatnonzero(last_of_run)
    run = np.zeros(n, dtype=np.int64)
    run[1:] = np.cumsum(last_of_run[:-1])
    smaller = np.empty(n, dtype=np.int64)
    smaller[order] = n - 1 - ends[run]
    return smaller


def _strictly_worse(arr: NDArray[np.generic], higher_is_better: bool) -> NDArray[np.int64]:
    """Per value, how many values are strictly worse (smaller, or larger when lower is better)."""
    if np.issubdtype(arr.dtype, np.integer):
        low = int(arr.min())
        span = int(arr.max()) - low + 1
        if span <= 4 * len(arr) + 1024:
            # Counting: a histogram of the values and its running sums.
            shifted = (arr - low).astype(np.int64)
            counts = np.bincount(shifted, minlength=span)
            if higher_is_better:
                below = np.cumsum(counts) - counts
                return below[shifted]
            above = len(arr) - np.cumsum(counts)
            return above[shifted]
    # The "min" rank is 1 + the number of strictly smaller (or, descending, larger) values.
    rank = pl.Series(arr).rank("min", descending=not higher_is_better).to_numpy()
    return rank.astype(np.int64) - 1


def threshold_scores(
    values: ArrayLike, cuts: Sequence[float], *, higher_is_better: bool = True
) -> NDArray[np.int8]:
    """Scores 1-5 from four ascending cut points (see the module docstring for the rule)."""
    arr = np.asarray(values, dtype=np.float64)
    edges = np.asarray(cuts, dtype=np.float64)
    if higher_is_better:
        return (1 + np.searchsorted(edges, arr, side="right")).astype(np.int8)
    return (5 - np.searchsorted(edges, arr, side="left")).astype(np.int8)


def rfm_classes(
    r_score: NDArray[np.int8], f_score: NDArray[np.int8], m_score: NDArray[np.int8]
) -> tuple[NDArray[np.int8], tuple[float, float, float]]:
    """Class index into :data:`RFM_CLASSES` per customer, and the three means compared with.

    A score is high when it is strictly greater than the mean of that score.
    """
    if len(r_score) == 0:
        return np.zeros(0, dtype=np.int8), (float("nan"),) * 3
    means = (float(r_score.mean()), float(f_score.mean()), float(m_score.mean()))
    pattern = (
        (r_score > means[0]).astype(np.int8) * 4
        + (f_score > means[1]).astype(np.int8) * 2
        + (m_score > means[2]).astype(np.int8)
    )
    return _CLASS_BY_PATTERN[pattern], means


def rfm_analysis(
    customer: ArrayLike,
    day: ArrayLike,
    amount: ArrayLike,
    *,
    as_of: object,
    window_days: int | None = None,
    n_customers: int | None = None,
    thresholds: RfmThresholds | None = None,
) -> RfmResult:
    """RFM values, scores and classes as of a date.

    ``customer`` holds dense integer codes (see :class:`~guanxi.analytics.engine.io.Transactions`),
    ``day`` day numbers, ``amount`` the amounts; ``as_of`` is a date, an ISO string or a day
    number. Quintile scores unless ``thresholds`` are given.
    """
    codes = np.asarray(customer, dtype=np.int64)
    days = np.asarray(day, dtype=np.int32)
    amounts = np.asarray(amount, dtype=np.float64)
    if not (len(codes) == len(days) == len(amounts)):
        raise InputError("customer, day and amount arrays differ in length")
    if window_days is not None and window_days < 1:
        raise InputError(f"window must be at least one day, got {window_days}")
    as_of_day = day_number(as_of)  # type: ignore[arg-type]
    n = int(n_customers if n_customers is not None else (codes.max() + 1 if len(codes) else 0))

    keep: NDArray[np.bool_] | None = None
    if len(days) and (int(days.max()) > as_of_day or window_days is not None):
        keep = days <= as_of_day
        if window_days is not None:
            keep &= days > as_of_day - window_days

    frequency_all = group_count(codes, n, where=keep)
    scored = np.flatnonzero(frequency_all)
    frequency = frequency_all[scored]
    monetary = group_sum(codes, amounts, n, where=keep)[scored]
    last = group_max(codes, days, n, where=keep)[scored]
    recency = as_of_day - last.astype(np.int64)
    monetary_order = rank_order(monetary)

    if thresholds is None:
        r_score = quintile_scores(recency, higher_is_better=False)
        f_score = quintile_scores(frequency)
        m_score = quintile_scores(monetary, descending_order=monetary_order)
    else:
        r_score = threshold_scores(recency, thresholds.recency, higher_is_better=False)
        f_score = threshold_scores(frequency, thresholds.frequency)
        m_score = threshold_scores(monetary, thresholds.monetary)
    class_index, means = rfm_classes(r_score, f_score, m_score)
    return RfmResult(
        customer=scored.astype(np.int64),
        recency_days=recency,
        frequency=frequency,
        monetary=monetary,
        r_score=r_score,
        f_score=f_score,
        m_score=m_score,
        class_index=class_index,
        r_mean=means[0],
        f_mean=means[1],
        m_mean=means[2],
        as_of_day=as_of_day,
        window_days=window_days,
        monetary_order=monetary_order,
    )
