"""Reading transaction logs: CSV, other delimited text, whitespace-separated text, or Parquet.

A transaction log has one row per purchase with a customer identifier, a date and an amount, and
optionally the cost of the sale (for profit-based ABC analysis). The reader returns
:class:`Transactions`: numpy arrays with one element per row, the customer as a dense integer code
(0..n_customers-1, in ascending order of the identifiers) and the date as a day number (days since
1970-01-01).

Every problem is reported as an :class:`~guanxi.analytics.engine.errors.InputError` naming the
file, the column, the 1-based line (text files, header included) or row (Parquet) and the problem;
the first bad value in the file is reported. Rows whose fields are all empty (blank lines) are
skipped. Amounts and costs must be finite numbers and may be negative (refunds).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray

from guanxi.analytics.engine.errors import InputError

DEFAULT_CUSTOMER_COLUMN = "customer_id"
DEFAULT_DATE_COLUMN = "date"
DEFAULT_AMOUNT_COLUMN = "amount"

#: Separators accepted by name besides any single character.
NAMED_SEPARATORS = {"comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|", "whitespace": None}

_PARQUET_SUFFIXES = {".parquet", ".pq"}
_INTEGER_IDS_SPAN = 16  # direct integer coding while max id < 16 * rows + 1,000,000


@dataclass(frozen=True)
class Transactions:
    """A transaction log as columnar arrays, one element per transaction.

    ``customer`` holds dense codes into ``customer_ids`` (sorted ascending, so code order is
    identifier order); ``day`` holds days since 1970-01-01; ``cost`` is None when the log has no
    cost column.
    """

    customer: NDArray[np.int64]
    day: NDArray[np.int32]
    amount: NDArray[np.float64]
    cost: NDArray[np.float64] | None
    customer_ids: NDArray[np.generic]
    source: str = "<arrays>"

    @property
    def n_customers(self) -> int:
        return int(len(self.customer_ids))

    @property
    def n_transactions(self) -> int:
        return int(len(self.customer))

    @classmethod
    def from_arrays(
        cls,
        customer_id: ArrayLike,
        day: ArrayLike,
        amount: ArrayLike,
        cost: ArrayLike | None = None,
        *,
        source: str = "<arrays>",
    ) -> Transactions:
        """Build from arrays: any hashable customer ids, days (ints, ``datetime64`` or dates)."""
        ids = pl.Series("customer_id", np.asarray(customer_id))
        days = _days_from_array(day)
        amounts = _finite_floats(amount, "amount", source)
        costs = None if cost is None else _finite_floats(cost, "cost", source)
        n = len(ids)
        for name, arr in (("date", days), ("amount", amounts), ("cost", costs)):
            if arr is not None and len(arr) != n:
                raise InputError(
                    f"has {len(arr)} values but customer_id has {n}", source=source, column=name
                )
        if ids.null_count():
            raise InputError(
                "missing value",
                source=source,
                column="customer_id",
                row=_first_true(ids.is_null()) + 1,
            )
        codes, labels = encode_customers(ids)
        return cls(codes, days, amounts, costs, labels, source)


def read_transactions(
    path: str | Path,
    *,
    customer_column: str = DEFAULT_CUSTOMER_COLUMN,
    date_column: str = DEFAULT_DATE_COLUMN,
    amount_column: str = DEFAULT_AMOUNT_COLUMN,
    cost_column: str | None = None,
    separator: str = ",",
    has_header: bool = True,
    column_names: Sequence[str] | None = None,
    date_format: str | None = None,
    file_format: Literal["auto", "text", "parquet"] = "auto",
) -> Transactions:
    """Read a transaction log.

    ``file_format`` "auto" reads ``.parquet``/``.pq`` files as Parquet and anything else as text.
    Text options: ``separator`` is a single character or one of "comma", "tab", "semicolon",
    "pipe", "whitespace" (runs of spaces and tabs, leading and trailing ones ignored);
    ``has_header`` False means the first line is data; ``column_names`` names the columns in file
    order (it replaces the header when there is one); without a header or names the columns are
    called ``column_1``, ``column_2``, ... ``date_format`` is a strftime pattern such as
    ``%Y%m%d``; by default dates are ISO ``YYYY-MM-DD``, optionally followed by a time of day.
    """
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise InputError("no such file", source=source)
    wanted = [customer_column, date_column, amount_column]
    if cost_column is not None:
        wanted.append(cost_column)
    if len(set(wanted)) != len(wanted):
        raise InputError(f"the same column is named twice among {wanted}", source=source)
    parquet = file_format == "parquet" or (
        file_format == "auto" and path.suffix.lower() in _PARQUET_SUFFIXES
    )
    # The frame is handed over without a name here, so that _convert can release each column
    # once it holds the column's numpy copy.
    return _convert(
        *(
            (_read_parquet(path, wanted, column_names), None)
            if parquet
            else _read_text(path, wanted, separator, has_header, column_names)
        ),
        source,
        customer_column,
        date_column,
        amount_column,
        cost_column,
        date_format,
    )


def encode_customers(ids: pl.Series) -> tuple[NDArray[np.int64], NDArray[np.generic]]:
    """Dense codes for customer identifiers, and the identifiers in ascending order.

    Non-negative integer ids in a moderate range are coded in linear time through a presence
    table; other ids by a sort.
    """
    if ids.dtype.is_integer() and len(ids):
        values = ids.to_numpy()
        low, high = int(values.min()), int(values.max())
        if low >= 0 and high < _INTEGER_IDS_SPAN * len(values) + 1_000_000:
            present = np.zeros(high + 1, dtype=bool)
            present[values] = True
            if present[low:].all():
                # Every id from the lowest to the highest occurs: the code is an offset.
                labels = np.arange(low, high + 1, dtype=np.int64)
                return np.subtract(values, low, dtype=np.int64), labels
            labels = np.flatnonzero(present)
            remap = np.cumsum(present, dtype=np.int64) - 1
            return remap[values], labels
        labels, inverse = np.unique(values, return_inverse=True)
        return inverse.astype(np.int64, copy=False), labels
    if not ids.dtype.is_integer():
        ids = ids.cast(pl.String)
    codes = (ids.rank("dense").to_numpy() - 1).astype(np.int64, copy=False)
    labels = ids.unique().sort().to_numpy()
    return codes, labels


# --- reading -------------------------------------------------------------------------------------


def _resolve_separator(separator: str) -> str | None:
    if separator in NAMED_SEPARATORS:
        return NAMED_SEPARATORS[separator]
    if separator == "\\t":
        return "\t"
    if len(separator) != 1 or separator in '\r\n"':
        raise InputError(
            f"separator {separator!r} is not one character or one of " + ", ".join(NAMED_SEPARATORS)
        )
    return separator


def _read_text(
    path: Path,
    wanted: list[str],
    separator: str,
    has_header: bool,
    column_names: Sequence[str] | None,
) -> tuple[pl.DataFrame, int]:
    source = str(path)
    sep = _resolve_separator(separator)
    first_line = 2 if has_header else 1
    try:
        if sep is None:
            frame = _read_whitespace(path, has_header)
        else:
            frame = pl.read_csv(
                path,
                separator=sep,
                has_header=has_header,
                infer_schema=False,
                raise_if_empty=False,
            )
    except InputError as exc:
        raise exc.with_source(source) from None
    except pl.exceptions.PolarsError as exc:
        raise _locate_csv_error(path, sep or ",", has_header, exc) from None
    except UnicodeDecodeError:
        raise InputError("is not UTF-8 text", source=source) from None
    if frame.width == 0:
        raise InputError("the file is empty", source=source)
    if column_names is not None:
        names = list(column_names)
        if len(names) != frame.width:
            raise InputError(
                f"{len(names)} column names given but the file has {frame.width} columns",
                source=source,
            )
        if len(set(names)) != len(names):
            raise InputError(f"column names repeat: {names}", source=source)
        frame.columns = names
    _require_columns(frame.columns, wanted, source)
    frame = frame.select(wanted)
    return frame, first_line


def _read_whitespace(path: Path, has_header: bool) -> pl.DataFrame:
    lines = pl.read_csv(
        path,
        separator="\x1f",
        has_header=False,
        quote_char=None,
        infer_schema=False,
        new_columns=["line"],
        raise_if_empty=False,
    )
    if lines.height == 0:
        return pl.DataFrame()
    fields = lines.select(
        pl.col("line").str.strip_chars().str.replace_all(r"\s+", " ").str.split(" ")
    ).to_series()
    counts = fields.list.len()
    blank = fields.is_null() | (fields.list.first().fill_null("") == "")
    if has_header:
        header = fields[0]
        if header is None or blank[0]:
            raise InputError("the header line is empty", line=1)
        names = list(header)
        body, body_counts, body_blank, offset = fields[1:], counts[1:], blank[1:], 2
    else:
        width = int(counts.filter(~blank).first() or 0)
        names = [f"column_{i + 1}" for i in range(width)]
        body, body_counts, body_blank, offset = fields, counts, blank, 1
    ragged = (body_counts != len(names)) & ~body_blank
    if ragged.any():
        index = _first_true(ragged)
        raise InputError(
            f"has {body_counts[index]} fields, expected {len(names)}", line=index + offset
        )
    if len(set(names)) != len(names):
        raise InputError(f"column names repeat: {names}", line=1)
    columns = {name: body.list.get(i, null_on_oob=True).alias(name) for i, name in enumerate(names)}
    return pl.DataFrame(columns)


def _locate_csv_error(path: Path, separator: str, has_header: bool, exc: Exception) -> InputError:
    """Find the line behind a polars parse error (only on the error path, in plain Python)."""
    source = str(path)
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle, delimiter=separator)
            width: int | None = None
            for record in reader:
                if not record:
                    continue
                if width is None:
                    width = len(record)
                    continue
                if len(record) > width:
                    return InputError(
                        f"has {len(record)} fields, expected {width}",
                        source=source,
                        line=reader.line_num,
                    )
    except (UnicodeDecodeError, csv.Error) as err:
        return InputError(f"cannot be read as delimited text: {err}", source=source)
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InputError(f"cannot be read as delimited text: {first}", source=source)


def _read_parquet(
    path: Path, wanted: list[str], column_names: Sequence[str] | None
) -> pl.DataFrame:
    source = str(path)
    try:
        schema = pl.read_parquet_schema(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"is not a Parquet file ({_first_line(exc)})", source=source) from None
    available = list(schema)
    rename: dict[str, str] = {}
    if column_names is not None:
        if len(column_names) != len(available):
            raise InputError(
                f"{len(column_names)} column names given but the file has {len(available)} columns",
                source=source,
            )
        rename = dict(zip(column_names, available, strict=True))
        available = list(column_names)
    _require_columns(available, wanted, source)
    stored = [rename.get(name, name) for name in wanted]
    try:
        frame = pl.read_parquet(path, columns=stored).select(stored)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise InputError(f"cannot be read ({_first_line(exc)})", source=source) from None
    frame.columns = wanted
    return frame


def _require_columns(available: Sequence[str], wanted: Sequence[str], source: str) -> None:
    for name in wanted:
        if name not in available:
            listing = ", ".join(repr(c) for c in available) or "none"
            raise InputError(f"no such column (columns: {listing})", source=source, column=name)


# --- conversion ----------------------------------------------------------------------------------


def _convert(
    frame: pl.DataFrame,
    first_line: int | None,
    source: str,
    customer_column: str,
    date_column: str,
    amount_column: str,
    cost_column: str | None,
    date_format: str | None,
) -> Transactions:
    def fail(column: str, index: int, problem: str) -> InputError:
        if first_line is None:
            return InputError(problem, source=source, column=column, row=index + 1)
        return InputError(problem, source=source, column=column, line=index + first_line)

    if frame.height and first_line is not None:
        blank = pl.all_horizontal(
            [
                pl.col(c).is_null() | (pl.col(c).cast(pl.String).str.strip_chars() == "")
                for c in frame.columns
            ]
        )
        keep = frame.select(~blank).to_series()
        if not keep.all():
            row_index = np.flatnonzero(keep.to_numpy())
            frame = frame.filter(keep)
        else:
            row_index = None
    else:
        row_index = None

    raw_columns = {name: frame[name] for name in frame.columns}
    del frame

    def bad(column: str, mask: pl.Series | None) -> None:
        if mask is not None and mask.any():
            index = _first_true(mask)
            original = int(row_index[index]) if row_index is not None else index
            raw = raw_columns[column][index]
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                raise fail(column, original, "missing value")
            raise fail(column, original, _problem(column, raw))

    def _problem(column: str, raw: object) -> str:
        if column == date_column:
            expected = date_format or "YYYY-MM-DD"
            return f"{raw!r} is not a date (expected {expected})"
        if isinstance(raw, float) or (isinstance(raw, str) and _looks_numeric(raw)):
            return f"{raw!r} is not a finite number"
        return f"{raw!r} is not a number"

    ids = raw_columns[customer_column]
    if ids.dtype == pl.String:
        ids = ids.str.strip_chars()
        bad(customer_column, ids.is_null() | (ids == ""))
    elif not ids.dtype.is_integer():
        bad(customer_column, ids.is_null())
        ids = ids.cast(pl.String)
    elif ids.null_count():
        bad(customer_column, ids.is_null())

    days = _parse_dates(raw_columns[date_column], date_format)
    if days.null_count():
        bad(date_column, days.is_null())

    amounts = _parse_numbers(raw_columns[amount_column])
    bad(amount_column, _not_finite(amounts))
    costs = None
    if cost_column is not None:
        costs = _parse_numbers(raw_columns[cost_column])
        bad(cost_column, _not_finite(costs))

    # Convert one column at a time, dropping each polars column as soon as it is copied.
    raw_columns.clear()
    codes, labels = encode_customers(ids)
    del ids
    day = days.to_physical().to_numpy().astype(np.int32, copy=False)
    del days
    amount = amounts.to_numpy().astype(np.float64, copy=False)
    del amounts
    cost = None if costs is None else costs.to_numpy().astype(np.float64, copy=False)
    return Transactions(codes, day, amount, cost, labels, source)


def _not_finite(values: pl.Series) -> pl.Series | None:
    """A mask of missing or non-finite values, or None when every value is finite."""
    if values.null_count() == 0 and values.is_finite().all():
        return None
    return values.is_null() | ~values.is_finite().fill_null(False)


def _parse_dates(values: pl.Series, date_format: str | None) -> pl.Series:
    """A ``Date`` series; values that are not dates become null."""
    if values.dtype == pl.Date:
        return values
    if isinstance(values.dtype, pl.Datetime):
        return values.dt.date()
    if values.dtype != pl.String:
        if date_format is None:
            return pl.Series(values.name, [None] * len(values), dtype=pl.Date)
        values = values.cast(pl.String)
    text = values.str.strip_chars()
    if date_format is not None:
        return text.str.to_date(date_format, strict=False)
    parsed = text.str.to_date("%Y-%m-%d", strict=False)
    if parsed.null_count() > text.null_count():
        with_time = text.str.to_datetime(strict=False, format=None)
        parsed = parsed.fill_null(with_time.dt.date()) if with_time.dtype != pl.String else parsed
    return parsed


def _parse_numbers(values: pl.Series) -> pl.Series:
    """A ``Float64`` series; values that are not numbers become null."""
    if values.dtype == pl.String:
        return values.str.strip_chars().cast(pl.Float64, strict=False)
    if values.dtype.is_numeric() or isinstance(values.dtype, pl.Decimal):
        return values.cast(pl.Float64)
    return values.cast(pl.String).cast(pl.Float64, strict=False)


_NUMERIC = re.compile(r"^[+-]?(inf(inity)?|nan)$", re.IGNORECASE)


def _looks_numeric(raw: str) -> bool:
    return bool(_NUMERIC.match(raw.strip()))


def _first_true(mask: pl.Series) -> int:
    return int(np.argmax(mask.fill_null(True).to_numpy()))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _days_from_array(day: ArrayLike) -> NDArray[np.int32]:
    arr = np.asarray(day)
    if np.issubdtype(arr.dtype, np.datetime64):
        return arr.astype("datetime64[D]").astype(np.int64).astype(np.int32)
    if arr.dtype == object:
        return np.asarray(
            pl.Series(arr.tolist(), dtype=pl.Date).to_physical().to_numpy(), dtype=np.int32
        )
    if not np.issubdtype(arr.dtype, np.integer):
        raise InputError("must hold integer day numbers or dates", column="date")
    return arr.astype(np.int32)


def _finite_floats(values: ArrayLike, column: str, source: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise InputError("must be one-dimensional", source=source, column=column)
    finite = np.isfinite(arr)
    if not finite.all():
        index = int(np.argmin(finite))
        raise InputError(
            f"{float(arr[index])!r} is not a finite number",
            source=source,
            column=column,
            row=index + 1,
        )
    return arr
