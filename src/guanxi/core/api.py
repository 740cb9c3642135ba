"""The REST API under /api/v1: one NinjaAPI, token or session auth, domain errors → HTTP.

Errors are JSON: ``{"detail": "...", "errors": {"field": ["message", ...]}}``.
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, SessionAuth

from guanxi.core.access import Actor
from guanxi.core.exceptions import Conflict, NotFound, PermissionDenied, ValidationError


class TokenAuth(HttpBearer):
    """``Authorization: Bearer gx_...`` (tokens from ``guanxi token USERNAME`` or the
    Profile page)."""

    def authenticate(self, request: HttpRequest, token: str):
        from guanxi.core.queries import user_for_token

        user = user_for_token(token)
        if user is None:
            return None
        request.user = user
        request.api_channel = "api"
        return user


class CsrfSessionAuth(SessionAuth):
    """The signed-in browser session (CSRF-checked on writes)."""


def actor_from(request: HttpRequest) -> Actor:
    return Actor(user=request.user, channel="api",
                 request_id=getattr(request, "request_id", "") or "api")


api = NinjaAPI(
    title="Guanxi API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), CsrfSessionAuth()],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request, status: int, detail: str, errors: dict | None = None, **extra):
    body = {"detail": detail, **({"errors": errors} if errors else {}), **extra}
    return api.create_response(request, body, status=status)


@api.exception_handler(NotFound)
def _not_found(request, exc):
    return _error(request, 404, "Not found.")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return _error(request, 403, str(exc) or "Permission denied.")


@api.exception_handler(Conflict)
def _conflict(request, exc: Conflict):
    return _error(request, 409, str(exc), current=exc.current,
                  current_version=exc.current_version)


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    errors = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return _error(request, 422, "Invalid input.", errors)


@api.exception_handler(NinjaValidationError)
def _schema_invalid(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", []) if p not in ("body", "query", "path", "payload")]
        errors.setdefault(".".join(loc) or "__all__", []).append(err.get("msg", "Invalid."))
    return _error(request, 422, "Invalid input.", errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return _error(request, 401, "Authentication required: send 'Authorization: Bearer <token>'.")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return _error(request, exc.status_code, str(exc))


def plain_error(default_view, status: int, detail: str):
    """A Django error view that answers API paths in the API's JSON shape: a request refused
    before it reaches the API (a malformed Host header, say) is still JSON to an API client."""

    def view(request, exception=None):
        if request.path.startswith("/api/"):
            from django.http import JsonResponse

            return JsonResponse({"detail": detail}, status=status)
        return default_view(request, exception) if status != 500 else default_view(request)

    return view


def register_routers() -> None:
    from guanxi.core.api_routes import router as core_router
    from guanxi.customers.api import router as customers_router
    from guanxi.interactions.api import router as interactions_router
    from guanxi.sales.api import leads, opportunities, orders, products, quotes

    api.add_router("/", core_router)
    api.add_router("/customers", customers_router)
    api.add_router("/leads", leads.router)
    api.add_router("/opportunities", opportunities.router)
    api.add_router("/products", products.router)
    api.add_router("/quotes", quotes.router)
    api.add_router("/orders", orders.router)
    api.add_router("/interactions", interactions_router)
    api.add_router("/analytics", "guanxi.analytics.api.router")


register_routers()
