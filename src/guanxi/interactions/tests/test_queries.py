"""Reads for the manager dashboard and the timeline: activities per rep, overdue tasks,
interactions and tasks on the customer's 360 timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from guanxi.core import timeline
from guanxi.customers.tests.factories import customer
from guanxi.interactions import queries, services
from guanxi.interactions.tests.factories import interaction, task

pytestmark = pytest.mark.django_db


def test_activities_per_rep_within_the_scope(actors, users, system_actor):
    now = timezone.now()
    east = customer(actors["sales1"], "甲")
    east_b = customer(actors["sales1b"], "乙")
    north = customer(actors["sales2"], "丙")
    for _ in range(3):
        interaction(actors["sales1"], east.pk, occurred_at=now - dt.timedelta(hours=1))
    interaction(actors["sales1b"], east_b.pk, occurred_at=now - dt.timedelta(hours=1))
    interaction(actors["sales1b"], east_b.pk, occurred_at=now - dt.timedelta(days=40))
    interaction(actors["sales2"], north.pk, occurred_at=now - dt.timedelta(hours=1))
    from guanxi.interactions import mail

    services.file_fetched(actor=system_actor, fetched=mail.FetchedMail(
        uid=1, message_id="<x@y>", from_address="", from_name="", to="", subject="s", body="",
        date=now))
    start, end = now - dt.timedelta(days=7), now + dt.timedelta(minutes=1)
    rows = [(u.username, n) for u, n in queries.activities_per_rep(
        actor=actors["manager"], start=start, end=end)]
    # The team's members with nothing logged are listed too; north's rep is not.
    assert rows == [("sales1", 3), ("sales1b", 1), ("manager", 0), ("readonly", 0)]
    everyone = dict((u.username, n) for u, n in queries.activities_per_rep(
        actor=actors["admin"], start=start, end=end))
    assert everyone["sales2"] == 1 and "system" not in everyone


def test_overdue_tasks_for_the_manager(actors, users):
    late = task(actors["sales1"], "迟了", due_in=dt.timedelta(days=-2))
    later = task(actors["sales1b"], "也迟了", due_in=dt.timedelta(hours=-1))
    task(actors["sales1"], "还早", due_in=dt.timedelta(days=2))
    task(actors["sales2"], "北区迟了", due_in=dt.timedelta(days=-1))
    done = task(actors["sales1"], "完成了", due_in=dt.timedelta(days=-1))
    services.task_complete(actor=actors["sales1"], task_id=done.pk)
    assert [t.pk for t in queries.overdue_tasks(actor=actors["manager"])] == [late.pk, later.pk]
    assert [t.pk for t in queries.overdue_tasks(actor=actors["sales1"])] == [late.pk, later.pk]
    assert len(queries.overdue_tasks(actor=actors["admin"])) == 3


def test_interactions_and_tasks_are_on_the_360_timeline(actors):
    c = customer(actors["sales1"], "张三")
    interaction(actors["sales1"], c.pk, "上门拜访", channel="face_to_face", outcome="签约",
                occurred_at=timezone.now() - dt.timedelta(days=1))
    t = task(actors["sales1"], "寄合同", customer=c.pk, due_in=dt.timedelta(days=-1))
    entries = timeline.entries(actor=actors["sales1"], customer_id=c.pk)
    kinds = {e.kind for e in entries}
    assert {"interaction", "task", "change"} <= kinds
    visit = next(e for e in entries if e.kind == "interaction")
    assert visit.title == "face to face: 上门拜访" and "outcome: 签约" in visit.body
    assert visit.icon == "users" and visit.url.startswith("/interactions/")
    todo = next(e for e in entries if e.kind == "task")
    assert todo.title == "Task overdue: 寄合同"
    services.task_complete(actor=actors["sales1"], task_id=t.pk)
    entries = timeline.entries(actor=actors["sales1"], customer_id=c.pk, kinds={"task"})
    assert entries[0].title == "Task done: 寄合同"


def test_masked_roles_see_masked_addresses(actors, smtp_server):
    from guanxi.customers.models import ContactPoint

    c = customer(actors["sales1"], "张三", email="zhangsan@example.com")
    point = ContactPoint.objects.get(customer=c)
    sent = services.email_send(actor=actors["sales1"], customer_id=c.pk, to=f"cp:{point.pk}",
                               subject="您好", body="正文")
    seen = queries.interaction_get(actor=actors["analyst"], interaction_id=sent.pk)
    assert seen.email_address == "z***@example.com"
    assert queries.interaction_get(actor=actors["sales1"],
                                   interaction_id=sent.pk).email_address == "zhangsan@example.com"
    recipients = queries.email_recipients(actor=actors["analyst"], customer_id=c.pk)
    assert [r.address for r in recipients] == ["z***@example.com"]
