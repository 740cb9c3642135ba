"""Interaction pages: log from the customer page (whole page and htmx form), edit with a
conflict, the customer's panel, tasks, the calendar, the feed, notifications."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from guanxi.core.models import AuditRecord
from guanxi.customers.tests.factories import customer
from guanxi.interactions import services
from guanxi.interactions.models import CalendarFeed, Interaction, Notification, Task
from guanxi.interactions.tests.factories import interaction, task

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def _local(when: dt.datetime) -> str:
    return timezone.localtime(when).strftime(LOCAL)


def test_log_an_interaction_from_the_customer_page(client, users, actors):
    c = customer(actors["sales1"], "张三")
    client.force_login(users["sales1"])
    page = client.get(f"/interactions/new/?customer={c.pk}")
    assert page.status_code == 200 and "张三" in page.content.decode()
    fragment = client.get(f"/interactions/new/?customer={c.pk}", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert 'id="interaction-form"' in body and "<html" not in body
    follow = timezone.now() + dt.timedelta(days=2)
    r = client.post(f"/interactions/new/?customer={c.pk}", {
        "customer": c.pk, "channel": "phone", "initiator": "customer", "direction": "in",
        "subject": "客户来电询价", "occurred_at": _local(timezone.now()),
        "outcome": "需要报价", "follow_up_at": _local(follow), "duration_minutes": "15"})
    assert r.status_code == 302 and r["Location"] == f"/customers/{c.pk}/"
    i = Interaction.objects.get()
    assert (i.channel, i.initiator, i.direction, i.duration_minutes) == ("phone", "customer",
                                                                          "in", 15)
    assert Task.objects.get(interaction=i).assignee == users["sales1"]
    history = client.get(f"/customers/{c.pk}/timeline/").content.decode()
    assert "客户来电询价" in history  # on the 360 timeline


def test_form_errors_are_shown_and_nothing_is_kept(client, users, actors):
    c = customer(actors["sales1"], "张三")
    client.force_login(users["sales1"])
    r = client.post(f"/interactions/new/?customer={c.pk}", {
        "customer": c.pk, "channel": "phone", "initiator": "company", "direction": "out",
        "subject": "回访", "occurred_at": _local(timezone.now()),
        "follow_up_at": _local(timezone.now() - dt.timedelta(days=3))})
    assert r.status_code == 200 and "follow_up_at" in r.context["form"].errors
    assert not Interaction.objects.exists()


def test_a_read_only_teammate_gets_403_and_another_team_404(client, users, actors):
    c = customer(actors["sales1"], "张三")
    client.force_login(users["sales1b"])
    assert client.get(f"/interactions/new/?customer={c.pk}").status_code == 403
    client.force_login(users["sales2"])
    assert client.get(f"/interactions/new/?customer={c.pk}").status_code == 404
    assert client.get("/interactions/new/").status_code == 404


def test_edit_with_conflict(client, users, actors):
    c = customer(actors["sales1"], "张三")
    i = interaction(actors["sales1"], c.pk)
    client.force_login(users["sales1"])
    form = {"channel": "phone", "initiator": "company", "direction": "out", "subject": "电话回访",
            "occurred_at": _local(i.occurred_at), "outcome": "满意", "version": 1}
    services.interaction_update(actor=actors["sales1"], interaction_id=i.pk, version=1,
                                changes={"outcome": "不满意"})
    r = client.post(f"/interactions/{i.pk}/", form)
    assert r.status_code == 200 and r.context["conflict"] == 2
    assert 'id="conflict"' in r.content.decode()
    form["version"] = 2
    assert client.post(f"/interactions/{i.pk}/", form).status_code == 302
    assert Interaction.objects.get(pk=i.pk).outcome == "满意"


def test_customer_panel_for_htmx_and_as_a_page(client, users, actors):
    c = customer(actors["sales1"], "张三")
    interaction(actors["sales1"], c.pk, "上门拜访", channel="face_to_face")
    task(actors["sales1"], "寄送样品", customer=c.pk)
    client.force_login(users["sales1"])
    fragment = client.get(f"/interactions/customer/{c.pk}/", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and "上门拜访" in body and "寄送样品" in body
    assert 'id="log-interaction"' in body and 'id="write-email"' in body
    client.force_login(users["sales1b"])  # a teammate reads, without the buttons to write
    body = client.get(f"/interactions/customer/{c.pk}/").content.decode()
    assert "上门拜访" in body and 'id="log-interaction"' not in body


def test_task_pages(client, users, actors):
    c = customer(actors["sales1"], "张三")
    client.force_login(users["sales1"])
    due = timezone.now() - dt.timedelta(hours=1)
    r = client.post(f"/interactions/tasks/new/?customer={c.pk}", {
        "title": "催款", "assignee": users["sales1"].pk, "due_at": _local(due)})
    assert r.status_code == 302 and r["Location"] == f"/customers/{c.pk}/"
    t = Task.objects.get()
    assert t.customer_id == c.pk
    for view in ("mine", "team", "overdue"):
        body = client.get(f"/interactions/tasks/?view={view}").content.decode()
        assert "催款" in body, view
    assert "text-danger" in client.get("/interactions/tasks/?view=overdue").content.decode()
    r = client.post(f"/interactions/tasks/{t.pk}/complete/", {"version": 1})
    assert r.status_code == 302
    assert Task.objects.get().done_at is not None
    assert "催款" in client.get("/interactions/tasks/?view=done").content.decode()
    assert "催款" not in client.get("/interactions/tasks/?view=mine").content.decode()
    r = client.post(f"/interactions/tasks/{t.pk}/complete/", {"version": 1})  # stale
    assert r.status_code == 302
    r = client.post(f"/interactions/tasks/{t.pk}/", {
        "title": "催款（二次）", "assignee": users["sales1"].pk, "due_at": _local(due),
        "version": 2})
    assert r.status_code == 302 and Task.objects.get().title == "催款（二次）"


def test_a_teammates_task_is_shown_read_only(client, users, actors):
    t = task(actors["sales1"], "准备合同")
    client.force_login(users["sales1b"])
    r = client.get(f"/interactions/tasks/{t.pk}/")
    assert r.status_code == 200 and 'id="save-task"' not in r.content.decode()
    assert client.post(f"/interactions/tasks/{t.pk}/complete/").status_code == 403


def test_calendar_mine_and_team(client, users, actors):
    c = customer(actors["sales1"], "张三")
    now = timezone.localtime()
    interaction(actors["sales1"], c.pk, "我的拜访", channel="face_to_face", occurred_at=now)
    task(actors["sales1b"], "同事的任务", due_in=dt.timedelta(minutes=30))
    client.force_login(users["sales1"])
    month = now.strftime("%Y-%m")
    mine = client.get(f"/interactions/calendar/?month={month}").content.decode()
    assert "我的拜访" in mine and "同事的任务" not in mine
    team = client.get(f"/interactions/calendar/?month={month}&who=team").content.decode()
    assert "我的拜访" in team and "同事的任务" in team
    assert f'data-date="{now:%Y-%m-%d}"' in team
    client.force_login(users["sales2"])  # another team sees none of it
    other = client.get(f"/interactions/calendar/?month={month}&who=team").content.decode()
    assert "我的拜访" not in other and "同事的任务" not in other
    assert client.get("/interactions/calendar/?month=junk").status_code == 200
    client.force_login(users["sales1"])
    for n in range(9):  # a full day: eight in the cell, the rest behind a link to the day
        task(actors["sales1"], f"任务{n}", due_at=now.replace(hour=12, minute=n))
    body = client.get(f"/interactions/calendar/?month={month}").content.decode()
    assert re.search(r'class="calendar-more">\+\d more<', body)
    day = client.get(f"/interactions/calendar/?day={now:%Y-%m-%d}").content.decode()
    assert 'id="day-list"' in day and all(f"任务{n}" in day for n in range(9))


def test_feed_address_is_secret_and_revocable(client, users, actors):
    c = customer(actors["sales1"], "张三")
    interaction(actors["sales1"], c.pk, "拜访; 洽谈, 签约", channel="face_to_face",
                duration_minutes=90)
    task(actors["sales1"], "寄合同")
    client.force_login(users["sales1"])
    r = client.post("/interactions/calendar/feed/", {"action": "create"})
    url = re.search(r'value="(http://testserver/interactions/calendar/feed/[^"]+\.ics)"',
                    r.content.decode()).group(1)
    feed = CalendarFeed.objects.get(revoked_at__isnull=True)
    assert feed.key_hash not in url  # only a hash is stored
    assert AuditRecord.objects.filter(model="interactions.calendarfeed").exists()
    client.logout()
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    body = r.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert "SUMMARY:face to face: 拜访\\; 洽谈\\, 签约 · 张三" in body
    assert "寄合同" in body and body.count("BEGIN:VEVENT") == 2
    client.force_login(users["sales1"])
    client.post("/interactions/calendar/feed/", {"action": "revoke"})
    client.logout()
    assert client.get(url).status_code == 404
    assert client.get("/interactions/calendar/feed/cal_nonsense.ics").status_code == 404


def test_notifications_dropdown_and_reading(client, users):
    services.notify([users["sales1"].pk], "任务提醒", "/interactions/tasks/")
    services.notify([users["sales1b"].pk], "别人的提醒", "/interactions/tasks/")
    client.force_login(users["sales1"])
    fragment = client.get("/interactions/notifications/", headers={"HX-Request": "true"})
    body = fragment.content.decode()
    assert "<html" not in body and "任务提醒" in body and "别人的提醒" not in body
    assert 'data-unread="1"' in body
    n = Notification.objects.get(user=users["sales1"])
    r = client.post(f"/interactions/notifications/{n.pk}/open/")
    assert r.status_code == 302 and r["Location"] == "/interactions/tasks/"
    assert Notification.objects.get(pk=n.pk).read_at is not None
    other = Notification.objects.get(user=users["sales1b"])
    assert client.post(f"/interactions/notifications/{other.pk}/open/").status_code == 404
    client.post("/interactions/notifications/read-all/")
    assert 'data-unread="0"' in client.get("/interactions/notifications/").content.decode()


def test_interaction_list_filters(client, users, actors):
    c = customer(actors["sales1"], "张三")
    interaction(actors["sales1"], c.pk, "微信沟通", channel="wechat")
    interaction(actors["manager"], c.pk, "经理来电", channel="phone")
    client.force_login(users["sales1"])
    body = client.get("/interactions/?channel=wechat").content.decode()
    assert "微信沟通" in body and "经理来电" not in body
    body = client.get("/interactions/?who=mine").content.decode()
    assert "微信沟通" in body and "经理来电" not in body


def test_pages_carry_no_inline_script_or_style(client, users, actors):
    c = customer(actors["sales1"], "张三")
    i = interaction(actors["sales1"], c.pk)
    t = task(actors["sales1"], customer=c.pk)
    client.force_login(users["sales1"])
    for url in [f"/interactions/new/?customer={c.pk}", f"/interactions/{i.pk}/",
                f"/interactions/customer/{c.pk}/", f"/interactions/email/new/?customer={c.pk}",
                "/interactions/tasks/", f"/interactions/tasks/{t.pk}/", "/interactions/calendar/",
                "/interactions/calendar/feed/", "/interactions/notifications/", "/interactions/"]:
        body = client.get(url).content.decode()
        assert " style=" not in body, url
        assert not re.search(r"<script(?![^>]*\bsrc=)", body), url
