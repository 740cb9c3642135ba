"""Stated intent in customer lifetime value (DOMAIN.md section 4, source 003 §6.2.2, test X5).

Past behaviour alone ranks a customer who buys ¥1,000 a month above one who buys ¥500. If the
first is looking for other suppliers and will cut back in three months while the second plans to
buy more and more often, the second is worth more. CLV takes that in: a stated intent changes a
customer's projected spend per period from a start period on, reaching the full change
gradually, and the projection is discounted as before:

    CLV_intent = sum_{k=1..H} V_k m_k / (1 + i)^k,
    m_k = max(0, 1 + c * clip((k - s) / R, 0, 1)),

where V_k is the value the customer's behaviour projects for period k (a constant contribution
for the Dwyer method, or the BG/NBD × Gamma-Gamma expectation, :func:`model_clv_with_intent`),
c the expected change in spend (-1 for a customer who stops buying), s the period after which
the change begins and R the number of periods over which it is reached (0: at once).

Guanxi's addition (not in the sources): the kinds of intent and the change each stands for when
the user states no figure (:data:`DEFAULT_CHANGE`), and the gradual ramp.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine import bgnbd, gammagamma
from guanxi.analytics.engine.bgnbd import BgNbdFit
from guanxi.analytics.engine.clv import _check_rate
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.gammagamma import GammaGammaFit

#: Change in spend each kind of intent stands for when no figure is given.
DEFAULT_CHANGE = {
    "more": 0.5,  # plans to buy more (more, or more often)
    "steady": 0.0,  # will keep buying as now
    "less": -0.5,  # plans to buy less
    "leaving": -1.0,  # seeking other suppliers: the business is expected to go
}
INTENTS = tuple(DEFAULT_CHANGE)


def change_for(intent: str, stated_pct: float | None = None) -> float:
    """The change in spend as a fraction: the stated percentage when given, else the default
    of the kind of intent (0 for none)."""
    if stated_pct is not None and np.isfinite(stated_pct):
        if stated_pct < -100:
            raise InputError(f"must be -100 or more, got {stated_pct!r}", column="change_pct")
        return float(stated_pct) / 100.0
    if intent in ("", None):
        return 0.0
    if intent not in DEFAULT_CHANGE:
        raise InputError(f"must be one of {', '.join(INTENTS)}, got {intent!r}", column="intent")
    return DEFAULT_CHANGE[intent]


def intent_multipliers(
    change: ArrayLike, start: ArrayLike, *, horizon_periods: int, ramp_periods: float = 3
) -> NDArray[np.float64]:
    """m_k for k = 1..H per customer (rows), see the module docstring.

    ``change`` is the fraction (-1 = stops buying), ``start`` the number of periods before the
    change begins (0: from the first period), ``ramp_periods`` how many periods it takes to
    reach the full change.
    """
    c = np.atleast_1d(np.asarray(change, dtype=np.float64))
    s = np.broadcast_to(np.asarray(start, dtype=np.float64), c.shape)
    if not (np.isfinite(c).all() and (c >= -1).all()):
        raise InputError("must be finite and -1 or more", column="change")
    if not (np.isfinite(s).all() and (s >= 0).all()):
        raise InputError("must be finite and 0 or more", column="start")
    if int(horizon_periods) != horizon_periods or horizon_periods < 1:
        raise InputError(f"must be a whole number >= 1, got {horizon_periods!r}",
                         column="horizon_periods")
    if not (np.isfinite(ramp_periods) and ramp_periods >= 0):
        raise InputError(f"must be 0 or more, got {ramp_periods!r}", column="ramp_periods")
    k = np.arange(1, int(horizon_periods) + 1, dtype=np.float64)
    elapsed = k[None, :] - s[:, None]
    if ramp_periods > 0:
        progress = np.clip(elapsed / ramp_periods, 0.0, 1.0)
    else:
        progress = (elapsed > 0).astype(np.float64)
    return np.maximum(1.0 + c[:, None] * progress, 0.0)


def projected_value(
    per_period: ArrayLike,
    change: ArrayLike,
    start: ArrayLike,
    *,
    discount_rate: float,
    ramp_periods: float = 3,
) -> NDArray[np.float64]:
    """CLV with intent from each customer's projected value per period (rows of ``per_period``
    for periods 1..H, or one value per customer repeated over ``H = per_period.shape[1]``),
    discounted at ``discount_rate`` per period (end-of-period cash flows)."""
    rate = _check_rate(discount_rate)
    v = np.asarray(per_period, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] == 0:
        raise InputError("needs one row of periods per customer", column="per_period")
    m = intent_multipliers(change, start, horizon_periods=v.shape[1], ramp_periods=ramp_periods)
    if m.shape[0] != v.shape[0]:
        raise InputError(f"has {m.shape[0]} customers, per_period has {v.shape[0]}",
                         column="change")
    factors = (1.0 + rate) ** -np.arange(1, v.shape[1] + 1, dtype=np.float64)
    return (v * m) @ factors


def model_clv_with_intent(
    bgnbd_fit: BgNbdFit,
    gamma_gamma_fit: GammaGammaFit,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,
    monetary: ArrayLike,
    change: ArrayLike,
    start: ArrayLike,
    *,
    horizon_periods: int,
    discount_rate: float,
    period_length: float = 1.0,
    ramp_periods: float = 3,
) -> NDArray[np.float64]:
    """The model CLV of :func:`~guanxi.analytics.engine.clv.bgnbd_gamma_gamma_clv` with each
    customer's purchases in period k scaled by m_k. Per customer and period (meant for the
    customers who stated an intent, not a whole base); with zero change it equals the model CLV.
    """
    if not (np.isfinite(period_length) and period_length > 0):
        raise InputError(f"must be > 0, got {period_length!r}", column="period_length")
    x, t_x, big_t = bgnbd.check_inputs(frequency, recency, T)
    m = intent_multipliers(change, start, horizon_periods=horizon_periods,
                           ramp_periods=ramp_periods)
    if m.shape[0] != len(x):
        raise InputError(f"has {m.shape[0]} customers, frequency has {len(x)}", column="change")
    spend = gammagamma.conditional_expected_spend(gamma_gamma_fit, x, monetary)
    alive = bgnbd.p_alive(bgnbd_fit, x, t_x, big_t)
    xf, tf = x.astype(np.float64), big_t.astype(np.float64)
    cumulative = np.column_stack([
        bgnbd.expected_purchases_if_alive(bgnbd_fit, np.full(len(x), k * period_length), xf, tf)
        for k in range(1, int(horizon_periods) + 1)
    ]) if len(x) else np.zeros((0, int(horizon_periods)))
    per_period = np.diff(cumulative, axis=1, prepend=0.0) * (alive * spend)[:, None]
    rate = _check_rate(discount_rate)
    factors = (1.0 + rate) ** -np.arange(1, int(horizon_periods) + 1, dtype=np.float64)
    return (per_period * m) @ factors
