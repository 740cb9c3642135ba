"""Products, categories, price lists and exchange rates: reference data every signed-in user
reads and administrators change, through the services, the pages and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from guanxi.core import services as core_services
from guanxi.core.exceptions import Conflict, PermissionDenied, ValidationError
from guanxi.core.models import AuditRecord
from guanxi.sales.models import ExchangeRate, PriceList, PriceListItem, Product, TaxRate
from guanxi.sales.queries import products as queries
from guanxi.sales.services import products as services

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def vat(db):
    return {
        "13": TaxRate.objects.get_or_create(code="vat13", defaults={
            "name": "增值税 13%", "rate": D("0.13")})[0],
        "6": TaxRate.objects.get_or_create(code="vat6", defaults={
            "name": "增值税 6%", "rate": D("0.06")})[0],
    }


def product(actor, sku, name="商品", price="100.00", **kw):
    return services.product_create(actor=actor, data={
        "sku": sku, "name": name, "list_price": D(price),
        "tax_rate": kw.pop("tax_rate"), **kw})


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


# Services ---------------------------------------------------------------------------------

def test_admin_adds_and_changes_products_with_audit_events_and_versions(
        actors, vat, events, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        p = product(actors["admin"], " GX-1 ", "  茶叶礼盒 ", tax_rate=vat["13"].pk,
                    cost=D("40"))
    assert (p.sku, p.name, p.unit, p.version) == ("GX-1", "茶叶礼盒", "件", 1)
    rec = AuditRecord.objects.get(model="sales.product", object_id=str(p.pk))
    assert rec.changes["sku"] == [None, "GX-1"] and rec.changes["list_price"] == [None,
                                                                                  "100.00"]
    assert ("sales.product_created", {"product_id": p.pk,
                                      "actor_id": actors["admin"].user.pk}) in events
    p = services.product_update(actor=actors["admin"], product_id=p.pk, version=1,
                                changes={"list_price": D("120.00"), "tax_rate": vat["6"].pk})
    assert p.version == 2
    rec = AuditRecord.objects.filter(model="sales.product", action="update").get()
    assert rec.changes == {"list_price": ["100.00", "120.00"],
                           "tax_rate": [vat["13"].pk, vat["6"].pk]}
    with pytest.raises(Conflict) as exc:
        services.product_update(actor=actors["admin"], product_id=p.pk, version=1,
                                changes={"name": "旧版本"})
    assert exc.value.current_version == 2 and exc.value.current["list_price"] == "120.00"


def test_product_rules_are_field_errors(actors, vat):
    product(actors["admin"], "GX-1", tax_rate=vat["13"].pk)
    with pytest.raises(ValidationError) as exc:
        product(actors["admin"], "gx-1", tax_rate=vat["13"].pk)
    assert "sku" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=actors["admin"], data={
            "sku": "GX-2", "name": "", "list_price": D("-1"), "tax_rate": 999999,
            "weight": 3})
    assert "weight" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.product_create(actor=actors["admin"], data={
            "sku": "GX-2", "name": "", "list_price": D("-1"), "tax_rate": 999999})
    assert {"name", "list_price", "tax_rate"} <= set(exc.value.message_dict)


def test_only_administrators_change_reference_data(actors, vat):
    p = product(actors["admin"], "GX-1", tax_rate=vat["13"].pk)
    for name in ("sales1", "manager", "analyst"):
        with pytest.raises(PermissionDenied):
            product(actors[name], "GX-9", tax_rate=vat["13"].pk)
        with pytest.raises(PermissionDenied):
            services.product_update(actor=actors[name], product_id=p.pk, version=1,
                                    changes={"name": "x"})
        with pytest.raises(PermissionDenied):
            services.price_list_create(actor=actors[name], data={"name": "x"})
    assert queries.product_get(actor=actors["sales1"], product_id=p.pk).sku == "GX-1"


def test_price_lists_and_their_prices(actors, vat):
    p = product(actors["admin"], "GX-1", tax_rate=vat["13"].pk)
    pl = services.price_list_create(actor=actors["admin"], data={
        "name": "经销商价", "currency": "CNY", "relation_kind": "intermediary",
        "channel": " 线下 "})
    assert pl.channel == "线下"
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(actor=actors["admin"], data={"name": "经销商价"})
    assert "name" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        services.price_list_create(actor=actors["admin"], data={"name": "x",
                                                                 "relation_kind": "vip"})
    assert "relation_kind" in exc.value.message_dict
    item = services.price_list_item_set(actor=actors["admin"], price_list_id=pl.pk,
                                        product_id=p.pk, price=D("88.00"))
    services.price_list_item_set(actor=actors["admin"], price_list_id=pl.pk, product_id=p.pk,
                                 price=D("85.00"))
    assert PriceListItem.objects.get(pk=item.pk).price == D("85.00")
    assert queries.list_prices(price_list_id=pl.pk, product_ids={p.pk}) == {p.pk: D("85.00")}
    assert queries.price_list_suggestion(relation_kind="intermediary", channel="线下") == pl
    changes = [r.changes for r in AuditRecord.objects.filter(
        model="sales.pricelist", action="update").order_by("id")]
    assert changes == [{"price:GX-1": [None, "88.00"]}, {"price:GX-1": ["88.00", "85.00"]}]
    assert PriceList.objects.get(pk=pl.pk).version == 1, "prices leave the list's version"
    with pytest.raises(ValidationError) as exc:
        services.price_list_update(actor=actors["admin"], price_list_id=pl.pk, version=1,
                                   changes={"currency": "USD"})
    assert "currency" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.price_list_item_set(actor=actors["admin"], price_list_id=pl.pk,
                                     product_id=999999, price=D("1"))
    services.price_list_item_remove(actor=actors["admin"], price_list_id=pl.pk,
                                    item_id=item.pk)
    assert not PriceListItem.objects.exists()


def test_price_list_versions(actors, events, django_capture_on_commit_callbacks):
    pl = services.price_list_create(actor=actors["admin"], data={"name": "经销商价"})
    assert pl.version == 1
    with django_capture_on_commit_callbacks(execute=True):
        pl = services.price_list_update(actor=actors["admin"], price_list_id=pl.pk,
                                        version=1, changes={"channel": "线下",
                                                            "relation_kind": "intermediary"})
    assert pl.version == 2 and PriceList.objects.get(pk=pl.pk).version == 2
    assert ("sales.price_list_updated", {"price_list_id": pl.pk,
                                         "fields": ["channel", "relation_kind"]}) in events
    rec = AuditRecord.objects.get(model="sales.pricelist", action="update")
    assert rec.changes == {"channel": [None, "线下"], "relation_kind": [None, "intermediary"]}
    with pytest.raises(Conflict) as exc:
        services.price_list_update(actor=actors["admin"], price_list_id=pl.pk, version=1,
                                   changes={"name": "旧版本", "active": False})
    assert exc.value.current_version == 2
    assert exc.value.current == {"name": "经销商价", "currency": "CNY",
                                 "relation_kind": "intermediary", "channel": "线下",
                                 "active": True, "version": 2}
    stored = PriceList.objects.get(pk=pl.pk)
    assert (stored.name, stored.active, stored.version) == ("经销商价", True, 2)
    assert AuditRecord.objects.filter(model="sales.pricelist", action="update").count() == 1
    same = services.price_list_update(actor=actors["admin"], price_list_id=pl.pk, version=2,
                                      changes={"name": "经销商价"})
    assert same.version == 2 and PriceList.objects.get(pk=pl.pk).version == 2
    for name in ("sales1", "manager"):
        with pytest.raises(PermissionDenied):
            services.price_list_update(actor=actors[name], price_list_id=pl.pk, version=2,
                                       changes={"name": "x"})


def test_product_list_filters_and_keyset_pages(actors, vat):
    for i in range(5):
        product(actors["admin"], f"TEA-{i}", f"绿茶{i}", tax_rate=vat["13"].pk,
                active=i != 4)
    product(actors["admin"], "SVC-1", "安装服务", tax_rate=vat["6"].pk)
    seen, cursor = [], None
    while True:
        page = queries.product_list(actor=actors["sales1"], filters=queries.ProductFilters(
            q="TEA", active=True), cursor=cursor, limit=2)
        seen += [p.sku for p in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert seen == ["TEA-0", "TEA-1", "TEA-2", "TEA-3"]
    names = [p.sku for p in queries.product_list(
        actor=actors["sales1"], filters=queries.ProductFilters(q="服务")).items]
    assert names == ["SVC-1"]
    with pytest.raises(ValidationError):
        queries.product_list(actor=actors["sales1"], sort="price")


# Pages ------------------------------------------------------------------------------------

def test_product_pages(client, users, actors, vat):
    p = product(actors["admin"], "GX-1", "乌龙茶", tax_rate=vat["13"].pk, cost=D("30"))
    client.force_login(users["sales1"])
    r = client.get("/sales/products/?q=GX")
    assert r.status_code == 200
    body = r.content.decode()
    assert "乌龙茶" in body and "new-product" not in body and "30.00" not in body
    assert client.get("/sales/products/new/").status_code == 403
    assert client.get(f"/sales/products/{p.pk}/edit/").status_code == 403
    client.force_login(users["admin"])
    assert "30.00" in client.get("/sales/products/").content.decode()
    r = client.post("/sales/products/new/", {"sku": "GX-2", "name": "红茶", "unit": "盒",
                                             "list_price": "58.00", "currency": "CNY",
                                             "tax_rate": vat["13"].pk, "active": "on"})
    assert r.status_code == 302
    assert Product.objects.get(sku="GX-2").unit == "盒"
    r = client.post("/sales/products/new/", {"sku": "gx-2", "name": "红茶", "unit": "盒",
                                             "list_price": "58.00", "currency": "CNY",
                                             "tax_rate": vat["13"].pk})
    assert r.status_code == 200 and "sku" in r.context["form"].errors
    r = client.post("/sales/products/new/", {"form": "category", "name": "茶叶"})
    assert r.status_code == 302
    form = {"sku": "GX-1", "name": "乌龙茶（特级）", "unit": "件", "list_price": "100.00",
            "currency": "CNY", "tax_rate": vat["13"].pk, "active": "on", "version": 1}
    services.product_update(actor=actors["admin"], product_id=p.pk, version=1,
                            changes={"list_price": D("110.00")})
    r = client.post(f"/sales/products/{p.pk}/edit/", form)
    assert r.status_code == 200 and r.context["conflict"]
    form["version"] = 2
    r = client.post(f"/sales/products/{p.pk}/edit/", form)
    assert r.status_code == 302
    assert Product.objects.get(pk=p.pk).name == "乌龙茶（特级）"


def test_price_list_pages(client, users, actors, vat):
    p = product(actors["admin"], "GX-1", "乌龙茶", tax_rate=vat["13"].pk)
    client.force_login(users["sales1"])
    assert client.get("/sales/price-lists/").status_code == 200
    assert client.post("/sales/price-lists/", {"name": "x", "currency": "CNY"}
                       ).status_code == 403
    client.force_login(users["admin"])
    r = client.post("/sales/price-lists/", {"name": "天猫价", "currency": "CNY",
                                            "channel": "tmall", "active": "on"})
    assert r.status_code == 302
    url = r["Location"]
    r = client.post(url, {"product": p.pk, "price": "95.50"})
    assert r.status_code == 302
    item = PriceListItem.objects.get()
    assert item.price == D("95.50")
    body = client.get(url).content.decode()
    assert "95.50" in body and "天猫价" in body
    assert 'name="version" value="1"' in body
    header = {"form": "header", "name": "天猫旗舰店价", "currency": "CNY", "channel": "tmall",
              "active": "on", "version": 1}
    r = client.post(url, header)
    assert r.status_code == 302
    pl = PriceList.objects.get()
    assert (pl.name, pl.version) == ("天猫旗舰店价", 2)
    services.price_list_update(actor=actors["admin"], price_list_id=pl.pk, version=2,
                               changes={"channel": "wechat"})
    stale = {**header, "name": "天猫价（新）", "version": 2}
    r = client.post(url, stale)
    assert r.status_code == 200
    assert {(str(c["field"]), c["theirs"], c["mine"]) for c in r.context["conflict"]} == {
        ("Name", "天猫旗舰店价", "天猫价（新）"), ("Sales channel", "wechat", "tmall")}
    form = r.context["header_form"]
    assert form["name"].value() == "天猫价（新）" and form["channel"].value() == "tmall"
    assert form["version"].value() == "3"
    body = r.content.decode()
    assert 'id="conflict"' in body and "天猫价（新）" in body
    assert (PriceList.objects.get().name, PriceList.objects.get().channel) == ("天猫旗舰店价",
                                                                               "wechat")
    r = client.post(url, {**stale, "version": 3})
    assert r.status_code == 302
    assert (PriceList.objects.get().name, PriceList.objects.get().version) == ("天猫价（新）", 4)
    client.force_login(users["sales1"])
    assert "95.50" in client.get(url).content.decode()
    assert client.post(f"{url}items/{item.pk}/remove/").status_code == 403
    client.force_login(users["admin"])
    assert client.post(f"{url}items/{item.pk}/remove/").status_code == 302
    assert not PriceListItem.objects.exists()


def test_exchange_rate_page(client, users):
    client.force_login(users["sales1"])
    assert client.get("/sales/exchange-rates/").status_code == 200
    assert client.post("/sales/exchange-rates/", {"currency": "USD", "valid_from": "2025-01-01",
                                                  "rate": "7.2"}).status_code == 403
    client.force_login(users["admin"])
    r = client.post("/sales/exchange-rates/", {"currency": "USD", "valid_from": "2025-01-01",
                                               "rate": "7.1834"})
    assert r.status_code == 302
    rate = ExchangeRate.objects.get()
    assert (rate.currency, rate.valid_from, rate.rate) == ("USD", dt.date(2025, 1, 1),
                                                           D("7.1834"))
    body = client.get("/sales/exchange-rates/").content.decode()
    assert "7.1834" in body and "2025-01-01" in body
    r = client.post("/sales/exchange-rates/", {"currency": "CNY", "valid_from": "2025-01-01",
                                               "rate": "1"})
    assert r.status_code == 200 and r.context["form"].errors


# API --------------------------------------------------------------------------------------

def test_products_api(api, actors, vat):
    p = product(actors["admin"], "GX-1", "乌龙茶", tax_rate=vat["13"].pk, cost=D("30"))
    sales = api("sales1")
    r = sales.get("/products?q=GX")
    assert r.status_code == 200
    item = r.json()["items"][0]
    assert (item["sku"], item["tax_rate"], item["cost"]) == ("GX-1", "0.1300", None)
    assert sales.get(f"/products/{p.pk}").json()["list_price"] == "100.00"
    assert sales.get("/products/999999").status_code == 404
    assert {t["code"] for t in sales.get("/products/tax-rates").json()} >= {"vat13", "vat6"}
    body = {"sku": "GX-2", "name": "红茶", "list_price": "58.00", "tax_rate": vat["6"].pk}
    assert sales.post("/products", body).status_code == 403
    admin = api("admin")
    r = admin.post("/products", body)
    assert r.status_code == 201, r.content
    assert r.json()["tax_rate"] == "0.0600"
    assert admin.post("/products", body).status_code == 422
    r = admin.patch(f"/products/{p.pk}", {"version": 1, "list_price": "99.00"})
    assert r.status_code == 200 and r.json()["version"] == 2
    r = admin.patch(f"/products/{p.pk}", {"version": 1, "list_price": "98.00"})
    assert r.status_code == 409 and r.json()["current_version"] == 2
    assert admin.get(f"/products/{p.pk}").json()["cost"] == "30.00"
    pl = services.price_list_create(actor=actors["admin"], data={"name": "会员价"})
    services.price_list_item_set(actor=actors["admin"], price_list_id=pl.pk, product_id=p.pk,
                                 price=D("90"))
    r = sales.get(f"/products/price-lists/{pl.pk}")
    assert r.status_code == 200 and r.json()["items"][0]["price"] == "90.00"
    assert r.json()["version"] == 1
    assert [x["name"] for x in sales.get("/products/price-lists").json()] == ["会员价"]


def test_price_lists_through_the_api(client, users, actors, vat):
    """An integration keeps a price list through the API: add it, price products, rename it
    with its version (a stale version is a 409), take a product off."""
    import json

    key = core_services.token_create(actor=actors["admin"], user=users["admin"])
    headers = {"Authorization": f"Bearer {key}"}
    p = product(actors["admin"], "TEA-9", "碧螺春", "120.00", tax_rate=vat["13"].pk)

    def call(method, url, body=None):
        return getattr(client, method)(f"/api/v1/products{url}", json.dumps(body or {}),
                                       content_type="application/json", headers=headers)

    r = call("post", "/price-lists", {"name": "经销商价", "relation_kind": "intermediary"})
    assert r.status_code == 201, r.content
    pl = r.json()
    assert (pl["relation_kind"], pl["currency"], pl["items"]) == ("intermediary", "CNY", [])
    r = call("put", f"/price-lists/{pl['id']}/items/{p.pk}", {"price": "99.50"})
    assert r.status_code == 200
    assert [(i["sku"], i["price"]) for i in r.json()["items"]] == [("TEA-9", "99.50")]
    r = call("patch", f"/price-lists/{pl['id']}", {"version": pl["version"], "currency": "USD"})
    assert r.status_code == 422 and "currency" in r.json()["errors"]  # it prices a product
    r = call("patch", f"/price-lists/{pl['id']}", {"version": pl["version"], "name": "经销商"})
    assert r.status_code == 200 and r.json()["version"] == pl["version"] + 1
    r = call("patch", f"/price-lists/{pl['id']}", {"version": pl["version"], "name": "旧名"})
    assert r.status_code == 409 and r.json()["current"]["name"] == "经销商"
    r = call("post", "/price-lists", {"name": "经销商"})
    assert r.status_code == 422 and "name" in r.json()["errors"]
    assert call("delete", f"/price-lists/{pl['id']}/items/{p.pk}").status_code == 204
    assert call("delete", f"/price-lists/{pl['id']}/items/{p.pk}").status_code == 404
    assert client.get(f"/api/v1/products/price-lists/{pl['id']}",
                      headers=headers).json()["items"] == []
