"""Shared fixtures of the engine tests: the CDNOW files and the sample read from the raw log."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from guanxi.analytics.engine.io import Transactions, read_transactions

DATA = Path(__file__).parent / "data"
CDNOW_SAMPLE = DATA / "CDNOW_sample.txt"
CDNOW_SUMMARY = DATA / "cdnow_customers_summary.csv"
CDNOW_SUMMARY_ZBAR = DATA / "cdnow_customers_summary_with_transactions.csv"
CDNOW_COLUMNS = ["master_id", "customer_id", "date", "cds", "amount"]
CALIBRATION_END = "1997-09-30"
HOLDOUT_END = "1998-06-30"


@pytest.fixture(scope="session")
def cdnow_transactions() -> Transactions:
    return read_transactions(
        CDNOW_SAMPLE,
        separator="whitespace",
        has_header=False,
        column_names=CDNOW_COLUMNS,
        date_format="%Y%m%d",
    )


@pytest.fixture(scope="session")
def cdnow_published_summary() -> dict[str, np.ndarray]:
    """The published calibration summary with zbar, sorted by customer id."""
    frame = pl.read_csv(CDNOW_SUMMARY_ZBAR).sort("ID")
    return {name: frame[name].to_numpy() for name in frame.columns}
