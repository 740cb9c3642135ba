"""/api/v1/orders: create, read, list with a cursor, status changes with 409, returns,
batch import (re-send → skipped), CSV import jobs, field errors (422)."""

from __future__ import annotations

import pytest

from guanxi.core import services as core_services
from guanxi.core.models import AuditRecord
from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, actors, users):
    def make(name="sales1"):
        key = core_services.token_create(actor=actors[name], user=users[name])
        headers = {"Authorization": f"Bearer {key}"}

        class Api:
            def get(self, path, **kw):
                return client.get(f"/api/v1{path}", headers=headers, **kw)

            def post(self, path, data):
                return client.post(f"/api/v1{path}", data, content_type="application/json",
                                   headers=headers)

            def upload(self, path, files):
                return client.post(f"/api/v1{path}", files, headers=headers)

            def patch(self, path, data):
                return client.patch(f"/api/v1{path}", data, content_type="application/json",
                                    headers=headers)

        return Api()

    return make


@pytest.fixture
def mine(actors):
    return customer(actors["sales1"], "张三", phone="13812345678", email="zs@example.com")


LINE = {"sku": "TEA-1", "description": "龙井茶", "quantity": "2", "unit_price": "88.00",
        "tax_rate": "0.13"}


def test_create_read_and_resend(api, mine):
    a = api()
    r = a.post("/orders", {"customer_id": mine.pk, "lines": [LINE], "source": "shop",
                           "external_id": "TM-1", "channel": "tmall"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["total"], body["tax_total"], body["total_cny"]) == ("198.88", "22.88",
                                                                    "198.88")
    assert body["customer_name"] == "张三" and body["customer_phone"] == "138 1234 5678"
    assert [ln["amount"] for ln in body["lines"]] == ["176.00"]
    assert AuditRecord.objects.filter(model="sales.order", channel="api").count() == 1
    again = a.post("/orders", {"customer_id": mine.pk, "lines": [LINE], "source": "shop",
                               "external_id": "TM-1"})
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert Order.objects.count() == 1
    r = a.get(f"/orders/{body['id']}")
    assert r.status_code == 200 and r.json()["number"] == body["number"]


def test_field_errors_are_422_naming_the_field(api, mine):
    a = api()
    r = a.post("/orders", {"customer_id": mine.pk, "lines": [{**LINE, "quantity": "-1"}]})
    assert r.status_code == 422
    assert "lines.0.quantity" in r.json()["errors"]
    r = a.post("/orders", {"customer_id": mine.pk, "currency": "EUR", "lines": [LINE]})
    assert r.status_code == 422
    assert "No exchange rate for EUR" in r.json()["errors"]["currency"][0]
    r = a.post("/orders", {"customer_id": 999999, "lines": [LINE]})
    assert r.status_code == 422 and r.json()["errors"] == {
        "customer_id": ["No such customer."]}
    # An import answers per order: the bad one is named with its index and field.
    r = a.post("/orders/import", {"orders": [{"source": "shop", "customer_id": mine.pk,
                                              "ordered_at": "2025-06-18T10:00:00+08:00",
                                              "lines": [{**LINE, "quantity": [1]}]}]})
    assert r.status_code == 200
    assert r.json()["errors"] == [{"index": 0, "source": "shop", "external_id": "", "errors": {
        "external_id": ["This field is required."],
        "lines.0.quantity": ["Enter a number."]}}]
    r = a.post("/orders/import", {"orders": "all of them"})
    assert r.status_code == 422 and "orders" in r.json()["errors"]


def test_patch_with_version_and_conflict(api, mine):
    a = api()
    oid = a.post("/orders", {"customer_id": mine.pk, "lines": [LINE]}).json()["id"]
    r = a.patch(f"/orders/{oid}", {"version": 1, "status": "shipped", "payment_status": "paid"})
    assert r.status_code == 200, r.content
    assert (r.json()["status"], r.json()["payment_status"], r.json()["version"]) == (
        "shipped", "paid", 2)
    r = a.patch(f"/orders/{oid}", {"version": 1, "status": "completed"})
    assert r.status_code == 409
    assert r.json()["current_version"] == 2 and r.json()["current"]["status"] == "shipped"
    r = a.patch(f"/orders/{oid}", {"version": 2, "status": "open"})
    assert r.status_code == 422 and "status" in r.json()["errors"]
    r = a.patch(f"/orders/{oid}", {"version": 2, "status": "sold"})
    assert r.status_code == 422 and "status" in r.json()["errors"]


def test_returns_through_the_api(api, mine):
    a = api()
    oid = a.post("/orders", {"customer_id": mine.pk, "lines": [LINE],
                             "status": "completed"}).json()["id"]
    r = a.post(f"/orders/{oid}/returns", {"kind": "return", "amount": "98.88",
                                          "reason": "破损"})
    assert r.status_code == 201, r.content
    assert r.json()["amount_cny"] == "98.88"
    r = a.post(f"/orders/{oid}/returns", {"kind": "refund", "amount": "100.01"})
    assert r.status_code == 422
    assert r.json()["errors"]["amount"] == ["At most 100.00 CNY remain to return on this "
                                            "order."]
    assert a.get(f"/orders/{oid}").json()["returned_total"] == "98.88"


def test_batch_import_and_resend(api, mine):
    a = api()
    batch = {"orders": [{"source": "erp", "external_id": f"ERP-{i}", "customer_id": mine.pk,
                         "ordered_at": "2025-06-18T10:00:00+08:00", "lines": [LINE, LINE]}
                        for i in range(3)]}
    r = a.post("/orders/import", batch)
    assert r.status_code == 200, r.content
    assert (r.json()["created"], r.json()["skipped"], r.json()["errors"]) == (3, 0, [])
    assert [x["status"] for x in r.json()["results"]] == ["created"] * 3
    batch["orders"].append({"source": "erp", "external_id": "ERP-9", "customer_id": 999999,
                            "ordered_at": "2025-06-18", "lines": [LINE]})
    r = a.post("/orders/import", batch)
    assert (r.json()["created"], r.json()["skipped"]) == (0, 3)
    assert r.json()["errors"] == [{"index": 3, "source": "erp", "external_id": "ERP-9",
                                   "errors": {"customer_id": ["No such customer."]}}]
    assert Order.objects.count() == 3
    r = a.post("/orders/import", {**batch, "atomic": True})
    assert r.status_code == 422 and "orders.3.customer_id" in r.json()["errors"]


def test_list_pages_with_a_cursor_and_filters(api, mine):
    a = api()
    for i in range(5):
        a.post("/orders", {"customer_id": mine.pk, "lines": [LINE], "source": "shop",
                           "external_id": f"P-{i}",
                           "ordered_at": f"2025-06-0{i + 1}T10:00:00+08:00"})
    r = a.get("/orders", data={"limit": 2})
    assert r.status_code == 200
    first = r.json()
    assert [o["external_id"] for o in first["items"]] == ["P-4", "P-3"]
    assert first["count"] == "5"
    second = a.get("/orders", data={"limit": 2, "cursor": first["next_cursor"]}).json()
    assert [o["external_id"] for o in second["items"]] == ["P-2", "P-1"]
    r = a.get("/orders", data={"ordered_from": "2025-06-02", "ordered_to": "2025-06-03"})
    assert [o["external_id"] for o in r.json()["items"]] == ["P-2", "P-1"]
    r = a.get("/orders", data={"q": "P-3"})
    assert [o["external_id"] for o in r.json()["items"]] == ["P-3"]
    r = a.get("/orders", data={"status": "lost"})
    assert r.status_code == 422 and "status" in r.json()["errors"]


def test_csv_import_job_through_the_api(api, mine, settings,
                                        django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    a = api()
    content = ("source,external_id,customer_email,ordered_at,description,quantity,unit_price\n"
               "shop,S-1,zs@example.com,2025-06-18,茶具,1,99\n"
               "shop,S-2,zs@example.com,2025-06-18,茶杯,2,abc\n").encode()
    with django_capture_on_commit_callbacks(execute=True):
        r = a.upload("/orders/import-csv", {"file": SimpleUploadedFile("o.csv", content)})
    assert r.status_code == 202, r.content
    job = a.get(f"/orders/import-jobs/{r.json()['id']}").json()
    assert job["status"] == "failed" and job["filename"] == "o.csv"
    assert job["errors"] == [{"line": 3, "column": "unit_price", "message": "Enter a number."}]
    fixed = content.replace(b"abc", b"9.5")
    with django_capture_on_commit_callbacks(execute=True):
        r = a.upload("/orders/import-csv", {"file": SimpleUploadedFile("o.csv", fixed)})
    job = a.get(f"/orders/import-jobs/{r.json()['id']}").json()
    assert (job["status"], job["created"], job["done"], job["percent"]) == ("done", 2, 2, 100)
    assert api("sales2").get(f"/orders/import-jobs/{job['id']}").status_code == 404
