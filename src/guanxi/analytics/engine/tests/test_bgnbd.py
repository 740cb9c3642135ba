"""BG/NBD: the published CDNOW fit, properties of the predictions, recovery of known parameters."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import hyp2f1

from guanxi.analytics.engine.bgnbd import (
    BgNbdFit,
    check_inputs,
    conditional_expected_purchases,
    expected_purchases,
    fit_bgnbd,
    log_likelihood,
    p_alive,
)
from guanxi.analytics.engine.errors import InputError, SnapshotError
from guanxi.analytics.engine.io import Transactions
from guanxi.analytics.engine.simulate import simulate_bgnbd_summary
from guanxi.analytics.engine.summary import clv_summary

from .conftest import CALIBRATION_END, CDNOW_SUMMARY

CDNOW_FIT = BgNbdFit(
    r=0.242593,
    alpha=4.413532,
    a=0.792886,
    b=2.425753,
    log_likelihood=-9582.43,
    n=2357,
    converged=True,
)


def sig3(value: float) -> str:
    return f"{value:.3g}"


def test_published_fit_from_the_summary_file() -> None:
    frame = pl.read_csv(CDNOW_SUMMARY)
    fit = fit_bgnbd(
        frame["frequency"].to_numpy(), frame["recency"].to_numpy(), frame["T"].to_numpy()
    )
    assert fit.converged
    assert [sig3(v) for v in (fit.r, fit.alpha, fit.a, fit.b)] == ["0.243", "4.41", "0.793", "2.43"]
    assert round(fit.alpha, 3) == 4.414 and round(fit.b, 3) == 2.426
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.05)
    assert fit.n == 2357


def test_published_fit_from_the_raw_log(cdnow_transactions: Transactions) -> None:
    tx = cdnow_transactions
    s = clv_summary(tx.customer, tx.day, tx.amount, calibration_end=CALIBRATION_END)
    fit = fit_bgnbd(s.x, s.t_x, s.T)
    assert [sig3(v) for v in (fit.r, fit.alpha, fit.a, fit.b)] == ["0.243", "4.41", "0.793", "2.43"]
    assert fit.log_likelihood == pytest.approx(-9582.4, abs=0.1)
    assert log_likelihood(fit, s.x, s.t_x, s.T).sum() == pytest.approx(fit.log_likelihood)


def test_predictions_match_the_papers_formulas() -> None:
    """The engine's Euler-transformed forms against FHL 2005 eq. 9 and 10 written out."""
    r, alpha, a, b = CDNOW_FIT.r, CDNOW_FIT.alpha, CDNOW_FIT.a, CDNOW_FIT.b
    t = np.array([1.0, 39.0, 78.0])
    eq9 = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    assert expected_purchases(CDNOW_FIT, t) == pytest.approx(eq9, rel=1e-9)
    assert expected_purchases(CDNOW_FIT, [0.0])[0] == pytest.approx(0.0, abs=1e-15)

    x, t_x, T, horizon = np.array([0, 1, 2, 7]), np.array([0, 1.71, 30.43, 20.0]), 38.86, 39.0
    z = horizon / (alpha + T + horizon)
    bracket = 1 - ((alpha + T) / (alpha + T + horizon)) ** (r + x) * hyp2f1(
        r + x, b + x, a + b + x - 1, z
    )
    odds = np.where(x > 0, a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x), 0.0)
    eq10 = (a + b + x - 1) / (a - 1) * bracket / (1 + odds)
    assert conditional_expected_purchases(CDNOW_FIT, horizon, x, t_x, np.full(4, T)) == (
        pytest.approx(eq10, rel=1e-9)
    )
    assert p_alive(CDNOW_FIT, x, t_x, np.full(4, T)) == pytest.approx(1 / (1 + odds), rel=1e-12)


@settings(max_examples=80, deadline=None)
@given(
    x=st.integers(0, 500),
    recency_share=st.floats(0, 1),
    T=st.floats(0.1, 500),
    t=st.floats(0.01, 200),
)
def test_prediction_properties(x: int, recency_share: float, T: float, t: float) -> None:
    t_x = 0.0 if x == 0 else recency_share * T
    alive = p_alive(CDNOW_FIT, [x], [t_x], [T])[0]
    assert 0.0 <= alive <= 1.0
    if x == 0:
        assert alive == 1.0
    sooner, later = conditional_expected_purchases(
        CDNOW_FIT, [t, 2 * t], [x, x], [t_x, t_x], [T, T]
    )
    assert np.isfinite(sooner) and np.isfinite(later)
    assert 0.0 <= sooner <= later * (1 + 1e-12) + 1e-12
    early, late = expected_purchases(CDNOW_FIT, [t, 2 * t])
    assert 0.0 < early <= late * (1 + 1e-12)


def test_finite_at_huge_frequency() -> None:
    x = np.array([1e4, 1e6, 1e9])
    t_x = np.array([30.0, 38.0, 38.86])
    T = np.full(3, 38.86)
    alive = p_alive(CDNOW_FIT, x, t_x, T)
    expected = conditional_expected_purchases(CDNOW_FIT, 52.0, x, t_x, T)
    assert np.all(np.isfinite(alive)) and np.all(np.isfinite(expected))
    assert np.all((alive >= 0) & (alive <= 1))
    assert np.all(np.isfinite(log_likelihood(CDNOW_FIT, x, t_x, T)))
    # A customer who bought every day to the end is almost surely alive and keeps buying.
    busy = conditional_expected_purchases(CDNOW_FIT, 1.0, [1e6], [38.86], [38.86])
    assert busy[0] > 1e3


def simulated(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    T = rng.uniform(5.0, 40.0, n)
    x, t_x = simulate_bgnbd_summary(n, r=0.6, alpha=4.0, a=0.8, b=3.0, T=T, rng=rng)
    return x, t_x, T


def test_recovers_known_parameters() -> None:
    x, t_x, T = simulated(60_000, seed=11)
    fit = fit_bgnbd(x, t_x, T)
    assert fit.converged
    assert fit.r == pytest.approx(0.6, rel=0.08)
    assert fit.alpha == pytest.approx(4.0, rel=0.10)
    assert fit.a == pytest.approx(0.8, rel=0.15)
    assert fit.b == pytest.approx(3.0, rel=0.20)


def test_large_input_takes_the_warm_start_path() -> None:
    x, t_x, T = simulated(250_000, seed=5)
    T = np.round(T * 7) / 7  # whole days, as from a transaction log
    t_x = np.minimum(np.round(t_x * 7) / 7, T)
    fit = fit_bgnbd(x, t_x, T)
    assert fit.converged and fit.r == pytest.approx(0.6, rel=0.05)
    # The optimum is a stationary point of the full likelihood: nudging a parameter lowers it.
    base = log_likelihood(fit, x, t_x, T).sum()
    for name in ("r", "alpha", "a", "b"):
        for factor in (0.999, 1.001):
            moved = BgNbdFit(**{**fit.__dict__, name: getattr(fit, name) * factor})
            assert log_likelihood(moved, x, t_x, T).sum() < base


@settings(max_examples=5, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1))
def test_time_unit_invariance(seed: int) -> None:
    x, t_x, T = simulated(3000, seed=seed)
    weeks = fit_bgnbd(x, t_x, T)
    days = fit_bgnbd(x, t_x * 7, T * 7)
    # Equal up to the optimiser's tolerance: the two inputs differ only by rounding.
    for name in ("r", "a", "b"):
        assert getattr(days, name) == pytest.approx(getattr(weeks, name), rel=1e-5)
    assert days.alpha == pytest.approx(7 * weeks.alpha, rel=1e-5)


@settings(max_examples=15, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1))
def test_weights_equal_expanded_rows(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, t_x, T = simulated(300, seed=seed)
    x, t_x, T = np.round(x), np.round(t_x, 1), np.round(T, 1)
    t_x = np.minimum(np.where(x > 0, t_x, 0.0), T)
    weights = rng.integers(0, 4, len(x)).astype(float)
    weights[0] = 1.0
    condensed = fit_bgnbd(x, t_x, T, weights=weights)
    repeat = weights.astype(int)
    expanded = fit_bgnbd(np.repeat(x, repeat), np.repeat(t_x, repeat), np.repeat(T, repeat))
    for name in ("r", "alpha", "a", "b", "log_likelihood", "n"):
        assert getattr(condensed, name) == pytest.approx(getattr(expanded, name), rel=1e-6)


def test_input_checks_name_column_row_and_rule() -> None:
    cases = [
        (([1.5], [1.0], [2.0]), "column 'frequency', row 1: must be a whole number >= 0"),
        (([1, -1], [1.0, 0.0], [2.0, 2.0]), "column 'frequency', row 2: must be a whole"),
        (([1, 1], [1.0, 3.0], [2.0, 2.0]), "column 'recency', row 2: must be <= T"),
        (([0], [1.0], [2.0]), "column 'recency', row 1: must be 0 when frequency is 0"),
        (([1], [1.0], [np.inf]), "column 'T', row 1: inf is not a finite number"),
        (([1, 2], [1.0], [2.0, 2.0]), "columns differ in length"),
    ]
    for args, message in cases:
        with pytest.raises(InputError, match=message.replace("(", r"\(")):
            check_inputs(*args)
    with pytest.raises(InputError, match="column 'weights', row 1: must be >= 0"):
        fit_bgnbd([1, 0], [1.0, 0.0], [2.0, 2.0], weights=[-1.0, 1.0])


def test_json_round_trip_and_refusals() -> None:
    record = json.loads(json.dumps(CDNOW_FIT.to_dict(data_window=("1997-01-01", "1997-09-30"))))
    assert record["model"] == "bgnbd"
    assert set(record["params"]) == {"r", "alpha", "a", "b"}
    assert record["data_window"] == {"start": "1997-01-01", "end": "1997-09-30"}
    assert BgNbdFit.from_dict(record) == CDNOW_FIT
    frame = pl.read_csv(CDNOW_SUMMARY)
    fit = fit_bgnbd(frame["frequency"], frame["recency"], frame["T"])
    assert BgNbdFit.from_dict(json.loads(json.dumps(fit.to_dict()))) == fit
    with pytest.raises(SnapshotError, match="refit"):
        BgNbdFit.from_dict({**record, "engine_version": "0.0.1"})
    with pytest.raises(SnapshotError, match="not a bgnbd fit"):
        BgNbdFit.from_dict({**record, "model": "gamma_gamma"})


def test_expected_purchases_stay_finite_when_nobody_drops_out() -> None:
    """A base where nobody has stopped fits a and b in the millions; the expectations must
    stay finite (they tend to the NBD's) rather than turn into NaN."""
    from guanxi.analytics.engine.bgnbd import BgNbdFit, conditional_expected_purchases

    fit = BgNbdFit(r=9.96, alpha=51.7, a=1_598_504.1, b=13_000_309.27, log_likelihood=0.0, n=1,
                   converged=True)
    x = np.array([0, 2, 6, 30])
    got = conditional_expected_purchases(fit, 26.0, x, np.array([0.0, 20.0, 30.0, 37.0]),
                                         np.full(4, 38.0))
    assert np.isfinite(got).all() and (got > 0).all()
    # Never more than without dropout (NBD: (r + x) t / (alpha + T)), and growing with t.
    nbd = (9.96 + x) * 26.0 / (51.7 + 38.0)
    assert np.all(got <= nbd)
    later = conditional_expected_purchases(fit, 52.0, x, np.array([0.0, 20.0, 30.0, 37.0]),
                                           np.full(4, 38.0))
    assert np.isfinite(later).all() and (later > got).all()
