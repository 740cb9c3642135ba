from __future__ import annotations

import uuid

from django.conf import settings
from django.utils import timezone, translation


class RequestContextMiddleware:
    """Request id for the audit trail, the user's language and time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request.headers.get("X-Request-ID", "")[:40] or uuid.uuid4().hex[:16]
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            if user.language and not request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME):
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            timezone.activate(user.time_zone or settings.TIME_ZONE)
        response = self.get_response(request)
        response.headers.setdefault("X-Request-ID", request.request_id)
        return response


def _nul_fields(request) -> list[str]:
    """Names of the query or form fields, or JSON body paths, whose text holds a NUL
    character. No database stores it in text (PostgreSQL refuses it) and no CRM text has it."""
    import json

    bad = [k for k, values in request.GET.lists() if any("\x00" in k or "\x00" in v
                                                                   for v in values)]
    kind = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH") and kind == "application/x-www-form-urlencoded":
        bad += [k for k, values in request.POST.lists()
                if "\x00" in k or any("\x00" in v for v in values)]
    elif request.method in ("POST", "PUT", "PATCH") and kind == "application/json":
        body = request.body
        if b"\\u0000" in body or b"\x00" in body:
            try:
                data = json.loads(body)
            except ValueError:
                return bad  # the API answers malformed JSON itself

            def walk(value, path):
                if isinstance(value, str):
                    if "\x00" in value:
                        bad.append(path or "body")
                elif isinstance(value, dict):
                    for key, item in value.items():
                        if "\x00" in key:
                            bad.append(f"{path}.{key}".lstrip("."))
                        walk(item, f"{path}.{key}".lstrip("."))
                elif isinstance(value, list):
                    for i, item in enumerate(value):
                        walk(item, f"{path}[{i}]")

            walk(data, "")
    return bad


class RejectNulMiddleware:
    """Refuse text with NUL characters with a 400 naming the fields, before any view or
    database sees it (the API answers in its JSON error shape)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad = _nul_fields(request)
        if not bad:
            return self.get_response(request)
        from django.http import HttpResponseBadRequest, JsonResponse

        message = "Text may not contain NUL characters."
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": message, "errors": {f: [message] for f in bad}},
                                status=400)
        return HttpResponseBadRequest(f"{message} ({', '.join(bad)})",
                                      content_type="text/plain; charset=utf-8")
