"""Sales entries on the customer's timeline: opportunities, quotes, orders."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext as _

from guanxi.core.access import Actor, policy
from guanxi.core.timeline import Entry
from guanxi.sales.models import Opportunity, Order, Quote


def _orders(actor: Actor, customer_id: int, limit: int,
            before: dt.datetime | None) -> list[Entry]:
    qs = Order.objects.filter(customer_id=customer_id)
    if before is not None:
        qs = qs.filter(ordered_at__lt=before)
    rows = policy.scope(qs, actor).order_by("-ordered_at")[:limit]
    return [Entry(at=o.ordered_at, kind="order", icon="shopping-cart",
                  title=_("Order %(number)s: %(total)s %(currency)s") % {
                      "number": o.number, "total": o.total, "currency": o.currency},
                  channel=o.source, url=reverse("order_detail", args=[o.pk]),
                  body=o.get_status_display()) for o in rows]


def _opportunities(actor: Actor, customer_id: int, limit: int,
                   before: dt.datetime | None) -> list[Entry]:
    """Opportunities on the day they were opened."""
    qs = Opportunity.objects.filter(customer_id=customer_id)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = (policy.scope(qs, actor).select_related("stage", "owner")
            .order_by("-created_at", "-id")[:limit])
    return [Entry(at=o.created_at, kind="opportunity", icon="target",
                  title=_("Opportunity %(name)s") % {"name": o.name},
                  actor=str(o.owner), url=reverse("opportunity_detail", args=[o.pk]),
                  body=f"{o.stage} · {o.amount} {o.currency}") for o in rows]


def _opportunity_closings(actor: Actor, customer_id: int, limit: int,
                          before: dt.datetime | None) -> list[Entry]:
    """Opportunities on the day they were won or lost (a provider of its own: each returns
    its newest entries, and a closing can be far newer than the opening)."""
    qs = Opportunity.objects.filter(customer_id=customer_id, closed_at__isnull=False)
    if before is not None:
        qs = qs.filter(closed_at__lt=before)
    rows = policy.scope(qs, actor).order_by("-closed_at", "-id")[:limit]
    return [Entry(at=o.closed_at, kind="opportunity", icon="flag",
                  title=_("Opportunity %(name)s %(status)s") % {
                      "name": o.name, "status": o.get_status_display()},
                  url=reverse("opportunity_detail", args=[o.pk])) for o in rows]


def _quotes(actor: Actor, customer_id: int, limit: int,
            before: dt.datetime | None) -> list[Entry]:
    qs = Quote.objects.filter(customer_id=customer_id)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    rows = policy.scope(qs, actor).order_by("-created_at")[:limit]
    return [Entry(at=q.created_at, kind="quote", icon="file-invoice",
                  title=_("Quote %(number)s: %(total)s %(currency)s") % {
                      "number": q.number, "total": q.total, "currency": q.currency},
                  url=reverse("quote_detail", args=[q.pk]), body=q.get_status_display())
            for q in rows]


PROVIDERS = {"order": _orders, "opportunity": _opportunities,
             "opportunity_closed": _opportunity_closings, "quote": _quotes}
