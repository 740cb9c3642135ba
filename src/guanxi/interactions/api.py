"""/api/v1/interactions: interactions per customer, email, tasks, notifications. Thin
handlers, one service or query each."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Status

from guanxi.core.api import actor_from
from guanxi.interactions import mail, queries, services
from guanxi.interactions.schemas import (
    ConflictOut,
    EmailIn,
    ErrorOut,
    InteractionIn,
    InteractionOut,
    InteractionPage,
    InteractionPatch,
    NotificationOut,
    NotificationPage,
    ReadAllOut,
    TaskIn,
    TaskOut,
    TaskPage,
    TaskPatch,
    VersionIn,
)

router = Router(tags=["interactions"])
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
Cursor = Query(None, max_length=500)
Limit = Query(50, ge=1, le=200)
_RENAMES = {"contact_id": "contact", "assignee_id": "assignee", "customer_id": "customer"}


def _data(payload, **kwargs) -> dict:
    return {_RENAMES.get(k, k): v for k, v in payload.model_dump(**kwargs).items()}


# Tasks and notifications first: their literal paths precede /{interaction_id}.

@router.get("/tasks", response={200: TaskPage, **ERRORS}, summary="List tasks")
def list_tasks(request: HttpRequest,
               view: Literal["mine", "team", "overdue", "done"] = Query("mine"),
               customer_id: int | None = Query(None, ge=1, le=2**53),
               cursor: str | None = Cursor, limit: int = Limit):
    """``mine``: open tasks assigned to you; ``team``: your team's open tasks; ``overdue``:
    open and past due, all you may see; ``done``: yours, newest first."""
    page = queries.task_list(actor=actor_from(request), view=view, customer_id=customer_id,
                             cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/tasks", response={201: TaskOut, **ERRORS}, summary="Create a task")
def create_task(request: HttpRequest, payload: TaskIn):
    """Assigned to you unless ``assignee_id`` names someone inside your ``change`` scope."""
    actor = actor_from(request)
    t = services.task_create(actor=actor, data=_data(payload, exclude_none=True))
    return Status(201, queries.task_get(actor=actor, task_id=t.pk))


@router.get("/tasks/{task_id}", response={200: TaskOut, **ERRORS}, summary="One task")
def get_task(request: HttpRequest, task_id: int):
    return queries.task_get(actor=actor_from(request), task_id=task_id)


@router.patch("/tasks/{task_id}", response={200: TaskOut, 409: ConflictOut, **ERRORS},
              summary="Change a task")
def update_task(request: HttpRequest, task_id: int, payload: TaskPatch):
    """Send the ``version`` you read; a stale version answers 409 with the current state."""
    actor = actor_from(request)
    services.task_update(actor=actor, task_id=task_id, version=payload.version,
                         changes=_data(payload, exclude_unset=True, exclude={"version"}))
    return queries.task_get(actor=actor, task_id=task_id)


@router.post("/tasks/{task_id}/complete", response={200: TaskOut, 409: ConflictOut, **ERRORS},
             summary="Mark a task done")
def complete_task(request: HttpRequest, task_id: int, payload: VersionIn | None = None):
    actor = actor_from(request)
    services.task_complete(actor=actor, task_id=task_id,
                           version=payload.version if payload else None)
    return queries.task_get(actor=actor, task_id=task_id)


@router.post("/tasks/{task_id}/reopen", response={200: TaskOut, 409: ConflictOut, **ERRORS},
             summary="Open a done task again")
def reopen_task(request: HttpRequest, task_id: int, payload: VersionIn | None = None):
    actor = actor_from(request)
    services.task_reopen(actor=actor, task_id=task_id,
                         version=payload.version if payload else None)
    return queries.task_get(actor=actor, task_id=task_id)


@router.get("/notifications", response={200: NotificationPage, **ERRORS},
            summary="Your notifications")
def list_notifications(request: HttpRequest, unread: bool = Query(False),
                       cursor: str | None = Cursor, limit: int = Limit):
    actor = actor_from(request)
    page = queries.notification_list(actor=actor, unread_only=unread, cursor=cursor,
                                     limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor,
            "unread": queries.unread_count(actor=actor)}


@router.post("/notifications/read-all", response={200: ReadAllOut, **ERRORS},
             summary="Mark all your notifications read")
def read_all_notifications(request: HttpRequest):
    return {"updated": services.notifications_mark_all_read(actor=actor_from(request))}


@router.post("/notifications/{notification_id}/read",
             response={200: NotificationOut, **ERRORS}, summary="Mark a notification read")
def read_notification(request: HttpRequest, notification_id: int):
    return services.notification_mark_read(actor=actor_from(request),
                                           notification_id=notification_id)


# Interactions ---------------------------------------------------------------------------

@router.get("/customers/{customer_id}", response={200: InteractionPage, **ERRORS},
            summary="A customer's interactions")
def list_interactions(request: HttpRequest, customer_id: int,
                      channel: Literal["face_to_face", "phone", "letter", "email", "website",
                                       "wechat", "social", "sms", "app_push", "event",
                                       "fax"] | None = Query(None),
                      cursor: str | None = Cursor, limit: int = Limit):
    """Newest first; follow ``next_cursor`` for older ones."""
    page = queries.interaction_list(actor=actor_from(request), customer_id=customer_id,
                                    channel=channel or "", cursor=cursor, limit=limit)
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.post("/customers/{customer_id}", response={201: InteractionOut, **ERRORS},
             summary="Log an interaction")
def create_interaction(request: HttpRequest, customer_id: int, payload: InteractionIn):
    """Needs ``change`` on the customer. A ``follow_up_at`` adds a task for you."""
    actor = actor_from(request)
    i = services.interaction_create(actor=actor, customer_id=customer_id,
                                    data=_data(payload, exclude_none=True))
    return Status(201, queries.interaction_get(actor=actor, interaction_id=i.pk))


@router.post("/customers/{customer_id}/emails",
             response={201: InteractionOut, 502: ErrorOut, **ERRORS},
             summary="Send an email to a customer")
def send_email(request: HttpRequest, customer_id: int, payload: EmailIn):
    """Sends through the mail server (SMTP) and logs an outbound email interaction with its
    Message-ID; replies are filed on the customer by the mail fetch. 502 when the mail
    server refuses."""
    actor = actor_from(request)
    key = (f"cp:{payload.contact_point_id}" if payload.contact_point_id
           else f"contact:{payload.contact_id}")
    try:
        i = services.email_send(actor=actor, customer_id=customer_id, to=key,
                                subject=payload.subject, body=payload.body)
    except mail.MailError as exc:
        return Status(502, {"detail": f"The mail server did not accept the message: {exc}"})
    return Status(201, queries.interaction_get(actor=actor, interaction_id=i.pk))


@router.get("/{interaction_id}", response={200: InteractionOut, **ERRORS},
            summary="One interaction")
def get_interaction(request: HttpRequest, interaction_id: int):
    return queries.interaction_get(actor=actor_from(request), interaction_id=interaction_id)


@router.patch("/{interaction_id}", response={200: InteractionOut, 409: ConflictOut, **ERRORS},
              summary="Change an interaction")
def update_interaction(request: HttpRequest, interaction_id: int, payload: InteractionPatch):
    """Send the ``version`` you read; a stale version answers 409 with the current state."""
    actor = actor_from(request)
    services.interaction_update(actor=actor, interaction_id=interaction_id,
                                version=payload.version,
                                changes=_data(payload, exclude_unset=True, exclude={"version"}))
    return queries.interaction_get(actor=actor, interaction_id=interaction_id)
