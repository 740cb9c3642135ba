"""The churn early-warning model: time split, baseline comparison, reasons."""

from __future__ import annotations

import numpy as np
import pytest

from guanxi.analytics.engine.churn_model import churn_model
from guanxi.analytics.engine.errors import InputError


def shop(seed: int = 7, n: int = 3000, days: int = 900):
    """Customers of three kinds: steady buyers, buyers who fade (their gaps widen, then they
    stop) and one-off buyers. The fading are what a model that sees trends should catch."""
    rng = np.random.default_rng(seed)
    rows_c, rows_d, rows_a = [], [], []
    kind = rng.choice(3, size=n, p=[0.5, 0.3, 0.2])
    for c in range(n):
        start = int(rng.integers(0, days // 2))
        t = float(start)
        gap = float(rng.uniform(15, 45))
        stop = int(rng.integers(days // 2, days + 200)) if kind[c] == 1 else days + 1
        while t < days:
            rows_c.append(c)
            rows_d.append(int(t))
            rows_a.append(float(rng.gamma(3, 30)))
            if kind[c] == 2:
                break
            if kind[c] == 1:
                gap *= 1.15
            t += rng.exponential(gap)
            if t > stop:
                break
    return np.array(rows_c), np.array(rows_d, dtype=np.int32), np.array(rows_a)


def test_learns_churn_beats_baseline_and_explains():
    c, d, a = shop()
    m = churn_model(c, d, a, as_of=int(d.max()), horizon_days=90)
    assert 0.5 < m.model.auc <= 1 and 0 <= m.baseline.auc <= 1
    assert m.beats_baseline, (m.model.auc, m.baseline.auc)
    assert 0 <= m.model.top_decile_precision <= 1
    assert sum(n for _, _, n in m.model.calibration) == m.n_test
    assert ((m.probability >= 0) & (m.probability <= 1)).all()
    assert len(m.reasons) == len(m.customer)
    assert any("less often" in r or "overdue" in r for rs in m.reasons for r in rs)
    d_ = m.to_dict()
    assert set(d_["evaluation"]) >= {"model", "baseline_1_minus_p_alive", "n_train"}


def test_more_recent_buyers_are_less_at_risk():
    c, d, a = shop(seed=3)
    m = churn_model(c, d, a, as_of=int(d.max()), horizon_days=90)
    last = np.full(c.max() + 1, -1)
    np.maximum.at(last, c, d)
    recency = d.max() - last[m.customer]
    recent, stale = m.probability[recency < 30], m.probability[recency > 300]
    assert recent.mean() < stale.mean()


def test_too_little_history_is_a_clear_error():
    with pytest.raises(InputError, match="not enough history"):
        churn_model(
            np.array([0, 1]),
            np.array([10, 20], dtype=np.int32),
            np.array([1.0, 2.0]),
            as_of=30,
            horizon_days=90,
        )
    with pytest.raises(InputError, match="horizon"):
        churn_model(
            np.array([0]), np.array([1], dtype=np.int32), np.array([1.0]), as_of=5, horizon_days=3
        )
