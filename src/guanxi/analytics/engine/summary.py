"""The calibration summary that BG/NBD and Gamma-Gamma are fitted on.

The conventions are those of Fader, Hardie & Lee (2005), "Counting Your Customers the Easy Way",
Marketing Science 24(2), and of Fader & Hardie (2013), "The Gamma-Gamma Model of
Monetary Value", on the CDNOW data:

* a customer's transactions on the same day are one purchase, their amounts summed;
* only customers whose first purchase is on or before the calibration end are summarised;
* x = the number of purchase days in the calibration period minus 1 (repeat purchases);
* t_x = (day of the last purchase in calibration - day of the first purchase) / period length;
* T = (calibration end - day of the first purchase) / period length;
* monetary = the mean spend of the repeat purchase days in calibration (first day excluded), 0
  when x = 0; the Gamma-Gamma model is fitted on the customers with x > 0;
* holdout (optional): x_star = the number of purchase days in (calibration end, holdout end],
  over a holdout of t_star = (holdout end - calibration end) / period length.

The period length is 7 days for ``period="week"`` and 1 day for ``period="day"``. All
transactions on or before the calibration end are used; the calibration period of a customer
starts with their first purchase.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.groups import blocks, distinct_days, group_max, group_min, select_rows

PERIOD_DAYS = {"week": 7, "day": 1}


@dataclass(frozen=True)
class ClvSummary:
    """Per-customer calibration summary; ``customer`` holds the codes of the summarised."""

    customer: NDArray[np.int64]
    x: NDArray[np.int64]
    t_x: NDArray[np.float64]
    T: NDArray[np.float64]
    monetary: NDArray[np.float64]
    first_day: NDArray[np.int32]
    calibration_end_day: int
    period: str
    period_days: int
    x_star: NDArray[np.int64] | None = None
    holdout_end_day: int | None = None

    @property
    def n(self) -> int:
        return int(len(self.customer))

    @property
    def t_star(self) -> float | None:
        """Length of the holdout in periods, or None without a holdout."""
        if self.holdout_end_day is None:
            return None
        return (self.holdout_end_day - self.calibration_end_day) / self.period_days


def clv_summary(
    customer: ArrayLike,
    day: ArrayLike,
    amount: ArrayLike,
    *,
    calibration_end: object,
    holdout_end: object | None = None,
    period: Literal["week", "day"] = "week",
    n_customers: int | None = None,
) -> ClvSummary:
    """Summarise a transaction log for BG/NBD and Gamma-Gamma (see the module docstring)."""
    if period not in PERIOD_DAYS:
        raise InputError(f"period must be one of {sorted(PERIOD_DAYS)}, got {period!r}")
    period_days = PERIOD_DAYS[period]
    codes = np.asarray(customer, dtype=np.int64)
    days = np.asarray(day, dtype=np.int32)
    amounts = np.asarray(amount, dtype=np.float64)
    if not (len(codes) == len(days) == len(amounts)):
        raise InputError("customer, day and amount arrays differ in length")
    cal_end = day_number(calibration_end)  # type: ignore[arg-type]
    hold_end = None if holdout_end is None else day_number(holdout_end)  # type: ignore[arg-type]
    if hold_end is not None and hold_end <= cal_end:
        raise InputError("the holdout end must be after the calibration end", column="holdout_end")
    n = int(n_customers if n_customers is not None else (codes.max() + 1 if len(codes) else 0))

    in_cal = None if len(days) == 0 or int(days.max()) <= cal_end else days <= cal_end
    # The first purchase ever is the first in calibration for everyone summarised.
    first_all = group_min(codes, days, n)
    present = np.flatnonzero(first_all <= cal_end)
    if len(present) == 0:
        raise InputError("no transactions on or before the calibration end")
    first = first_all[present]
    last = group_max(codes, days, n, where=in_cal)[present]
    purchase_days = distinct_days(codes, days, n, where=in_cal)[present]
    total, first_day_spend = _calibration_spend(codes, days, amounts, first_all, n, in_cal)
    repeat_spend = (total - first_day_spend)[present]

    x = purchase_days - 1
    monetary = np.zeros(len(present), dtype=np.float64)
    repeat = x > 0
    monetary[repeat] = repeat_spend[repeat] / x[repeat]
    t_x = (last - first).astype(np.float64) / period_days
    big_t = (cal_end - first).astype(np.float64) / period_days

    x_star = None
    if hold_end is not None:
        in_hold = (days > cal_end) & (days <= hold_end)
        x_star = distinct_days(codes, days, n, where=in_hold)[present]
    return ClvSummary(
        customer=present.astype(np.int64),
        x=x,
        t_x=t_x,
        T=big_t,
        monetary=monetary,
        first_day=first,
        calibration_end_day=cal_end,
        period=period,
        period_days=period_days,
        x_star=x_star,
        holdout_end_day=hold_end,
    )


def _calibration_spend(
    codes: NDArray[np.int64],
    days: NDArray[np.int32],
    amounts: NDArray[np.float64],
    first: NDArray[np.int32],
    n: int,
    where: NDArray[np.bool_] | None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per customer: total calibration spend, and the spend on the day of the first purchase."""
    total = np.zeros(n, dtype=np.float64)
    on_first_day = np.zeros(n, dtype=np.float64)
    for part in blocks(len(codes)):
        c, d, a = select_rows(where, part, codes, days, amounts)
        np.add.at(total, c, a)
        first_rows = d == first[c]
        np.add.at(on_first_day, c[first_rows], a[first_rows])
    return total, on_first_day
