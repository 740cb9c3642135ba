"""Lifecycle stages from purchases, and implicit churn from a customer's own trend.

DOMAIN.md section 3 lists the stages (source 003 §5.1.2): suspect 潜在客户, prospect 意向客户,
first-time 首次购买客户, repeat 重复购买客户, loyal 忠诚客户, lost 流失客户, with decline as a
flag on any stage (implicit churn, section 7). A transaction log shows only customers who
bought, so this module derives the four purchase stages; suspects and prospects come from
inquiries and opportunities outside the engine. The rules are Guanxi's addition (not in the
sources), with settings, evaluated as of a date on the purchase days up to it (several
transactions on one day count once):

* lost: no purchase in the ``lost_after_days`` days ending on the as-of date (default 365);
* first-time: one purchase day;
* loyal: at least ``loyal_purchase_days`` purchase days (default 5) over a relationship of at
  least ``loyal_span_days`` days from the first purchase to the as-of date (default 365);
* repeat: any other customer with two or more purchase days.

Decline (buying less often or less, 隐性流失): compare the customer's rates in the
``trend_window_days`` days ending on the as-of date (default 180) with their rates before it,
both per day. With at least ``trend_min_purchase_days`` purchase days before the window (default
2), ``frequency_trend`` = recent purchase days per day / earlier purchase days per day and
``spend_trend`` the same for spend; the earlier period runs from the first purchase to the day
before the window. A customer declines when either trend is below ``decline_ratio`` (default 0.5).
Without enough history (or, for spend, without positive earlier spend) the trend is NaN and does
not flag. Lost customers are not flagged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.groups import distinct_days, group_max, group_min, group_sum


@dataclass(frozen=True)
class Stage:
    """A lifecycle stage with its labels (DOMAIN.md section 3)."""

    code: str
    label_zh: str
    label_en: str


#: The stages this module derives, in lifecycle order.
STAGES: tuple[Stage, ...] = (
    Stage("first_time", "首次购买客户", "first-time customer"),
    Stage("repeat", "重复购买客户", "repeat customer"),
    Stage("loyal", "忠诚客户", "loyal client"),
    Stage("lost", "流失客户", "lost customer"),
)
FIRST_TIME, REPEAT, LOYAL, LOST = range(4)


@dataclass(frozen=True)
class LifecycleSettings:
    """The thresholds of the stage and decline rules, in days and counts."""

    lost_after_days: int = 365
    loyal_purchase_days: int = 5
    loyal_span_days: int = 365
    trend_window_days: int = 180
    trend_min_purchase_days: int = 2
    decline_ratio: float = 0.5

    def __post_init__(self) -> None:
        for name in (
            "lost_after_days",
            "loyal_purchase_days",
            "loyal_span_days",
            "trend_window_days",
            "trend_min_purchase_days",
        ):
            if getattr(self, name) < 1:
                raise InputError(f"must be at least 1, got {getattr(self, name)}", column=name)
        if not 0 < self.decline_ratio <= 1:
            raise InputError(f"must be in (0, 1], got {self.decline_ratio}", column="decline_ratio")


@dataclass(frozen=True)
class Lifecycle:
    """Stage (index into :data:`STAGES`), decline flag and trends of each customer who bought."""

    customer: NDArray[np.int64]
    stage: NDArray[np.int8]
    declining: NDArray[np.bool_]
    frequency_trend: NDArray[np.float64]
    spend_trend: NDArray[np.float64]
    purchase_days: NDArray[np.int64]
    as_of_day: int

    def stage_codes(self) -> NDArray[np.str_]:
        return np.array([s.code for s in STAGES])[self.stage]


def lifecycle_stages(
    customer: ArrayLike,
    day: ArrayLike,
    amount: ArrayLike,
    *,
    as_of: object,
    settings: LifecycleSettings | None = None,
    n_customers: int | None = None,
) -> Lifecycle:
    """Stages and decline flags as of a date (see the module docstring for the rules)."""
    rules = settings or LifecycleSettings()
    codes = np.asarray(customer, dtype=np.int64)
    days = np.asarray(day, dtype=np.int32)
    amounts = np.asarray(amount, dtype=np.float64)
    if not (len(codes) == len(days) == len(amounts)):
        raise InputError("customer, day and amount arrays differ in length")
    as_of_day = day_number(as_of)  # type: ignore[arg-type]
    n = int(n_customers if n_customers is not None else (codes.max() + 1 if len(codes) else 0))

    upto = days <= as_of_day
    window_start = as_of_day - rules.trend_window_days + 1
    recent = upto & (days >= window_start)
    earlier = days < window_start

    first_all = group_min(codes, days, n, where=upto)
    bought = np.flatnonzero(first_all <= as_of_day)
    first = first_all[bought].astype(np.int64)
    last = group_max(codes, days, n, where=upto)[bought].astype(np.int64)
    purchase_days = distinct_days(codes, days, n, where=upto)[bought]

    stage = np.full(len(bought), REPEAT, dtype=np.int8)
    stage[purchase_days == 1] = FIRST_TIME
    loyal = (purchase_days >= rules.loyal_purchase_days) & (
        as_of_day - first >= rules.loyal_span_days
    )
    stage[loyal] = LOYAL
    lost = as_of_day - last >= rules.lost_after_days
    stage[lost] = LOST

    recent_days = distinct_days(codes, days, n, where=recent)[bought]
    earlier_days = distinct_days(codes, days, n, where=earlier)[bought]
    recent_spend = group_sum(codes, amounts, n, where=recent)[bought]
    earlier_spend = group_sum(codes, amounts, n, where=earlier)[bought]
    earlier_length = (window_start - first).astype(np.float64)
    enough = (earlier_days >= rules.trend_min_purchase_days) & (earlier_length > 0)
    frequency_trend = np.full(len(bought), np.nan)
    spend_trend = np.full(len(bought), np.nan)
    window = float(rules.trend_window_days)
    with np.errstate(divide="ignore", invalid="ignore"):
        frequency_trend[enough] = (recent_days[enough] / window) / (
            earlier_days[enough] / earlier_length[enough]
        )
        spend_trend[enough] = (recent_spend[enough] / window) / (
            earlier_spend[enough] / earlier_length[enough]
        )
    spend_trend[enough & (earlier_spend <= 0)] = np.nan
    declining = (
        enough
        & ~lost
        & ((frequency_trend < rules.decline_ratio) | (spend_trend < rules.decline_ratio))
    )
    return Lifecycle(
        customer=bought.astype(np.int64),
        stage=stage,
        declining=declining,
        frequency_trend=frequency_trend,
        spend_trend=spend_trend,
        purchase_days=purchase_days,
        as_of_day=as_of_day,
    )
