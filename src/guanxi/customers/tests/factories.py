"""Customers built through the services (so every row passes the same rules)."""

from __future__ import annotations

from guanxi.core.access import Actor
from guanxi.customers import services


def customer(actor: Actor, name: str = "张三", *, phone: str | None = None,
             email: str | None = None, **data) -> object:
    c = services.customer_create(actor=actor, data={"name": name, **data})
    if phone:
        services.contact_point_add(actor=actor, customer_id=c.pk, kind="mobile", value=phone,
                                   is_primary=True)
    if email:
        services.contact_point_add(actor=actor, customer_id=c.pk, kind="email", value=email,
                                   is_primary=True)
    c.refresh_from_db()
    return c
