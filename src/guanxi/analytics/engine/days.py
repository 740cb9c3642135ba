"""Calendar days as integers.

The engine stores a date as the number of days since 1970-01-01 (the physical value of a polars
or Arrow ``Date``), in an ``int32`` array. These helpers convert at the edges.
"""

from __future__ import annotations

import datetime as dt

from guanxi.analytics.engine.errors import InputError

EPOCH = dt.date(1970, 1, 1)


def day_number(value: dt.date | str | int) -> int:
    """Days since 1970-01-01 of a ``date``, an ISO ``YYYY-MM-DD`` string, or an int (unchanged).

    A ``datetime`` counts by its calendar date.
    """
    if isinstance(value, bool):
        raise InputError(f"not a date: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise InputError(f"{value!r} is not a date (expected YYYY-MM-DD)") from None
    if not isinstance(value, dt.date):
        raise InputError(f"not a date: {value!r}")
    return (value - EPOCH).days


def day_date(day: int) -> dt.date:
    """The calendar date of a day number."""
    return EPOCH + dt.timedelta(days=int(day))
