"""API input and output shapes for quotes (input and output kept apart)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from guanxi.customers.schemas import ConflictOut, ErrorOut

__all__ = ["ConflictOut", "ErrorOut", "QuoteIn", "QuoteLineIn", "QuoteLineOut", "QuoteOut",
           "QuotePage", "QuotePatch", "QuoteSummary", "RejectIn", "ToOrderOut", "VersionIn"]

Id = Annotated[int, Field(ge=1, le=2**53)]
Notes = Annotated[str, StringConstraints(max_length=10000)]


class QuoteLineIn(Schema):
    product: Id | None = Field(None, description="product id; empty for a free-text line")
    description: Annotated[str, StringConstraints(max_length=300)] = Field(
        "", description="defaults to the product's name")
    quantity: Decimal = Field(Decimal("1"), gt=0, max_digits=14, decimal_places=3)
    unit_price: Decimal | None = Field(
        None, ge=0, max_digits=18, decimal_places=2,
        description="empty: the price list's price, else the product's list price")
    discount: Decimal = Field(Decimal("0"), ge=0, le=1, max_digits=5, decimal_places=4,
                              description="a fraction: 0.1 for 10%")
    tax_rate: Decimal | None = Field(
        None, ge=0, le=1, max_digits=6, decimal_places=4,
        description="free-text lines: one of the VAT rates (0.13 for 13%); product lines "
                    "always take the product's rate")


class QuoteIn(Schema):
    customer: Id = Field(description="customer id")
    price_list: Id | None = Field(None, description="price list id; its currency is the "
                                                    "quote's (CNY without one)")
    opportunity: Id | None = Field(None, description="opportunity id (of the same customer)")
    valid_until: dt.date | None = Field(None, description="defaults to 30 days from today")
    notes: Notes = ""
    lines: list[QuoteLineIn] = Field(default_factory=list, max_length=200)


class QuotePatch(Schema):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    valid_until: dt.date | None = None
    notes: Notes | None = None
    lines: list[QuoteLineIn] | None = Field(None, max_length=200,
                                            description="replaces all lines when given")


class VersionIn(Schema):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")


class RejectIn(VersionIn):
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class QuoteLineOut(Schema):
    id: int
    product_id: int | None
    description: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    tax_rate: Decimal
    net: Decimal = Field(description="quantity × unit price × (1 − discount), to cents")
    tax: Decimal = Field(description="net × tax rate, to cents")


class QuoteSummary(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    status: str
    currency: str
    issued_on: dt.date
    valid_until: dt.date | None
    total: Decimal
    owner_id: int
    team_id: int | None
    version: int


class QuoteOut(QuoteSummary):
    opportunity_id: int | None
    price_list_id: int | None
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    max_discount: Decimal
    needs_approval: bool = Field(description="the largest discount is above the threshold")
    notes: str
    rejection_reason: str = Field(description="why the discount was rejected; set while the "
                                              "quote is rejected, empty otherwise")
    approved_by_id: int | None
    approved_at: dt.datetime | None
    created_at: dt.datetime
    lines: list[QuoteLineOut]
    order_ids: list[int] = Field(description="orders made from this quote that you may see")


class QuotePage(Schema):
    items: list[QuoteSummary]
    next_cursor: str | None
    count: str = Field(description="rows matching, exact up to the limit, then 'N+'")


class ToOrderOut(Schema):
    order_id: int
    order_number: str
    quote: QuoteOut
