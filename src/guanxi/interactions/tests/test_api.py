"""/api/v1/interactions: interactions per customer, email, tasks, notifications, and the
documented answers 400, 401, 403, 404, 409 and 422."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.core import services as core_services
from guanxi.core.models import AuditRecord
from guanxi.customers.models import ContactPoint
from guanxi.customers.tests.factories import customer
from guanxi.interactions import services
from guanxi.interactions.models import Interaction, Notification
from guanxi.interactions.tests.factories import interaction, task

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, actors, users):
    def make(name="sales1"):
        key = core_services.token_create(actor=actors[name], user=users[name])
        headers = {"Authorization": f"Bearer {key}"}

        class Api:
            def get(self, path):
                return client.get(f"/api/v1/interactions{path}", headers=headers)

            def post(self, path, data=None):
                return client.post(f"/api/v1/interactions{path}", data or {},
                                   content_type="application/json", headers=headers)

            def patch(self, path, data):
                return client.patch(f"/api/v1/interactions{path}", data,
                                    content_type="application/json", headers=headers)

        return Api()

    return make


def _iso(when: dt.datetime) -> str:
    return when.isoformat()


def test_log_list_read_update(api, actors, users):
    c = customer(actors["sales1"], "张三")
    a = api()
    r = a.post(f"/customers/{c.pk}", {"channel": "wechat", "subject": "微信咨询",
                                       "initiator": "customer", "outcome": "询价",
                                       "follow_up_at": _iso(timezone.now() + dt.timedelta(1))})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["direction"], body["owner_id"], body["version"]) == ("in", users["sales1"].pk, 1)
    assert AuditRecord.objects.filter(model="interactions.interaction", channel="api").exists()
    listed = a.get(f"/customers/{c.pk}").json()
    assert [i["subject"] for i in listed["items"]] == ["微信咨询"]
    assert a.get(f"/customers/{c.pk}?channel=phone").json()["items"] == []
    r = a.patch(f"/{body['id']}", {"version": 1, "outcome": "已报价"})
    assert r.status_code == 200 and r.json()["outcome"] == "已报价"
    r = a.patch(f"/{body['id']}", {"version": 1, "outcome": "x"})
    assert r.status_code == 409
    assert r.json()["current_version"] == 2 and r.json()["current"]["outcome"] == "已报价"
    assert a.get(f"/{body['id']}").json()["version"] == 2


def test_pages_of_interactions_follow_the_cursor(api, actors):
    c = customer(actors["sales1"], "张三")
    start = timezone.now() - dt.timedelta(days=10)
    for n in range(5):
        interaction(actors["sales1"], c.pk, f"第{n}次", occurred_at=start + dt.timedelta(days=n))
    a = api()
    first = a.get(f"/customers/{c.pk}?limit=2").json()
    second = a.get(f"/customers/{c.pk}?limit=2&cursor={first['next_cursor']}").json()
    third = a.get(f"/customers/{c.pk}?limit=2&cursor={second['next_cursor']}").json()
    subjects = [i["subject"] for p in (first, second, third) for i in p["items"]]
    assert subjects == ["第4次", "第3次", "第2次", "第1次", "第0次"]
    assert third["next_cursor"] is None


def test_errors_401_403_404_422(api, client, actors):
    c = customer(actors["sales1"], "张三")
    assert client.get(f"/api/v1/interactions/customers/{c.pk}").status_code == 401
    assert api("sales2").get(f"/customers/{c.pk}").status_code == 404
    r = api("sales1b").post(f"/customers/{c.pk}", {"channel": "phone", "subject": "x"})
    assert r.status_code == 403
    r = api().post(f"/customers/{c.pk}", {"channel": "pigeon", "subject": ""})
    assert r.status_code == 422 and {"channel", "subject"} <= set(r.json()["errors"])
    r = api().post(f"/customers/{c.pk}", {"channel": "phone", "subject": "x",
                                          "occurred_at": "2026-01-01T10:00:00"})
    assert r.status_code == 422 and "occurred_at" in r.json()["errors"]  # no zone
    r = api().post(f"/customers/{c.pk}", {"channel": "phone", "subject": "x",
                                          "occurred_at": "0001-01-01T00:00:00+08:00"})
    assert r.status_code == 422
    r = client.post(f"/api/v1/interactions/customers/{c.pk}", "{not json",
                    content_type="application/json",
                    headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert api().get("/999999").status_code == 404


def test_tasks_create_list_complete(api, actors, users):
    c = customer(actors["sales1"], "张三")
    a = api()
    due = timezone.now() - dt.timedelta(hours=2)
    r = a.post("/tasks", {"title": "回访", "due_at": _iso(due), "customer_id": c.pk})
    assert r.status_code == 201, r.content
    t = r.json()
    assert (t["assignee_id"], t["is_overdue"], t["customer_id"]) == (users["sales1"].pk, True,
                                                                     c.pk)
    assert [x["id"] for x in a.get("/tasks?view=overdue").json()["items"]] == [t["id"]]
    assert [x["id"] for x in a.get(f"/tasks?customer_id={c.pk}").json()["items"]] == [t["id"]]
    r = a.post(f"/tasks/{t['id']}/complete", {"version": 2})
    assert r.status_code == 409
    r = a.post(f"/tasks/{t['id']}/complete", {"version": 1})
    assert r.status_code == 200 and r.json()["done_at"] and not r.json()["is_overdue"]
    assert a.get("/tasks?view=done").json()["items"][0]["id"] == t["id"]
    r = a.post(f"/tasks/{t['id']}/reopen")
    assert r.status_code == 200 and r.json()["done_at"] is None
    r = a.patch(f"/tasks/{t['id']}", {"version": 3, "title": "再次回访"})
    assert r.status_code == 200 and r.json()["title"] == "再次回访"
    r = a.post("/tasks", {"title": "x", "due_at": _iso(due), "assignee_id": users["sales2"].pk})
    assert r.status_code == 403
    r = api("analyst").post("/tasks", {"title": "x", "due_at": _iso(due)})
    assert r.status_code == 403
    r = a.post("/tasks", {"title": "x", "due_at": _iso(due), "remind_at": _iso(
        due + dt.timedelta(hours=1))})
    assert r.status_code == 422 and "remind_at" in r.json()["errors"]
    assert a.get("/tasks?view=everything").status_code == 422
    assert api("sales2").get(f"/tasks/{t['id']}").status_code == 404


def test_send_email_through_the_api(api, actors, smtp_server):
    c = customer(actors["sales1"], "张三", email="zs@example.com")
    point = ContactPoint.objects.get(customer=c, kind="email")
    r = api().post(f"/customers/{c.pk}/emails", {"contact_point_id": point.pk,
                                                 "subject": "您好", "body": "正文"})
    assert r.status_code == 201, r.content
    assert r.json()["email_message_id"] == smtp_server.only()[1]["Message-ID"]
    r = api().post(f"/customers/{c.pk}/emails", {"subject": "您好", "body": "正文"})
    assert r.status_code == 422


def test_a_refusing_mail_server_is_502(api, actors, settings):
    from guanxi.interactions.tests.conftest import free_port

    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": free_port(),
                                                "timeout": 2}}}
    c = customer(actors["sales1"], "张三", email="zs@example.com")
    point = ContactPoint.objects.get(customer=c, kind="email")
    r = api().post(f"/customers/{c.pk}/emails", {"contact_point_id": point.pk,
                                                 "subject": "您好", "body": "正文"})
    assert r.status_code == 502
    assert not Interaction.objects.exists()


def test_notifications(api, users):
    services.notify([users["sales1"].pk], "提醒一", "/interactions/tasks/")
    services.notify([users["sales1"].pk], "提醒二")
    services.notify([users["sales2"].pk], "别人的")
    a = api()
    body = a.get("/notifications").json()
    assert [n["text"] for n in body["items"]] == ["提醒二", "提醒一"] and body["unread"] == 2
    first = Notification.objects.get(text="提醒一")
    r = a.post(f"/notifications/{first.pk}/read")
    assert r.status_code == 200 and r.json()["read_at"]
    assert [n["text"] for n in a.get("/notifications?unread=true").json()["items"]] == ["提醒二"]
    other = Notification.objects.get(text="别人的")
    assert a.post(f"/notifications/{other.pk}/read").status_code == 404
    assert a.post("/notifications/read-all").json() == {"updated": 1}


def test_the_documented_answers(client):
    schema = client.get("/api/v1/openapi.json").json()
    ops = {(m.upper(), p): op for p, item in schema["paths"].items() if "/interactions" in p
           for m, op in item.items()}
    assert len(ops) == 14
    for (method, path), op in ops.items():
        codes = set(op["responses"])
        assert {"400", "401", "403", "404", "422"} <= codes, (method, path)
        if method == "PATCH" or path.endswith(("/complete", "/reopen")):
            assert "409" in codes, (method, path)


def test_task_reminder_then_api_shows_it(api, actors, users, system_actor):
    task(actors["sales1"], "到期任务", due_in=dt.timedelta(minutes=-1))
    services.reminders_send(actor=system_actor)
    items = api().get("/notifications").json()["items"]
    assert items[0]["url"].startswith("/interactions/tasks/")
