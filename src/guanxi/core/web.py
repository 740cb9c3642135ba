"""Helpers shared by page views: the actor of a request, domain errors → HTTP responses."""

from __future__ import annotations

import functools

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest
from django.shortcuts import render

from guanxi.core.access import Actor
from guanxi.core.exceptions import NotFound, PermissionDenied


def web_actor(request: HttpRequest) -> Actor:
    return Actor(user=request.user, channel="web",
                 request_id=getattr(request, "request_id", "") or "web")


def page(view):
    """Login required; NotFound → 404, PermissionDenied → a 403 page that says why."""

    @login_required
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None
        except PermissionDenied as exc:
            return render(request, "403.html", {"reason": str(exc)}, status=403)

    return wrapper


def errors_into_form(form, exc) -> None:
    """Copy a domain ValidationError's field messages onto a Django form."""
    for field, messages in getattr(exc, "message_dict", {"__all__": exc.messages}).items():
        target = field if field in form.fields else None
        for msg in messages:
            form.add_error(target, f"{field}: {msg}" if target is None and field != "__all__"
                           else msg)


# CSV exports ----------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """Neutralise spreadsheet formulas: a cell starting with = + - @ tab or CR gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class Echo:
    """A file-like object for csv.writer whose write returns the line (for streaming)."""

    def write(self, value):
        return value
