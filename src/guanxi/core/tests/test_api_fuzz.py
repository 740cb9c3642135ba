"""Schemathesis generates requests from the OpenAPI document: no input may cause a server
error, and every response must match its documented schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from guanxi.wsgi import application

# A server error is never acceptable; every response must also match its documented status
# code, content type and schema. Schema-valid input may still be refused for domain reasons
# (a duplicate code, a phone number that does not exist) with a 422 naming the field.
CHECKS = [schemathesis.checks.not_a_server_error, status_code_conformance,
          content_type_conformance, response_schema_conformance]

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)


@pytest.fixture(autouse=True)
def _keep_test_connection():
    """Calls go straight to the WSGI app, which would close the test's database connection
    at each request's end (Django's test client disconnects the same handlers)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(users, actors):
    from guanxi.core import services
    from guanxi.customers.tests.factories import customer

    customer(actors["admin"], "张三", phone="13812345678", email="zs@example.com")
    return services.token_create(actor=actors["admin"], user=users["admin"])


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_has_no_server_errors(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
