"""Every page and every API operation has rows in the permission matrix, and
docs/permissions.md is what the generator makes of the roles and the matrix.

Pages are named URL patterns (their names are the matrix keys); API operations are
``"METHOD /api/v1/path"``. Only the short list ``testing.PUBLIC_ROUTES`` is exempt.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from guanxi.core import testing
from guanxi.core.api import api
from guanxi.core.permissions_doc import COMMAND, render

ROOT = Path(__file__).resolve().parents[4]


def url_patterns() -> list[tuple[str | None, str, str]]:
    """(namespace, name, route) of every URL pattern of the project."""
    out = []

    def walk(patterns, namespace: str | None, prefix: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, p.namespace or namespace, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                out.append((namespace, p.name or "", prefix + str(p.pattern)))

    walk(get_resolver().url_patterns, None, "")
    return out


def api_base() -> str:
    """Where the API is mounted, e.g. ``/api/v1``."""
    return "/" + next(str(p.pattern) for p in get_resolver().url_patterns
                      if isinstance(p, URLResolver) and p.namespace == api.urls_namespace
                      ).strip("/")


def api_operations() -> dict[str, str]:
    """``"METHOD /api/v1/path"`` → view function name, for every ninja operation."""
    base = api_base()
    out = {}
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            full = re.sub(r"/+", "/", f"/{prefix}/{path}").rstrip("/")
            for operation in path_view.operations:
                for method in operation.methods:
                    out[f"{method} {base}{full}"] = operation.view_func.__name__
    return out


def page_keys() -> set[str]:
    return {name or route for namespace, name, route in url_patterns()
            if namespace != api.urls_namespace}


def test_the_walk_finds_pages_and_operations():
    assert {"customer_list", "customer_detail", "login"} <= page_keys()
    ops = api_operations()
    assert ops["GET /api/v1/customers/{customer_id}"] == "get_customer"
    assert ops["PATCH /api/v1/customers/{customer_id}"] == "update_customer"


def missing_pages(covered: set[str]) -> list[str]:
    return sorted(page_keys() - covered - set(testing.PUBLIC_ROUTES))


def missing_operations(covered: set[str]) -> list[str]:
    return sorted(set(api_operations()) - covered)


def test_every_page_has_matrix_rows():
    missing = missing_pages(testing.covered_keys())
    assert not missing, ("Pages without rows in any tests/test_access.py (add Route rows "
                         "and register them):\n" + "\n".join(missing))


def test_every_api_operation_has_matrix_rows():
    missing = missing_operations(testing.covered_keys())
    assert not missing, ("API operations without rows in any tests/test_access.py:\n"
                         + "\n".join(missing))


def test_a_route_without_rows_is_noticed():
    covered = testing.covered_keys()
    pages = set(missing_pages(covered - {"customer_export"})) - set(missing_pages(covered))
    assert pages == {"customer_export"}
    key = "DELETE /api/v1/customers/{customer_id}"
    ops = set(missing_operations(covered - {key})) - set(missing_operations(covered))
    assert ops == {key}


def test_the_api_serves_only_operations_and_its_documentation():
    """A view mounted beside the ninja operations would escape the operation walk."""
    views = set(api_operations().values())
    names = {name for namespace, name, _ in url_patterns() if namespace == api.urls_namespace}
    stray = sorted(name for name in names - views
                   if f"{api.urls_namespace}:{name}" not in testing.PUBLIC_ROUTES)
    assert not stray


def test_matrix_rows_name_routes_that_exist():
    known = page_keys() | set(api_operations())
    stale = sorted(testing.covered_keys() - known)
    assert not stale, "Matrix rows for routes that no longer exist:\n" + "\n".join(stale)
    public = {f"{ns}:{name}" if ns else name for ns, name, _ in url_patterns()}
    assert set(testing.PUBLIC_ROUTES) <= public


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "method", "status"), [
    ("login", "get", 200), ("logout", "post", 302), ("healthz", "get", 200),
    ("set_language", "post", 302), ("lead_web_form", "get", 200),
    ("api:openapi-json", "get", 200),
    ("api:openapi-view", "get", 200), ("api:api-root", "get", 404),
])
def test_public_routes_answer_without_sign_in(name, method, status):
    assert name in testing.PUBLIC_ROUTES
    response = getattr(Client(), method)(reverse(name))
    assert response.status_code == status
    if name != "logout":  # signing out ends on the sign-in page
        assert not response.get("Location", "").startswith(reverse("login"))


def test_permissions_doc_is_current():
    current = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert current == render(), f"docs/permissions.md is stale: run {COMMAND}"


def test_permissions_doc_names_every_role_and_row():
    from guanxi.core.roles import ROLES

    text = render()
    assert COMMAND in text.splitlines()[2]
    for code in ROLES:
        assert f"| `{code}` |" in text
    for rows in testing.matrix_routes().values():
        for route in rows:
            assert f"`{route.url}" in text, route
