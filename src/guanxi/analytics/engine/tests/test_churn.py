"""Churn rates over a period, with worked example X1 (DOMAIN.md section 13)."""

from __future__ import annotations

import numpy as np
import pytest

from guanxi.analytics.engine.churn import churn_rates
from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError

START, END = day_number("2024-01-01"), day_number("2024-12-31")


def x1_log(gained: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """1,000 customers who bought in 2023 for 1,000,000 in all; 100 of them, who bought
    200,000, never buy in 2024; ``gained`` new customers first buy in 2024."""
    rng = np.random.default_rng(seed)
    lost = np.sort(rng.choice(1000, 100, replace=False))
    kept = np.setdiff1d(np.arange(1000), lost)
    customers, days, amounts = [], [], []
    for group, total in ((lost, 200_000.0), (kept, 800_000.0)):
        purchases = rng.integers(1, 4, len(group))
        owner = np.repeat(group, purchases)
        share = rng.random(len(owner)) + 0.1
        customers.append(owner)
        days.append(
            rng.integers(day_number("2023-01-01"), day_number("2023-12-31") + 1, len(owner))
        )
        amounts.append(share / share.sum() * total)
    # The kept customers buy again in 2024, the gained ones for the first time.
    newcomers = np.arange(1000, 1000 + gained)
    later = np.concatenate([kept, newcomers])
    customers.append(later)
    days.append(rng.integers(START, END + 1, len(later)))
    amounts.append(rng.gamma(2.0, 300.0, len(later)))
    order = rng.permutation(sum(len(c) for c in customers))
    return (
        np.concatenate(customers)[order],
        np.concatenate(days)[order],
        np.concatenate(amounts)[order],
        lost,
    )


@pytest.mark.parametrize("gained", [0, 250])
def test_x1_churn_rates(gained: int) -> None:
    customer, day, amount, lost = x1_log(gained)
    rates = churn_rates(customer, day, amount, start="2024-01-01", end="2024-12-31")
    assert rates.population == 1000
    assert rates.lost == 100
    assert rates.lost_customers.tolist() == lost.tolist()
    assert rates.absolute_rate == pytest.approx(0.10)
    assert rates.population_spend == pytest.approx(1_000_000)
    assert rates.lost_spend == pytest.approx(200_000)
    assert rates.relative_purchases == pytest.approx(0.2)
    assert rates.relative_rate == pytest.approx(0.02)


def test_reference_period_has_the_same_length_just_before_start() -> None:
    # Period of 10 days -> reference [start - 10, start - 1].
    start = day_number("2024-03-11")
    customer = np.array([0, 0, 1, 1, 2])
    day = np.array([start - 11, start - 10, start - 1, start + 3, start - 30])
    amount = np.array([1000.0, 10.0, 30.0, 5.0, 7.0])
    rates = churn_rates(customer, day, amount, start=start, end=start + 9)
    assert rates.reference_start_day == start - 10
    assert (rates.population, rates.lost) == (3, 2)  # customer 1 came back
    assert rates.population_spend == pytest.approx(40.0)  # 10 + 30; 1000 and 7 are earlier
    assert rates.lost_spend == pytest.approx(10.0)
    assert rates.relative_rate == pytest.approx(2 / 3 * 0.25)
    active = churn_rates(customer, day, amount, start=start, end=start + 9, active_days=20)
    assert (active.population, active.lost) == (2, 1)  # customer 2 last bought 30 days before


def test_no_reference_spend_gives_nan_and_bad_dates_fail() -> None:
    rates = churn_rates(
        np.array([0]), np.array([START - 500]), np.array([5.0]), start=START, end=END
    )
    assert (rates.population, rates.lost, rates.absolute_rate) == (1, 1, 1.0)
    assert np.isnan(rates.relative_rate)
    with pytest.raises(InputError, match="end date is before the start"):
        churn_rates(np.array([0]), np.array([START]), np.array([1.0]), start=END, end=START)
