"""Interactions and tasks built through the services (so every row passes the same rules)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from guanxi.core.access import Actor
from guanxi.interactions import services


def interaction(actor: Actor, customer_id: int, subject: str = "电话回访", **data):
    data.setdefault("channel", "phone")
    return services.interaction_create(actor=actor, customer_id=customer_id,
                                       data={"subject": subject, **data})


def task(actor: Actor, title: str = "回访客户", *, due_in: dt.timedelta = dt.timedelta(days=1),
         **data):
    data.setdefault("due_at", timezone.now() + due_in)
    return services.task_create(actor=actor, data={"title": title, **data})
