"""Reading transaction logs: formats, options and the errors that name file, column and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from guanxi.analytics.engine.days import day_date, day_number
from guanxi.analytics.engine.errors import InputError
from guanxi.analytics.engine.io import Transactions, encode_customers, read_transactions

from .conftest import CDNOW_SAMPLE


def write(tmp_path: Path, text: str, name: str = "tx.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_csv_with_default_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path, "customer_id,date,amount\nb,2024-01-02,3.5\na,2024-01-03,4\nb,2024-01-05, 1.25 \n"
    )
    tx = read_transactions(path)
    assert tx.customer_ids.tolist() == ["a", "b"]
    assert tx.customer.tolist() == [1, 0, 1]
    assert [day_date(d) for d in tx.day] == [
        dt.date(2024, 1, 2),
        dt.date(2024, 1, 3),
        dt.date(2024, 1, 5),
    ]
    assert tx.amount.tolist() == [3.5, 4.0, 1.25]
    assert tx.cost is None
    assert (tx.n_customers, tx.n_transactions) == (2, 3)


def test_named_columns_cost_and_datetimes(tmp_path: Path) -> None:
    path = write(
        tmp_path, "who;when;paid;spent\n7;2024-03-01T10:00:00;10;4\n7;2024-03-02 23:59;5;6\n"
    )
    tx = read_transactions(
        path,
        customer_column="who",
        date_column="when",
        amount_column="paid",
        cost_column="spent",
        separator=";",
    )
    assert tx.day.tolist() == [day_number("2024-03-01"), day_number("2024-03-02")]
    assert tx.cost is not None and tx.cost.tolist() == [4.0, 6.0]


def test_whitespace_without_header_cdnow_sample() -> None:
    tx = read_transactions(
        CDNOW_SAMPLE,
        separator="whitespace",
        has_header=False,
        column_names=["m", "customer_id", "date", "cds", "amount"],
        date_format="%Y%m%d",
    )
    assert tx.n_transactions == 6919
    assert tx.n_customers == 2357
    assert tx.customer_ids[0] == "0001"
    assert day_date(int(tx.day[0])) == dt.date(1997, 1, 1)
    assert tx.amount[0] == pytest.approx(29.33)


def test_whitespace_with_header_and_default_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        " customer_id  date number_of_cds  dollar_value\n"
        " 00001 19970101  1   11.77\n\n 00002 19970112  5   77.00\n",
    )
    tx = read_transactions(
        path, separator="whitespace", amount_column="dollar_value", date_format="%Y%m%d"
    )
    assert tx.customer_ids.tolist() == ["00001", "00002"]
    assert tx.amount.tolist() == [11.77, 77.0]
    nameless = write(tmp_path, "1 2024-01-01 5\n2 2024-01-02 6\n", "nameless.txt")
    tx = read_transactions(
        nameless,
        separator="whitespace",
        has_header=False,
        customer_column="column_1",
        date_column="column_2",
        amount_column="column_3",
    )
    assert tx.amount.tolist() == [5.0, 6.0]


def test_parquet_with_integer_ids(tmp_path: Path) -> None:
    path = tmp_path / "tx.parquet"
    pl.DataFrame(
        {
            "customer_id": [30, 10, 30, 20],
            "date": [dt.date(2024, 1, d) for d in (1, 2, 3, 4)],
            "amount": [1.0, 2.0, 3.0, 4.0],
        }
    ).write_parquet(path)
    tx = read_transactions(path)
    assert tx.customer_ids.tolist() == [10, 20, 30]
    assert tx.customer.tolist() == [2, 0, 2, 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "customer_id,date,amount\n1,2024-01-02,3.5\n2,2024-01-0x,4\n",
            "tx.csv: column 'date', line 3: '2024-01-0x' is not a date (expected YYYY-MM-DD)",
        ),
        (
            "customer_id,date,amount\n1,2024-01-02,3.5\n\n2,2024-01-03,abc\n",
            "tx.csv: column 'amount', line 4: 'abc' is not a number",
        ),
        (
            "customer_id,date,amount\n1,2024-01-02,inf\n",
            "tx.csv: column 'amount', line 2: 'inf' is not a finite number",
        ),
        (
            "customer_id,date,amount\n1,2024-01-02,1\n,2024-01-03,1\n",
            "tx.csv: column 'customer_id', line 3: missing value",
        ),
        (
            "customer_id,date,amount\n1,2024-01-02,1\n2,2024-01-03\n",
            "tx.csv: column 'amount', line 3: missing value",
        ),
        (
            "customer_id,date,amount\n1,2024-01-02,1\n2,2024-01-03,1,9\n",
            "tx.csv: line 3: has 4 fields, expected 3",
        ),
        (
            "customer_id,day,amount\n1,2024-01-02,1\n",
            "tx.csv: column 'date': no such column (columns: 'customer_id', 'day', 'amount')",
        ),
        ("", "tx.csv: the file is empty"),
    ],
)
def test_errors_name_file_column_line_and_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError) as caught:
        read_transactions(path)
    assert str(caught.value) == f"{tmp_path}/{message}"


def test_whitespace_ragged_line(tmp_path: Path) -> None:
    path = write(tmp_path, "a b c\n1 2024-01-01 3\n2 2024-01-02\n", "ws.txt")
    with pytest.raises(InputError, match=r"ws.txt: line 3: has 2 fields, expected 3"):
        read_transactions(
            path, separator="whitespace", customer_column="a", date_column="b", amount_column="c"
        )


def test_date_format_error_names_the_format(tmp_path: Path) -> None:
    path = write(tmp_path, "customer_id,date,amount\n1,19970101,1\n1,1997-01-02,1\n")
    with pytest.raises(InputError, match=r"line 3: '1997-01-02' is not a date \(expected %Y%m%d\)"):
        read_transactions(path, date_format="%Y%m%d")


def test_parquet_errors_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    pl.DataFrame(
        {"customer_id": [1, 2, 3], "date": [dt.date(2024, 1, 1)] * 3, "amount": [1.0, None, 2.0]}
    ).write_parquet(path)
    with pytest.raises(InputError, match=r"bad.parquet: column 'amount', row 2: missing value"):
        read_transactions(path)
    with pytest.raises(InputError, match=r"column 'price': no such column"):
        read_transactions(path, amount_column="price")


def test_missing_file_and_bad_separator(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_transactions(tmp_path / "absent.csv")
    path = write(tmp_path, "customer_id,date,amount\n")
    with pytest.raises(InputError, match="separator"):
        read_transactions(path, separator="::")


def test_column_names_must_match_the_width(tmp_path: Path) -> None:
    path = write(tmp_path, "1,2024-01-01,3\n", "nohead.csv")
    with pytest.raises(InputError, match="2 column names given but the file has 3 columns"):
        read_transactions(path, has_header=False, column_names=["a", "b"])


def test_from_arrays_and_encoding() -> None:
    tx = Transactions.from_arrays(
        ["x", "y", "x"],
        np.array(["2024-01-01", "2024-01-02", "2024-01-03"], dtype="datetime64[D]"),
        [1, 2, 3],
    )
    assert tx.customer.tolist() == [0, 1, 0]
    assert tx.day.tolist() == [day_number("2024-01-01") + i for i in range(3)]
    with pytest.raises(InputError, match=r"column 'amount', row 2: nan is not a finite number"):
        Transactions.from_arrays([1, 2], [0, 1], [1.0, float("nan")])
    codes, labels = encode_customers(pl.Series([10**15, 5, 10**15]))
    assert labels.tolist() == [5, 10**15] and codes.tolist() == [1, 0, 1]


def test_day_number_round_trip() -> None:
    assert day_number("1970-01-02") == 1
    assert day_number(dt.datetime(1970, 1, 3, 12)) == 2
    assert day_date(day_number(dt.date(1997, 9, 30))) == dt.date(1997, 9, 30)
    with pytest.raises(InputError, match="is not a date"):
        day_number("1997-02-30")
