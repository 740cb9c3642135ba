"""Customer pages: create, edit with conflict, details, export, saved views, reassign."""

from __future__ import annotations

import csv
import io

import pytest

from guanxi.core.models import SavedView
from guanxi.customers.models import Customer
from guanxi.customers.tests.factories import customer

pytestmark = pytest.mark.django_db


def test_create_with_phone_and_errors_named(client, users):
    client.force_login(users["sales1"])
    r = client.post("/customers/new/", {"kind": "person", "name": "张三", "phone": "12",
                                        "relation_kind": "consumer", "source_type": "direct"})
    assert r.status_code == 200
    assert "phone" in r.context["form"].errors
    assert not Customer.objects.filter(name="张三").exists()
    r = client.post("/customers/new/", {"kind": "person", "name": "张三",
                                        "phone": "138-1234-5678", "tags": "VIP, 新客户",
                                        "relation_kind": "consumer", "source_type": "direct"})
    c = Customer.objects.get(name="张三")
    assert r.status_code == 302 and r["Location"] == f"/customers/{c.pk}/"
    assert c.primary_phone == "138 1234 5678"
    assert sorted(c.tags.values_list("name", flat=True)) == ["VIP", "新客户"]


def test_edit_conflict_keeps_both_sides(client, users, actors):
    from guanxi.customers import services

    c = customer(actors["sales1"], "张三")
    client.force_login(users["sales1"])
    form = {"kind": "person", "name": "张三", "relation_kind": "consumer",
            "source_type": "direct", "occupation": "律师", "version": 1}
    services.customer_update(actor=actors["sales1"], customer_id=c.pk, version=1,
                             changes={"occupation": "医生"})
    r = client.post(f"/customers/{c.pk}/edit/", form)
    assert r.status_code == 200
    assert [(row["theirs"], row["mine"]) for row in r.context["conflict"]] == [("医生", "律师")]
    assert r.context["form"]["occupation"].value() == "律师"
    assert Customer.objects.get(pk=c.pk).occupation == "医生"
    form["version"] = 2
    r = client.post(f"/customers/{c.pk}/edit/", form)
    assert r.status_code == 302
    assert Customer.objects.get(pk=c.pk).occupation == "律师"


def test_detail_actions(client, users, actors):
    c = customer(actors["sales1"], "华信科技", kind="organisation")
    client.force_login(users["sales1"])
    client.post(f"/customers/{c.pk}/points/", {"kind": "email", "value": "info@hx.cn"})
    client.post(f"/customers/{c.pk}/addresses/", {"kind": "work", "province": "江苏省",
                                                  "city": "苏州市"})
    client.post(f"/customers/{c.pk}/contacts/", {"name": "王五", "phone": "13900001111"})
    client.post(f"/customers/{c.pk}/consents/", {"channel": "email", "purpose": "marketing",
                                                 "granted": "1", "source": "展会"})
    client.post(f"/customers/{c.pk}/tags/", {"tags": "重点, 华东"})
    body = client.get(f"/customers/{c.pk}/").content.decode()
    for text in ["info@hx.cn", "江苏省", "王五", "139 0000 1111", "重点", "展会"]:
        assert text in body
    c.refresh_from_db()
    assert c.province == "江苏省" and c.primary_email == "info@hx.cn"
    r = client.post(f"/customers/{c.pk}/points/", {"kind": "mobile", "value": "1"})
    assert r.status_code == 302
    assert "Not a valid phone number" in client.get(f"/customers/{c.pk}/").content.decode()


def test_export_neutralises_formulas(client, users, actors):
    customer(actors["sales1"], "=HYPERLINK(\"http://x\")", phone="13812345678")
    client.force_login(users["sales1"])
    r = client.get("/customers/export.csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["id", "kind", "name"]
    assert rows[1][2].startswith("'=")


def test_saved_views(client, users):
    client.force_login(users["sales1"])
    client.post("/customers/views/save/", {"name": "华东个人", "query": "kind=person"})
    v = SavedView.objects.get(user=users["sales1"])
    assert v.query == "kind=person"
    assert "华东个人" in client.get("/customers/").content.decode()
    client.post(f"/customers/views/{v.pk}/delete/")
    assert not SavedView.objects.exists()


def test_manager_reassigns_from_the_list(client, users, actors):
    a = customer(actors["sales1"], "甲")
    b = customer(actors["sales1"], "乙")
    client.force_login(users["manager"])
    r = client.post("/customers/reassign/", {"ids": [a.pk, b.pk],
                                             "owner": users["sales1b"].pk})
    assert r.status_code == 302
    assert set(Customer.objects.filter(pk__in=[a.pk, b.pk]).values_list(
        "owner_id", flat=True)) == {users["sales1b"].pk}
    client.force_login(users["sales1"])
    assert 'id="reassign"' not in client.get("/customers/").content.decode()
