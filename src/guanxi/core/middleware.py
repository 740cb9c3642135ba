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
