"""The customer's 360 timeline: every app contributes entries through a provider.

A provider is ``f(actor, customer_id, limit) -> list[Entry]``, registered once at start-up
(``AppConfig.ready``) with :func:`register`. Providers read through their app's queries, so
the access policy holds; :func:`entries` merges them newest first. The caller has already
checked that the actor may see the customer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guanxi.core.access import Actor


@dataclass
class Entry:
    at: dt.datetime
    kind: str  # "change", "interaction", "order", "opportunity", ...
    title: str
    actor: str = ""
    channel: str = ""
    icon: str = "point"
    body: str = ""
    url: str | None = None
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)


Provider = Callable[[Actor, int, int], list[Entry]]
_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    _providers[name] = provider


def entries(*, actor: Actor, customer_id: int, limit: int = 50,
            kinds: set[str] | None = None) -> list[Entry]:
    rows: list[Entry] = []
    for name, provider in _providers.items():
        if kinds and name not in kinds:
            continue
        rows.extend(provider(actor, customer_id, limit))
    rows.sort(key=lambda e: e.at, reverse=True)
    return rows[:limit]


def kinds() -> list[str]:
    return list(_providers)
