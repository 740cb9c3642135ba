"""Customer lifetime value (客户终身价值, DOMAIN.md section 4).

Two methods:

* :func:`discounted_value`, the formula of source 003 §1.1.3:
  VK = sum_{t=0..T} (Q_t - C_t) / (1 + i)^t, with Q_t the contribution and C_t the cost to serve
  in period t, i the discount rate per period. CLV is signed: a customer who costs more than they
  bring has a negative value.
* :func:`bgnbd_gamma_gamma_clv`, the model-based CLV (BG/NBD for the number of purchases,
  Gamma-Gamma for the spend per purchase; Fader, Hardie & Lee 2005, "RFM and CLV: Using
  Iso-Value Curves for Customer Base Analysis"), discounted per period:

      CLV = sum_{k=1..H} E[spend] (E[Y(k L)] - E[Y((k-1) L)]) / (1 + i)^k,

  where E[Y(t)] is the BG/NBD conditional expectation of purchases in (T, T + t]
  (:func:`~guanxi.analytics.engine.bgnbd.conditional_expected_purchases`), E[spend] the
  Gamma-Gamma conditional expected spend per purchase
  (:func:`~guanxi.analytics.engine.gammagamma.conditional_expected_spend`), L the period length in
  the model's time unit, H the number of periods and i the discount rate per period. The
  purchases expected in the k-th period are discounted by k full periods (end-of-period cash
  flows). This is revenue; subtract costs with :func:`discounted_value` for a margin view.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine import bgnbd, gammagamma
from guanxi.analytics.engine._fitting import factorize
from guanxi.analytics.engine.bgnbd import BgNbdFit
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.gammagamma import GammaGammaFit


@dataclass(frozen=True)
class ClvResult:
    """Per-customer model CLV and its parts, in input order."""

    p_alive: NDArray[np.float64]
    expected_purchases: NDArray[np.float64]
    expected_spend: NDArray[np.float64]
    clv: NDArray[np.float64]
    horizon_periods: int
    period_length: float
    discount_rate: float


def _check_rate(discount_rate: float) -> float:
    rate = float(discount_rate)
    if not np.isfinite(rate) or rate <= -1.0:
        raise InputError(
            f"must be a finite number > -1, got {discount_rate!r}", column="discount_rate"
        )
    return rate


def discounted_value(
    contribution: ArrayLike, cost: ArrayLike | None = None, *, discount_rate: float
) -> NDArray[np.float64] | float:
    """VK = sum_{t=0..T} (Q_t - C_t) / (1 + i)^t over the last axis (source 003 §1.1.3).

    ``contribution`` holds Q_0..Q_T (one row per customer, or one series); ``cost`` C_0..C_T of
    the same shape (none: zero). Period 0 is not discounted. The result is signed.
    """
    rate = _check_rate(discount_rate)
    q = np.asarray(contribution, dtype=np.float64)
    if q.ndim == 0 or q.shape[-1] == 0:
        raise InputError("needs at least one period", column="contribution")
    c = np.zeros_like(q) if cost is None else np.asarray(cost, dtype=np.float64)
    if c.shape != q.shape:
        raise InputError(f"has shape {c.shape}, contribution has {q.shape}", column="cost")
    for name, arr in (("contribution", q), ("cost", c)):
        if not np.all(np.isfinite(arr)):
            raise InputError("holds a value that is not a finite number", column=name)
    factors = (1.0 + rate) ** -np.arange(q.shape[-1], dtype=np.float64)
    value = (q - c) @ factors
    return float(value) if np.ndim(value) == 0 else value


def bgnbd_gamma_gamma_clv(
    bgnbd_fit: BgNbdFit,
    gamma_gamma_fit: GammaGammaFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    *,
    horizon_periods: int,
    discount_rate: float,
    period_length: float = 1.0,
) -> ClvResult:
    """Model CLV over ``horizon_periods`` periods of ``period_length`` time units each.

    ``frequency``, ``recency``, ``T`` in the BG/NBD fit's time unit; ``monetary`` the mean repeat
    purchase amount (ignored where frequency is 0). ``expected_purchases`` is E[Y(H L)], the
    purchases expected over the whole horizon. See the module docstring for the formula.
    """
    rate = _check_rate(discount_rate)
    if int(horizon_periods) != horizon_periods or horizon_periods < 1:
        raise InputError(
            f"must be a whole number >= 1, got {horizon_periods!r}", column="horizon_periods"
        )
    if not (np.isfinite(period_length) and period_length > 0):
        raise InputError(f"must be > 0, got {period_length!r}", column="period_length")
    x, t_x, big_t = bgnbd.check_inputs(frequency, recency, T)
    spend = gammagamma.conditional_expected_spend(gamma_gamma_fit, x, monetary)
    alive = bgnbd.p_alive(bgnbd_fit, x, t_x, big_t)

    # E[Y(t)] = P(alive) G(t; x, T): G depends on (x, T) only, so it is evaluated once per
    # distinct pair and period.
    t_values, t_index = factorize(big_t)
    x_values, x_index = factorize(x, integral=True)
    pairs, pair_index = factorize(x_index * len(t_values) + t_index)
    pair_x = x_values[pairs // len(t_values)]
    pair_t = t_values[pairs % len(t_values)]
    previous = np.zeros(len(pairs))
    discounted = np.zeros(len(pairs))
    for k in range(1, int(horizon_periods) + 1):
        current = bgnbd.expected_purchases_if_alive(
            bgnbd_fit, np.full(len(pairs), k * period_length), pair_x, pair_t
        )
        discounted += (current - previous) / (1.0 + rate) ** k
        previous = current
    expected = alive * previous[pair_index]
    value = spend * alive * discounted[pair_index]
    return ClvResult(
        p_alive=alive,
        expected_purchases=expected,
        expected_spend=spend,
        clv=value,
        horizon_periods=int(horizon_periods),
        period_length=float(period_length),
        discount_rate=rate,
    )
