"""/api/v1/leads"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.api import actor_from
from guanxi.sales.queries import leads as queries
from guanxi.sales.schemas import (
    ERRORS,
    ConflictOut,
    ConvertIn,
    LeadIn,
    LeadOut,
    LeadPage,
    LoseIn,
    VersionIn,
)
from guanxi.sales.services import leads as services

router = Router(tags=["leads"])


@router.get("", response={200: LeadPage, **ERRORS}, summary="List leads")
def list_leads(request: HttpRequest, q: str = Query("", max_length=100),
               status: str = Query("", max_length=10),
               cursor: str | None = Query(None, max_length=500),
               limit: int = Query(50, ge=1, le=200)):
    p = queries.lead_list(actor=actor_from(request), cursor=cursor, limit=limit,
                          filters=queries.LeadFilters(q=q, status=status))
    return {"items": p.items, "next_cursor": p.next_cursor, "count": p.count_text}


@router.post("", response={201: LeadOut, **ERRORS}, summary="Capture a lead")
def create_lead(request: HttpRequest, payload: LeadIn):
    actor = actor_from(request)
    data = payload.model_dump(exclude={"marketing_consent", "consent_evidence"})
    lead = services.lead_create(actor=actor, data={k: v for k, v in data.items() if v},
                                consent=payload.marketing_consent,
                                consent_evidence=payload.consent_evidence or "API")
    return Status(201, queries.lead_get(actor=actor, lead_id=lead.pk))


@router.get("/{lead_id}", response={200: LeadOut, **ERRORS})
def get_lead(request: HttpRequest, lead_id: int):
    return queries.lead_get(actor=actor_from(request), lead_id=lead_id)


@router.post("/{lead_id}/qualify", response={200: LeadOut, 409: ConflictOut, **ERRORS})
def qualify(request: HttpRequest, lead_id: int, payload: VersionIn):
    actor = actor_from(request)
    services.lead_qualify(actor=actor, lead_id=lead_id, version=payload.version)
    return queries.lead_get(actor=actor, lead_id=lead_id)


@router.post("/{lead_id}/lose", response={200: LeadOut, 409: ConflictOut, **ERRORS})
def lose(request: HttpRequest, lead_id: int, payload: LoseIn):
    actor = actor_from(request)
    services.lead_lose(actor=actor, lead_id=lead_id, version=payload.version,
                       reason=payload.reason)
    return queries.lead_get(actor=actor, lead_id=lead_id)


@router.post("/{lead_id}/convert", response={200: LeadOut, 409: ConflictOut, **ERRORS},
             summary="Convert to customer (+ contact, + opportunity) in one step")
def convert(request: HttpRequest, lead_id: int, payload: ConvertIn):
    actor = actor_from(request)
    services.lead_convert(actor=actor, lead_id=lead_id, version=payload.version,
                          customer_id=payload.customer_id,
                          opportunity={"amount": payload.amount} if payload.opportunity
                          else None)
    return queries.lead_get(actor=actor, lead_id=lead_id)
