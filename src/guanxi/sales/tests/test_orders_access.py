"""Who sees and changes which orders, on every path: pages, fragments, API, imports. Another
team's order is absent (404), a visible one without the right is 403, lists hold exactly
the team's orders, and roles without personal data see customers masked."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from guanxi.core import services as core_services
from guanxi.core.testing import RAW_PII
from guanxi.customers.tests.factories import customer
from guanxi.sales.services import orders as services

pytestmark = pytest.mark.django_db

LINE = {"sku": "TEA-1", "description": "龙井茶", "quantity": "1", "unit_price": "50"}


@pytest.fixture
def world(actors):
    out = {}
    for name, owner, phone in (("mine", "sales1", "13812345678"),
                               ("teammate", "sales1b", "13912345678"),
                               ("other", "sales2", "13712345678")):
        c = customer(actors[owner], f"客户{name}", phone=phone, email=f"{name}@example.com")
        out[name] = services.order_create(actor=actors[owner], customer_id=c.pk, lines=[LINE],
                                          source="shop", external_id=f"X-{name}")
    return out


def browser(users, name) -> Client:
    c = Client()
    c.force_login(users[name])
    return c


def api_get(client, users, actors, name, path, method="get", data=None):
    key = core_services.token_create(actor=actors[name], user=users[name])
    headers = {"Authorization": f"Bearer {key}"}
    if method == "get":
        return client.get(f"/api/v1{path}", headers=headers)
    return getattr(client, method)(f"/api/v1{path}", data or {},
                                   content_type="application/json", headers=headers)


def numbers_on(html: str) -> set[str]:
    return set(re.findall(r"SO-\d{6}-\d{5,}", html))


@pytest.mark.parametrize(("who", "visible"), [
    ("sales1", {"mine", "teammate"}), ("sales2", {"other"}), ("manager", {"mine", "teammate"}),
    ("readonly", {"mine", "teammate"}), ("analyst", {"mine", "teammate", "other"}),
    ("service", {"mine", "teammate", "other"}), ("admin", {"mine", "teammate", "other"}),
])
def test_lists_hold_exactly_the_orders_in_scope(users, actors, world, client, who, visible):
    expected = {world[n].number for n in visible}
    html = browser(users, who).get("/sales/orders/").content.decode()
    assert numbers_on(html) == expected
    body = api_get(client, users, actors, who, "/orders").json()
    assert {o["number"] for o in body["items"]} == expected


def test_another_teams_order_is_404_on_every_path(users, actors, world, client):
    other = world["other"].pk
    web = browser(users, "sales1")
    assert web.get(f"/sales/orders/{other}/").status_code == 404
    assert web.post(f"/sales/orders/{other}/update/", {"version": 1, "status": "shipped"}
                    ).status_code == 404
    assert web.post(f"/sales/orders/{other}/cancel/", {"version": 1}).status_code == 404
    assert web.post(f"/sales/orders/{other}/returns/", {"kind": "refund", "amount": "1"}
                    ).status_code == 404
    assert api_get(client, users, actors, "sales1", f"/orders/{other}").status_code == 404
    assert api_get(client, users, actors, "sales1", f"/orders/{other}", "patch",
                   {"version": 1, "status": "shipped"}).status_code == 404
    assert api_get(client, users, actors, "sales1", f"/orders/{other}/returns", "post",
                   {"kind": "refund", "amount": "1"}).status_code == 404
    # The order's external id is no way round: the list finds nothing.
    body = api_get(client, users, actors, "sales1", "/orders?q=X-other").json()
    assert body["items"] == []
    world["other"].refresh_from_db()
    assert world["other"].status == "confirmed" and world["other"].version == 1


def test_visible_without_change_right_is_403(users, actors, world, client):
    teammate = world["teammate"].pk
    web = browser(users, "sales1")
    assert web.get(f"/sales/orders/{teammate}/").status_code == 200
    assert web.post(f"/sales/orders/{teammate}/update/", {"version": 1, "status": "shipped"}
                    ).status_code == 403
    assert api_get(client, users, actors, "service", f"/orders/{teammate}", "patch",
                   {"version": 1, "status": "shipped"}).status_code == 403
    assert api_get(client, users, actors, "analyst", "/orders", "post",
                   {"customer_id": world["mine"].customer_id, "lines": [LINE]}
                   ).status_code == 403
    assert browser(users, "analyst").get("/sales/orders/import/").status_code == 403


def test_analyst_sees_customers_masked(users, actors, world, client):
    mine = world["mine"].pk
    body = api_get(client, users, actors, "analyst", f"/orders/{mine}").json()
    assert body["customer_phone"] == "138****5678"
    assert body["customer_email"] == "m***@example.com"
    pages = [browser(users, "analyst").get(url).content.decode() for url in
             ("/sales/orders/", f"/sales/orders/{mine}/")]
    for html in pages:
        assert not RAW_PII.search(html)
    assert "138****5678" in pages[1]
    listing = api_get(client, users, actors, "analyst", "/orders").content.decode()
    assert not RAW_PII.search(listing)
    # Roles with personal data see it.
    body = api_get(client, users, actors, "sales1", f"/orders/{mine}").json()
    assert body["customer_phone"] == "138 1234 5678"


def test_anonymous_callers_are_sent_to_sign_in(client, world):
    r = client.get(f"/sales/orders/{world['mine'].pk}/")
    assert r.status_code == 302 and r["Location"].startswith("/login/")
    assert client.get("/api/v1/orders").status_code == 401
