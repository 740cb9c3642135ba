"""Domain errors. ``core/api.py`` and the page views turn them into HTTP once."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError  # re-exported: field -> messages

__all__ = ["Conflict", "NotFound", "PermissionDenied", "ValidationError"]


class NotFound(Exception):
    """The object does not exist or lies outside the actor's scope (the two look alike)."""


class PermissionDenied(Exception):
    """The actor sees the object but may not do this to it."""


class Conflict(Exception):
    """A stale write: the object changed since the version the caller read."""

    def __init__(self, message: str, *, current: Any = None, current_version: int | None = None):
        super().__init__(message)
        self.current = current
        self.current_version = current_version
