"""API input and output shapes for customers (input and output kept apart)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import Field, StringConstraints

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Short = Annotated[str, StringConstraints(max_length=300)]

KindT = Literal["person", "organisation"]
RelationT = Literal["consumer", "intermediary", "internal", "public"]


class CustomerFields(Schema):
    relation_kind: RelationT | None = None
    consumer_type: Literal["", "individual", "industrial"] | None = None
    owner: int | None = Field(None, description="owner's user id (defaults to you)", ge=1,
                              le=2**53)
    team: int | None = Field(None, ge=1, le=2**53)
    source_type: Literal["direct", "indirect"] | None = None
    source_channel: Literal["", "conversation", "event", "after_sales", "website", "app",
                            "wechat", "referral", "publication", "report", "partner",
                            "import", "other"] | None = None
    source_cost: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    gender: Literal["", "female", "male", "other"] | None = None
    birth_date: dt.date | None = None
    id_number: Annotated[str, StringConstraints(max_length=30)] | None = None
    occupation: Annotated[str, StringConstraints(max_length=100)] | None = None
    income_band: Literal["", "low", "middle", "upper", "high"] | None = None
    education: Literal["", "secondary", "college", "bachelor", "master", "doctorate"] | None = None
    marital_status: Literal["", "single", "married", "divorced", "widowed"] | None = None
    family_size: int | None = Field(None, ge=0, le=100)
    employer: Annotated[str, StringConstraints(max_length=200)] | None = None
    job_title: Annotated[str, StringConstraints(max_length=100)] | None = None
    interests: Short | None = None
    purchase_motive: Literal["", "practical", "novelty", "convenience", "status"] | None = None
    personality: Literal["", "extrovert", "introvert", "cautious", "impulsive"] | None = None
    lifestyle: Short | None = None
    brand_attitude: Short | None = None
    industry: Annotated[str, StringConstraints(max_length=100)] | None = None
    company_size: Literal["", "micro", "small", "medium", "large"] | None = None
    relationship_type: Literal["", "buyer_seller", "preferred_supply", "partnership",
                               "strategic_alliance"] | None = None
    registration_number: Annotated[str, StringConstraints(max_length=30)] | None = None
    website: Annotated[str, StringConstraints(max_length=200)] | None = None
    notes: Annotated[str, StringConstraints(max_length=10000)] | None = None
    purchase_intent: Literal["", "more", "steady", "less", "leaving"] | None = Field(
        None, description="stated intent: plans to buy more, keep buying as now, buy less, "
        "or is seeking other suppliers")
    intent_change_pct: int | None = Field(
        None, ge=-100, le=1000, description="expected change in spend in percent (empty: "
        "+50 more, -50 less, -100 seeking other suppliers)")
    intent_from: dt.date | None = Field(None, description="when the change begins (empty: now)")
    custom: dict[str, Any] | None = Field(None, description="custom field code → value")


class CustomerIn(CustomerFields):
    kind: KindT = "person"
    name: Name
    phones: list[Annotated[str, StringConstraints(max_length=40)]] = Field(default_factory=list,
                                                                          max_length=20)
    emails: list[Annotated[str, StringConstraints(max_length=254)]] = Field(
        default_factory=list, max_length=20)
    tags: list[Annotated[str, StringConstraints(max_length=50)]] = Field(default_factory=list,
                                                                        max_length=50)


class CustomerPatch(CustomerFields):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    kind: KindT | None = None
    name: Name | None = None


class TagsIn(Schema):
    tags: list[Annotated[str, StringConstraints(max_length=50)]] = Field(max_length=50)


class ContactPointIn(Schema):
    kind: Literal["mobile", "phone", "email", "wechat", "qq", "other"]
    value: Annotated[str, StringConstraints(min_length=1, max_length=254)]
    label: Annotated[str, StringConstraints(max_length=50)] = ""
    is_primary: bool = False


class ContactPointOut(Schema):
    id: int
    kind: str
    value: str
    label: str
    is_primary: bool


class AddressIn(Schema):
    kind: Literal["home", "work", "billing", "shipping"] = "work"
    province: Annotated[str, StringConstraints(min_length=1, max_length=30)]
    city: Annotated[str, StringConstraints(max_length=50)] = ""
    district: Annotated[str, StringConstraints(max_length=50)] = ""
    street: Annotated[str, StringConstraints(max_length=200)] = ""
    postcode: Annotated[str, StringConstraints(max_length=12)] = ""
    is_primary: bool = False


class AddressOut(AddressIn):
    id: int


class ContactIn(Schema):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    role: Annotated[str, StringConstraints(max_length=100)] = ""
    department: Annotated[str, StringConstraints(max_length=100)] = ""
    phone: Annotated[str, StringConstraints(max_length=40)] = ""
    email: Annotated[str, StringConstraints(max_length=254)] = ""
    is_primary: bool = False


class ContactPatch(Schema):
    version: int = Field(..., ge=1, le=2**31)
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=100)] | None = None
    role: Annotated[str, StringConstraints(max_length=100)] | None = None
    department: Annotated[str, StringConstraints(max_length=100)] | None = None
    phone: Annotated[str, StringConstraints(max_length=40)] | None = None
    email: Annotated[str, StringConstraints(max_length=254)] | None = None
    is_primary: bool | None = None


class ContactOut(Schema):
    id: int
    organisation_id: int
    name: str
    role: str
    department: str
    phone: str
    email: str
    is_primary: bool
    version: int


class ConsentIn(Schema):
    channel: Literal["any", "email", "sms", "phone", "wechat", "mail"]
    purpose: Literal["marketing", "service", "profiling", "third_party"]
    granted: bool
    source: Annotated[str, StringConstraints(max_length=100)] = ""
    evidence: Annotated[str, StringConstraints(max_length=300)] = ""


class ConsentOut(Schema):
    id: int
    channel: str
    purpose: str
    granted: bool
    at: dt.datetime
    source: str
    evidence: str


class CustomerSummary(Schema):
    id: int
    kind: str
    name: str
    relation_kind: str
    owner_id: int
    team_id: int | None
    primary_phone: str
    primary_email: str
    province: str
    lifecycle_stage: str
    updated_at: dt.datetime
    version: int


class CustomerOut(CustomerSummary):
    consumer_type: str
    source_type: str
    source_channel: str
    source_cost: Decimal | None
    gender: str
    birth_date: dt.date | None
    id_number: str
    occupation: str
    income_band: str
    education: str
    marital_status: str
    family_size: int | None
    employer: str
    job_title: str
    interests: str
    purchase_motive: str
    personality: str
    lifestyle: str
    brand_attitude: str
    industry: str
    company_size: str
    relationship_type: str
    registration_number: str
    website: str
    notes: str
    purchase_intent: str
    intent_change_pct: int | None
    intent_from: dt.date | None
    created_at: dt.datetime
    tags: list[str]
    custom: dict[str, Any]
    contact_points: list[ContactPointOut]
    addresses: list[AddressOut]


class CustomerPage(Schema):
    items: list[CustomerSummary]
    next_cursor: str | None
    count: str = Field(description="rows matching, exact up to the limit, then 'N+'")


class TimelineEntry(Schema):
    id: int
    at: dt.datetime
    actor: str
    channel: str
    action: str
    model: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] | None = None


class ConflictOut(Schema):
    detail: str
    current: dict[str, Any] | None = None
    current_version: int | None = None
