"""Domain events, delivered only after the transaction that raised them commits.

``emit(name, **payload)`` queues the event with ``transaction.on_commit``; a rolled-back write
emits nothing. Handlers subscribe by name (or ``"*"``) with :func:`subscribe`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)
Handler = Callable[[str, dict[str, Any]], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(name: str, handler: Handler) -> Callable[[], None]:
    """Register ``handler`` for event ``name``; returns a function that unsubscribes it."""
    _handlers[name].append(handler)
    return lambda: _handlers[name].remove(handler)


def _dispatch(name: str, payload: dict[str, Any]) -> None:
    for handler in [*_handlers.get(name, []), *_handlers.get("*", [])]:
        try:
            handler(name, payload)
        except Exception:  # one broken subscriber must not break the others
            log.exception("event handler failed for %s", name)


def emit(name: str, **payload: Any) -> None:
    transaction.on_commit(lambda: _dispatch(name, payload))
