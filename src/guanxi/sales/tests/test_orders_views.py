"""Order pages: list with filters and keyset pages, detail with lines and returns, status,
payment and cancel forms carrying the version, returns, and the CSV import with its
polling progress bar."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Order, OrderReturn
from guanxi.sales.services import orders as services

pytestmark = pytest.mark.django_db

LINE = {"sku": "TEA-1", "description": "龙井茶", "quantity": Decimal("2"),
        "unit_price": Decimal("50"), "tax_rate": Decimal("0.13")}


@pytest.fixture
def web(users):
    c = Client()
    c.force_login(users["sales1"])
    return c


@pytest.fixture
def mine(actors):
    return customer(actors["sales1"], "张三")


def make(actors, mine, n=1, **kw):
    return [services.order_create(actor=actors["sales1"], customer_id=mine.pk, lines=[LINE],
                                  ordered_at=dt.datetime(2025, 6, 1 + i, 9), **kw)
            for i in range(n)]


def test_list_filters_and_pages(web, actors, mine, settings):
    settings.LIST_PAGE_SIZE = 2
    orders = make(actors, mine, 3)
    services.order_update_status(actor=actors["sales1"], order_id=orders[0].pk, version=1,
                                 status="shipped")
    r = web.get("/sales/orders/")
    html = r.content.decode()
    assert r.status_code == 200 and 'id="next-page"' in html
    assert orders[2].number in html and orders[0].number not in html
    assert 'href="/sales/orders/import/"' in html
    nxt = html.split('id="next-page"')[0].rsplit('href="', 1)[1].split('"')[0]
    html2 = web.get("/sales/orders/" + nxt.replace("&amp;", "&")).content.decode()
    assert orders[0].number in html2 and orders[2].number not in html2
    html3 = web.get("/sales/orders/", {"status": "shipped"}).content.decode()
    assert orders[0].number in html3 and orders[1].number not in html3
    html4 = web.get("/sales/orders/", {"ordered_from": "2025-06-02",
                                       "ordered_to": "2025-06-02"}).content.decode()
    assert orders[1].number in html4 and orders[2].number not in html4
    bad = web.get("/sales/orders/", {"status": "lost"})
    assert bad.status_code == 200 and "alert-danger" in bad.content.decode()


def test_detail_shows_lines_totals_and_forms(web, actors, mine):
    (o,) = make(actors, mine)
    html = web.get(f"/sales/orders/{o.pk}/").content.decode()
    assert o.number in html and "龙井茶" in html and "113.00" in html and "13%" in html
    assert f'name="version" value="{o.version}"' in html
    assert 'id="return-form"' in html and 'id="cancel-form"' in html


def test_status_form_uses_the_version(web, actors, mine):
    (o,) = make(actors, mine)
    r = web.post(f"/sales/orders/{o.pk}/update/", {"version": 1, "status": "shipped",
                                                   "payment_status": "paid"})
    assert r.status_code == 302
    o.refresh_from_db()
    assert (o.status, o.payment_status, o.version) == ("shipped", "paid", 2)
    # A stale form changes nothing and says so.
    r = web.post(f"/sales/orders/{o.pk}/update/", {"version": 1, "status": "completed"},
                 follow=True)
    assert "changed by someone else" in r.content.decode()
    o.refresh_from_db()
    assert o.status == "shipped"
    r = web.post(f"/sales/orders/{o.pk}/update/", {"version": 2, "status": "open"},
                 follow=True)
    assert "cannot become" in r.content.decode()


def test_cancel_and_return_forms(web, actors, mine):
    a, b = make(actors, mine, 2)
    web.post(f"/sales/orders/{a.pk}/cancel/", {"version": 1, "reason": "重复下单"})
    assert Order.objects.get(pk=a.pk).status == "cancelled"
    r = web.post(f"/sales/orders/{b.pk}/returns/", {"kind": "refund", "amount": "13.00",
                                                    "reason": "差价"}, follow=True)
    assert "Return recorded." in r.content.decode()
    assert OrderReturn.objects.get().amount == Decimal("13.00")
    r = web.post(f"/sales/orders/{b.pk}/returns/", {"kind": "refund", "amount": "500"},
                 follow=True)
    assert "remain to return" in r.content.decode()
    r = web.post(f"/sales/orders/{b.pk}/returns/", {"kind": "refund", "amount": "x"},
                 follow=True)
    assert "Amount" in r.content.decode() and OrderReturn.objects.count() == 1


def test_csv_import_page_progress_and_errors(web, mine, settings,
                                            django_capture_on_commit_callbacks):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
    assert web.get("/sales/orders/import/").status_code == 200
    bad = (f"source,external_id,customer_id,ordered_at,sku,quantity,unit_price\n"
           f"shop,1,{mine.pk},2025-06-01,A,1,10\nshop,2,{mine.pk},2025-06-01,A,1,1.001\n")
    with django_capture_on_commit_callbacks(execute=True):
        r = web.post("/sales/orders/import/",
                     {"file": SimpleUploadedFile("orders.csv", bad.encode())})
    assert r.status_code == 302
    job_url = r["Location"]
    html = web.get(job_url).content.decode()
    assert "line 3, unit_price: At most 2 decimal places." in html
    assert "Nothing was imported" in html and 'hx-trigger="every 1s"' not in html
    assert not Order.objects.exists()
    good = bad.replace("1.001", "1.00")
    with django_capture_on_commit_callbacks(execute=True):
        r = web.post("/sales/orders/import/",
                     {"file": SimpleUploadedFile("orders.csv", good.encode())})
    partial = web.get(r["Location"] + "progress/").content.decode()
    assert 'value="100"' in partial and "2 orders created" in partial
    assert Order.objects.count() == 2


def test_progress_partial_polls_while_the_job_runs(web, actors, mine):
    content = f"source,external_id,customer_id,ordered_at,sku,quantity,unit_price\n" \
              f"shop,1,{mine.pk},2025-06-01,A,1,10\n"
    job = services.order_import_job_create(actor=actors["sales1"], content=content.encode(),
                                           enqueue=False)
    partial = web.get(f"/sales/orders/import/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every 1s"' in partial and f"/sales/orders/import/{job.pk}/progress/" \
        in partial
    assert "<script" not in partial and "style=" not in partial
