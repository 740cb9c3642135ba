"""/api/v1/customers: thin handlers, one service or query each."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from guanxi.core.api import actor_from
from guanxi.customers import queries, services
from guanxi.customers.schemas import (
    AddressIn,
    AddressOut,
    ConflictOut,
    ConsentIn,
    ConsentOut,
    ContactIn,
    ContactOut,
    ContactPatch,
    ContactPointIn,
    ContactPointOut,
    CustomerIn,
    CustomerOut,
    CustomerPage,
    CustomerPatch,
    CustomerSummary,
    ErrorOut,
    TagsIn,
    TimelineEntry,
)

router = Router(tags=["customers"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ListParams(Schema):
    q: str = Field("", max_length=100, description="name, pinyin, initials, phone or email")
    kind: str = Field("", max_length=20)
    relation_kind: str = Field("", max_length=20)
    owner: int | None = Field(None, ge=1, le=2**53)
    team: int | None = Field(None, ge=1, le=2**53)
    tag: str = Field("", max_length=50)
    province: str = Field("", max_length=30)
    source_type: str = Field("", max_length=10)
    source_channel: str = Field("", max_length=20)
    lifecycle_stage: str = Field("", max_length=12)
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    sort: str = Field("-id", description="-id, id, name, -name, -updated, updated")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


def _out(c) -> dict:
    data = {f: getattr(c, f) for f in CustomerOut.model_fields if hasattr(c, f)}
    data["owner_id"], data["team_id"] = c.owner_id, c.team_id
    data["tags"] = [t.name for t in c.tags.all()]
    custom: dict = {}
    for v in c.custom_values.all():
        if v.field.type == "multi":
            custom.setdefault(v.field.code, []).append(v.text)
        else:
            custom[v.field.code] = v.display()
    data["custom"] = custom
    data["contact_points"] = list(c.contact_points.all())
    data["addresses"] = list(c.addresses.all())
    return data


def _filters(p: ListParams, request: HttpRequest) -> queries.CustomerFilters:
    custom = {k[3:]: v for k, v in request.GET.items() if k.startswith("cf_") and v}
    return queries.CustomerFilters(
        q=p.q, kind=p.kind, relation_kind=p.relation_kind, owner=p.owner, team=p.team,
        tag=p.tag, province=p.province, source_type=p.source_type,
        source_channel=p.source_channel, lifecycle_stage=p.lifecycle_stage,
        created_from=p.created_from, created_to=p.created_to, custom=custom)


@router.get("", response={200: CustomerPage, **ERRORS}, summary="List customers")
def list_customers(request: HttpRequest, params: Query[ListParams]):
    """Customers you may see, newest first; follow ``next_cursor`` for the next page.
    Custom fields filter as ``cf_<code>=value``."""
    page = queries.customer_list(actor=actor_from(request), filters=_filters(params, request),
                                 sort=params.sort, cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor, "count": page.count_text}


@router.get("/search", response={200: list[CustomerSummary], **ERRORS},
            summary="Quick search")
def search_customers(request: HttpRequest, q: str = Query(..., min_length=1, max_length=100),
                     limit: int = Query(20, ge=1, le=50)):
    return queries.customer_search(actor=actor_from(request), term=q, limit=limit)


@router.post("", response={201: CustomerOut, **ERRORS}, summary="Create a customer")
def create_customer(request: HttpRequest, payload: CustomerIn):
    actor = actor_from(request)
    data = payload.model_dump(exclude_none=True,
                              exclude={"custom", "phones", "emails", "tags", "name", "kind"})
    data.update(name=payload.name, kind=payload.kind)
    from django.db import transaction

    with transaction.atomic():
        c = services.customer_create(actor=actor, data=data, custom=payload.custom,
                                     tags=payload.tags)
        for i, phone in enumerate(payload.phones):
            services.contact_point_add(actor=actor, customer_id=c.pk, kind="mobile",
                                       value=phone, is_primary=i == 0)
        for i, email in enumerate(payload.emails):
            services.contact_point_add(actor=actor, customer_id=c.pk, kind="email",
                                       value=email, is_primary=i == 0)
    return Status(201, _out(queries.customer_get(actor=actor, customer_id=c.pk)))


@router.get("/{customer_id}", response={200: CustomerOut, **ERRORS}, summary="One customer")
def get_customer(request: HttpRequest, customer_id: int):
    return _out(queries.customer_get(actor=actor_from(request), customer_id=customer_id))


@router.patch("/{customer_id}", response={200: CustomerOut, 409: ConflictOut, **ERRORS},
              summary="Change a customer")
def update_customer(request: HttpRequest, customer_id: int, payload: CustomerPatch):
    """Send the ``version`` you read; a stale version answers 409 with the current state."""
    actor = actor_from(request)
    changes = payload.model_dump(exclude_unset=True, exclude={"version", "custom"})
    services.customer_update(actor=actor, customer_id=customer_id, version=payload.version,
                             changes=changes, custom=payload.custom)
    return _out(queries.customer_get(actor=actor, customer_id=customer_id))


@router.delete("/{customer_id}", response={204: None, 409: ConflictOut, **ERRORS},
               summary="Delete a customer")
def delete_customer(request: HttpRequest, customer_id: int,
                    version: int | None = Query(None, ge=1, le=2**31)):
    services.customer_delete(actor=actor_from(request), customer_id=customer_id,
                             version=version)
    return Status(204, None)


@router.put("/{customer_id}/tags", response={200: list[str], **ERRORS}, summary="Set tags")
def set_tags(request: HttpRequest, customer_id: int, payload: TagsIn):
    actor = actor_from(request)
    services.customer_set_tags(actor=actor, customer_id=customer_id, tags=payload.tags)
    return [t.name for t in queries.customer_get(actor=actor, customer_id=customer_id)
            .tags.all()]


@router.get("/{customer_id}/timeline", response={200: list[TimelineEntry], **ERRORS},
            summary="The customer's history")
def timeline(request: HttpRequest, customer_id: int,
             before_id: int | None = Query(None, ge=1, le=2**53),
             limit: int = Query(50, ge=1, le=200)):
    rows = queries.customer_timeline(actor=actor_from(request), customer_id=customer_id,
                                     before_id=before_id, limit=limit)
    return [{"id": r.id, "at": r.at, "actor": r.actor_label, "channel": r.channel,
             "action": r.action, "model": r.model, "object_id": r.object_id,
             "object_repr": r.object_repr, "changes": r.changes} for r in rows]


@router.get("/{customer_id}/contact-points", response={200: list[ContactPointOut], **ERRORS})
def list_points(request: HttpRequest, customer_id: int):
    return list(queries.customer_get(actor=actor_from(request), customer_id=customer_id)
                .contact_points.all())


@router.post("/{customer_id}/contact-points", response={201: ContactPointOut, **ERRORS})
def add_point(request: HttpRequest, customer_id: int, payload: ContactPointIn):
    actor = actor_from(request)
    p = services.contact_point_add(actor=actor, customer_id=customer_id, **payload.model_dump())
    return Status(201, queries.contact_point_get(actor=actor, point_id=p.pk))


@router.delete("/{customer_id}/contact-points/{point_id}", response={204: None, **ERRORS})
def remove_point(request: HttpRequest, customer_id: int, point_id: int):
    actor = actor_from(request)
    point = queries.contact_point_get(actor=actor, point_id=point_id)
    if point.customer_id != customer_id:
        from guanxi.core.exceptions import NotFound

        raise NotFound("contact point not found")
    services.contact_point_remove(actor=actor, point_id=point_id)
    return Status(204, None)


@router.get("/{customer_id}/addresses", response={200: list[AddressOut], **ERRORS})
def list_addresses(request: HttpRequest, customer_id: int):
    return list(queries.customer_get(actor=actor_from(request), customer_id=customer_id)
                .addresses.all())


@router.post("/{customer_id}/addresses", response={201: AddressOut, **ERRORS})
def add_address(request: HttpRequest, customer_id: int, payload: AddressIn):
    actor = actor_from(request)
    a = services.address_add(actor=actor, customer_id=customer_id, data=payload.model_dump())
    return Status(201, queries.address_get(actor=actor, address_id=a.pk))


@router.get("/{customer_id}/contacts", response={200: list[ContactOut], **ERRORS})
def list_contacts(request: HttpRequest, customer_id: int):
    return queries.contacts_of(actor=actor_from(request), customer_id=customer_id)


@router.post("/{customer_id}/contacts", response={201: ContactOut, **ERRORS})
def add_contact(request: HttpRequest, customer_id: int, payload: ContactIn):
    actor = actor_from(request)
    c = services.contact_create(actor=actor, customer_id=customer_id, data=payload.model_dump())
    return Status(201, queries.contact_get(actor=actor, contact_id=c.pk))


@router.patch("/contacts/{contact_id}", response={200: ContactOut, 409: ConflictOut, **ERRORS})
def update_contact(request: HttpRequest, contact_id: int, payload: ContactPatch):
    actor = actor_from(request)
    services.contact_update(actor=actor, contact_id=contact_id, version=payload.version,
                            changes=payload.model_dump(exclude_unset=True, exclude={"version"}))
    return queries.contact_get(actor=actor, contact_id=contact_id)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS})
def delete_contact(request: HttpRequest, contact_id: int):
    actor = actor_from(request)
    queries.contact_get(actor=actor, contact_id=contact_id)
    services.contact_delete(actor=actor, contact_id=contact_id)
    return Status(204, None)


@router.get("/{customer_id}/consents", response={200: list[ConsentOut], **ERRORS},
            summary="Consent history (newest first)")
def list_consents(request: HttpRequest, customer_id: int):
    return queries.consent_history(actor=actor_from(request), customer_id=customer_id)


@router.post("/{customer_id}/consents", response={201: ConsentOut, **ERRORS},
             summary="Record consent granted or withdrawn")
def add_consent(request: HttpRequest, customer_id: int, payload: ConsentIn):
    c = services.consent_record(actor=actor_from(request), customer_id=customer_id,
                                **payload.model_dump())
    return Status(201, c)
