"""API shapes for leads and opportunities (input and output apart)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

S = Annotated


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class ConflictOut(Schema):
    detail: str
    current: dict | None = None
    current_version: int | None = None


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class LeadIn(Schema):
    name: S[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    company: S[str, StringConstraints(max_length=200)] = ""
    title: S[str, StringConstraints(max_length=100)] = ""
    phone: S[str, StringConstraints(max_length=40)] = ""
    email: S[str, StringConstraints(max_length=254)] = ""
    province: S[str, StringConstraints(max_length=30)] = ""
    message: S[str, StringConstraints(max_length=5000)] = ""
    source: S[str, StringConstraints(min_length=1, max_length=30)] = "api"
    campaign: S[str, StringConstraints(max_length=100)] = ""
    marketing_consent: bool = False
    consent_evidence: S[str, StringConstraints(max_length=300)] = ""


class LeadOut(Schema):
    id: int
    name: str
    company: str
    title: str
    phone: str
    email: str
    province: str
    source: str
    campaign: str
    status: str
    lost_reason: str
    owner_id: int | None
    team_id: int | None
    customer_id: int | None
    opportunity_id: int | None
    duplicate_of_id: int | None
    marketing_consent: bool
    version: int
    created_at: dt.datetime


class LeadPage(Schema):
    items: list[LeadOut]
    next_cursor: str | None
    count: str


class VersionIn(Schema):
    version: int = Field(..., ge=1, le=2**31)


class LoseIn(VersionIn):
    reason: S[str, StringConstraints(min_length=1, max_length=200)]


class ConvertIn(VersionIn):
    customer_id: int | None = Field(None, ge=1, le=2**53,
                                    description="attach to this existing customer")
    opportunity: bool = True
    amount: Decimal = Field(Decimal("0"), ge=0, max_digits=18, decimal_places=2)


class OpportunityIn(Schema):
    name: S[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    customer: int = Field(..., ge=1, le=2**53)
    pipeline: int | None = Field(None, ge=1, le=2**53)
    stage: int | None = Field(None, ge=1, le=2**53)
    amount: Decimal = Field(Decimal("0"), ge=0, max_digits=18, decimal_places=2)
    currency: Literal["CNY", "USD", "EUR", "HKD", "JPY"] = "CNY"
    probability: Decimal | None = Field(None, ge=0, le=1, max_digits=5, decimal_places=4)
    expected_close: dt.date | None = None
    competitors: S[str, StringConstraints(max_length=300)] = ""
    next_step: S[str, StringConstraints(max_length=300)] = ""


class OpportunityPatch(VersionIn):
    name: S[str, StringConstraints(strip_whitespace=True, min_length=1,
                                   max_length=200)] | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=18, decimal_places=2)
    currency: Literal["CNY", "USD", "EUR", "HKD", "JPY"] | None = None
    probability: Decimal | None = Field(None, ge=0, le=1, max_digits=5, decimal_places=4)
    expected_close: dt.date | None = None
    competitors: S[str, StringConstraints(max_length=300)] | None = None
    next_step: S[str, StringConstraints(max_length=300)] | None = None


class MoveIn(Schema):
    stage: int = Field(..., ge=1, le=2**53)
    version: int | None = Field(None, ge=1, le=2**31)
    reason: S[str, StringConstraints(max_length=200)] = ""


class OpportunityOut(Schema):
    id: int
    name: str
    customer_id: int
    pipeline_id: int
    stage_id: int
    status: str
    amount: Decimal
    currency: str
    amount_cny: Decimal
    probability: Decimal | None
    expected_close: dt.date | None
    competitors: str
    next_step: str
    lost_reason: str
    owner_id: int
    team_id: int | None
    closed_at: dt.datetime | None
    version: int


class OpportunityPage(Schema):
    items: list[OpportunityOut]
    next_cursor: str | None
    count: str
