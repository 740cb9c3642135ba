"""Gamma-Gamma: the published CDNOW fit, recovery, invariance and the spend prediction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from guanxi.analytics.engine.errors import InputError, SnapshotError
from guanxi.analytics.engine.gammagamma import (
    GammaGammaFit,
    conditional_expected_spend,
    fit_gamma_gamma,
    log_likelihood,
)
from guanxi.analytics.engine.io import Transactions
from guanxi.analytics.engine.simulate import simulate_spend
from guanxi.analytics.engine.summary import clv_summary

from .conftest import CALIBRATION_END


def sig3(value: float) -> str:
    return f"{value:.3g}"


def test_published_fit_from_the_summary_file(
    cdnow_published_summary: dict[str, np.ndarray],
) -> None:
    x, zbar = cdnow_published_summary["x"], cdnow_published_summary["zbar"]
    fit = fit_gamma_gamma(x[x > 0], zbar[x > 0])
    assert fit.converged and fit.n == 946
    assert [sig3(v) for v in (fit.p, fit.q, fit.v)] == ["6.25", "3.74", "15.4"]
    assert round(fit.v, 2) == 15.45  # 15.44 published, from a rounded summary
    assert log_likelihood(fit, x[x > 0], zbar[x > 0]).sum() == pytest.approx(fit.log_likelihood)


def test_published_fit_from_the_raw_log(cdnow_transactions: Transactions) -> None:
    tx = cdnow_transactions
    s = clv_summary(tx.customer, tx.day, tx.amount, calibration_end=CALIBRATION_END)
    repeat = s.x > 0
    fit = fit_gamma_gamma(s.x[repeat], s.monetary[repeat])
    assert [sig3(v) for v in (fit.p, fit.q, fit.v)] == ["6.25", "3.74", "15.4"]
    assert round(fit.v, 2) == 15.44


def test_recovers_known_parameters_and_weights_equal_rows() -> None:
    rng = np.random.default_rng(21)
    x = rng.integers(1, 12, 40_000)
    mean, _ = simulate_spend(x, p=6.0, q=4.0, v=15.0, rng=rng)
    fit = fit_gamma_gamma(x, mean)
    assert fit.p == pytest.approx(6.0, rel=0.05)
    assert fit.q == pytest.approx(4.0, rel=0.08)
    assert fit.v == pytest.approx(15.0, rel=0.12)
    weights = rng.integers(0, 3, 3000).astype(float)
    small_x, small_m = x[:3000], mean[:3000]
    weighted = fit_gamma_gamma(small_x, small_m, weights=weights)
    expanded = fit_gamma_gamma(
        np.repeat(small_x, weights.astype(int)), np.repeat(small_m, weights.astype(int))
    )
    for name in ("p", "q", "v", "log_likelihood", "n"):
        assert getattr(weighted, name) == pytest.approx(getattr(expanded, name), rel=1e-6)


def test_currency_unit_invariance(cdnow_published_summary: dict[str, np.ndarray]) -> None:
    x, zbar = cdnow_published_summary["x"], cdnow_published_summary["zbar"]
    dollars = fit_gamma_gamma(x[x > 0], zbar[x > 0])
    cents = fit_gamma_gamma(x[x > 0], zbar[x > 0] * 100)
    assert cents.p == pytest.approx(dollars.p, rel=1e-7)
    assert cents.q == pytest.approx(dollars.q, rel=1e-7)
    assert cents.v == pytest.approx(100 * dollars.v, rel=1e-7)


def test_conditional_expected_spend() -> None:
    fit = GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=0.0, n=1, converged=True)
    population = fit.p * fit.v / (fit.q - 1)
    spend = conditional_expected_spend(fit, [0, 1, 10, 10_000], [0.0, 20.0, 20.0, 20.0])
    assert spend[0] == pytest.approx(population)
    weight = fit.p / (fit.p + fit.q - 1)
    assert spend[1] == pytest.approx(weight * 20.0 + (1 - weight) * population)
    assert abs(spend[3] - 20.0) < abs(spend[2] - 20.0) < abs(spend[1] - 20.0)
    unbounded = GammaGammaFit(p=2.0, q=0.5, v=1.0, log_likelihood=0.0, n=1, converged=True)
    assert np.isnan(conditional_expected_spend(unbounded, [0], [0.0])[0])


def test_input_checks() -> None:
    with pytest.raises(InputError, match=r"column 'frequency', row 2: must be a whole number >= 1"):
        fit_gamma_gamma([1, 0], [5.0, 0.0])
    with pytest.raises(InputError, match=r"column 'monetary', row 1: spend must be > 0"):
        fit_gamma_gamma([1, 2], [0.0, 3.0])
    fit = GammaGammaFit(1.0, 2.0, 3.0, 0.0, 1, True)
    with pytest.raises(InputError, match=r"column 'monetary', row 1: spend must be >= 0 when"):
        conditional_expected_spend(fit, [2], [-1.0])
    assert conditional_expected_spend(fit, [2], [0.0])[0] == pytest.approx(3.0 / 3.0)


def test_json_round_trip() -> None:
    fit = GammaGammaFit(p=6.25, q=3.74, v=15.44, log_likelihood=-4055.9, n=946, converged=True)
    record = json.loads(json.dumps(fit.to_dict()))
    assert record["model"] == "gamma_gamma" and set(record["params"]) == {"p", "q", "v"}
    assert GammaGammaFit.from_dict(record) == fit
    with pytest.raises(SnapshotError):
        GammaGammaFit.from_dict({**record, "model": "bgnbd"})
