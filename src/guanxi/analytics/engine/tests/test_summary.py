"""The calibration summary of the papers' conventions, checked against the CDNOW files."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from guanxi.analytics.engine.days import day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.io import Transactions
from guanxi.analytics.engine.summary import clv_summary

from .conftest import CALIBRATION_END, CDNOW_SUMMARY, HOLDOUT_END


def test_cdnow_summary_matches_the_published_files(
    cdnow_transactions: Transactions, cdnow_published_summary: dict[str, np.ndarray]
) -> None:
    tx = cdnow_transactions
    s = clv_summary(
        tx.customer,
        tx.day,
        tx.amount,
        calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
        n_customers=tx.n_customers,
    )
    assert s.n == 2357
    ids = tx.customer_ids[s.customer].astype(int)
    published = pl.read_csv(CDNOW_SUMMARY).sort("ID")
    assert ids.tolist() == published["ID"].to_list()
    assert s.x.tolist() == published["frequency"].to_list()
    # The files round t_x and T to two decimals.
    assert np.abs(s.t_x - published["recency"].to_numpy()).max() <= 0.005 + 1e-9
    assert np.abs(s.T - published["T"].to_numpy()).max() <= 0.005 + 1e-9
    repeat = s.x > 0
    assert int(repeat.sum()) == 946
    zbar = cdnow_published_summary["zbar"]
    assert np.abs(s.monetary[repeat] - zbar[repeat]).max() <= 0.005 + 1e-9
    assert np.all(s.monetary[~repeat] == 0)
    assert s.x_star is not None and int(s.x_star.sum()) == 1882
    assert s.t_star == 39.0


def test_same_day_purchases_are_one_and_first_day_is_excluded() -> None:
    cal_end = day_number("2024-01-31")
    tx = Transactions.from_arrays(
        ["a", "a", "a", "a", "a", "b", "c", "a"],
        np.array([0, 0, 7, 7, 14, 3, 40, 35]) + day_number("2024-01-01"),
        [10.0, 5.0, 20.0, 4.0, 6.0, 8.0, 1.0, 99.0],
    )
    s = clv_summary(
        tx.customer,
        tx.day,
        tx.amount,
        calibration_end=cal_end,
        holdout_end="2024-02-29",
        n_customers=tx.n_customers,
    )
    assert tx.customer_ids[s.customer].tolist() == ["a", "b"]  # c starts after calibration
    assert s.x.tolist() == [2, 0]
    assert s.t_x.tolist() == pytest.approx([2.0, 0.0])
    assert s.T.tolist() == pytest.approx([30 / 7, 27 / 7])
    assert s.monetary.tolist() == pytest.approx([(24.0 + 6.0) / 2, 0.0])
    assert s.x_star is not None and s.x_star.tolist() == [1, 0]
    daily = clv_summary(tx.customer, tx.day, tx.amount, calibration_end=cal_end, period="day")
    assert daily.t_x.tolist() == [14.0, 0.0] and daily.T.tolist() == [30.0, 27.0]


def test_order_of_rows_does_not_matter(cdnow_transactions: Transactions) -> None:
    tx = cdnow_transactions
    order = np.random.default_rng(7).permutation(tx.n_transactions)
    a = clv_summary(
        tx.customer, tx.day, tx.amount, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END
    )
    b = clv_summary(
        tx.customer[order],
        tx.day[order],
        tx.amount[order],
        calibration_end=CALIBRATION_END,
        holdout_end=HOLDOUT_END,
    )
    assert np.array_equal(a.x, b.x) and np.array_equal(a.t_x, b.t_x)
    assert np.allclose(a.monetary, b.monetary)
    assert a.x_star is not None and b.x_star is not None
    assert np.array_equal(a.x_star, b.x_star)


def test_summary_errors() -> None:
    with pytest.raises(InputError, match="no transactions on or before the calibration end"):
        clv_summary(np.array([0]), np.array([100]), np.array([1.0]), calibration_end=50)
    with pytest.raises(InputError, match="holdout end must be after"):
        clv_summary(
            np.array([0]), np.array([1]), np.array([1.0]), calibration_end=50, holdout_end=50
        )
    with pytest.raises(InputError, match="period must be one of"):
        clv_summary(
            np.array([0]), np.array([1]), np.array([1.0]), calibration_end=50, period="month"
        )  # type: ignore[arg-type]
