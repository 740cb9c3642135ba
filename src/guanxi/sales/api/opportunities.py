"""/api/v1/opportunities"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.api import actor_from
from guanxi.sales.queries import opportunities as queries
from guanxi.sales.schemas import (
    ERRORS,
    ConflictOut,
    MoveIn,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
)
from guanxi.sales.services import opportunities as services

router = Router(tags=["opportunities"])


@router.get("", response={200: OpportunityPage, **ERRORS}, summary="List opportunities")
def list_opportunities(request: HttpRequest, q: str = Query("", max_length=100),
                       status: str = Query("", max_length=5),
                       stage: int | None = Query(None, ge=1, le=2**53),
                       customer: int | None = Query(None, ge=1, le=2**53),
                       cursor: str | None = Query(None, max_length=500),
                       limit: int = Query(50, ge=1, le=200)):
    p = queries.opportunity_list(
        actor=actor_from(request), cursor=cursor, limit=limit,
        filters=queries.OpportunityFilters(q=q, status=status, stage=stage, customer=customer))
    return {"items": p.items, "next_cursor": p.next_cursor, "count": p.count_text}


@router.post("", response={201: OpportunityOut, **ERRORS})
def create_opportunity(request: HttpRequest, payload: OpportunityIn):
    actor = actor_from(request)
    o = services.opportunity_create(actor=actor, data=payload.model_dump(exclude_none=True))
    return Status(201, queries.opportunity_get(actor=actor, opportunity_id=o.pk))


@router.get("/{opportunity_id}", response={200: OpportunityOut, **ERRORS})
def get_opportunity(request: HttpRequest, opportunity_id: int):
    return queries.opportunity_get(actor=actor_from(request), opportunity_id=opportunity_id)


@router.patch("/{opportunity_id}", response={200: OpportunityOut, 409: ConflictOut, **ERRORS})
def update_opportunity(request: HttpRequest, opportunity_id: int, payload: OpportunityPatch):
    actor = actor_from(request)
    services.opportunity_update(actor=actor, opportunity_id=opportunity_id,
                                version=payload.version,
                                changes=payload.model_dump(exclude_unset=True,
                                                           exclude={"version"}))
    return queries.opportunity_get(actor=actor, opportunity_id=opportunity_id)


@router.post("/{opportunity_id}/move", response={200: OpportunityOut, 409: ConflictOut,
                                                 **ERRORS},
             summary="Move to a stage (won and lost stages close it)")
def move(request: HttpRequest, opportunity_id: int, payload: MoveIn):
    actor = actor_from(request)
    services.opportunity_move(actor=actor, opportunity_id=opportunity_id,
                              stage_id=payload.stage, version=payload.version,
                              reason=payload.reason)
    return queries.opportunity_get(actor=actor, opportunity_id=opportunity_id)
