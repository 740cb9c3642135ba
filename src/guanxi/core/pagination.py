"""Keyset (cursor) pagination: constant cost at any depth, unlike OFFSET.

A sort is a field plus the primary key as tie-breaker. The cursor is the last row's
(value, id), opaque to clients (URL-safe base64 of JSON).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db.models import IntegerField, Q, QuerySet
from django.db.models.expressions import RawSQL

from guanxi.core.exceptions import ValidationError


@dataclass(frozen=True)
class Sort:
    field: str  # model field, or "id"
    descending: bool

    @property
    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        if self.field == "id":
            return [f"{sign}id"]
        return [f"{sign}{self.field}", f"{sign}id"]


@dataclass
class Page[T]:
    items: list[T]
    next_cursor: str | None
    count: int | None = None  # exact up to the limit; None when not counted
    count_limit: int | None = None

    @property
    def count_text(self) -> str:
        if self.count is None:
            return ""
        if self.count_limit is not None and self.count > self.count_limit:
            return f"{self.count_limit:,}+"
        return f"{self.count:,}"


def _encode_value(value: Any) -> Any:
    """Sort values JSON cannot hold as they are (times, dates, exact decimals) as tagged text."""
    if isinstance(value, dt.datetime):
        return {"dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"dec": str(value)}
    return value


def _decode_value(value: Any) -> Any:
    if isinstance(value, dict) and "dt" in value:
        return dt.datetime.fromisoformat(value["dt"])
    if isinstance(value, dict) and "d" in value:
        return dt.date.fromisoformat(value["d"])
    if isinstance(value, dict) and "dec" in value:
        return Decimal(value["dec"])
    return value


def encode_cursor(value: Any, pk: int) -> str:
    raw = json.dumps([_encode_value(value), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(pk, int):
            raise TypeError
        return _decode_value(value), pk
    except Exception as exc:
        raise ValidationError({"cursor": ["Invalid cursor."]}) from exc


def paginate(qs: QuerySet, sort: Sort, *, cursor: str | None, limit: int,
             count_limit: int | None = None) -> Page:
    """One page of ``qs`` after ``cursor`` in ``sort`` order; counts up to ``count_limit``."""
    count = None
    counted = None
    base = qs
    if count_limit is not None:
        # The count rides on the page's query as an uncorrelated scalar subquery (evaluated
        # once): one round trip instead of two.
        try:
            sql, params = qs.order_by().values("pk")[: count_limit + 1].query.sql_with_params()
        except EmptyResultSet:  # a scope of no rows: nothing to count, no query to run
            count = 0
        else:
            counted = RawSQL(f"SELECT COUNT(*) FROM ({sql}) guanxi_counted",  # noqa: S611
                             params, output_field=IntegerField())
    if cursor:
        value, pk = decode_cursor(cursor)
        op = "lt" if sort.descending else "gt"
        if sort.field == "id":
            qs = qs.filter(**{f"id__{op}": pk})
        else:
            qs = qs.filter(Q(**{f"{sort.field}__{op}": value})
                           | Q(**{sort.field: value, f"id__{op}": pk}))
    if counted is not None:
        qs = qs.annotate(guanxi_count=counted)
    rows = list(qs.order_by(*sort.order_by)[: limit + 1])
    if counted is not None:
        # No row on this page: count separately (a page past the end, or nothing at all).
        count = rows[0].guanxi_count if rows else base.order_by()[: count_limit + 1].count()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(
            None if sort.field == "id" else getattr(last, sort.field), last.pk
        )
    return Page(items=rows, next_cursor=next_cursor, count=count, count_limit=count_limit)
