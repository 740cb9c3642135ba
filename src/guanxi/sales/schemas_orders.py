"""API input and output shapes for orders, returns and order imports (input and output kept
apart)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

Money = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=2)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=3)]
TaxRate = Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=4,
                                   description="a fraction: 0.13 for 13% VAT")]
Id = Annotated[int, Field(ge=1, le=2**53)]
CurrencyT = Literal["CNY", "USD", "EUR", "HKD", "JPY"]
StatusT = Literal["open", "confirmed", "shipped", "completed", "cancelled"]
PaymentT = Literal["unpaid", "partial", "paid", "refunded"]
Source = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=30)]
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=80)]


class OrderLineIn(Schema):
    product_id: Id | None = None
    sku: Annotated[str, StringConstraints(max_length=60)] = ""
    description: Annotated[str, StringConstraints(max_length=300)] = ""
    quantity: Quantity
    unit_price: Money = Field(description="net of VAT, in the order's currency")
    tax_rate: TaxRate | None = Field(None, description="default: the product's VAT rate, "
                                                       "else 0")
    unit_cost: Money | None = Field(None, description="default: the product's cost")


class OrderIn(Schema):
    customer_id: Id | None = Field(None, description="or give customer_phone or "
                                                     "customer_email of a customer on file")
    customer_phone: Annotated[str, StringConstraints(max_length=40)] = ""
    customer_email: Annotated[str, StringConstraints(max_length=254)] = ""
    source: Source = "crm"
    external_id: ExternalId | None = Field(None, description="the order's id in the source "
                                                             "system; unique per source")
    ordered_at: dt.datetime | None = Field(None, description="default: now")
    currency: CurrencyT = "CNY"
    channel: Annotated[str, StringConstraints(max_length=30)] = ""
    status: StatusT = "confirmed"
    payment_status: PaymentT = "unpaid"
    lines: list[OrderLineIn] = Field(min_length=1, max_length=1000)


class OrderImportItem(OrderIn):
    source: Source
    external_id: ExternalId
    ordered_at: dt.datetime


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON schema with its ``$defs`` references written in place."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(dict(defs[ref.rsplit("/", 1)[1]]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(schema)


#: How each order of an import looks (documented; the service checks every field itself).
ORDER_IMPORT_ITEM = _inline(OrderImportItem.model_json_schema())


class OrderImportIn(Schema):
    """Each order is checked by the import service, not here, so that one bad order is
    reported with its index and fields while the others go in (and a thousand orders parse
    in milliseconds)."""

    orders: list[dict[str, Any]] = Field(
        min_length=1, max_length=1000, json_schema_extra={"items": ORDER_IMPORT_ITEM},
        description="orders as in POST /orders, each with source, external_id and "
                    "ordered_at")
    atomic: bool = Field(False, description="refuse the whole request (422) when any order "
                                            "has an error")


class OrderPatch(Schema):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    status: StatusT | None = None
    payment_status: PaymentT | None = None
    reason: Annotated[str, StringConstraints(max_length=300)] = Field(
        "", description="why (kept in the audit trail), e.g. for a cancellation")


class ReturnIn(Schema):
    kind: Literal["return", "refund"]
    amount: Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=2)] = Field(
        description="in the order's currency")
    reason: Annotated[str, StringConstraints(max_length=300)] = ""
    at: dt.datetime | None = Field(None, description="default: now")
    external_id: ExternalId | None = Field(None, description="the return's id in the source "
                                                             "system; a re-send is ignored")


class OrderLineOut(Schema):
    id: int
    line_no: int
    product_id: int | None
    sku: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal
    tax_rate: Decimal
    unit_cost: Decimal | None


class ReturnOut(Schema):
    id: int
    order_id: int
    kind: str
    amount: Decimal
    amount_cny: Decimal
    reason: str
    at: dt.datetime
    external_id: str | None


class OrderSummary(Schema):
    id: int
    number: str
    source: str
    external_id: str | None
    customer_id: int
    customer_name: str
    status: str
    payment_status: str
    ordered_at: dt.datetime
    currency: str
    total: Decimal
    tax_total: Decimal
    total_cny: Decimal
    channel: str
    owner_id: int
    team_id: int | None
    version: int

    @staticmethod
    def resolve_customer_name(obj) -> str:
        return obj.customer.name


class OrderOut(OrderSummary):
    customer_phone: str
    customer_email: str
    cost_cny: Decimal | None
    quote_id: int | None
    created_at: dt.datetime
    returned_total: Decimal
    lines: list[OrderLineOut]
    returns: list[ReturnOut]

    @staticmethod
    def resolve_customer_phone(obj) -> str:
        return obj.customer.primary_phone

    @staticmethod
    def resolve_customer_email(obj) -> str:
        return obj.customer.primary_email

    @staticmethod
    def resolve_returned_total(obj) -> Decimal:
        return sum((r.amount for r in obj.returns.all()), Decimal("0"))

    @staticmethod
    def resolve_lines(obj) -> list:
        return list(obj.lines.all())

    @staticmethod
    def resolve_returns(obj) -> list:
        return list(obj.returns.all())


class OrderPage(Schema):
    items: list[OrderSummary]
    next_cursor: str | None
    count: str = Field(description="rows matching, exact up to the limit, then 'N+'")


class ImportErrorOut(Schema):
    index: int = Field(description="the order's position in the request, from 0")
    source: str
    external_id: str
    errors: dict[str, list[str]]


class ImportRowOut(Schema):
    index: int
    source: str
    external_id: str | None
    status: Literal["created", "skipped"]
    id: int | None = None
    number: str | None = None


class ImportOut(Schema):
    created: int
    skipped: int = Field(description="orders already on file (same source and external id)")
    errors: list[ImportErrorOut]
    results: list[ImportRowOut]


class JobErrorOut(Schema):
    line: int | None
    column: str | None
    message: str


class ImportJobOut(Schema):
    id: int
    status: str
    filename: str
    done: int = Field(description="lines processed")
    total: int | None = Field(description="lines in the file, once read")
    percent: int
    created: int
    skipped: int
    errors: list[JobErrorOut]
    created_at: dt.datetime
    updated_at: dt.datetime


def job_out(progress: Any) -> dict[str, Any]:
    job = progress.job
    return {"id": job.pk, "status": job.status, "filename": progress.filename,
            "done": job.done, "total": job.total, "percent": progress.percent,
            "created": progress.created, "skipped": progress.skipped,
            "errors": progress.errors, "created_at": job.created_at,
            "updated_at": job.updated_at}
