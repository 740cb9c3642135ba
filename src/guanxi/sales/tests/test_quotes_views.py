"""Quote pages: the editor and its htmx partial, create and edit (with a version conflict),
the detail's workflow buttons for each actor, the list, and access on every page."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from guanxi.customers.tests.factories import customer
from guanxi.sales.models import Quote, QuoteLine
from guanxi.sales.services import quotes as services
from guanxi.sales.tests.test_quotes_services import make_catalog, make_quote

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def cat(actors):
    return make_catalog(actors["admin"])


@pytest.fixture
def acme(actors):
    return customer(actors["sales1"], "华信科技有限公司", kind="organisation",
                    relation_kind="intermediary")


def keys(body: str) -> list[str]:
    return re.findall(r'name="line" value="([0-9a-f]{8})"', body)


def test_editor_partial_adds_prices_removes_and_totals(client, users, cat):
    client.force_login(users["sales1"])
    r = client.post("/sales/quotes/lines/", {"op": "add", "price_list": cat.price_list.pk})
    assert r.status_code == 200
    [first] = keys(r.content.decode())
    r = client.post("/sales/quotes/lines/", {"op": "add", "price_list": cat.price_list.pk,
                                             "line": [first]})
    assert keys(r.content.decode())[0] == first
    first, second = keys(r.content.decode())
    data = {"price_list": cat.price_list.pk, "line": [first, second],
            f"line-{first}-product": cat.licence.pk, f"line-{first}-quantity": "2",
            f"line-{first}-discount": "10",
            f"line-{second}-description": "差旅费", f"line-{second}-quantity": "1",
            f"line-{second}-unit_price": "500", f"line-{second}-tax_rate": "0.06"}
    r = client.post("/sales/quotes/lines/", data)
    rows = {row.key: row for row in r.context["rows"]}
    # the licence priced from the price list, named and taxed from the product
    assert (rows[first].unit_price, rows[first].description, rows[first].tax_rate,
            rows[first].priced) == ("900.00", "企业版软件许可", "0.13", str(cat.licence.pk))
    assert (rows[first].net, rows[second].net) == (D("1620.00"), D("500.00"))
    totals = r.context["totals"]
    assert (totals.subtotal, totals.discount_total, totals.tax_total, totals.total) == (
        D("2300.00"), D("180.00"), D("240.60"), D("2360.60"))
    assert 'id="approval-hint"' not in r.content.decode()
    # a price typed by hand stays while the product does not change
    data.update({f"line-{first}-priced": str(cat.licence.pk),
                 f"line-{first}-unit_price": "850", f"line-{first}-discount": "20"})
    r = client.post("/sales/quotes/lines/", data)
    row = next(x for x in r.context["rows"] if x.key == first)
    assert row.unit_price == "850" and row.net == D("1360.00")
    assert 'id="approval-hint"' in r.content.decode()  # 20% > 15%
    r = client.post("/sales/quotes/lines/", {**data, "op": f"remove:{first}"})
    assert [x.key for x in r.context["rows"]] == [second]
    assert r.context["totals"].total == D("530.00")


def test_create_from_the_page(client, users, acme, cat):
    client.force_login(users["sales1"])
    r = client.get(f"/sales/quotes/new/?customer={acme.pk}")
    assert r.status_code == 200
    # the price list of the customer's group is suggested
    assert r.context["price_list_id"] == cat.price_list.pk
    key = keys(r.content.decode())[0]
    form = {"customer": acme.pk, "price_list": cat.price_list.pk, "valid_until": "2099-12-31",
            "notes": "付款：预付50%", "line": [key], f"line-{key}-product": cat.licence.pk,
            f"line-{key}-quantity": "0"}
    r = client.post("/sales/quotes/new/", form)
    assert r.status_code == 200 and not Quote.objects.exists()
    row = r.context["rows"][0]
    assert "quantity" in row.errors
    assert 'data-field="quantity"' in r.content.decode()
    form[f"line-{key}-quantity"] = "3"
    r = client.post("/sales/quotes/new/", form)
    q = Quote.objects.get()
    assert r.status_code == 302 and r["Location"] == f"/sales/quotes/{q.pk}/"
    assert (q.subtotal, q.notes, str(q.valid_until)) == (D("2700.00"), "付款：预付50%",
                                                         "2099-12-31")
    r = client.post("/sales/quotes/new/", {"customer": "", "line": []})
    assert r.status_code == 200 and r.context["error_list"]
    client.force_login(users["analyst"])
    assert client.get("/sales/quotes/new/").status_code == 403


def test_edit_page_and_conflict(client, users, actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat)
    client.force_login(users["sales1"])
    r = client.get(f"/sales/quotes/{q.pk}/edit/")
    assert r.status_code == 200
    key = keys(r.content.decode())[0]
    assert r.context["rows"][0].unit_price == "900.00"
    form = {"version": 1, "price_list": cat.price_list.pk, "valid_until": "2099-01-31",
            "notes": "新备注", "line": [key], f"line-{key}-product": cat.licence.pk,
            f"line-{key}-priced": cat.licence.pk, f"line-{key}-quantity": "4",
            f"line-{key}-unit_price": "900.00", f"line-{key}-discount": "5"}
    services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=1,
                          changes={"notes": "别人的修改"})
    r = client.post(f"/sales/quotes/{q.pk}/edit/", form)
    assert r.status_code == 200 and r.context["conflict"] == 2
    assert r.context["version"] == 2 and r.context["rows"][0].quantity == "4"
    form["version"] = 2
    r = client.post(f"/sales/quotes/{q.pk}/edit/", form)
    assert r.status_code == 302
    q.refresh_from_db()
    assert (q.notes, q.subtotal, q.discount_total, q.version) == ("新备注", D("3600.00"),
                                                                  D("180.00"), 3)
    assert QuoteLine.objects.get(quote=q).discount == D("0.05")


def test_access_on_every_page(client, users, actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat)
    client.force_login(users["sales2"])
    for url in (f"/sales/quotes/{q.pk}/", f"/sales/quotes/{q.pk}/edit/",
                f"/sales/quotes/{q.pk}/pdf/"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/sales/quotes/{q.pk}/do/submit/", {"version": 1}).status_code == 404
    assert q.number not in client.get("/sales/quotes/").content.decode()
    client.force_login(users["sales1b"])
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert q.number in body and "edit-quote" not in body and "submit-quote" not in body
    assert client.get(f"/sales/quotes/{q.pk}/edit/").status_code == 403
    assert client.post(f"/sales/quotes/{q.pk}/do/submit/", {"version": 1}).status_code == 403
    assert q.number in client.get("/sales/quotes/").content.decode()
    client.force_login(users["sales1"])
    assert client.post(f"/sales/quotes/{q.pk}/do/bogus/", {"version": 1}).status_code == 404


def test_workflow_buttons_follow_the_actor(client, users, actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat, discount=D("0.25"))
    client.force_login(users["sales1"])
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert "submit-quote" in body and "approve-quote" not in body
    r = client.post(f"/sales/quotes/{q.pk}/do/submit/", {"version": 1})
    assert r.status_code == 302
    q.refresh_from_db()
    assert q.status == "pending"
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert "approve-quote" not in body and "You cannot approve your own quote." in body
    r = client.post(f"/sales/quotes/{q.pk}/do/submit/", {"version": 1})  # stale page
    assert r.status_code == 302
    client.force_login(users["manager"])
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert "approve-quote" in body and "reject-quote" in body and "edit-quote" in body
    r = client.get("/sales/quotes/?mine_to_approve=1")
    assert [x.pk for x in r.context["page"].items] == [q.pk]
    client.post(f"/sales/quotes/{q.pk}/do/approve/", {"version": 2})
    q.refresh_from_db()
    assert q.status == "approved" and q.approved_by_id == users["manager"].pk
    client.force_login(users["sales1"])
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert "send-quote" in body and "order-quote" in body and "approve-quote" not in body
    r = client.post(f"/sales/quotes/{q.pk}/do/order/", {"version": 3})
    assert r.status_code == 302
    q.refresh_from_db()
    assert q.status == "ordered"
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert q.orders.get().number in body
    assert "order-quote" not in body and "edit-quote" not in body


def test_rejected_quote_shows_the_reason(client, users, actors, acme, cat):
    q = make_quote(actors["sales1"], acme.pk, cat, discount=D("0.25"))
    services.quote_submit(actor=actors["sales1"], quote_id=q.pk, version=1)
    client.force_login(users["manager"])
    r = client.post(f"/sales/quotes/{q.pk}/do/reject/",
                    {"version": 2, "reason": "折扣<b>太大</b>"})
    assert r.status_code == 302
    client.force_login(users["sales1"])
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    note = re.search(r'id="rejected-note">(.*?)</div>\s*</div>', body, re.S).group(1)
    assert "折扣&lt;b&gt;太大&lt;/b&gt;" in note and "<b>" not in note  # escaped
    assert "折扣&lt;b&gt;太大" in client.get(f"/sales/quotes/{q.pk}/edit/").content.decode()
    services.quote_update(actor=actors["sales1"], quote_id=q.pk, version=3,
                          changes={"notes": "改为九折"})
    body = client.get(f"/sales/quotes/{q.pk}/").content.decode()
    assert "rejection-reason" not in body and "太大" not in body


def test_list_filters(client, users, actors, acme, cat):
    a = make_quote(actors["sales1"], acme.pk, cat)
    b = make_quote(actors["sales1b"], customer(actors["sales1b"], "李四商店").pk, cat)
    services.quote_submit(actor=actors["sales1b"], quote_id=b.pk, version=1)
    client.force_login(users["sales1"])
    r = client.get("/sales/quotes/")
    assert {x.pk for x in r.context["page"].items} == {a.pk, b.pk}
    r = client.get("/sales/quotes/?status=approved")
    assert [x.pk for x in r.context["page"].items] == [b.pk]
    r = client.get("/sales/quotes/?q=华信")
    assert [x.pk for x in r.context["page"].items] == [a.pk]
    r = client.get(f"/sales/quotes/?owner={users['sales1b'].pk}&sort=id")
    assert [x.pk for x in r.context["page"].items] == [b.pk]
