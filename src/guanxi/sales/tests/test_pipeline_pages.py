"""Lead and opportunity pages, the public form, the board's drag, the dashboard."""

from __future__ import annotations

import time

import pytest
from django.test import Client

from guanxi.core import services as core_services
from guanxi.customers.models import Consent
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Lead, Opportunity, Stage
from guanxi.sales.services import opportunities as opp_services

pytestmark = pytest.mark.django_db


def test_web_form_creates_lead_with_consent_and_drops_bots(users):
    c = Client()
    r = c.get("/sales/form/")
    assert r.status_code == 200 and "frame-ancestors 'self'" in r["Content-Security-Policy"]
    form = {"name": "张三", "phone": "13812345678", "consent": "on",
            "started": str(time.time() - 10)}
    r = c.post("/sales/form/?campaign=双11", form)
    assert r.status_code == 200 and b'id="thanks"' in r.content
    lead = Lead.objects.get(name="张三")
    assert lead.source == "web_form" and lead.campaign == "双11" and lead.marketing_consent
    c.post("/sales/form/", {**form, "name": "bot", "website": "http://spam"})
    c.post("/sales/form/", {**form, "name": "fastbot", "started": str(time.time())})
    assert not Lead.objects.filter(name__in=["bot", "fastbot"]).exists()
    r = c.post("/sales/form/", {"name": "无联系方式", "started": str(time.time() - 10)})
    assert b"phone" in r.content.lower() or "电话".encode() in r.content


def test_convert_from_page_records_consent(client, users, actors):
    from guanxi.sales.services import leads

    lead = leads.lead_create(actor=actors["sales1"], consent=True, data={
        "name": "李雷", "phone": "13911112222"})
    client.force_login(users["sales1"])
    r = client.post(f"/sales/leads/{lead.pk}/convert/", {"version": 1, "with_opportunity": "1",
                                                         "amount": "8000"})
    lead.refresh_from_db()
    assert lead.status == "converted"
    assert r["Location"] == f"/sales/opportunities/{lead.opportunity_id}/"
    assert Consent.objects.filter(customer_id=lead.customer_id, granted=True).exists()


def test_board_and_drag(client, users, actors):
    cust = customer(actors["sales1"], "华信", kind="organisation")
    o = opp_services.opportunity_create(actor=actors["sales1"], data={
        "name": "大单", "customer": cust.pk, "amount": "120000"})
    client.force_login(users["sales1"])
    body = client.get("/sales/opportunities/board/").content.decode()
    assert "大单" in body and "120,000" in body
    won = Stage.objects.get(code="won", pipeline__is_default=True)
    r = client.post(f"/sales/opportunities/{o.pk}/move/", {"stage": won.pk, "version": 1},
                    headers={"Accept": "application/json"})
    assert r.json()["ok"] and r.json()["status"] == "won"
    stale = client.post(f"/sales/opportunities/{o.pk}/move/", {"stage": won.pk - 1,
                                                               "version": 1},
                        headers={"Accept": "application/json"})
    assert stale.status_code == 409
    client.force_login(users["sales2"])
    assert "大单" not in client.get("/sales/opportunities/board/").content.decode()
    r = client.post(f"/sales/opportunities/{o.pk}/move/", {"stage": won.pk},
                    headers={"Accept": "application/json"})
    assert r.status_code == 404
    assert client.get(f"/sales/opportunities/{o.pk}/").status_code == 404


def test_dashboard_renders_for_each_role(client, users, actors):
    cust = customer(actors["sales1"], "华信", kind="organisation")
    opp_services.opportunity_create(actor=actors["sales1"], data={
        "name": "A", "customer": cust.pk, "amount": "1000"})
    for name in ("sales1", "manager", "analyst", "sales2"):
        client.force_login(users[name])
        r = client.get("/sales/")
        assert r.status_code == 200
        assert ("1,000" in r.content.decode()) == (name != "sales2")


def test_api_leads_and_opportunities(client, users, actors):
    key = core_services.token_create(actor=actors["sales1"], user=users["sales1"])
    h = {"Authorization": f"Bearer {key}"}
    r = client.post("/api/v1/leads", {"name": "王五", "email": "ww@example.com"},
                    content_type="application/json", headers=h)
    assert r.status_code == 201, r.content
    lead = r.json()
    r = client.post(f"/api/v1/leads/{lead['id']}/convert", {"version": 1, "amount": "500"},
                    content_type="application/json", headers=h)
    assert r.status_code == 200 and r.json()["status"] == "converted"
    opp_id = r.json()["opportunity_id"]
    r = client.post(f"/api/v1/opportunities/{opp_id}/move",
                    {"stage": Stage.objects.get(code="lost", pipeline__is_default=True).pk},
                    content_type="application/json", headers=h)
    assert r.status_code == 422 and "lost_reason" in r.json()["errors"]
    r = client.patch(f"/api/v1/opportunities/{opp_id}", {"version": 9, "amount": "1"},
                     content_type="application/json", headers=h)
    assert r.status_code == 409
    assert Opportunity.objects.get(pk=opp_id).amount == 500
