"""API input and output shapes for interactions, tasks and notifications (input and output
kept apart)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Schema
from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, model_validator

from guanxi.customers.schemas import ConflictOut, ErrorOut

__all__ = ["ConflictOut", "ErrorOut"]


def _sane(value: dt.datetime) -> dt.datetime:
    if not 1900 <= value.year <= 2200:
        raise ValueError("Give a time between the years 1900 and 2200.")
    return value


When = Annotated[AwareDatetime, AfterValidator(_sane)]
Id = Annotated[int, Field(ge=1, le=2**53)]
Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
ChannelT = Literal["face_to_face", "phone", "letter", "email", "website", "wechat", "social",
                   "sms", "app_push", "event", "fax"]


class InteractionFields(Schema):
    initiator: Literal["company", "customer"] | None = Field(
        None, description="who started it (default: company; customer when inbound)")
    direction: Literal["out", "in"] | None = Field(
        None, description="default: out; in when the customer started it")
    purpose: Literal["", "information", "emotion", "opinion"] | None = None
    body: Annotated[str, StringConstraints(max_length=20000)] | None = None
    outcome: Annotated[str, StringConstraints(max_length=300)] | None = None
    occurred_at: When | None = Field(None, description="default: now")
    follow_up_at: When | None = Field(None, description="adds a task for you, due then")
    duration_minutes: int | None = Field(None, ge=0, le=7 * 24 * 60)
    location: Annotated[str, StringConstraints(max_length=200)] | None = None
    contact_id: Id | None = Field(None, description="a contact person of this customer")


class InteractionIn(InteractionFields):
    channel: ChannelT
    subject: Subject


class InteractionPatch(InteractionFields):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    channel: ChannelT | None = None
    subject: Subject | None = None


class InteractionOut(Schema):
    id: int
    customer_id: int
    contact_id: int | None
    channel: str
    initiator: str
    direction: str
    purpose: str
    subject: str
    body: str
    outcome: str
    occurred_at: dt.datetime
    follow_up_at: dt.datetime | None
    duration_minutes: int | None
    location: str
    owner_id: int
    team_id: int | None
    email_message_id: str | None = Field(description="the Message-ID of mail sent or filed")
    email_address: str
    version: int
    created_at: dt.datetime


class InteractionPage(Schema):
    items: list[InteractionOut]
    next_cursor: str | None


class EmailIn(Schema):
    contact_point_id: Id | None = Field(None, description="one of the customer's email "
                                                        "contact points")
    contact_id: Id | None = Field(None, description="or a contact person with an email")
    subject: Subject
    body: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=50000)]

    @model_validator(mode="after")
    def _one_recipient(self) -> EmailIn:
        if (self.contact_point_id is None) == (self.contact_id is None):
            raise ValueError("Give contact_point_id or contact_id.")
        return self


class TaskFields(Schema):
    notes: Annotated[str, StringConstraints(max_length=10000)] | None = None
    assignee_id: Id | None = Field(None, description="default: you")
    remind_at: When | None = Field(None, description="default: when it falls due")


class TaskIn(TaskFields):
    title: Subject
    due_at: When
    customer_id: Id | None = None


class TaskPatch(TaskFields):
    version: int = Field(..., ge=1, le=2**31, description="the version you read")
    title: Subject | None = None
    due_at: When | None = None


class VersionIn(Schema):
    version: int | None = Field(None, ge=1, le=2**31,
                                description="the version you read (409 when stale)")


class TaskOut(Schema):
    id: int
    title: str
    notes: str
    customer_id: int | None
    interaction_id: int | None
    assignee_id: int
    team_id: int | None
    due_at: dt.datetime
    remind_at: dt.datetime | None
    done_at: dt.datetime | None
    is_overdue: bool
    created_by_id: int
    created_at: dt.datetime
    version: int


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class NotificationOut(Schema):
    id: int
    kind: str
    text: str
    url: str
    created_at: dt.datetime
    read_at: dt.datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None
    unread: int


class ReadAllOut(Schema):
    updated: int
