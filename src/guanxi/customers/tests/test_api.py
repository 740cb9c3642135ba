"""The REST API: token auth, field errors, conflicts, cursor pages, OpenAPI."""

from __future__ import annotations

import pytest

from guanxi.core import services as core_services
from guanxi.core.models import AuditRecord

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

            def patch(self, path, data):
                return client.patch(f"/api/v1{path}", data, content_type="application/json",
                                    headers=headers)

            def delete(self, path):
                return client.delete(f"/api/v1{path}", headers=headers)

        return Api()

    return make


def test_requires_a_token(client, users):
    r = client.get("/api/v1/customers")
    assert r.status_code == 401
    assert "Bearer" in r.json()["detail"]
    r = client.get("/api/v1/customers", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def test_create_read_update_with_audit_channel(api):
    a = api()
    r = a.post("/customers", {"name": "张三", "phones": ["138 1234 5678"],
                              "emails": ["zs@example.com"], "tags": ["VIP"]})
    assert r.status_code == 201, r.content
    body = r.json()
    cid = body["id"]
    assert body["primary_phone"] == "138 1234 5678"
    assert body["tags"] == ["VIP"]
    assert AuditRecord.objects.filter(customer_id=cid, channel="api").exists()
    r = a.patch(f"/customers/{cid}", {"version": body["version"], "occupation": "教师"})
    assert r.status_code == 200 and r.json()["occupation"] == "教师"
    r = a.get(f"/customers/{cid}/timeline")
    assert [e["action"] for e in r.json()][:1] == ["update"]


def test_field_errors_name_the_field(api):
    a = api()
    r = a.post("/customers", {"name": "", "gender": "robot"})
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert "name" in errors and "gender" in errors
    r = a.post("/customers", {"name": "张三", "phones": ["12"]})
    assert r.status_code == 422
    assert "value" in r.json()["errors"]
    r = a.get("/customers?limit=0")
    assert r.status_code == 422 and "limit" in r.json()["errors"]


def test_stale_version_is_409_with_current_state(api):
    a = api()
    cid = a.post("/customers", {"name": "张三"}).json()["id"]
    assert a.patch(f"/customers/{cid}", {"version": 1, "occupation": "教师"}).status_code == 200
    r = a.patch(f"/customers/{cid}", {"version": 1, "occupation": "医生"})
    assert r.status_code == 409
    assert r.json()["current"]["occupation"] == "教师"
    assert r.json()["current_version"] == 2


def test_cursor_pages_and_filters(api):
    a = api()
    for name in ["张三", "李四", "王五", "赵六", "孙七"]:
        a.post("/customers", {"name": name})
    first = a.get("/customers?limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = a.get(f"/customers?limit=2&cursor={first['next_cursor']}").json()
    assert {c["id"] for c in first["items"]}.isdisjoint({c["id"] for c in second["items"]})
    assert [c["name"] for c in a.get("/customers?q=zs").json()["items"]] == ["张三"]
    assert a.get("/customers/search?q=ls").json()[0]["name"] == "李四"


def test_other_team_is_404_and_own_team_readonly_is_403(api):
    cid = api("sales1").post("/customers", {"name": "张三"}).json()["id"]
    assert api("sales2").get(f"/customers/{cid}").status_code == 404
    assert api("sales2").patch(f"/customers/{cid}", {"version": 1}).status_code == 404
    assert api("sales1b").get(f"/customers/{cid}").status_code == 200
    assert api("sales1b").patch(f"/customers/{cid}",
                                {"version": 1, "occupation": "x"}).status_code == 403


def test_masked_role_sees_masked_values(api):
    cid = api("sales1").post("/customers", {"name": "张三", "phones": ["13812345678"],
                                            "emails": ["zhangsan@example.com"]}).json()["id"]
    body = api("analyst").get(f"/customers/{cid}").json()
    assert body["primary_phone"] == "138****5678"
    assert body["primary_email"] == "z***@example.com"
    assert body["contact_points"][0]["value"] in ("138****5678", "z***@example.com")


def test_custom_fields_api(api):
    admin = api("admin")
    r = admin.post("/custom-fields", {"code": "level", "label": "Level", "type": "choice",
                                      "choices": ["A", "B"]})
    assert r.status_code == 201
    assert api("sales1").post("/custom-fields", {"code": "x", "label": "X",
                                                 "type": "text"}).status_code == 403
    r = api("sales1").post("/customers", {"name": "张三", "custom": {"level": "C"}})
    assert r.status_code == 422 and "cf_level" in r.json()["errors"]
    r = api("sales1").post("/customers", {"name": "张三", "custom": {"level": "A"}})
    assert r.json()["custom"] == {"level": "A"}
    assert [c["name"] for c in api("sales1").get("/customers?cf_level=A").json()["items"]] \
        == ["张三"]


def test_openapi_document(client):
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/api/v1/customers" in paths and "/api/v1/customers/{customer_id}" in paths
    assert client.get("/api/v1/docs").status_code == 200


def test_session_auth_needs_csrf_on_writes(users):
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(users["sales1"])
    assert c.get("/api/v1/customers").status_code == 200
    r = c.post("/api/v1/customers", {"name": "X"}, content_type="application/json")
    assert r.status_code in (401, 403)
