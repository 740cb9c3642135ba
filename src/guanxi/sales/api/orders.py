"""/api/v1/orders: thin handlers, one service or query each."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import Field

from guanxi.core.api import actor_from
from guanxi.core.exceptions import ValidationError
from guanxi.customers.schemas import ConflictOut, ErrorOut
from guanxi.sales.queries import orders as queries
from guanxi.sales.schemas_orders import (
    ImportJobOut,
    ImportOut,
    OrderImportIn,
    OrderIn,
    OrderOut,
    OrderPage,
    OrderPatch,
    ReturnIn,
    ReturnOut,
    job_out,
)
from guanxi.sales.services import orders as services

router = Router(tags=["orders"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ListParams(Schema):
    q: str = Field("", max_length=100, description="order number (prefix, SO-...) or "
                                                   "external id")
    customer: int | None = Field(None, ge=1, le=2**53)
    status: str = Field("", max_length=20)
    payment_status: str = Field("", max_length=20)
    source: str = Field("", max_length=30)
    ordered_from: dt.date | None = None
    ordered_to: dt.date | None = None
    sort: str = Field("-ordered", description="-ordered, ordered, -id, id")
    cursor: str | None = Field(None, max_length=500)
    limit: int = Field(50, ge=1, le=200)


@router.get("", response={200: OrderPage, **ERRORS}, summary="List orders")
def list_orders(request: HttpRequest, params: Query[ListParams]):
    """Orders you may see, newest first; follow ``next_cursor`` for the next page."""
    filters = queries.OrderFilters(
        q=params.q, customer=params.customer, status=params.status,
        payment_status=params.payment_status, source=params.source,
        ordered_from=params.ordered_from, ordered_to=params.ordered_to)
    page = queries.order_list(actor=actor_from(request), filters=filters, sort=params.sort,
                              cursor=params.cursor, limit=params.limit)
    return {"items": page.items, "next_cursor": page.next_cursor, "count": page.count_text}


@router.post("", response={201: OrderOut, 200: OrderOut, **ERRORS}, summary="Create an order")
def create_order(request: HttpRequest, payload: OrderIn):
    """Totals, tax and the CNY value are computed. With a ``source`` and ``external_id``
    already on file the existing order comes back with 200 and nothing is written."""
    actor = actor_from(request)
    data = payload.model_dump()
    data["lines"] = [dict(line) for line in data["lines"]]
    order = services.order_create(actor=actor, **data)
    body = queries.order_get(actor=actor, order_id=order.pk)
    return Status(201 if order.created else 200, body)


@router.post("/import", response={200: ImportOut, **ERRORS}, summary="Import orders")
def import_orders(request: HttpRequest, payload: OrderImportIn):
    """Orders from an ERP or a shop, up to 1,000 a request. Orders already on file (same
    ``source`` and ``external_id``) are skipped, never counted twice, so a batch may be sent
    again after a timeout. Orders with errors are listed and not written (all of them with
    ``atomic``)."""
    result = services.orders_import(actor=actor_from(request), rows=payload.orders,
                                    atomic=payload.atomic)
    return {"created": result.created, "skipped": result.skipped, "errors": result.errors,
            "results": result.results}


@router.post("/import-csv", response={202: ImportJobOut, **ERRORS},
             summary="Import a CSV file of orders")
def import_orders_csv(request: HttpRequest, file: File[UploadedFile]):
    """Queue the import of a CSV file (columns in docs/orders.md); poll
    ``/orders/import-jobs/{job_id}`` for progress and errors (line and column)."""
    actor = actor_from(request)
    if file.size and file.size > services.MAX_CSV_BYTES:
        raise ValidationError({"file": [f"The file is larger than "
                                        f"{services.MAX_CSV_BYTES // (1024 * 1024)} MB."]})
    job = services.order_import_job_create(actor=actor, content=file.read(),
                                           filename=file.name or "")
    return Status(202, job_out(queries.import_job_get(actor=actor, job_id=job.pk)))


@router.get("/import-jobs/{job_id}", response={200: ImportJobOut, **ERRORS},
            summary="Progress of a CSV import")
def import_job(request: HttpRequest, job_id: int):
    return job_out(queries.import_job_get(actor=actor_from(request), job_id=job_id))


@router.get("/{order_id}", response={200: OrderOut, **ERRORS}, summary="One order")
def get_order(request: HttpRequest, order_id: int):
    return queries.order_get(actor=actor_from(request), order_id=order_id)


@router.patch("/{order_id}", response={200: OrderOut, 409: ConflictOut, **ERRORS},
              summary="Change an order's status or payment status")
def update_order(request: HttpRequest, order_id: int, payload: OrderPatch):
    """Send the ``version`` you read; a stale version answers 409 with the current state.
    ``status: cancelled`` cancels the order (``reason`` goes into the audit trail)."""
    actor = actor_from(request)
    services.order_update(actor=actor, order_id=order_id, version=payload.version,
                          status=payload.status, payment_status=payload.payment_status,
                          reason=payload.reason)
    return queries.order_get(actor=actor, order_id=order_id)


@router.post("/{order_id}/returns", response={201: ReturnOut, **ERRORS},
             summary="Record a return or a refund")
def create_return(request: HttpRequest, order_id: int, payload: ReturnIn):
    """At most the order's total less earlier returns; a re-sent ``external_id`` returns
    the record already made."""
    return Status(201, services.return_create(actor=actor_from(request), order_id=order_id,
                                              **payload.model_dump()))
