"""The customer's 360 timeline: every app contributes entries through a provider.

A provider is ``f(actor, customer_id, limit, before) -> list[Entry]``, registered once at
start-up (``AppConfig.ready``) with :func:`register`: its newest ``limit`` entries dated before
``before`` (all of them when ``before`` is None). Providers read through their app's queries,
so the access policy holds; :func:`entries` and :func:`page` merge them newest first. The caller
has already checked that the actor may see the customer.
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


Provider = Callable[[Actor, int, int, "dt.datetime | None"], list[Entry]]
_providers: dict[str, Provider] = {}


def register(name: str, provider: Provider) -> None:
    _providers[name] = provider


@dataclass
class Page:
    entries: list[Entry]
    # Pass as ``before`` for the next, older page; None on the last page.
    next_before: dt.datetime | None


def page(*, actor: Actor, customer_id: int, limit: int = 20, before: dt.datetime | None = None,
         kinds: set[str] | None = None) -> Page:
    """The newest ``limit`` entries dated before ``before``, and where the next page starts.

    Entries of the same instant never straddle two pages: a page that would cut through them
    takes them all (asking a provider cut short for more), so paging by ``before`` neither
    repeats nor skips an entry.
    """
    asked = {name: limit + 1 for name in _providers if not kinds or name in kinds}
    got = {name: _providers[name](actor, customer_id, n, before) for name, n in asked.items()}
    while True:
        rows = [e for entries_ in got.values() for e in entries_]
        if before is not None:  # a provider may return a second date of a row (a closing)
            rows = [e for e in rows if e.at < before]
        rows.sort(key=lambda e: e.at, reverse=True)
        if len(rows) <= limit:
            return Page(rows, None)
        last = rows[limit - 1].at
        # A provider cut short whose oldest entry is of the instant ``last`` may hold more.
        short = [name for name, n in asked.items()
                 if len(got[name]) >= n and min(e.at for e in got[name]) >= last]
        if not short:
            break
        for name in short:
            asked[name] *= 2
            got[name] = _providers[name](actor, customer_id, asked[name], before)
    end = limit
    while end < len(rows) and rows[end].at == last:
        end += 1
    more = end < len(rows) or any(len(got[name]) >= n for name, n in asked.items())
    return Page(rows[:end], last if more else None)


def entries(*, actor: Actor, customer_id: int, limit: int = 50,
            before: dt.datetime | None = None, kinds: set[str] | None = None) -> list[Entry]:
    return page(actor=actor, customer_id=customer_id, limit=limit, before=before,
                kinds=kinds).entries


def kinds() -> list[str]:
    return list(_providers)
