"""/api/v1/quotes: thin handlers, one service or query each."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from guanxi.core.access import Actor
from guanxi.core.api import actor_from
from guanxi.sales.queries import quotes as queries
from guanxi.sales.schemas_quotes import (
    ConflictOut,
    ErrorOut,
    QuoteIn,
    QuoteOut,
    QuotePage,
    QuotePatch,
    RejectIn,
    ToOrderOut,
    VersionIn,
)
from guanxi.sales.services import quotes as services

router = Router(tags=["quotes"])
MAX_ID = 2**53
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ConflictOut,
          422: ErrorOut}


class ListParams(Schema):
    q: str = Field("", max_length=100, description="number prefix or customer name")
    status: str = Field("", max_length=10, description="draft, pending, approved, rejected, "
                                                       "sent, accepted, ordered")
    customer: int | None = Field(None, ge=1, le=2**53)
    owner: int | None = Field(None, ge=1, le=2**53)
    team: int | None = Field(None, ge=1, le=2**53)
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    awaiting_my_approval: bool = False
    sort: str = Field("-id", description="-id (newest first) or id")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


def _summary(q) -> dict:
    return {"id": q.pk, "number": q.number, "customer_id": q.customer_id,
            "customer_name": q.customer.name, "status": q.status, "currency": q.currency,
            "issued_on": q.issued_on, "valid_until": q.valid_until, "total": q.total,
            "owner_id": q.owner_id, "team_id": q.team_id, "version": q.version}


def _out(actor: Actor, quote_id: int) -> dict:
    q = queries.quote_get(actor=actor, quote_id=quote_id)
    lines = []
    for ln in q.lines.all():
        a = services.line_amounts(ln.quantity, ln.unit_price, ln.discount, ln.tax_rate)
        lines.append({"id": ln.pk, "product_id": ln.product_id, "description": ln.description,
                      "quantity": ln.quantity, "unit_price": ln.unit_price,
                      "discount": ln.discount, "tax_rate": ln.tax_rate, "net": a.net,
                      "tax": a.tax})
    return {**_summary(q), "opportunity_id": q.opportunity_id,
            "price_list_id": q.price_list_id, "subtotal": q.subtotal,
            "discount_total": q.discount_total, "tax_total": q.tax_total,
            "max_discount": q.max_discount,
            "needs_approval": services.needs_approval(q.max_discount), "notes": q.notes,
            "rejection_reason": q.rejection_reason,
            "approved_by_id": q.approved_by_id, "approved_at": q.approved_at,
            "created_at": q.created_at, "lines": lines,
            "order_ids": [o.pk for o in queries.quote_orders(actor=actor, quote=q)]}


@router.get("", response={200: QuotePage, **ERRORS}, summary="List quotes")
def list_quotes(request: HttpRequest, params: Query[ListParams]):
    """Quotes you may see, newest first; follow ``next_cursor`` for the next page.
    ``awaiting_my_approval=true`` lists the pending quotes you may approve."""
    f = queries.QuoteFilters(q=params.q, status=params.status, customer=params.customer,
                             owner=params.owner, team=params.team,
                             issued_from=params.issued_from, issued_to=params.issued_to,
                             awaiting_my_approval=params.awaiting_my_approval)
    page = queries.quote_list(actor=actor_from(request), filters=f, sort=params.sort,
                              cursor=params.cursor, limit=params.limit)
    return {"items": [_summary(q) for q in page.items], "next_cursor": page.next_cursor,
            "count": page.count_text}


@router.post("", response={201: QuoteOut, **ERRORS}, summary="Create a quote")
def create_quote(request: HttpRequest, payload: QuoteIn):
    """A draft quote for a customer you may see, owned by you. Product lines without a
    unit price take the price list's price (else the product's list price)."""
    actor = actor_from(request)
    q = services.quote_create(
        actor=actor, customer_id=payload.customer, price_list_id=payload.price_list,
        opportunity_id=payload.opportunity, valid_until=payload.valid_until,
        notes=payload.notes, lines=[ln.model_dump() for ln in payload.lines])
    return Status(201, _out(actor, q.pk))


@router.get("/{quote_id}", response={200: QuoteOut, **ERRORS}, summary="One quote")
def get_quote(request: HttpRequest, quote_id: int = Path(..., ge=1, le=MAX_ID)):
    return _out(actor_from(request), quote_id)


@router.patch("/{quote_id}", response={200: QuoteOut, **ERRORS}, summary="Change a quote")
def update_quote(request: HttpRequest, payload: QuotePatch,
                 quote_id: int = Path(..., ge=1, le=MAX_ID)):
    """Send the ``version`` you read; a stale version answers 409 with the current state.
    ``lines``, when given, replace all lines. A pending, approved or rejected quote goes
    back to draft."""
    actor = actor_from(request)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "lines"})
    lines = ([ln.model_dump() for ln in payload.lines] if payload.lines is not None else None)
    services.quote_update(actor=actor, quote_id=quote_id, version=payload.version,
                          changes=changes, lines=lines)
    return _out(actor, quote_id)


@router.post("/{quote_id}/submit", response={200: QuoteOut, **ERRORS},
             summary="Submit a draft quote")
def submit_quote(request: HttpRequest, payload: VersionIn,
                 quote_id: int = Path(..., ge=1, le=MAX_ID)):
    """Approved at once when no line's discount is above the threshold; otherwise pending
    until a manager approves it."""
    actor = actor_from(request)
    services.quote_submit(actor=actor, quote_id=quote_id, version=payload.version)
    return _out(actor, quote_id)


@router.post("/{quote_id}/approve", response={200: QuoteOut, **ERRORS},
             summary="Approve a pending quote")
def approve_quote(request: HttpRequest, payload: VersionIn,
                  quote_id: int = Path(..., ge=1, le=MAX_ID)):
    """Needs the ``approve`` permission on the quote; nobody approves their own quote."""
    actor = actor_from(request)
    services.quote_approve(actor=actor, quote_id=quote_id, version=payload.version)
    return _out(actor, quote_id)


@router.post("/{quote_id}/reject", response={200: QuoteOut, **ERRORS},
             summary="Reject a pending quote")
def reject_quote(request: HttpRequest, payload: RejectIn,
                 quote_id: int = Path(..., ge=1, le=MAX_ID)):
    """Needs the ``approve`` permission on the quote. The ``reason`` is shown to the owner
    as ``rejection_reason`` until the quote is edited (back to draft)."""
    actor = actor_from(request)
    services.quote_reject(actor=actor, quote_id=quote_id, version=payload.version,
                          reason=payload.reason)
    return _out(actor, quote_id)


@router.post("/{quote_id}/send", response={200: QuoteOut, **ERRORS},
             summary="Mark an approved quote as sent")
def send_quote(request: HttpRequest, payload: VersionIn,
               quote_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = actor_from(request)
    services.quote_mark_sent(actor=actor, quote_id=quote_id, version=payload.version)
    return _out(actor, quote_id)


@router.post("/{quote_id}/accept", response={200: QuoteOut, **ERRORS},
             summary="Record the customer's acceptance")
def accept_quote(request: HttpRequest, payload: VersionIn,
                 quote_id: int = Path(..., ge=1, le=MAX_ID)):
    actor = actor_from(request)
    services.quote_accept(actor=actor, quote_id=quote_id, version=payload.version)
    return _out(actor, quote_id)


@router.post("/{quote_id}/to-order", response={201: ToOrderOut, **ERRORS},
             summary="Turn a quote into an order")
def quote_to_order(request: HttpRequest, payload: VersionIn,
                   quote_id: int = Path(..., ge=1, le=MAX_ID)):
    """An approved, sent or accepted quote becomes a confirmed order; the quote is then
    ``ordered``."""
    actor = actor_from(request)
    order = services.quote_to_order(actor=actor, quote_id=quote_id, version=payload.version)
    return Status(201, {"order_id": order.pk, "order_number": order.number,
                        "quote": _out(actor, quote_id)})
