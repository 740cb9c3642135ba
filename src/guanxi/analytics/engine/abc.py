"""ABC analysis, the Pareto curve and value tiers (DOMAIN.md section 4).

Ranking: customers are ranked by value, largest first; equal values keep the order of their
customer codes (ascending identifier), so the ranking is deterministic. Both ABC classes and
value tiers cut this ranking, so two customers with equal value can fall on either side of a cut.

ABC (source 003 §6.2.2): the value is revenue, or profit (revenue minus cost) when costs are
known. The cumulative share of a customer is the summed value of all customers ranked up to and
including them, divided by the total value. Class A holds the customers whose cumulative share is
at most the first cut (default 80%), class B those at most the second cut (default 95%), class C
the rest; the top-ranked customer is always in A, even when they alone exceed the first cut.
So A holds at most the first cut's share of value (unless one customer exceeds it) and C at least
the remainder after the second cut; the source's ranges (A: 5-10% of customers with 70-80% of
profit, B: 10-20% with 10-20%, C: 70-80% with 5-10%) are given beside the result for comparison.
Loss-making customers (negative value) rank last and fall in C. The total must be positive.

Value tiers (source 004; X3): VIP 重要客户 = the top 1% of customers, major 主要客户 = the rest of
the top 5%, common 普通客户 = the rest of the top 20%, minor 小客户 = everyone else. With cut
shares c1 < c2 < c3 and n customers the tiers end at ranks ceil(c1 n), ceil(c2 n), ceil(c3 n).
The ranking basis (amount or transaction count) and the cuts are the caller's choice.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.errors import InputError

ABC_LABELS = ("A", "B", "C")

#: The source's ranges (share of customers, share of profit) per ABC class, source 003 §6.2.2.
ABC_SOURCE_RANGES: dict[str, tuple[tuple[float, float], tuple[float, float]]] = {
    "A": ((0.05, 0.10), (0.70, 0.80)),
    "B": ((0.10, 0.20), (0.10, 0.20)),
    "C": ((0.70, 0.80), (0.05, 0.10)),
}


@dataclass(frozen=True)
class ValueTier:
    """A value tier with its labels (DOMAIN.md section 4)."""

    code: str
    label_zh: str
    label_en: str


#: Value tiers from best to worst (source 004).
VALUE_TIERS: tuple[ValueTier, ...] = (
    ValueTier("vip", "重要客户", "VIP"),
    ValueTier("major", "主要客户", "major"),
    ValueTier("common", "普通客户", "common"),
    ValueTier("minor", "小客户", "minor"),
)
DEFAULT_TIER_CUTS = (0.01, 0.05, 0.20)
DEFAULT_ABC_CUTS = (0.80, 0.95)


@dataclass(frozen=True)
class GroupShare:
    """Size and value of one ABC class or value tier."""

    label: str
    customers: int
    customer_share: float
    value: float
    value_share: float


@dataclass(frozen=True)
class AbcResult:
    """ABC classes per customer (0 = A, 1 = B, 2 = C, in input order) and per-class shares."""

    abc_class: NDArray[np.int8]
    rank: NDArray[np.int64]
    cumulative_share: NDArray[np.float64]
    cuts: tuple[float, float]
    total: float
    classes: tuple[GroupShare, GroupShare, GroupShare]

    def labels(self) -> NDArray[np.str_]:
        return np.array(ABC_LABELS)[self.abc_class]


@dataclass(frozen=True)
class ParetoCurve:
    """Cumulative value share against the share of customers ranked best first."""

    customer_share: NDArray[np.float64]
    value_share: NDArray[np.float64]


@dataclass(frozen=True)
class TierResult:
    """Value tier per customer (index into :data:`VALUE_TIERS`, input order) and tier shares."""

    tier: NDArray[np.int8]
    rank: NDArray[np.int64]
    cuts: tuple[float, float, float]
    tiers: tuple[GroupShare, ...]

    def codes(self) -> NDArray[np.str_]:
        return np.array([t.code for t in VALUE_TIERS])[self.tier]


def rank_order(value: ArrayLike) -> NDArray[np.int64]:
    """Customer positions ordered by value, largest first, ties by position (stable)."""
    arr = np.asarray(value, dtype=np.float64)
    # An "ordinal" rank numbers equal values in order of position: a stable descending order.
    rank = pl.Series(arr).rank("ordinal", descending=True).to_numpy().astype(np.int64) - 1
    order = np.empty(len(arr), dtype=np.int64)
    order[rank] = np.arange(len(arr), dtype=np.int64)
    return order


def _checked_order(order: NDArray[np.int64] | None, arr: NDArray[np.float64]) -> NDArray[np.int64]:
    if order is None:
        return rank_order(arr)
    if len(order) != len(arr):
        raise InputError(f"has {len(order)} positions for {len(arr)} customers", column="order")
    return np.asarray(order, dtype=np.int64)


def _ranks(order: NDArray[np.int64]) -> NDArray[np.int64]:
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(1, len(order) + 1)
    return rank


def _check_values(arr: NDArray[np.float64], column: str) -> None:
    if arr.ndim != 1 or len(arr) == 0:
        raise InputError("needs at least one customer", column=column)
    finite = np.isfinite(arr)
    if not finite.all():
        index = int(np.argmin(finite))
        raise InputError(
            f"{float(arr[index])!r} is not a finite number", column=column, row=index + 1
        )


def check_cuts(cuts: Sequence[float], count: int, name: str) -> tuple[float, ...]:
    """``count`` strictly rising shares within (0, 1]; the error names ``name``."""
    values = tuple(float(c) for c in cuts)
    if len(values) != count:
        raise InputError(f"needs {count} cut points, got {len(values)}", column=name)
    if not all(0.0 < c <= 1.0 for c in values) or any(
        b <= a for a, b in zip(values, values[1:], strict=False)
    ):
        raise InputError(f"cut points must rise strictly within (0, 1], got {values}", column=name)
    return values


def abc_analysis(
    value: ArrayLike,
    *,
    cuts: Sequence[float] = DEFAULT_ABC_CUTS,
    order: NDArray[np.int64] | None = None,
) -> AbcResult:
    """ABC classes by cumulative share of value (revenue, or profit when cost is known).

    ``order`` may pass :func:`rank_order` of the same values, to share one sort with
    :func:`value_tiers`.
    """
    arr = np.asarray(value, dtype=np.float64)
    _check_values(arr, "value")
    cut_a, cut_b = check_cuts(cuts, 2, "cuts")
    total = float(arr.sum())
    if not total > 0:
        raise InputError(f"total value must be positive, got {total}", column="value")
    order = _checked_order(order, arr)
    cumulative = np.cumsum(arr[order]) / total
    tolerance = 1e-12
    ranked_class = np.full(len(arr), 2, dtype=np.int8)
    ranked_class[cumulative <= cut_b + tolerance] = 1
    ranked_class[cumulative <= cut_a + tolerance] = 0
    ranked_class[0] = 0
    abc_class = np.empty(len(arr), dtype=np.int8)
    abc_class[order] = ranked_class
    share = np.empty(len(arr), dtype=np.float64)
    share[order] = cumulative
    groups = _group_shares(abc_class, arr, ABC_LABELS, total)
    return AbcResult(
        abc_class, _ranks(order), share, (cut_a, cut_b), total, (groups[0], groups[1], groups[2])
    )


def pareto_curve(value: ArrayLike, *, points: int = 101) -> ParetoCurve:
    """Points of the cumulative contribution curve (累计贡献曲线), from (0, 0) to (1, 1).

    With n customers the curve has min(n + 1, ``points``) points at evenly spaced ranks.
    """
    arr = np.asarray(value, dtype=np.float64)
    _check_values(arr, "value")
    if points < 2:
        raise InputError(f"needs at least 2 points, got {points}", column="points")
    total = float(arr.sum())
    if not total > 0:
        raise InputError(f"total value must be positive, got {total}", column="value")
    n = len(arr)
    cumulative = np.concatenate([[0.0], np.cumsum(arr[rank_order(arr)]) / total])
    ranks = np.unique(np.round(np.linspace(0, n, min(n + 1, points))).astype(np.int64))
    return ParetoCurve(ranks / n, cumulative[ranks])


def tier_sizes(n: int, cuts: Sequence[float] = DEFAULT_TIER_CUTS) -> tuple[int, ...]:
    """Customers per tier for n customers: the tiers end at ranks ceil(c * n)."""
    bounds = [0] + [math.ceil(round(c * n, 9)) for c in cuts] + [n]
    return tuple(bounds[i + 1] - bounds[i] for i in range(len(bounds) - 1))


def value_tiers(
    value: ArrayLike,
    *,
    cuts: Sequence[float] = DEFAULT_TIER_CUTS,
    order: NDArray[np.int64] | None = None,
) -> TierResult:
    """Value tiers by rank: top ``cuts[0]`` VIP, to ``cuts[1]`` major, to ``cuts[2]`` common.

    ``value`` is the ranking basis (amount or transaction count); ``order`` may pass
    :func:`rank_order` of the same values.
    """
    arr = np.asarray(value, dtype=np.float64)
    _check_values(arr, "value")
    checked = check_cuts(cuts, 3, "cuts")
    order = _checked_order(order, arr)
    sizes = tier_sizes(len(arr), checked)
    ranked_tier = np.repeat(np.arange(len(sizes), dtype=np.int8), sizes)
    tier = np.empty(len(arr), dtype=np.int8)
    tier[order] = ranked_tier
    total = float(arr.sum())
    groups = _group_shares(tier, arr, tuple(t.code for t in VALUE_TIERS), total)
    return TierResult(tier, _ranks(order), (checked[0], checked[1], checked[2]), tuple(groups))


def _group_shares(
    group: NDArray[np.int8], value: NDArray[np.float64], labels: Sequence[str], total: float
) -> list[GroupShare]:
    counts = np.bincount(group, minlength=len(labels))
    sums = np.bincount(group, weights=value, minlength=len(labels))
    n = len(group)
    return [
        GroupShare(
            label=label,
            customers=int(counts[i]),
            customer_share=float(counts[i]) / n,
            value=float(sums[i]),
            value_share=float(sums[i]) / total if total > 0 else float("nan"),
        )
        for i, label in enumerate(labels)
    ]
