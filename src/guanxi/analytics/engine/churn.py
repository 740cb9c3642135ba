"""Churn rates over a period (DOMAIN.md section 7, worked example X1; source 003 §10.1.2).

For a period [start, end] (both days included, length L = end - start + 1 days):

* population: the customers with at least one purchase before ``start`` (optionally only within
  the ``active_days`` days before ``start``: the activity rule is a setting);
* lost: the customers of the population with no purchase in [start, end]. Lost is counted per
  customer; customers gained in the period never offset it;
* absolute churn rate = lost / population;
* reference period: the L days just before ``start``, i.e. [start - L, start - 1];
* relative purchases = the lost customers' spend / the population's spend, both over the
  reference period;
* relative churn rate = absolute churn rate x relative purchases. It is undefined (NaN) when the
  population spent nothing in the reference period.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.groups import group_count, group_sum


@dataclass(frozen=True)
class ChurnRates:
    """The churn figures of one period; ``lost_customers`` holds the codes of the lost."""

    start_day: int
    end_day: int
    reference_start_day: int
    population: int
    lost: int
    absolute_rate: float
    population_spend: float
    lost_spend: float
    relative_purchases: float
    relative_rate: float
    lost_customers: NDArray[np.int64]


def churn_rates(
    customer: ArrayLike,
    day: ArrayLike,
    amount: ArrayLike,
    *,
    start: object,
    end: object,
    active_days: int | None = None,
    n_customers: int | None = None,
) -> ChurnRates:
    """Absolute and relative churn rates from ``start`` to ``end`` (see the module docstring)."""
    codes = np.asarray(customer, dtype=np.int64)
    days = np.asarray(day, dtype=np.int32)
    amounts = np.asarray(amount, dtype=np.float64)
    if not (len(codes) == len(days) == len(amounts)):
        raise InputError("customer, day and amount arrays differ in length")
    start_day = day_number(start)  # type: ignore[arg-type]
    end_day = day_number(end)  # type: ignore[arg-type]
    if end_day < start_day:
        raise InputError("the end date is before the start date", column="end")
    if active_days is not None and active_days < 1:
        raise InputError(f"must be at least one day, got {active_days}", column="active_days")
    n = int(n_customers if n_customers is not None else (codes.max() + 1 if len(codes) else 0))
    length = end_day - start_day + 1
    reference_start = start_day - length

    before = days < start_day
    if active_days is not None:
        before &= days >= start_day - active_days
    in_period = (days >= start_day) & (days <= end_day)
    in_reference = (days >= reference_start) & (days < start_day)

    population_mask = group_count(codes, n, where=before) > 0
    active_mask = group_count(codes, n, where=in_period) > 0
    lost_mask = population_mask & ~active_mask
    reference_spend = group_sum(codes, amounts, n, where=in_reference)

    population = int(population_mask.sum())
    lost = int(lost_mask.sum())
    population_spend = float(reference_spend[population_mask].sum())
    lost_spend = float(reference_spend[lost_mask].sum())
    absolute = lost / population if population else float("nan")
    relative_purchases = lost_spend / population_spend if population_spend else float("nan")
    return ChurnRates(
        start_day=start_day,
        end_day=end_day,
        reference_start_day=reference_start,
        population=population,
        lost=lost,
        absolute_rate=absolute,
        population_spend=population_spend,
        lost_spend=lost_spend,
        relative_purchases=relative_purchases,
        relative_rate=absolute * relative_purchases,
        lost_customers=np.flatnonzero(lost_mask).astype(np.int64),
    )
