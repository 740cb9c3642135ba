"""CLV classes, the customer matrix and the relationship portfolio (DOMAIN.md section 4).

* CLV class: abandon 放弃型 when profit after cost to serve is below zero or the model CLV is
  negative; otherwise VIP 贵宾型 (current and potential value both high), improve 改进型
  (current low, potential high), maintain 维持型 (the rest: small).
* Customer matrix (客户矩阵) by value × cost to acquire or keep: I high value and high cost,
  II high value and low cost, III low value and high cost, IV low and low. Only customers with
  a recorded cost are placed.
* Relationship portfolio (客户关系组合) by profitability × loyalty: premium 优质 (high, high),
  fickle 时尚 (high profit, low loyalty), problem 问题 (low profit, high loyalty), low-quality 低质.

"High" means above the median of the customers compared (Guanxi's addition, not in the
sources, as are the loyalty flag's inputs: the caller passes it).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

CLV_CLASSES = {"vip": ("贵宾型", "VIP"), "improve": ("改进型", "improve"),
               "maintain": ("维持型", "maintain"), "abandon": ("放弃型", "abandon")}
MATRIX = {"I": ("I 高价值·高成本", "I high value, high cost: handle with care"),
          "II": ("II 高价值·低成本", "II high value, low cost: treasure"),
          "III": ("III 低价值·高成本", "III low value, high cost: drop when cost exceeds return"),
          "IV": ("IV 低价值·低成本", "IV low value, low cost: watch the potential")}
PORTFOLIO = {"premium": ("优质", "premium"), "fickle": ("时尚", "fickle"),
             "problem": ("问题", "problem"), "low": ("低质", "low-quality")}


def _high(values: NDArray[np.float64], mask: NDArray[np.bool_] | None = None
          ) -> NDArray[np.bool_]:
    ref = values if mask is None else values[mask]
    ref = ref[np.isfinite(ref)]
    if ref.size == 0:
        return np.zeros(values.shape, dtype=bool)
    return values > np.median(ref)


def clv_classes(current: ArrayLike, potential: ArrayLike, profit: ArrayLike
                ) -> NDArray[np.str_]:
    cur = np.asarray(current, dtype=np.float64)
    pot = np.nan_to_num(np.asarray(potential, dtype=np.float64), nan=0.0)
    prof = np.asarray(profit, dtype=np.float64)
    cur_high, pot_high = _high(cur), _high(pot)
    out = np.where(cur_high & pot_high, "vip",
                   np.where(~cur_high & pot_high, "improve", "maintain")).astype("<U8")
    out[(prof < 0) | (pot < 0)] = "abandon"
    return out


def customer_matrix(value: ArrayLike, cost: ArrayLike) -> NDArray[np.str_]:
    v = np.asarray(value, dtype=np.float64)
    c = np.asarray(cost, dtype=np.float64)
    placed = c > 0
    vh, ch = _high(v, placed), _high(c, placed)
    out = np.select([vh & ch, vh & ~ch, ~vh & ch], ["I", "II", "III"], "IV").astype("<U3")
    out[~placed] = ""
    return out


def relationship_portfolio(profit: ArrayLike, loyal: ArrayLike) -> NDArray[np.str_]:
    p = np.asarray(profit, dtype=np.float64)
    loyal = np.asarray(loyal, dtype=bool)
    ph = _high(p)
    return np.select([ph & loyal, ph & ~loyal, ~ph & loyal], ["premium", "fickle", "problem"],
                     "low").astype("<U8")
