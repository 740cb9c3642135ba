"""Cards other apps add to the customer page (scores, orders, interactions …).

``register(name, template, provider)``: ``provider(actor, customer)`` returns the template's
context, or None to show nothing. Providers read through their app's queries (scoped).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guanxi.core.access import Actor


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    provider: Callable[[Actor, Any], dict[str, Any] | None]
    position: int = 100


_panels: dict[str, Panel] = {}


def register(name: str, template: str, provider, position: int = 100) -> None:
    _panels[name] = Panel(name, template, provider, position)


def render_context(*, actor: Actor, customer) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for panel in sorted(_panels.values(), key=lambda p: (p.position, p.name)):
        ctx = panel.provider(actor, customer)
        if ctx is not None:
            out.append((panel.template, ctx))
    return out
