"""Administrators manage users and teams on the Users page."""

from __future__ import annotations

import pytest

from guanxi.core.models import Role, User

pytestmark = pytest.mark.django_db


def test_admin_adds_and_deactivates_a_user(client, users):
    client.force_login(users["admin"])
    sales = Role.objects.get(code="sales")
    r = client.post("/settings/users/new/", {"username": "sales3", "first_name": "新人",
                                             "role": sales.pk, "team": users["sales1"].team_id,
                                             "is_active": "on", "password": "Guanxi-pass-77"})
    assert r.status_code == 302
    u = User.objects.get(username="sales3")
    assert u.role == sales and u.is_active
    r = client.post(f"/settings/users/{u.pk}/", {"username": "sales3", "role": sales.pk,
                                                 "first_name": "新人"})
    assert r.status_code == 302
    u.refresh_from_db()
    assert not u.is_active
    assert client.get("/settings/users/").status_code == 200


def test_weak_password_is_a_field_error(client, users):
    client.force_login(users["admin"])
    r = client.post("/settings/users/new/", {"username": "x", "role": Role.objects.get(
        code="sales").pk, "password": "123"})
    assert r.status_code == 200
    assert "password" in r.context["form"].errors


def test_only_admins(client, users):
    client.force_login(users["manager"])
    assert client.get("/settings/users/").status_code == 403
    assert client.get("/settings/users/new/").status_code == 403
