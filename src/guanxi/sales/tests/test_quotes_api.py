"""/api/v1/quotes: create with lines, field errors, versions (409), the workflow, access
(another team's quote is 404, a teammate's is read-only: 403)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.core import services as core_services
from guanxi.core.models import AuditRecord
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Order
from guanxi.sales.tests.test_quotes_services import make_catalog

pytestmark = pytest.mark.django_db


@pytest.fixture
def cat(actors):
    return make_catalog(actors["admin"])


@pytest.fixture
def api(client, actors, users):
    def make(name):
        key = core_services.token_create(actor=actors[name], user=users[name])
        headers = {"Authorization": f"Bearer {key}"}

        class Api:
            def get(self, path):
                return client.get(f"/api/v1{path}", headers=headers)

            def post(self, path, data):
                return client.post(f"/api/v1{path}", data, content_type="application/json",
                                   headers=headers)

            def patch(self, path, data):
                return client.patch(f"/api/v1{path}", data, content_type="application/json",
                                    headers=headers)

        return Api()

    return make


@pytest.fixture
def acme(actors):
    return customer(actors["sales1"], "华信科技有限公司", kind="organisation")


def create(a, acme, cat, discount="0"):
    r = a.post("/quotes", {"customer": acme.pk, "price_list": cat.price_list.pk,
                           "notes": "含税价", "lines": [
                               {"product": cat.licence.pk, "quantity": "2",
                                "discount": discount},
                               {"description": "上门安装", "unit_price": "300.00",
                                "tax_rate": "0.06"}]})
    assert r.status_code == 201, r.content
    return r.json()


def test_create_read_and_totals(api, acme, cat):
    body = create(api("sales1"), acme, cat, discount="0.1")
    # 2 × 900 less 10% = 1620 (VAT 210.60); 300 (VAT 18)
    assert (body["subtotal"], body["discount_total"], body["tax_total"], body["total"]) == (
        "2100.00", "180.00", "228.60", "2148.60")
    assert body["status"] == "draft" and body["currency"] == "CNY"
    assert [(ln["net"], ln["tax"]) for ln in body["lines"]] == [("1620.00", "210.60"),
                                                               ("300.00", "18.00")]
    assert body["needs_approval"] is False and body["customer_name"] == "华信科技有限公司"
    assert AuditRecord.objects.filter(model="sales.quote", channel="api").exists()
    r = api("sales1").get(f"/quotes/{body['id']}")
    assert r.status_code == 200 and r.json()["number"] == body["number"]


def test_field_errors_are_422_keyed_by_line(api, acme, cat):
    a = api("sales1")
    r = a.post("/quotes", {"customer": acme.pk, "lines": [
        {"description": "咨询", "unit_price": "10"}, {"product": 999999}]})
    assert r.status_code == 422
    assert set(r.json()["errors"]) == {"lines.0.tax_rate", "lines.1.product"}
    r = a.post("/quotes", {"customer": acme.pk, "lines": [{"product": cat.licence.pk,
                                                            "discount": "2"}]})
    assert r.status_code == 422 and set(r.json()["errors"]) == {"lines.0.discount"}
    r = a.post("/quotes", {"customer": acme.pk, "lines": [{"product": cat.licence.pk,
                                                            "quantity": "NaN"}]})
    assert r.status_code == 422


def test_access_other_team_404_teammate_403(api, acme, cat):
    body = create(api("sales1"), acme, cat)
    qid, version = body["id"], body["version"]
    north = api("sales2")
    assert north.get(f"/quotes/{qid}").status_code == 404
    assert north.patch(f"/quotes/{qid}", {"version": version, "notes": "x"}).status_code == 404
    assert north.post(f"/quotes/{qid}/submit", {"version": version}).status_code == 404
    assert north.get("/quotes").json()["items"] == []
    mate = api("sales1b")
    assert mate.get(f"/quotes/{qid}").status_code == 200
    assert mate.patch(f"/quotes/{qid}", {"version": version, "notes": "x"}).status_code == 403
    assert mate.post(f"/quotes/{qid}/submit", {"version": version}).status_code == 403
    assert [q["id"] for q in mate.get("/quotes").json()["items"]] == [qid]
    assert api("analyst").get(f"/quotes/{qid}").status_code == 200
    assert api("readonly").get(f"/quotes/{qid}").status_code == 404
    r = api("sales2").post("/quotes", {"customer": acme.pk})
    assert r.status_code == 422 and "customer" in r.json()["errors"]


def test_patch_with_stale_version_is_409(api, acme, cat):
    a = api("sales1")
    body = create(a, acme, cat)
    r = a.patch(f"/quotes/{body['id']}", {"version": 1, "lines": [
        {"product": cat.licence.pk, "quantity": "5"}]})
    assert r.status_code == 200
    assert (r.json()["version"], r.json()["subtotal"], len(r.json()["lines"])) == (
        2, "4500.00", 1)
    r = a.patch(f"/quotes/{body['id']}", {"version": 1, "notes": "过期的修改"})
    assert r.status_code == 409
    assert r.json()["current_version"] == 2 and r.json()["current"]["notes"] == "含税价"


def test_workflow_through_the_api(api, users, acme, cat):
    a = api("sales1")
    body = create(a, acme, cat, discount="0.3")
    qid = body["id"]
    r = a.post(f"/quotes/{qid}/submit", {"version": 1})
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert r.json()["needs_approval"] is True
    assert a.post(f"/quotes/{qid}/approve", {"version": 2}).status_code == 403
    manager = api("manager")
    pending = manager.get("/quotes?awaiting_my_approval=true").json()["items"]
    assert [q["id"] for q in pending] == [qid]
    r = manager.post(f"/quotes/{qid}/approve", {"version": 1})
    assert r.status_code == 409
    r = manager.post(f"/quotes/{qid}/approve", {"version": 2})
    assert r.status_code == 200
    assert (r.json()["status"], r.json()["approved_by_id"]) == ("approved",
                                                                users["manager"].pk)
    assert a.post(f"/quotes/{qid}/send", {"version": 3}).json()["status"] == "sent"
    assert a.post(f"/quotes/{qid}/submit", {"version": 4}).status_code == 422
    r = a.post(f"/quotes/{qid}/to-order", {"version": 4})
    assert r.status_code == 201, r.content
    order = Order.objects.get(pk=r.json()["order_id"])
    assert order.quote_id == qid and r.json()["order_number"] == order.number
    assert r.json()["quote"]["status"] == "ordered"
    assert r.json()["quote"]["order_ids"] == [order.pk]
    assert order.total == Decimal(r.json()["quote"]["total"])


def test_manager_of_another_team_gets_404(api, actors, cat):
    north = customer(actors["sales2"], "北方客户")
    a = api("sales2")
    body = create(a, north, cat, discount="0.3")
    a.post(f"/quotes/{body['id']}/submit", {"version": 1})
    r = api("manager").post(f"/quotes/{body['id']}/approve", {"version": 2})
    assert r.status_code == 404
    r = api("manager").post(f"/quotes/{body['id']}/reject", {"version": 2, "reason": "x"})
    assert r.status_code == 404
    r = api("admin").post(f"/quotes/{body['id']}/reject", {"version": 2, "reason": "太低"})
    assert r.status_code == 200 and r.json()["status"] == "rejected"
    assert r.json()["rejection_reason"] == "太低"
    assert a.get(f"/quotes/{body['id']}").json()["rejection_reason"] == "太低"
    r = a.patch(f"/quotes/{body['id']}", {"version": 3, "notes": "改价"})
    assert r.json()["status"] == "draft" and r.json()["rejection_reason"] == ""


def test_list_pages_with_a_cursor(api, acme, cat):
    a = api("sales1")
    ids = [create(a, acme, cat)["id"] for _ in range(3)]
    seen, cursor = [], None
    while True:
        body = a.get("/quotes?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [q["id"] for q in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(ids, reverse=True)
    assert a.get("/quotes?status=bogus").status_code == 422
    assert a.get("/quotes?cursor=nonsense").status_code == 422
