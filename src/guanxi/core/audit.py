"""The audit trail: every change to business data leaves an append-only record.

Services call :func:`record` inside their transaction, so a rolled-back write leaves no record
and no write goes unrecorded, whatever the channel (page, API, CLI, import, task).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db.models import Model

from guanxi.core.access import Actor, model_label
from guanxi.core.models import AuditRecord


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return value.pk
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (list, tuple, set)):
        return [_plain(v) for v in value]
    return value


def snapshot(obj: Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The audited values of ``obj``: concrete fields (foreign keys as ids) unless named."""
    names = fields or getattr(obj, "audit_fields", None) or [
        f.name for f in obj._meta.concrete_fields if f.name not in ("id", "version")
    ]
    out: dict[str, Any] = {}
    for name in names:
        f = obj._meta.get_field(name)
        value = getattr(obj, f.attname) if f.is_relation and f.many_to_one else getattr(obj, name)
        out[name] = _plain(value)
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as [old, new]; empty values (None, "", []) are alike."""
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    out = {}
    for k in keys:
        old, new = before.get(k), after.get(k)
        if old != new and not (_empty(old) and _empty(new)):
            out[k] = [None if _empty(old) else old, None if _empty(new) else new]
    return out


def record(
    actor: Actor,
    obj: Model,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    customer_id: int | None = None,
    changes: dict[str, list[Any]] | None = None,
) -> AuditRecord | None:
    """Write one audit record. Returns None for an update that changed nothing."""
    actor.forget_seen()  # what it read may have changed
    if changes is None:
        changes = diff(before or {}, after or {})
    if action == "update" and not changes:
        return None
    return AuditRecord.objects.create(
        actor=actor.user if actor.user.pk else None,
        actor_label=actor.label,
        channel=actor.channel,
        request_id=actor.request_id,
        action=action,
        model=model_label(obj),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        customer_id=customer_id,
        changes=changes,
    )


def record_many(actor: Actor, rows: list[tuple[Model, str, dict[str, list[Any]], int | None]]
                ) -> None:
    """Bulk form for imports and merges: (object, action, changes, customer_id) per row."""
    actor.forget_seen()  # what it read may have changed
    AuditRecord.objects.bulk_create(
        [
            AuditRecord(
                actor=actor.user if actor.user.pk else None, actor_label=actor.label,
                channel=actor.channel, request_id=actor.request_id, action=action,
                model=model_label(obj), object_id=str(obj.pk), object_repr=str(obj)[:200],
                customer_id=customer_id, changes=changes,
            )
            for obj, action, changes, customer_id in rows
        ],
        batch_size=1000,
    )
