"""Small tables every page reads (the roles' grants; the lists' tags, teams, custom fields,
saved views), kept in the shared cache: ``REDIS_URL``'s Redis, else the database cache table.

A page reads them all with one cache round trip (``read``) instead of one query each (about
1.2 ms of CPU apiece on the customer list). Any save or delete of a row of these models drops
the cached copy, at once and again when the transaction commits (so a page that read the old
rows in between cannot put them back for long); a copy also expires after ``TIMEOUT`` seconds,
which bounds how stale a change made outside the ORM (raw SQL) can be.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

TIMEOUT = 300
_PREFIX = "guanxi:ref:"
_loaders: dict[str, Callable[[], Any]] = {}


def register(name: str, loader: Callable[[], Any], *models) -> None:
    """Cache ``loader()`` as ``name``, dropped whenever a row of ``models`` changes."""
    _loaders[name] = loader
    for model in models:
        for signal in (post_save, post_delete):
            signal.connect(_dropper(name), sender=model, weak=False,
                           dispatch_uid=f"guanxi.reference.{name}.{model._meta.label}")


def _dropper(name: str):
    def drop(**kwargs) -> None:
        forget(name)

    return drop


def forget(*names: str) -> None:
    keys = [_PREFIX + n for n in names]
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def read(*names: str) -> dict[str, Any]:
    """The named reference data, in one cache round trip; missing entries are loaded and
    stored."""
    keys = {name: _PREFIX + name for name in names}
    found = cache.get_many(list(keys.values()))
    out, missing = {}, {}
    for name, key in keys.items():
        if key in found:
            out[name] = found[key]
        else:
            out[name] = missing[key] = _loaders[name]()
    if missing:
        cache.set_many(missing, TIMEOUT)
    return out


def register_core() -> None:
    """Core's reference tables (called once, from the app's ``ready``)."""
    from guanxi.core.models import CustomField, Grant, Role, SavedView, Tag, Team
    from guanxi.core.queries import all_grants

    register("grants", all_grants, Grant, Role)

    register("tags", lambda: list(Tag.objects.all()), Tag)
    register("teams", lambda: list(Team.objects.all()), Team)
    register("custom_fields", lambda: list(CustomField.objects.all()), CustomField)
    register("saved_views", lambda: list(SavedView.objects.all()), SavedView)
