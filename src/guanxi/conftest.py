"""Fixtures shared by every app's tests."""

from __future__ import annotations

import pytest

from guanxi.core import testing
from guanxi.core.access import Actor
from guanxi.core.events import subscribe


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def users(db):
    """sales1, sales1b (team east), sales2 (north), manager (east), service, analyst
    (masked), readonly (east, masked), admin."""
    from guanxi.core.models import Grant, Role, User
    from guanxi.core.roles import ensure_default_roles

    ensure_default_roles(Role, Grant, User)  # a transactional test flushes migration data
    return {
        "sales1": testing.user("sales1", "sales", "east"),
        "sales1b": testing.user("sales1b", "sales", "east"),
        "sales2": testing.user("sales2", "sales", "north"),
        "manager": testing.user("manager", "manager", "east"),
        "service": testing.user("service", "service"),
        "analyst": testing.user("analyst", "analyst"),
        "readonly": testing.user("readonly", "readonly", "east"),
        "marketing": testing.user("marketing", "marketing"),
        "admin": testing.user("admin", "admin"),
    }


@pytest.fixture
def actors(users):
    return {name: testing.actor(u) for name, u in users.items()}


@pytest.fixture
def system_actor(users):
    return Actor.system()


@pytest.fixture
def events():
    """Events delivered (after commit) during the test."""
    seen: list[tuple[str, dict]] = []
    unsubscribe = subscribe("*", lambda name, payload: seen.append((name, payload)))
    yield seen
    unsubscribe()


