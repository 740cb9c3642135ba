"""Seeded simulation of the BG/NBD purchase process and Gamma-Gamma spend.

Used to test that the fits recover known parameters and to generate benchmark data. The process
is the models' own (Fader, Hardie & Lee 2005; Fader & Hardie 2013):

* lambda ~ Gamma(shape r, rate alpha), p ~ Beta(a, b) per customer;
* from the first purchase at time 0, purchases follow a Poisson process of rate lambda; after
  each repeat purchase the customer drops out with probability p, so the number of repeat
  purchases they would ever make is K ~ Geometric(p) on {1, 2, ...};
* in (0, T] the customer makes x = min(K, M) repeat purchases, M ~ Poisson(lambda T) being the
  number of process points in (0, T]; given M, the points are ordered uniforms, so the time of
  the x-th is T Beta(x, M - x + 1) and the first x of them are T S_j / (S_x + G), with S_j the
  partial sums of x standard exponentials and G ~ Gamma(M - x + 1);
* nu ~ Gamma(shape q, rate v) per customer, each purchase amount ~ Gamma(shape p, rate nu).

Everything is vectorised over customers and purchases; no Python loop runs per customer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class SimulatedTransactions:
    """Transactions sorted by customer, then time: customer index, day number and amount."""

    customer: NDArray[np.int64]
    day: NDArray[np.int32]
    amount: NDArray[np.float64]


def _draw_counts(
    n: int,
    r: float,
    alpha: float,
    a: float,
    b: float,
    horizon: NDArray[np.float64],
    rng: np.random.Generator,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    rate = rng.gamma(r, 1.0 / alpha, size=n)
    dropout = rng.beta(a, b, size=n)
    points = rng.poisson(rate * horizon)
    purchases_before_dropout = rng.geometric(np.clip(dropout, 1e-300, 1.0))
    return np.minimum(points, purchases_before_dropout).astype(np.int64), points.astype(np.int64)


def simulate_bgnbd_summary(
    n: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    T: ArrayLike,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(x, t_x) of ``n`` customers observed for ``T`` time units each (a scalar or n values)."""
    horizon = np.broadcast_to(np.asarray(T, dtype=np.float64), (n,)).copy()
    x, points = _draw_counts(n, r, alpha, a, b, horizon, rng)
    t_x = np.zeros(n, dtype=np.float64)
    buyers = x > 0
    t_x[buyers] = horizon[buyers] * rng.beta(x[buyers], points[buyers] - x[buyers] + 1)
    return x.astype(np.float64), t_x


def simulate_spend(
    purchases: ArrayLike, *, p: float, q: float, v: float, rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per customer: the mean of ``purchases`` Gamma-Gamma amounts (0 when none), and nu."""
    counts = np.asarray(purchases, dtype=np.int64)
    nu = rng.gamma(q, 1.0 / v, size=len(counts))
    # The sum of k Gamma(p, rate nu) amounts is Gamma(k p, rate nu).
    total = np.zeros(len(counts))
    buyers = counts > 0
    total[buyers] = rng.gamma(counts[buyers] * p, 1.0 / nu[buyers])
    mean = np.divide(total, counts, out=np.zeros(len(counts)), where=buyers)
    return mean, nu


def simulate_transactions(
    n_customers: int,
    *,
    r: float,
    alpha: float,
    a: float,
    b: float,
    p: float,
    q: float,
    v: float,
    first_day: tuple[int, int],
    end_day: int,
    rng: np.random.Generator,
) -> SimulatedTransactions:
    """A transaction log: first purchases uniform over the days ``first_day`` (both included),
    observed up to ``end_day``; time is in days (rates per day), amounts rounded to cents.
    """
    n = int(n_customers)
    low, high = first_day
    start = rng.integers(low, high + 1, size=n) + rng.random(n)
    horizon = np.maximum(end_day + 1 - start, 0.0)
    x, points = _draw_counts(n, r, alpha, a, b, horizon, rng)

    total_repeats = int(x.sum())
    owner = np.repeat(np.arange(n, dtype=np.int64), x)
    gaps = rng.standard_exponential(total_repeats)
    partial = np.cumsum(gaps)
    ends = np.cumsum(x)
    before = np.concatenate([[0.0], partial])[ends - x]
    partial -= np.repeat(before, x)
    last_partial = np.zeros(n)
    buyers = x > 0
    last_partial[buyers] = partial[ends[buyers] - 1]
    rest = rng.gamma((points - x + 1).astype(np.float64))
    repeat_time = start[owner] + horizon[owner] * partial / (last_partial + rest)[owner]

    counts = x + 1
    customer = np.repeat(np.arange(n, dtype=np.int64), counts)
    is_first = np.zeros(len(customer), dtype=bool)
    is_first[np.concatenate([[0], np.cumsum(counts)[:-1]])] = True
    time = np.empty(len(customer))
    time[is_first] = start
    time[~is_first] = repeat_time
    day = np.minimum(np.floor(time), end_day).astype(np.int32)

    nu = rng.gamma(q, 1.0 / v, size=n)
    amount = np.round(rng.gamma(p, 1.0 / nu[customer]), 2)
    amount = np.maximum(amount, 0.01)
    return SimulatedTransactions(customer, day, amount)
